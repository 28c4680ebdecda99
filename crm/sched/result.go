package sched

import (
	"slices"
	"time"

	"github.com/hakit/hakit/crm/cib"
)

// Input is everything the scheduler reads. The CIB's status section says
// what runs where now; nothing else is consulted (no clock, no disk).
type Input struct {
	CIB *cib.CIB
	// Quorum, when set, overrides the CIB's have-quorum attribute (which
	// is read as Pacemaker reads it: absent means no quorum).
	Quorum *bool
	// Now is the current time in epoch seconds, for failure-timeout; 0
	// means failures never expire.
	Now int64
}

// NodeState is a node's state as crm_mon names it.
type NodeState string

const (
	NodeOnline      NodeState = "online"
	NodeOffline     NodeState = "offline"
	NodeStandby     NodeState = "standby"
	NodeMaintenance NodeState = "maintenance"
	NodeUnclean     NodeState = "unclean"
	NodePending     NodeState = "pending"
)

// Node is one cluster node as the scheduler sees it.
type Node struct {
	Name  string
	ID    string
	State NodeState
}

// Instance is one resource instance on one node: a primitive, a group
// member, or one instance of a clone.
type Instance struct {
	// ID is the instance's id as Pacemaker prints it: the primitive's id,
	// or "<primitive>:<n>" for a clone instance.
	ID string
	// Primitive is the configured primitive's id.
	Primitive string
	// Clone is the enclosing clone's id, "" when none; Group the enclosing
	// group's id.
	Clone, Group string
	Node         string
	// Role is Started, Unpromoted or Promoted.
	Role cib.Role
	// Failed: the operation history shows a failure the cluster has not
	// recovered from. Unmanaged: the cluster may not act on it
	// (is-managed=false, maintenance). Blocked: on-fail=block or a failed
	// stop without fencing left it where it is.
	Failed, Unmanaged, Blocked bool
}

// Task is an action's verb.
type Task string

const (
	TaskStart   Task = "start"
	TaskStop    Task = "stop"
	TaskMonitor Task = "monitor"
	TaskPromote Task = "promote"
	TaskDemote  Task = "demote"
	TaskFence   Task = "fence"
)

// Action is one step of the transition.
type Action struct {
	// ID numbers actions within one Result; After refers to them.
	ID int
	// Resource is the instance id (see Instance.ID); for a fence action,
	// the node being fenced.
	Resource string
	// Primitive is the configured primitive's id ("" for fencing).
	Primitive string
	Task      Task
	Node      string
	// Interval is a recurring monitor's interval; 0 for a probe and for
	// every other task.
	Interval time.Duration
	// After lists the IDs of the actions that must complete before this
	// one may start (the action graph's edges).
	After []int
}

// Result is the scheduler's answer: the cluster now, the actions to take,
// and the cluster after they all succeed.
type Result struct {
	// Nodes now, sorted by name.
	Nodes []Node
	// FinalNodes after the transition: fenced nodes are offline.
	FinalNodes []Node
	// Current and Final are sorted by (ID, Node).
	Current []Instance
	Final   []Instance
	// Actions in an order that respects every edge.
	Actions []Action
	// Scores holds each primitive instance's final node scores, by
	// instance id then node name (what `crm_simulate -s` shows).
	Scores map[string]map[string]cib.Score
	// Warnings are things an admin should know (a resource that cannot run
	// anywhere, fencing enabled without a fence device, ...).
	Warnings []string
}

// Placement is a cluster's resource placement in the shape `hactl
// simulate --format json` prints and the differential test compares.
type Placement struct {
	Resources map[string]RscPlacement `json:"resources"`
	Nodes     map[string]NodeState    `json:"nodes"`
}

// RscPlacement is where one primitive (or group member) or one clone
// runs. Nodes has one entry per running instance, sorted, and is empty
// (not nil) when the resource is stopped.
type RscPlacement struct {
	State    string   `json:"state"`
	Nodes    []string `json:"nodes"`
	Promoted []string `json:"promoted,omitempty"`
}

// PlacementOf reduces instances and nodes to a Placement. A primitive and
// a group member are keyed by their own id, a clone's instances (of a
// primitive or of a cloned group's members) under the clone's id. Every
// configured resource appears, stopped when it has no instance.
func PlacementOf(c *cib.CIB, instances []Instance, nodes []Node) Placement {
	p := Placement{Resources: map[string]RscPlacement{}, Nodes: map[string]NodeState{}}
	for _, n := range nodes {
		p.Nodes[n.Name] = n.State
	}
	var walk func(r cib.Resource, clone string)
	walk = func(r cib.Resource, clone string) {
		switch r := r.(type) {
		case *cib.Primitive:
			key := r.ID
			if clone != "" {
				key = clone
			}
			if _, ok := p.Resources[key]; !ok {
				p.Resources[key] = RscPlacement{State: "stopped", Nodes: []string{}}
			}
		case *cib.Group:
			for _, ch := range r.Children {
				walk(ch, clone)
			}
		case *cib.Clone:
			if r.Child != nil {
				walk(r.Child, r.ID)
			}
		}
	}
	for _, r := range c.Config.Resources {
		walk(r, "")
	}
	// A cloned group has one entry per member instance, so count each
	// (clone instance, node) once: the group's first member stands for it.
	seen := map[string]bool{}
	for _, in := range instances {
		key := in.Primitive
		if in.Clone != "" {
			key = in.Clone
			slot := in.Clone + "\x00" + instanceNumber(in.ID) + "\x00" + in.Node
			if seen[slot] {
				continue
			}
			seen[slot] = true
		}
		rp := p.Resources[key]
		rp.State = "started"
		rp.Nodes = append(rp.Nodes, in.Node)
		if in.Role == cib.RolePromoted {
			rp.Promoted = append(rp.Promoted, in.Node)
		}
		p.Resources[key] = rp
	}
	for k, rp := range p.Resources {
		if rp.Nodes == nil {
			rp.Nodes = []string{}
		}
		slices.Sort(rp.Nodes)
		slices.Sort(rp.Promoted)
		p.Resources[k] = rp
	}
	return p
}

// instanceNumber is the ":n" suffix of a clone instance id, "" when none.
func instanceNumber(id string) string {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == ':' {
			return id[i+1:]
		}
	}
	return ""
}

// Placement is the placement after the transition.
func (r *Result) Placement(c *cib.CIB) Placement { return PlacementOf(c, r.Final, r.FinalNodes) }

// CurrentPlacement is the placement before the transition.
func (r *Result) CurrentPlacement(c *cib.CIB) Placement {
	return PlacementOf(c, r.Current, r.Nodes)
}
