// Package link is the knet-like link layer of one node: for every peer and
// every configured link (ring0_addr is link 0, ring1_addr link 1, ...) it
// decides, by ping and pong, whether that link currently works, and from
// that which links a data frame to the peer should go out on (Route).
//
// It owns link health and link selection only. It does not seal frames,
// hold sockets or retransmit anything: the node driver wraps Ping and Pong
// in authenticated wire frames, sends them on the link named in Outbound,
// and sends its own data frames on the links Route returns. Frames that come
// back are authenticated by the wire layer before they get here, so this
// package trusts a message's origin (link, from) but not its contents.
//
// Health follows knet as Corosync 3 configures it (knet_ping_interval,
// knet_ping_timeout, knet_pong_count, knet_link_priority, link_mode):
//
//   - every PingInterval a Ping goes to every peer on every link, up or down,
//     so that a dead link is noticed coming back;
//   - a Pong is valid only if it echoes a ping still in the bounded record of
//     pings this node sent to that peer on that link, and only if its round
//     trip fits in the timeout (knet discards slower pongs too);
//   - a link goes up after PongCount valid pongs with no PingTimeout gap
//     between them; a gap restarts the count, and so does going down: a
//     link that has just failed needs the full PongCount again before it
//     carries data, which is the hysteresis against flapping;
//   - a link goes down when no valid pong has arrived for PingTimeout
//     (times Config.TimeoutBackoff's factor while that is enabled; see
//     there);
//   - Passive mode sends data on the up link with the highest Priority (the
//     lowest id on a tie) and fails back to a better link as soon as it is
//     up again, because knet recomputes its choice on every link change;
//     Active mode sends on every up link and relies on the wire layer's
//     replay window to drop the duplicates.
//
// Manager is a pure state machine in the etcd/raft style, like
// transport/totem's Ring: it holds no clock, socket or goroutine. The
// driver runs this loop on the node's event loop:
//
//	m, _ := link.New(cfg, clock.Mono())
//	for each received link frame: msg, err := link.Decode(payload); m.Step(at, link, from, msg)
//	    (or m.Receive(at, link, from, payload), which also counts undecodable ones)
//	when the timer armed for m.NextDeadline() fires: m.Tick(now)
//	after each of the above:
//	    rd := m.Ready()
//	    send each rd.Messages[i].Msg, encoded, on its Link to its To
//	    hand rd.Changes to whoever cares (logging, membership hints)
//	    m.Advance(rd)
//	    re-arm the timer for m.NextDeadline()
//	to send a data frame to a peer: for each l in m.Route(peer): send on l
//
// Step should be given the frame's arrival time (env's `at`), not the time
// the loop got round to it: round trips are then honest even when the
// process was briefly descheduled. A Tick much later than NextDeadline
// means the node itself did not run (SIGSTOP, a frozen VM); the silence it
// slept through is not evidence against the links, so the windows restart
// instead (Stats.PausesDetected).
package link
