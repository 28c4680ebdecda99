package sched

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/hakit/hakit/crm/cib"
)

// colocation is one "dependent with primary" pair, with Pacemaker's
// meaning: dependent is placed after primary, relative to it.
type colocation struct {
	id                 string
	dependent, primary *resource
	score              cib.Score
	depRole, primRole  cib.Role // RoleUnknown: any role
	nodeAttr           string   // "#uname" unless node-attribute says otherwise
	influence          bool
	internal           *resource // the group this colocation chains, nil when configured
}

// ordering is one "first then" pair between two resources' actions.
type ordering struct {
	id          string
	first, then *resource
	firstAction Task
	thenAction  Task
	kind        cib.OrderKind
	symmetry    orderSymmetry
	internal    *resource // the group this order chains, nil when configured
}

// orderSymmetry tells an order as written from the one a symmetrical order
// implies in reverse, because Pacemaker gives them different powers: only
// the order as written (symmetrical, the default) makes the then-resource
// restart when the first starts, and stop when the first cannot run; an
// asymmetrical order only keeps the then-resource from starting; the
// reverse order only sequences the actions.
type orderSymmetry int

const (
	orderSymmetric orderSymmetry = iota
	orderAsymmetric
	orderInverse
)

// lookup resolves a constraint's resource reference. A clone's child (or
// a member of a cloned group) stands for the clone, as in Pacemaker.
func (s *scheduler) lookup(id string) *resource {
	r, ancestors := s.c.Resource(id)
	if r == nil {
		return nil
	}
	for _, a := range ancestors {
		if _, ok := a.(*cib.Clone); ok {
			return s.byID[a.ResourceID()]
		}
	}
	return s.byID[id]
}

func (s *scheduler) unpackConstraints() error {
	if s.symmetric {
		for _, r := range s.top {
			s.locate(r, func(n *node) (cib.Score, bool, reason) { return 0, true, reason{cause: CauseSymmetric} }, true)
		}
	}
	for _, con := range s.c.Config.Constraints {
		var err error
		switch con := con.(type) {
		case *cib.Location:
			err = s.unpackLocation(con)
		case *cib.Colocation:
			err = s.unpackColocation(con)
		case *cib.Order:
			err = s.unpackOrder(con)
		}
		if err != nil {
			return err
		}
	}
	s.addGroupInternals()
	// Pacemaker keeps each resource's colocations sorted by the other
	// side's priority, highest first; ties stay in configuration order.
	for _, r := range s.allResources() {
		slices.SortStableFunc(r.asDependent, func(a, b *colocation) int { return cmpScoreDesc(a.primary.priority, b.primary.priority) })
		slices.SortStableFunc(r.asPrimary, func(a, b *colocation) int { return cmpScoreDesc(a.dependent.priority, b.dependent.priority) })
	}
	return nil
}

func cmpScoreDesc(a, b cib.Score) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

func (s *scheduler) allResources() []*resource {
	var out []*resource
	var walk func(r *resource)
	walk = func(r *resource) {
		out = append(out, r)
		for _, ch := range r.children {
			walk(ch)
		}
	}
	for _, r := range s.top {
		walk(r)
	}
	return out
}

// scorer is a location's score on a node; ok is false where it does not
// apply, and the reason says why either way (a zero reason: nothing worth
// telling, such as a location for another node).
type scorer func(*node) (w cib.Score, ok bool, why reason)

// locate applies a location to r the way Pacemaker's rsc_location methods
// do: a clone passes it to every instance; a group to its first member,
// the later members getting the same nodes at score 0 (so that in an
// asymmetric cluster they may follow).
func (s *scheduler) locate(r *resource, score scorer, real bool) {
	s.locateVia(r, score, real, nil, nil)
}

