package sched

import (
	"math"
	"slices"
	"time"

	"github.com/hakit/hakit/crm/cib"
)

// applyStickiness adds each running primitive's stickiness to its current
// node and bans resources from nodes where they failed too often, as
// Pacemaker does before assigning anything.
func (s *scheduler) applyStickiness() error {
	for _, p := range s.prims {
		// An unmanaged (or blocked) resource stays where it runs, and
		// Pacemaker pins it there: what is colocated with it, either way,
		// must come to it.
		if (!p.managed || p.blocked) && len(p.running) == 1 {
			pin := reason{cause: CauseUnmanaged, other: p, at: p.running[0]}
			for _, n := range s.nodes {
				if n != p.running[0] {
					s.addScore(p.allowed, n.idx, -cib.Infinity, pin)
				}
			}
		}
		// Pacemaker 2.1 never applies a negative stickiness (crm_simulate
		// shows the current node's score unchanged), so neither do we.
		if p.managed && p.stickiness > 0 && len(p.running) == 1 {
			n := p.running[0]
			if p.allowed[n.idx].in || s.symmetric {
				s.addScore(p.allowed, n.idx, p.stickiness, reason{cause: CauseStickiness, score: p.stickiness})
			}
		}
		if p.threshold <= 0 {
			continue
		}
		for _, n := range s.nodes {
			name := p.id
			if !p.unique {
				name = p.confID
			}
			fc, last, err := s.c.FailCount(n.name, name)
			if err != nil {
				return err
			}
			if fc <= 0 || p.threshold.Sub(fc) > 0 {
				continue
			}
			if p.failureTimeout > 0 && s.in.Now > 0 && last > 0 && last+int64(p.failureTimeout/time.Second) <= s.in.Now {
				// Expired (failure-timeout): the failures no longer ban
				// the node, as when Pacemaker clears them at the recheck.
				continue
			}
			why := reason{cause: CauseFailCount, other: p, at: n, score: fc, limit: p.threshold}
			only := func(m *node) (cib.Score, bool, reason) {
				if m != n {
					return 0, false, reason{}
				}
				return -cib.Infinity, true, why
			}
			if p.unique {
				s.addScore(p.allowed, n.idx, -cib.Infinity, why)
			} else {
				s.locate(p.top(), only, true)
			}
		}
	}
	return nil
}

// assignAll places every resource, highest priority first, as
// Pacemaker's allocate_resources does, then withdraws starts that orders
// make impossible.
func (s *scheduler) assignAll() error {
	order := slices.Clone(s.top)
	for _, r := range s.allResources() {
		if r.targetRole == cib.RoleStopped {
			r.nextRole = cib.RoleStopped
		}
	}
	// With the default placement strategy Pacemaker assigns resources in
	// configuration order, higher priority first (its unpack sorts them by
	// priority; the finer comparison of current and best scores applies only
	// to the utilization-based strategies, which hakit does not implement).
	slices.SortStableFunc(order, func(a, b *resource) int { return cmpScoreDesc(a.priority, b.priority) })
	for _, r := range order {
		s.allocate(r, nil)
	}
	s.blockStarts()
	return nil
}

// allocate assigns r (and its children), assigning first whatever it must
// follow. Children are never assigned on their own: asking for one assigns
// its parent.
func (s *scheduler) allocate(r *resource, prefer *node) *node {
	if r.parent != nil && !r.parent.allocating {
		s.allocate(r.parent, prefer)
		return r.assigned
	}
	switch r.kind {
	case rscGroup:
		return s.allocateGroup(r, prefer)
	case rscClone:
		s.allocateClone(r)
		return nil
	}
	return s.allocatePrimitive(r, prefer)
}

