package builtin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/hakit/hakit/agents"
	"github.com/hakit/hakit/agents/ocf"
	"github.com/hakit/hakit/internal/netnstest"
)

// fenceRunner runs operations through the OCF runner with this package's
// agents as built-ins, as hanode does, over empty script directories so
// that no installed agent stands in for them.
type fenceRunner struct {
	t    *testing.T
	r    *ocf.Runner
	loop chanLoop
}

func newFenceRunner(t *testing.T, opts Options) *fenceRunner {
	t.Helper()
	dir := t.TempDir()
	if opts.StateDir == "" {
		opts.StateDir = dir
	}
	loop := make(chanLoop, 16)
	r := ocf.New(ocf.Config{Loop: loop, Root: filepath.Join(dir, "ocf"), StonithDir: filepath.Join(dir, "sbin"), Builtins: New(opts)})
	t.Cleanup(func() { r.Shutdown(context.Background()) })
	return &fenceRunner{t: t, r: r, loop: loop}
}

func (f *fenceRunner) run(action string, params map[string]string) agents.Result {
	f.t.Helper()
	results := make(chan agents.Result, 1)
	f.r.Exec(agents.Op{Resource: "fencing", Agent: FenceNetnsAgent, Action: action, Params: params, Timeout: opTimeout},
		func(res agents.Result) { results <- res })
	for {
		select {
		case fn := <-f.loop:
			fn()
		case res := <-results:
			if res.Status != agents.StatusDone {
				f.t.Fatalf("%s: status %v (%s)", action, res.Status, res.ExitReason)
			}
			return res
		}
	}
}

// nsFile names a namespace handle as a file the agent can open: it runs in
// this process, so /proc/<pid>/fd reaches the handle.
func nsFile(ns netns.NsHandle) string {
	return fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), int(ns))
}

// proc is a process a test started, in its own process group so that
// cleanup also gets whatever it forked.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // Wait's, once exited is closed
}

// startProc starts argv in ns, or in the test's own namespace when ns is
// nil. The command is forked from a thread moved into ns and back, as
// agents/ocf runs agents in Config.NetNS; the process is killed, with its
// group, and reaped when the test ends, passed or failed.
func startProc(t *testing.T, ns *netns.NsHandle, argv ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(argv[0], argv[1:]...), exited: make(chan struct{})}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if ns == nil {
			defer runtime.UnlockOSThread()
			started <- p.cmd.Start()
			return
		}
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			started <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(*ns); err != nil {
			runtime.UnlockOSThread()
			started <- err
			return
		}
		err = p.cmd.Start()
		if rerr := netns.Set(orig); rerr != nil {
			// Left locked, the thread ends with this goroutine instead of
			// running other code inside the namespace.
			t.Errorf("leaving the test namespace: %v", rerr)
			started <- err
			return
		}
		runtime.UnlockOSThread()
		started <- err
	}()
	if err := <-started; err != nil {
		t.Fatalf("starting %v: %v", argv, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	})
	return p
}

// orphanage reaps the processes a test orphans: the shell's children,
// once fencing kills the shell, would otherwise go to the machine's init,
// which in a container may never reap them.
type orphanage struct{ pids []int }

// adoptOrphans makes the test process the reaper of orphaned
// descendants until the test ends. Call it before starting the processes,
// so that its cleanup, which waits for them, runs after theirs.
func adoptOrphans(t *testing.T) *orphanage {
	t.Helper()
	o := &orphanage{}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("becoming a subreaper: %v", err)
	}
	t.Cleanup(func() {
		for _, pid := range o.pids {
			// Killed by the fencing or, failing that, with their process
			// group by startProc's cleanup.
			_, _ = unix.Wait4(pid, nil, 0, nil)
		}
		_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	})
	return o
}

func (o *orphanage) add(t *testing.T, pid string) {
	n, err := strconv.Atoi(pid)
	if err != nil {
		t.Fatal(err)
	}
	o.pids = append(o.pids, n)
}

