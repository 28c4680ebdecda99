// Package cmap is hakit's replicated key-value store: Corosync's cmap (a
// map every node holds, changed through the totem agreed order) with
// compare-and-set and linearizable reads. It is a pure state machine in
// the etcd/raft style: it holds no clock, socket or goroutine, and every
// replica that applies the same sequence of messages reaches the same
// state, so the same code runs in the node and, replayably, in the
// simulator.
//
// # The loop the driver runs
//
// The driver (package node) owns the event loop, the totem ring and
// votequorum, and multiplexes the store on the agreed stream under its
// own service byte (like svcQuorum and svcApp):
//
//	s := cmap.NewRestarted(self, lastEpoch) // the last PersistEpoch made durable, 0 if none
//	// a client request on this node:
//	id, msg, err := s.SubmitReq(op)   // err: refused without sending
//	if err == nil && ring.Send(now, msg) != nil { s.Forget(id) }
//	// totem output, in order:
//	s.Apply(sender, payload)               // each delivery of the service, own ones too
//	s.Configuration(cmap.RingID{...}, members) // each regular configuration
//	s.SetQuorate(status.Quorate)           // after each configuration and quorum change
//	// after every input:
//	for s.HasReady() {
//		rd := s.Ready()
//		if rd.PersistEpoch != nil { write it durably, or stop the node }   // first
//		if rd.SyncFailed != nil { log it }
//		for _, m := range rd.Broadcast { ring.Send(now, m) }   // in order
//		for _, r := range rd.Results { answer request r.ReqID }
//		for _, e := range rd.Events { notify watch e.WatchID }
//		s.Advance(rd)
//	}
//
// Submit validates a request, refuses it when this node is not quorate
// (ErrNotQuorate, for writes and for linearizable Gets alike; GetLocal is
// the stale read a non-quorate node may serve), and returns the message;
// it changes nothing. Apply changes the map when the message comes back in
// agreed order, on every replica at the same point of the stream; Ready
// hands out what that produced: results for this node's requests, watch
// events, and the store's own protocol messages.
//
// # When an operation takes effect
//
// Whether a delivered operation is applied must be decided from the
// stream alone, never from the timing of local calls. So each member
// announces its SetQuorate view through the stream (a quorum marker), and
// a configuration is writable while the state transfer below is over and
// every member's latest marker says quorate. An operation delivered before
// the configuration settles (transfer over, every member's first marker
// in) is held back and decided when it does, so a request sent around a
// configuration change is not refused for being early; the buffer is
// bounded and beyond it operations are refused with ErrSyncing. An
// operation decided while the configuration is not writable is refused by
// every replica alike (ErrNotQuorate or ErrSyncing, a definite outcome: it
// did not happen). This rests on votequorum's promise that at most one
// side of a split is quorate; two_node (both halves keep quorum and
// fencing decides) weakens it for the store as it does for everything
// else.
//
// Totem delivers in agreed, not safe, order, and extended virtual
// synchrony only promises that members which move to the same next
// configuration delivered the same messages of the old one: when a ring
// splits, each side delivers a prefix of the old ring's order, and a
// minority side may deliver an operation the quorate side never sees. A
// result of that operation must not reach the client. So the result of an
// applied operation (a read's value, a CAS's verdict, a write) is released
// only once every other member of the configuration has acknowledged, with
// an ack message in the stream, that it applied the ring's operations up
// to that one: then every side of any later split holds it. Each member
// sends at most one ack per Ready, covering all it applied, and only for
// operations of other members that took effect. Before its first ack or
// result in a writable configuration, a member makes the configuration's
// epoch durable (Ready.PersistEpoch, see State transfer): every member of
// a configuration that released a result remembers having taken part in
// it, even after a restart that lost its replica.
//
// A configuration change fails every pending request of this node with
// ErrUnknownOutcome: it may have been delivered on another side, applied
// here without every acknowledgement, or still sit in totem's send queue
// (which survives configuration changes) and be delivered in the new ring.
// Losing quorum fails them too, with an error matching both ErrNotQuorate
// and ErrUnknownOutcome. Either way the client must treat the outcome as
// unknown (and a linearizability checker must give it Return = infinity).
//
// # State transfer
//
// A node that joins a ring has missed operations, a side of a split may
// have applied a tail of the old ring the other lacks, and a node that
// restarted has lost its replica (the contents live in memory only). On
// each regular configuration every member announces its status through
// the stream: its replica's (epoch, revision, digest), and the newest
// epoch it knows it took part in; operations are held back until the
// transfer ends. The revision counts mutations. The epoch names the newest
// writable configuration in a replica's history: the first time a
// configuration becomes writable, all its replicas (equal after the
// transfer) take its ring sequence as their epoch, and each member makes
// that epoch durable before it acknowledges or reports anything in it
// (Ready.PersistEpoch; package node keeps it in the file cmap-epoch). A
// member's known epoch is the higher of its replica's epoch and the one on
// its disk (NewRestarted).
//
// When every member's status is in (at the same point of the stream on
// every replica), the source is the member with the highest (epoch,
// revision), the lowest node id among equals. If some member knows an
// epoch above the source's, the newest state is missing (the members that
// held it are elsewhere, or restarted): the transfer fails
// (ErrStateMissing) and the configuration stays read-only, as after a bad
// snapshot below, until a later configuration includes a member that
// holds that epoch's state or a newer one.
//
// Why the source holds every acknowledged operation. Ring sequences grow
// along each node's configurations, across restarts too (totem persists
// its own), and two quorate configurations share a member (votequorum's
// majorities intersect), so writable configurations have distinct epochs,
// ordered as they happened. Let W be a writable configuration that
// released a result and C a later one that becomes writable. They share a
// member, which persisted W's epoch before its ack: its known epoch is at
// least W's, so C's source holds a replica of W's epoch or a newer one. A
// replica of W's epoch is the state a member of W had when it left W (or a
// copy of one): a prefix of W's order holding everything acknowledged in
// W, since every member acknowledged it; among them the longest wins. A
// replica of a newer epoch W' descends from the state W' started from,
// which by the same argument, applied to W', held W's acknowledged
// operations. A minority that applied a longer tail of an older
// configuration has a lower epoch and is overwritten; what it loses had an
// unknown outcome. A member that never started a writable configuration's
// epoch (it lagged and left before the point where the configuration
// became writable, or crashed before persisting the epoch) acknowledged
// nothing in it, so that configuration released nothing; and the
// unacknowledged tail the others applied there loses to any later
// writable configuration, whose epoch is higher. (Counting writable
// configurations instead of naming them by ring sequence would give two of
// them the same epoch in exactly that case, and let that tail win.)
//
// If every member's (revision, digest) equals the source's, the transfer
// ends at once (members adopt the source's epoch). Otherwise the source
// broadcasts its snapshot (at most MaxStoreBytes of entries, in chunks of
// 48 KiB, tagged with the ring id), every replica checks it against the
// source's status, and the transfer ends at the last chunk: replicas that
// lag install it, reporting each changed key to their watches. A snapshot
// that fails the check leaves the configuration read-only until the next
// one (ErrBadSnapshot); a source that fails mid-transfer causes a new
// configuration anyway. Writes that would make the store exceed
// MaxStoreBytes are refused on every replica (ErrStoreFull), so a snapshot
// always fits. A configuration left read-only refuses operations with
// ErrSyncing; Ready.SyncFailed, Status.SyncError and Stats (SyncFailures,
// MissingState) say why.
//
// Only the epoch is persistent; the contents are not, as Corosync's cmap's
// are not. A node that restarts begins empty at epoch zero, knowing the
// epoch on its disk, and catches up from a member that holds that epoch's
// state. The limit: while no member holding the newest state is present,
// the store stays read-only (linearizable reads included) rather than
// carry on from an older state and silently lose acknowledged writes; if
// every such member restarted (a whole cluster restarting is such a case)
// or is gone for good, none returns, and the store stays read-only for
// good. Accepting the loss is the operator's decision: stop every node,
// remove cmap-epoch from each one's state directory, and start them again;
// the store starts empty. The store offers no command to do that on a
// running cluster: that, like keeping the contents on disk, is out of
// scope.
//
// # Wire formats
//
// An operation is EncodeOp's encoding, bounded (keys up to MaxKey, values
// and expectations up to MaxValue, the whole under MaxMessage) and checked
// canonically by DecodeOp. The protocol messages (status, snapshot chunk,
// ack, quorum marker) carry the ring id, so one queued in a ring and
// delivered in the next is ignored; a status carries the member's known
// epoch after its revision, never below its epoch.
package cmap
