package sched

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hakit/hakit/crm/cib"
)

// Explanation says why a resource runs where it runs, or not at all: what
// crm_simulate -s shows (each node's score) and what it does not (where
// each score comes from, and the decisions made after scoring).
type Explanation struct {
	// Resource is the id asked about, ID the resource it names (they
	// differ when a clone's child stands for the clone); Kind is
	// primitive, group, clone, clone instance or orphan (active but no
	// longer configured).
	Resource string `json:"resource"`
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	// Clone and Group enclose it ("" when none).
	Clone string `json:"clone,omitempty"`
	Group string `json:"group,omitempty"`
	// Current and Placed are the nodes it runs on now and after the
	// transition, sorted; a clone has one entry per instance, as in
	// Placement.
	Current  []string `json:"current"`
	Placed   []string `json:"placed"`
	Promoted []string `json:"promoted,omitempty"`
	// Restarts: it stays where it is, but is stopped and started again.
	Restarts bool `json:"restarts,omitempty"`
	// CloneScores are a clone's own node scores, which bound where its
	// instances may go (clones only).
	CloneScores []NodeScore `json:"clone_scores,omitempty"`
	// Instances are the primitive instances that make it up: one for a
	// primitive, the members of a group, every member of every instance of
	// a clone.
	Instances []InstanceExplanation `json:"instances"`
}

// InstanceExplanation is one primitive instance: its scores and how its
// node was chosen.
type InstanceExplanation struct {
	ID      string   `json:"id"`
	Current []string `json:"current"`
	// Node is where it runs after the transition, "" when stopped.
	Node string `json:"node"`
	Role string `json:"role,omitempty"`
	// Decision is how the scheduler chose Node among the scored nodes (or
	// why it chose none, or why it did not choose at all).
	Decision Reason `json:"decision"`
	// Withdrawn are what took back, after placement, the start (or
	// promotion) chosen: an order whose first resource will not run, an
	// INFINITY colocation with something that will not run, ...
	Withdrawn []Reason `json:"withdrawn,omitempty"`
	// Ignored are colocations that were tried and rolled back because no
	// node would have been left to run it.
	Ignored []Reason `json:"ignored,omitempty"`
	// Nodes are its score on each node (or the one node asked about).
	Nodes []NodeScore `json:"nodes"`
}

// NodeScore is a score on one node and the contributions that make it.
type NodeScore struct {
	Node  string    `json:"node"`
	State NodeState `json:"state"`
	// CanRun is false when the node cannot run resources whatever the
	// score (standby, offline, unclean, maintenance, pending, shutting
	// down): the scheduler counts it as -INFINITY.
	CanRun bool `json:"can_run"`
	// Considered is false when the resource may not even consider the node
	// (an asymmetric cluster where no location allows it); Score is then 0
	// and meaningless.
	Considered bool `json:"considered"`
	// Score is the scheduler's final score (what Result.Scores holds), and
	// is what Total computes from Contributions.
	Score         cib.Score      `json:"score"`
	Contributions []Contribution `json:"contributions"`
}

// ContributionOp is what a contribution does to the score.
type ContributionOp string

const (
	// OpAdd adds Score with Pacemaker's saturating arithmetic (-INFINITY
	// wins over INFINITY); the first add makes the node considered.
	OpAdd ContributionOp = "add"
	// OpSet replaces the score with Score.
	OpSet ContributionOp = "set"
	// OpNote changes nothing: something looked at and found not to apply
	// (a rule that did not match, an INFINITY colocation that is met).
	OpNote ContributionOp = "note"
)

// Contribution is one step in a score's making, in the order the
// scheduler took them.
type Contribution struct {
	Reason
	Op    ContributionOp `json:"op"`
	Score cib.Score      `json:"score"`
}

// Reason is why something happened, in words and in parts.
type Reason struct {
	Cause Cause `json:"cause"`
	// ID is the constraint's id (location, colocation, order), or the
	// group or clone's for their built-in rules.
	ID string `json:"id,omitempty"`
	// ConstraintScore is the score the constraint is configured with.
	ConstraintScore string `json:"constraint_score,omitempty"`
	// Rule and RuleMatched: a location rule and whether it matched here.
	Rule        string `json:"rule,omitempty"`
	RuleMatched *bool  `json:"rule_matched,omitempty"`
	// With is the other resource involved, WithNode where it was placed
	// when this was decided ("" when nowhere).
	With     string `json:"with,omitempty"`
	WithNode string `json:"with_node,omitempty"`
	Detail   string `json:"detail"`
}

