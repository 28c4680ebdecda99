package quorum

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/hakit/hakit/node/env"
)

// view is the part of a Status the table tests pin down.
type view struct {
	quorate         bool
	quorum, expect  uint32
	total           uint32
	waitingForAll   bool
	twoNodeInEffect bool
}

func viewOf(s Status) view {
	return view{s.Quorate, s.Quorum, s.ExpectedVotes, s.TotalVotes, s.WaitForAllStatus, s.TwoNode}
}

func expectView(t *testing.T, c *cluster, who []env.NodeID, want view) {
	t.Helper()
	for _, id := range who {
		if got := viewOf(c.status(id)); got != want {
			t.Errorf("node %d: got %+v, want %+v\n%s", id, got, want, c.status(id))
		}
	}
}

type step struct {
	name  string
	parts [][]env.NodeID // nil: no membership change
	wait  time.Duration
	setEV uint32 // if non-zero, node check[0] runs SetExpected before the step settles
	check []env.NodeID
	want  view
}

func runSteps(t *testing.T, c *cluster, steps []step) {
	t.Helper()
	for _, s := range steps {
		if s.parts != nil {
			c.split(s.parts...)
		}
		if s.setEV != 0 {
			if err := c.nodes[s.check[0]].SetExpected(c.now, s.setEV); err != nil {
				t.Fatalf("%s: SetExpected(%d): %v", s.name, s.setEV, err)
			}
			c.settle()
		}
		if s.wait != 0 {
			c.wait(s.wait)
		}
		t.Run(s.name, func(t *testing.T) { expectView(t, c, s.check, s.want) })
	}
}

