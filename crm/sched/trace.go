package sched

import (
	"github.com/hakit/hakit/crm/cib"
)

// The scheduler's own score arithmetic records why, so that Explain can
// say where a score comes from without a second scorer that could drift
// from this one. Every change to a node score goes through addScore or
// setScore with a reason; remark notes what was looked at and changed
// nothing (a rule that did not match). Schedule never allocates a note:
// the reasons are plain values, dropped unless s.explain is set.

// Cause names what a contribution to a score, or a decision, comes from.
type Cause string

const (
	// CauseSymmetric: symmetric-cluster lets every resource consider every
	// node, at score 0.
	CauseSymmetric  Cause = "symmetric-cluster"
	CauseLocation   Cause = "location"
	CauseStickiness Cause = "stickiness"
	// CauseUnmanaged: the cluster may not act on the resource
	// (is-managed=false, maintenance, a blocked failure, no fencing device).
	CauseUnmanaged Cause = "unmanaged"
	// CauseFailCount: the fail count reached migration-threshold.
	CauseFailCount Cause = "fail-count"
	// CauseColocation: this resource is placed relative to another.
	CauseColocation Cause = "colocation"
	// CauseFollower: another resource placed relative to this one pulls it
	// towards the nodes that resource prefers (Pacemaker merges their
	// scores into this one's before choosing).
	CauseFollower Cause = "colocation-follower"
	// CauseGroup: a group member follows the member before it, and draws
	// it towards the nodes the members after it prefer.
	CauseGroup Cause = "group"
	// CauseClone: clone-max, clone-node-max and the clone's own scores
	// limit where an instance may go.
	CauseClone      Cause = "clone"
	CausePromotion  Cause = "promotion"
	CauseTargetRole Cause = "target-role"
	CauseOrphan     Cause = "orphan"
	CauseOrder      Cause = "order"
	// CauseNode: a node's state holds a start back (a pending node has not
	// probed the resource). A node that cannot run resources at all says so
	// in NodeScore.State and CanRun instead.
	CauseNode Cause = "node"
	// CauseQuorum: the partition has no quorum and no-quorum-policy stops
	// or freezes resources; CauseStopAll: stop-all-resources is set.
	CauseQuorum  Cause = "quorum"
	CauseStopAll Cause = "stop-all-resources"
	// CauseChoice: the node chosen among those that may run the resource.
	CauseChoice Cause = "choice"
)

type noteOp int8

const (
	opAdd  noteOp = iota // the score plus w (Pacemaker's saturating sum)
	opSet                // the score replaced by w
	opNone               // looked at, changed nothing
)

// note is one step of a score's history; prev is the step before (a
// number as in entry.why).
type note struct {
	prev int32
	op   noteOp
	w    cib.Score
	why  reason
}

// subCause tells apart the cases of one Cause that read differently.
type subCause int8

const (
	subNone subCause = iota
	locNode
	locRuleMatched
	locRuleNoMatch
	locRuleError
	locScoreAttr
	locScoreAttrMissing
	locScoreAttrGarbage
	coMatch
	coMismatch
	coNowhere
	coCloneAbsent
	coPromotedAbsent
	coUndone
	coNotApplied
	followerClamp
	groupFollower
	cloneUnavailable
	cloneNotAllowed
	cloneNegative
	cloneNodeMax
	cloneMax
	cloneUnmanaged
	subPending
	subStuckStop
)

// reason is why a score changed, in the scheduler's terms; Explain turns
// it into words. It holds pointers, not text, so that Schedule pays
// nothing to build one; what changes later (where the other resource is)
// is captured when the reason is made.
type reason struct {
	cause  Cause
	sub    subCause
	id     string    // the constraint's id
	rule   *cib.Rule // a location's rule
	err    error     // the rule could not be evaluated
	other  *resource // the other resource involved
	at     *node     // where other was placed then; a node the reason is about
	via    *resource // the group or clone a constraint came through
	restOf *resource // the group whose later member this is (a location's score becomes 0)
	// followed is the resource a follower is colocated with.
	followed *resource
	score    cib.Score // a configured score, fail count, another resource's best score
	limit    cib.Score // migration-threshold, clone-max, clone-node-max
	factor   float64   // the weight a follower's scores are merged with
	attr     string    // colocation node-attribute, score-attribute
	ord      *ordering // an order that withdrew a start
	text     string    // already in words (decisions, made only when explaining)
}

func (s *scheduler) addScore(t table, i int, w cib.Score, why reason) {
	t.add(i, w)
	if s.explain {
		s.keepNote(t, i, opAdd, w, why)
	}
}

func (s *scheduler) setScore(t table, i int, w cib.Score, why reason) {
	t[i].w = w
	if s.explain {
		s.keepNote(t, i, opSet, w, why)
	}
}

func (s *scheduler) remark(t table, i int, why reason) {
	if s.explain {
		s.keepNote(t, i, opNone, 0, why)
	}
}

func (s *scheduler) keepNote(t table, i int, op noteOp, w cib.Score, why reason) {
	s.notes = append(s.notes, note{prev: t[i].why, op: op, w: w, why: why})
	t[i].why = int32(len(s.notes))
}

// decide records how r's node was chosen (or why none was).
func (s *scheduler) decide(r *resource, why reason) {
	if s.explain {
		w := why // a copy made here, so that Schedule allocates nothing
		r.decision = &w
	}
}

// withdraw records why r's start was taken back after it was placed.
func (s *scheduler) withdraw(r *resource, why reason) {
	if s.explain {
		r.withdrawn = append(r.withdrawn, why)
	}
}

// ignored records a colocation that was tried and rolled back.
func (s *scheduler) ignored(r *resource, why reason) {
	if s.explain {
		r.ignoredColocs = append(r.ignoredColocs, why)
	}
}
