// Package quorum is votequorum, Corosync 3's vote-based quorum service
// (votequorum(5)), as a pure state machine. Each node runs one Quorum; it
// never reads a clock, sends a frame or starts a goroutine, so the same code
// runs in the node and, replayably, in the simulator.
//
// # What it decides
//
// Every node has votes (the nodelist's quorum_votes) and an expected_votes
// (configured, or the sum of the nodelist). After each membership change
// every member broadcasts a NodeInfo through the agreed order; a member's
// votes count once its NodeInfo has arrived. As in votequorum, the highest
// expected_votes among the quorate members wins (a member that is not
// quorate, such as a node just rebooted, adopts theirs), or among all
// members when none is quorate, and never less than the votes present.
// Quorum is expected_votes/2+1, and expected_votes never falls on its own:
// only last_man_standing, SetExpected (corosync-quorumtool -e) and adopting
// a quorate cluster's value lower it. On top of that come two_node,
// wait_for_all, last_man_standing and auto_tie_breaker, each documented on
// its Config field.
//
// # The loop the caller must run
//
// The driver (package node) owns the event loop and feeds the Quorum from
// totem, which gives every member the same sequence of regular
// configurations and agreed-order messages:
//
//	q, err := quorum.New(cfg)
//	// for each input, on the loop:
//	q.SetMembership(now, conf.Members)   // a regular configuration
//	q.Receive(now, info)                 // a NodeInfo in agreed order, own ones too
//	q.Tick(now)                          // the timer armed for NextDeadline fired
//	err = q.SetExpected(now, v)          // an operator's request
//	// then, after every input:
//	for q.HasReady() {
//		rd := q.Ready()
//		if rd.Broadcast != nil {
//			// send *rd.Broadcast to all members in agreed order; it
//			// comes back to this node's Receive like everyone else's
//		}
//		for _, st := range rd.Changes {
//			// notify quorum users (the CRM) in this order
//		}
//		q.Advance(rd)
//	}
//	if at, ok := q.NextDeadline(); ok {
//		// (re)arm one env.Clock.AfterFunc to call Tick at `at`
//	}
//
// Ordering obligations: deliver a configuration before any message sent in
// it, deliver every NodeInfo to every member of the configuration it was
// sent in (the sender included) in the same order, and hand the Changes on
// in order. Advance must get the last Ready; a broadcast that became due
// between Ready and Advance stays pending for the next round.
//
// # Where it departs from votequorum
//
// auto_tie_breaker_node is resolved from the nodelist alone (see
// Config.AutoTieBreakerNode): the two halves of a split cannot agree on
// which listed node "was in the cluster before the split", and agreeing is
// what makes the tie-break safe. For the same reason the tie-breaker only
// settles exact halves of an even expected_votes, where votequorum also
// lets the tie-breaker's side of a "half-1" split of an odd one through. A
// member's expected_votes is judged by its own NodeInfo rather than by the
// state votequorum keeps per node, and a node with no quorate member takes
// the highest expected_votes of all, never a lower one from a peer that is
// itself inquorate. qdevice, allow_downscale and expected_votes_tracking
// are not implemented.
package quorum
