package quorum

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/hakit/hakit/node/env"
)

// NodeInfo flags. A node sends its own state so that the others can judge
// its expected_votes and adopt its view (FlagQuorate with FlagWFAStatus
// clear ends a joiner's wait_for_all).
const (
	// FlagQuorate: the sender was quorate when it sent the info.
	FlagQuorate uint32 = 1 << iota
	// FlagWFAStatus: the sender is waiting for all nodes.
	FlagWFAStatus
	// FlagSetExpected turns the info into corosync-quorumtool -e: every
	// member, the sender included, adopts ExpectedVotes as the cluster's
	// expected_votes when the info is delivered. Applying it at delivery
	// rather than at the call keeps all members changing at the same point
	// of the agreed order.
	FlagSetExpected
)

// NodeInfo is what a node tells the others about itself, through the agreed
// order, after every membership change and whenever its quorate or waiting
// state changes.
type NodeInfo struct {
	Node env.NodeID
	// Votes is the sender's quorum_votes: a node's votes count only once
	// its own NodeInfo has arrived, as in votequorum.
	Votes uint32
	// ExpectedVotes is the sender's expected_votes. The highest among the
	// quorate members wins; see the package documentation.
	ExpectedVotes uint32
	Flags         uint32
}

// ErrWouldLoseQuorum is returned by SetExpected for a value that would
// leave the current members without quorum. votequorum_setexpected(3): "It
// is not possible to set expected votes up so that it makes the cluster
// inquorate using this command."
var ErrWouldLoseQuorum = errors.New("quorum: expected votes would make the cluster inquorate")

// maxPendingChanges bounds the notifications queued between Advance calls. A
// driver that runs the Ready loop after every input never gets near it, so
// reaching it is a driver bug, not a load condition.
const maxPendingChanges = 4096

// Quorum is votequorum for one node, as a pure state machine: it holds no
// clock and sends nothing itself. See the package documentation for the loop
// that drives it.
type Quorum struct {
	cfg resolved

	members  []env.NodeID // current regular configuration, sorted, always holding Self
	inConfig bool         // a configuration has been installed, so broadcasts can go out
	// infos holds the latest NodeInfo delivered from each current member,
	// this node's own included (for last_man_standing's freshness check):
	// every member applies the same agreed sequence, so they all reach the
	// same expected_votes. This node's own votes, expected_votes and
	// quorate state come from its live state instead, so that a node never
	// counts itself out while its own broadcast is in flight.
	infos map[env.NodeID]NodeInfo
	// fresh marks the members whose NodeInfo was delivered since the last
	// membership change; a continuing member's older info still counts its
	// votes, but only a fresh one speaks for its quorate state, and
	// last_man_standing waits for everyone's new one.
	fresh map[env.NodeID]bool

	// expected is this node's expected_votes. It only rises (votequorum(5):
	// "the general behaviour of votequorum is to never decrease expected
	// votes or quorum"), except through last_man_standing, SetExpected and
	// an inquorate node adopting the value of the quorate members.
	// Keeping the raise is what stops a half that saw a higher value from
	// forgetting it once the node that brought it leaves.
	expected   uint32
	wfaWaiting bool // waiting for all nodes: since start, or since quorum was lost

	lmsArmed    bool
	lmsDeadline env.Mono

	status  Status   // as of the last input
	changes []Status // notifications not yet handed out by Advance

	bcastPending bool
	bcastGen     uint64 // bumped whenever a broadcast becomes due, so Advance can tell a stale Ready
	setExpected  uint32 // pending corosync-quorumtool -e value, 0 for none

	dropped uint64
}

// New validates cfg and returns the node's Quorum, alone in its membership
// until the first SetMembership. The first Ready carries the initial Status.
func New(cfg Config) (*Quorum, error) {
	r, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	q := &Quorum{
		cfg:        r,
		members:    []env.NodeID{cfg.Self},
		infos:      map[env.NodeID]NodeInfo{},
		fresh:      map[env.NodeID]bool{},
		expected:   r.expected,
		wfaWaiting: r.waitForAll,
	}
	q.status = q.recompute()
	q.changes = append(q.changes, q.status.clone())
	return q, nil
}

