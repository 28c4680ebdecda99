package sched

import (
	"fmt"
	"slices"
	"time"

	"github.com/hakit/hakit/crm/cib"
)

// willRun reports whether r ends up running: a primitive assigned, a group
// with every member assigned, a clone with some instance assigned.
func (s *scheduler) willRun(r *resource) bool {
	switch r.kind {
	case rscGroup:
		for _, ch := range r.children {
			if !s.willRun(ch) {
				return false
			}
		}
		return len(r.children) > 0
	case rscClone:
		for _, ch := range r.children {
			if s.willRun(ch) {
				return true
			}
		}
		return false
	}
	// A failed resource left where it is cannot be started again, so
	// nothing may rely on its start.
	return r.assigned != nil && !(r.failed && r.blocked)
}

func (s *scheduler) willBePromoted(r *resource) bool {
	for _, p := range r.primitives() {
		if p.assigned != nil && p.nextRole == cib.RolePromoted {
			return true
		}
	}
	return false
}

// needsStart reports whether p must be started where it is assigned.
func needsStart(p *resource) bool {
	if p.assigned == nil {
		return false
	}
	return !slices.Contains(p.running, p.assigned) || p.failed || len(p.running) > 1
}

// blockStarts withdraws what cannot happen because of what it depends on:
// a start ordered (mandatory) after something that will not run, and a
// start colocated (INFINITY) with something that will not run there.
// Pacemaker marks such actions unrunnable after assignment; the resource
// then stays stopped (or stops, when what it depends on stops).
func (s *scheduler) blockStarts() {
	stop := func(p *resource, why reason) {
		if p.assigned != nil {
			p.assigned.assigned--
		}
		p.assigned = nil
		p.nextRole = cib.RoleStopped
		s.withdraw(p, why)
	}
	// A start waits for the resource's probes on every node, and a pending
	// node (up, not joined) cannot run them: Pacemaker blocks the start of
	// a resource never probed there, unless the resource (or its group or
	// clone) is already active somewhere, which it does not disturb. A
	// clone starts after all its probes, so one member never probed there
	// holds back every instance.
	for _, p := range s.prims {
		if p.assigned == nil || !s.canAct(p) || p.top().active() {
			continue
		}
		unprobed := []*resource{p}
		if cl := p.cloneParent(); cl != nil {
			unprobed = cl.primitives()
		}
		if slices.ContainsFunc(unprobed, s.unprobedOnPendingNode) {
			stop(p, reason{cause: CauseNode, sub: subPending})
		}
	}
	for changed := true; changed; {
		changed = false
		for _, o := range s.orders {
			if o.kind != cib.Mandatory || o.symmetry == orderInverse {
				continue
			}
			var ok bool
			switch o.firstAction {
			case TaskStart:
				ok = s.willRun(o.first)
			case TaskPromote:
				ok = s.willBePromoted(o.first)
			default:
				continue
			}
			if ok {
				continue
			}
			for _, p := range o.then.primitives() {
				if p.assigned == nil || !s.canAct(p) {
					continue
				}
				why := reason{cause: CauseOrder, id: o.id, other: o.first, ord: o}
				if o.internal != nil {
					why.cause, why.via, why.id = CauseGroup, o.internal, o.internal.id
				}
				switch o.thenAction {
				case TaskStart:
					if o.symmetry == orderSymmetric || needsStart(p) {
						stop(p, why)
						changed = true
					}
				case TaskPromote:
					if p.nextRole == cib.RolePromoted && !(p.role == cib.RolePromoted && slices.Contains(p.running, p.assigned)) {
						p.nextRole = cib.RoleUnpromoted
						s.withdraw(p, why)
						changed = true
					}
				}
			}
		}
		// A stop ordered after one that cannot happen cannot happen either
		// (a group's members stop last to first): what would have stopped
		// stays where it is.
		for _, o := range s.orders {
			if o.kind != cib.Mandatory || o.firstAction != TaskStop || o.thenAction != TaskStop {
				continue
			}
			stuck := false
			var stuckOn *resource
			for _, p := range o.first.primitives() {
				if len(p.running) > 0 && !s.canAct(p) {
					stuck = true
					stuckOn = p
				}
			}
			if !stuck {
				continue
			}
			for _, p := range o.then.primitives() {
				if len(p.running) == 1 && s.canAct(p) && p.assigned != p.running[0] {
					if p.assigned != nil {
						p.assigned.assigned--
					}
					p.blocked = true
					p.assigned = p.running[0]
					p.assigned.assigned++
					p.nextRole = p.role
					why := reason{cause: CauseOrder, sub: subStuckStop, id: o.id, other: stuckOn, ord: o}
					if o.internal != nil {
						why.cause, why.via, why.id = CauseGroup, o.internal, o.internal.id
					}
					s.withdraw(p, why)
					changed = true
				}
			}
		}
		for _, co := range s.colocs {
			if co.score < cib.Infinity || co.primary.kind == rscClone || s.willRun(co.primary) {
				continue
			}
			for _, p := range co.dependent.primitives() {
				if p.assigned != nil && s.canAct(p) && needsStart(p) {
					stop(p, colocReason(co, co.primary, coNowhere))
					changed = true
				}
			}
		}
		for _, r := range s.allResources() {
			if r.kind != rscGroup {
				continue
			}
			for i := 1; i < len(r.children); i++ {
				prev, p := r.children[i-1], r.children[i]
				if !s.willRun(prev) && p.assigned != nil && s.canAct(p) && (needsStart(p) || prev.active()) {
					stop(p, reason{cause: CauseGroup, id: r.id, via: r, other: prev})
					changed = true
				}
			}
		}
	}
}

