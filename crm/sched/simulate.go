package sched

import (
	"fmt"
	"slices"

	"github.com/hakit/hakit/crm/cib"
)

// Apply returns a copy of c whose status section records every action of
// r as having succeeded, as `crm_simulate -S` does: each action appends an
// operation result to the history of the resource on its node (a start,
// stop, promote or demote with rc 0; a probe finding the resource stopped;
// a recurring monitor finding it in its role), and a fenced node leaves the
// membership with its history and transient attributes cleared. Fail counts
// elsewhere are kept, as the cluster keeps them. c is not changed.
//
// Scheduling Apply's result again is the scheduler's fixed-point check:
// nothing should be left to do.
func Apply(c *cib.CIB, r *Result) *cib.CIB {
	out := c.Clone()
	if out.Status == nil {
		out.Status = &cib.Status{}
	}
	ids := map[string]string{}
	for _, n := range r.Nodes {
		ids[n.Name] = n.ID
	}
	call := 0
	for _, ns := range out.Status.NodeStates {
		if ns.LRM == nil {
			continue
		}
		for _, res := range ns.LRM.Resources {
			for _, op := range res.Ops {
				call = max(call, op.CallID)
			}
		}
	}
	promoted := map[string]bool{} // instance\x00node promoted after the transition
	for _, in := range r.Final {
		if in.Role == cib.RolePromoted {
			promoted[in.ID+"\x00"+in.Node] = true
		}
	}
	for _, a := range r.Actions {
		if a.Task == TaskFence {
			RecordFenced(out, a.Node, ids[a.Node])
			continue
		}
		rc := cib.RCOK
		switch {
		case a.Task == TaskMonitor && a.Interval == 0:
			rc = cib.RCNotRunning
		case a.Task == TaskMonitor && promoted[a.Resource+"\x00"+a.Node]:
			rc = cib.RCRunningPromoted
		}
		call++
		Record(out, ids[a.Node], a, Outcome{RC: rc, ExpectedRC: rc, Call: call})
	}
	return out
}

// Outcome is how an action ended, as the status section records it.
type Outcome struct {
	RC int // the agent's exit code
	// ExpectedRC is what the transition expected (7 for a probe that
	// assumed the resource stopped); a different RC is a failure.
	ExpectedRC int
	// OpStatus is the executor's status: 0 done, 1 cancelled, 2 timed out,
	// 4 error, 7 not installed (Pacemaker's PCMK_EXEC_* numbers).
	OpStatus   int
	Call       int
	ExitReason string
	// Transition numbers the transition the action belonged to.
	Transition int
	// At is when the result came, in epoch seconds (0: not recorded).
	At int64
}

// Failed reports whether the outcome is a failure of the action.
func (o Outcome) Failed() bool { return o.OpStatus != 0 || o.RC != o.ExpectedRC }

// Record writes the outcome of resource action a (not a fencing) into c's
// status section under node a.Node (nodeID is its id, for a node_state not
// yet there), as the controller does when an operation completes: one
// record per operation key, the newest, and a failure also as the
// resource's last failure. An anonymous clone's history is kept under the
// configured primitive's id, as Pacemaker keeps it.
func Record(c *cib.CIB, nodeID string, a Action, o Outcome) {
	if c.Status == nil {
		c.Status = &cib.Status{}
	}
	r, _ := c.Resource(a.Primitive)
	p, _ := r.(*cib.Primitive)
	if p == nil {
		return
	}
	ns := findNodeState(c, a.Node, nodeID)
	if ns == nil {
		c.Status.NodeStates = append(c.Status.NodeStates, cib.NodeState{ID: nodeID, Uname: a.Node,
			InCCM: "true", Crmd: "online", Join: "member", Expected: "member"})
		ns = &c.Status.NodeStates[len(c.Status.NodeStates)-1]
	}
	if ns.LRM == nil {
		ns.LRM = &cib.LRM{ID: ns.ID}
	}
	hid := HistoryID(c, a.Resource, p.ID)
	var res *cib.LRMResource
	for i := range ns.LRM.Resources {
		if ns.LRM.Resources[i].ID == hid {
			res = &ns.LRM.Resources[i]
		}
	}
	if res == nil {
		ns.LRM.Resources = append(ns.LRM.Resources, cib.LRMResource{ID: hid, Class: p.Class, Provider: p.Provider, Type: p.Type})
		res = &ns.LRM.Resources[len(ns.LRM.Resources)-1]
	}
	iv := a.Interval.Milliseconds()
	key := fmt.Sprintf("%s_%s_%d", hid, a.Task, iv)
	id := hid + "_last_0"
	if iv > 0 {
		id = key
	}
	tkey := fmt.Sprintf("%d:%d:%d:00000000-0000-0000-0000-000000000000", a.ID, o.Transition, o.ExpectedRC)
	op := cib.LRMOp{ID: id, OperationKey: key, Operation: string(a.Task), CallID: o.Call, RCCode: o.RC,
		OpStatus: o.OpStatus, IntervalMS: iv, OnNode: a.Node, LastRCChange: o.At, ExitReason: o.ExitReason,
		TransitionKey: tkey, TransitionMagic: fmt.Sprintf("%d:%d;%s", o.OpStatus, o.RC, tkey)}
	// Like the executor, keep one record per id: the newest.
	res.Ops = slices.DeleteFunc(res.Ops, func(x cib.LRMOp) bool { return x.ID == id })
	res.Ops = append(res.Ops, op)
	if o.Failed() && !(a.Task == TaskMonitor && iv == 0) {
		failure := op
		failure.ID = hid + "_last_failure_0"
		res.Ops = slices.DeleteFunc(res.Ops, func(x cib.LRMOp) bool { return x.ID == failure.ID })
		res.Ops = append(res.Ops, failure)
	}
}