// SetMembership installs a new regular configuration. Members that left are
// forgotten; members that stay keep their last NodeInfo until a new one
// arrives, so a continuing member's votes never blink out. Every member is
// expected to rebroadcast, so one is queued for this node too.
//
// members must contain Self: totem's regular configurations always hold the
// local node, and a driver that loses it has a bug that must not be hidden.
func (q *Quorum) SetMembership(now env.Mono, members []env.NodeID) {
	ms := slices.Clone(members)
	slices.Sort(ms)
	ms = slices.Compact(ms)
	if len(ms) > MaxMembers {
		panic(fmt.Sprintf("quorum: membership of %d nodes exceeds MaxMembers (%d)", len(ms), MaxMembers))
	}
	if len(ms) > 0 && ms[0] == 0 {
		panic("quorum: membership contains node id 0")
	}
	if _, ok := slices.BinarySearch(ms, q.cfg.Self); !ok {
		panic(fmt.Sprintf("quorum: membership %v does not contain Self (node %d)", ms, q.cfg.Self))
	}
	q.members, q.inConfig = ms, true
	for _, id := range slices.Sorted(maps.Keys(q.infos)) {
		if !q.isMember(id) {
			delete(q.infos, id)
		}
	}
	clear(q.fresh)
	if q.cfg.LastManStanding {
		// The window measures stable membership, so every change restarts it.
		q.lmsArmed, q.lmsDeadline = true, now.Add(q.cfg.LastManStandingWindow)
	}
	q.queueBroadcast()
	q.update()
}

// Receive takes a member's NodeInfo, delivered in agreed order (this node's
// own broadcasts included). Infos from non-members and out-of-range values
// are counted and dropped: they are network input, never a reason to panic.
func (q *Quorum) Receive(now env.Mono, info NodeInfo) {
	if info.Node == 0 || !q.isMember(info.Node) || info.Votes > MaxNodeVotes ||
		info.ExpectedVotes > MaxExpectedVotes ||
		(info.Flags&FlagSetExpected != 0 && info.ExpectedVotes == 0) {
		q.dropped++
		return
	}
	if info.Flags&FlagSetExpected != 0 {
		q.applyExpected(info.ExpectedVotes)
	}
	q.infos[info.Node] = info
	q.fresh[info.Node] = true
	q.update()
}

// Tick fires the last_man_standing window if it has expired.
func (q *Quorum) Tick(now env.Mono) {
	if !q.lmsArmed || now < q.lmsDeadline {
		return
	}
	q.lmsArmed = false
	for _, m := range q.members {
		if !q.fresh[m] {
			// Lowering expected_votes while a member's votes are unknown
			// would lower it too far, and an info still in flight with the
			// old expected_votes would raise it again on arrival. Wait
			// another window.
			q.lmsArmed, q.lmsDeadline = true, now.Add(q.cfg.LastManStandingWindow)
			return
		}
	}
	total := q.status.TotalVotes
	if !q.status.Quorate || total >= q.expected {
		return
	}
	// votequorum(5) walks 8 nodes down to "expected_votes: 2 quorum: 2" and
	// says going on to 1 needs auto_tie_breaker.
	target := total
	if !q.cfg.AutoTieBreaker && target < 2 {
		target = 2
	}
	if target >= q.expected {
		return
	}
	q.applyExpected(target)
	q.queueBroadcast()
	q.update()
}

// NextDeadline reports when Tick next has work: the end of the
// last_man_standing window.
func (q *Quorum) NextDeadline() (env.Mono, bool) {
	return q.lmsDeadline, q.lmsArmed
}

// SetExpected is corosync-quorumtool -e: it asks every member to use votes as
// expected_votes. It refuses values that would leave the current members
// inquorate. The change takes effect when this node's broadcast is delivered
// back to it, like everywhere else; values below the votes present act as
// the votes present, since expected_votes never falls below them.
func (q *Quorum) SetExpected(now env.Mono, votes uint32) error {
	if votes == 0 {
		return errors.New("quorum: SetExpected: expected votes must be at least 1")
	}
	if votes > MaxExpectedVotes {
		return fmt.Errorf("quorum: SetExpected: %d is more than MaxExpectedVotes (%d)", votes, MaxExpectedVotes)
	}
	total := q.status.TotalVotes
	if need := quorumOf(max(votes, total), q.twoNodeActive()); need > total {
		return fmt.Errorf("%w: expected %d needs %d votes, %d present", ErrWouldLoseQuorum, votes, need, total)
	}
	q.setExpected = votes
	q.queueBroadcast()
	return nil
}

