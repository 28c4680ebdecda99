package builtin

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hakit/hakit/agents"
	"github.com/hakit/hakit/agents/ocf"
)

// opTimeout is a generous operation timeout for the tests: no assertion
// depends on timing, it only bounds a broken agent.
const opTimeout = 60 * time.Second

func runOp(t *testing.T, b interface {
	Run(context.Context, agents.Op) agents.Result
}, agent agents.Agent, action string, params map[string]string) agents.Result {
	t.Helper()
	return runOpWith(t, b, agents.Op{Agent: agent, Action: action, Params: params, Resource: "rsc"})
}

func runOpWith(t *testing.T, b interface {
	Run(context.Context, agents.Op) agents.Result
}, op agents.Op) agents.Result {
	t.Helper()
	if op.Resource == "" {
		op.Resource = "rsc"
	}
	if op.Timeout == 0 {
		op.Timeout = opTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), op.Timeout)
	defer cancel()
	res := b.Run(ctx, op)
	if res.Status != agents.StatusDone {
		t.Fatalf("%s %s: status %v, want done (%s)", op.Agent, op.Action, res.Status, res.ExitReason)
	}
	return res
}

func wantRC(t *testing.T, what string, res agents.Result, rc agents.RC) {
	t.Helper()
	if res.RC != rc {
		t.Fatalf("%s: rc %d (%v), want %d (%v); reason %q; output:\n%s", what, res.RC, res.RC, rc, rc, res.ExitReason, res.Output)
	}
}

func TestNewRegistersTheAgents(t *testing.T) {
	got := New(Options{})
	want := map[string]bool{
		"ocf:heartbeat:Dummy": true, "ocf:heartbeat:IPaddr2": true,
		"ocf:heartbeat:apache": true, "ocf:pacemaker:ping": true,
		"stonith:fence_netns": true,
	}
	if len(got) != len(want) {
		t.Fatalf("New returned %d agents, want %d", len(got), len(want))
	}
	for a := range got {
		if !want[a.String()] {
			t.Errorf("unexpected agent %s", a)
		}
	}
}

