package sched

import (
	"fmt"

	"github.com/hakit/hakit/crm/cib"
)

// Apply returns a copy of c whose status section records the transition
// in r as having succeeded, as `crm_simulate -S` does: fenced nodes are
// down with no history; on every online node each primitive's history says
// where it runs (a start, plus a promote when promoted) or that it does not
// (a probe that found it stopped). Fail counts and other transient
// attributes are kept. c is not changed.
//
// Scheduling Apply's result again is the scheduler's fixed-point check:
// nothing should be left to do.
func Apply(c *cib.CIB, r *Result) *cib.CIB {
	out := c.Clone()
	if out.Status == nil {
		out.Status = &cib.Status{}
	}
	final := map[string]map[string]Instance{} // node → history id → instance
	for _, in := range r.Final {
		id := in.ID
		if in.Clone != "" && isAnonymous(c, in.Clone) {
			id = in.Primitive
		}
		if final[in.Node] == nil {
			final[in.Node] = map[string]Instance{}
		}
		final[in.Node][id] = in
	}
	state := map[string]NodeState{}
	for _, n := range r.FinalNodes {
		state[n.Name] = n.State
	}
	prims := primitivesOf(c)
	call := 1000
	for _, n := range r.FinalNodes {
		ns := findNodeState(out, n.Name, n.ID)
		if n.State == NodeOffline || n.State == NodeUnclean || n.State == NodePending {
			if ns != nil && wasFenced(r, n.Name) {
				ns.InCCM, ns.Crmd, ns.Join, ns.Expected = "false", "offline", "down", "down"
				ns.LRM = nil
				ns.Transient = nil
			}
			continue
		}
		if ns == nil {
			out.Status.NodeStates = append(out.Status.NodeStates, cib.NodeState{ID: n.ID, Uname: n.Name,
				InCCM: "true", Crmd: "online", Join: "member", Expected: "member"})
			ns = &out.Status.NodeStates[len(out.Status.NodeStates)-1]
		}
		lrm := &cib.LRM{ID: n.ID}
		if ns.LRM != nil {
			lrm.ID = ns.LRM.ID
		}
		for _, p := range prims {
			for _, id := range historyIDs(c, p) {
				res := cib.LRMResource{ID: id, Class: p.Class, Provider: p.Provider, Type: p.Type}
				op := func(task string, rc int, interval int64) cib.LRMOp {
					call++
					key := fmt.Sprintf("%s_%s_%d", id, task, interval)
					return cib.LRMOp{ID: key, OperationKey: key, Operation: task, CallID: call, RCCode: rc,
						IntervalMS: interval, OnNode: n.Name,
						TransitionKey: fmt.Sprintf("1:1:%d:00000000-0000-0000-0000-000000000000", rc)}
				}
				if in, ok := final[n.Name][id]; ok {
					res.Ops = append(res.Ops, op("start", cib.RCOK, 0))
					if in.Role == cib.RolePromoted {
						res.Ops = append(res.Ops, op("promote", cib.RCOK, 0))
					}
				} else {
					res.Ops = append(res.Ops, op("monitor", cib.RCNotRunning, 0))
				}
				res.Ops[len(res.Ops)-1].ID = id + "_last_0"
				lrm.Resources = append(lrm.Resources, res)
			}
		}
		ns.LRM = lrm
	}
	return out
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

func primitivesOf(c *cib.CIB) []*cib.Primitive {
	var out []*cib.Primitive
	var walk func(r cib.Resource)
	walk = func(r cib.Resource) {
		switch r := r.(type) {
		case *cib.Primitive:
			out = append(out, r)
		case *cib.Group:
			for _, ch := range r.Children {
				walk(ch)
			}
		case *cib.Clone:
			if r.Child != nil {
				walk(r.Child)
			}
		}
	}
	for _, r := range c.Config.Resources {
		walk(r)
	}
	return out
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
