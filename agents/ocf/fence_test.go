package ocf

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hakit/hakit/agents"
)

// echoFence is a fence agent that prints the stdin it was given and exits
// with its code= argument, saying why on stderr the way fencing.py does.
const echoFence = `in=$(cat)
printf '%s\n' "$in"
code=$(printf '%s\n' "$in" | sed -n 's/^code=//p')
if [ -n "$code" ] && [ "$code" != 0 ]; then
	echo "WARNING:root:Parse error: Ignoring unknown option 'code=$code'" >&2
	echo "2026-01-01 12:00:00,000 ERROR: Failed: told to fail" >&2
	echo "2026-01-01 12:00:00,000 ERROR: Please use '-h' for usage" >&2
fi
exit ${code:-0}`

// stdinLines picks the name=value lines echoFence printed back.
func stdinLines(output string) []string {
	var out []string
	for _, line := range strings.Split(output, "\n") {
		if strings.Contains(line, "=") && !strings.Contains(line, "ERROR") && !strings.Contains(line, "WARNING") {
			out = append(out, line)
		}
	}
	return out
}

func TestFenceAgentStdinProtocol(t *testing.T) {
	h := newHarness(t, Config{})
	fence := h.fenceScript("fence_echo", echoFence)
	device := map[string]string{
		"pcmk_host_map": "vm-node1:1;vm-node2:2", "pcmk_delay_max": "5s", "pcmk_host_list": "vm-node1 vm-node2",
		"ipaddr": "192.0.2.1", "login": "admin",
		"action": "off", // configured by mistake: Pacemaker ignores it, so do we
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range device {
			m[k] = v
		}
		for k, v := range extra {
			if v == "" {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	tests := []struct {
		name   string
		action string
		params map[string]string
		want   []string
	}{
		{"reboot of a mapped node", "reboot", with(map[string]string{"port": "vm-node2"}),
			[]string{"action=reboot", "nodename=vm-node2", "port=2", "ipaddr=192.0.2.1", "login=admin"}},
		{"node names match the map case-insensitively", "off", with(map[string]string{"port": "VM-Node1"}),
			[]string{"action=off", "nodename=VM-Node1", "port=1", "ipaddr=192.0.2.1", "login=admin"}},
		{"a node not in the map goes by its name", "off", with(map[string]string{"port": "vm-node3"}),
			[]string{"action=off", "nodename=vm-node3", "port=vm-node3", "ipaddr=192.0.2.1", "login=admin"}},
		{"no map", "off", map[string]string{"port": "n1"},
			[]string{"action=off", "nodename=n1", "port=n1"}},
		{"pcmk_host_argument plug", "off", with(map[string]string{"port": "vm-node2", "pcmk_host_argument": "plug"}),
			[]string{"action=off", "nodename=vm-node2", "plug=2", "ipaddr=192.0.2.1", "login=admin"}},
		{"pcmk_host_argument none", "off", with(map[string]string{"port": "vm-node2", "pcmk_host_argument": "none"}),
			[]string{"action=off", "nodename=vm-node2", "ipaddr=192.0.2.1", "login=admin"}},
		{"the device's own host argument stands", "off", with(map[string]string{"port": "vm-node2", "pcmk_host_argument": "plug", "plug": "7"}),
			[]string{"action=off", "nodename=vm-node2", "ipaddr=192.0.2.1", "login=admin", "plug=7"}},
		{"dynamic host argument is replaced", "off", with(map[string]string{"port": "vm-node2", "pcmk_host_argument": "plug", "plug": "dynamic"}),
			[]string{"action=off", "nodename=vm-node2", "plug=2", "ipaddr=192.0.2.1", "login=admin"}},
		{"pcmk_reboot_action renames the action", "reboot", with(map[string]string{"port": "vm-node1", "pcmk_reboot_action": "off"}),
			[]string{"action=off", "nodename=vm-node1", "port=1", "ipaddr=192.0.2.1", "login=admin"}},
		{"on", "on", with(map[string]string{"port": "vm-node1"}),
			[]string{"action=on", "nodename=vm-node1", "port=1", "ipaddr=192.0.2.1", "login=admin"}},
		{"status of a node", "status", with(map[string]string{"port": "vm-node1"}),
			[]string{"action=status", "nodename=vm-node1", "port=1", "ipaddr=192.0.2.1", "login=admin"}},
		{"monitor has no target", "monitor", device,
			[]string{"action=monitor", "ipaddr=192.0.2.1", "login=admin"}},
		{"a configured port is a plain parameter of a monitor", "monitor", map[string]string{"port": "5"},
			[]string{"action=monitor", "port=5"}},
		{"start monitors the device", "start", device,
			[]string{"action=monitor", "ipaddr=192.0.2.1", "login=admin"}},
		{"pcmk_monitor_action applies to start", "start", with(map[string]string{"pcmk_monitor_action": "status"}),
			[]string{"action=status", "ipaddr=192.0.2.1", "login=admin"}},
		{"list", "list", device,
			[]string{"action=list", "ipaddr=192.0.2.1", "login=admin"}},
		{"validate-all", "validate-all", device,
			[]string{"action=validate-all", "ipaddr=192.0.2.1", "login=admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := op(fence, "fencer", tt.action)
			o.Params = tt.params
			res := h.run(o)
			if res.Status != agents.StatusDone || res.RC != agents.RCOK {
				t.Fatalf("got %v rc %d (%s), want done rc 0; output:\n%s", res.Status, res.RC, res.ExitReason, res.Output)
			}
			if got := stdinLines(res.Output); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("stdin was\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestFenceAgentResults(t *testing.T) {
	h := newHarness(t, Config{})
	fence := h.fenceScript("fence_echo", echoFence)
	marker := filepath.Join(t.TempDir(), "ran")
	touching := h.fenceScript("fence_touch", `cat >/dev/null; touch "`+marker+`"`)
	meta := h.fenceScript("fence_meta", `cat >/dev/null
echo '<?xml version="1.0" ?>'
echo '<resource-agent name="fence_meta" shortdesc="Test agent"><parameters/><actions><action name="off"/></actions></resource-agent>'
echo "ERROR: noise on stderr is not meta-data" >&2`)

	run := func(a agents.Agent, action string, params map[string]string) agents.Result {
		t.Helper()
		o := op(a, "fencer", action)
		o.Params = params
		return h.run(o)
	}
	tests := []struct {
		name   string
		agent  agents.Agent
		action string
		params map[string]string
		status agents.Status
		rc     agents.RC
		reason string
	}{
		{"failure explained by the first ERROR line", fence, "off", map[string]string{"port": "n1", "code": "1"},
			agents.StatusDone, agents.RCErrGeneric, "Failed: told to fail (off exit code 1)"},
		// fencing.py's EC_WAITING_OFF is 7, which OCF would read as "not running".
		{"fence-agents codes are not OCF codes", fence, "off", map[string]string{"port": "n1", "code": "7"},
			agents.StatusDone, agents.RCErrGeneric, "Failed: told to fail (off exit code 7)"},
		{"a monitor failure is an error too", fence, "monitor", map[string]string{"code": "7"},
			agents.StatusDone, agents.RCErrGeneric, "Failed: told to fail (monitor exit code 7)"},
		{"status 2 is powered off", fence, "status", map[string]string{"port": "n1", "code": "2"},
			agents.StatusDone, agents.RCNotRunning, "the fence agent reports the node powered off"},
		{"a line break cannot smuggle an argument", fence, "off", map[string]string{"port": "n1", "login": "x\naction=on"},
			agents.StatusError, agents.RCErrConfigured, `parameter "login" contains a line break`},
		{"a bad host map fails the fencing", fence, "off", map[string]string{"port": "n1", "pcmk_host_map": "n1:1;n2"},
			agents.StatusError, agents.RCErrConfigured, `"n2" is not a node:value pair`},
		{"not installed", agents.Agent{Class: "stonith", Type: "fence_missing"}, "off", map[string]string{"port": "n1"},
			agents.StatusNotInstalled, agents.RCErrInstalled, filepath.Join(h.stonithDir, "fence_missing")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(tt.agent, tt.action, tt.params)
			if res.Status != tt.status || res.RC != tt.rc || !strings.Contains(res.ExitReason, tt.reason) {
				t.Errorf("got %v rc %d reason %q, want %v rc %d reason containing %q; output:\n%s",
					res.Status, res.RC, res.ExitReason, tt.status, tt.rc, tt.reason, res.Output)
			}
		})
	}

	t.Run("stop runs nothing", func(t *testing.T) {
		res := run(touching, "stop", nil)
		if res.Status != agents.StatusDone || res.RC != agents.RCOK {
			t.Errorf("got %v rc %d (%s)", res.Status, res.RC, res.ExitReason)
		}
		if fileExists(marker) {
			t.Error("stop ran the fence agent; unregistering a device must not touch it")
		}
		if res := run(touching, "start", nil); res.RC != agents.RCOK || !fileExists(marker) {
			t.Errorf("start: rc %d, agent ran: %v; want it run (as monitor)", res.RC, fileExists(marker))
		}
	})
	t.Run("meta-data is stdout alone", func(t *testing.T) {
		res := run(meta, "meta-data", nil)
		if res.Status != agents.StatusDone || res.RC != agents.RCOK {
			t.Fatalf("got %v rc %d (%s)", res.Status, res.RC, res.ExitReason)
		}
		md, err := agents.ParseMetaData([]byte(res.Output))
		if err != nil || md.Name != "fence_meta" || strings.Contains(res.Output, "noise") {
			t.Errorf("meta-data %q: %v", res.Output, err)
		}
	})
}

// TestFenceAgentLookup: only fence_* types are looked up in StonithDir,
// and a script there wins over a built-in of the same name.
func TestFenceAgentLookup(t *testing.T) {
	builtinOnly := agents.Agent{Class: "stonith", Type: "fence_builtin"}
	shadowed := agents.Agent{Class: "stonith", Type: "fence_shadowed"}
	fromBuiltin := &fakeBuiltin{run: func(context.Context, agents.Op) agents.Result {
		return agents.Result{RC: agents.RCOK, Status: agents.StatusDone, Output: "from-builtin"}
	}}
	h := newHarness(t, Config{Builtins: map[agents.Agent]Builtin{builtinOnly: fromBuiltin, shadowed: fromBuiltin}})
	h.fenceScript("fence_shadowed", `cat >/dev/null; echo from-script`)
	// Programs that are not fence agents, and one outside the directory.
	writeExecutable(t, filepath.Join(h.stonithDir, "sh-like"), "#!/bin/sh\necho ran\n", 0o755)
	writeExecutable(t, filepath.Join(h.stonithDir, "fence_"), "#!/bin/sh\necho ran\n", 0o755)
	if err := os.MkdirAll(filepath.Join(h.stonithDir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeExecutable(t, filepath.Join(h.stonithDir, "sub", "fence_x"), "#!/bin/sh\necho ran\n", 0o755)

	tests := []struct {
		name   string
		agent  agents.Agent
		status agents.Status
		output string
	}{
		{"the script wins", shadowed, agents.StatusDone, "from-script"},
		{"the built-in runs when no script is installed", builtinOnly, agents.StatusDone, "from-builtin"},
		{"not a fence_ name", agents.Agent{Class: "stonith", Type: "sh-like"}, agents.StatusNotInstalled, ""},
		{"fence_ alone", agents.Agent{Class: "stonith", Type: "fence_"}, agents.StatusNotInstalled, ""},
		{"no way out of the directory", agents.Agent{Class: "stonith", Type: "fence_../sub/fence_x"}, agents.StatusNotInstalled, ""},
		{"stonith has no provider", agents.Agent{Class: "stonith", Provider: "x", Type: "fence_shadowed"}, agents.StatusNotInstalled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.run(op(tt.agent, "fencer", "monitor"))
			if res.Status != tt.status || !strings.Contains(res.Output, tt.output) || strings.Contains(res.Output, "ran") {
				t.Errorf("got %v rc %d output %q (%s), want %v with output %q", res.Status, res.RC, res.Output, res.ExitReason, tt.status, tt.output)
			}
		})
	}
}
