package builtin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hakit/hakit/agents"
)

// FenceNetns is stonith:fence_netns, the power switch of the network
// namespace lab (DESIGN.md §6): there a node is a network namespace with
// its hanode inside, and cutting its power is killing every process in
// that namespace.
//
// Parameters: pcmk_host_map (required) maps each node name to its
// namespace, "vm-node1:ns-node1;vm-node2:ns-node2" (agents.ParseHostMap):
// a name under NetnsDir (/run/netns, where ip netns keeps them) or an
// absolute path to a namespace file such as /proc/PID/ns/net. port, which
// the cluster sets to the node an action is for (plug is read when port
// is unset), names the victim.
//
// Actions: off and reboot SIGKILL every process whose network namespace
// is the victim's and wait until none is left, so success means the node
// is down. Both leave the namespace in place: it is the machine, not the
// power, and for reboot the lab does the second half of the power cycle
// by starting the node's hanode in it again, as a machine would boot.
// on succeeds without doing anything for the same reason. monitor and
// status succeed when the map is valid and, given a port, the node's
// namespace exists; list prints the mapped node names; start and stop
// succeed, the device having no state; validate-all checks the map.
// A victim not in the map fails with rc 1, naming it.
//
// Safety: only processes whose namespace is the victim's are signalled,
// each through a pidfd opened before its namespace is checked again, so a
// pid freed and reused by a process elsewhere in the meantime is never
// hit; the agent's own process is skipped, and so are processes whose
// namespace the kernel will not show us (see members), which the output
// lists. A victim whose namespace is the agent's own is refused, since
// the node would fence itself, and so is PID 1's namespace: that is the
// host the lab runs on, not a node.
//
// Deviations from a fence agent script: the agent reads pcmk_host_map
// itself and port is the node's name, where the runner would map port to
// the namespace before running a script (agents/ocf). status answers
// whether the namespace exists, not whether processes run in it: after
// off the node is down, its namespace remains, and status answers 0.
type FenceNetns struct {
	opts Options
	// hostNetns is the namespace never to fence, PID 1's unless a test
	// that cannot move PID 1 sets another.
	hostNetns string
}

// fencePoll is how often off and reboot look again for processes left in
// the victim's namespace: SIGKILLed processes go within milliseconds, and
// a look costs a read of /proc.
const fencePoll = 20 * time.Millisecond

func fenceNetnsMeta(netnsDir string) metaData {
	return metaData{
		name: "fence_netns", version: "1.0",
		shortDesc: "Fence agent for nodes running in network namespaces (hakit built-in)",
		longDesc: "Powers off a node of the network namespace lab by killing (SIGKILL) every process in the node's network namespace " +
			"and waiting until none is left. The namespace stays: reboot leaves restarting the node in it to the lab, as a power cycle " +
			"leaves booting to the machine, and on does nothing. Never signals a process outside the namespace, and refuses to fence " +
			"the namespace it runs in.",
		params: []metaParam{
			{name: "pcmk_host_map", typ: "string", required: true,
				shortDesc: "Node to namespace map",
				longDesc: "Maps node names to network namespaces, as node:namespace pairs separated by ';', spaces or commas: " +
					"\"vm-node1:ns-node1;vm-node2:ns-node2\". A namespace is a name under " + netnsDir + " or an absolute path to a " +
					"namespace file such as /proc/PID/ns/net."},
			np("port", "string", "Node to fence",
				"The node an action is for; the cluster sets it to the victim's name."),
			np("plug", "string", "Node to fence (alias of port)",
				"Read when port is not set, as fence-agents accept either."),
		},
		actions: []metaAction{
			{name: "on", timeout: "20s"},
			{name: "off", timeout: "20s"},
			{name: "reboot", timeout: "20s"},
			{name: "status", timeout: "20s"},
			{name: "list", timeout: "20s"},
			{name: "monitor", timeout: "20s", interval: "60s"},
			{name: "start", timeout: "20s"},
			{name: "stop", timeout: "20s"},
			{name: "meta-data", timeout: "5s"},
			{name: "validate-all", timeout: "20s"},
		},
	}
}

// MetaData implements ocf.Builtin.
func (f *FenceNetns) MetaData() string {
	return fenceNetnsMeta(f.opts.withDefaults().NetnsDir).render()
}

// netnsTarget is one node of the map with its namespace file.
type netnsTarget struct {
	node, path string
}

