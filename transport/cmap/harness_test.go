package cmap

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hakit/hakit/node/env"
)

// The harness is a small in-memory model of what totem gives the store:
// rings with one agreed order each (a log every member delivers from, each
// at its own pace), send queues that survive configuration changes, and
// extended virtual synchrony at a change: the members of an old ring that
// move on together (a transitional configuration) deliver the same prefix
// of its log, at least what any of them delivered and possibly more, and
// different groups may stop at different places. Quorum is a majority of
// the nodes. A node may restart: it loses its replica, its send queue and
// its ring, and keeps only its disk (the epoch it persisted).

type hmsg struct {
	sender  env.NodeID
	payload []byte
}

type hring struct {
	id      RingID
	members []env.NodeID
	log     []hmsg
}

type hnode struct {
	id        env.NodeID
	st        *Store
	ring      *hring
	delivered int
	queue     [][]byte // totem's send queue: kept across rings
	disk      uint64   // the last Ready.PersistEpoch: survives restarts
	restarts  int
}

type cluster struct {
	t        testing.TB
	nodes    []*hnode // nodes[i].id == i+1
	ringSeq  uint64
	onResult func(n *hnode, r Result)
	results  map[env.NodeID][]Result // when onResult is nil
	events   map[env.NodeID][]WatchEvent
	applyErr int

	// quorumDelay, if set, makes each member learn its new ring's quorum
	// some steps after the configuration (votequorum needs a round of
	// NodeInfo messages), so for a while it keeps its old view; tick
	// delivers the views that are due.
	quorumDelay func() int64
	now         int64
	quorumDue   []quorumNews
}

type quorumNews struct {
	at      int64
	node    *hnode
	ring    *hring
	quorate bool
}

func newCluster(t testing.TB, n int) *cluster {
	c := &cluster{t: t, results: map[env.NodeID][]Result{}, events: map[env.NodeID][]WatchEvent{}}
	for i := range n {
		c.nodes = append(c.nodes, &hnode{id: env.NodeID(i + 1), st: New(env.NodeID(i + 1))})
	}
	return c
}

// newUpCluster returns n nodes in one quorate, synced ring.
func newUpCluster(t testing.TB, n int) *cluster {
	c := newCluster(t, n)
	c.repartition(allTail, c.all())
	c.settle()
	for _, nd := range c.nodes {
		if !nd.st.Status().Writable {
			t.Fatalf("node %d not writable after start: %+v", nd.id, nd.st.Status())
		}
	}
	return c
}

func (c *cluster) all() []env.NodeID {
	var ids []env.NodeID
	for _, n := range c.nodes {
		ids = append(ids, n.id)
	}
	return ids
}

func (c *cluster) node(id env.NodeID) *hnode { return c.nodes[id-1] }

func (c *cluster) drain(n *hnode) {
	for n.st.HasReady() {
		rd := n.st.Ready()
		if rd.PersistEpoch != nil {
			// Durable before anything of the batch goes out.
			if *rd.PersistEpoch < n.disk {
				c.t.Fatalf("node %d persists epoch %d over %d", n.id, *rd.PersistEpoch, n.disk)
			}
			n.disk = *rd.PersistEpoch
		}
		// Nothing that acknowledges or reports an operation goes out
		// before the node's epoch is durable.
		reports := slices.ContainsFunc(rd.Results, func(r Result) bool { return r.Err == nil }) ||
			slices.ContainsFunc(rd.Broadcast, func(b []byte) bool { return b[0] == tagAck })
		if reports && n.disk < n.st.known {
			c.t.Fatalf("node %d reports or acknowledges in epoch %d with %d on disk", n.id, n.st.known, n.disk)
		}
		n.queue = append(n.queue, rd.Broadcast...)
		for _, r := range rd.Results {
			if c.onResult != nil {
				c.onResult(n, r)
			} else {
				c.results[n.id] = append(c.results[n.id], r)
			}
		}
		c.events[n.id] = append(c.events[n.id], rd.Events...)
		n.st.Advance(rd)
	}
}

