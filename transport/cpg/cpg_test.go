package cpg

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hakit/hakit/node/env"
)

// evString renders an event compactly: "5<g confchg [1:1 2:5] +2:5/join",
// "5<g 1:1 \"x\"", "5<totem 1/8 [1 2]".
func evString(e Event) string {
	ms := func(cs []Change) string {
		var out []string
		for _, c := range cs {
			out = append(out, fmt.Sprintf("%d:%d/%s", c.Node, c.PID, c.Reason))
		}
		return strings.Join(out, ",")
	}
	switch e.Kind {
	case EventDeliver:
		return fmt.Sprintf("%d<%s %d:%d %q", e.To, e.Group, e.Sender.Node, e.Sender.PID, e.Payload)
	case EventConfChg:
		var members []string
		for _, m := range e.Members {
			members = append(members, fmt.Sprintf("%d:%d", m.Node, m.PID))
		}
		s := fmt.Sprintf("%d<%s confchg [%s]", e.To, e.Group, strings.Join(members, " "))
		if len(e.Joined) > 0 {
			s += " +" + ms(e.Joined)
		}
		if len(e.Left) > 0 {
			s += " -" + ms(e.Left)
		}
		return s
	case EventTotem:
		return fmt.Sprintf("%d<totem %v %v", e.To, e.Ring, e.Nodes)
	}
	return fmt.Sprintf("%+v", e)
}

// takeEvents returns and forgets the events node id's processes got.
func (c *cluster) takeEvents(id env.NodeID) []string {
	var out []string
	for _, e := range c.events[id] {
		out = append(out, evString(e))
	}
	c.events[id] = nil
	return out
}

