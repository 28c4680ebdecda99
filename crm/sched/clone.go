package sched

import (
	"slices"

	"github.com/hakit/hakit/crm/cib"
)

// allocateClone spreads a clone's instances over its nodes, as
// Pacemaker's clone allocation and distribute_children do: instances
// already running stay where they are when they may, the rest go to the
// best nodes with the fewest instances, at most clone-node-max per node and
// clone-max in all; then a promotable clone picks its promoted instances.
func (s *scheduler) allocateClone(r *resource) {
	if !r.provisional {
		return
	}
	if r.allocating {
		s.warnf("colocation loop through %s", r.id)
		return
	}
	r.allocating = true
	for _, co := range slices.Clone(r.asDependent) {
		s.allocate(co.primary, nil)
	}
	for _, co := range r.asPrimary {
		if !s.hasInfluence(co) {
			continue
		}
		r.allowed = s.mergeWeights(co.dependent, r.id, r.allowed, co.nodeAttr, factor(co.score), mergeRollback|mergePositive, co)
	}
	if r.promotable {
		s.addPromotionScores(r)
	}
	insts := slices.Clone(r.children)
	slices.SortStableFunc(insts, func(a, b *resource) int {
		// Instances that can stay where they run (even failed ones, which
		// are recovered in place) are placed first.
		aa, ba := s.currentUsable(r, a), s.currentUsable(r, b)
		switch {
		case aa != nil && ba == nil:
			return -1
		case aa == nil && ba != nil:
			return 1
		case aa != nil && ba != nil:
			return cmpScoreDesc(r.allowed[aa.idx].w, r.allowed[ba.idx].w)
		}
		// Then the instance with the better best node goes first.
		return cmpScoreDesc(s.bestScore(a), s.bestScore(b))
	})
	s.distribute(r, insts)
	if r.promotable {
		s.setRoles(r)
	}
	r.allocating = false
	r.provisional = false
}

// currentUsable is the node an instance runs on when that node could keep
// it; nil otherwise.
func (s *scheduler) currentUsable(clone, inst *resource) *node {
	n := inst.currentNode()
	if n == nil || !n.available() || !clone.allowed[n.idx].in || inst.orphan {
		return nil
	}
	return n
}

// instanceHome is the node an instance runs on now when it could stay
// there (nil otherwise): what decides the order instances are placed in.
func (s *scheduler) instanceHome(clone, inst *resource) *node {
	n := inst.currentNode()
	if n == nil || !n.available() || !clone.allowed[n.idx].in {
		return nil
	}
	for _, p := range inst.primitives() {
		if p.failed {
			return nil
		}
	}
	return n
}

func (s *scheduler) distribute(r *resource, insts []*resource) {
	available := 0
	for i := range r.instanceCount {
		r.instanceCount[i] = 0
		if r.allowed[i].in && s.nodes[i].available() {
			available++
		}
	}
	max := r.cloneMax
	allColoc := max < available
	loopMax := 1
	if available > 0 && max/available > 1 {
		loopMax = max / available
	}
	limit := r.cloneNodeMax
	allocated := 0
	for _, inst := range insts {
		if allocated >= max {
			break
		}
		home := s.instanceHome(r, inst)
		if home == nil || !inst.provisional {
			continue
		}
		if r.instanceCount[home.idx] < loopMax && s.canRunInstance(r, home, limit) {
			if s.allocateInstance(r, inst, home, allColoc, limit) {
				allocated++
			}
		}
	}
	for _, inst := range insts {
		if !inst.provisional {
			continue
		}
		if allocated >= max || inst.orphan || !s.canAct(r) && inst.currentNode() == nil {
			why := reason{cause: CauseClone, other: r, sub: cloneMax, limit: cib.Score(max)}
			if allocated < max {
				why.sub = cloneUnmanaged
			}
			for _, p := range inst.primitives() {
				p.nextRole = cib.RoleStopped
				if s.explain {
					w := why // a copy made here, so that Schedule allocates nothing
					p.stopWhy = &w
				}
			}
			s.allocate(inst, nil)
			continue
		}
		if s.allocateInstance(r, inst, nil, allColoc, limit) {
			allocated++
		}
	}
}