// Total combines the contributions as the scheduler did: the score, and
// whether the node is considered at all. It equals (Score, Considered).
func (ns NodeScore) Total() (cib.Score, bool) {
	var w cib.Score
	in := false
	for _, c := range ns.Contributions {
		switch c.Op {
		case OpAdd:
			if !in {
				w, in = c.Score, true
			} else {
				w = w.Add(c.Score)
			}
		case OpSet:
			w = c.Score
		}
	}
	return w, in
}

// Explain schedules in.CIB, recording why, and explains resource (a
// primitive, group, clone or clone instance id; a clone's child stands for
// the clone) on every node, or on nodeName only when that is not "". It
// places exactly as Schedule does.
func Explain(in Input, resource, nodeName string) (*Explanation, error) {
	s, err := run(in, true)
	if err != nil {
		return nil, err
	}
	r := s.findResource(resource)
	if r == nil {
		return nil, fmt.Errorf("resource %q does not exist in the CIB", resource)
	}
	var only *node
	if nodeName != "" {
		if only = s.byKey[nodeName]; only == nil {
			names := make([]string, len(s.nodes))
			for i, n := range s.nodes {
				names[i] = n.name
			}
			return nil, fmt.Errorf("node %q does not exist in the CIB (nodes: %s)", nodeName, strings.Join(names, ", "))
		}
	}
	res := s.result()
	return s.explanation(res, r, resource, only), nil
}

// findResource resolves an id as an admin means it: an instance id as
// Pacemaker prints it, else a configured id (a clone's child, or a member
// of a cloned group, standing for the clone, as in constraints).
func (s *scheduler) findResource(id string) *resource {
	for _, r := range s.allResources() {
		if r.id == id {
			return r
		}
	}
	return s.lookup(id)
}

func (s *scheduler) explanation(res *Result, r *resource, asked string, only *node) *Explanation {
	e := &Explanation{Resource: asked, ID: r.id, Kind: "primitive"}
	switch {
	case r.orphan && r.parent == nil:
		e.Kind = "orphan"
	case r.kind == rscClone:
		e.Kind = "clone"
	case r.cloneParent() != nil:
		e.Kind = "clone instance"
	case r.kind == rscGroup:
		e.Kind = "group"
	}
	if cl := r.cloneParent(); cl != nil {
		e.Clone = cl.id
	}
	for p := r; p != nil; p = p.parent {
		if p.kind == rscGroup {
			e.Group = p.confID
			break
		}
	}
	prims := r.primitives()
	ids := map[string]bool{}
	for _, p := range prims {
		ids[p.id] = true
	}
	pick := func(list []Instance) []Instance {
		var out []Instance
		for _, in := range list {
			if ids[in.ID] {
				out = append(out, in)
			}
		}
		return out
	}
	current, final := pick(res.Current), pick(res.Final)
	e.Current = placedNodes(r, current, nil)
	e.Placed = placedNodes(r, final, &e.Promoted)
	for _, a := range res.Actions {
		if a.Task == TaskStart && ids[a.Resource] && slices.Contains(e.Current, a.Node) && slices.Contains(e.Placed, a.Node) {
			e.Restarts = true
		}
	}
	if r.kind == rscClone {
		e.CloneScores = s.nodeScores(r.allowed, only)
	}
	for _, p := range prims {
		ie := InstanceExplanation{ID: p.id, Current: []string{}}
		for _, in := range current {
			if in.ID == p.id {
				ie.Current = append(ie.Current, in.Node)
			}
		}
		for _, in := range final {
			if in.ID == p.id {
				ie.Node, ie.Role = in.Node, in.Role.String()
			}
		}
		if p.decision != nil {
			ie.Decision = s.reasonOf(*p.decision, p, nil)
		} else {
			ie.Decision = Reason{Cause: CauseChoice, Detail: "never placed"}
		}
		for _, w := range p.withdrawn {
			ie.Withdrawn = append(ie.Withdrawn, s.reasonOf(w, p, nil))
		}
		for _, w := range p.ignoredColocs {
			ie.Ignored = append(ie.Ignored, s.reasonOf(w, p, nil))
		}
		ie.Nodes = s.nodeScores(p.allowed, only)
		e.Instances = append(e.Instances, ie)
	}
	return e
}