// sequence gives the head of n's send queue its place in n's ring.
func (c *cluster) sequence(n *hnode) bool {
	if n.ring == nil || len(n.queue) == 0 {
		return false
	}
	n.ring.log = append(n.ring.log, hmsg{sender: n.id, payload: n.queue[0]})
	n.queue = n.queue[1:]
	return true
}

// deliver hands n the next message of its ring.
func (c *cluster) deliver(n *hnode) bool {
	if !c.apply(n) {
		return false
	}
	c.drain(n)
	return true
}

// apply hands n the next message of its ring without carrying out what
// the store makes of it.
func (c *cluster) apply(n *hnode) bool {
	if n.ring == nil || n.delivered >= len(n.ring.log) {
		return false
	}
	m := n.ring.log[n.delivered]
	n.delivered++
	if err := n.st.Apply(m.sender, m.payload); err != nil {
		c.applyErr++
	}
	return true
}

// restart crashes node id and starts it again, as a process restart or a
// power cycle would: its replica, send queue, watches and pending requests
// are gone (their results never come), it is in no ring until the next
// repartition, and its store starts from the epoch on its disk. Whatever
// the store produced and the node did not carry out yet (see apply) is
// lost, a persist included.
func (c *cluster) restart(id env.NodeID) {
	n := c.node(id)
	old := n.st
	n.st = NewRestarted(id, n.disk)
	n.st.testLocalGets, n.st.testNoAcks = old.testLocalGets, old.testNoAcks
	n.ring, n.delivered, n.queue = nil, 0, nil
	n.restarts++
}

// settle runs every queue and delivery to the end.
func (c *cluster) settle() {
	for range 1_000_000 {
		progress := false
		for _, n := range c.nodes {
			c.drain(n)
			for c.sequence(n) {
				progress = true
			}
		}
		for _, n := range c.nodes {
			for c.deliver(n) {
				progress = true
			}
		}
		if !progress {
			return
		}
	}
	c.t.Fatal("cluster does not settle")
}

// tailFunc says where a transitional group (the members of old ring r
// that form group g of the new partition) stops in r's log, given lo, the
// most any of them delivered (the result must be in [lo, len(r.log)]).
type tailFunc func(r *hring, g []env.NodeID, lo int) int

// allTail delivers the whole old log.
func allTail(r *hring, _ []env.NodeID, _ int) int { return len(r.log) }

// noTail delivers nothing more than some member already did.
func noTail(_ *hring, _ []env.NodeID, lo int) int { return lo }

// randomTail stops anywhere from lo to the end.
func randomTail(rng *rand.Rand) tailFunc {
	return func(r *hring, _ []env.NodeID, lo int) int { return lo + rng.IntN(len(r.log)-lo+1) }
}

// minorityTail is the adversary's choice: groups without a majority of
// the n nodes deliver the whole old log, the others as little as they may,
// so a minority holds writes the quorate side never applies.
func minorityTail(n int) tailFunc {
	return func(r *hring, g []env.NodeID, lo int) int {
		if 2*len(g) > n {
			return lo
		}
		return len(r.log)
	}
}

