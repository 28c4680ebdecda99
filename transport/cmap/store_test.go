package cmap

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hakit/hakit/node/env"
)

// TestOps runs each operation through a 3-node ring, alternating the
// submitting node, and checks the result and that the replicas agree.
func TestOps(t *testing.T) {
	type want struct {
		ok, found bool
		value     string
		rev       uint64
		err       error
	}
	steps := []struct {
		name string
		op   Op
		want want
	}{
		{"get missing", getOp("a"), want{rev: 0}},
		{"delete missing", delOp("a"), want{rev: 0}},
		{"set", setOp("a", "1"), want{ok: true, rev: 1}},
		{"get", getOp("a"), want{ok: true, found: true, value: "1", rev: 1}},
		{"set again returns the old value", setOp("a", "2"), want{ok: true, found: true, value: "1", rev: 2}},
		{"set an empty value", setOp("e", ""), want{ok: true, rev: 3}},
		{"get an empty value", getOp("e"), want{ok: true, found: true, value: "", rev: 3}},
		{"cas mismatch", casOp("a", "1", "3"), want{found: true, value: "2", rev: 3}},
		{"cas match", casOp("a", "2", "3"), want{ok: true, found: true, value: "2", rev: 4}},
		{"cas absent on a present key", casAbsentOp("a", "4"), want{found: true, value: "3", rev: 4}},
		{"cas absent", casAbsentOp("b", "x"), want{ok: true, rev: 5}},
		{"cas on a missing key", casOp("c", "", "y"), want{rev: 5}},
		{"cas expecting empty", casOp("e", "", "z"), want{ok: true, found: true, value: "", rev: 6}},
		{"delete", delOp("a"), want{ok: true, found: true, value: "3", rev: 7}},
		{"get deleted", getOp("a"), want{rev: 7}},
		{"revision does not move on failed ops", casOp("a", "3", "4"), want{rev: 7}},
	}
	c := newUpCluster(t, 3)
	for i, st := range steps {
		from := env.NodeID(i%3 + 1)
		r := c.do(from, st.op)
		got := want{ok: r.OK, found: r.Found, value: string(r.Value), rev: r.Revision, err: r.Err}
		if !errors.Is(got.err, st.want.err) || got.ok != st.want.ok || got.found != st.want.found || got.value != st.want.value || got.rev != st.want.rev {
			t.Fatalf("%s (node %d): got %+v, want %+v", st.name, from, got, st.want)
		}
		c.checkConverged()
	}
	if v, ok := c.node(2).st.GetLocal("b"); !ok || string(v) != "x" {
		t.Fatalf("GetLocal(b) = %q, %v", v, ok)
	}
	if got := c.node(3).st.Keys(""); strings.Join(got, ",") != "b,e" {
		t.Fatalf("Keys = %v", got)
	}
}