// unprobedOnPendingNode reports whether a pending node has no record of p.
func (s *scheduler) unprobedOnPendingNode(p *resource) bool {
	for _, n := range s.nodes {
		if n.pending && !s.knownOn(p, n) {
			return true
		}
	}
	return false
}

// knownOn reports whether n's status section has any record of primitive
// p (Pacemaker's known_on): an operation, even a probe that found it
// stopped. An anonymous clone's record is under its configured id.
func (s *scheduler) knownOn(p *resource, n *node) bool {
	id := p.id
	if !p.unique {
		id = p.confID
	}
	return s.history(n, id).Recorded()
}

// graph is the transition being built.
type graph struct {
	list  []*Action
	byKey map[string]*Action
	after map[*Action]map[*Action]bool
}

func actionKey(rsc string, t Task, n string, iv time.Duration) string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%d", rsc, t, n, iv)
}

func (g *graph) add(rsc, prim string, t Task, n string, iv time.Duration) *Action {
	k := actionKey(rsc, t, n, iv)
	if a, ok := g.byKey[k]; ok {
		return a
	}
	a := &Action{ID: len(g.list) + 1, Resource: rsc, Primitive: prim, Task: t, Node: n, Interval: iv}
	g.list = append(g.list, a)
	g.byKey[k] = a
	return a
}

func (g *graph) edge(first, then *Action) {
	if first == nil || then == nil || first == then {
		return
	}
	if g.after[then] == nil {
		g.after[then] = map[*Action]bool{}
	}
	g.after[then][first] = true
}

func (g *graph) find(rsc string, t Task, n string) *Action {
	return g.byKey[actionKey(rsc, t, n, 0)]
}

// of returns p's actions with task t.
func (g *graph) of(p *resource, t Task) []*Action {
	var out []*Action
	for _, a := range g.list {
		if a.Resource == p.id && a.Task == t && a.Interval == 0 {
			out = append(out, a)
		}
	}
	return out
}

func (s *scheduler) createActions() error {
	g := &graph{byKey: map[string]*Action{}, after: map[*Action]map[*Action]bool{}}
	s.actions = g
	var fences []*Action
	for _, n := range s.nodes {
		if n.unclean && s.fenceable() {
			n.fenced = true
			fences = append(fences, g.add(n.name, "", TaskFence, n.name, 0))
		}
	}
	// Restarts that orders imply: when what a resource is ordered after
	// (mandatory) stops and starts again, the resource restarts too.
	restart := map[*resource]bool{}
	for changed := true; changed; {
		changed = false
		for _, o := range s.orders {
			if o.kind != cib.Mandatory || o.symmetry != orderSymmetric || o.firstAction != TaskStart || o.thenAction != TaskStart {
				continue
			}
			if !s.restarts(o.first, restart) {
				continue
			}
			for _, p := range o.then.primitives() {
				if !restart[p] && p.assigned != nil && s.canAct(p) && slices.Contains(p.running, p.assigned) {
					restart[p] = true
					changed = true
				}
			}
		}
	}
	for _, p := range s.prims {
		s.primitiveActions(g, p, restart[p])
	}
	// Anonymous instances share one history per node: a stop of one
	// instance must finish before another starts on the same node.
	for _, insts := range s.insts {
		if len(insts) < 2 || insts[0].unique {
			continue
		}
		for _, a := range insts {
			for _, stop := range g.of(a, TaskStop) {
				for _, b := range insts {
					for _, start := range g.of(b, TaskStart) {
						if a != b && start.Node == stop.Node {
							g.edge(stop, start)
						}
					}
				}
			}
		}
	}
	// Probes: a resource is first looked for on every online node that has
	// no record of it.
	for _, p := range s.prims {
		if !s.canAct(p) {
			continue
		}
		for _, n := range s.nodes {
			if !n.online || n.unclean {
				continue
			}
			name := p.id
			if !p.unique {
				name = p.confID
			}
			if s.history(n, name).State != cib.StateUnknown || slices.Contains(p.running, n) {
				continue
			}
			if !p.unique && !s.probeOwner(p, n) {
				continue
			}
			probe := g.add(p.id, p.confID, TaskMonitor, n.name, 0)
			for _, st := range g.of(p, TaskStart) {
				g.edge(probe, st)
			}
		}
	}
	// Starts wait for the fencing of the node they are recovered from.
	for _, f := range fences {
		for _, p := range s.prims {
			if !slices.ContainsFunc(p.running, func(n *node) bool { return n.name == f.Node }) {
				continue
			}
			for _, st := range g.of(p, TaskStart) {
				g.edge(f, st)
			}
			for _, st := range g.of(p, TaskPromote) {
				g.edge(f, st)
			}
		}
	}
	for _, o := range s.orders {
		if o.kind == cib.Serialize {
			continue
		}
		var firsts, thens []*Action
		for _, p := range o.first.primitives() {
			firsts = append(firsts, g.of(p, o.firstAction)...)
		}
		for _, p := range o.then.primitives() {
			thens = append(thens, g.of(p, o.thenAction)...)
		}
		for _, f := range firsts {
			for _, t := range thens {
				g.edge(f, t)
			}
		}
	}
	return nil
}

