package ocf

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hakit/hakit/agents"
	"github.com/hakit/hakit/node/runtime"
)

func TestExitCodesMapToRCs(t *testing.T) {
	h := newHarness(t, Config{})
	a := h.script("test", "exiter", `exit "$OCF_RESKEY_code"`)
	tests := []struct {
		code       int
		want       agents.RC
		wantReason string
	}{
		{0, agents.RCOK, ""},
		{1, agents.RCErrGeneric, ""},
		{2, agents.RCErrArgs, ""},
		{3, agents.RCErrUnimplemented, ""},
		{4, agents.RCErrPerm, ""},
		{5, agents.RCErrInstalled, ""},
		{6, agents.RCErrConfigured, ""},
		{7, agents.RCNotRunning, ""},
		{8, agents.RCRunningPromoted, ""},
		{9, agents.RCFailedPromoted, ""},
		{190, agents.RCDegraded, ""},
		{191, agents.RCDegradedPromoted, ""},
		// Pacemaker reads codes OCF does not define as a generic error.
		{42, agents.RCErrGeneric, "agent exited with unknown code 42"},
		{255, agents.RCErrGeneric, "agent exited with unknown code 255"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			o := op(a, "r", "monitor")
			o.Params = map[string]string{"code": strconv.Itoa(tt.code)}
			res := h.run(o)
			if res.Status != agents.StatusDone || res.RC != tt.want || res.ExitReason != tt.wantReason {
				t.Errorf("exit %d: got status %v rc %d reason %q, want done rc %d reason %q",
					tt.code, res.Status, res.RC, res.ExitReason, tt.want, tt.wantReason)
			}
		})
	}
}

func TestAgentSeesOCFEnvironment(t *testing.T) {
	t.Setenv("HA_debug", "1")
	t.Setenv("HAKIT_NOT_FOR_AGENTS", "secret")
	h := newHarness(t, Config{})
	a := h.script("acme", "env-dump", `echo "PWD_IS=$(pwd)"; env`)

	tests := []struct {
		name string
		op   agents.Op
		want map[string]string
		// absent must not be in the environment at all.
		absent []string
	}{{
		name: "recurring monitor",
		op: agents.Op{
			Resource: "web", Agent: a, Action: "monitor",
			Interval: 10 * time.Second, Timeout: 25 * time.Second, CheckLevel: 10,
			Params: map[string]string{"ip": "192.0.2.10", "cidr_netmask": "24", "note": "two words"},
			Meta:   map[string]string{"clone-max": "2", "notify_type": "pre", "timeout": "999", "interval": "999"},
		},
		want: map[string]string{
			"PWD_IS":                          "/",
			"OCF_ROOT":                        h.root,
			"OCF_FUNCTIONS_DIR":               h.root + "/lib/heartbeat",
			"OCF_RA_VERSION_MAJOR":            "1",
			"OCF_RA_VERSION_MINOR":            "1",
			"OCF_EXIT_REASON_PREFIX":          "ocf-exit-reason:",
			"OCF_RESOURCE_INSTANCE":           "web",
			"OCF_RESOURCE_TYPE":               "env-dump",
			"OCF_RESOURCE_PROVIDER":           "acme",
			"OCF_RESKEY_ip":                   "192.0.2.10",
			"OCF_RESKEY_cidr_netmask":         "24",
			"OCF_RESKEY_note":                 "two words",
			"OCF_RESKEY_CRM_meta_clone_max":   "2",
			"OCF_RESKEY_CRM_meta_notify_type": "pre",
			// The Op's fields win over Meta entries of the same name.
			"OCF_RESKEY_CRM_meta_interval": "10000",
			"OCF_RESKEY_CRM_meta_timeout":  "25000",
			"OCF_CHECK_LEVEL":              "10",
			"OCF_RESKEY_OCF_CHECK_LEVEL":   "10",
			"PATH":                         scriptPATH,
			"HA_debug":                     "1",
		},
		absent: []string{"HAKIT_NOT_FOR_AGENTS", "OCF_RESKEY_CRM_meta_clone-max"},
	}, {
		name: "probe with default timeout",
		op:   agents.Op{Resource: "ping:1", Agent: a, Action: "monitor"},
		want: map[string]string{
			"OCF_RESOURCE_INSTANCE":        "ping:1",
			"OCF_RESKEY_CRM_meta_interval": "0", // ocf_is_probe needs it
			"OCF_RESKEY_CRM_meta_timeout":  "20000",
		},
		absent: []string{"OCF_CHECK_LEVEL", "OCF_RESKEY_OCF_CHECK_LEVEL"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.run(tt.op)
			if res.Status != agents.StatusDone || res.RC != agents.RCOK {
				t.Fatalf("got %v rc %d (%s), output:\n%s", res.Status, res.RC, res.ExitReason, res.Output)
			}
			env := envOf(res.Output)
			for k, want := range tt.want {
				if got, ok := env[k]; !ok || got != want {
					t.Errorf("%s = %q (set: %v), want %q", k, got, ok, want)
				}
			}
			for _, k := range tt.absent {
				if v, ok := env[k]; ok {
					t.Errorf("%s is set to %q, want it absent", k, v)
				}
			}
		})
	}
}