// placedNodes lists the nodes of instances: one entry per clone instance
// (a cloned group's instance counted once), else each node once.
func placedNodes(r *resource, list []Instance, promoted *[]string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, in := range list {
		key := in.Node
		if r.kind == rscClone {
			key = instanceNumber(in.ID) + "\x00" + in.Node
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, in.Node)
		if promoted != nil && in.Role == cib.RolePromoted {
			*promoted = append(*promoted, in.Node)
		}
	}
	slices.Sort(out)
	if promoted != nil {
		slices.Sort(*promoted)
	}
	return out
}

func (s *scheduler) nodeScores(t table, only *node) []NodeScore {
	out := []NodeScore{}
	for _, n := range s.nodes {
		if only != nil && n != only {
			continue
		}
		e := t[n.idx]
		ns := NodeScore{Node: n.name, State: n.state(), CanRun: n.available(), Considered: e.in, Score: e.w,
			Contributions: []Contribution{}}
		var steps []*note
		for x := e.why; x != 0; x = s.notes[x-1].prev {
			steps = append(steps, &s.notes[x-1])
		}
		for i := len(steps) - 1; i >= 0; i-- {
			x := steps[i]
			c := Contribution{Reason: s.reasonOf(x.why, nil, n), Score: x.w}
			switch x.op {
			case opAdd:
				c.Op = OpAdd
			case opSet:
				c.Op = OpSet
			default:
				c.Op = OpNote
			}
			ns.Contributions = append(ns.Contributions, c)
		}
		out = append(out, ns)
	}
	return out
}

// reasonOf puts a reason into words. self is the resource it is about
// (for decisions and withdrawals), here the node a score is on.
func (s *scheduler) reasonOf(why reason, self *resource, here *node) Reason {
	out := Reason{Cause: why.cause, ID: why.id}
	if why.other != nil {
		out.With = why.other.id
	}
	if why.at != nil && (why.cause == CauseColocation || why.cause == CauseGroup) {
		out.WithNode = why.at.name
	}
	on := "this node"
	if here != nil {
		on = here.name
	}
	placed := func() string {
		if why.at == nil {
			return "which is not placed anywhere"
		}
		return "which is placed on " + why.at.name
	}
	var d string
	switch why.cause {
	case CauseSymmetric:
		d = "symmetric-cluster=true: every node may be considered, from 0"
	case CauseLocation:
		out.ConstraintScore = why.score.String()
		if why.rule != nil {
			out.Rule = why.rule.ID
			if why.rule.ScoreAttribute != "" {
				out.ConstraintScore = ""
			}
		}
		d = s.locationText(why, here, &out)
	case CauseStickiness:
		d = fmt.Sprintf("resource-stickiness %s: it runs on %s now", why.score, on)
	case CauseUnmanaged:
		if self != nil {
			d = s.decisionUnmanaged(why)
		} else {
			d = fmt.Sprintf("%s runs on %s and %s: it is pinned there", why.other.id, why.at.name, s.cannotActText(why.other))
		}
	case CauseFailCount:
		d = fmt.Sprintf("fail-count %s on %s reached migration-threshold %s", why.score, why.at.name, why.limit)
		if !why.other.unique {
			d += fmt.Sprintf("; an anonymous clone's failure bans all of %s from %s", why.other.top().id, why.at.name)
		}
	case CauseFollower:
		d = s.followerText(why, here, on)
	case CauseGroup:
		if why.sub == groupFollower || why.sub == followerClamp {
			d = s.followerText(why, here, on)
		} else {
			d = s.groupText(why, self, on, placed)
		}
	case CauseColocation:
		d = s.colocationText(why, self, on, placed)
	case CauseClone:
		d = s.cloneText(why)
	case CausePromotion:
		d = fmt.Sprintf("promotion score %s on %s (the agent's master-/promotion- node attribute) draws the instance there", why.score, on)
	case CauseTargetRole:
		d = "target-role=Stopped: it must not run anywhere"
	case CauseOrphan:
		d = "no longer in the configuration: it is stopped"
	case CauseOrder:
		d = s.orderText(why, self)
	case CauseNode:
		d = s.pendingText()
	case CauseStopAll:
		d = "stop-all-resources=true: nothing runs"
	case CauseQuorum:
		d = fmt.Sprintf("the partition has no quorum and no-quorum-policy=%s", why.text)
		if why.text == policyFreeze {
			d += ": what is not running does not start"
		} else {
			d += ": everything stops"
		}
	case CauseChoice:
		d = why.text
		if why.sub == coNowhere && d == "" {
			d = "no node may be considered"
		}
	}
	out.Detail = d
	return out
}

