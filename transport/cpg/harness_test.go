package cpg

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/hakit/hakit/node/env"
)

// The harness is a small in-memory model of what totem gives the service:
// rings with one agreed order each (a log every member delivers from, each
// at its own pace), send queues that survive configuration changes (and
// may be bounded, refusing messages as totem's does when full), and
// extended virtual synchrony at a change: the members of an old ring that
// move on together deliver the same prefix of its log, at least what any
// of them delivered, and different groups may stop at different places.
//
// It records every event with the input that caused it, and checks the
// group tables at every delivery: replicas of one ring that have finished
// the exchange hold the same table at the same point of the stream.

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
	svc       *Service
	life      int // restarts so far
	ring      *hring
	delivered int
	queue     [][]byte // totem's send queue: kept across rings
	queueCap  int      // 0: unbounded
}

// proc names a process for the whole run: pids are only unique within
// one life of a node.
type proc struct {
	node env.NodeID
	life int
	pid  uint32
}

func (p proc) String() string { return fmt.Sprintf("%d.%d:%d", p.node, p.life, p.pid) }

// where says which input an event came from: a ring and the index of the
// delivery in its log (-1: the configuration itself).
type where struct {
	ring RingID
	idx  int
}

type traced struct {
	at where
	ev Event
}

type cluster struct {
	t       testing.TB
	nodes   []*hnode // nodes[i].id == i+1
	ringSeq uint64
	at      where // the input being handled

	events   map[env.NodeID][]Event // this life's events, for unit tests
	traces   map[proc][]traced
	applyErr int

	tables  map[where]string        // the table of the synced replicas at each point
	syncIdx map[RingID]map[int]bool // where each ring's replicas finished the exchange
	failure error
}

func newCluster(t testing.TB, n int) *cluster {
	c := &cluster{t: t, events: map[env.NodeID][]Event{}, traces: map[proc][]traced{},
		tables: map[where]string{}, syncIdx: map[RingID]map[int]bool{}}
	for i := range n {
		c.nodes = append(c.nodes, &hnode{id: env.NodeID(i + 1), svc: New(env.NodeID(i + 1))})
	}
	return c
}