func (c *cluster) clearEvents() {
	for _, n := range c.nodes {
		c.events[n.id] = nil
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func checkEvents(t *testing.T, c *cluster, want map[env.NodeID][]string) {
	t.Helper()
	for _, n := range c.nodes {
		if got := c.takeEvents(n.id); !slices.Equal(got, want[n.id]) {
			t.Errorf("node %d events:\n got  %q\n want %q", n.id, got, want[n.id])
		}
	}
}

// TestCallbacks runs scripts on a settled ring and checks every node's
// callback stream: contents and order.
func TestCallbacks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		nodes  int
		script func(t *testing.T, c *cluster)
		want   map[env.NodeID][]string
	}{{
		name:  "a joiner first sees itself with the members already there",
		nodes: 2,
		script: func(t *testing.T, c *cluster) {
			must(t, c.join(1, 1, "g"))
			c.settle()
			must(t, c.join(2, 5, "g"))
			c.settle()
			must(t, c.mcast(1, 1, "g", "x"))
		},
		want: map[env.NodeID][]string{
			1: {"1<g confchg [1:1] +1:1/join", "1<g confchg [1:1 2:5] +2:5/join", `1<g 1:1 "x"`},
			2: {"5<g confchg [1:1 2:5] +2:5/join", `5<g 1:1 "x"`},
		},
	}, {
		name:  "local processes get each event in ascending pid order",
		nodes: 1,
		script: func(t *testing.T, c *cluster) {
			must(t, c.join(1, 9, "g"))
			must(t, c.join(1, 3, "g"))
			must(t, c.join(1, 3, "h"))
			must(t, c.mcast(1, 9, "g", "x"))
		},
		want: map[env.NodeID][]string{1: {
			"9<g confchg [1:9] +1:9/join",
			"3<g confchg [1:3 1:9] +1:3/join", "9<g confchg [1:3 1:9] +1:3/join",
			"3<h confchg [1:3] +1:3/join",
			`3<g 1:9 "x"`, `9<g 1:9 "x"`,
		}},
	}, {
		name:  "a leaver gets its own leave last, then nothing of the group",
		nodes: 2,
		script: func(t *testing.T, c *cluster) {
			must(t, c.join(1, 1, "g"))
			must(t, c.join(2, 2, "g"))
			c.settle()
			c.clearEvents()
			must(t, c.mcast(2, 2, "g", "before"))
			c.sequence(c.node(2))
			must(t, c.leave(1, 1, "g"))
			c.settle()
			must(t, c.mcast(2, 2, "g", "after"))
		},
		want: map[env.NodeID][]string{
			1: {`1<g 2:2 "before"`, "1<g confchg [2:2] -1:1/leave"},
			2: {`2<g 2:2 "before"`, "2<g confchg [2:2] -1:1/leave", `2<g 2:2 "after"`},
		},
	}, {
		name:  "a closed connection leaves every group, including a pending join",
		nodes: 2,
		script: func(t *testing.T, c *cluster) {
			must(t, c.join(1, 1, "b"))
			must(t, c.join(2, 2, "a"))
			must(t, c.join(2, 2, "b"))
			c.settle()
			c.clearEvents()
			must(t, c.join(1, 1, "a"))
			c.leaveAll(1, 1)
		},
		want: map[env.NodeID][]string{
			1: {"1<a confchg [1:1 2:2] +1:1/join", "1<a confchg [2:2] -1:1/procdown", "1<b confchg [2:2] -1:1/procdown"},
			2: {"2<a confchg [1:1 2:2] +1:1/join", "2<a confchg [2:2] -1:1/procdown", "2<b confchg [2:2] -1:1/procdown"},
		},
	}, {
		name:  "a multicast from a non-member is dropped everywhere",
		nodes: 2,
		script: func(t *testing.T, c *cluster) {
			must(t, c.join(1, 1, "g"))
			c.settle()
			c.clearEvents()
			// Node 2 sends for a process that never joined (a driver
			// cannot, through Mcast; the stream may still carry it).
			c.node(2).queue = append(c.node(2).queue, Message{Kind: MsgMcast, PID: 7, Group: "g"}.Encode())
		},
		want: map[env.NodeID][]string{},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := newUpCluster(t, tc.nodes)
			c.clearEvents()
			tc.script(t, c)
			c.settle()
			checkEvents(t, c, tc.want)
			c.checkConverged()
			if err := c.checkTraces(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestNotMemberCounted(t *testing.T) {
	c := newUpCluster(t, 2)
	must(t, c.join(1, 1, "g"))
	c.node(2).queue = append(c.node(2).queue, Message{Kind: MsgMcast, PID: 7, Group: "g"}.Encode())
	c.settle()
	for _, n := range c.nodes {
		if st := n.svc.Stats(); st.NotMember != 1 {
			t.Fatalf("node %d: %+v", n.id, st)
		}
	}
}

func TestValidation(t *testing.T) {
	s := New(1)
	long := strings.Repeat("x", MaxGroupName)
	s.Configuration(RingID{Seq: 4, Rep: 1}, []env.NodeID{1})
	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"empty name", func() error { _, err := s.Join(1, ""); return err }, ErrBadGroup},
		{"long name", func() error { _, err := s.Join(1, long+"x"); return err }, ErrBadGroup},
		{"NUL", func() error { _, err := s.Join(1, "a\x00"); return err }, ErrBadGroup},
		{"join", func() error { _, err := s.Join(1, long); return err }, nil},
		{"join pending", func() error { _, err := s.Join(1, long); return err }, ErrAlreadyJoined},
		{"another pid", func() error { _, err := s.Join(2, long); return err }, nil},
		{"leave not joined", func() error { _, err := s.Leave(3, long); return err }, ErrNotJoined},
		{"leave bad name", func() error { _, err := s.Leave(1, ""); return err }, ErrBadGroup},
		{"mcast not joined", func() error { _, err := s.Mcast(3, long, nil); return err }, ErrNotJoined},
		{"mcast joining", func() error { _, err := s.Mcast(1, long, nil); return err }, nil},
		{"mcast largest", func() error {
			_, err := s.Mcast(1, long, make([]byte, MaxMessage-opHeader-len(long)))
			return err
		}, nil},
		{"mcast too large", func() error {
			_, err := s.Mcast(1, long, make([]byte, MaxMessage-opHeader-len(long)+1))
			return err
		}, ErrTooLarge},
		{"leave pending join", func() error { _, err := s.Leave(1, long); return err }, nil},
		{"leave again", func() error { _, err := s.Leave(1, long); return err }, ErrNotJoined},
		{"mcast after leave", func() error { _, err := s.Mcast(1, long, nil); return err }, ErrNotJoined},
		{"join again", func() error { _, err := s.Join(1, long); return err }, nil},
	} {
		if err := tc.call(); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if len(s.events) != 0 || len(s.groups) != 0 {
		t.Fatal("requests changed the table before delivery")
	}
	for i := range MaxMemberships - 2 {
		if _, err := s.Join(uint32(i), "many"); err != nil {
			t.Fatalf("join %d: %v", i, err)
		}
	}
	if _, err := s.Join(1<<20, "many"); !errors.Is(err, ErrTooMany) {
		t.Fatalf("join beyond MaxMemberships: %v", err)
	}
}

func TestMalformedCounted(t *testing.T) {
	c := newUpCluster(t, 2)
	c.node(1).queue = append(c.node(1).queue, []byte{0xee}, nil)
	c.settle()
	if c.applyErr != 4 || c.node(2).svc.Stats().Malformed != 2 {
		t.Fatalf("%d errors, %+v", c.applyErr, c.node(2).svc.Stats())
	}
}

// TestNodeDown: at a configuration change every group loses the members
// of the nodes that left, in group then member order.
func TestNodeDown(t *testing.T) {
	c := newUpCluster(t, 3)
	for _, j := range []struct {
		node env.NodeID
		pid  uint32
		g    string
	}{{1, 1, "b"}, {2, 2, "b"}, {3, 4, "b"}, {3, 3, "b"}, {3, 3, "a"}, {1, 1, "a"}, {2, 2, "c"}} {
		must(t, c.join(j.node, j.pid, j.g))
	}
	c.settle()
	c.clearEvents()
	c.repartition(allTail, []env.NodeID{1, 2}, []env.NodeID{3})
	ring12, ring3 := c.node(1).ring.id, c.node(3).ring.id
	checkEvents(t, c, map[env.NodeID][]string{
		1: {"1<a confchg [1:1] -3:3/nodedown", "1<b confchg [1:1 2:2] -3:3/nodedown,3:4/nodedown"},
		2: {"2<b confchg [1:1 2:2] -3:3/nodedown,3:4/nodedown"},
		3: {"3<a confchg [3:3] -1:1/nodedown", "3<b confchg [3:3 3:4] -1:1/nodedown,2:2/nodedown", "4<b confchg [3:3 3:4] -1:1/nodedown,2:2/nodedown"},
	})
	c.settle()
	// The exchange changes nothing more; each process learns the ring.
	checkEvents(t, c, map[env.NodeID][]string{
		1: {fmt.Sprintf("1<totem %v [1 2]", ring12)},
		2: {fmt.Sprintf("2<totem %v [1 2]", ring12)},
		3: {fmt.Sprintf("3<totem %v [3]", ring3), fmt.Sprintf("4<totem %v [3]", ring3)},
	})
	c.checkConverged()
}

// TestMergeExchange: two sides that changed their groups apart agree on
// the union once merged, and each side's processes see the other's join.
func TestMergeExchange(t *testing.T) {
	c := newUpCluster(t, 3)
	must(t, c.join(1, 1, "shared"))
	must(t, c.join(3, 3, "shared"))
	must(t, c.join(3, 3, "old"))
	c.settle()
	c.repartition(allTail, []env.NodeID{1, 2}, []env.NodeID{3})
	c.settle()
	must(t, c.join(1, 1, "left"))
	must(t, c.join(2, 2, "shared"))
	must(t, c.join(3, 3, "right"))
	must(t, c.leave(3, 3, "old"))
	c.settle()
	c.clearEvents()
	c.repartition(allTail, c.all())
	c.settle()
	c.checkConverged()
	want := "left:[{1 1}] right:[{3 3}] shared:[{1 1} {2 2} {3 3}] "
	if got := tableString(c.node(2).svc.Groups()); got != want {
		t.Fatalf("merged table %s, want %s", got, want)
	}
	ring := c.node(1).ring.id
	totem := func(pid uint32) string { return fmt.Sprintf("%d<totem %v [1 2 3]", pid, ring) }
	checkEvents(t, c, map[env.NodeID][]string{
		1: {"1<shared confchg [1:1 2:2 3:3] +3:3/join", totem(1)},
		2: {"2<shared confchg [1:1 2:2 3:3] +3:3/join", totem(2)},
		3: {"3<shared confchg [1:1 2:2 3:3] +1:1/join,2:2/join", totem(3)},
	})
	if st := c.node(1).svc.Stats(); st.Exchanges != 3 {
		t.Fatalf("exchanges: %+v", st)
	}
}

// TestRestartSeenByExchange: a node that restarts without leaving the
// membership announces no processes, and the others drop its old ones.
func TestRestartSeenByExchange(t *testing.T) {
	c := newUpCluster(t, 2)
	must(t, c.join(1, 1, "g"))
	must(t, c.join(2, 2, "g"))
	c.settle()
	c.clearEvents()
	c.restart(2, false, allTail)
	c.settle()
	ring := c.node(1).ring.id
	checkEvents(t, c, map[env.NodeID][]string{
		1: {"1<g confchg [1:1] -2:2/nodedown", fmt.Sprintf("1<totem %v [1 2]", ring)},
	})
	c.checkConverged()
}

// TestRestartedProcessLeavesAndJoins: a node that restarted and joined
// its group again (same pid) before the others' next configuration is not
// the process that was there: the transitional configuration shows it
// leave, the exchange shows it join (a resource manager on the other node
// must learn that its peer's state was lost).
func TestRestartedProcessLeavesAndJoins(t *testing.T) {
	c := newUpCluster(t, 2)
	must(t, c.join(1, 1, "g"))
	must(t, c.join(2, 2, "g"))
	c.settle()
	c.clearEvents()
	// Node 2 restarts and forms a ring of its own, where it joins g again
	// with the same pid; node 1 has not noticed yet (its ring stands).
	n := c.node(2)
	n.svc, n.queue, n.ring = New(2), nil, nil
	n.life++
	c.events[2] = nil
	c.repartition(allTail, []env.NodeID{2})
	must(t, c.join(2, 2, "g"))
	c.settle()
	c.clearEvents()
	c.repartition(allTail, []env.NodeID{1, 2})
	c.settle()
	var got []string
	for _, e := range c.takeEvents(1) {
		if strings.Contains(e, " confchg ") {
			got = append(got, e)
		}
	}
	want := []string{"1<g confchg [1:1] -2:2/nodedown", "1<g confchg [1:1 2:2] +2:2/join"}
	if !slices.Equal(got, want) {
		t.Fatalf("node 1 saw %q, want %q", got, want)
	}
	c.checkConverged()
}

// TestHeldDuringExchange: operations delivered before the last
// announcement wait for it, then apply in order after the exchange's
// confchgs.
func TestHeldDuringExchange(t *testing.T) {
	c := newUpCluster(t, 2)
	must(t, c.join(1, 1, "g"))
	c.settle()
	c.repartition(allTail, []env.NodeID{1}, []env.NodeID{2})
	c.settle()
	must(t, c.join(2, 2, "g"))
	c.settle()
	c.clearEvents()
	c.repartition(allTail, c.all())
	n1, n2 := c.node(1), c.node(2)
	c.drain(n1)
	c.drain(n2)
	// Node 1's announcement is ordered, then node 2's mcast, then node 2's
	// announcement.
	must(t, c.mcast(2, 2, "g", "early"))
	n2.queue = []([]byte){n2.queue[1], n2.queue[0]}
	c.sequence(n1)
	c.sequence(n2)
	c.sequence(n2)
	c.deliver(n1)
	c.deliver(n1)
	if st := n1.svc.Status(); st.Synced || st.Held != 1 || len(c.events[1]) != 0 {
		t.Fatalf("node 1 before the last announcement: %+v, events %q", st, c.takeEvents(1))
	}
	c.settle()
	ring := n1.ring.id
	checkEvents(t, c, map[env.NodeID][]string{
		1: {"1<g confchg [1:1 2:2] +2:2/join", fmt.Sprintf("1<totem %v [1 2]", ring), `1<g 2:2 "early"`},
		2: {"2<g confchg [1:1 2:2] +1:1/join", fmt.Sprintf("2<totem %v [1 2]", ring), `2<g 2:2 "early"`},
	})
}

// TestStaleExchangeIgnored: an announcement queued in one ring and
// delivered in the next is ignored; the new one counts.
func TestStaleExchangeIgnored(t *testing.T) {
	c := newUpCluster(t, 2)
	must(t, c.join(2, 2, "g"))
	c.settle()
	// Both sides' announcements stay queued, and are delivered in the
	// merged ring.
	c.repartition(allTail, []env.NodeID{1}, []env.NodeID{2})
	c.repartition(allTail, c.all())
	c.settle()
	n1 := c.node(1)
	if st := n1.svc.Stats(); st.StaleRing != 2 || !n1.svc.Status().Synced {
		t.Fatalf("%+v %+v", st, n1.svc.Status())
	}
	c.checkConverged()
	if got := tableString(n1.svc.Groups()); got != "g:[{2 2}] " {
		t.Fatal(got)
	}
}

// TestHeldDroppedAtConfiguration: operations still held when the next
// configuration comes are dropped on every replica alike, and the node
// that sent a join sends it again.
func TestHeldDroppedAtConfiguration(t *testing.T) {
	c := newUpCluster(t, 3)
	must(t, c.join(1, 1, "g"))
	c.settle()
	c.repartition(allTail, c.all())
	for _, id := range []env.NodeID{1, 2} {
		c.drain(c.node(id))
		c.sequence(c.node(id)) // node 3's announcement never comes
	}
	must(t, c.join(2, 2, "g"))
	must(t, c.mcast(1, 1, "g", "lost"))
	c.sequence(c.node(2))
	c.sequence(c.node(1))
	for _, id := range []env.NodeID{1, 2} {
		for c.deliver(c.node(id)) {
		}
		if st := c.node(id).svc.Status(); st.Held != 2 {
			t.Fatalf("node %d: %+v", id, st)
		}
	}
	c.clearEvents()
	c.repartition(allTail, []env.NodeID{1, 2}, []env.NodeID{3})
	c.settle()
	c.checkConverged()
	for _, id := range []env.NodeID{1, 2} {
		if st := c.node(id).svc.Stats(); st.Dropped != 2 {
			t.Fatalf("node %d: %+v", id, st)
		}
	}
	if got := tableString(c.node(1).svc.Groups()); got != "g:[{1 1} {2 2}] " {
		t.Fatalf("the dropped join was not re-sent: %s", got)
	}
	if evs := c.takeEvents(1); slices.ContainsFunc(evs, func(s string) bool { return strings.Contains(s, "lost") }) {
		t.Fatalf("a dropped multicast was delivered: %q", evs)
	}
}

// TestHeldBound: past maxHeld operations, the rest are dropped alike.
func TestHeldBound(t *testing.T) {
	c := newUpCluster(t, 2)
	must(t, c.join(1, 1, "g"))
	c.settle()
	c.repartition(allTail, c.all())
	c.drain(c.node(2)) // node 2's announcement waits behind the mcasts
	c.node(2).queue = nil
	for i := range maxHeld + 5 {
		must(t, c.mcast(1, 1, "g", fmt.Sprint(i)))
	}
	c.settle()
	if st := c.node(1).svc.Status(); st.Synced || st.Held != maxHeld {
		t.Fatalf("%+v", st)
	}
	if st := c.node(1).svc.Stats(); st.Dropped != 5 {
		t.Fatalf("%+v", st)
	}
}

// TestUnsent: a join the ring refuses is sent again once the ring moves;
// so is an announcement whose chunk the ring refused.
func TestUnsent(t *testing.T) {
	c := newUpCluster(t, 2)
	n1 := c.node(1)
	n1.queueCap = 1
	must(t, c.join(1, 1, "a"))
	must(t, c.join(1, 1, "b")) // refused: the queue is full
	if len(n1.queue) != 1 || n1.svc.Status().Pending != 1 {
		t.Fatalf("queue %d, %+v", len(n1.queue), n1.svc.Status())
	}
	c.settle()
	c.checkConverged()
	if got := tableString(n1.svc.Groups()); got != "a:[{1 1}] b:[{1 1}] " {
		t.Fatal(got)
	}

	// Many memberships with long names: an announcement of several
	// chunks, the second refused.
	name := strings.Repeat("n", MaxGroupName-4)
	n1.queueCap = 0
	for i := range 1000 {
		must(t, c.join(1, 1, fmt.Sprintf("%s%04d", name, i)))
	}
	c.settle()
	n1.queueCap = 2
	c.repartition(allTail, c.all())
	if st := n1.svc.Status(); len(n1.queue) != 2 || st.Synced {
		t.Fatalf("queue %d, %+v", len(n1.queue), st)
	}
	n1.queueCap = 0
	c.settle()
	c.checkConverged()
	if st := n1.svc.Status(); st.Groups != 1002 {
		t.Fatalf("%+v", st)
	}
}
