package agents

import (
	"fmt"
	"strings"
	"time"
)

// RC is an OCF exit code, the verdict of one agent operation (OCF resource
// agent API 1.1, and Pacemaker's extensions for promotable and degraded
// resources).
type RC int

const (
	RCOK               RC = 0   // OCF_SUCCESS
	RCErrGeneric       RC = 1   // OCF_ERR_GENERIC: soft error, restart may help
	RCErrArgs          RC = 2   // OCF_ERR_ARGS: bad parameters for this node
	RCErrUnimplemented RC = 3   // OCF_ERR_UNIMPLEMENTED: action not supported
	RCErrPerm          RC = 4   // OCF_ERR_PERM: insufficient privileges
	RCErrInstalled     RC = 5   // OCF_ERR_INSTALLED: software missing on this node: ban the node
	RCErrConfigured    RC = 6   // OCF_ERR_CONFIGURED: configuration wrong everywhere: stop the resource
	RCNotRunning       RC = 7   // OCF_NOT_RUNNING: cleanly stopped
	RCRunningPromoted  RC = 8   // OCF_RUNNING_PROMOTED (OCF_RUNNING_MASTER)
	RCFailedPromoted   RC = 9   // OCF_FAILED_PROMOTED (OCF_FAILED_MASTER)
	RCDegraded         RC = 190 // OCF_DEGRADED: running, but not healthy
	RCDegradedPromoted RC = 191 // OCF_DEGRADED_PROMOTED
)

var rcNames = map[RC]string{
	RCOK: "ok", RCErrGeneric: "error", RCErrArgs: "invalid parameter", RCErrUnimplemented: "unimplemented feature",
	RCErrPerm: "insufficient privileges", RCErrInstalled: "not installed", RCErrConfigured: "not configured",
	RCNotRunning: "not running", RCRunningPromoted: "promoted", RCFailedPromoted: "promoted (failed)",
	RCDegraded: "degraded", RCDegradedPromoted: "promoted (degraded)",
}

// String names the code the way crm_mon does ("not running", "not installed").
func (rc RC) String() string {
	if s, ok := rcNames[rc]; ok {
		return s
	}
	return fmt.Sprintf("unknown rc %d", int(rc))
}

// Status says how an operation ended apart from its exit code: whether the
// agent ran to completion at all. Only StatusDone results carry a meaningful
// RC from the agent; for the others the executor sets the RC Pacemaker would
// record (RCErrGeneric for a timeout or an error, RCErrInstalled for a
// missing agent).
type Status int

const (
	StatusDone         Status = iota // the agent exited; RC is its exit code
	StatusTimedOut                   // killed after the operation's timeout
	StatusError                      // could not be run (exec failure, signal, bad output)
	StatusNotInstalled               // no script and no built-in for the agent
	StatusCancelled                  // cancelled before it finished; the result is informative only
)

var statusNames = [...]string{"done", "timed out", "error", "not installed", "cancelled"}

func (s Status) String() string {
	if int(s) >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Agent names a resource agent the way a primitive's class, provider and
// type do: ocf:heartbeat:IPaddr2, stonith:fence_sim. Provider is empty for
// classes that have none.
type Agent struct {
	Class    string
	Provider string
	Type     string
}

// String renders the agent as crm shell writes it.
func (a Agent) String() string {
	if a.Provider == "" {
		return a.Class + ":" + a.Type
	}
	return a.Class + ":" + a.Provider + ":" + a.Type
}

// ParseAgent reads "class:provider:type" or "class:type".
func ParseAgent(s string) (Agent, error) {
	parts := strings.Split(s, ":")
	for _, p := range parts {
		if p == "" {
			return Agent{}, fmt.Errorf("agent %q: empty class, provider or type", s)
		}
	}
	switch len(parts) {
	case 2:
		return Agent{Class: parts[0], Type: parts[1]}, nil
	case 3:
		return Agent{Class: parts[0], Provider: parts[1], Type: parts[2]}, nil
	}
	return Agent{}, fmt.Errorf("agent %q: want class:provider:type or class:type", s)
}

// Op is one operation for the executor to run: an action of an agent on one
// resource instance. A recurring monitor is scheduled by the node on its own
// clock; the executor runs each occurrence as a one-shot Op carrying the
// monitor's Interval, which the agent sees as OCF_RESKEY_CRM_meta_interval.
type Op struct {
	// Call is the caller's number for this operation, echoed in the Result
	// (Pacemaker's call-id).
	Call int64
	// Resource is the resource instance (OCF_RESOURCE_INSTANCE), "web" or
	// "ping:1" for a clone instance.
	Resource string
	Agent    Agent
	// Action is start, stop, monitor, promote, demote, notify, reload,
	// validate-all or meta-data.
	Action   string
	Interval time.Duration
	// Timeout bounds the operation; when it passes the agent's process
	// group is killed and the result is StatusTimedOut.
	Timeout time.Duration
	// Params are the instance attributes (OCF_RESKEY_<name>).
	Params map[string]string
	// Meta are meta attributes passed as OCF_RESKEY_CRM_meta_<name> (with
	// dashes turned into underscores), as Pacemaker does for clone_max,
	// notify_type and friends. interval and timeout are added from the
	// fields above.
	Meta map[string]string
	// CheckLevel is the monitor depth (OCF_CHECK_LEVEL); 0 is the default.
	CheckLevel int
}

// Result is how an operation ended.
type Result struct {
	Op     Op
	RC     RC
	Status Status
	// ExitReason is the agent's one-line explanation ("ocf-exit-reason:"
	// lines on stderr), shown by hactl status next to a failure.
	ExitReason string
	// Output is what the agent printed, truncated to a few KiB; for
	// meta-data it is the XML.
	Output string
	// Duration is how long the operation ran, measured by the executor.
	Duration time.Duration
	// Attributes are node attributes the agent asks to set for its node,
	// the way ocf:pacemaker:ping calls attrd_updater to set pingd; the node
	// applies them through its attribute manager.
	Attributes map[string]string
}

// OK reports whether the result is the success its action expects: 0 for
// most actions; for a monitor also "not running" counts as a clean answer
// (the caller compares it with what it expected), as do the promoted codes.
func (r Result) OK() bool {
	if r.Status != StatusDone {
		return false
	}
	switch r.RC {
	case RCOK:
		return true
	case RCNotRunning, RCRunningPromoted:
		return r.Op.Action == "monitor"
	}
	return false
}

// Available is an agent the executor can run, for `hactl ra list`.
type Available struct {
	Agent Agent
	// Source is "script" for an executable under the OCF root or a fence
	// agent in the fence agent directory, "built-in" for a Go agent,
	// "simulated" for the simulator's agents.
	Source string
	// Path is the script's path for Source "script".
	Path string
}

// Executor runs agent operations for one node. Both methods are called on
// the node's event loop; done is called exactly once per Exec, also on the
// loop and never from inside Exec itself, so the caller may Exec again from
// done. Operations on one resource run one at a time in the order they were
// given (as Pacemaker's executor does); operations on different resources
// run concurrently.
type Executor interface {
	Exec(op Op, done func(Result))
	// Cancel ends the pending and running operations of a resource: queued
	// ones complete with StatusCancelled without running, a running one has
	// its process group killed and completes with StatusCancelled.
	Cancel(resource string)
	// Agents lists what this executor can run, sorted by agent name.
	Agents() ([]Available, error)
}