func (s *scheduler) allocatePrimitive(r *resource, prefer *node) *node {
	if !r.provisional {
		return r.assigned
	}
	if r.allocating {
		s.warnf("colocation loop through %s", r.id)
		return nil
	}
	r.allocating = true
	defer func() { r.allocating = false }()
	for _, co := range slices.Clone(r.asDependent) {
		var archive table
		if co.depRole == cib.RolePromoted || (co.score < 0 && co.score > -cib.Infinity) {
			archive = r.allowed.clone()
		}
		s.allocate(co.primary, nil)
		s.applyColocation(r, co.primary, co)
		if archive != nil && !s.anyAvailable(r.allowed) {
			r.allowed = archive
			s.ignored(r, colocReason(co, co.primary, coUndone))
		}
	}
	for _, co := range r.asPrimary {
		if !s.hasInfluence(co) {
			continue
		}
		r.allowed = s.mergeWeights(co.dependent, r.id, r.allowed, co.nodeAttr, factor(co.score), mergeRollback, co)
	}
	if r.nextRole == cib.RoleStopped {
		why := s.stopReason(r)
		for i := range r.allowed {
			s.addScore(r.allowed, i, -cib.Infinity, why)
		}
	}
	switch {
	case !s.canAct(r):
		cur := r.currentNode()
		if r.running != nil {
			r.nextRole = r.role
		}
		s.assign(r, cur, true)
		s.decide(r, reason{cause: CauseUnmanaged, other: r, at: cur})
	case s.stopAll:
		s.assign(r, nil, true)
		s.decide(r, reason{cause: CauseStopAll})
	case !s.quorate && (s.quorumPolicy == policyStop || s.quorumPolicy == policySuicide):
		s.assign(r, nil, true)
		s.decide(r, reason{cause: CauseQuorum, text: s.quorumPolicy})
	default:
		s.chooseNode(r, prefer)
		frozenOut := len(r.running) == 0
		if r.cloneParent() != nil {
			// A clone instance is identified by where it runs: one that
			// would start on another node is a new start.
			frozenOut = !slices.Contains(r.running, r.assigned)
		}
		if !s.quorate && s.quorumPolicy == policyFreeze && r.assigned != nil && frozenOut {
			// Frozen: what is not running does not start without quorum
			// (what runs may still move: its role does not rise).
			s.unassign(r)
			s.assign(r, nil, true)
			s.decide(r, reason{cause: CauseQuorum, text: s.quorumPolicy})
		}
	}
	return r.assigned
}

// canAct reports whether the cluster may start or stop r: it is managed,
// not blocked, and fencing, if enabled, has a device (Pacemaker leaves
// everything where it is otherwise).
func (s *scheduler) canAct(r *resource) bool {
	if !r.managed || r.blocked {
		return false
	}
	if s.stonithEnabled && !s.haveStonith {
		return false
	}
	return true
}

func (s *scheduler) hasInfluence(co *colocation) bool {
	return co.influence || !co.primary.active()
}

func factor(w cib.Score) float64 { return float64(w) / float64(cib.Infinity) }

// chooseNode is native_choose_node: the best-scored available node, ties
// broken by fewest resources assigned so far, then the current node, then
// name; the current node also wins any tie at the top when the score is
// positive.
func (s *scheduler) chooseNode(r *resource, prefer *node) {
	cur := r.currentNode()
	nodes := s.sortedNodes(r.allowed, cur)
	if len(nodes) == 0 {
		s.assign(r, nil, false)
		s.decide(r, reason{cause: CauseChoice, sub: coNowhere})
		return
	}
	best := nodes[0]
	var chosen *node
	if prefer != nil {
		if e := r.allowed[prefer.idx]; e.in && e.w >= r.allowed[best.idx].w && prefer.available() {
			chosen = prefer
		}
	}
	if chosen == nil {
		chosen = best
		uniqueInstance := r.parent != nil && r.parent.kind == rscClone && !r.parent.anonymous
		if !uniqueInstance && r.allowed[chosen.idx].w > 0 && chosen.available() &&
			cur != nil && cur.available() && r.allowed[cur.idx].in && r.allowed[cur.idx].w >= 0 {
			for _, n := range nodes[1:] {
				if r.allowed[n.idx].w != r.allowed[chosen.idx].w {
					break
				}
				if n == cur {
					chosen = n
				}
			}
		}
	}
	var why reason
	if s.explain {
		why = s.choiceReason(r, nodes, chosen, prefer)
	}
	s.assign(r, chosen, false)
	s.decide(r, why)
}