// RecordFenced writes into c's status section that node name (id) was
// fenced: it is cleanly down, its resource history and transient
// attributes (its fail counts among them) gone.
func RecordFenced(c *cib.CIB, name, id string) {
	if c.Status == nil {
		c.Status = &cib.Status{}
	}
	ns := findNodeState(c, name, id)
	if ns == nil {
		// Never seen before the fencing: now known to be down.
		c.Status.NodeStates = append(c.Status.NodeStates, cib.NodeState{ID: id, Uname: name})
		ns = &c.Status.NodeStates[len(c.Status.NodeStates)-1]
	}
	ns.InCCM, ns.Crmd, ns.Join, ns.Expected = "false", "offline", "down", "down"
	ns.LRM, ns.Transient = nil, nil
}

// cloneOf finds the clone a primitive is in, if any.
func cloneOf(c *cib.CIB, id string) (cib.Resource, *cib.Clone) {
	r, ancestors := c.Resource(id)
	for _, a := range ancestors {
		if cl, ok := a.(*cib.Clone); ok {
			return r, cl
		}
	}
	return r, nil
}

func wasFenced(r *Result, name string) bool {
	for _, a := range r.Actions {
		if a.Task == TaskFence && a.Node == name {
			return true
		}
	}
	return false
}

func findNodeState(c *cib.CIB, name, id string) *cib.NodeState {
	for i := range c.Status.NodeStates {
		if c.Status.NodeStates[i].Uname == name {
			return &c.Status.NodeStates[i]
		}
	}
	for i := range c.Status.NodeStates {
		if id != "" && c.Status.NodeStates[i].ID == id {
			return &c.Status.NodeStates[i]
		}
	}
	return nil
}

// HistoryID is the id the status section (and the executor) knows an
// instance of primitive by: an anonymous clone's instances are all the
// configured primitive, as Pacemaker records them (a node runs at most
// one of them, whatever number the scheduler gave it); anything else is
// the instance id.
func HistoryID(c *cib.CIB, instance, primitive string) string {
	if _, cl := cloneOf(c, primitive); cl != nil && isAnonymous(c, cl.ID) {
		return primitive
	}
	return instance
}

func isAnonymous(c *cib.CIB, cloneID string) bool {
	r, _ := c.Resource(cloneID)
	cl, ok := r.(*cib.Clone)
	if !ok {
		return false
	}
	m, err := c.Meta(cl.ID, cib.RuleInput{})
	if err != nil {
		return true
	}
	u, err := m.GloballyUnique()
	return err != nil || !u
}

// historyIDs are the lrm_resource ids a primitive's history is kept
// under: its id, or one per instance for a globally unique clone.
func historyIDs(c *cib.CIB, p *cib.Primitive) []string {
	_, ancestors := c.Resource(p.ID)
	for _, a := range ancestors {
		cl, ok := a.(*cib.Clone)
		if !ok || isAnonymous(c, cl.ID) {
			continue
		}
		m, _ := c.Meta(cl.ID, cib.RuleInput{})
		max, err := m.CloneMax(len(c.Config.Nodes))
		if err != nil {
			break
		}
		ids := make([]string, max)
		for i := range ids {
			ids[i] = fmt.Sprintf("%s:%d", p.ID, i)
		}
		return ids
	}
	return []string{p.ID}
}