func (s *scheduler) locationText(why reason, here *node, out *Reason) string {
	var d string
	rule := why.rule
	attrs := ""
	if rule != nil && here != nil {
		attrs = ruleAttrsText(rule, here)
	}
	on := "this node"
	if here != nil {
		on = here.name
	}
	yes, no := true, false
	switch why.sub {
	case locNode:
		d = fmt.Sprintf("score %s on %s", why.score, on)
	case locRuleMatched:
		out.RuleMatched = &yes
		d = fmt.Sprintf("rule %s (score %s) matched%s", rule.ID, why.score, attrs)
	case locRuleNoMatch:
		out.RuleMatched = &no
		d = fmt.Sprintf("rule %s (score %s) did not match%s: not applied", rule.ID, why.score, attrs)
		if rule.ScoreAttribute != "" {
			d = fmt.Sprintf("rule %s did not match%s: not applied", rule.ID, attrs)
		}
	case locRuleError:
		d = fmt.Sprintf("rule %s cannot be evaluated (%v): not applied", rule.ID, why.err)
	case locScoreAttr, locScoreAttrGarbage:
		out.RuleMatched = &yes
		v := ""
		if here != nil {
			v = here.attrs[why.attr]
		}
		d = fmt.Sprintf("rule %s matched%s; the score is node attribute %s=%s", rule.ID, attrs, why.attr, v)
		if why.sub == locScoreAttrGarbage {
			d += ", not a score, read as 0"
		}
	case locScoreAttrMissing:
		out.RuleMatched = &yes
		d = fmt.Sprintf("rule %s matched%s, but the node has no attribute %s (its score): -INFINITY", rule.ID, attrs, why.attr)
	}
	const rest = "only the first member takes the score: the later ones get 0, which only lets them run here"
	switch {
	case why.via != nil && why.via == why.restOf:
		d += fmt.Sprintf("; set on group %s, where %s", why.via.id, rest)
	case why.via != nil && why.via.kind == rscClone && why.restOf != nil:
		d += fmt.Sprintf("; set on clone %s; in group %s %s", why.via.id, why.restOf.id, rest)
	case why.via != nil && why.via.kind == rscClone:
		d += fmt.Sprintf("; set on clone %s", why.via.id)
	case why.via != nil:
		d += fmt.Sprintf("; set on group %s", why.via.id)
	}
	return d
}

// ruleAttrsText shows the node attributes a rule reads, as the node has
// them: what an admin needs to see why it matched or not.
func ruleAttrsText(r *cib.Rule, n *node) string {
	var names []string
	var walk func(r *cib.Rule)
	walk = func(r *cib.Rule) {
		for _, c := range r.Conditions {
			switch c := c.(type) {
			case *cib.Expression:
				if !slices.Contains(names, c.Attribute) {
					names = append(names, c.Attribute)
				}
			case *cib.Rule:
				walk(c)
			}
		}
	}
	walk(r)
	if len(names) == 0 {
		return ""
	}
	parts := make([]string, len(names))
	for i, a := range names {
		if v, ok := n.attrs[a]; ok {
			parts[i] = a + "=" + v
		} else {
			parts[i] = a + " not defined"
		}
	}
	return " on " + n.name + " (" + strings.Join(parts, ", ") + ")"
}