// sortedNodes lists the table's nodes best first, as pcmk__sort_nodes
// does: unavailable nodes count as -INFINITY.
func (s *scheduler) sortedNodes(t table, preferred *node) []*node {
	var nodes []*node
	for i, e := range t {
		if e.in {
			nodes = append(nodes, s.nodes[i])
		}
	}
	weight := func(n *node) cib.Score {
		if !n.available() {
			return -cib.Infinity
		}
		return t[n.idx].w
	}
	slices.SortStableFunc(nodes, func(a, b *node) int {
		if c := cmpScoreDesc(weight(a), weight(b)); c != 0 {
			return c
		}
		if a.assigned != b.assigned {
			if a.assigned < b.assigned {
				return -1
			}
			return 1
		}
		if preferred != nil {
			if a == preferred {
				return -1
			}
			if b == preferred {
				return 1
			}
		}
		return compareStrings(a.name, b.name)
	})
	return nodes
}

// assign records r's node (nil: stopped). Without force, a node that
// cannot take it (negative score, unavailable) leaves r stopped.
func (s *scheduler) assign(r *resource, n *node, force bool) {
	if !force && n != nil && (r.allowed[n.idx].w < 0 || !n.available()) {
		n = nil
	}
	r.provisional = false
	r.assigned = n
	if n == nil {
		r.nextRole = cib.RoleStopped
		return
	}
	n.assigned++
	if r.nextRole == cib.RoleUnknown {
		r.nextRole = cib.RoleStarted
	}
}

// unassign undoes assign, for a clone instance that was tried on a node
// it did not take, and for starts withdrawn later.
func (s *scheduler) unassign(r *resource) {
	for _, p := range r.primitives() {
		if p.assigned != nil {
			p.assigned.assigned--
		}
		p.assigned = nil
		p.provisional = true
		if p.nextRole != cib.RoleStopped || p.targetRole != cib.RoleStopped {
			p.nextRole = cib.RoleUnknown
		}
	}
	if r.kind == rscGroup {
		r.assigned = nil
		r.provisional = true
		r.nextRole = cib.RoleUnknown
	}
}

func (s *scheduler) allocateGroup(r *resource, prefer *node) *node {
	if !r.provisional {
		return r.assigned
	}
	if r.allocating {
		s.warnf("colocation loop through %s", r.id)
		return nil
	}
	if len(r.children) == 0 {
		r.provisional = false
		return nil
	}
	r.allocating = true
	first, last := r.children[0], r.children[len(r.children)-1]
	// The group's own colocations become its first member's (where the
	// group follows) and its last member's (where others follow it).
	first.asDependent = append(first.asDependent, r.asDependent...)
	r.asDependent = nil
	last.asPrimary = append(last.asPrimary, r.asPrimary...)
	r.asPrimary = nil
	var groupNode *node
	for i, ch := range r.children {
		n := s.allocate(ch, prefer)
		if i == 0 {
			groupNode = n
		}
	}
	r.nextRole = first.nextRole
	r.assigned = groupNode
	r.allocating = false
	r.provisional = false
	return groupNode
}