func TestBadParameterNamesAreRefused(t *testing.T) {
	h := newHarness(t, Config{})
	a := h.script("test", "never", `touch "$OCF_RESKEY_marker"`)
	marker := filepath.Join(t.TempDir(), "ran")
	tests := []struct {
		name   string
		params map[string]string
		meta   map[string]string
	}{
		{"equals in a name", map[string]string{"a=b": "1", "marker": marker}, nil},
		{"NUL in a value", map[string]string{"x": "a\x00b", "marker": marker}, nil},
		{"empty meta name", map[string]string{"marker": marker}, map[string]string{"": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := op(a, "r", "start")
			o.Params, o.Meta = tt.params, tt.meta
			res := h.run(o)
			if res.Status != agents.StatusError || res.RC != agents.RCErrConfigured || res.ExitReason == "" {
				t.Errorf("got %v rc %d reason %q, want error, not configured, with a reason", res.Status, res.RC, res.ExitReason)
			}
			if fileExists(marker) {
				t.Error("the agent ran")
			}
		})
	}
}

func TestExitReasonComesFromStderr(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name   string
		body   string
		want   string
		rc     agents.RC
		output []string // substrings of Output
	}{
		{"none", `echo fine; exit 0`, "", agents.RCOK, []string{"fine"}},
		{"one line", `echo "ocf-exit-reason:Address 192.0.2.1 in use" >&2; exit 1`, "Address 192.0.2.1 in use", agents.RCErrGeneric, []string{"ocf-exit-reason:Address"}},
		{"last one wins, trimmed", `echo "ocf-exit-reason:first" >&2; echo noise >&2; echo "ocf-exit-reason:   second  " >&2; exit 6`, "second", agents.RCErrConfigured, nil},
		{"stdout does not count", `echo "ocf-exit-reason:on stdout"; exit 1`, "", agents.RCErrGeneric, nil},
		{"no trailing newline", `printf 'ocf-exit-reason:unterminated' >&2; exit 5`, "unterminated", agents.RCErrInstalled, nil},
		{"prefix mid-line does not count", `echo "warn: ocf-exit-reason:nope" >&2; exit 1`, "", agents.RCErrGeneric, nil},
		{"long reason cut to 128 characters", `echo "ocf-exit-reason:` + long + `" >&2; exit 1`, long[:128], agents.RCErrGeneric, nil},
		{"control characters become spaces", `printf 'ocf-exit-reason:a\tb\r\n' >&2; exit 1`, "a b", agents.RCErrGeneric, nil},
	}
	h := newHarness(t, Config{})
	agentsByTest := map[string]agents.Agent{}
	for i, tt := range tests {
		agentsByTest[tt.name] = h.script("test", fmt.Sprintf("reason%d", i), tt.body)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.run(op(agentsByTest[tt.name], "r", "start"))
			if res.Status != agents.StatusDone || res.RC != tt.rc {
				t.Errorf("got %v rc %d, want done rc %d", res.Status, res.RC, tt.rc)
			}
			if res.ExitReason != tt.want {
				t.Errorf("ExitReason = %q, want %q", res.ExitReason, tt.want)
			}
			for _, s := range tt.output {
				if !strings.Contains(res.Output, s) {
					t.Errorf("Output %q does not contain %q", res.Output, s)
				}
			}
		})
	}
}