// targets reads pcmk_host_map and resolves each namespace to a file.
func (f *FenceNetns) targets(op agents.Op) ([]netnsTarget, error) {
	raw := op.Params["pcmk_host_map"]
	hosts, err := agents.ParseHostMap(raw)
	if err != nil {
		return nil, err
	}
	if len(hosts) == 0 {
		return nil, errors.New("pcmk_host_map is required: node:namespace pairs such as vm-node1:ns-node1;vm-node2:ns-node2")
	}
	dir := f.opts.withDefaults().NetnsDir
	out := make([]netnsTarget, 0, len(hosts))
	for _, h := range hosts {
		path, err := netnsPath(dir, h.Value)
		if err != nil {
			return nil, fmt.Errorf("pcmk_host_map: node %q: %w", h.Node, err)
		}
		out = append(out, netnsTarget{node: h.Node, path: path})
	}
	return out, nil
}

func netnsPath(dir, value string) (string, error) {
	switch {
	case strings.Contains(value, ","):
		// Pacemaker's "several ports" form: a node is one namespace here.
		return "", fmt.Errorf("%q: one namespace per node", value)
	case filepath.IsAbs(value):
		return filepath.Clean(value), nil
	case value == "." || value == ".." || strings.ContainsAny(value, "/\x00"):
		return "", fmt.Errorf("%q is neither a namespace name under %s nor an absolute path", value, dir)
	}
	return filepath.Join(dir, value), nil
}

// Run implements ocf.Builtin.
func (f *FenceNetns) Run(ctx context.Context, op agents.Op) agents.Result {
	var r result
	switch op.Action {
	case "meta-data":
		return metaDataResult(f.MetaData())
	case "stop":
		// Stopping must succeed whatever the configuration says.
		return r.done(agents.RCOK)
	case "start", "validate-all", "monitor", "status", "list", "on", "off", "reboot":
	default:
		return unimplemented(op)
	}
	targets, err := f.targets(op)
	if err != nil {
		return r.fail(agents.RCErrConfigured, "%v", err)
	}
	switch op.Action {
	case "start", "validate-all":
		return r.done(agents.RCOK)
	case "list":
		for _, t := range targets {
			r.logf("%s", t.node)
		}
		return r.done(agents.RCOK)
	}

	victim := param(op, "port", param(op, "plug", ""))
	if victim == "" {
		if op.Action == "monitor" || op.Action == "status" {
			return r.done(agents.RCOK)
		}
		return r.fail(agents.RCErrGeneric, "no node to %s: port is not set", op.Action)
	}
	var target *netnsTarget
	var names []string
	for i := range targets {
		names = append(names, targets[i].node)
		if target == nil && strings.EqualFold(targets[i].node, victim) {
			target = &targets[i]
		}
	}
	if target == nil {
		return r.fail(agents.RCErrGeneric, "node %q is not in pcmk_host_map (which maps %s)", victim, strings.Join(names, ", "))
	}
	if op.Action == "on" {
		r.logf("INFO: %s: nothing to power on; the lab starts the node in %s", victim, target.path)
		return r.done(agents.RCOK)
	}

	ns, err := openNetns(target.path)
	if err != nil {
		return r.fail(agents.RCErrGeneric, "node %q: %v", victim, err)
	}
	defer ns.file.Close()
	if op.Action == "monitor" || op.Action == "status" {
		return r.done(agents.RCOK)
	}

	// off, reboot
	if ns.sameAs("/proc/self/ns/net") || ns.sameAs("/proc/thread-self/ns/net") {
		return r.fail(agents.RCErrGeneric, "node %q: %s is this node's own network namespace; refusing to fence ourselves", victim, target.path)
	}
	host := f.hostNetns
	if host == "" {
		host = "/proc/1/ns/net"
	}
	if ns.sameAs(host) {
		return r.fail(agents.RCErrGeneric, "node %q: %s is the host's network namespace (PID 1's), not a node's; refusing to kill the host", victim, target.path)
	}
	killed, hidden, err := ns.empty(ctx)
	if err != nil {
		return r.fail(agents.RCErrGeneric, "fencing node %q (%s): %v", victim, target.path, err)
	}
	if len(hidden) > 0 {
		r.logf("WARNING: skipped %d processes whose network namespace is hidden from this node (more privileged than it, so not the lab's): %v",
			len(hidden), hidden[:min(len(hidden), 10)])
	}
	r.logf("INFO: %s %s: killed %d processes in network namespace %s; none is left", op.Action, victim, killed, target.path)
	return r.done(agents.RCOK)
}

// netnsHandle is an open network namespace file. Keeping it open keeps
// the namespace alive, so its inode number cannot pass to a namespace
// created meanwhile while processes are compared against it.
type netnsHandle struct {
	file     *os.File
	dev, ino uint64
}

