package cmap

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/hakit/hakit/node/env"
)

// TestCatchUp: a node that missed writes adopts the quorate side's state
// when it rejoins, through a snapshot in several chunks.
func TestCatchUp(t *testing.T) {
	c := newUpCluster(t, 3)
	c.do(3, setOp("before", "1"))
	c.repartition(allTail, []env.NodeID{1, 2}, []env.NodeID{3})
	c.settle()
	big := bytes.Repeat([]byte("x"), MaxValue-100)
	for i := range 20 { // about 640 KiB: 14 chunks
		if r := c.do(1, Op{Kind: Set, Key: fmt.Sprintf("k%02d", i), Value: big}); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	c.do(2, delOp("before"))
	w := c.node(3).st.Watch("")
	c.repartition(allTail, c.all())
	c.settle()
	c.checkConverged()
	s3 := c.node(3).st
	if st := s3.Status(); !st.Writable || st.Revision != 22 || st.Keys != 20 || s3.Stats().Transfers != 1 {
		t.Fatalf("node 3 after the heal: %+v %+v", st, s3.Stats())
	}
	// Node 3's watch saw each change the transfer made, in key order.
	ev := c.events[3]
	if len(ev) != 21 || ev[0].Key != "before" || !ev[0].Deleted || ev[1].Key != "k00" || ev[20].Key != "k19" || ev[0].WatchID != w {
		t.Fatalf("%d transfer events, first %+v", len(ev), ev[0])
	}
	if r := c.do(3, getOp("k19")); !bytes.Equal(r.Value, big) {
		t.Fatalf("node 3 reads %d bytes", len(r.Value))
	}
}

// TestEpochBeatsRevision: a minority that applied a tail of the old ring
// the majority never saw has the higher revision, but the majority's newer
// writable configuration has the higher epoch, and wins. The write only
// the minority applied had an unknown outcome.
func TestEpochBeatsRevision(t *testing.T) {
	c := newUpCluster(t, 3)
	c.do(1, setOp("a", "0"))
	n1 := c.node(1)
	req := c.submit(1, setOp("a", "minority"))
	c.sequence(n1)
	c.deliver(n1) // only node 1 has it when the ring breaks
	c.repartition(noTail, []env.NodeID{1}, []env.NodeID{2, 3})
	if r, ok := c.result(1, req); !ok || !errors.Is(r.Err, ErrUnknownOutcome) {
		t.Fatalf("minority write: %+v %v", r, ok)
	}
	c.settle()
	if v, _ := n1.st.GetLocal("a"); string(v) != "minority" {
		t.Fatalf("node 1 should hold its tail, has %q", v)
	}
	if n1.st.Revision() != 2 || c.node(2).st.Revision() != 1 || c.node(2).st.Epoch() <= n1.st.Epoch() {
		t.Fatalf("revisions %d/%d, epochs %d/%d", n1.st.Revision(), c.node(2).st.Revision(), n1.st.Epoch(), c.node(2).st.Epoch())
	}
	c.do(2, setOp("b", "majority")) // equal revisions now, different contents
	c.repartition(allTail, c.all())
	c.settle()
	c.checkConverged()
	if v, _ := n1.st.GetLocal("a"); string(v) != "0" {
		t.Fatalf("node 1 kept the minority write: %q", v)
	}
	if n1.st.Stats().Divergent != 0 {
		t.Fatalf("divergence counted: %+v", n1.st.Stats())
	}
}

// TestLongestPrefixWins: members of the last writable configuration that
// stopped at different points of its order are reconciled to the longest
// prefix: it holds every acknowledged operation.
func TestLongestPrefixWins(t *testing.T) {
	c := newUpCluster(t, 3)
	n1 := c.node(1)
	c.submit(1, setOp("a", "1"))
	c.submit(1, setOp("a", "2"))
	c.sequence(n1)
	c.sequence(n1)
	c.deliver(n1)
	c.deliver(n1)
	c.deliver(c.node(2))
	// All three split; nobody is quorate. Node 1 has both, node 2 one,
	// node 3 none.
	c.repartition(noTail, []env.NodeID{1}, []env.NodeID{2}, []env.NodeID{3})
	c.settle()
	// Nodes 2 and 3 meet: quorate; node 2 (revision 1) is the source.
	c.repartition(allTail, []env.NodeID{1}, []env.NodeID{2, 3})
	c.settle()
	if v, _ := c.node(3).st.GetLocal("a"); string(v) != "1" {
		t.Fatalf("node 3 has %q, want node 2's prefix", v)
	}
	c.repartition(allTail, c.all())
	c.settle()
	c.checkConverged()
	// The {2,3} ring was writable, so its epoch beats node 1's longer tail.
	if v, _ := n1.st.GetLocal("a"); string(v) != "1" {
		t.Fatalf("node 1 has %q", v)
	}
}

// TestNoTransferWhenEqual: members with equal contents exchange only their
// statuses.
func TestNoTransferWhenEqual(t *testing.T) {
	c := newUpCluster(t, 3)
	c.do(1, setOp("a", "1"))
	c.repartition(allTail, []env.NodeID{1, 2}, []env.NodeID{3})
	c.settle()
	c.repartition(allTail, c.all())
	c.settle()
	c.checkConverged()
	for _, n := range c.nodes {
		if n.st.Stats().Transfers != 0 || !n.st.Status().Writable {
			t.Fatalf("node %d: %+v %+v", n.id, n.st.Status(), n.st.Stats())
		}
	}
}

// TestCorruptSnapshotStopsWrites: a snapshot that does not match its
// source's status is refused by every replica alike, and the configuration
// stays read-only until the next one.
func TestCorruptSnapshotStopsWrites(t *testing.T) {
	c := newUpCluster(t, 3)
	c.repartition(allTail, []env.NodeID{1, 2}, []env.NodeID{3})
	c.settle()
	c.do(1, setOp("a", "1"))
	c.repartition(allTail, c.all())
	// Let the statuses through, then corrupt the chunk node 1 queues.
	for range 3 {
		for _, n := range c.nodes {
			if len(n.queue) > 0 && n.queue[0][0] == tagStatus {
				c.sequence(n)
			}
		}
	}
	for _, n := range c.nodes {
		for c.deliver(n) {
		}
	}
	var corrupted bool
	for i, m := range c.node(1).queue {
		if m[0] == tagChunk {
			m = bytes.Clone(m)
			m[len(m)-1] ^= 1
			c.node(1).queue[i], corrupted = m, true
		}
	}
	if !corrupted {
		t.Fatal("node 1 queued no chunk")
	}
	c.settle()
	req := c.submit(2, setOp("b", "1"))
	c.settle()
	if r, _ := c.result(2, req); !errors.Is(r.Err, ErrSyncing) {
		t.Fatalf("write after a bad transfer: %+v", r)
	}
	for _, n := range c.nodes {
		if st := n.st.Status(); st.Synced || st.Writable || n.st.Stats().SyncFailures != 1 {
			t.Fatalf("node %d: %+v %+v", n.id, st, n.st.Stats())
		}
	}
	// The next configuration transfers again.
	c.repartition(allTail, c.all())
	c.settle()
	c.checkConverged()
	if r := c.do(3, getOp("a")); string(r.Value) != "1" {
		t.Fatalf("node 3 reads %+v", r)
	}
}

// TestStaleRingMessagesIgnored: totem keeps a node's send queue across
// configurations; protocol messages of an old ring must not count in the
// new one.
func TestStaleRingMessagesIgnored(t *testing.T) {
	s := New(1)
	old, cur := RingID{Seq: 1, Rep: 1}, RingID{Seq: 5, Rep: 1}
	s.Configuration(cur, []env.NodeID{1, 2})
	for _, m := range [][]byte{
		encodeStatus(old, status{Epoch: 9, Revision: 9, Known: 9}),
		encodeQuorum(old, true),
		encodeAck(old, 100),
		encodeChunk(old, 0, 1, nil),
	} {
		if err := s.Apply(2, m); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.StaleRing != 4 || len(s.statuses) != 0 || len(s.markers) != 0 || len(s.acked) != 0 {
		t.Fatalf("stale messages counted: %+v", st)
	}
	if err := s.Apply(3, encodeQuorum(cur, true)); err != nil || s.Stats().NotMember != 1 || len(s.markers) != 0 {
		t.Fatalf("a non-member's marker counted: %v %+v", err, s.Stats())
	}
	if err := s.Apply(2, []byte{99}); err == nil || s.Stats().Malformed != 1 {
		t.Fatalf("unknown tag: %v", err)
	}
	// An operation sent by one node in another's name is refused.
	if err := s.Apply(2, EncodeOp(Op{Kind: Get, Key: "a", Client: 1, ReqID: 1})); err == nil {
		t.Fatal("forged client accepted")
	}
}

// TestOpsDuringSyncAreHeld: an operation delivered before the
// configuration settles is decided when it does, not refused for being
// early; past a bound, such operations are refused with ErrSyncing.
func TestOpsDuringSyncAreHeld(t *testing.T) {
	c := newUpCluster(t, 3)
	c.repartition(allTail, c.all())
	req := c.submit(1, setOp("a", "1"))
	c.sequence(c.node(1)) // node 1's status
	c.sequence(c.node(1)) // its marker
	c.sequence(c.node(1)) // the set, ahead of the others' statuses
	for c.deliver(c.node(2)) {
	}
	if n := len(c.node(2).st.deferred); n != 1 {
		t.Fatalf("%d operations held back, want the set", n)
	}
	c.settle()
	if r, ok := c.result(1, req); !ok || r.Err != nil {
		t.Fatalf("set delivered during the sync: %+v %v", r, ok)
	}
	c.checkConverged()

	s := New(1)
	s.Configuration(RingID{Seq: 1, Rep: 1}, []env.NodeID{1, 2})
	s.SetQuorate(true)
	var last Result
	for i := range maxDeferred + 1 {
		b, err := s.Submit(getOp("k"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Apply(1, b); err != nil {
			t.Fatal(err)
		}
		rd := s.Ready()
		s.Advance(rd)
		if i < maxDeferred && len(rd.Results) != 0 {
			t.Fatalf("op %d decided before the sync: %+v", i, rd.Results)
		}
		if len(rd.Results) > 0 {
			last = rd.Results[0]
		}
	}
	if !errors.Is(last.Err, ErrSyncing) || len(s.deferred) != maxDeferred {
		t.Fatalf("over the bound: %+v, %d held", last, len(s.deferred))
	}
}