func TestOutputKeepsTheTail(t *testing.T) {
	h := newHarness(t, Config{MaxOutput: 100})
	a := h.script("test", "chatty", `i=0; while [ $i -lt 500 ]; do echo "line $i"; i=$((i+1)); done; echo "the end"`)
	res := h.run(op(a, "r", "start"))
	if res.Status != agents.StatusDone || res.RC != agents.RCOK {
		t.Fatalf("got %v rc %d", res.Status, res.RC)
	}
	header, tail, ok := strings.Cut(res.Output, "]\n")
	if !ok || !strings.HasPrefix(header, "[... ") || !strings.HasSuffix(header, " bytes dropped") {
		t.Fatalf("Output does not start with a dropped-bytes line: %q", res.Output)
	}
	if len(tail) != 100 || !strings.HasSuffix(tail, "line 499\nthe end\n") {
		t.Errorf("tail is %d bytes %q, want the last 100 bytes ending in line 499 and the end", len(tail), tail)
	}
}

func TestMetaDataOutputIsWholeStdout(t *testing.T) {
	h := newHarness(t, Config{MaxOutput: 64})
	// About 200 KiB of XML, far beyond MaxOutput, with stderr noise that
	// must not end up in it.
	big := h.script("test", "big-meta", `
echo "warning: noise" >&2
echo '<?xml version="1.0"?><resource-agent name="big"><parameters>'
i=0; while [ $i -lt 3000 ]; do echo "<parameter name=\"p$i\"><content type=\"string\" default=\"$i\"/></parameter>"; i=$((i+1)); done
echo '</parameters><actions><action name="start" timeout="20s"/></actions></resource-agent>'`)
	huge := h.script("test", "huge-meta", `head -c 1100000 /dev/zero | tr '\0' a`)

	res := h.run(op(big, "", "meta-data"))
	if res.Status != agents.StatusDone || res.RC != agents.RCOK {
		t.Fatalf("got %v rc %d (%s)", res.Status, res.RC, res.ExitReason)
	}
	if strings.Contains(res.Output, "noise") {
		t.Error("stderr leaked into the meta-data")
	}
	md, err := agents.ParseMetaData([]byte(res.Output))
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Parameters) != 3000 || md.Defaults()["p2999"] != "2999" {
		t.Errorf("parsed %d parameters, want 3000 with p2999 defaulting to 2999", len(md.Parameters))
	}

	res = h.run(op(huge, "", "meta-data"))
	if res.Status != agents.StatusError || !strings.Contains(res.ExitReason, "meta-data larger than") {
		t.Errorf("over-sized meta-data: got %v rc %d reason %q, want an error", res.Status, res.RC, res.ExitReason)
	}
	if len(res.Output) > 200 {
		t.Errorf("over-sized meta-data kept %d bytes of output", len(res.Output))
	}
}

func TestTimeoutKillsTheProcessGroup(t *testing.T) {
	h := newHarness(t, Config{})
	dir := t.TempDir()
	a := h.script("test", "hang", `
sleep 1000 &
echo $! > "$OCF_RESKEY_dir/grandchild.pid"
echo $$ > "$OCF_RESKEY_dir/agent.pid"
echo "ocf-exit-reason:still working" >&2
wait`)
	// The timeout must not fire before the script has written its pid
	// files, however slow the machine: start small and double until it
	// has.
	for timeout := 500 * time.Millisecond; ; timeout *= 2 {
		_ = os.Remove(filepath.Join(dir, "grandchild.pid"))
		_ = os.Remove(filepath.Join(dir, "agent.pid"))
		o := op(a, "r", "start")
		o.Timeout = timeout
		o.Params = map[string]string{"dir": dir}
		res := h.run(o)
		grandchild := readPID(t, filepath.Join(dir, "grandchild.pid"))
		agent := readPID(t, filepath.Join(dir, "agent.pid"))
		killAtEnd(t, grandchild)
		if res.Status != agents.StatusTimedOut || res.RC != agents.RCErrGeneric {
			t.Fatalf("got %v rc %d, want timed out, rc 1", res.Status, res.RC)
		}
		if res.Op.Timeout != timeout || res.Duration <= 0 {
			t.Errorf("Op.Timeout %v Duration %v: want the op echoed and a duration measured", res.Op.Timeout, res.Duration)
		}
		if grandchild == 0 || agent == 0 {
			if timeout > patience {
				t.Fatal("the script never wrote its pid files")
			}
			continue
		}
		if res.ExitReason != "still working" {
			t.Errorf("ExitReason = %q, want the agent's own", res.ExitReason)
		}
		eventually(t, "the agent is killed", func() bool { return processGone(agent) })
		eventually(t, "the agent's background child is killed", func() bool { return processGone(grandchild) })
		return
	}
}