// TestMetaData checks every agent's meta-data: it parses, names the
// agent, declares the defaults the code applies and the usual actions,
// and is what the meta-data action prints.
func TestMetaData(t *testing.T) {
	opts := Options{StateDir: "/state", RunDir: "/rundir"}
	tests := []struct {
		agent    agents.Agent
		required []string
		defaults map[string]string
		actions  []string
	}{
		{DummyAgent, nil,
			map[string]string{"state": "/state/Dummy-${OCF_RESOURCE_INSTANCE}.state", "fake": "dummy", "op_sleep": "0"},
			[]string{"start", "stop", "monitor", "migrate_to", "migrate_from", "meta-data", "validate-all"}},
		{IPaddr2Agent, []string{"ip"},
			map[string]string{"arp_count": "5", "arp_interval": "200"},
			[]string{"start", "stop", "monitor", "meta-data", "validate-all"}},
		{ApacheAgent, nil,
			map[string]string{"configfile": "/etc/apache2/apache2.conf", "httpd": "/usr/sbin/apache2",
				"envfiles": "/etc/apache2/envvars", "testregex": "</ *html *>"},
			[]string{"start", "stop", "monitor", "meta-data", "validate-all"}},
		{PingAgent, []string{"host_list"},
			map[string]string{"name": "pingd", "multiplier": "1", "attempts": "3", "timeout": "2", "dampen": "5s",
				"pidfile": "/rundir/ping-${OCF_RESKEY_name}"},
			[]string{"start", "stop", "monitor", "meta-data", "validate-all"}},
		{FenceNetnsAgent, []string{"pcmk_host_map"}, map[string]string{},
			[]string{"on", "off", "reboot", "status", "list", "start", "stop", "monitor", "meta-data", "validate-all"}},
	}
	all := New(opts)
	for _, tc := range tests {
		t.Run(tc.agent.Type, func(t *testing.T) {
			b := all[tc.agent]
			text := b.MetaData()
			md, err := agents.ParseMetaData([]byte(text))
			if err != nil {
				t.Fatalf("meta-data does not parse: %v\n%s", err, text)
			}
			if md.Name != tc.agent.Type {
				t.Errorf("name %q, want %q", md.Name, tc.agent.Type)
			}
			if md.ShortDesc == "" || md.LongDesc == "" {
				t.Errorf("missing descriptions")
			}
			var required []string
			for _, p := range md.Parameters {
				if p.Required {
					required = append(required, p.Name)
				}
				if p.ShortDesc == "" || p.LongDesc == "" || p.Type == "" {
					t.Errorf("parameter %s lacks descriptions or type", p.Name)
				}
			}
			if strings.Join(required, ",") != strings.Join(tc.required, ",") {
				t.Errorf("required %v, want %v", required, tc.required)
			}
			defs := md.Defaults()
			for k, v := range tc.defaults {
				if defs[k] != v {
					t.Errorf("default of %s = %q, want %q", k, defs[k], v)
				}
			}
			have := map[string]agents.ActionSpec{}
			for _, a := range md.Actions {
				have[a.Name] = a
			}
			for _, a := range tc.actions {
				if spec, ok := have[a]; !ok || spec.Timeout <= 0 {
					t.Errorf("action %s missing or without timeout", a)
				}
			}
			if mon := have["monitor"]; mon.Interval <= 0 {
				t.Errorf("monitor has no advised interval")
			}
			res := runOp(t, b, tc.agent, "meta-data", nil)
			wantRC(t, "meta-data", res, agents.RCOK)
			if res.Output != text {
				t.Errorf("meta-data action prints something else than MetaData()")
			}
			res = runOp(t, b, tc.agent, "frobnicate", map[string]string{"ip": "10.0.0.1", "host_list": "127.0.0.1"})
			wantRC(t, "unknown action", res, agents.RCErrUnimplemented)
		})
	}
}

func TestDummyLifecycle(t *testing.T) {
	dir := t.TempDir()
	d := &Dummy{opts: Options{StateDir: filepath.Join(dir, "state")}}
	defState := filepath.Join(dir, "state", "Dummy-rsc.state")
	custom := filepath.Join(dir, "custom.state")
	tests := []struct {
		name   string
		params map[string]string
		state  string
	}{
		{"default state file", nil, defState},
		{"state parameter", map[string]string{"state": custom, "fake": "x"}, custom},
		{"op_sleep", map[string]string{"state": custom, "op_sleep": "0.01"}, custom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := []struct {
				action string
				rc     agents.RC
				exists bool
			}{
				{"validate-all", agents.RCOK, false},
				{"monitor", agents.RCNotRunning, false},
				{"stop", agents.RCOK, false},
				{"start", agents.RCOK, true},
				{"start", agents.RCOK, true},
				{"monitor", agents.RCOK, true},
				{"reload", agents.RCOK, true},
				{"migrate_to", agents.RCOK, false},
				{"migrate_from", agents.RCOK, true},
				{"stop", agents.RCOK, false},
				{"stop", agents.RCOK, false},
				{"monitor", agents.RCNotRunning, false},
			}
			for i, s := range steps {
				res := runOp(t, d, DummyAgent, s.action, tc.params)
				wantRC(t, s.action, res, s.rc)
				_, err := os.Stat(tc.state)
				if (err == nil) != s.exists {
					t.Fatalf("step %d %s: state file exists=%v, want %v", i, s.action, err == nil, s.exists)
				}
			}
		})
	}
}

func TestDummyMonitorReasons(t *testing.T) {
	d := &Dummy{opts: Options{StateDir: t.TempDir()}}
	probe := runOpWith(t, d, agents.Op{Agent: DummyAgent, Action: "monitor"})
	wantRC(t, "probe", probe, agents.RCNotRunning)
	if probe.ExitReason != "" {
		t.Errorf("probe gives exit reason %q; probes should not", probe.ExitReason)
	}
	rec := runOpWith(t, d, agents.Op{Agent: DummyAgent, Action: "monitor", Interval: 10 * time.Second})
	wantRC(t, "recurring monitor", rec, agents.RCNotRunning)
	if rec.ExitReason == "" {
		t.Errorf("recurring monitor that finds the resource stopped gives no exit reason")
	}
}

