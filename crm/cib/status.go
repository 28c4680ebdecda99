package cib

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// OCF exit codes, as recorded in lrm_rsc_op rc-code.
const (
	RCOK               = 0
	RCErrGeneric       = 1
	RCErrArgs          = 2
	RCErrUnimplemented = 3
	RCErrPerm          = 4
	RCErrInstalled     = 5
	RCErrConfigured    = 6
	RCNotRunning       = 7
	RCRunningPromoted  = 8
	RCFailedPromoted   = 9
	RCDegraded         = 190
	RCDegradedPromoted = 191
)

// Executor statuses, as recorded in lrm_rsc_op op-status.
const (
	OpPending      = -1
	OpDone         = 0
	OpCancelled    = 1
	OpTimeout      = 2
	OpNotSupported = 3
	OpError        = 4
	OpNotInstalled = 5
)

// NodeState returns the status entry of the node with the given name (or,
// failing that, id); nil when there is none.
func (c *CIB) NodeState(nameOrID string) *NodeState {
	if c.Status == nil {
		return nil
	}
	for i := range c.Status.NodeStates {
		if c.Status.NodeStates[i].Uname == nameOrID {
			return &c.Status.NodeStates[i]
		}
	}
	for i := range c.Status.NodeStates {
		if c.Status.NodeStates[i].ID == nameOrID {
			return &c.Status.NodeStates[i]
		}
	}
	return nil
}

// InMembership reports whether the node is in the cluster membership:
// in_ccm is "true" (or another true boolean), or, as Pacemaker 2.1.7 and
// later write it, a positive timestamp.
func (n *NodeState) InMembership() bool { return trueOrTimestamp(n.InCCM) }

// ControllerOnline reports whether the node's controller is up: crmd is
// "online", or a positive timestamp (Pacemaker 2.1.7 and later).
func (n *NodeState) ControllerOnline() bool {
	if n.Crmd == "online" {
		return true
	}
	v, err := strconv.ParseInt(n.Crmd, 10, 64)
	return err == nil && v > 0
}

// Online is what crm_mon calls online: in the membership, controller up,
// and joined.
func (n *NodeState) Online() bool {
	return n.InMembership() && n.ControllerOnline() && n.Join == "member"
}

func trueOrTimestamp(s string) bool {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v > 0
	}
	b, err := ParseBool(s)
	return err == nil && b
}

// Attrs flattens the transient attributes into a map.
func (t *TransientAttributes) Attrs() map[string]string {
	vals, err := Values(t.Sets, RuleInput{})
	if err != nil {
		// Transient sets carry no rules or scores in practice; read what
		// can be read set by set rather than lose them all.
		vals = map[string]string{}
		for _, s := range t.Sets {
			if v, err := Values([]NVSet{s}, RuleInput{}); err == nil {
				for k, x := range v {
					if _, ok := vals[k]; !ok {
						vals[k] = x
					}
				}
			}
		}
	}
	return vals
}

// RscState is what a node's operation history says about a resource.
type RscState int

const (
	// StateUnknown: no history the state can be read from (never probed
	// on this node, or only pending or cancelled operations).
	StateUnknown RscState = iota
	StateStopped
	// StateStarted: running; for a promotable clone instance, unpromoted.
	StateStarted
	StatePromoted
	// StateFailed: the last decisive operation failed in a way that may
	// have left the resource running (a failed start, stop, promote,
	// demote, or a monitor error). Pacemaker counts such a resource as
	// active and recovers it, stopping it first.
	StateFailed
)

func (s RscState) String() string {
	switch s {
	case StateStopped:
		return "Stopped"
	case StateStarted:
		return "Started"
	case StatePromoted:
		return "Promoted"
	case StateFailed:
		return "Failed"
	}
	return "Unknown"
}

// Active reports whether the state counts the resource as running on the
// node, as Pacemaker does when deciding whether to stop it.
func (s RscState) Active() bool {
	return s == StateStarted || s == StatePromoted || s == StateFailed
}