func openNetns(path string) (*netnsHandle, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("network namespace: %w", err)
	}
	// Without this check a path to any file would make off "succeed" by
	// finding no process to kill.
	typ, err := unix.IoctlRetInt(int(file.Fd()), unix.NS_GET_NSTYPE)
	if err != nil || typ != unix.CLONE_NEWNET {
		file.Close()
		return nil, fmt.Errorf("%s is not a network namespace", path)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(file.Fd()), &st); err != nil {
		file.Close()
		return nil, fmt.Errorf("network namespace %s: %w", path, err)
	}
	return &netnsHandle{file: file, dev: st.Dev, ino: st.Ino}, nil
}

// sameAs reports whether the namespace file at path, such as
// /proc/PID/ns/net, is this namespace, as ip netns identify compares them.
func (h *netnsHandle) sameAs(path string) bool {
	var st unix.Stat_t
	return unix.Stat(path, &st) == nil && st.Dev == h.dev && st.Ino == h.ino
}

// errHidden is a process whose namespace this process may not read.
var errHidden = errors.New("namespace hidden")

// holds reports whether process pid runs in the namespace. A process
// whose main thread has exited has no /proc/PID/ns/net, but its other
// threads may still run inside, so then its threads are asked. A
// failure to look is an error, since fencing must not report a node down
// when it could not see the node's processes; errHidden is the exception
// the caller decides on.
func (h *netnsHandle) holds(pid int) (bool, error) {
	var st unix.Stat_t
	err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/ns/net", &st)
	switch {
	case err == nil:
		return st.Dev == h.dev && st.Ino == h.ino, nil
	case errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM):
		return false, errHidden
	case !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ESRCH):
		return false, fmt.Errorf("process %d: %w", pid, err)
	}
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return false, nil // gone
	}
	for _, t := range tasks {
		if h.sameAs("/proc/" + strconv.Itoa(pid) + "/task/" + t.Name() + "/ns/net") {
			return true, nil
		}
	}
	return false, nil
}

// members lists the processes in the namespace, but for our own, and
// those whose namespace is hidden from us.
//
// Root is denied a look at a process's namespace only when that process
// holds privileges root here lacks (a virtual machine's init holding
// capabilities the container drops, say): such a process was not started
// by a lab node, whose processes have at most the privileges of the
// hanode fencing it. So hidden processes are skipped, and reported.
func (h *netnsHandle) members() (pids, hidden []int, err error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, nil, err
	}
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 || pid == self {
			continue
		}
		in, err := h.holds(pid)
		switch {
		case errors.Is(err, errHidden):
			hidden = append(hidden, pid)
		case err != nil:
			return nil, nil, err
		case in:
			pids = append(pids, pid)
		}
	}
	return pids, hidden, nil
}

// empty kills the namespace's processes until none is left, including
// any forked meanwhile, and returns how many it signalled and the
// processes it could not look at in its last pass.
func (h *netnsHandle) empty(ctx context.Context) (int, []int, error) {
	signalled := map[int]bool{}
	for {
		pids, hidden, err := h.members()
		if err != nil {
			return len(signalled), nil, err
		}
		if len(pids) == 0 {
			return len(signalled), hidden, nil
		}
		for _, pid := range pids {
			// Signalled again if still there: a SIGKILL to a dying
			// process is harmless, and the pid may be a newcomer.
			if err := h.kill(pid); err != nil {
				return len(signalled), nil, err
			}
			signalled[pid] = true
		}
		if err := sleepCtx(ctx, fencePoll); err != nil {
			return len(signalled), nil, fmt.Errorf("%d processes still in the namespace: %w", len(pids), err)
		}
	}
}

// kill sends SIGKILL to pid if it is in the namespace. The pidfd pins the
// process the check then looks at: should pid have been freed and reused
// since the scan, either the check sees the newcomer outside and nothing
// is sent, or the signal goes to the process that has gone (ESRCH) and
// never to the newcomer.
func (h *netnsHandle) kill(pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		return nil
	case errors.Is(err, unix.ENOSYS):
		// Kernels before 5.3: the narrow window between check and kill
		// cannot be closed there.
		if in, err := h.holds(pid); err != nil || !in {
			return ignoreHidden(err)
		}
		if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("killing process %d: %w", pid, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("pidfd for process %d: %w", pid, err)
	}
	defer unix.Close(fd)
	if in, err := h.holds(pid); err != nil || !in {
		return ignoreHidden(err)
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("killing process %d: %w", pid, err)
	}
	return nil
}

// ignoreHidden treats a process that became hidden between the scan and
// the kill (it gained privileges in an exec) as the scan would have.
func ignoreHidden(err error) error {
	if errors.Is(err, errHidden) {
		return nil
	}
	return err
}
