package sched

import (
	"slices"
	"strconv"
	"strings"

	"github.com/hakit/hakit/crm/cib"
)

// table is a resource's node scores, indexed by node.idx. An entry that is
// not in the table is a node the resource may not even consider (an
// asymmetric cluster's node no location constraint allows).
type table []entry

type entry struct {
	w  cib.Score
	in bool
	// why is the score's history, kept only by Explain: the newest step's
	// number in scheduler.notes (0: none). Steps are never changed, so a
	// cloned table (a colocation tried and rolled back, a clone instance's
	// backup) carries the history of exactly the score it holds. A number,
	// not a pointer, keeps tables free of pointers: the garbage collector
	// never scans them and Schedule pays nothing for Explain.
	why int32
}

func newTable(n int) table { return make(table, n) }

func (t table) clone() table { return append(table(nil), t...) }

// add is the one way a score grows; the scheduler calls it through
// addScore, so that Explain sees every step.
func (t table) add(i int, w cib.Score) {
	if !t[i].in {
		t[i].w, t[i].in = w, true
		return
	}
	t[i].w = t[i].w.Add(w)
}

// anyAvailable is pcmk__any_node_available: some node in the table can run
// resources and has a non-negative score.
func (s *scheduler) anyAvailable(t table) bool {
	for i, e := range t {
		if e.in && e.w >= 0 && s.nodes[i].available() {
			return true
		}
	}
	return false
}

// unpackStatus reads where each primitive runs now from the operation
// history of every node whose history counts: online nodes, and unclean
// ones (what ran there still runs until the node is fenced). A cleanly
// stopped node runs nothing.
func (s *scheduler) unpackStatus() error {
	if s.c.Status == nil {
		return nil
	}
	for _, ns := range s.c.Status.NodeStates {
		n := s.byKey[ns.Uname]
		if n == nil {
			n = s.byKey[ns.ID]
		}
		if n == nil || !(n.online || n.unclean) {
			continue
		}
		for _, r := range s.top {
			s.unpackOn(n, r)
		}
	}
	s.unpackOrphans()
	// What runs on an unclean node that cannot be fenced stays there as
	// far as the cluster knows: starting it elsewhere could run it twice.
	for _, p := range s.prims {
		for _, n := range p.running {
			if n.unclean && !s.fenceable() {
				p.blocked = true
			}
		}
	}
	return nil
}

// history is the status section's record of resource id on n, read once
// per node.
func (s *scheduler) history(n *node, id string) cib.History {
	if n.histories == nil {
		n.histories = s.c.Histories(n.name)
		if len(n.histories) == 0 && n.id != "" {
			n.histories = s.c.Histories(n.id)
		}
	}
	return n.histories[id]
}

// fenceable reports whether unclean nodes can be fenced: fencing is on,
// a device is configured, this partition has quorum (or ignores its loss),
// and the cluster is not in maintenance mode (which, in Pacemaker, leaves
// an unclean node unclean rather than fence it; a single node's
// maintenance does not).
func (s *scheduler) fenceable() bool {
	return s.stonithEnabled && s.haveStonith && !s.maintenance && (s.quorate || s.quorumPolicy == policyIgnore)
}

func (s *scheduler) unpackOn(n *node, r *resource) {
	switch r.kind {
	case rscPrimitive:
		s.record(n, r, s.history(n, r.id))
	case rscGroup:
		for _, ch := range r.children {
			s.unpackOn(n, ch)
		}
	case rscClone:
		if !r.anonymous {
			for _, inst := range r.children {
				s.unpackOn(n, inst)
			}
			return
		}
		if len(r.children) == 0 {
			return // clone-max=0: nothing of it runs by configuration
		}
		// An anonymous clone's history is under the configured ids; the
		// instance that holds it is the first one not yet active anywhere.
		hist := map[string]cib.History{}
		any := false
		for _, p := range r.children[0].primitives() {
			h := s.history(n, p.confID)
			if h.State.Active() {
				any = true
			}
			hist[p.confID] = h
		}
		if !any {
			// A record of it stopped here belongs, in Pacemaker, to the
			// first instance not active so far: that instance is known
			// here (which decides where its promotion score counts).
			for _, inst := range r.children {
				if inst.active() {
					continue
				}
				for _, p := range inst.primitives() {
					if hist[p.confID].Recorded() {
						p.knownIdle = append(p.knownIdle, n)
					}
				}
				break
			}
			return
		}
		for _, inst := range r.children {
			if inst.active() {
				continue
			}
			for _, p := range inst.primitives() {
				s.record(n, p, hist[p.confID])
			}
			return
		}
		// More active than clone-max: an orphan instance, stopped.
		inst, err := s.build(r.childConf, r, ":"+strconv.Itoa(len(r.children)))
		if err != nil || inst == nil {
			s.warnf("clone %s: an instance beyond clone-max on %s cannot be tracked: %v", r.id, n.name, err)
			return
		}
		inst.orphan = true
		r.children = append(r.children, inst)
		for _, p := range inst.primitives() {
			p.orphan = true
			p.nextRole = cib.RoleStopped
			s.record(n, p, hist[p.confID])
		}
	}
}