func TestDummyValidate(t *testing.T) {
	dir := t.TempDir()
	d := &Dummy{opts: Options{StateDir: dir}}
	tests := []struct {
		name   string
		params map[string]string
		rc     agents.RC
	}{
		{"ok", nil, agents.RCOK},
		{"state dir missing", map[string]string{"state": filepath.Join(dir, "no", "such", "x.state")}, agents.RCErrArgs},
		{"bad op_sleep", map[string]string{"op_sleep": "soon"}, agents.RCErrConfigured},
		{"negative op_sleep", map[string]string{"op_sleep": "-1"}, agents.RCErrConfigured},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantRC(t, "validate-all", runOp(t, d, DummyAgent, "validate-all", tc.params), tc.rc)
		})
	}
}

// TestDummyOpSleepHonoursContext checks that a long op_sleep ends with
// the operation's context.
func TestDummyOpSleepHonoursContext(t *testing.T) {
	d := &Dummy{opts: Options{StateDir: t.TempDir()}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan agents.Result, 1)
	go func() {
		done <- d.Run(ctx, agents.Op{Agent: DummyAgent, Action: "start", Resource: "rsc",
			Params: map[string]string{"op_sleep": "3600"}})
	}()
	select {
	case res := <-done:
		if res.RC == agents.RCOK {
			t.Errorf("start with a cancelled context succeeded")
		}
	case <-time.After(opTimeout):
		t.Fatal("op_sleep ignored the cancelled context")
	}
}

// chanLoop is an env.Loop that hands posted functions to the test.
type chanLoop chan func()

func (l chanLoop) Post(f func()) { l <- f }

// TestRunnerFallsBackToBuiltins runs the agents through the OCF runner
// with an OCF root holding no scripts: it lists them as built-in and runs
// Dummy's actions through them.
func TestRunnerFallsBackToBuiltins(t *testing.T) {
	loop := make(chanLoop, 16)
	dir := t.TempDir()
	r := ocf.New(ocf.Config{Loop: loop, Root: filepath.Join(dir, "ocf"), StonithDir: filepath.Join(dir, "sbin"), Builtins: New(Options{StateDir: dir})})
	defer r.Shutdown(context.Background())

	avail, err := r.Agents()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range avail {
		if a.Source != "built-in" {
			t.Errorf("%s: source %q, want built-in", a.Agent, a.Source)
		}
		names = append(names, a.Agent.String())
	}
	if want := "ocf:heartbeat:Dummy ocf:heartbeat:IPaddr2 ocf:heartbeat:apache ocf:pacemaker:ping stonith:fence_netns"; strings.Join(names, " ") != want {
		t.Errorf("agents %v, want %s", names, want)
	}

	exec := func(action string) agents.Result {
		t.Helper()
		results := make(chan agents.Result, 1)
		r.Exec(agents.Op{Resource: "d1", Agent: DummyAgent, Action: action, Timeout: opTimeout},
			func(res agents.Result) { results <- res })
		for {
			select {
			case f := <-loop:
				f()
			case res := <-results:
				return res
			case <-time.After(opTimeout):
				t.Fatalf("%s: no result", action)
			}
		}
	}
	for _, s := range []struct {
		action string
		rc     agents.RC
	}{{"monitor", agents.RCNotRunning}, {"start", agents.RCOK}, {"monitor", agents.RCOK}, {"stop", agents.RCOK}, {"meta-data", agents.RCOK}} {
		res := exec(s.action)
		if res.Status != agents.StatusDone || res.RC != s.rc {
			t.Fatalf("%s: status %v rc %v, want done rc %v (%s)", s.action, res.Status, res.RC, s.rc, res.ExitReason)
		}
	}
}