// Status is the quorum state as of the last input.
func (q *Quorum) Status() Status { return q.status.clone() }

// Dropped counts NodeInfos refused by Receive.
func (q *Quorum) Dropped() uint64 { return q.dropped }

// Ready is what the driver must carry out, in field order, before Advance.
type Ready struct {
	// Broadcast, if set, must be sent to every member through the agreed
	// order, and delivered back to this node's Receive like anyone's. It
	// is due after a membership change, a change of this node's quorate or
	// wait-for-all flags, last_man_standing lowering expected_votes, and
	// SetExpected.
	Broadcast *NodeInfo
	// Changes are quorum notifications, oldest first: one per input that
	// changed the Status. Hand them on in this order.
	Changes []Status

	bcastGen uint64
}

// HasReady reports whether Ready would hand out anything.
func (q *Quorum) HasReady() bool { return q.bcastPending || len(q.changes) > 0 }

// Ready returns the pending outputs without consuming them; Advance does.
// The broadcast is built now, so it carries the node's latest values.
func (q *Quorum) Ready() Ready {
	rd := Ready{Changes: slices.Clone(q.changes)}
	if q.bcastPending {
		info := q.ownInfo()
		rd.Broadcast, rd.bcastGen = &info, q.bcastGen
	}
	return rd
}

// Advance acknowledges rd, which must be the last Ready returned. A
// broadcast that became due again after that Ready stays pending.
func (q *Quorum) Advance(rd Ready) {
	if len(rd.Changes) > len(q.changes) {
		panic(fmt.Sprintf("quorum: Advance with %d changes, only %d pending: not the last Ready", len(rd.Changes), len(q.changes)))
	}
	q.changes = slices.Delete(q.changes, 0, len(rd.Changes))
	if rd.Broadcast != nil && rd.bcastGen == q.bcastGen {
		q.bcastPending = false
		q.setExpected = 0
	}
}

func (q *Quorum) queueBroadcast() {
	q.bcastPending = true
	q.bcastGen++
}

func (q *Quorum) isMember(id env.NodeID) bool {
	_, ok := slices.BinarySearch(q.members, id)
	return ok
}

// twoNodeActive: votequorum(5) "If more than 2 nodes join the cluster, the
// two_node option is automatically disabled."
func (q *Quorum) twoNodeActive() bool { return q.cfg.twoNode && len(q.members) <= 2 }

// quorumOf is votequorum's rule: a strict majority of expected_votes, or 1
// with two_node ("quorum is set artificially to 1").
func quorumOf(expected uint32, twoNode bool) uint32 {
	if twoNode {
		return 1
	}
	return expected/2 + 1
}

// applyExpected sets this node's expected_votes and every stored member's, so
// that the highest-wins rule does not bring the old value straight back.
func (q *Quorum) applyExpected(v uint32) {
	q.expected = v
	for _, id := range slices.Sorted(maps.Keys(q.infos)) {
		info := q.infos[id]
		info.ExpectedVotes = v
		q.infos[id] = info
	}
}

// update recomputes the Status and queues a notification if it changed.
func (q *Quorum) update() {
	s := q.recompute()
	if s.Equal(q.status) {
		return
	}
	if len(q.changes) >= maxPendingChanges {
		panic(fmt.Sprintf("quorum: %d status changes pending: the driver must run Ready/Advance after every input", len(q.changes)))
	}
	// The flags in this node's NodeInfo are what lets a restarted peer
	// end its wait_for_all, so peers must hear when they change, not only
	// at the next membership change.
	if q.inConfig && (s.Quorate != q.status.Quorate || s.WaitForAllStatus != q.status.WaitForAllStatus) {
		q.queueBroadcast()
	}
	q.status = s
	q.changes = append(q.changes, s.clone())
}