// History is one resource's state on one node as read from its operation
// history.
type History struct {
	State RscState
	// Role is the role the resource is in, or for StateFailed the role it
	// was in or going to (a failed promote leaves Promoted): where recovery
	// starts from.
	Role Role
	// Last is the completed operation that decided State; nil when none did.
	Last *LRMOp
	// LastFailure is the most recent failed operation, nil when none;
	// a later success does not clear it (it is history, as crm_mon's
	// "Failed Resource Actions").
	LastFailure *LRMOp
	// Pending is an operation in flight recorded after Last, if any.
	Pending *LRMOp
	// Monitors are the intervals (ms) of the recurring monitors recorded
	// since the resource last started, promoted or demoted: the ones
	// still running (a later start, promote or demote replaces them).
	Monitors []int64
}

// Recorded reports whether the node has any record of the resource at
// all (Pacemaker's known_on): an operation, even a probe that found it
// stopped.
func (h History) Recorded() bool { return h.Last != nil || h.Pending != nil || h.LastFailure != nil }

// History reads resource rsc's state on node (a name or id) from the
// status section. It implements this subset of Pacemaker's
// unpack_lrm_resource:
//
//   - the node's lrm_rsc_op entries for lrm_resource rsc (exact id; an
//     anonymous clone's history is under the primitive's id) are taken in
//     call-id order, ties in document order, pending ones (call-id -1) last;
//   - a pending operation (op-status -1) is returned in Pending; a
//     pending start or migrate_from already counts as Started and a pending
//     promote as Promoted (crm_mon shows "Starting"); cancelled ones
//     (op-status 1) and operations other than start, stop, promote, demote,
//     monitor, migrate_to and migrate_from (notify, reload, meta-data) are
//     skipped;
//   - a probe (monitor with interval 0) reports what it found: rc 0 or 190
//     Started, 8 or 191 Promoted, 7 Stopped; rc 5 (not installed, also as
//     op-status 5) is masked as Stopped, as Pacemaker masks it;
//   - a recurring monitor's rc 0/190 sets Started (a Promoted resource
//     stays Promoted), 8/191 Promoted; a mismatch with the expected rc in
//     the transition key (0 vs 8) is a failure too, with the state the rc
//     says; rc 7 is a failure (StateFailed: Pacemaker stops it before
//     starting it again) unless the transition key expected 7;
//   - start and migrate_from rc 0/190 set Started, migrate_to rc 0 Started
//     (still active on the source until stopped), promote rc 0 Promoted,
//     demote rc 0 Started, stop rc 0 or 7 Stopped;
//   - any other result (an rc of 1-6, 9 or unknown, or op-status timeout or
//     error) is a failure and sets StateFailed, with Role the role the
//     resource was in or was being taken to; rc 9 (failed promoted) keeps
//     Promoted;
//   - each operation read replaces the state, so a successful stop or a
//     definite monitor result after a failure ends StateFailed.
//
// Not implemented: on-fail handling (block, ignore, demote), failure
// expiry (failure-timeout), migration pairs across nodes, shutdown locks,
// and remote or guest node containers. The node's own state is not
// consulted: the caller combines History with NodeState.Online.
func (c *CIB) History(node, rsc string) History {
	ns := c.NodeState(node)
	if ns == nil || ns.LRM == nil {
		return History{}
	}
	var ops []*LRMOp
	for i := range ns.LRM.Resources {
		r := &ns.LRM.Resources[i]
		if r.ID != rsc {
			continue
		}
		for j := range r.Ops {
			ops = append(ops, &r.Ops[j])
		}
	}
	return historyOf(ops)
}