// restarts reports whether r (any of its primitives) stops and starts
// again, moves, or (for a primitive or group) starts at all in this
// transition. Pacemaker restarts what is ordered after a starting
// primitive or group ("due to required vip start"), but not what is
// ordered after a clone that only gains an instance.
func (s *scheduler) restarts(r *resource, restart map[*resource]bool) bool {
	for _, p := range r.primitives() {
		if !s.canAct(p) {
			continue
		}
		if len(p.running) == 0 {
			if r.kind != rscClone && p.assigned != nil {
				return true
			}
			continue
		}
		if restart[p] || p.assigned == nil || needsStart(p) {
			return true
		}
	}
	return false
}

// probeOwner decides which instance of an anonymous clone probes node n:
// the one assigned there, else the first one assigned nowhere.
func (s *scheduler) probeOwner(p *resource, n *node) bool {
	insts := s.insts[p.confID]
	for _, q := range insts {
		if q.assigned == n {
			return q == p
		}
	}
	for _, q := range insts {
		if q.assigned == nil && len(q.running) == 0 {
			return q == p
		}
	}
	return false
}

func (s *scheduler) primitiveActions(g *graph, p *resource, forcedRestart bool) {
	if !s.canAct(p) {
		return
	}
	dest := p.assigned
	restart := p.failed || len(p.running) > 1 || forcedRestart
	var stops []*Action
	for i, n := range p.running {
		if n == dest && !restart {
			continue
		}
		var demote *Action
		if p.runRoles[i] == cib.RolePromoted && !n.fenced {
			demote = g.add(p.id, p.confID, TaskDemote, n.name, 0)
		}
		if n.fenced {
			continue
		}
		st := g.add(p.id, p.confID, TaskStop, n.name, 0)
		g.edge(demote, st)
		stops = append(stops, st)
	}
	if dest == nil {
		return
	}
	var last *Action
	if restart || !slices.Contains(p.running, dest) {
		last = g.add(p.id, p.confID, TaskStart, dest.name, 0)
		for _, st := range stops {
			g.edge(st, last)
		}
	}
	wasPromoted := false
	for i, n := range p.running {
		if n == dest && p.runRoles[i] == cib.RolePromoted {
			wasPromoted = true
		}
	}
	switch {
	case p.nextRole == cib.RolePromoted && (last != nil || !wasPromoted):
		pr := g.add(p.id, p.confID, TaskPromote, dest.name, 0)
		g.edge(last, pr)
		last = pr
	case p.nextRole != cib.RolePromoted && last == nil && wasPromoted:
		last = g.add(p.id, p.confID, TaskDemote, dest.name, 0)
	}
	// Staying put, only the recurring monitors not yet running there are
	// started (a node that joined with the resource already running, a
	// monitor lost with its transition).
	var have []int64
	if last == nil {
		i := slices.Index(p.running, dest)
		if i < 0 {
			return
		}
		have = p.runMonitors[i]
	}
	for i := range p.prim.Ops {
		op := &p.prim.Ops[i]
		if op.Name != "monitor" {
			continue
		}
		iv, err := op.IntervalValue()
		if err != nil || iv <= 0 {
			continue
		}
		if !monitorRoleMatches(op.Role, p.nextRole) {
			continue
		}
		if v, ok := extraAttr(op.Extra, "enabled"); ok && !isTrue(v) {
			continue
		}
		if last == nil && slices.Contains(have, iv.Milliseconds()) {
			continue
		}
		g.edge(last, g.add(p.id, p.confID, TaskMonitor, dest.name, iv))
	}
}

// monitorRoleMatches: a monitor without a role watches the started (or
// unpromoted) role only; one with a role watches that role.
func monitorRoleMatches(opRole string, next cib.Role) bool {
	if opRole == "" {
		return next != cib.RolePromoted
	}
	r, err := cib.ParseRole(opRole)
	if err != nil {
		return false
	}
	if r == cib.RoleStarted || r == cib.RoleUnpromoted {
		return next != cib.RolePromoted
	}
	return r == next
}

func extraAttr(x cib.Extra, name string) (string, bool) {
	for _, a := range x.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}