// instanceLimit is why canRunInstance says no, in the same order it asks.
func (s *scheduler) instanceLimit(clone *resource, n *node, limit int) reason {
	why := reason{cause: CauseClone, other: clone, at: n, score: clone.allowed[n.idx].w, limit: cib.Score(limit)}
	e := clone.allowed[n.idx]
	switch {
	case !n.available():
		why.sub = cloneUnavailable
	case !e.in:
		why.sub = cloneNotAllowed
	case e.w < 0:
		why.sub = cloneNegative
	default:
		why.sub = cloneNodeMax
	}
	return why
}

func (s *scheduler) canRunInstance(clone *resource, n *node, limit int) bool {
	if !n.available() {
		return false
	}
	e := clone.allowed[n.idx]
	return e.in && e.w >= 0 && clone.instanceCount[n.idx] < limit
}

// allocateInstance places one instance, on prefer if that is still its
// best node (otherwise it is left for the second pass).
func (s *scheduler) allocateInstance(clone, inst *resource, prefer *node, allColoc bool, limit int) bool {
	if !inst.provisional {
		return inst.assigned != nil
	}
	if inst.allocating {
		return false
	}
	if !inst.inherited {
		inst.inherited = true
		target := inst
		if inst.kind == rscGroup && len(inst.children) > 0 {
			target = inst.children[0]
		}
		for _, co := range clone.asDependent {
			if allColoc || co.score < 0 || co.score >= cib.Infinity {
				target.asDependent = append([]*colocation{co}, target.asDependent...)
			}
		}
		for _, co := range clone.asPrimary {
			if !s.hasInfluence(co) {
				continue
			}
			if allColoc || co.score < 0 {
				inst.asPrimary = append([]*colocation{co}, inst.asPrimary...)
			}
		}
	}
	if prefer != nil {
		if e := inst.allowed[prefer.idx]; !e.in || e.w < 0 {
			return false
		}
	}
	backup := map[*resource]table{}
	for _, p := range append([]*resource{inst}, inst.primitives()...) {
		// A primitive instance is listed twice, so its backup is taken
		// after its limits are set, and a restore keeps them.
		backup[p] = p.allowed.clone()
		for _, n := range s.nodes {
			if !s.canRunInstance(clone, n, limit) && p.allowed[n.idx].in && p.allowed[n.idx].w != -cib.Infinity {
				s.setScore(p.allowed, n.idx, -cib.Infinity, s.instanceLimit(clone, n, limit))
			}
		}
	}
	chosen := s.allocate(inst, prefer)
	if chosen != nil && prefer != nil && chosen != prefer {
		for p, t := range backup {
			p.allowed = t
		}
		s.unassign(inst)
		chosen = nil
	}
	if chosen == nil {
		return false
	}
	clone.instanceCount[chosen.idx]++
	return true
}

// setRoles chooses which instances of a promotable clone are promoted:
// those on the nodes with the highest promotion scores (the agent's
// master-<id> attribute, role=Promoted locations, colocations with the
// promoted role), within promoted-max and promoted-node-max.
func (s *scheduler) setRoles(r *resource) {
	type cand struct {
		inst  *resource
		node  *node
		score cib.Score
		ok    bool
	}
	var cands []cand
	for _, inst := range r.children {
		n := inst.assigned
		if n == nil {
			continue
		}
		sc, ok := s.promotionScore(r, inst, n)
		cands = append(cands, cand{inst, n, sc, ok})
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if a.ok != b.ok {
			if a.ok {
				return -1
			}
			return 1
		}
		if c := cmpScoreDesc(a.score, b.score); c != 0 {
			return c
		}
		ap, bp := a.inst.role == cib.RolePromoted, b.inst.role == cib.RolePromoted
		if ap != bp {
			if ap {
				return -1
			}
			return 1
		}
		return 0
	})
	perNode := make([]int, len(s.nodes))
	promoted := 0
	for _, c := range cands {
		role := cib.RoleUnpromoted
		switch {
		case !s.canAct(c.inst) && c.inst.role == cib.RolePromoted:
			role = cib.RolePromoted
			promoted++
			perNode[c.node.idx]++
		case !s.canAct(c.inst):
			role = c.inst.role
		case !c.ok || c.score < 0:
		case c.inst.targetRole == cib.RoleUnpromoted:
		case !s.quorate && s.quorumPolicy == policyDemote:
		case !s.quorate && s.quorumPolicy == policyFreeze && c.inst.role != cib.RolePromoted:
		case promoted < r.promotedMax && perNode[c.node.idx] < r.promotedNodeMax:
			role = cib.RolePromoted
			promoted++
			perNode[c.node.idx]++
		}
		setRole(c.inst, role)
	}
}