// applyColocation places dependent relative to an already assigned
// primary (Pacemaker's rsc_colocation_lh/_rh pair).
func (s *scheduler) applyColocation(dep, prim *resource, co *colocation) {
	if co.score == 0 || prim.provisional || !dep.provisional {
		return
	}
	if co.depRole != cib.RoleUnknown && co.depRole != dep.nextRole {
		return
	}
	if co.primRole != cib.RoleUnknown && prim.kind != rscClone && co.primRole != prim.nextRole {
		return
	}
	switch prim.kind {
	case rscPrimitive:
		s.colocationMatch(dep, prim, co)
	case rscGroup:
		if len(prim.children) == 0 {
			return
		}
		if co.score >= cib.Infinity {
			// The dependent needs the whole group up.
			s.colocationMatch(dep, prim.children[len(prim.children)-1], co)
		} else {
			s.colocationMatch(dep, prim.children[0], co)
		}
	case rscClone:
		if prim.promotable && co.primRole == cib.RolePromoted {
			if co.score >= cib.Infinity {
				ok := make([]bool, len(s.nodes))
				for _, inst := range prim.children {
					if inst.assigned != nil && inst.nextRole == cib.RolePromoted {
						ok[inst.assigned.idx] = true
					}
				}
				why := colocReason(co, prim, coPromotedAbsent)
				for i := range dep.allowed {
					if dep.allowed[i].in && !ok[i] {
						s.setScore(dep.allowed, i, -cib.Infinity, why)
					}
				}
			}
			// Finite scores act through promotion scores and merging.
			return
		}
		if co.primRole != cib.RoleUnknown {
			return
		}
		if co.score >= cib.Infinity {
			ok := make([]bool, len(s.nodes))
			for _, inst := range prim.children {
				if n := inst.assigned; n != nil && !inst.blocked {
					ok[n.idx] = true
				}
			}
			why := colocReason(co, prim, coCloneAbsent)
			for i := range dep.allowed {
				if dep.allowed[i].in && !ok[i] {
					s.setScore(dep.allowed, i, -cib.Infinity, why)
				}
			}
			return
		}
		for _, inst := range prim.children {
			s.applyColocation(dep, inst, co)
		}
	}
}

// colocationMatch is colocation_match: score the dependent's nodes by
// whether they share the primary's node (or node attribute value).
func (s *scheduler) colocationMatch(dep, prim *resource, co *colocation) {
	var value string
	if prim.assigned != nil {
		value = nodeValue(prim.assigned, co.nodeAttr)
	} else if co.score < 0 {
		return
	}
	work := dep.allowed.clone()
	for i := range work {
		if !work[i].in {
			continue
		}
		switch {
		case prim.assigned == nil:
			s.addScore(work, i, -cib.Infinity, colocReason(co, prim, coNowhere))
		case nodeValue(s.nodes[i], co.nodeAttr) == value:
			if co.score < cib.Infinity {
				s.addScore(work, i, co.score, colocReason(co, prim, coMatch))
			} else {
				s.remark(work, i, colocReason(co, prim, coMatch))
			}
		case co.score >= cib.Infinity:
			s.addScore(work, i, -co.score, colocReason(co, prim, coMismatch))
		default:
			s.remark(work, i, colocReason(co, prim, coMismatch))
		}
	}
	if co.score <= -cib.Infinity || co.score >= cib.Infinity || s.anyAvailable(work) {
		dep.allowed = work
	} else {
		s.ignored(dep, colocReason(co, prim, coNotApplied))
	}
}

// colocReason is a colocation's reason as its dependent sees it, with the
// primary's node as it is now (a later withdrawn start does not rewrite
// what the placement saw).
func colocReason(co *colocation, prim *resource, sub subCause) reason {
	why := reason{cause: CauseColocation, sub: sub, id: co.id, other: prim, at: prim.assigned,
		score: co.score, attr: co.nodeAttr}
	if co.internal != nil {
		why.cause, why.via, why.id = CauseGroup, co.internal, co.internal.id
	}
	return why
}

func nodeValue(n *node, attr string) string {
	if attr == "#uname" || attr == "" {
		return n.name
	}
	return n.attrs[attr]
}

type mergeFlags int

const (
	mergeInit mergeFlags = 1 << iota
	mergeForward
	mergeRollback
	mergePositive
)