func TestTimeoutWithoutAgentReason(t *testing.T) {
	h := newHarness(t, Config{})
	a := h.script("test", "sleeper", `exec sleep 1000`)
	o := op(a, "r", "monitor")
	o.Timeout = 50 * time.Millisecond
	res := h.run(o)
	if res.Status != agents.StatusTimedOut || res.ExitReason != "timed out after 50ms" {
		t.Errorf("got %v reason %q, want timed out after 50ms", res.Status, res.ExitReason)
	}
}

// A start action that launches a daemon without redirecting its output
// leaves the daemon holding the runner's pipes. The agent's exit must
// still end the operation, and the daemon must survive it.
func TestDaemonHoldingOutputDoesNotHangTheRunner(t *testing.T) {
	h := newHarness(t, Config{})
	dir := t.TempDir()
	a := h.script("test", "daemonizer", `
sleep 1000 &
echo $! > "$OCF_RESKEY_dir/daemon.pid"
echo started
exit 0`)
	o := op(a, "r", "start")
	o.Params = map[string]string{"dir": dir}
	res := h.run(o)
	daemon := readPID(t, filepath.Join(dir, "daemon.pid"))
	killAtEnd(t, daemon)
	if res.Status != agents.StatusDone || res.RC != agents.RCOK || !strings.Contains(res.Output, "started") {
		t.Fatalf("got %v rc %d output %q, want done, rc 0, with the agent's output", res.Status, res.RC, res.Output)
	}
	if daemon == 0 || processGone(daemon) {
		t.Errorf("the daemon started by the agent (pid %d) did not survive the operation", daemon)
	}
}

func TestSignalledAgentIsAnError(t *testing.T) {
	h := newHarness(t, Config{})
	a := h.script("test", "suicidal", `kill -TERM $$; sleep 1000`)
	res := h.run(op(a, "r", "stop"))
	if res.Status != agents.StatusError || res.RC != agents.RCErrGeneric || !strings.Contains(res.ExitReason, "terminated") {
		t.Errorf("got %v rc %d reason %q, want an error naming the signal", res.Status, res.RC, res.ExitReason)
	}
}

