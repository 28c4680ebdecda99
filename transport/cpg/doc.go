// Package cpg is hakit's closed process groups: Corosync's CPG (processes
// on the nodes join named groups, multicast to them, and see every change
// of their membership in the same order relative to the messages) on the
// totem agreed stream. It owns the group table every node holds and the
// memberships this node's processes want. It is a pure state machine in
// the etcd/raft style: it holds no clock, socket or goroutine, and every
// replica that applies the same sequence of messages reaches the same
// state, so the same code runs in the node and, replayably, in the
// simulator.
//
// # The loop the driver runs
//
// The driver (package node) owns the event loop and the totem ring, and
// multiplexes the service on the agreed stream under its own service byte,
// as it does cmap. A process is a pid the driver chooses per local client
// (an API connection, a subsystem of the resource manager):
//
//	s := cpg.New(self)
//	// a local process's request (Join, Leave, Mcast; err: refused, nothing sent):
//	msg, err := s.Join(pid, group)
//	if err == nil && ring.Send(now, msg) != nil { s.Unsent(msg) }
//	// its connection closed:
//	for _, msg := range s.LeaveAll(pid) { if ring.Send(now, msg) != nil { s.Unsent(msg) } }
//	// totem output, in order:
//	s.Apply(sender, payload)                  // each delivery of the service, own ones too
//	s.Configuration(cpg.RingID{...}, members) // each regular configuration
//	// after every input:
//	for s.HasReady() {
//		rd := s.Ready()
//		for _, m := range rd.Broadcast { if ring.Send(now, m) != nil { s.Unsent(m) } }
//		for _, e := range rd.Events { hand e to process e.To, if it is still there }
//		s.Advance(rd)
//	}
//
// Requests change nothing: the table changes when their message comes
// back in agreed order, at the same point of the stream on every replica,
// so every node sees the same membership changes in the same order
// relative to the messages (virtual synchrony per group). Events are one
// callback stream in that order, one per local recipient in ascending pid.
// A joining process first gets the confchg that adds it, listing everyone
// already there; a leaving one last gets the confchg that removes it. A
// multicast reaches the members at its delivery, the sender too; one from
// a process that is no longer a member is dropped by every replica alike.
//
// This node's memberships are a wish the table follows: whenever one of
// its joins or leaves is delivered, applied or dropped, a (pid, group)
// whose table entry differs from the wish and has nothing in flight is
// sent again, and so is one whose message the ring refused (Unsent), once
// the ring moves. So a closed connection's processes always leave. A
// refused multicast is not retried: the driver reports it to the process.
//
// # Configuration changes and the exchange
//
// At each regular configuration every group loses the members on nodes
// that left (ReasonNodeDown, in group then member order). Members on nodes
// that joined are learnt by an exchange, like Corosync's joinlist: every
// member announces its own memberships, tagged with the ring id (one
// queued in a ring and delivered in the next is ignored), in chunks that
// fit MaxMessage. When the last member's announcement is delivered, every
// replica replaces its table by the union of the announcements: each node
// is the authority on its own processes. Replicas that came from different
// sides of a partition held different tables; now they hold the same.
// Local processes get one confchg per changed group (new members as
// ReasonJoin; members the exchange shows gone, say of a node that
// restarted, as ReasonNodeDown), then the totem confchg.
//
// Until then joins, leaves and multicasts are held back (bounded) and
// applied in order when the exchange ends: applied earlier, they could act
// differently on replicas whose tables still differ. They carry no ring
// id: totem keeps a node's send queue across configurations, and one
// queued in a ring is applied in the next like any other. Operations past
// the bound, or still held at the next configuration (a member failed
// mid-exchange), are dropped by every replica that delivered them alike;
// their sender re-sends its joins and leaves.
//
// # Wire format
//
// A message is a tag byte and big-endian fields (see Message and the
// encodings in wire.go): join, leave (with its reason) and multicast name
// the process and the group, the node being the totem sender; an exchange
// chunk carries the ring id, its index and count, and entries (group, pid)
// in strictly ascending order. Decode accepts only canonical encodings
// within the limits, and checks every length before it allocates.
package cpg