func TestFeatures(t *testing.T) {
	cases := []struct {
		name  string
		n     int
		mut   func(*Config)
		steps []step
	}{
		{
			name: "3 nodes survive the loss of one, not of two",
			n:    3,
			steps: []step{
				{name: "all up", parts: [][]env.NodeID{span(1, 3)}, check: span(1, 3), want: view{quorate: true, quorum: 2, expect: 3, total: 3}},
				{name: "node 3 lost", parts: [][]env.NodeID{ids(1, 2), ids(3)}, check: ids(1, 2), want: view{quorate: true, quorum: 2, expect: 3, total: 2}},
				{name: "isolated node 3", check: ids(3), want: view{quorum: 2, expect: 3, total: 1}},
				{name: "nodes 2 and 3 lost", parts: [][]env.NodeID{ids(1), ids(2), ids(3)}, check: span(1, 3), want: view{quorum: 2, expect: 3, total: 1}},
			},
		},
		{
			name: "two_node waits for both nodes once, then survives alone",
			n:    2,
			mut:  func(c *Config) { c.TwoNode = true },
			steps: []step{
				{name: "node 1 boots alone", parts: [][]env.NodeID{ids(1)}, check: ids(1), want: view{quorum: 1, expect: 2, total: 1, waitingForAll: true, twoNodeInEffect: true}},
				{name: "both up", parts: [][]env.NodeID{ids(1, 2)}, check: ids(1, 2), want: view{quorate: true, quorum: 1, expect: 2, total: 2, twoNodeInEffect: true}},
				// The fence race is by design: votequorum(5) leaves the split to fencing.
				{name: "split keeps both halves quorate", parts: [][]env.NodeID{ids(1), ids(2)}, check: ids(1, 2), want: view{quorate: true, quorum: 1, expect: 2, total: 1, twoNodeInEffect: true}},
			},
		},
		{
			name: "two_node with wait_for_all explicitly off is quorate alone at boot",
			n:    2,
			mut:  func(c *Config) { c.TwoNode, c.WaitForAll, c.WaitForAllSet = true, false, true },
			steps: []step{
				{name: "node 1 boots alone", parts: [][]env.NodeID{ids(1)}, check: ids(1), want: view{quorate: true, quorum: 1, expect: 2, total: 1, twoNodeInEffect: true}},
			},
		},
		{
			name: "two_node is disabled by a nodelist of 3",
			n:    3,
			mut:  func(c *Config) { c.TwoNode = true },
			steps: []step{
				{name: "all up", parts: [][]env.NodeID{span(1, 3)}, check: span(1, 3), want: view{quorate: true, quorum: 2, expect: 3, total: 3}},
				{name: "1|2 split", parts: [][]env.NodeID{ids(1), ids(2, 3)}, check: ids(1), want: view{quorum: 2, expect: 3, total: 1, waitingForAll: true}},
			},
		},
		{
			name: "wait_for_all holds a majority back until all were seen",
			n:    3,
			mut:  func(c *Config) { c.WaitForAll = true },
			steps: []step{
				{name: "2 of 3 boot", parts: [][]env.NodeID{ids(1, 2)}, check: ids(1, 2), want: view{quorum: 2, expect: 3, total: 2, waitingForAll: true}},
				{name: "all up", parts: [][]env.NodeID{span(1, 3)}, check: span(1, 3), want: view{quorate: true, quorum: 2, expect: 3, total: 3}},
				{name: "node 3 lost afterwards", parts: [][]env.NodeID{ids(1, 2)}, check: ids(1, 2), want: view{quorate: true, quorum: 2, expect: 3, total: 2}},
			},
		},
		{
			name: "auto_tie_breaker lowest: the half with node 1 wins a 2|2 split",
			n:    4,
			mut:  func(c *Config) { c.AutoTieBreaker = true },
			steps: []step{
				{name: "all up", parts: [][]env.NodeID{span(1, 4)}, check: span(1, 4), want: view{quorate: true, quorum: 3, expect: 4, total: 4}},
				{name: "half with node 1", parts: [][]env.NodeID{ids(1, 3), ids(2, 4)}, check: ids(1, 3), want: view{quorate: true, quorum: 3, expect: 4, total: 2}},
				{name: "other half", check: ids(2, 4), want: view{quorum: 3, expect: 4, total: 2}},
			},
		},
		{
			name: "auto_tie_breaker highest",
			n:    4,
			mut:  func(c *Config) { c.AutoTieBreaker, c.AutoTieBreakerNode = true, "highest" },
			steps: []step{
				{name: "half with node 4", parts: [][]env.NodeID{ids(1, 2), ids(3, 4)}, check: ids(3, 4), want: view{quorate: true, quorum: 3, expect: 4, total: 2}},
				{name: "other half", check: ids(1, 2), want: view{quorum: 3, expect: 4, total: 2}},
			},
		},
		{
			name: "auto_tie_breaker list skips ids outside the nodelist",
			n:    4,
			mut:  func(c *Config) { c.AutoTieBreaker, c.AutoTieBreakerNode = true, "9 3 1" },
			steps: []step{
				{name: "half with node 3", parts: [][]env.NodeID{ids(1, 2), ids(3, 4)}, check: ids(3, 4), want: view{quorate: true, quorum: 3, expect: 4, total: 2}},
				{name: "half with node 1", check: ids(1, 2), want: view{quorum: 3, expect: 4, total: 2}},
			},
		},
		{
			name: "without auto_tie_breaker a 2|2 split has no quorum",
			n:    4,
			steps: []step{
				{name: "split", parts: [][]env.NodeID{ids(1, 2), ids(3, 4)}, check: span(1, 4), want: view{quorum: 3, expect: 4, total: 2}},
			},
		},
		{
			name: "auto_tie_breaker does not rescue the minority of an odd cluster",
			n:    5,
			mut:  func(c *Config) { c.AutoTieBreaker, c.WaitForAll = true, true },
			steps: []step{
				{name: "all up", parts: [][]env.NodeID{span(1, 5)}, check: span(1, 5), want: view{quorate: true, quorum: 3, expect: 5, total: 5}},
				{name: "minority with node 1", parts: [][]env.NodeID{ids(1, 2), span(3, 5)}, check: ids(1, 2), want: view{quorum: 3, expect: 5, total: 2, waitingForAll: true}},
				{name: "majority", check: span(3, 5), want: view{quorate: true, quorum: 3, expect: 5, total: 3}},
			},
		},
		{
			name: "explicit expected_votes overrides the nodelist",
			n:    3,
			mut:  func(c *Config) { c.ExpectedVotes = 5 },
			steps: []step{
				{name: "all 3 up", parts: [][]env.NodeID{span(1, 3)}, check: span(1, 3), want: view{quorate: true, quorum: 3, expect: 5, total: 3}},
				{name: "one lost", parts: [][]env.NodeID{ids(1, 2)}, check: ids(1, 2), want: view{quorum: 3, expect: 5, total: 2}},
			},
		},
		{
			name: "votes present raise a low explicit expected_votes, and it stays raised",
			n:    3,
			mut:  func(c *Config) { c.ExpectedVotes = 2 },
			steps: []step{
				{name: "one node", parts: [][]env.NodeID{ids(1)}, check: ids(1), want: view{quorum: 2, expect: 2, total: 1}},
				{name: "all 3 up", parts: [][]env.NodeID{span(1, 3)}, check: span(1, 3), want: view{quorate: true, quorum: 2, expect: 3, total: 3}},
				{name: "back to one", parts: [][]env.NodeID{ids(1), ids(2, 3)}, check: ids(1), want: view{quorum: 2, expect: 3, total: 1}},
			},
		},
		{
			name: "an inquorate joiner adopts the quorate members' expected_votes",
			n:    3,
			mut: func(c *Config) {
				if c.Self == 3 {
					c.ExpectedVotes = 5
				}
			},
			steps: []step{
				{name: "1 and 2 alone", parts: [][]env.NodeID{ids(1, 2)}, check: ids(1, 2), want: view{quorate: true, quorum: 2, expect: 3, total: 2}},
				{name: "node 3 joins", parts: [][]env.NodeID{span(1, 3)}, check: span(1, 3), want: view{quorate: true, quorum: 2, expect: 3, total: 3}},
				{name: "node 3 leaves", parts: [][]env.NodeID{ids(1, 2)}, check: ids(1, 2), want: view{quorate: true, quorum: 2, expect: 3, total: 2}},
			},
		},
		{
			name: "a quorate member's higher expected_votes raises quorum for all",
			n:    3,
			mut: func(c *Config) {
				if c.Self == 3 {
					c.ExpectedVotes = 4
				}
			},
			steps: []step{
				{name: "all up", parts: [][]env.NodeID{span(1, 3)}, check: span(1, 3), want: view{quorate: true, quorum: 3, expect: 4, total: 3}},
				{name: "node 3 leaves: the raise stays", parts: [][]env.NodeID{ids(1, 2), ids(3)}, check: ids(1, 2), want: view{quorum: 3, expect: 4, total: 2}},
			},
		},
		{
			name: "SetExpected lowers expected_votes on every member",
			n:    5,
			steps: []step{
				{name: "2 of 5", parts: [][]env.NodeID{ids(1, 2)}, check: ids(1, 2), want: view{quorum: 3, expect: 5, total: 2}},
				{name: "quorumtool -e 3", setEV: 3, check: ids(1, 2), want: view{quorate: true, quorum: 2, expect: 3, total: 2}},
				{name: "all back: highest wins again", parts: [][]env.NodeID{span(1, 5)}, check: span(1, 5), want: view{quorate: true, quorum: 3, expect: 5, total: 5}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runSteps(t, newCluster(t, tc.n, tc.mut), tc.steps)
		})
	}
}

// TestLastManStanding walks votequorum(5)'s example: 8 nodes shrinking in a
// cascade to 2, expected_votes following after each window.
func TestLastManStanding(t *testing.T) {
	const w = 10 * time.Second
	lms := func(atb bool) func(*Config) {
		return func(c *Config) { c.LastManStanding, c.WaitForAll, c.AutoTieBreaker = true, true, atb }
	}
	common := []step{
		{name: "8 up", parts: [][]env.NodeID{span(1, 8)}, check: span(1, 8), want: view{quorate: true, quorum: 5, expect: 8, total: 8}},
		{name: "after a window with all present nothing changes", wait: w, check: span(1, 8), want: view{quorate: true, quorum: 5, expect: 8, total: 8}},
		{name: "3 die", parts: [][]env.NodeID{span(1, 5)}, check: span(1, 5), want: view{quorate: true, quorum: 5, expect: 8, total: 5}},
		{name: "window not yet over", wait: w - 1, check: span(1, 5), want: view{quorate: true, quorum: 5, expect: 8, total: 5}},
		{name: "window over", wait: 1, check: span(1, 5), want: view{quorate: true, quorum: 3, expect: 5, total: 5}},
		{name: "2 more die", parts: [][]env.NodeID{span(1, 3)}, check: span(1, 3), want: view{quorate: true, quorum: 3, expect: 5, total: 3}},
		{name: "second window", wait: w, check: span(1, 3), want: view{quorate: true, quorum: 2, expect: 3, total: 3}},
		{name: "1 more dies", parts: [][]env.NodeID{ids(1, 2)}, check: ids(1, 2), want: view{quorate: true, quorum: 2, expect: 3, total: 2}},
		{name: "third window", wait: w, check: ids(1, 2), want: view{quorate: true, quorum: 2, expect: 2, total: 2}},
		{name: "node 2 dies", parts: [][]env.NodeID{ids(1)}},
	}
	t.Run("without auto_tie_breaker the last node is not quorate", func(t *testing.T) {
		steps := append(append([]step{}, common...),
			step{name: "alone, waiting for all again", check: ids(1), want: view{quorum: 2, expect: 2, total: 1, waitingForAll: true}},
			step{name: "window changes nothing", wait: w, check: ids(1), want: view{quorum: 2, expect: 2, total: 1, waitingForAll: true}},
		)
		runSteps(t, newCluster(t, 8, lms(false)), steps)
	})
	t.Run("with auto_tie_breaker the last node goes on to 1", func(t *testing.T) {
		steps := append(append([]step{}, common...),
			step{name: "alone, by tie-break", check: ids(1), want: view{quorate: true, quorum: 2, expect: 2, total: 1}},
			step{name: "fourth window", wait: w, check: ids(1), want: view{quorate: true, quorum: 1, expect: 1, total: 1}},
		)
		runSteps(t, newCluster(t, 8, lms(true)), steps)
	})
	t.Run("a membership change restarts the window", func(t *testing.T) {
		c := newCluster(t, 8, lms(false))
		c.split(span(1, 8))
		c.split(span(1, 6))
		c.wait(w / 2)
		c.split(span(1, 5))
		c.wait(w / 2) // a full window since the first loss, half since the second
		expectView(t, c, span(1, 5), view{quorate: true, quorum: 5, expect: 8, total: 5})
		if at, ok := c.nodes[1].NextDeadline(); !ok || at != env.Mono(0).Add(w+w/2) {
			t.Errorf("NextDeadline = %v, %v; want %v", at, ok, env.Mono(0).Add(w+w/2))
		}
		c.wait(w / 2)
		expectView(t, c, span(1, 5), view{quorate: true, quorum: 3, expect: 5, total: 5})
		if _, ok := c.nodes[1].NextDeadline(); ok {
			t.Error("NextDeadline still armed after the window fired")
		}
	})
	t.Run("a rejoining node brings expected_votes back up", func(t *testing.T) {
		c := newCluster(t, 8, lms(false))
		c.split(span(1, 8))
		c.split(span(1, 5))
		c.wait(w)
		c.split(span(1, 6))
		expectView(t, c, span(1, 6), view{quorate: true, quorum: 5, expect: 8, total: 6})
	})
	t.Run("two_node keeps expected_votes at 2 without auto_tie_breaker", func(t *testing.T) {
		c := newCluster(t, 2, func(c *Config) { c.TwoNode, c.LastManStanding = true, true })
		c.split(ids(1, 2))
		c.split(ids(1))
		c.wait(w)
		expectView(t, c, ids(1), view{quorate: true, quorum: 1, expect: 2, total: 1, twoNodeInEffect: true})
	})
	t.Run("the window waits for every member's new NodeInfo", func(t *testing.T) {
		q, err := New(Config{Self: 1, Votes: map[env.NodeID]uint32{1: 1, 2: 1, 3: 1}, LastManStanding: true})
		if err != nil {
			t.Fatal(err)
		}
		q.SetMembership(0, span(1, 3))
		for id := range env.NodeID(3) {
			q.Receive(0, NodeInfo{Node: id + 1, Votes: 1, ExpectedVotes: 3})
		}
		q.SetMembership(0, ids(1, 2))
		// Node 2's info from the old configuration still counts its vote,
		// so the pair is quorate, but its new info is not in yet.
		q.Receive(0, NodeInfo{Node: 1, Votes: 1, ExpectedVotes: 3})
		q.Tick(env.Mono(0).Add(w))
		if s := q.Status(); !s.Quorate || s.ExpectedVotes != 3 {
			t.Fatalf("lowered before node 2's info arrived:\n%s", s)
		}
		if at, ok := q.NextDeadline(); !ok || at != env.Mono(0).Add(2*w) {
			t.Fatalf("NextDeadline = %v %v, want re-armed at %v", at, ok, env.Mono(0).Add(2*w))
		}
		q.Receive(env.Mono(0).Add(w), NodeInfo{Node: 2, Votes: 1, ExpectedVotes: 3})
		q.Tick(env.Mono(0).Add(2 * w))
		if s := q.Status(); !s.Quorate || s.ExpectedVotes != 2 {
			t.Fatalf("not lowered once all infos were in:\n%s", s)
		}
	})
	t.Run("an inquorate partition never lowers", func(t *testing.T) {
		c := newCluster(t, 8, lms(false))
		c.split(span(1, 8))
		c.split(span(1, 4), span(5, 8))
		c.wait(3 * w)
		expectView(t, c, span(1, 8), view{quorum: 5, expect: 8, total: 4, waitingForAll: true})
	})
}

// TestWaitForAllRejoin: a node restarting into a quorate cluster whose fifth
// node is gone for good takes the others' word that all were seen.
func TestWaitForAllRejoin(t *testing.T) {
	c := newCluster(t, 5, func(c *Config) { c.WaitForAll = true })
	c.rng = rand.New(rand.NewPCG(3, 4))
	c.split(span(1, 5))
	c.split(span(1, 4))
	c.restart(4)
	c.split(span(1, 3), ids(4))
	expectView(t, c, span(1, 3), view{quorate: true, quorum: 3, expect: 5, total: 3})
	expectView(t, c, ids(4), view{quorum: 3, expect: 5, total: 1, waitingForAll: true})
	c.split(span(1, 4))
	expectView(t, c, span(1, 4), view{quorate: true, quorum: 3, expect: 5, total: 4})
}

// TestWaitForAllAfterQuorumLoss: votequorum waits for all nodes again once
// a node has lost quorum, so a majority that reunites after every node was
// cut off waits for the rest.
func TestWaitForAllAfterQuorumLoss(t *testing.T) {
	c := newCluster(t, 3, func(c *Config) { c.WaitForAll = true })
	c.split(span(1, 3))
	c.split(ids(1), ids(2), ids(3))
	c.split(ids(1, 2), ids(3))
	expectView(t, c, ids(1, 2), view{quorum: 2, expect: 3, total: 2, waitingForAll: true})
	expectView(t, c, ids(3), view{quorum: 2, expect: 3, total: 1, waitingForAll: true})
	c.split(span(1, 3))
	expectView(t, c, span(1, 3), view{quorate: true, quorum: 2, expect: 3, total: 3})
}

func TestTwoNodeOffWithThirdMember(t *testing.T) {
	// A third node not in the two-node nodelist joins: two_node goes out of
	// effect while it is there, and its votes raise expected_votes.
	votes := map[env.NodeID]uint32{1: 1, 2: 1}
	c := newClusterVotes(t, votes, func(c *Config) { c.TwoNode = true })
	q3, err := New(Config{Self: 3, Votes: map[env.NodeID]uint32{1: 1, 2: 1, 3: 1}})
	if err != nil {
		t.Fatal(err)
	}
	c.nodes[3] = q3
	c.split(span(1, 3))
	expectView(t, c, ids(1, 2), view{quorate: true, quorum: 2, expect: 3, total: 3})
	c.split(ids(1, 2), ids(3))
	expectView(t, c, ids(1, 2), view{quorate: true, quorum: 1, expect: 3, total: 2, twoNodeInEffect: true})
}

func TestSetExpectedRefusals(t *testing.T) {
	c := newCluster(t, 5, nil)
	c.split(ids(1, 2, 3))
	q := c.nodes[1]
	if err := q.SetExpected(0, 0); err == nil {
		t.Error("SetExpected(0) accepted")
	}
	if err := q.SetExpected(0, 6); !errors.Is(err, ErrWouldLoseQuorum) {
		t.Errorf("SetExpected(6) with 3 votes present: err = %v, want ErrWouldLoseQuorum", err)
	}
	if q.HasReady() {
		t.Error("a refused SetExpected queued a broadcast")
	}
	if err := q.SetExpected(0, 5); err != nil {
		t.Errorf("SetExpected(5) with 3 of 5 present: %v", err)
	}
	// Not applied before its own broadcast comes back through the agreed order.
	if got := q.Status().ExpectedVotes; got != 5 {
		t.Errorf("expected votes %d before delivery", got)
	}
	if err := q.SetExpected(0, 4); err != nil {
		t.Fatal(err)
	}
	c.settle()
	expectView(t, c, ids(1, 2, 3), view{quorate: true, quorum: 3, expect: 4, total: 3})
}

func TestReadyAdvance(t *testing.T) {
	q, err := New(Config{Self: 2, Votes: map[env.NodeID]uint32{1: 1, 2: 3}})
	if err != nil {
		t.Fatal(err)
	}
	// Node 2 alone has 3 of 4 votes: quorate from the start.
	rd := q.Ready()
	if rd.Broadcast != nil || len(rd.Changes) != 1 || !rd.Changes[0].Quorate {
		t.Fatalf("initial Ready = %+v, want one quorate Status and no broadcast", rd)
	}
	q.Advance(rd)
	if q.HasReady() {
		t.Fatal("HasReady after Advance")
	}

	q.SetMembership(0, ids(2, 1))
	rd = q.Ready()
	want := NodeInfo{Node: 2, Votes: 3, ExpectedVotes: 4, Flags: FlagQuorate}
	if rd.Broadcast == nil || *rd.Broadcast != want {
		t.Fatalf("broadcast = %+v, want %+v", rd.Broadcast, want)
	}
	if len(rd.Changes) != 1 || !rd.Changes[0].Quorate || len(rd.Changes[0].Members) != 2 {
		t.Fatalf("changes = %v", rd.Changes)
	}
	// A second membership change before Advance: the first Ready's broadcast
	// is stale, so Advance must not clear the new one.
	q.SetMembership(0, ids(2))
	q.Advance(rd)
	rd = q.Ready()
	if rd.Broadcast == nil {
		t.Fatal("broadcast due after the second membership change was lost")
	}
	if len(rd.Changes) != 1 || len(rd.Changes[0].Members) != 1 {
		t.Fatalf("changes = %v", rd.Changes)
	}
	q.Advance(rd)
	if q.HasReady() {
		t.Fatal("HasReady after Advance")
	}
	// Input that changes nothing notifies nothing.
	q.Receive(0, NodeInfo{Node: 2, Votes: 3, ExpectedVotes: 4})
	if q.HasReady() {
		t.Fatalf("Ready after a no-op input: %+v", q.Ready())
	}
}

func TestReceiveDropsBadInput(t *testing.T) {
	q, err := New(Config{Self: 1, Votes: map[env.NodeID]uint32{1: 1, 2: 1, 3: 1}})
	if err != nil {
		t.Fatal(err)
	}
	q.SetMembership(0, ids(1, 2))
	for _, info := range []NodeInfo{
		{Node: 3, Votes: 1},                // not a member
		{Node: 0, Votes: 1},                // no such node
		{Node: 2, Votes: MaxNodeVotes + 1}, // out of range
		{Node: 2, Votes: 1, Flags: FlagSetExpected},
	} {
		q.Receive(0, info)
	}
	if q.Dropped() != 4 {
		t.Errorf("Dropped = %d, want 4", q.Dropped())
	}
	if s := q.Status(); s.TotalVotes != 1 || s.Quorate {
		t.Errorf("bad input changed the state:\n%s", s)
	}
}

func TestSetMembershipPanicsWithoutSelf(t *testing.T) {
	q, err := New(Config{Self: 1, Votes: map[env.NodeID]uint32{1: 1, 2: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	q.SetMembership(0, ids(2))
}

func TestConfigErrorsNameTheField(t *testing.T) {
	votes := map[env.NodeID]uint32{1: 1, 2: 1}
	cases := []struct {
		cfg   Config
		field string
	}{
		{Config{Votes: votes}, "Config.Self"},
		{Config{Self: 1}, "Config.Votes"},
		{Config{Self: 3, Votes: votes}, "Config.Votes"},
		{Config{Self: 1, Votes: map[env.NodeID]uint32{0: 1, 1: 1}}, "Config.Votes"},
		{Config{Self: 1, Votes: map[env.NodeID]uint32{1: MaxNodeVotes + 1}}, "Config.Votes"},
		{Config{Self: 1, Votes: votes, ExpectedVotes: MaxExpectedVotes + 1}, "Config.ExpectedVotes"},
		{Config{Self: 1, Votes: votes, LastManStandingWindow: -time.Second}, "Config.LastManStandingWindow"},
		{Config{Self: 1, Votes: map[env.NodeID]uint32{1: 2, 2: 1}, LastManStanding: true}, "Config.LastManStanding"},
		{Config{Self: 1, Votes: votes, AutoTieBreakerNode: "middle"}, "Config.AutoTieBreakerNode"},
		{Config{Self: 1, Votes: votes, TwoNode: true, AutoTieBreaker: true}, "Config.TwoNode"},
		{Config{Self: 1, Votes: map[env.NodeID]uint32{1: 1, 2: 1, 3: 1}, AutoTieBreaker: true}, "Config.AutoTieBreaker"},
		{Config{Self: 1, Votes: votes, AutoTieBreakerNode: "7 8"}, "Config.AutoTieBreakerNode"},
	}
	for _, tc := range cases {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("New(%+v) = %v, want an error naming %s", tc.cfg, err, tc.field)
		}
	}
	if _, err := New(Config{Self: 1, Votes: map[env.NodeID]uint32{1: 0, 2: 0}}); err == nil || !strings.Contains(err.Error(), "Config.Votes") {
		t.Errorf("New with no votes at all: %v", err)
	}
	// Defaults: zero window means 10 s; a zero-vote node is allowed with
	// last_man_standing.
	q, err := New(Config{Self: 1, Votes: map[env.NodeID]uint32{1: 1, 2: 1, 3: 0}, LastManStanding: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := q.Status(); s.ExpectedVotes != 2 || s.TotalVotes != 1 {
		t.Errorf("defaults: %+v", s)
	}
	q.SetMembership(5, ids(1))
	if at, ok := q.NextDeadline(); !ok || at != env.Mono(5).Add(DefaultLastManStandingWindow) {
		t.Errorf("NextDeadline = %v %v", at, ok)
	}
}

func TestStatusString(t *testing.T) {
	c := newCluster(t, 3, func(c *Config) { c.WaitForAll = true })
	c.split(ids(1, 2))
	want := `Nodes:            2
Node ID:          1
Quorate:          No
Expected votes:   3
Highest expected: 3
Total votes:      2
Quorum:           2 Activity blocked
Flags:            WaitForAll WaitingForAll
Members:          1 2
`
	if got := c.status(1).String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestWaitForAllRearmsOnQuorumLoss: votequorum puts an inquorate node back
// to waiting for all nodes. Without that, a node cut off from a cluster that
// last_man_standing had shrunk to 3 votes, joined by 5 rebooted nodes,
// forms a second quorate partition next to the 2 nodes it was cut off from.
func TestWaitForAllRearmsOnQuorumLoss(t *testing.T) {
	const w = 10 * time.Second
	c := newCluster(t, 8, func(c *Config) { c.LastManStanding, c.WaitForAll = true, true })
	c.split(span(1, 8))
	c.split(span(1, 5))
	c.wait(w)
	c.split(span(1, 3))
	c.wait(w)
	expectView(t, c, span(1, 3), view{quorate: true, quorum: 2, expect: 3, total: 3})
	c.split(ids(1), ids(2, 3))
	expectView(t, c, ids(1), view{quorum: 2, expect: 3, total: 1, waitingForAll: true})
	for _, id := range span(4, 8) {
		c.restart(id)
	}
	c.split(ids(1, 4, 5, 6, 7, 8), ids(2, 3))
	expectView(t, c, ids(2, 3), view{quorate: true, quorum: 2, expect: 3, total: 2})
	for _, id := range ids(1, 4, 5, 6, 7, 8) {
		if s := c.status(id); s.Quorate {
			t.Errorf("node %d is quorate next to the quorate pair 2, 3:\n%s", id, s)
		}
	}
}

// TestLastManStandingRejoin: a repaired node joining a cluster that
// last_man_standing shrank must not cost it quorum; votequorum ignores the
// expected_votes of a member that is not quorate, and the joiner adopts the
// quorate members' value.
func TestLastManStandingRejoin(t *testing.T) {
	const w = 10 * time.Second
	c := newCluster(t, 8, func(c *Config) { c.LastManStanding, c.WaitForAll = true, true })
	c.rng = rand.New(rand.NewPCG(1, 2))
	c.split(span(1, 8))
	c.split(span(1, 5))
	c.wait(w)
	c.split(span(1, 3))
	c.wait(w)
	c.restart(4)
	c.restart(5)
	c.split(span(1, 5))
	expectView(t, c, span(1, 5), view{quorate: true, quorum: 3, expect: 5, total: 5})
}

// TestZeroVotes: quorum_votes: 0 is a node without a vote, as in votequorum,
// not "unset".
func TestZeroVotes(t *testing.T) {
	c := newClusterVotes(t, map[env.NodeID]uint32{1: 1, 2: 1, 3: 0}, nil)
	c.split(span(1, 3))
	expectView(t, c, span(1, 3), view{quorate: true, quorum: 2, expect: 2, total: 2})
	c.split(ids(1), ids(2, 3))
	expectView(t, c, ids(2, 3), view{quorum: 2, expect: 2, total: 1})
}