func TestSubmitRefuses(t *testing.T) {
	s := New(1)
	s.Configuration(RingID{Seq: 1, Rep: 1}, []env.NodeID{1})
	s.SetQuorate(true)
	cases := []struct {
		name string
		op   Op
		want error
	}{
		{"empty key", Op{Kind: Get}, ErrBadKey},
		{"long key", getOp(strings.Repeat("k", MaxKey+1)), ErrBadKey},
		{"NUL in key", getOp("a\x00"), ErrBadKey},
		{"long value", Op{Kind: Set, Key: "k", Value: make([]byte, MaxValue+1)}, ErrTooLarge},
		{"cas over MaxMessage", Op{Kind: CAS, Key: "k", Value: make([]byte, MaxValue), Expect: make([]byte, MaxValue)}, ErrTooLarge},
		{"no kind", Op{Key: "k"}, ErrBadOp},
		{"value on delete", Op{Kind: Delete, Key: "k", Value: []byte("v")}, ErrBadOp},
		{"another node's request", Op{Kind: Get, Key: "k", Client: 2}, ErrBadOp},
	}
	for _, tc := range cases {
		if _, err := s.Submit(tc.op); !errors.Is(err, tc.want) {
			t.Errorf("%s: Submit = %v, want %v", tc.name, err, tc.want)
		}
	}
	// Request ids: assigned in order, and a chosen one must move forward.
	id1, _, err := s.SubmitReq(getOp("k"))
	id2, _, err2 := s.SubmitReq(getOp("k"))
	if err != nil || err2 != nil || id1 != 1 || id2 != 2 {
		t.Fatalf("ids %d %d (%v %v), want 1 2", id1, id2, err, err2)
	}
	if _, _, err := s.SubmitReq(Op{Kind: Get, Key: "k", ReqID: 2}); !errors.Is(err, ErrBadOp) {
		t.Fatalf("reused request id: %v", err)
	}
	if id, _, err := s.SubmitReq(Op{Kind: Get, Key: "k", ReqID: 10}); err != nil || id != 10 {
		t.Fatalf("chosen id: %d %v", id, err)
	}
	if s.Status().Pending != 3 || !s.Forget(10) || s.Forget(10) || s.Status().Pending != 2 {
		t.Fatalf("Forget: %+v", s.Status())
	}
	// Nothing refused is pending.
	if n := len(s.pending); n != 2 {
		t.Fatalf("%d pending", n)
	}
	for range MaxPending - 2 {
		if _, err := s.Submit(getOp("k")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Submit(getOp("k")); !errors.Is(err, ErrTooManyPending) {
		t.Fatalf("over MaxPending: %v", err)
	}
}

// TestStoreFull: a write that would exceed MaxStoreBytes is refused on
// every replica, and the contents still fit one snapshot.
func TestStoreFull(t *testing.T) {
	c := newUpCluster(t, 2)
	val := string(bytes.Repeat([]byte("v"), MaxValue))
	var refused int
	for i := 0; refused == 0; i++ {
		r := c.do(1, setOp(fmt.Sprintf("k%03d", i), val))
		if r.Err != nil {
			if !errors.Is(r.Err, ErrStoreFull) {
				t.Fatal(r.Err)
			}
			refused = i
		}
	}
	st := c.node(2).st.Status()
	if st.Bytes > MaxStoreBytes || st.Keys != refused || st.Revision != uint64(refused) {
		t.Fatalf("after %d sets: %+v", refused, st)
	}
	// A CAS that would grow the store is refused too; after a delete the
	// refused write fits.
	if r := c.do(2, casAbsentOp("new", val)); !errors.Is(r.Err, ErrStoreFull) {
		t.Fatalf("cas when full: %+v", r)
	}
	if r := c.do(2, delOp("k000")); r.Err != nil || !r.OK {
		t.Fatalf("delete: %+v", r)
	}
	if r := c.do(1, setOp(fmt.Sprintf("k%03d", refused), val)); r.Err != nil {
		t.Fatalf("set after delete: %+v", r)
	}
	c.checkConverged()
	snap := encodeSnapshot(0, 0, c.node(1).st.data, c.node(1).st.size)
	if len(snap) > snapshotHeader+MaxStoreBytes || len(splitChunks(snap)) > maxChunks {
		t.Fatalf("snapshot of %d bytes in %d chunks", len(snap), len(splitChunks(snap)))
	}
}

// TestQuorumGating: a non-quorate node refuses writes and linearizable
// reads at Submit and serves stale local reads; the quorate side goes on.
func TestQuorumGating(t *testing.T) {
	c := newUpCluster(t, 5)
	c.do(1, setOp("a", "1"))
	c.repartition(allTail, []env.NodeID{1, 2, 3}, []env.NodeID{4, 5})
	c.settle()
	for _, op := range []Op{setOp("a", "2"), getOp("a"), delOp("a"), casOp("a", "1", "2")} {
		if _, err := c.node(4).st.Submit(op); !errors.Is(err, ErrNotQuorate) {
			t.Fatalf("minority %v: %v", op.Kind, err)
		}
	}
	if r := c.do(2, setOp("a", "2")); r.Err != nil {
		t.Fatal(r.Err)
	}
	if v, ok := c.node(5).st.GetLocal("a"); !ok || string(v) != "1" {
		t.Fatalf("stale read on the minority: %q %v", v, ok)
	}
	if st := c.node(4).st.Status(); st.Writable || st.Quorate {
		t.Fatalf("minority status %+v", st)
	}
	c.repartition(allTail, c.all())
	c.settle()
	c.checkConverged()
	if v, _ := c.node(5).st.GetLocal("a"); string(v) != "2" {
		t.Fatalf("after the heal node 5 reads %q", v)
	}
}

// TestWritableNeedsEveryMarker: whether an operation applies is decided by
// the stream, not by local quorum views. An operation delivered before
// every member has announced its view is held back on every replica; once
// all have, it applies if all said quorate and is refused everywhere if
// one did not.
func TestWritableNeedsEveryMarker(t *testing.T) {
	c := newCluster(t, 3)
	ring := &hring{id: RingID{Seq: 1, Rep: 1}, members: c.all()}
	for _, n := range c.nodes {
		n.ring = ring
		n.st.Configuration(ring.id, c.all())
	}
	// Nodes 1 and 2 know they are quorate; node 3 has not said yet.
	c.node(1).st.SetQuorate(true)
	c.node(2).st.SetQuorate(true)
	c.settle()
	held := c.submit(1, setOp("a", "1"))
	c.settle()
	if _, ok := c.result(1, held); ok {
		t.Fatal("a result before node 3's marker")
	}
	for _, n := range c.nodes {
		if _, ok := n.st.GetLocal("a"); ok || n.st.Status().Writable || len(n.st.deferred) != 1 {
			t.Fatalf("node %d did not hold the set back: %+v", n.id, n.st.Status())
		}
	}
	// Node 3 announces it is not quorate: the held set is refused
	// everywhere, at the same point.
	c.node(3).st.SetQuorate(false)
	c.settle()
	if res, ok := c.result(1, held); !ok || !errors.Is(res.Err, ErrNotQuorate) {
		t.Fatalf("set held until node 3 said non-quorate: %+v %v", res, ok)
	}
	for _, n := range c.nodes {
		if _, ok := n.st.GetLocal("a"); ok || n.st.Status().Writable || n.st.Epoch() != 0 {
			t.Fatalf("node %d applied it: %+v", n.id, n.st.Status())
		}
	}
	c.node(3).st.SetQuorate(true)
	c.settle()
	if res := c.do(1, setOp("a", "1")); res.Err != nil || c.node(3).st.Epoch() != 1 {
		t.Fatalf("after every marker: %+v, epoch %d", res, c.node(3).st.Epoch())
	}
	// One member losing quorum stops writes everywhere, at the same point.
	c.node(2).st.SetQuorate(false)
	c.settle()
	req := c.submit(1, setOp("a", "2"))
	c.settle()
	if res, _ := c.result(1, req); !errors.Is(res.Err, ErrNotQuorate) {
		t.Fatalf("set after node 2 lost quorum: %+v", res)
	}
	// Quorum regained in the same configuration: writable again, same epoch.
	c.node(2).st.SetQuorate(true)
	c.settle()
	if res := c.do(3, setOp("a", "3")); res.Err != nil || c.node(1).st.Epoch() != 1 {
		t.Fatalf("after quorum came back: %+v, epoch %d", res, c.node(1).st.Epoch())
	}
	c.checkConverged()
}

// TestLosingQuorumFailsPending: requests pending when quorum is lost fail
// with an error that says both "not quorate" and "outcome unknown".
func TestLosingQuorumFailsPending(t *testing.T) {
	c := newUpCluster(t, 3)
	req := c.submit(1, setOp("a", "1"))
	c.node(1).st.SetQuorate(false)
	c.drain(c.node(1))
	res, ok := c.result(1, req)
	if !ok || !errors.Is(res.Err, ErrNotQuorate) || !errors.Is(res.Err, ErrUnknownOutcome) {
		t.Fatalf("pending at quorum loss: %+v %v", res, ok)
	}
	// It was already queued, and node 1's marker follows it: it applies.
	c.settle()
	if v, ok := c.node(3).st.GetLocal("a"); !ok || string(v) != "1" {
		t.Fatalf("the ordered write did not apply: %q %v", v, ok)
	}
	if _, ok := c.result(1, req); ok {
		t.Fatal("a second result for the failed request")
	}
}

// TestResultWaitsForEveryAck: an applied operation's result is held until
// every other member has acknowledged applying it; a configuration change
// before that makes the outcome unknown.
func TestResultWaitsForEveryAck(t *testing.T) {
	c := newUpCluster(t, 3)
	n1, n2, n3 := c.node(1), c.node(2), c.node(3)
	req := c.submit(1, setOp("a", "1"))
	c.sequence(n1)
	for _, n := range c.nodes {
		c.deliver(n)
	}
	if _, ok := c.result(1, req); ok {
		t.Fatal("result released before any ack")
	}
	c.sequence(n2) // node 2's ack
	for _, n := range c.nodes {
		c.deliver(n)
	}
	if _, ok := c.result(1, req); ok {
		t.Fatal("result released before node 3's ack")
	}
	c.sequence(n3)
	c.deliver(n1)
	if r, ok := c.result(1, req); !ok || r.Err != nil || !r.OK {
		t.Fatalf("after every ack: %+v %v", r, ok)
	}
	c.settle()

	// Applied everywhere, but node 3's ack is lost to a configuration
	// change: the outcome is unknown even though it did happen.
	req = c.submit(1, setOp("a", "2"))
	c.sequence(n1)
	for _, n := range c.nodes {
		c.deliver(n)
	}
	c.sequence(n2)
	c.deliver(n1)
	c.repartition(allTail, c.all())
	r, ok := c.result(1, req)
	if !ok || !errors.Is(r.Err, ErrUnknownOutcome) {
		t.Fatalf("across a configuration change: %+v %v", r, ok)
	}
	c.settle()
	c.checkConverged()
	if n3.st.Stats().StaleRing == 0 {
		t.Fatal("node 3's old-ring ack was not counted as stale")
	}
}

// TestGetIsLinearizableRead: a Get goes through the stream, so it sees
// every write ordered before it even on a replica that lagged.
func TestGetIsLinearizableRead(t *testing.T) {
	c := newUpCluster(t, 3)
	c.submit(1, setOp("a", "1"))
	c.sequence(c.node(1))
	req := c.submit(3, getOp("a")) // node 3 has not delivered the set
	if _, ok := c.node(3).st.GetLocal("a"); ok {
		t.Fatal("node 3 should lag")
	}
	c.settle()
	if r, ok := c.result(3, req); !ok || string(r.Value) != "1" {
		t.Fatalf("linearizable get: %+v %v", r, ok)
	}
}

func TestWatch(t *testing.T) {
	c := newUpCluster(t, 2)
	s := c.node(2).st
	w1 := s.Watch("nodes/")
	w2 := s.Watch("")
	c.do(1, setOp("nodes/1", "up"))
	c.do(1, setOp("other", "x"))
	c.do(1, delOp("nodes/1"))
	c.do(1, delOp("nodes/1")) // no change: no event
	s.Unwatch(w2)
	c.do(1, setOp("nodes/2", "up"))
	var got []string
	for _, e := range c.events[2] {
		got = append(got, fmt.Sprintf("%d:%s=%s/%t@%d", e.WatchID, e.Key, e.Value, e.Deleted, e.Revision))
	}
	if len(c.events[1]) != 0 || w1 != 1 || w2 != 2 {
		t.Fatalf("node 1 has events %v; watch ids %d %d", c.events[1], w1, w2)
	}
	want := []string{"1:nodes/1=up/false@1", "2:nodes/1=up/false@1", "2:other=x/false@2", "1:nodes/1=/true@3", "2:nodes/1=/true@3", "1:nodes/2=up/false@4"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("events\n got %v\nwant %v", got, want)
	}
}