// recompute derives the Status from members, infos and this node's own
// values, and records the two facts that outlive the inputs: this node's
// expected_votes and whether it waits for all nodes.
func (q *Quorum) recompute() Status {
	self := q.cfg.Self
	total := q.cfg.votes[self]
	tieBreakerIn := q.cfg.tieBreaker == self
	// expected_votes as votequorum propagates it: while any member (this
	// node by its current state, the others by their NodeInfo sent in
	// this configuration) is quorate, the highest value among the quorate
	// ones wins, so a rebooted node's configured value cannot undo what
	// last_man_standing or SetExpected agreed, and the rebooted node
	// adopts the cluster's. With no quorate member the highest of all
	// wins, this node's included: the cautious choice when nobody knows
	// better, and what keeps a node cut off from a shrunk cluster from
	// forming a second quorate partition with rebooted nodes.
	all, ofQuorate, anyQuorate := q.expected, uint32(0), q.status.Quorate
	if anyQuorate {
		ofQuorate = q.expected
	}
	// A quorate member that is not waiting proves the cluster was seen
	// whole; without taking its word, a node rejoining a cluster with one
	// node down for good would wait forever.
	vouched := false
	for _, m := range q.members {
		info, ok := q.infos[m]
		if !ok || m == self {
			continue
		}
		total += info.Votes
		all = max(all, info.ExpectedVotes)
		// Only an info sent in this configuration speaks for the
		// member's state now: an older one may predate a split.
		if q.fresh[m] && info.Flags&FlagQuorate != 0 {
			ofQuorate, anyQuorate = max(ofQuorate, info.ExpectedVotes), true
			vouched = vouched || info.Flags&FlagWFAStatus == 0
		}
		if m == q.cfg.tieBreaker {
			tieBreakerIn = true
		}
	}
	highest := all
	if anyQuorate {
		highest = ofQuorate
	}
	// Votes present count as expected: votequorum(5)'s allow_downscale
	// example calls raising expected_votes to 13 when 10 nodes join 3
	// "standard votequorum behavior".
	q.expected = max(highest, total)
	twoNode := q.twoNodeActive()
	quorum := quorumOf(q.expected, twoNode)
	if q.wfaWaiting && (total >= q.expected || vouched) {
		q.wfaWaiting = false
	}
	quorate := total >= quorum
	// An exact half can only happen with an even expected_votes; requiring
	// total*2 == expected (rather than total == expected/2) keeps the
	// minority of an odd split from claiming the tie.
	if !quorate && q.cfg.AutoTieBreaker && uint64(total)*2 == uint64(q.expected) && tieBreakerIn {
		quorate = true
	}
	if q.wfaWaiting {
		quorate = false
	}
	// votequorum waits for all nodes again whenever the node is inquorate:
	// a node cut off from the cluster cannot tell whether the rest is
	// still quorate, and must not become quorate with nodes that never saw
	// it whole.
	if q.cfg.waitForAll && !quorate && !vouched {
		q.wfaWaiting = true
	}
	return Status{
		Node:             self,
		Quorate:          quorate,
		Quorum:           quorum,
		ExpectedVotes:    q.expected,
		HighestExpected:  highest,
		TotalVotes:       total,
		Members:          slices.Clone(q.members),
		TwoNode:          twoNode,
		WaitForAll:       q.cfg.waitForAll,
		WaitForAllStatus: q.wfaWaiting,
		LastManStanding:  q.cfg.LastManStanding,
		AutoTieBreaker:   q.cfg.AutoTieBreaker,
	}
}

func (q *Quorum) ownInfo() NodeInfo {
	var flags uint32
	if q.status.Quorate {
		flags |= FlagQuorate
	}
	if q.wfaWaiting {
		flags |= FlagWFAStatus
	}
	info := NodeInfo{
		Node:          q.cfg.Self,
		Votes:         q.cfg.votes[q.cfg.Self],
		ExpectedVotes: q.expected,
		Flags:         flags,
	}
	if q.setExpected != 0 {
		info.ExpectedVotes = q.setExpected
		info.Flags |= FlagSetExpected
	}
	return info
}