// mergeWeights is pcmk__native_merge_weights: nodes (a copy) plus r's
// scores scaled by f, then recursively those of everything colocated with
// r (or, forward, everything r is colocated with), so that a resource
// prefers nodes where what follows it can run too.
//
// via is the colocation that brought r in, for Explain.
func (s *scheduler) mergeWeights(r *resource, primaryID string, nodes table, attr string, f float64, flags mergeFlags, via *colocation) table {
	if r.merging {
		return nodes
	}
	r.merging = true
	defer func() { r.merging = false }()
	if r.kind == rscGroup && len(r.children) > 0 && flags&mergeForward == 0 {
		work := s.mergeWeights(r.children[0], primaryID, nodes, attr, f, flags, via)
		for _, co := range r.asPrimary {
			if s.hasInfluence(co) {
				work = s.mergeWeights(co.dependent, r.id, work, co.nodeAttr, factor(co.score), flags&^mergeInit, co)
			}
		}
		return work
	}
	var work table
	switch {
	case flags&mergeInit != 0:
		if r.kind == rscGroup && len(r.children) > 0 {
			work = s.mergeWeights(r.children[len(r.children)-1], primaryID, nil, attr, f, flags, via)
		} else {
			work = r.allowed.clone()
		}
		flags &^= mergeInit
	case r.kind == rscGroup && len(r.children) > 0:
		work = s.mergeWeights(r.children[len(r.children)-1], primaryID, nodes.clone(), attr, f, flags, via)
	default:
		work = nodes.clone()
		s.addMatching(work, r, attr, f, flags&mergePositive != 0, via)
	}
	if s.anyAvailable(work) {
		mult := 1.0
		if f < 0 {
			mult = -1
		}
		list := r.asPrimary
		if flags&mergeForward != 0 {
			list = r.asDependent
		}
		for _, co := range list {
			other := co.dependent
			if flags&mergeForward != 0 {
				other = co.primary
			} else if !s.hasInfluence(co) {
				continue
			}
			work = s.mergeWeights(other, primaryID, work, co.nodeAttr, mult*factor(co.score), flags, co)
		}
	} else if flags&mergeRollback != 0 {
		return nodes
	}
	return work
}

// addMatching adds to each node of work other's best score on a node with
// the same attribute value, scaled by f.
func (s *scheduler) addMatching(work table, other *resource, attr string, f float64, onlyPositive bool, via *colocation) {
	for i := range work {
		if !work[i].in {
			continue
		}
		score := s.bestMatching(other, attr, nodeValue(s.nodes[i], attr))
		if f < 0 && score < 0 {
			continue
		}
		if onlyPositive && score < 0 {
			continue
		}
		w := scaled(score, f)
		why := reason{cause: CauseFollower, other: other, score: score, factor: f, attr: attr}
		if via != nil {
			why.id, why.followed = via.id, via.primary
			if via.internal != nil {
				why.cause, why.sub, why.id, why.via = CauseGroup, groupFollower, via.internal.id, via.internal
			}
		}
		nw := work[i].w.Add(w)
		if onlyPositive && nw < 0 {
			if work[i].w > 0 {
				why.sub = followerClamp
				s.setScore(work, i, 1, why)
			}
			continue
		}
		// work[i] is in the table, so this is work[i].w.Add(w): nw.
		s.addScore(work, i, w, why)
	}
}

// scaled multiplies a score by a colocation factor, keeping INFINITY
// infinite and a non-zero product non-zero.
func scaled(score cib.Score, f float64) cib.Score {
	if score >= cib.Infinity || score <= -cib.Infinity {
		if f >= 1 {
			return score
		}
		if f <= -1 {
			return score.Neg()
		}
	}
	v := f * float64(score)
	w := cib.Score(math.Round(v))
	if w == 0 && v != 0 {
		if v > 0 {
			w = 1
		} else {
			w = -1
		}
	}
	return w.Add(0)
}

func (s *scheduler) bestMatching(r *resource, attr, value string) cib.Score {
	best := -cib.Infinity
	for i, e := range r.allowed {
		if e.in && e.w > best && s.nodes[i].available() && nodeValue(s.nodes[i], attr) == value {
			best = e.w
		}
	}
	return best
}