func TestOperationsOnOneResourceRunInOrderOneAtATime(t *testing.T) {
	h := newHarness(t, Config{})
	dir := t.TempDir()
	// mkdir is atomic: a second copy running at the same time fails it.
	a := h.script("test", "serial", `
mkdir "$OCF_RESKEY_dir/lock" || { echo "ocf-exit-reason:overlapped" >&2; exit 1; }
echo "$OCF_RESKEY_n" >> "$OCF_RESKEY_dir/log"
sleep 0.05
rmdir "$OCF_RESKEY_dir/lock"`)
	const n = 8
	results := make(chan agents.Result, n)
	h.onLoop(func() {
		for i := range n {
			o := op(a, "db", "monitor")
			o.Call = int64(i)
			o.Params = map[string]string{"dir": dir, "n": strconv.Itoa(i)}
			h.execOnLoop(o, results)
		}
	})
	for i := range n {
		res := h.wait(results)
		if res.Op.Call != int64(i) {
			t.Errorf("result %d is for call %d: results out of order", i, res.Op.Call)
		}
		if res.Status != agents.StatusDone || res.RC != agents.RCOK {
			t.Errorf("call %d: got %v rc %d (%s)", res.Op.Call, res.Status, res.RC, res.ExitReason)
		}
	}
	log, err := os.ReadFile(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Fields(string(log)), []string{"0", "1", "2", "3", "4", "5", "6", "7"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ran in order %v, want %v", got, want)
	}
}

// Each agent waits for the other's marker: they can only both finish if
// they run at the same time. Serialized, the first would time out.
func TestDifferentResourcesRunConcurrently(t *testing.T) {
	h := newHarness(t, Config{})
	dir := t.TempDir()
	a := h.script("test", "rendezvous", `
touch "$OCF_RESKEY_dir/$OCF_RESOURCE_INSTANCE"
while [ ! -e "$OCF_RESKEY_dir/$OCF_RESKEY_peer" ]; do sleep 0.01; done`)
	results := make(chan agents.Result, 2)
	h.onLoop(func() {
		for _, pair := range [][2]string{{"left", "right"}, {"right", "left"}} {
			o := op(a, pair[0], "start")
			o.Params = map[string]string{"dir": dir, "peer": pair[1]}
			h.execOnLoop(o, results)
		}
	})
	for range 2 {
		res := h.wait(results)
		if res.Status != agents.StatusDone || res.RC != agents.RCOK {
			t.Errorf("%s: got %v rc %d: the resources did not run concurrently", res.Op.Resource, res.Status, res.RC)
		}
	}
}

func TestCancelKillsTheRunningOpAndDropsQueuedOnes(t *testing.T) {
	h := newHarness(t, Config{})
	dir := t.TempDir()
	a := h.script("test", "cancellable", `
if [ "$OCF_RESKEY_block" = yes ]; then
	sleep 1000 &
	echo $! > "$OCF_RESKEY_dir/sleep.pid"
	touch "$OCF_RESKEY_dir/running"
	wait
fi
touch "$OCF_RESKEY_dir/ran-$OCF_RESKEY_n"`)
	results := make(chan agents.Result, 4)
	h.onLoop(func() {
		for i, block := range []string{"yes", "no", "no"} {
			o := op(a, "vip", "start")
			o.Call = int64(i)
			o.Params = map[string]string{"dir": dir, "n": strconv.Itoa(i), "block": block}
			h.execOnLoop(o, results)
		}
	})
	eventually(t, "the first operation is running", func() bool { return fileExists(filepath.Join(dir, "running")) })
	sleeper := readPID(t, filepath.Join(dir, "sleep.pid"))
	killAtEnd(t, sleeper)
	h.onLoop(func() {
		h.r.Cancel("vip")
		h.r.Cancel("no-such-resource") // nothing to cancel: a no-op
		// Given after the Cancel, this one runs.
		o := op(a, "vip", "start")
		o.Call = 3
		o.Params = map[string]string{"dir": dir, "n": "3", "block": "no"}
		h.execOnLoop(o, results)
	})
	for i := range 4 {
		res := h.wait(results)
		if res.Op.Call != int64(i) {
			t.Errorf("result %d is for call %d: results out of order", i, res.Op.Call)
		}
		want := agents.StatusCancelled
		if i == 3 {
			want = agents.StatusDone
		}
		if res.Status != want {
			t.Errorf("call %d: got %v rc %d (%s), want %v", i, res.Status, res.RC, res.ExitReason, want)
		}
	}
	for _, n := range []string{"1", "2"} {
		if fileExists(filepath.Join(dir, "ran-"+n)) {
			t.Errorf("queued operation %s ran after Cancel", n)
		}
	}
	if !fileExists(filepath.Join(dir, "ran-3")) {
		t.Error("the operation given after Cancel did not run")
	}
	eventually(t, "the cancelled agent's child is killed", func() bool { return sleeper != 0 && processGone(sleeper) })
}

func TestNotInstalled(t *testing.T) {
	h := newHarness(t, Config{})
	writeScript(t, h.root, "test", "not-executable", "#!/bin/sh\nexit 0\n", 0o644)
	writeScript(t, h.root, "test", "no-interpreter", "#!/nonexistent/interpreter\nexit 0\n", 0o755)
	writeScript(t, h.root, "test", "no-shebang", "exit 3\n", 0o755)
	if err := os.MkdirAll(filepath.Join(h.root, "resource.d", "test", "a-directory"), 0o755); err != nil {
		t.Fatal(err)
	}
	ocf := func(provider, typ string) agents.Agent {
		return agents.Agent{Class: "ocf", Provider: provider, Type: typ}
	}
	tests := []struct {
		name   string
		agent  agents.Agent
		action string
		status agents.Status
		rc     agents.RC
	}{
		// pacemaker-execd reports a missing agent the same way for every
		// action; masking a probe's "not installed" as "stopped" is the
		// scheduler's business (pcmk_xe_mask_probe_failure).
		{"missing start", ocf("heartbeat", "Missing"), "start", agents.StatusNotInstalled, agents.RCErrInstalled},
		{"missing probe", ocf("heartbeat", "Missing"), "monitor", agents.StatusNotInstalled, agents.RCErrInstalled},
		{"missing stop", ocf("heartbeat", "Missing"), "stop", agents.StatusNotInstalled, agents.RCErrInstalled},
		{"missing meta-data", ocf("heartbeat", "Missing"), "meta-data", agents.StatusNotInstalled, agents.RCErrInstalled},
		{"directory", ocf("test", "a-directory"), "start", agents.StatusNotInstalled, agents.RCErrInstalled},
		{"escaping the root", ocf("..", "test"), "start", agents.StatusNotInstalled, agents.RCErrInstalled},
		{"slash in type", ocf("test", "../test/no-shebang"), "start", agents.StatusNotInstalled, agents.RCErrInstalled},
		{"other class", agents.Agent{Class: "lsb", Type: "apache2"}, "start", agents.StatusNotInstalled, agents.RCErrInstalled},
		{"missing interpreter", ocf("test", "no-interpreter"), "start", agents.StatusNotInstalled, agents.RCErrInstalled},
		{"not executable", ocf("test", "not-executable"), "start", agents.StatusError, agents.RCErrPerm},
		// execvp runs a script without #! with /bin/sh, so Pacemaker does.
		{"no shebang", ocf("test", "no-shebang"), "start", agents.StatusDone, agents.RCErrUnimplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.run(op(tt.agent, "r", tt.action))
			if res.Status != tt.status || res.RC != tt.rc {
				t.Errorf("got %v rc %d (%s), want %v rc %d", res.Status, res.RC, res.ExitReason, tt.status, tt.rc)
			}
			if tt.status != agents.StatusDone && res.ExitReason == "" {
				t.Error("no ExitReason explains the failure")
			}
		})
	}
}