// locateVia is locate keeping, for Explain, the group or clone the
// location was set on, and the group whose later member r is.
func (s *scheduler) locateVia(r *resource, score scorer, real bool, via, restOf *resource) {
	for _, n := range s.nodes {
		w, ok, why := score(n)
		if why.via == nil {
			why.via = via
		}
		if !real {
			why.restOf = restOf
		}
		if !ok {
			if why.cause != "" && real {
				s.remark(r.allowed, n.idx, why)
			}
			continue
		}
		if !real {
			w = 0
		}
		s.addScore(r.allowed, n.idx, w, why)
	}
	if via == nil && r.kind != rscPrimitive {
		via = r
	}
	switch r.kind {
	case rscClone:
		for _, ch := range r.children {
			s.locateVia(ch, score, real, via, restOf)
		}
	case rscGroup:
		for i, ch := range r.children {
			s.locateVia(ch, score, real && i == 0, via, r)
		}
	}
}

func (s *scheduler) unpackLocation(l *cib.Location) error {
	var targets []*resource
	switch {
	case l.Rsc != "":
		if r := s.lookup(l.Rsc); r != nil {
			targets = append(targets, r)
		}
	case l.RscPattern != "":
		re, err := regexp.Compile(l.RscPattern)
		if err != nil {
			return fmt.Errorf("rsc_location %s: rsc-pattern: %w", l.ID, err)
		}
		for _, r := range s.top {
			if re.MatchString(r.confID) {
				targets = append(targets, r)
			}
		}
	default:
		for _, set := range l.Sets {
			for _, id := range set.Resources {
				if r := s.lookup(id); r != nil {
					targets = append(targets, r)
				}
			}
		}
	}
	role := cib.RoleUnknown
	if l.Role != "" {
		var err error
		if role, err = cib.ParseRole(l.Role); err != nil {
			return fmt.Errorf("rsc_location %s: role: %w", l.ID, err)
		}
	}
	var scorers []scorer
	if len(l.Rules) == 0 {
		w, err := l.ScoreValue()
		if err != nil {
			return fmt.Errorf("rsc_location %s: score: %w", l.ID, err)
		}
		scorers = append(scorers, func(n *node) (cib.Score, bool, reason) {
			if n.name != l.Node {
				return 0, false, reason{}
			}
			return w, true, reason{cause: CauseLocation, sub: locNode, id: l.ID, score: w}
		})
	}
	for i := range l.Rules {
		rule := &l.Rules[i]
		var fixed cib.Score
		if rule.ScoreAttribute == "" {
			var err error
			if fixed, err = rule.ScoreValue(); err != nil {
				return fmt.Errorf("rsc_location %s: rule %s: score: %w", l.ID, rule.ID, err)
			}
		}
		warned := false
		scorers = append(scorers, func(n *node) (cib.Score, bool, reason) {
			why := reason{cause: CauseLocation, id: l.ID, rule: rule, score: fixed, attr: rule.ScoreAttribute}
			ok, err := rule.Eval(n.attrs)
			if err != nil {
				// Not silently false: the admin is told the rule was not
				// applied (date rules need a clock the scheduler lacks).
				if !warned {
					warned = true
					s.warnf("rsc_location %s: rule %s cannot be evaluated and is not applied: %v", l.ID, rule.ID, err)
				}
				why.sub, why.err = locRuleError, err
				return 0, false, why
			}
			if !ok {
				why.sub = locRuleNoMatch
				return 0, false, why
			}
			if rule.ScoreAttribute != "" {
				v, found := n.attrs[rule.ScoreAttribute]
				if !found {
					// Pacemaker: a matching rule whose score attribute the
					// node lacks bans the node.
					why.sub = locScoreAttrMissing
					return -cib.Infinity, true, why
				}
				w, err := cib.ParseScore(v)
				if err != nil {
					why.sub = locScoreAttrGarbage
					return 0, true, why // char2score reads garbage as 0
				}
				why.sub = locScoreAttr
				return w, true, why
			}
			why.sub = locRuleMatched
			return fixed, true, why
		})
	}
	for _, r := range targets {
		for _, sc := range scorers {
			if role == cib.RolePromoted && r.promotable {
				s.promotionLocation(r, sc)
				continue
			}
			if role == cib.RolePromoted || role == cib.RoleUnpromoted {
				// A role-specific location on something without roles
				// never matches.
				if !r.promotable {
					continue
				}
			}
			s.locate(r, sc, true)
		}
	}
	return nil
}

