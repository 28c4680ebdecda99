// Package totem is the totem single-ring ordering and membership protocol
// (Amir, Moser, Melliar-Smith, Agarwal, Ciarfella, ACM TOCS 13(4), 1995) as
// Corosync runs it: a token circulates the ring in node-id order carrying
// the ring's sequence number, all-received-up-to (aru) and retransmission
// requests; whoever holds it may multicast, within max_messages per visit
// and window_size per rotation; messages are delivered in sequence order
// (agreed delivery). Losing the token for Token starts membership: join
// messages gather the candidates until they agree (or Consensus expires and
// the silent ones are declared failed), the lowest candidate sends a commit
// token round twice, members re-send what their old ring may lack
// (recovery), and then each delivers the rest of its old ring, the
// transitional configuration and the new regular configuration: extended
// virtual synchrony. An idle ring's token is held by the representative for
// Hold; representatives of incomplete rings announce themselves every Merge
// so that partitions heal into one ring.
//
// Ring is a pure state machine in the etcd/raft style: it holds no clock,
// socket or goroutine. The driver runs this loop on the node's event loop:
//
//	r, _ := totem.New(cfg, persisted, clock.Mono())
//	for each received frame: m, err := totem.Decode(payload); r.Step(now, from, m)
//	for each application message: r.Send(now, payload)
//	when the timer armed for r.NextDeadline() fires: r.Tick(now)
//	after each of the above:
//	    rd := r.Ready()
//	    write rd.Persist durably (if set) BEFORE sending anything
//	    send each rd.Messages (To == Broadcast: every other node)
//	    hand rd.Events to the application, in order
//	    r.Advance(rd)
//	    re-arm the timer for r.NextDeadline()
//
// Differences from Corosync worth knowing: consensus is never reached from
// a node's own view alone (a lone node forms its ring when Consensus
// expires); a join that names us as failed does not pull us out of a
// working ring; the token-loss timer of the representative runs from the
// token's arrival, not from the end of a hold, so detection stays within
// Token + Consensus; a node that detects it was not scheduled for more than
// Token/2 shifts its timers instead of acting on them.
package totem
