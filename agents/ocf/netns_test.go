package ocf

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/hakit/hakit/agents"
	"github.com/hakit/hakit/internal/netnstest"
)

// nsPath names a namespace handle as a file the runner can open: the
// runner lives in this process, so /proc/self/fd reaches the handle.
func nsPath(ns netns.NsHandle) string {
	return fmt.Sprintf("/proc/self/fd/%d", int(ns))
}

// nsID is how readlink shows a network namespace: net:[inode].
func nsID(t *testing.T, ns netns.NsHandle) string {
	t.Helper()
	id, err := os.Readlink(nsPath(ns))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// hostNetNS is the namespace of the test's own thread, which is the
// process's unless a test left its thread elsewhere.
func hostNetNS(t *testing.T) string {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	id, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Skipf("cannot read this process's network namespace: %v", err)
	}
	return id
}

// threadsOutside lists this process's threads in a network namespace
// other than host's.
func threadsOutside(t *testing.T, host string) []string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, task := range tasks {
		id, err := os.Readlink(filepath.Join("/proc/self/task", task.Name(), "ns/net"))
		if err != nil {
			continue // the thread has just exited
		}
		if id != host {
			out = append(out, task.Name()+" in "+id)
		}
	}
	return out
}

const printNetNS = `readlink /proc/self/ns/net`

func TestNetNSRunsScriptsInside(t *testing.T) {
	host := hostNetNS(t)
	ns := netnstest.New(t)
	inside := nsID(t, ns)
	if inside == host {
		t.Fatalf("the new namespace %s is the host's", inside)
	}

	root := t.TempDir()
	h := newHarness(t, Config{Root: root, NetNS: nsPath(ns)})
	a := h.script("test", "where", printNetNS)
	// More operations than one, on two resources: each must start inside,
	// whichever thread its worker happens to run on.
	for i, res := range []string{"a", "b", "a"} {
		got := h.run(op(a, res, "monitor"))
		if got.Status != agents.StatusDone || got.RC != agents.RCOK {
			t.Fatalf("op %d: %v rc %d (%s)", i, got.Status, got.RC, got.ExitReason)
		}
		if strings.TrimSpace(got.Output) != inside {
			t.Errorf("op %d ran in %q, want the namespace %q", i, strings.TrimSpace(got.Output), inside)
		}
	}
	// The threads moved into the namespace to fork come back, so none is
	// left there to run the node's goroutines, and the main thread's
	// namespace, which tools read as the process's, stays the host's.
	if left := threadsOutside(t, host); len(left) != 0 {
		t.Errorf("threads left outside the runner's namespace: %v", left)
	}
}

// TestNetNSUnsetIgnoresCallerThread pins down why Config.NetNS exists: a
// script does not follow the namespace of the goroutine that calls Exec,
// since a worker goroutine on another thread forks it.
func TestNetNSUnsetIgnoresCallerThread(t *testing.T) {
	host := hostNetNS(t)
	netnstest.Enter(t)
	h := newHarness(t, Config{})
	a := h.script("test", "where", printNetNS)
	got := h.run(op(a, "a", "monitor"))
	if got.Status != agents.StatusDone || got.RC != agents.RCOK {
		t.Fatalf("%v rc %d (%s)", got.Status, got.RC, got.ExitReason)
	}
	if strings.TrimSpace(got.Output) != host {
		t.Errorf("ran in %q, want the runner's namespace %q", strings.TrimSpace(got.Output), host)
	}
}

// A namespace that cannot be entered is a node problem, not a missing or
// forbidden agent: StatusError, whatever errno opening it gave.
func TestNetNSCannotEnter(t *testing.T) {
	notNS := filepath.Join(t.TempDir(), "not-a-namespace")
	if err := os.WriteFile(notNS, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/nonexistent/netns/x", notNS} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			h := newHarness(t, Config{NetNS: path})
			a := h.script("test", "ok", "exit 0")
			got := h.run(op(a, "a", "start"))
			if got.Status != agents.StatusError || got.RC != agents.RCErrGeneric {
				t.Errorf("got %v rc %d, want %v rc %d", got.Status, got.RC, agents.StatusError, agents.RCErrGeneric)
			}
			if !strings.Contains(got.ExitReason, "network namespace "+path) {
				t.Errorf("exit reason %q does not name the namespace", got.ExitReason)
			}
		})
	}
}
