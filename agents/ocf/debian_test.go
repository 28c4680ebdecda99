package ocf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hakit/hakit/agents"
	"github.com/hakit/hakit/node/runtime"
)

// These tests run the agents of the Debian package resource-agents, as
// installed under /usr/lib/ocf, to prove the environment is the one real
// agents (and ocf-shellfuncs) expect.

func requireInstalled(t *testing.T, provider, name string) agents.Agent {
	t.Helper()
	path := filepath.Join(DefaultRoot, "resource.d", provider, name)
	if !isExecutableFile(path) {
		t.Skipf("%s is not installed: install the Debian package resource-agents to run this test", path)
	}
	return agents.Agent{Class: "ocf", Provider: provider, Type: name}
}

func TestDebianDummyLifecycle(t *testing.T) {
	dummy := requireInstalled(t, "heartbeat", "Dummy")
	h := newHarness(t, Config{Root: DefaultRoot})
	state := filepath.Join(t.TempDir(), "Dummy-dummy1.state")
	steps := []struct {
		action string
		want   agents.RC
	}{
		{"monitor", agents.RCNotRunning}, // the probe: never started
		{"start", agents.RCOK},
		{"monitor", agents.RCOK},
		{"stop", agents.RCOK},
		{"monitor", agents.RCNotRunning},
		{"stop", agents.RCOK}, // stopping a stopped resource succeeds
	}
	for i, step := range steps {
		o := op(dummy, "dummy1", step.action)
		o.Call = int64(i)
		o.Params = map[string]string{"state": state}
		res := h.run(o)
		if res.Status != agents.StatusDone || res.RC != step.want {
			t.Fatalf("step %d, %s: got %v rc %d (%s), want rc %d; output:\n%s",
				i, step.action, res.Status, res.RC, res.ExitReason, step.want, res.Output)
		}
		if step.action == "start" {
			if _, err := os.Stat(state); err != nil {
				t.Errorf("after start the state file is missing: %v", err)
			}
		}
	}
}

func TestDebianDummyExitReason(t *testing.T) {
	dummy := requireInstalled(t, "heartbeat", "Dummy")
	h := newHarness(t, Config{Root: DefaultRoot})
	// validate-all fails, through ocf_exit_reason, when the state file's
	// directory cannot be written.
	o := op(dummy, "dummy1", "validate-all")
	o.Params = map[string]string{"state": "/nonexistent-dir/Dummy.state"}
	res := h.run(o)
	if res.Status != agents.StatusDone || res.RC == agents.RCOK || !strings.Contains(res.ExitReason, "/nonexistent-dir/") {
		t.Errorf("got %v rc %d reason %q, want a failure with the agent's exit reason", res.Status, res.RC, res.ExitReason)
	}
}

func TestDebianMetaDataParses(t *testing.T) {
	tests := []struct {
		provider, name string
		required       []string // required parameters
		params         []string // parameters that must be declared
		actions        []string
	}{
		{"heartbeat", "Dummy", nil, []string{"state", "fake"}, []string{"start", "stop", "monitor", "meta-data", "validate-all"}},
		{"heartbeat", "IPaddr2", []string{"ip"}, []string{"ip", "nic", "cidr_netmask"}, []string{"start", "stop", "monitor", "meta-data"}},
		{"heartbeat", "apache", nil, []string{"configfile", "httpd", "statusurl", "testregex", "envfiles"}, []string{"start", "stop", "monitor", "meta-data", "validate-all"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := requireInstalled(t, tt.provider, tt.name)
			h := newHarness(t, Config{Root: DefaultRoot})
			res := h.run(op(a, "", "meta-data"))
			if res.Status != agents.StatusDone || res.RC != agents.RCOK {
				t.Fatalf("meta-data: got %v rc %d (%s)", res.Status, res.RC, res.ExitReason)
			}
			md, err := agents.ParseMetaData([]byte(res.Output))
			if err != nil {
				t.Fatal(err)
			}
			if md.Name != tt.name || md.ShortDesc == "" {
				t.Errorf("name %q shortdesc %q", md.Name, md.ShortDesc)
			}
			declared := map[string]agents.Parameter{}
			for _, p := range md.Parameters {
				declared[p.Name] = p
			}
			for _, name := range tt.params {
				if _, ok := declared[name]; !ok {
					t.Errorf("parameter %q not found", name)
				}
			}
			for _, name := range tt.required {
				if !declared[name].Required {
					t.Errorf("parameter %q is not required", name)
				}
			}
			err = md.Validate(map[string]string{})
			if (err != nil) != (len(tt.required) > 0) {
				t.Errorf("Validate(no parameters) = %v with required parameters %v", err, tt.required)
			}
			have := map[string]bool{}
			for _, a := range md.Actions {
				have[a.Name] = true
				if a.Name == "start" && a.Timeout <= 0 {
					t.Errorf("start advises no timeout")
				}
			}
			for _, name := range tt.actions {
				if !have[name] {
					t.Errorf("action %q not found", name)
				}
			}
		})
	}
}

func TestDebianAgentsAreListed(t *testing.T) {
	requireInstalled(t, "heartbeat", "Dummy")
	r := New(Config{Loop: runtime.NewLoop(), Root: DefaultRoot})
	list, err := r.Agents()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range list {
		if a.Agent.String() == "ocf:heartbeat:Dummy" && a.Source == "script" && a.Path == "/usr/lib/ocf/resource.d/heartbeat/Dummy" {
			found = true
		}
	}
	if !found {
		t.Errorf("ocf:heartbeat:Dummy not among %d agents listed", len(list))
	}
}