// Histories is History for every resource with a record on node, by
// resource id, in one pass over the node's history (History alone is a
// scan per call, which a scheduler asking for every resource on every
// node cannot afford).
func (c *CIB) Histories(node string) map[string]History {
	out := map[string]History{}
	ns := c.NodeState(node)
	if ns == nil || ns.LRM == nil {
		return out
	}
	byID := map[string][]*LRMOp{}
	var order []string
	for i := range ns.LRM.Resources {
		r := &ns.LRM.Resources[i]
		if _, ok := byID[r.ID]; !ok {
			order = append(order, r.ID)
		}
		for j := range r.Ops {
			byID[r.ID] = append(byID[r.ID], &r.Ops[j])
		}
		if byID[r.ID] == nil {
			byID[r.ID] = []*LRMOp{}
		}
	}
	for _, id := range order {
		out[id] = historyOf(byID[id])
	}
	return out
}

// historyOf reads one resource's operations (in document order) on one
// node.
func historyOf(ops []*LRMOp) History {
	var h History
	slices.SortStableFunc(ops, func(a, b *LRMOp) int {
		ka, kb := callOrder(a), callOrder(b)
		return cmp3(ka < kb, ka > kb)
	})
	role := RoleUnknown // what the history says so far
	for _, op := range ops {
		if op.OpStatus == OpPending || op.CallID < 0 {
			// An action in flight counts as already done for where the
			// resource is (crm_mon: "Starting"), so that nothing else is
			// placed on top of it; a pending stop or monitor changes
			// nothing yet.
			h.Pending = op
			if op.Operation == "monitor" && op.IntervalMS > 0 && !slices.Contains(h.Monitors, op.IntervalMS) {
				h.Monitors = append(h.Monitors, op.IntervalMS)
			}
			switch op.Operation {
			case "start", "migrate_from":
				h.State, h.Role, role = StateStarted, RoleStarted, RoleStarted
			case "promote":
				h.State, h.Role, role = StatePromoted, RolePromoted, RolePromoted
			}
			continue
		}
		if op.OpStatus == OpCancelled {
			continue
		}
		state, newRole, failed, ok := readOp(op, role)
		if !ok {
			continue
		}
		if op.Operation == "monitor" && op.IntervalMS > 0 {
			if !slices.Contains(h.Monitors, op.IntervalMS) {
				h.Monitors = append(h.Monitors, op.IntervalMS)
			}
		} else if op.Operation != "monitor" {
			h.Monitors = nil
		}
		h.State, h.Role, role, h.Last = state, newRole, newRole, op
		if failed {
			h.LastFailure = op
		}
		if h.Pending != nil && callOrder(h.Pending) < callOrder(op) {
			h.Pending = nil
		}
	}
	return h
}

// callOrder sorts pending operations (call-id -1) after completed ones.
func callOrder(op *LRMOp) int64 {
	if op.CallID < 0 {
		return 1 << 62
	}
	return int64(op.CallID)
}

