package ocf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hakit/hakit/agents"
	"github.com/hakit/hakit/node/runtime"
)

// requireFenceAgent skips unless Debian's fence-agents installed name
// where Pacemaker's fencer looks for it.
func requireFenceAgent(t *testing.T, name string) agents.Agent {
	t.Helper()
	path := filepath.Join(DefaultStonithDir, name)
	if !isExecutableFile(path) {
		t.Skipf("%s is not installed: install the Debian package fence-agents to run this test", path)
	}
	return agents.Agent{Class: "stonith", Type: name}
}

// TestDebianFenceDummy drives fence-agents' fence_dummy, a fencing.py
// agent that keeps its "power" in a file, through the runner: proof that
// real fence agents read the stdin the runner writes.
func TestDebianFenceDummy(t *testing.T) {
	dummy := requireFenceAgent(t, "fence_dummy")
	h := newHarness(t, Config{StonithDir: DefaultStonithDir})
	status := filepath.Join(t.TempDir(), "power")
	device := map[string]string{"status_file": status, "pcmk_host_map": "vm-node2:plug2"}
	run := func(action, victim string) agents.Result {
		t.Helper()
		params := map[string]string{}
		for k, v := range device {
			params[k] = v
		}
		if victim != "" {
			params["port"] = victim
		}
		o := op(dummy, "fencer", action)
		o.Params = params
		return h.run(o)
	}
	power := func() string {
		b, err := os.ReadFile(status)
		if err != nil {
			return "off (no file)"
		}
		return strings.TrimSpace(string(b))
	}

	res := run("meta-data", "")
	md, err := agents.ParseMetaData([]byte(res.Output))
	if res.RC != agents.RCOK || err != nil || md.Name != "fence_dummy" {
		t.Fatalf("meta-data: rc %d, %v, name %q", res.RC, err, md.Name)
	}

	steps := []struct {
		action, victim string
		rc             agents.RC
		power          string // "" when not checked
	}{
		{"validate-all", "", agents.RCOK, ""},
		{"start", "", agents.RCOK, ""},
		{"monitor", "", agents.RCOK, ""},
		{"status", "vm-node2", agents.RCNotRunning, ""}, // no status file yet: off
		{"on", "vm-node2", agents.RCOK, "on"},
		{"status", "vm-node2", agents.RCOK, "on"},
		{"off", "vm-node2", agents.RCOK, "off"},
		{"reboot", "vm-node2", agents.RCOK, "on"},
		{"stop", "", agents.RCOK, "on"},
	}
	for i, s := range steps {
		res := run(s.action, s.victim)
		if res.Status != agents.StatusDone || res.RC != s.rc {
			t.Fatalf("step %d %s: got %v rc %d (%s), want rc %d; output:\n%s", i, s.action, res.Status, res.RC, res.ExitReason, s.rc, res.Output)
		}
		if s.power != "" && power() != s.power {
			t.Fatalf("step %d %s: power %q, want %q", i, s.action, power(), s.power)
		}
	}

	// fence_dummy has no list action: the failure is explained by the
	// agent's own words.
	res = run("list", "")
	if res.RC != agents.RCErrGeneric || !strings.Contains(res.ExitReason, "list") {
		t.Errorf("list: rc %d reason %q, want an error naming the action", res.RC, res.ExitReason)
	}
}

func TestDebianFenceAgentsAreListed(t *testing.T) {
	requireFenceAgent(t, "fence_dummy")
	r := New(Config{Loop: runtime.NewLoop(), Root: t.TempDir()})
	list, err := r.Agents()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if a.Agent.String() == "stonith:fence_dummy" && a.Source == "script" && a.Path == "/usr/sbin/fence_dummy" {
			return
		}
	}
	t.Errorf("stonith:fence_dummy not among %d agents listed", len(list))
}