// fakeBuiltin is a Go agent whose behaviour each test sets.
type fakeBuiltin struct {
	mu   sync.Mutex
	ops  []agents.Op
	run  func(ctx context.Context, op agents.Op) agents.Result
	meta string
}

func (f *fakeBuiltin) MetaData() string { return f.meta }

func (f *fakeBuiltin) Run(ctx context.Context, op agents.Op) agents.Result {
	f.mu.Lock()
	f.ops = append(f.ops, op)
	f.mu.Unlock()
	return f.run(ctx, op)
}

func TestBuiltinFallback(t *testing.T) {
	shadowed := agents.Agent{Class: "ocf", Provider: "heartbeat", Type: "Shadowed"}
	fake := agents.Agent{Class: "ocf", Provider: "heartbeat", Type: "Fake"}
	b := &fakeBuiltin{meta: `<resource-agent name="Fake"/>`}
	b.run = func(ctx context.Context, op agents.Op) agents.Result {
		switch op.Params["mode"] {
		case "block":
			<-ctx.Done()
			return agents.Result{RC: agents.RCOK, Status: agents.StatusDone}
		case "panic":
			panic("broken agent")
		case "chatty":
			return agents.Result{RC: agents.RCOK, Status: agents.StatusDone, Output: strings.Repeat("y", 1000) + "end"}
		}
		return agents.Result{RC: agents.RCNotRunning, Status: agents.StatusDone, ExitReason: "not started",
			Output: "fake output", Attributes: map[string]string{"pingd": "100"}}
	}
	scripted := &fakeBuiltin{run: func(context.Context, agents.Op) agents.Result {
		return agents.Result{RC: agents.RCErrGeneric, Status: agents.StatusDone}
	}}
	h := newHarness(t, Config{MaxOutput: 100, Builtins: map[agents.Agent]Builtin{fake: b, shadowed: scripted}})
	h.script("heartbeat", "Shadowed", `echo from-script`)

	t.Run("result", func(t *testing.T) {
		o := op(fake, "ping", "monitor")
		o.Call = 7
		res := h.run(o)
		if res.Op.Call != 7 || res.Op.Resource != "ping" || res.Status != agents.StatusDone || res.RC != agents.RCNotRunning ||
			res.ExitReason != "not started" || res.Output != "fake output" || res.Attributes["pingd"] != "100" || res.Duration <= 0 {
			t.Errorf("got %+v", res)
		}
	})
	t.Run("meta-data", func(t *testing.T) {
		res := h.run(op(fake, "", "meta-data"))
		if res.Status != agents.StatusDone || res.RC != agents.RCOK || res.Output != b.meta {
			t.Errorf("got %v rc %d output %q", res.Status, res.RC, res.Output)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		o := op(fake, "ping", "start")
		o.Timeout = 10 * time.Millisecond
		o.Params = map[string]string{"mode": "block"}
		res := h.run(o)
		if res.Status != agents.StatusTimedOut || res.RC != agents.RCErrGeneric {
			t.Errorf("got %v rc %d, want timed out", res.Status, res.RC)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		o := op(fake, "blocker", "start")
		o.Params = map[string]string{"mode": "block"}
		ch := h.exec(o)
		eventually(t, "the built-in is running", func() bool {
			b.mu.Lock()
			defer b.mu.Unlock()
			return len(b.ops) > 0 && b.ops[len(b.ops)-1].Resource == "blocker"
		})
		h.onLoop(func() { h.r.Cancel("blocker") })
		if res := h.wait(ch); res.Status != agents.StatusCancelled {
			t.Errorf("got %v, want cancelled", res.Status)
		}
	})
	t.Run("panic", func(t *testing.T) {
		o := op(fake, "ping", "start")
		o.Params = map[string]string{"mode": "panic"}
		res := h.run(o)
		if res.Status != agents.StatusError || !strings.Contains(res.ExitReason, "broken agent") {
			t.Errorf("got %v reason %q, want an error naming the panic", res.Status, res.ExitReason)
		}
	})
	t.Run("output bounded", func(t *testing.T) {
		o := op(fake, "ping", "start")
		o.Params = map[string]string{"mode": "chatty"}
		res := h.run(o)
		if !strings.HasSuffix(res.Output, "end") || len(res.Output) > 150 {
			t.Errorf("Output is %d bytes, want the last 100 and a header", len(res.Output))
		}
	})
	t.Run("a script wins", func(t *testing.T) {
		res := h.run(op(shadowed, "x", "start"))
		if res.RC != agents.RCOK || !strings.Contains(res.Output, "from-script") || len(scripted.ops) != 0 {
			t.Errorf("got rc %d output %q, built-in ran %d times: want the script", res.RC, res.Output, len(scripted.ops))
		}
	})
}

func TestAgentsListing(t *testing.T) {
	root := t.TempDir()
	writeScript(t, root, "heartbeat", "Dummy", "#!/bin/sh\n", 0o755)
	writeScript(t, root, "heartbeat", "IPaddr2", "#!/bin/sh\n", 0o755)
	writeScript(t, root, "heartbeat", ".ocf-shellfuncs", "#!/bin/sh\n", 0o755)
	writeScript(t, root, "heartbeat", "README", "text\n", 0o644)
	writeScript(t, root, "pacemaker", "ping", "#!/bin/sh\n", 0o755)
	writeScript(t, root, ".hidden", "Agent", "#!/bin/sh\n", 0o755)
	if err := os.MkdirAll(filepath.Join(root, "resource.d", "heartbeat", "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "resource.d", "stray-file"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "resource.d", "heartbeat", "Dummy"), filepath.Join(root, "resource.d", "pacemaker", "Dummy")); err != nil {
		t.Fatal(err)
	}
	stonithDir := t.TempDir()
	for name, mode := range map[string]os.FileMode{
		"fence_virsh": 0o755, "fence_netns": 0o755, // the latter replaces a built-in
		"fence_": 0o755, "fence_noexec": 0o644, ".fence_hidden": 0o755, "ip": 0o755,
	} {
		writeExecutable(t, filepath.Join(stonithDir, name), "#!/bin/sh\n", mode)
	}
	if err := os.Mkdir(filepath.Join(stonithDir, "fence_dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	noop := &fakeBuiltin{}
	builtins := map[agents.Agent]Builtin{
		{Class: "ocf", Provider: "heartbeat", Type: "IPaddr2"}: noop, // a script replaces it
		{Class: "ocf", Provider: "heartbeat", Type: "apache"}:  noop,
		{Class: "stonith", Type: "fence_sim"}:                  noop,
		{Class: "stonith", Type: "fence_netns"}:                noop,
	}
	want := []agents.Available{
		{Agent: agents.Agent{Class: "ocf", Provider: "heartbeat", Type: "Dummy"}, Source: "script", Path: filepath.Join(root, "resource.d/heartbeat/Dummy")},
		{Agent: agents.Agent{Class: "ocf", Provider: "heartbeat", Type: "IPaddr2"}, Source: "script", Path: filepath.Join(root, "resource.d/heartbeat/IPaddr2")},
		{Agent: agents.Agent{Class: "ocf", Provider: "heartbeat", Type: "apache"}, Source: "built-in"},
		{Agent: agents.Agent{Class: "ocf", Provider: "pacemaker", Type: "Dummy"}, Source: "script", Path: filepath.Join(root, "resource.d/pacemaker/Dummy")},
		{Agent: agents.Agent{Class: "ocf", Provider: "pacemaker", Type: "ping"}, Source: "script", Path: filepath.Join(root, "resource.d/pacemaker/ping")},
		{Agent: agents.Agent{Class: "stonith", Type: "fence_netns"}, Source: "script", Path: filepath.Join(stonithDir, "fence_netns")},
		{Agent: agents.Agent{Class: "stonith", Type: "fence_sim"}, Source: "built-in"},
		{Agent: agents.Agent{Class: "stonith", Type: "fence_virsh"}, Source: "script", Path: filepath.Join(stonithDir, "fence_virsh")},
	}
	tests := []struct {
		name       string
		root       string
		stonithDir string
		want       []agents.Available
	}{
		{"scripts and built-ins", root, stonithDir, want},
		{"no resource.d nor fence agents: built-ins only", t.TempDir(), filepath.Join(t.TempDir(), "missing"), []agents.Available{
			{Agent: agents.Agent{Class: "ocf", Provider: "heartbeat", Type: "IPaddr2"}, Source: "built-in"},
			{Agent: agents.Agent{Class: "ocf", Provider: "heartbeat", Type: "apache"}, Source: "built-in"},
			{Agent: agents.Agent{Class: "stonith", Type: "fence_netns"}, Source: "built-in"},
			{Agent: agents.Agent{Class: "stonith", Type: "fence_sim"}, Source: "built-in"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(Config{Loop: runtime.NewLoop(), Root: tt.root, StonithDir: tt.stonithDir, Builtins: builtins})
			got, err := r.Agents()
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Agents() =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestShutdownCancelsEverything(t *testing.T) {
	h := newHarness(t, Config{})
	dir := t.TempDir()
	a := h.script("test", "long", `touch "$OCF_RESKEY_dir/running"; exec sleep 1000`)
	o := op(a, "r", "start")
	o.Params = map[string]string{"dir": dir}
	running := h.exec(o)
	queued := h.exec(o)
	eventually(t, "the operation is running", func() bool { return fileExists(filepath.Join(dir, "running")) })

	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := h.r.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	late := h.exec(o)
	for name, ch := range map[string]<-chan agents.Result{"running": running, "queued": queued, "after Shutdown": late} {
		res := h.wait(ch)
		if res.Status != agents.StatusCancelled || !strings.Contains(res.ExitReason, "shutting down") {
			t.Errorf("%s: got %v reason %q, want cancelled by the shutdown", name, res.Status, res.ExitReason)
		}
	}
}

func TestNewFillsDefaults(t *testing.T) {
	r := New(Config{Loop: runtime.NewLoop()})
	if r.cfg.Root != DefaultRoot || r.cfg.StonithDir != DefaultStonithDir || r.cfg.MaxOutput != DefaultMaxOutput || r.cfg.DefaultTimeout != DefaultTimeout || r.cfg.Log == nil {
		t.Errorf("defaults not filled: %+v", r.cfg)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	r = New(Config{Loop: runtime.NewLoop(), Root: "relative/ocf"})
	if want := filepath.Join(wd, "relative/ocf"); r.cfg.Root != want {
		t.Errorf("Root = %q, want %q (agents run in /)", r.cfg.Root, want)
	}
}