// promotionLocation records a role=Promoted location on a promotable clone:
// it changes where instances are promoted, not where they run.
func (s *scheduler) promotionLocation(r *resource, score scorer) {
	for _, n := range s.nodes {
		if w, ok, why := score(n); ok {
			if r.promoLoc == nil {
				r.promoLoc = newTable(len(s.nodes))
			}
			s.addScore(r.promoLoc, n.idx, w, why)
		}
	}
}

func (s *scheduler) role(field, v string) (cib.Role, error) {
	if v == "" {
		return cib.RoleUnknown, nil
	}
	r, err := cib.ParseRole(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	if r == cib.RoleStarted {
		return cib.RoleUnknown, nil // Started means any role
	}
	return r, nil
}

func (s *scheduler) unpackColocation(c *cib.Colocation) error {
	score, err := c.ScoreValue()
	if err != nil {
		return fmt.Errorf("rsc_colocation %s: score: %w", c.ID, err)
	}
	influence := true
	if c.Influence != "" {
		if influence, err = cib.ParseBool(c.Influence); err != nil {
			return fmt.Errorf("rsc_colocation %s: influence: %w", c.ID, err)
		}
	}
	attr := c.NodeAttribute
	if attr == "" {
		attr = "#uname"
	}
	add := func(dep, prim *resource, depRole, primRole cib.Role, w cib.Score) {
		if dep == nil || prim == nil || dep == prim || w == 0 {
			return
		}
		co := &colocation{id: c.ID, dependent: dep, primary: prim, score: w, depRole: depRole,
			primRole: primRole, nodeAttr: attr, influence: influence && s.critical(dep)}
		dep.asDependent = append(dep.asDependent, co)
		prim.asPrimary = append(prim.asPrimary, co)
		s.colocs = append(s.colocs, co)
	}
	if len(c.Sets) == 0 {
		dr, err := s.role("rsc_colocation "+c.ID+" rsc-role", c.RscRole)
		if err != nil {
			return err
		}
		pr, err := s.role("rsc_colocation "+c.ID+" with-rsc-role", c.WithRscRole)
		if err != nil {
			return err
		}
		add(s.lookup(c.Rsc), s.lookup(c.WithRsc), dr, pr, score)
		return nil
	}
	// A set chain: within a sequential set each resource follows the one
	// before it; across sets, see below.
	var prevSet, prevHeads []*resource
	var prevRole cib.Role
	for _, set := range c.Sets {
		w := score
		if set.Score != "" {
			if w, err = cib.ParseScore(set.Score); err != nil {
				return fmt.Errorf("rsc_colocation %s: resource_set %s: score: %w", c.ID, set.ID, err)
			}
		}
		role, err := s.role("rsc_colocation "+c.ID+" resource_set "+set.ID+" role", set.Role)
		if err != nil {
			return err
		}
		seq := set.Sequential == "" || isTrue(set.Sequential)
		var members []*resource
		for _, id := range set.Resources {
			if r := s.lookup(id); r != nil {
				members = append(members, r)
			}
		}
		for i, m := range members {
			if seq && i > 0 {
				add(m, members[i-1], role, role, w)
			}
		}
		// Between sets the earlier set follows the later one: its first
		// member (all of it when not sequential) is placed with the later
		// set's last member (all of it when that set is not sequential).
		var heads []*resource
		switch {
		case !seq:
			heads = members
		case len(members) > 0:
			heads = members[:1]
		}
		if prevSet != nil {
			var tails []*resource
			switch {
			case !seq:
				tails = members
			case len(members) > 0:
				tails = members[len(members)-1:]
			}
			for _, h := range prevHeads {
				for _, t := range tails {
					add(h, t, prevRole, role, w)
				}
			}
		}
		prevSet, prevHeads, prevRole = members, heads, role
	}
	return nil
}

// critical is the resource's "critical" meta-attribute (default true),
// which is the default of a colocation's influence.
func (s *scheduler) critical(r *resource) bool {
	m, err := s.c.Meta(r.confID, cib.RuleInput{})
	if err != nil {
		return true
	}
	if v, ok := m["critical"]; ok {
		b, err := cib.ParseBool(v)
		return err != nil || b
	}
	return true
}

func isTrue(v string) bool {
	b, err := cib.ParseBool(v)
	return err == nil && b
}

func (s *scheduler) unpackOrder(o *cib.Order) error {
	kind, err := o.OrderKind()
	if err != nil {
		return err
	}
	symmetrical, err := o.IsSymmetrical()
	if err != nil {
		return err
	}
	add := func(first, then *resource, fa, ta string) {
		if first == nil || then == nil || first == then {
			return
		}
		sym := orderSymmetric
		if !symmetrical {
			sym = orderAsymmetric
		}
		s.orders = append(s.orders, &ordering{id: o.ID, first: first, then: then,
			firstAction: Task(fa), thenAction: Task(ta), kind: kind, symmetry: sym})
		if symmetrical && kind != cib.Serialize {
			if rf, rt := inverse(fa), inverse(ta); rf != "" && rt != "" {
				s.orders = append(s.orders, &ordering{id: o.ID, first: then, then: first,
					firstAction: Task(rt), thenAction: Task(rf), kind: kind, symmetry: orderInverse})
			}
		}
	}
	if len(o.Sets) == 0 {
		fa, ta := o.Actions()
		add(s.lookup(o.First), s.lookup(o.Then), fa, ta)
		return nil
	}
	var prev []*resource
	prevAction := ""
	for _, set := range o.Sets {
		action := set.Action
		if action == "" {
			action = "start"
		}
		seq := set.Sequential == "" || isTrue(set.Sequential)
		var members []*resource
		for _, id := range set.Resources {
			if r := s.lookup(id); r != nil {
				members = append(members, r)
			}
		}
		for i, m := range members {
			if seq && i > 0 {
				add(members[i-1], m, action, action)
			}
			if !seq || i == 0 {
				for _, p := range prev {
					add(p, m, prevAction, action)
				}
			}
		}
		if seq && len(members) > 0 {
			prev = members[len(members)-1:]
		} else {
			prev = members
		}
		prevAction = action
	}
	return nil
}

// inverse is the action undoing a (start ↔ stop, promote ↔ demote).
func inverse(a string) string {
	switch a {
	case "start":
		return "stop"
	case "stop":
		return "start"
	case "promote":
		return "demote"
	case "demote":
		return "promote"
	}
	return ""
}

// addGroupInternals makes each group member follow the one before it,
// placed with it (INFINITY) and started after it, as Pacemaker's groups
// are defined.
func (s *scheduler) addGroupInternals() {
	for _, r := range s.allResources() {
		if r.kind != rscGroup {
			continue
		}
		for i := 1; i < len(r.children); i++ {
			dep, prim := r.children[i], r.children[i-1]
			co := &colocation{id: r.id + ":internal", dependent: dep, primary: prim, score: cib.Infinity,
				nodeAttr: "#uname", influence: true, internal: r}
			dep.asDependent = append(dep.asDependent, co)
			prim.asPrimary = append(prim.asPrimary, co)
			s.orders = append(s.orders,
				&ordering{id: r.id + ":internal", first: prim, then: dep, firstAction: TaskStart, thenAction: TaskStart, internal: r},
				&ordering{id: r.id + ":internal", first: dep, then: prim, firstAction: TaskStop, thenAction: TaskStop, symmetry: orderInverse, internal: r})
		}
	}
}