// repartition ends every ring and forms one per group. Each transitional
// group (the members of an old ring that stay together) delivers the same
// prefix of the old log, up to where tail says; then each group installs
// its ring and every member calls SetQuorate with the group's quorum.
func (c *cluster) repartition(tail tailFunc, groups ...[]env.NodeID) {
	var old []*hring
	for _, n := range c.nodes {
		if n.ring != nil && !slices.Contains(old, n.ring) {
			old = append(old, n.ring)
		}
	}
	for _, r := range old {
		for _, g := range groups {
			var trans []*hnode
			lo := 0
			for _, id := range g {
				if n := c.node(id); n.ring == r {
					trans = append(trans, n)
					lo = max(lo, n.delivered)
				}
			}
			end := tail(r, g, lo)
			for _, n := range trans {
				for n.delivered < end {
					c.deliver(n)
				}
			}
		}
	}
	for _, g := range groups {
		c.ringSeq++
		ms := slices.Sorted(slices.Values(g))
		r := &hring{id: RingID{Seq: c.ringSeq, Rep: ms[0]}, members: ms}
		for _, id := range ms {
			n := c.node(id)
			n.ring, n.delivered = r, 0
			n.st.Configuration(r.id, ms)
			c.drain(n)
		}
		for _, id := range ms {
			n, q := c.node(id), 2*len(ms) > len(c.nodes)
			if c.quorumDelay == nil {
				n.st.SetQuorate(q)
				c.drain(n)
				continue
			}
			c.quorumDue = append(c.quorumDue, quorumNews{at: c.now + c.quorumDelay(), node: n, ring: r, quorate: q})
		}
	}
}

// tick advances the clock to now and hands out the quorum views due.
func (c *cluster) tick(now int64) {
	c.now = now
	keep := c.quorumDue[:0]
	for _, qn := range c.quorumDue {
		switch {
		case qn.node.ring != qn.ring: // superseded by a later configuration
		case qn.at <= now:
			qn.node.st.SetQuorate(qn.quorate)
			c.drain(qn.node)
		default:
			keep = append(keep, qn)
		}
	}
	c.quorumDue = keep
}

// submit sends op from node id, failing the test if Submit refuses it.
func (c *cluster) submit(id env.NodeID, op Op) uint64 {
	c.t.Helper()
	n := c.node(id)
	req, b, err := n.st.SubmitReq(op)
	if err != nil {
		c.t.Fatalf("node %d: Submit(%+v): %v", id, op, err)
	}
	if b != nil {
		n.queue = append(n.queue, b)
	}
	c.drain(n)
	return req
}

// result removes and returns node id's result for req.
func (c *cluster) result(id env.NodeID, req uint64) (Result, bool) {
	for i, r := range c.results[id] {
		if r.ReqID == req {
			c.results[id] = slices.Delete(c.results[id], i, i+1)
			return r, true
		}
	}
	return Result{}, false
}

// do submits op at node id, settles the cluster and returns the result.
func (c *cluster) do(id env.NodeID, op Op) Result {
	c.t.Helper()
	req := c.submit(id, op)
	c.settle()
	r, ok := c.result(id, req)
	if !ok {
		c.t.Fatalf("node %d: no result for %+v", id, op)
	}
	return r
}

// checkConverged fails unless every node of each ring has the same state.
func (c *cluster) checkConverged() {
	c.t.Helper()
	for _, a := range c.nodes {
		for _, b := range c.nodes {
			if a.ring == nil || a.ring != b.ring || a.id >= b.id {
				continue
			}
			if a.st.Digest() != b.st.Digest() || a.st.Revision() != b.st.Revision() || a.st.Epoch() != b.st.Epoch() {
				c.t.Fatalf("nodes %d and %d of ring %v differ:\n%s\n%s", a.id, b.id, a.ring.id, dump(a.st), dump(b.st))
			}
		}
	}
}

func dump(s *Store) string {
	out := fmt.Sprintf("node %d %+v:", s.self, s.Status())
	for _, k := range slices.Sorted(maps.Keys(s.data)) {
		out += fmt.Sprintf(" %s=%q", k, s.data[k])
	}
	return out
}

func setOp(k, v string) Op { return Op{Kind: Set, Key: k, Value: []byte(v)} }
func getOp(k string) Op    { return Op{Kind: Get, Key: k} }
func delOp(k string) Op    { return Op{Kind: Delete, Key: k} }
func casOp(k, expect, v string) Op {
	return Op{Kind: CAS, Key: k, Expect: []byte(expect), Value: []byte(v)}
}
func casAbsentOp(k, v string) Op {
	return Op{Kind: CAS, Key: k, ExpectAbsent: true, Value: []byte(v)}
}