func (s *scheduler) colocationText(why reason, self *resource, on string, placed func() string) string {
	prim := "?"
	if why.other != nil {
		prim = why.other.id
	}
	same := ""
	if why.attr != "" && why.attr != "#uname" {
		v := ""
		if why.at != nil {
			v = nodeValue(why.at, why.attr)
		}
		same = fmt.Sprintf(" (node-attribute %s: nodes with %s=%q count as its node)", why.attr, why.attr, v)
	}
	w := why.score.String()
	switch why.sub {
	case coMatch:
		if why.score >= cib.Infinity {
			return fmt.Sprintf("INFINITY with %s, %s%s", prim, placed(), same)
		}
		return fmt.Sprintf("%s with %s, %s%s", w, prim, placed(), same)
	case coMismatch:
		if why.score >= cib.Infinity {
			return fmt.Sprintf("INFINITY with %s, %s, not %s%s", prim, placed(), on, same)
		}
		return fmt.Sprintf("%s with %s, %s, not %s: no effect here%s", w, prim, placed(), on, same)
	case coNowhere:
		if self != nil {
			return fmt.Sprintf("INFINITY with %s, which will not run", prim)
		}
		return fmt.Sprintf("%s with %s, %s", w, prim, placed())
	case coCloneAbsent:
		return fmt.Sprintf("INFINITY with clone %s, which has no instance on %s", prim, on)
	case coPromotedAbsent:
		return fmt.Sprintf("INFINITY with the promoted role of %s, which is not promoted on %s", prim, on)
	case coUndone:
		return fmt.Sprintf("%s with %s rolled back: it left no node able to run %s", w, prim, self.id)
	case coNotApplied:
		return fmt.Sprintf("%s with %s (%s) not applied: it would leave no node able to run %s", w, prim, placed(), self.id)
	}
	return fmt.Sprintf("%s with %s", w, prim)
}

// groupText is a group's built-in colocation and orders, as one member
// sees its neighbour.
func (s *scheduler) groupText(why reason, self *resource, on string, placed func() string) string {
	prev := why.other.id
	switch {
	case why.sub == subStuckStop:
		return fmt.Sprintf("%s must stop after %s, the member after it, which the cluster may not touch (%s): it stays where it is", self.id, prev, s.cannotActText(why.other))
	case why.ord != nil || (why.sub == subNone && self != nil):
		return fmt.Sprintf("the member before it, %s, will not run", prev)
	case why.sub == coMismatch:
		return fmt.Sprintf("follows %s, the member before it, %s, not %s", prev, placed(), on)
	}
	return fmt.Sprintf("follows %s, the member before it, %s", prev, placed())
}

func (s *scheduler) followerText(why reason, here *node, on string) string {
	if why.sub == followerClamp {
		return fmt.Sprintf("%s follows it; its preferences would make the score on %s negative: a clone keeps 1", why.other.id, on)
	}
	weight := ""
	if why.factor != 1 {
		weight = fmt.Sprintf(" (× %g = colocation score / INFINITY)", why.factor)
	}
	who := why.other.id + " follows it and"
	switch {
	case why.sub == groupFollower:
		who = why.other.id + ", a member after it,"
	case why.followed != nil && why.factor < 0:
		who = fmt.Sprintf("%s keeps away from %s and", why.other.id, why.followed.id)
	case why.followed != nil:
		who = fmt.Sprintf("%s follows %s and", why.other.id, why.followed.id)
	}
	if why.score <= -cib.Infinity {
		// bestMatching counts a node that cannot run resources as
		// -INFINITY: say so rather than call it a preference.
		if here != nil && !here.available() {
			return fmt.Sprintf("%s cannot run on %s (%s)%s", who, on, here.state(), weight)
		}
		return fmt.Sprintf("%s cannot run on %s%s", who, on, weight)
	}
	return fmt.Sprintf("%s prefers %s with %s%s", who, on, why.score, weight)
}

func (s *scheduler) cloneText(why reason) string {
	c := why.other.id
	switch why.sub {
	case cloneUnavailable:
		return fmt.Sprintf("instances of %s go only to nodes that can run resources; %s is %s", c, why.at.name, why.at.state())
	case cloneNotAllowed:
		return fmt.Sprintf("clone %s may not run on %s", c, why.at.name)
	case cloneNegative:
		return fmt.Sprintf("clone %s has score %s on %s", c, why.score, why.at.name)
	case cloneNodeMax:
		return fmt.Sprintf("clone-node-max %s: %s already has as many instances of %s", why.limit, why.at.name, c)
	case cloneMax:
		return fmt.Sprintf("clone-max %s: that many instances of %s are already placed", why.limit, c)
	case cloneUnmanaged:
		return fmt.Sprintf("the instance is not running and the cluster may not start %s (%s)", c, s.cannotActText(why.other))
	}
	return "clone " + c
}