func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return syscall.Kill(p.cmd.Process.Pid, 0) == nil
	}
}

// waitKilled waits for the process to end and checks SIGKILL ended it.
// The bound only keeps a broken agent from hanging the test run.
func (p *proc) waitKilled(t *testing.T, what string) {
	t.Helper()
	select {
	case <-p.exited:
	case <-contextDone(t):
		t.Fatalf("%s still runs", what)
	}
	var exitErr *exec.ExitError
	if !errors.As(p.err, &exitErr) {
		t.Fatalf("%s ended with %v, want killed", what, p.err)
	}
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("%s ended with %v, want SIGKILL", what, p.err)
	}
}

func contextDone(t *testing.T) <-chan struct{} {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	t.Cleanup(cancel)
	return ctx.Done()
}

// pidsInNetns lists the processes in the namespace at path, by how
// readlink names namespaces: an account kept apart from the agent's own.
func pidsInNetns(t *testing.T, path string) []string {
	t.Helper()
	want, err := os.Readlink(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if id, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns/net")); err == nil && id == want {
			out = append(out, e.Name())
		}
	}
	return out
}

// waitForPids waits until n processes run in the namespace at path.
func waitForPids(t *testing.T, path string, n int) {
	t.Helper()
	done := contextDone(t)
	for len(pidsInNetns(t, path)) != n {
		select {
		case <-done:
			t.Fatalf("processes in the namespace: %v, want %d", pidsInNetns(t, path), n)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func wantResult(t *testing.T, what string, res agents.Result, rc agents.RC, reason string) {
	t.Helper()
	if res.RC != rc || !strings.Contains(res.ExitReason, reason) {
		t.Fatalf("%s: rc %d (%v) reason %q, want rc %d with a reason containing %q; output:\n%s",
			what, res.RC, res.RC, res.ExitReason, rc, reason, res.Output)
	}
}

// TestFenceNetnsOff powers off a node of a lab made for the test: every
// process in the node's namespace dies, forked children included, and
// processes outside live on. Needs root to create the namespace.
func TestFenceNetnsOff(t *testing.T) {
	ns := netnstest.New(t)
	// A named namespace, as ip netns keeps it, without touching /run/netns.
	netnsDir := t.TempDir()
	if err := os.Symlink(nsFile(ns), filepath.Join(netnsDir, "ns-node2")); err != nil {
		t.Fatal(err)
	}
	orphans := adoptOrphans(t)
	victim := startProc(t, &ns, "sleep", "1000")
	family := startProc(t, &ns, "sh", "-c", "sleep 1000 & sleep 1000 & wait")
	bystander := startProc(t, nil, "sleep", "1000")
	// The shell forks its children on its own time; fencing before then
	// would be a different test.
	waitForPids(t, nsFile(ns), 4)
	for _, pid := range pidsInNetns(t, nsFile(ns)) {
		if pid != strconv.Itoa(victim.cmd.Process.Pid) && pid != strconv.Itoa(family.cmd.Process.Pid) {
			orphans.add(t, pid)
		}
	}

	f := newFenceRunner(t, Options{NetnsDir: netnsDir})
	device := map[string]string{"pcmk_host_map": "vm-node1:/proc/1/ns/net;vm-node2:ns-node2"}
	with := func(port string) map[string]string {
		return map[string]string{"pcmk_host_map": device["pcmk_host_map"], "port": port}
	}

	wantResult(t, "start", f.run("start", device), agents.RCOK, "")
	wantResult(t, "monitor of the device", f.run("monitor", device), agents.RCOK, "")
	wantResult(t, "monitor of the victim", f.run("monitor", with("vm-node2")), agents.RCOK, "")

	res := f.run("off", with("vm-node2"))
	wantResult(t, "off", res, agents.RCOK, "")
	victim.waitKilled(t, "the process in the namespace")
	family.waitKilled(t, "the shell in the namespace")
	if left := pidsInNetns(t, nsFile(ns)); len(left) != 0 {
		t.Errorf("processes left in the namespace after off: %v", left)
	}
	if !bystander.alive() {
		t.Error("off killed a process outside the namespace")
	}
	if !strings.Contains(res.Output, "killed 4 processes") {
		t.Errorf("off output does not count the four processes (sleep, sh and its two children):\n%s", res.Output)
	}

	// The namespace is the machine: it stays for the lab to boot the node
	// in again, so the device still sees it and a second fencing, finding
	// the node already down, succeeds.
	wantResult(t, "monitor after off", f.run("monitor", with("vm-node2")), agents.RCOK, "")
	again := startProc(t, &ns, "sleep", "1000")
	wantResult(t, "reboot", f.run("reboot", with("VM-NODE2")), agents.RCOK, "")
	again.waitKilled(t, "the process started after off")
	wantResult(t, "reboot of a node already down", f.run("reboot", with("vm-node2")), agents.RCOK, "")
	wantResult(t, "on", f.run("on", with("vm-node2")), agents.RCOK, "")
	if !bystander.alive() {
		t.Error("reboot killed a process outside the namespace")
	}
}

// TestFenceNetnsAbsolutePath maps a node to a namespace file by path.
func TestFenceNetnsAbsolutePath(t *testing.T) {
	ns := netnstest.New(t)
	victim := startProc(t, &ns, "sleep", "1000")
	bystander := startProc(t, nil, "sleep", "1000")
	f := newFenceRunner(t, Options{NetnsDir: filepath.Join(t.TempDir(), "empty")})
	wantResult(t, "off", f.run("off", map[string]string{"pcmk_host_map": "n2=" + nsFile(ns), "port": "n2"}), agents.RCOK, "")
	victim.waitKilled(t, "the process in the namespace")
	if !bystander.alive() {
		t.Error("off killed a process outside the namespace")
	}
}

// TestFenceNetnsRefusals: what must not be fenced is not, and says why.
// Needs no root: the namespaces involved already exist.
func TestFenceNetnsRefusals(t *testing.T) {
	bystander := startProc(t, nil, "sleep", "1000")
	notNS := filepath.Join(t.TempDir(), "not-a-namespace")
	if err := os.WriteFile(notNS, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f := newFenceRunner(t, Options{NetnsDir: t.TempDir()})
	hostMap := "vm-self:/proc/self/ns/net;vm-file:" + notNS + ";vm-gone:ns-gone"
	tests := []struct {
		action, port string
		rc           agents.RC
		reason       string
	}{
		{"off", "vm-self", agents.RCErrGeneric, "this node's own network namespace; refusing to fence ourselves"},
		{"reboot", "vm-self", agents.RCErrGeneric, "refusing to fence ourselves"},
		{"off", "vm-node9", agents.RCErrGeneric, `node "vm-node9" is not in pcmk_host_map (which maps vm-self, vm-file, vm-gone)`},
		{"reboot", "vm-node9", agents.RCErrGeneric, `node "vm-node9" is not in pcmk_host_map`},
		{"on", "vm-node9", agents.RCErrGeneric, `node "vm-node9" is not in pcmk_host_map`},
		{"monitor", "vm-node9", agents.RCErrGeneric, `node "vm-node9" is not in pcmk_host_map`},
		{"off", "", agents.RCErrGeneric, "no node to off: port is not set"},
		{"off", "vm-file", agents.RCErrGeneric, "is not a network namespace"},
		{"monitor", "vm-file", agents.RCErrGeneric, "is not a network namespace"},
		{"off", "vm-gone", agents.RCErrGeneric, "no such file or directory"},
		{"status", "vm-gone", agents.RCErrGeneric, "no such file or directory"},
		{"monitor", "vm-self", agents.RCOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.action+" "+tt.port, func(t *testing.T) {
			wantResult(t, tt.action, f.run(tt.action, map[string]string{"pcmk_host_map": hostMap, "port": tt.port}), tt.rc, tt.reason)
		})
	}
	if !bystander.alive() {
		t.Error("a refused fencing killed a process")
	}
}

// TestFenceNetnsRefusesTheHost: PID 1's namespace is the host's, not a
// node's. PID 1 cannot be moved, so the test names another namespace as
// the host's; needs root to create it.
func TestFenceNetnsRefusesTheHost(t *testing.T) {
	ns := netnstest.New(t)
	inside := startProc(t, &ns, "sleep", "1000")
	agent := &FenceNetns{hostNetns: nsFile(ns)}
	res := runOp(t, agent, FenceNetnsAgent, "off", map[string]string{"pcmk_host_map": "vm-host:" + nsFile(ns), "port": "vm-host"})
	wantResult(t, "off", res, agents.RCErrGeneric, "is the host's network namespace (PID 1's), not a node's")
	if !inside.alive() {
		t.Error("a refused fencing killed a process")
	}
}

func TestFenceNetnsDevice(t *testing.T) {
	f := &FenceNetns{opts: Options{NetnsDir: "/run/netns"}}
	good := map[string]string{"pcmk_host_map": "vm-node1:ns-node1;vm-node2:ns-node2"}
	tests := []struct {
		action string
		params map[string]string
		rc     agents.RC
		reason string
	}{
		{"validate-all", good, agents.RCOK, ""},
		{"start", good, agents.RCOK, ""},
		{"monitor", good, agents.RCOK, ""},
		{"status", good, agents.RCOK, ""},
		{"stop", good, agents.RCOK, ""},
		{"stop", nil, agents.RCOK, ""},
		{"validate-all", nil, agents.RCErrConfigured, "pcmk_host_map is required"},
		{"start", map[string]string{"pcmk_host_map": " ; "}, agents.RCErrConfigured, "pcmk_host_map is required"},
		{"monitor", map[string]string{"pcmk_host_map": "vm-node1"}, agents.RCErrConfigured, "not a node:value pair"},
		{"validate-all", map[string]string{"pcmk_host_map": "a:../etc"}, agents.RCErrConfigured, `node "a": "../etc" is neither a namespace name`},
		{"validate-all", map[string]string{"pcmk_host_map": "a:x/y"}, agents.RCErrConfigured, "neither a namespace name"},
		{"validate-all", map[string]string{"pcmk_host_map": "a:.."}, agents.RCErrConfigured, "neither a namespace name"},
		{"validate-all", map[string]string{"pcmk_host_map": "a:ns1,ns2"}, agents.RCErrConfigured, "one namespace per node"},
		{"off", map[string]string{"pcmk_host_map": "a:1;a:2", "port": "a"}, agents.RCErrConfigured, "mapped twice"},
		{"frobnicate", good, agents.RCErrUnimplemented, "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.action+" "+tt.params["pcmk_host_map"], func(t *testing.T) {
			wantResult(t, tt.action, runOp(t, f, FenceNetnsAgent, tt.action, tt.params), tt.rc, tt.reason)
		})
	}

	res := runOp(t, f, FenceNetnsAgent, "list", good)
	wantResult(t, "list", res, agents.RCOK, "")
	if res.Output != "vm-node1\nvm-node2\n" {
		t.Errorf("list printed %q, want the node names one a line", res.Output)
	}
}

func TestFenceNetnsPaths(t *testing.T) {
	tests := []struct{ value, want, err string }{
		{"ns-node1", "/run/netns/ns-node1", ""},
		{"/run/netns/ns-node1", "/run/netns/ns-node1", ""},
		{"/proc/42/ns/net", "/proc/42/ns/net", ""},
		{"/proc/42/../42/ns/net", "/proc/42/ns/net", ""},
		{"sub/ns", "", "neither"},
		{"..", "", "neither"},
		{".", "", "neither"},
		{"a,b", "", "one namespace per node"},
	}
	for _, tt := range tests {
		got, err := netnsPath("/run/netns", tt.value)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("netnsPath(%q) = %q, %v; want an error containing %q", tt.value, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("netnsPath(%q) = %q, %v; want %q", tt.value, got, err, tt.want)
		}
	}
}
