package cmap

import (
	"errors"
	"strings"
	"testing"

	"github.com/hakit/hakit/node/env"
)

// TestRestartedMemberKeepsItsEpoch replays, in the harness, the history
// the ring-kv scenario found with seed 38: writes acknowledged by the
// ring {1,2} while node 3 was away; node 3 back in a ring whose transfer
// never finished, so it kept its old state; node 1 restarted (its replica
// is in memory) and formed a quorate ring with node 3 while node 2 was
// away. Node 3 holds the newest state present, from before the writes.
// With the epoch node 1 persisted, {1,3} knows that state is not the
// newest and stays read-only until node 2 is back; without it (the bug),
// {1,3} becomes writable on node 3's old state and the acknowledged writes
// are lost.
func TestRestartedMemberKeepsItsEpoch(t *testing.T) {
	for _, tc := range []struct {
		name     string
		amnesia  bool   // node 1 restarts without its persisted epoch (the bug)
		wantRead string // what {1,3} reads for b; "" means refused
	}{
		{"persisted epoch", false, ""},
		{"no persisted epoch (the bug)", true, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newUpCluster(t, 3)
			c.do(1, setOp("b", "1"))
			c.repartition(allTail, []env.NodeID{1, 2}, []env.NodeID{3}) // node 3 paused
			c.settle()
			for i, v := range []string{"4", "3", "5"} {
				if r := c.do(env.NodeID(i%2+1), setOp("b", v)); r.Err != nil {
					t.Fatalf("set b=%s: %v", v, r.Err)
				}
			}
			// Node 3 rejoins, but the ring changes again before its
			// transfer is over: it keeps its old state.
			c.repartition(allTail, c.all())
			n1, n3 := c.node(1), c.node(3)
			if n1.disk <= n3.st.Epoch() || n1.disk != n1.st.Epoch() {
				t.Fatalf("node 1 persisted epoch %d (replica %d), node 3 is at %d", n1.disk, n1.st.Epoch(), n3.st.Epoch())
			}
			if tc.amnesia {
				n1.disk = 0
			}
			c.restart(1) // power loss: node 1 comes back empty
			c.repartition(allTail, []env.NodeID{1, 3}, []env.NodeID{2})
			c.settle()

			req := c.submit(3, getOp("b"))
			c.settle()
			r, ok := c.result(3, req)
			if !ok {
				t.Fatal("no result for the read on {1,3}")
			}
			if tc.wantRead != "" {
				if r.Err != nil || string(r.Value) != tc.wantRead {
					t.Fatalf("read on {1,3}: %+v, want %q", r, tc.wantRead)
				}
				return
			}
			if !errors.Is(r.Err, ErrSyncing) || !errors.Is(r.Err, ErrStateMissing) {
				t.Fatalf("read on {1,3}: %+v, want refused with ErrSyncing and ErrStateMissing", r)
			}
			for _, id := range []env.NodeID{1, 3} {
				n := c.node(id)
				st, stats := n.st.Status(), n.st.Stats()
				if st.Synced || st.Writable || !strings.Contains(st.SyncError, ErrStateMissing.Error()) ||
					stats.MissingState != 1 || stats.SyncFailures != 1 {
					t.Fatalf("node %d on {1,3}: %+v %+v", id, st, stats)
				}
			}
			if st := n1.st.Status(); st.Epoch != 0 || st.KnownEpoch != n1.disk || st.Keys != 0 {
				t.Fatalf("restarted node 1: %+v, disk %d", st, n1.disk)
			}
			// Node 2, which holds the newest state, comes back: the
			// store works again, with every acknowledged write.
			c.repartition(allTail, c.all())
			c.settle()
			c.checkConverged()
			for _, id := range c.all() {
				if r := c.do(id, getOp("b")); r.Err != nil || string(r.Value) != "5" {
					t.Fatalf("node %d reads %+v after node 2 returned", id, r)
				}
			}
			if st := n1.st.Status(); !st.Writable || st.SyncError != "" || st.Epoch != st.KnownEpoch {
				t.Fatalf("node 1 after the heal: %+v", st)
			}
		})
	}
}