func setRole(r *resource, role cib.Role) {
	r.nextRole = role
	for _, ch := range r.children {
		setRole(ch, role)
	}
}

// promotionScore sums what makes an instance on n worth promoting; ok is
// false when nothing at all speaks for promoting it there.
func (s *scheduler) promotionScore(clone, inst *resource, n *node) (cib.Score, bool) {
	var total cib.Score
	ok := false
	for _, p := range inst.primitives() {
		if w, found := masterScore(p, n); found {
			total = total.Add(w)
			ok = true
		}
		if p.allowed[n.idx].in && p.allowed[n.idx].w < 0 {
			total = total.Add(p.allowed[n.idx].w)
		}
	}
	if clone.promoLoc != nil && clone.promoLoc[n.idx].in {
		total = total.Add(clone.promoLoc[n.idx].w)
		ok = true
	}
	for _, co := range clone.asPrimary {
		if co.primRole != cib.RolePromoted || co.dependent.assigned == nil {
			continue
		}
		if nodeValue(co.dependent.assigned, co.nodeAttr) == nodeValue(n, co.nodeAttr) {
			total = total.Add(co.score) // adjusts, but does not make a candidate
		}
	}
	for _, co := range clone.asDependent {
		if co.depRole != cib.RolePromoted {
			continue
		}
		hit := false
		for _, m := range co.primary.primitives() {
			if m.assigned != nil && nodeValue(m.assigned, co.nodeAttr) == nodeValue(n, co.nodeAttr) &&
				(co.primRole == cib.RoleUnknown || m.nextRole == co.primRole) {
				hit = true
			}
		}
		switch {
		case hit && co.score < cib.Infinity:
			total = total.Add(co.score)
		case !hit && co.score >= cib.Infinity:
			total = total.Add(-cib.Infinity)
		}
	}
	return total, ok
}

// bestScore is an instance's highest score on an available node (its
// first primitive's, for a group instance).
func (s *scheduler) bestScore(inst *resource) cib.Score {
	p := inst
	if ps := inst.primitives(); len(ps) > 0 {
		p = ps[0]
	}
	best := -cib.Infinity
	for i, e := range p.allowed {
		if e.in && s.nodes[i].available() && e.w > best {
			best = e.w
		}
	}
	return best
}

// addPromotionScores adds each instance's positive promotion score on a
// node (the agent's master-<id> attribute) to its score there, as
// Pacemaker does before placing a promotable clone's instances: they
// gravitate to where they can be promoted. An instance known nowhere
// (never run or probed) takes every node's score; one known somewhere
// only the scores of the nodes that know it, where it runs or where a
// record found it stopped.
func (s *scheduler) addPromotionScores(r *resource) {
	for _, inst := range r.children {
		ps := inst.primitives()
		if len(ps) == 0 {
			continue
		}
		totals := make([]cib.Score, len(s.nodes))
		for _, p := range ps {
			known := make([]bool, len(s.nodes))
			knownSomewhere := false
			for _, n := range s.nodes {
				if p.unique {
					known[n.idx] = slices.Contains(p.running, n) || s.knownOn(p, n)
				} else {
					known[n.idx] = slices.Contains(p.running, n) || slices.Contains(p.knownIdle, n)
				}
				knownSomewhere = knownSomewhere || known[n.idx]
			}
			for _, n := range s.nodes {
				if knownSomewhere && !known[n.idx] {
					continue
				}
				if w, ok := masterScore(p, n); ok && w > 0 {
					totals[n.idx] = totals[n.idx].Add(w)
				}
			}
		}
		for _, n := range s.nodes {
			if n.available() && totals[n.idx] > 0 && ps[0].allowed[n.idx].in {
				s.addScore(ps[0].allowed, n.idx, totals[n.idx], reason{cause: CausePromotion, score: totals[n.idx]})
			}
		}
	}
}

// masterScore reads the promotion score the agent set for p on n.
func masterScore(p *resource, n *node) (cib.Score, bool) {
	names := []string{"master-" + p.id, "master-" + p.confID, "promotion-" + p.confID}
	if p.unique {
		names = names[:1]
	}
	for _, name := range names {
		if v, found := n.attrs[name]; found {
			if w, err := cib.ParseScore(v); err == nil {
				return w, true
			}
			return 0, false
		}
	}
	return 0, false
}