func (s *scheduler) orderText(why reason, self *resource) string {
	first := why.other.id
	name := "it"
	if self != nil {
		name = self.id
	}
	if why.sub == subStuckStop {
		return fmt.Sprintf("%s must stop after %s, which the cluster may not touch (%s): %s stays where it is", name, first, s.cannotActText(why.other), name)
	}
	o := why.ord
	if o.thenAction == TaskPromote {
		return fmt.Sprintf("promote of %s waits for %s of %s, which will not happen: it is not promoted", name, o.firstAction, first)
	}
	return fmt.Sprintf("%s of %s waits for %s of %s, which will not happen", o.thenAction, name, o.firstAction, first)
}

func (s *scheduler) pendingText() string {
	var pending []string
	for _, n := range s.nodes {
		if n.pending {
			pending = append(pending, n.name)
		}
	}
	return fmt.Sprintf("a start waits for probes on every node, and %s (up, not yet joined) cannot run them", strings.Join(pending, ", "))
}

// cannotActText says why the cluster may not start or stop r, the
// conditions canAct tests.
func (s *scheduler) cannotActText(r *resource) string {
	switch {
	case s.stonithEnabled && !s.haveStonith:
		return "stonith-enabled=true but no fencing device is configured, so nothing is started or stopped"
	case s.maintenance:
		return "maintenance-mode=true"
	case !r.managed:
		return "it is unmanaged (is-managed=false or maintenance=true)"
	case r.blocked:
		for _, p := range r.primitives() {
			for _, n := range p.running {
				switch {
				case n.maint:
					return "it is blocked: " + n.name + " is in maintenance"
				case n.unclean:
					return "it is blocked: " + n.name + " is unclean and cannot be fenced"
				}
			}
			if p.failed {
				return "it is blocked: its stop failed and fencing is disabled"
			}
		}
		return "it is blocked: a stop ordered before its own cannot happen"
	}
	return "the cluster may act on it"
}

func (s *scheduler) decisionUnmanaged(why reason) string {
	where := "it stays stopped"
	if why.at != nil {
		where = "it stays on " + why.at.name
	}
	return fmt.Sprintf("the cluster may not start or stop it (%s): %s", s.cannotActText(why.other), where)
}

// stopReason is why r's next role is Stopped before it is placed.
func (s *scheduler) stopReason(r *resource) reason {
	switch {
	case r.targetRole == cib.RoleStopped:
		return reason{cause: CauseTargetRole}
	case r.orphan:
		return reason{cause: CauseOrphan}
	case r.stopWhy != nil:
		return *r.stopWhy
	}
	return reason{cause: CauseTargetRole}
}

// choiceReason says why chooseNode takes chosen from nodes (sorted best
// first, as sortedNodes sorts them), before assign checks it may.
func (s *scheduler) choiceReason(r *resource, nodes []*node, chosen, prefer *node) reason {
	why := reason{cause: CauseChoice, at: chosen, score: r.allowed[chosen.idx].w}
	weight := func(n *node) cib.Score {
		if !n.available() {
			return -cib.Infinity
		}
		return r.allowed[n.idx].w
	}
	w := weight(chosen)
	if w < 0 {
		why.sub = coNowhere
		if w <= -cib.Infinity {
			why.text = "no node can run it: every node's score is -INFINITY or the node cannot run resources"
		} else {
			why.text = fmt.Sprintf("no node can run it: the best score, on %s, is negative (%s)", chosen.name, w)
		}
		return why
	}
	var tied []string
	for _, n := range nodes {
		if n != chosen && weight(n) == w {
			tied = append(tied, n.name)
		}
	}
	switch {
	case chosen == prefer && chosen != nodes[0]:
		why.text = fmt.Sprintf("%s, where the clone instance runs now, scores %s, as high as any", chosen.name, w)
	case len(tied) == 0:
		why.text = fmt.Sprintf("%s has the highest score, %s", chosen.name, w)
	default:
		other := s.byKey[tied[0]]
		how := "first by name"
		switch {
		case chosen.assigned < other.assigned:
			how = fmt.Sprintf("fewer resources placed on it so far (%d against %d)", chosen.assigned, other.assigned)
		case chosen == r.currentNode():
			how = "it runs there now"
		}
		why.text = fmt.Sprintf("%s has the highest score, %s, tied with %s; chosen because %s", chosen.name, w, strings.Join(tied, ", "), how)
	}
	return why
}
