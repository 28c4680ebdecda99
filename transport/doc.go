// Package transport is hakit's messaging layer, the job Corosync does: the
// authenticated, encrypted wire format; links (several per node, knet-style
// failover); the totem single-ring protocol (membership, token, total order,
// extended virtual synchrony) as a pure state machine; votequorum-style
// quorum; process groups; and a small replicated key-value store on top.
//
// Its cores take time as an argument and queue their outputs (Step, Tick,
// Ready, Advance), never holding a clock or a socket; transport/udp is the
// production adapter. The messaging-layer issue fills this package.
package transport