// readOp interprets one completed operation given the role before it. ok
// is false for operations that say nothing about the state.
func readOp(op *LRMOp, before Role) (state RscState, role Role, failed, ok bool) {
	// A failure is reported from the role the resource was in, or Started
	// when it was not known to be running.
	failedFrom := before
	if before != RolePromoted && before != RoleUnpromoted {
		failedFrom = RoleStarted
	}
	// running keeps the unpromoted role of a promotable instance: a
	// monitor or migration says "running", not "no longer promotable".
	running := RoleStarted
	if before == RoleUnpromoted {
		running = RoleUnpromoted
	}
	rc := op.RCCode
	if op.Operation == "monitor" && op.IntervalMS == 0 && (rc == RCErrInstalled || op.OpStatus == OpNotInstalled) {
		return StateStopped, RoleStopped, false, true // a masked probe failure
	}
	switch op.Operation {
	case "start", "stop", "promote", "demote", "monitor", "migrate_to", "migrate_from":
	default:
		return 0, 0, false, false
	}
	if op.OpStatus != OpDone {
		if op.Operation == "promote" {
			failedFrom = RolePromoted
		}
		return StateFailed, failedFrom, true, true
	}
	switch op.Operation {
	case "monitor":
		recurring := op.IntervalMS > 0
		expected, known := targetRC(op.TransitionKey)
		switch rc {
		case RCOK, RCDegraded:
			// A monitor does not demote: a promoted resource whose
			// monitor returns 0 was simply monitored for the wrong role.
			mismatch := recurring && known && expected == RCRunningPromoted
			if before == RolePromoted {
				return StatePromoted, RolePromoted, mismatch, true
			}
			return StateStarted, running, mismatch, true
		case RCRunningPromoted, RCDegradedPromoted:
			return StatePromoted, RolePromoted, recurring && known && expected == RCOK, true
		case RCNotRunning:
			// A recurring monitor finding the resource gone is a failure
			// Pacemaker recovers with a stop first (crm_mon: FAILED), unless
			// "not running" is what the monitor was for (role=Stopped).
			if recurring && !(known && expected == RCNotRunning) {
				return StateFailed, failedFrom, true, true
			}
			return StateStopped, RoleStopped, false, true
		case RCFailedPromoted:
			return StateFailed, RolePromoted, true, true
		}
		return StateFailed, failedFrom, true, true
	case "start", "migrate_from":
		if rc == RCOK || rc == RCDegraded {
			return StateStarted, RoleStarted, false, true
		}
		return StateFailed, RoleStarted, true, true
	case "migrate_to":
		if rc == RCOK {
			return StateStarted, running, false, true
		}
	case "promote":
		if rc == RCOK {
			return StatePromoted, RolePromoted, false, true
		}
		return StateFailed, RolePromoted, true, true
	case "demote":
		if rc == RCOK {
			return StateStarted, RoleUnpromoted, false, true
		}
		return StateFailed, RolePromoted, true, true
	case "stop":
		if rc == RCOK || rc == RCNotRunning {
			return StateStopped, RoleStopped, false, true
		}
	}
	return StateFailed, failedFrom, true, true
}

// targetRC reads the expected rc from a transition key
// "action:transition:target-rc:uuid".
func targetRC(key string) (int, bool) {
	parts := strings.SplitN(key, ":", 4)
	if len(parts) != 4 {
		return 0, false
	}
	v, err := strconv.Atoi(parts[2])
	return v, err == nil
}

// FailCount sums resource rsc's fail counts on node from the transient
// attributes, as Pacemaker's pe_get_failcount does: fail-count-<rsc> (the
// pre-2.0 form) and every fail-count-<rsc>#<op>_<interval>, including those
// of anonymous clone instances <rsc>:<n>, with saturating score
// arithmetic. last is the latest last-failure-* timestamp (epoch seconds),
// 0 when none. A value that is not a score is an error naming it.
func (c *CIB) FailCount(node, rsc string) (count Score, last int64, err error) {
	ns := c.NodeState(node)
	if ns == nil || ns.Transient == nil {
		return 0, 0, nil
	}
	attrs := ns.Transient.Attrs()
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	slices.Sort(names) // the sum does not depend on order, but the first error reported does
	for _, name := range names {
		v := attrs[name]
		if rest, ok := strings.CutPrefix(name, "fail-count-"); ok && failKeyMatches(rest, rsc) {
			s, perr := ParseScore(v)
			if perr != nil {
				return 0, 0, fmt.Errorf("node %s: transient attribute %s: %w", quote(node), name, perr)
			}
			count = count.Add(s)
		}
		if rest, ok := strings.CutPrefix(name, "last-failure-"); ok && failKeyMatches(rest, rsc) {
			t, perr := strconv.ParseInt(v, 10, 64)
			if perr != nil {
				return 0, 0, fmt.Errorf("node %s: transient attribute %s: %s is not a timestamp", quote(node), name, quote(v))
			}
			last = max(last, t)
		}
	}
	return count, last, nil
}

// failKeyMatches reports whether key ("rsc", "rsc#op_interval", "rsc:0",
// "rsc:0#op_interval") belongs to resource rsc.
func failKeyMatches(key, rsc string) bool {
	id, _, _ := strings.Cut(key, "#")
	if id == rsc {
		return true
	}
	inst, ok := strings.CutPrefix(id, rsc+":")
	if !ok || inst == "" {
		return false
	}
	for _, r := range inst {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
