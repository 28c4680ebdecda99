// Package udp is the production env.Transport: real UDP sockets, one per
// link, the way knet uses them under Corosync 3.
//
// Link N of a node binds its ringN_addr on its own port (Corosync's
// mcastport + link number, 5405+N by default; see DefaultPort) and sends
// unicast datagrams to every peer's ringN_addr on that link's port. There is
// no multicast and no connection: a Broadcast is one unicast per peer.
//
// What this package owns:
//
//   - the sockets: binding them (Open), reading them (one goroutine per
//     socket), writing them (Send, Broadcast on the caller's goroutine, which
//     is the node's loop), and closing them (Close, which waits for the
//     readers);
//   - who sent a datagram: the sender's NodeID comes only from the source
//     address, matched against the peers' configured addresses on that link.
//     Datagrams from any other address are dropped and counted, as Corosync
//     does with block_unlisted_ips. Nothing inside a frame is trusted here;
//     the wire layer above authenticates it;
//   - the hand-off to the loop: each frame is copied, stamped with
//     Clock.Mono() as soon as the read returns, and posted with Loop.Post.
//     At most Config.RecvQueueMax frames per link wait for the loop; beyond
//     that they are dropped and counted, so a flood costs bounded memory;
//   - size limits: frames above env.MaxFrameSize (or above what one UDP
//     datagram can carry) are refused by Send; received datagrams are read
//     into a buffer one byte larger than env.MaxFrameSize so truncation is
//     seen and the datagram dropped;
//   - counters (Stats) for everything sent, received and dropped, and
//     Block/Unblock, which cut one peer on one link without root (for tests
//     and the lab).
//
// What it does not own: link health and failover (transport/link),
// framing, authentication and replay protection (transport/wire), and
// retransmission (transport/totem). Send errors that are part of normal
// cluster life (ECONNREFUSED from a dead peer's ICMP port unreachable,
// ENETUNREACH while an interface is down, ENOBUFS) are counted and logged,
// never returned: the frame is lost, which the protocols above already
// expect of a datagram.
//
// This is one of the adapters allowed goroutines, sockets and real time
// (internal/detguard exempts it). The reader goroutines read the clock
// (Clock.Mono must therefore be safe from any goroutine, as
// runtime.Clock's is) and call Loop.Post; everything else runs on the loop.
package udp
