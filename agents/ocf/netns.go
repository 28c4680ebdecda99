package ocf

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// netnsError is a failure to enter Config.NetNS. It is told apart from a
// failure to exec the agent, whose errno would otherwise say "not
// installed" (ENOENT) or "insufficient privileges" (EPERM) about an agent
// that is fine.
type netnsError struct {
	path string
	err  error
}

func (e *netnsError) Error() string {
	return fmt.Sprintf("entering network namespace %s: %v", e.path, e.err)
}

func (e *netnsError) Unwrap() error { return e.err }

// start starts cmd in Config.NetNS, or where the runner is when unset.
func (r *Runner) start(cmd *exec.Cmd) error {
	if r.cfg.NetNS == "" {
		return cmd.Start()
	}
	return r.startInNetNS(r.cfg.NetNS, cmd)
}

// startInNetNS starts cmd inside the network namespace at path. A child
// gets the namespaces of the thread that forks it, not of the process,
// so a thread is moved into the namespace just to fork it, then moved back
// before it serves other goroutines. The move happens on a goroutine of
// its own so that, should the way back fail, only that goroutine is stuck
// with the thread: it returns still locked, and the runtime retires the
// thread instead of reusing it. Retiring is not the plan for the good
// case: the runtime parks the main thread rather than ending it, which
// would leave /proc/<pid>/ns/net, read by tools such as ip netns identify,
// showing the agents' namespace for the daemon.
func (r *Runner) startInNetNS(path string, cmd *exec.Cmd) error {
	target, err := os.Open(path)
	if err != nil {
		return &netnsError{path, err}
	}
	defer target.Close()
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			started <- &netnsError{path, fmt.Errorf("saving the current one: %w", err)}
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			started <- &netnsError{path, err}
			return
		}
		err = cmd.Start()
		if rerr := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); rerr != nil {
			// Still locked: see above. cmd started, so its result stands.
			r.cfg.Log.Warn("cannot leave an agents' network namespace; retiring the thread", "netns", path, "err", rerr)
			started <- err
			return
		}
		runtime.UnlockOSThread()
		started <- err
	}()
	return <-started
}