// TestEpochsNeverCollide: two writable configurations never share an
// epoch, even when a member of the first never started that epoch (it
// lagged behind the others and left, or crashed before persisting it) and
// is the only one the second shares with it. With epochs counted (+1 per
// writable configuration) both would have the same one, and the first's
// longer history, in which nothing was acknowledged, would overwrite the
// second's acknowledged write. Named by ring sequences, the later one wins.
func TestEpochsNeverCollide(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash bool // node 3 reaches the new epoch but crashes before persisting it
	}{
		{"lagging member", false},
		{"member crashed before persisting", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newUpCluster(t, 5)
			c.do(1, setOp("x", "0"))
			before := c.node(3).disk
			c.repartition(allTail, []env.NodeID{1, 2, 3}, []env.NodeID{4, 5})
			n1, n2, n3 := c.node(1), c.node(2), c.node(3)
			// Statuses and markers of {1,2,3} in the ring; nodes 1 and 2
			// deliver them all and become writable, node 3 does not (or
			// does, but crashes before carrying out what followed).
			for range 4 {
				for _, n := range []*hnode{n1, n2, n3} {
					for c.sequence(n) {
					}
				}
			}
			for _, n := range []*hnode{n1, n2} {
				for c.deliver(n) {
				}
				if !n.st.Status().Writable {
					t.Fatalf("node %d: %+v", n.id, n.st.Status())
				}
			}
			if tc.crash {
				for c.apply(n3) {
				}
				if !n3.st.Status().Writable || n3.st.Epoch() != n1.st.Epoch() {
					t.Fatalf("node 3 did not reach the epoch: %+v", n3.st.Status())
				}
				c.restart(3)
				if n3.disk != before {
					t.Fatalf("node 3 persisted %d before crashing", n3.disk)
				}
			}
			// Nodes 1 and 2 apply writes nobody acknowledges.
			for _, v := range []string{"a", "b", "c"} {
				c.submit(1, setOp("y", v))
				c.sequence(n1)
				c.deliver(n1)
				c.deliver(n2)
			}
			c.repartition(noTail, []env.NodeID{1, 2}, []env.NodeID{3, 4, 5})
			c.settle()
			if r := c.do(3, setOp("x", "acked")); r.Err != nil {
				t.Fatal(r.Err)
			}
			if e1, e3 := n1.st.Epoch(), n3.st.Epoch(); e3 <= e1 || n1.st.Revision() <= n3.st.Revision() {
				t.Fatalf("epochs %d (longer history) and %d (acknowledged write)", e1, e3)
			}
			c.repartition(allTail, c.all())
			c.settle()
			c.checkConverged()
			if r := c.do(4, getOp("x")); string(r.Value) != "acked" {
				t.Fatalf("acknowledged write lost: %+v", r)
			}
			if r := c.do(5, getOp("y")); r.Found {
				t.Fatalf("unacknowledged writes won: %+v", r)
			}
		})
	}
}

// TestEpochPersistedFirst: the Ready in which a configuration becomes
// writable carries the new epoch to persist, with the first
// acknowledgement and result of that epoch; a restarted store announces
// the epoch it read from disk, and alone it stays read-only.
func TestEpochPersistedFirst(t *testing.T) {
	ring := RingID{Seq: 12, Rep: 1}
	s := New(1)
	s.Configuration(ring, []env.NodeID{1, 2})
	s.SetQuorate(true)
	stream := func(rd Ready) {
		for _, b := range rd.Broadcast {
			if err := s.Apply(1, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	rd := s.Ready()
	if rd.PersistEpoch != nil {
		t.Fatalf("persist before the configuration is writable: %d", *rd.PersistEpoch)
	}
	s.Advance(rd)
	stream(rd)
	req, op, err := s.SubmitReq(setOp("a", "1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{encodeStatus(ring, status{Digest: digestOf(nil)}), encodeQuorum(ring, true), EncodeOp(Op{Kind: Set, Key: "k", Value: []byte("v"), Client: 2, ReqID: 1})} {
		if err := s.Apply(2, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Apply(1, op); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(2, encodeAck(ring, 2)); err != nil {
		t.Fatal(err)
	}
	rd = s.Ready()
	if rd.PersistEpoch == nil || *rd.PersistEpoch != 12 || s.Epoch() != 12 {
		t.Fatalf("persist %v, epoch %d; want 12", rd.PersistEpoch, s.Epoch())
	}
	var acked bool
	for _, b := range rd.Broadcast {
		acked = acked || b[0] == tagAck
	}
	if !acked || len(rd.Results) != 1 || rd.Results[0].ReqID != req || rd.Results[0].Err != nil {
		t.Fatalf("the first Ready of the epoch: %d results, ack %v", len(rd.Results), acked)
	}
	s.Advance(rd)
	if rd = s.Ready(); rd.PersistEpoch != nil {
		t.Fatalf("epoch persisted twice")
	}

	r := NewRestarted(1, 12)
	if st := r.Status(); st.Epoch != 0 || st.KnownEpoch != 12 || r.HasReady() {
		t.Fatalf("restarted store: %+v, ready %v", st, r.HasReady())
	}
	r.Configuration(RingID{Seq: 20, Rep: 1}, []env.NodeID{1})
	r.SetQuorate(true)
	rd = r.Ready()
	m, err := decodeRingMsg(rd.Broadcast[0])
	if err != nil || m.tag != tagStatus || m.status.Epoch != 0 || m.status.Known != 12 {
		t.Fatalf("restarted store's status: %+v %v", m, err)
	}
	r.Advance(rd)
	for _, b := range rd.Broadcast {
		if err := r.Apply(1, b); err != nil {
			t.Fatal(err)
		}
	}
	rd = r.Ready()
	if !errors.Is(rd.SyncFailed, ErrStateMissing) || r.Status().Writable || r.Stats().MissingState != 1 {
		t.Fatalf("a lone restarted store: %v %+v %+v", rd.SyncFailed, r.Status(), r.Stats())
	}
	r.Advance(rd)
	if r.HasReady() {
		t.Fatalf("the sync failure is reported twice: %+v", r.Ready())
	}
}