// newUpCluster returns n nodes in one ring, exchange done.
func newUpCluster(t testing.TB, n int) *cluster {
	c := newCluster(t, n)
	c.repartition(allTail, c.all())
	c.settle()
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

func (c *cluster) fail(format string, args ...any) {
	if c.failure == nil {
		c.failure = fmt.Errorf(format, args...)
	}
}

// send queues msg as ring.Send would, handing it back to Unsent when the
// queue is full.
func (c *cluster) send(n *hnode, msg []byte) {
	if n.queueCap > 0 && len(n.queue) >= n.queueCap {
		n.svc.Unsent(msg)
		return
	}
	n.queue = append(n.queue, msg)
}

func (c *cluster) drain(n *hnode) {
	for n.svc.HasReady() {
		rd := n.svc.Ready()
		for _, b := range rd.Broadcast {
			c.send(n, b)
		}
		for _, e := range rd.Events {
			c.events[n.id] = append(c.events[n.id], e)
			p := proc{n.id, n.life, e.To}
			c.traces[p] = append(c.traces[p], traced{c.at, e})
		}
		n.svc.Advance(rd)
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

// deliver hands n the next message of its ring, then checks the table.
func (c *cluster) deliver(n *hnode) bool {
	if n.ring == nil || n.delivered >= len(n.ring.log) {
		return false
	}
	m := n.ring.log[n.delivered]
	c.at = where{n.ring.id, n.delivered}
	n.delivered++
	wasSynced := n.svc.Status().Synced
	if err := n.svc.Apply(m.sender, m.payload); err != nil {
		c.applyErr++
	}
	c.drain(n)
	st := n.svc.Status()
	if !st.Synced {
		return true
	}
	if !wasSynced {
		// The exchange ends at one point of the stream for all.
		idx := c.syncIdx[n.ring.id]
		if idx == nil {
			idx = map[int]bool{}
			c.syncIdx[n.ring.id] = idx
		}
		idx[c.at.idx] = true
		if len(idx) > 1 {
			c.fail("ring %v: replicas finished the exchange at %v", n.ring.id, slices.Sorted(maps.Keys(idx)))
		}
		for g, ms := range n.svc.Groups() {
			for _, m := range ms {
				if !slices.Contains(n.ring.members, m.Node) {
					c.fail("node %d after the exchange of %v: %v in %q is not in the ring", n.id, n.ring.id, m, g)
				}
			}
		}
	}
	tab := tableString(n.svc.Groups())
	if old, ok := c.tables[c.at]; ok && old != tab {
		c.fail("ring %v after delivery %d: node %d holds\n%s\nanother replica\n%s", n.ring.id, c.at.idx, n.id, tab, old)
	}
	c.tables[c.at] = tab
	return true
}

func tableString(groups map[string][]Member) string {
	var b strings.Builder
	for _, g := range slices.Sorted(maps.Keys(groups)) {
		fmt.Fprintf(&b, "%s:%v ", g, groups[g])
	}
	return b.String()
}

// settle runs every queue and delivery to the end.
func (c *cluster) settle() {
	for range 100_000 {
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
// least it may deliver (the result must be in [lo, len(r.log)]): as much
// as any of them delivered, and every message one of them sent (a sender
// holds its own messages, and recovery hands them to the others: EVS's
// self-delivery).
type tailFunc func(r *hring, g []env.NodeID, lo int) int

func allTail(r *hring, _ []env.NodeID, _ int) int { return len(r.log) }
func noTail(_ *hring, _ []env.NodeID, lo int) int { return lo }

// repartition ends every ring and forms one per group. Each transitional
// group delivers the same prefix of the old log, up to where tail says;
// then each group installs its ring.
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
			for i, m := range r.log {
				if slices.ContainsFunc(trans, func(n *hnode) bool { return n.id == m.sender }) {
					lo = max(lo, i+1)
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
	prev := map[env.NodeID]*hring{}
	for _, n := range c.nodes {
		prev[n.id] = n.ring
	}
	for _, g := range groups {
		c.ringSeq += 4
		ms := slices.Sorted(slices.Values(g))
		r := &hring{id: RingID{Seq: c.ringSeq, Rep: ms[0]}, members: ms}
		for _, id := range ms {
			n := c.node(id)
			// The transitional configuration, as totem delivers it first:
			// the members that come from this node's old ring.
			trans := []env.NodeID{id}
			for _, o := range ms {
				if o != id && prev[id] != nil && prev[o] == prev[id] {
					trans = append(trans, o)
				}
			}
			n.svc.Transitional(trans)
			n.ring, n.delivered = r, 0
			c.at = where{r.id, -1}
			n.svc.Configuration(r.id, ms)
			c.drain(n)
		}
	}
}

// restart replaces node id's service by a fresh one (its processes and
// send queue are gone). Alone says whether the others see it go first (a
// ring of its own) or not (a fast restart: it is in the next
// configuration of its partition again, and only the exchange shows its
// processes gone).
func (c *cluster) restart(id env.NodeID, alone bool, tail tailFunc) {
	n := c.node(id)
	var groups [][]env.NodeID
	seen := map[*hring]bool{}
	for _, o := range c.nodes {
		if o.ring != nil && !seen[o.ring] {
			seen[o.ring] = true
			var g []env.NodeID
			for _, m := range c.nodes {
				if m.ring == o.ring && (m.id != id || !alone) {
					g = append(g, m.id)
				}
			}
			if len(g) > 0 {
				groups = append(groups, g)
			}
		}
	}
	if alone {
		groups = append(groups, []env.NodeID{id})
	}
	n.svc, n.queue, n.ring = New(id), nil, nil
	n.life++
	c.events[id] = nil
	c.repartition(tail, groups...)
}

// join, leave, mcast and leaveAll run a local request at node id and
// queue its message (as the driver does).
func (c *cluster) join(id env.NodeID, pid uint32, g string) error {
	msg, err := c.node(id).svc.Join(pid, g)
	if err == nil {
		c.send(c.node(id), msg)
	}
	return err
}

func (c *cluster) leave(id env.NodeID, pid uint32, g string) error {
	msg, err := c.node(id).svc.Leave(pid, g)
	if err == nil {
		c.send(c.node(id), msg)
	}
	return err
}

func (c *cluster) mcast(id env.NodeID, pid uint32, g, payload string) error {
	msg, err := c.node(id).svc.Mcast(pid, g, []byte(payload))
	if err == nil {
		c.send(c.node(id), msg)
	}
	return err
}

func (c *cluster) leaveAll(id env.NodeID, pid uint32) {
	for _, msg := range c.node(id).svc.LeaveAll(pid) {
		c.send(c.node(id), msg)
	}
}

// checkConverged fails unless every node of each ring has finished the
// exchange and holds the same table.
func (c *cluster) checkConverged() {
	c.t.Helper()
	for _, a := range c.nodes {
		if !a.svc.Status().Synced {
			c.t.Fatalf("node %d not synced: %+v", a.id, a.svc.Status())
		}
		for _, b := range c.nodes {
			if a.ring == b.ring && a.id < b.id && tableString(a.svc.Groups()) != tableString(b.svc.Groups()) {
				c.t.Fatalf("nodes %d and %d of ring %v differ:\n%s\n%s", a.id, b.id, a.ring.id, tableString(a.svc.Groups()), tableString(b.svc.Groups()))
			}
		}
	}
}

// ---- virtual synchrony -----------------------------------------------------

// viewID names a view of a group as every member that installs it sees
// it: the input that installed it, its members, and how many times the
// same members were installed by that input before (a batch of held
// operations may repeat a view).
type viewID struct {
	at      where
	group   string
	members string
	occ     int
}

// view is what one process saw in one view: the messages, and the view
// that followed (nil: the trace ends in it).
type view struct {
	p    proc
	msgs []string
	next *viewID
}

// checkTraces checks each process's events: a process receives a group's
// messages only while a member and from members of its view, its first event in a group is the confchg
// that adds it, and two processes that install the same view deliver the
// same messages in it, one a prefix of the other's if they then went
// different ways (extended virtual synchrony), all of them if they
// install the same next view.
func (c *cluster) checkTraces() error {
	views := map[viewID][]view{}
	for _, p := range slices.SortedFunc(maps.Keys(c.traces), func(a, b proc) int { return strings.Compare(a.String(), b.String()) }) {
		member := map[string]bool{}
		cur := map[string]*view{}
		curID := map[string]viewID{}
		occ := map[viewID]int{}
		self := Member{p.node, p.pid}
		for _, tr := range c.traces[p] {
			e := tr.ev
			switch e.Kind {
			case EventDeliver:
				if !member[e.Group] {
					return fmt.Errorf("%v got %q from %v in %q at %v while not a member", p, e.Payload, e.Sender, e.Group, tr.at)
				}
				if !strings.Contains(curID[e.Group].members, fmt.Sprint(e.Sender)) {
					return fmt.Errorf("%v got %q in %q at %v from %v, not in its view %v", p, e.Payload, e.Group, tr.at, e.Sender, curID[e.Group].members)
				}
				if v := cur[e.Group]; v != nil {
					v.msgs = append(v.msgs, fmt.Sprintf("%v:%s", e.Sender, e.Payload))
				}
			case EventConfChg:
				in := slices.Contains(e.Members, self)
				gone := slices.ContainsFunc(e.Left, func(ch Change) bool { return ch.Member == self })
				joined := slices.ContainsFunc(e.Joined, func(ch Change) bool { return ch.Member == self })
				switch {
				case !member[e.Group] && !(in && joined):
					return fmt.Errorf("%v: first event in %q at %v is not the confchg adding it: %+v", p, e.Group, tr.at, e)
				case member[e.Group] && !in && !gone, in && gone:
					return fmt.Errorf("%v: confchg in %q at %v neither keeps nor removes it: %+v", p, e.Group, tr.at, e)
				case !slices.IsSortedFunc(e.Members, Member.compare):
					return fmt.Errorf("%v: members not sorted: %v", p, e.Members)
				}
				id := viewID{at: tr.at, group: e.Group, members: fmt.Sprint(e.Members)}
				occ[id]++
				id.occ = occ[id]
				if v := cur[e.Group]; v != nil {
					v.next = &id
					views[curID[e.Group]] = append(views[curID[e.Group]], *v)
				}
				member[e.Group] = in
				delete(cur, e.Group)
				if in {
					cur[e.Group], curID[e.Group] = &view{p: p}, id
				}
			}
		}
		for g, v := range cur {
			views[curID[g]] = append(views[curID[g]], *v)
		}
	}
	for id, vs := range views {
		for i, a := range vs {
			for _, b := range vs[:i] {
				n := min(len(a.msgs), len(b.msgs))
				if !slices.Equal(a.msgs[:n], b.msgs[:n]) ||
					a.next != nil && b.next != nil && *a.next == *b.next && len(a.msgs) != len(b.msgs) {
					return fmt.Errorf("view %+v: %v saw %v (then %v), %v saw %v (then %v)", id, a.p, a.msgs, a.next, b.p, b.msgs, b.next)
				}
			}
		}
	}
	return nil
}