func (s *scheduler) record(n *node, p *resource, h cib.History) {
	// on-fail=stop and standby last as long as the failure is recorded,
	// whatever happened after it (a cleanup ends them), as in Pacemaker.
	if f := h.LastFailure; f != nil && f.Operation != "stop" {
		switch s.onFail(p, f) {
		case "stop":
			p.targetRole = cib.RoleStopped
		case "standby":
			n.standby = true
		}
	}
	if !h.State.Active() {
		return
	}
	role := cib.RoleStarted
	if h.State == cib.StatePromoted || (h.State == cib.StateFailed && h.Role == cib.RolePromoted) {
		role = cib.RolePromoted
	}
	if h.State == cib.StateFailed && h.Last != nil && h.Last.Operation != "stop" {
		// on-fail of the operation that failed decides the recovery.
		switch s.onFail(p, h.Last) {
		case "ignore":
			h.State = cib.StateStarted
			if role == cib.RolePromoted {
				h.State = cib.StatePromoted
			}
		case "block":
			p.blocked = true
		case "fence":
			if s.stonithEnabled {
				n.unclean = true
			} else {
				p.blocked = true // nothing can make it safe
			}
		}
	}
	if h.State == cib.StateFailed {
		p.failed = true
		if h.Last != nil && h.Last.Operation == "stop" {
			if s.stonithEnabled {
				// The node may still run it: only fencing makes it safe.
				n.unclean = true
			} else {
				// A failed stop without fencing: nothing can be done safely.
				p.blocked = true
			}
		}
	}
	if n.maint {
		p.blocked = true // a maintenance node's resources are left alone
	}
	p.running = append(p.running, n)
	p.runRoles = append(p.runRoles, role)
	p.runMonitors = append(p.runMonitors, h.Monitors)
	if len(p.running) == 1 {
		p.role = role
	}
}

// onFail is the on-fail of the configured operation op recorded, ""
// (restart) when it has none.
func (s *scheduler) onFail(p *resource, op *cib.LRMOp) string {
	if p.prim == nil {
		return ""
	}
	for _, o := range p.prim.Ops {
		if o.Name != op.Operation {
			continue
		}
		iv, err := o.IntervalValue()
		if err == nil && iv.Milliseconds() == op.IntervalMS {
			return strings.ToLower(o.OnFail)
		}
	}
	return ""
}

// unpackOrphans finds resources the history shows active that the
// configuration no longer has (deleted primitives, unique clone
// instances beyond clone-max): Pacemaker stops them, and so does hakit.
func (s *scheduler) unpackOrphans() {
	known := map[string]bool{}
	for _, p := range s.prims {
		known[p.id] = true
		known[p.confID] = true
	}
	for _, n := range s.nodes {
		if !(n.online || n.unclean) {
			continue
		}
		s.history(n, "")
		ids := make([]string, 0, len(n.histories))
		for id := range n.histories {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			if known[id] || !n.histories[id].State.Active() {
				continue
			}
			p := s.orphanPrimitive(n, id)
			s.record(n, p, n.histories[id])
		}
	}
}

func (s *scheduler) orphanPrimitive(n *node, id string) *resource {
	for _, p := range s.prims {
		if p.orphan && p.id == id {
			return p
		}
	}
	prim := &cib.Primitive{ID: id}
	if ns := s.c.NodeState(n.name); ns != nil && ns.LRM != nil {
		for _, lr := range ns.LRM.Resources {
			if lr.ID == id {
				prim.Class, prim.Provider, prim.Type = lr.Class, lr.Provider, lr.Type
			}
		}
	}
	p := &resource{id: id, confID: id, kind: rscPrimitive, prim: prim, provisional: true,
		allowed: newTable(len(s.nodes)), role: cib.RoleStopped, nextRole: cib.RoleStopped,
		managed: !s.maintenance, unique: true, orphan: true, threshold: cib.Infinity}
	s.prims = append(s.prims, p)
	s.top = append(s.top, p)
	s.insts[id] = append(s.insts[id], p)
	return p
}
