package link

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hakit/hakit/node/env"
)

func ms(n int) env.Mono { return env.Mono(time.Duration(n) * time.Millisecond) }

// lc is a link with short timers, so that scenarios run in few events.
func lc(id env.LinkID, prio int) LinkConfig {
	return LinkConfig{ID: id, Priority: prio, PingInterval: 100 * time.Millisecond, PingTimeout: 250 * time.Millisecond, PongCount: 2}
}

// cutKey names a cut: a node's NIC on a link, or (node 0) the whole link.
type cutKey struct {
	node env.NodeID
	link env.LinkID
}

type pathKey struct {
	node, peer env.NodeID
	link       env.LinkID
}

type flight struct {
	deliverAt env.Mono // when the receiving node gets to it (later if paused)
	at        env.Mono // arrival, what Step is told
	seq       int
	from, to  env.NodeID
	link      env.LinkID
	payload   []byte
}

type nodeChange struct {
	Node env.NodeID
	Change
}

// cluster is an in-memory network of Managers on a virtual clock: frames
// travel encoded, with a per-link latency plus seeded jitter, and are lost
// when a cut applies at send or at arrival.
type cluster struct {
	t        testing.TB
	now      env.Mono
	nodes    []env.NodeID
	cfg      map[env.NodeID]Config
	m        map[env.NodeID]*Manager
	inflight []flight
	seq      int
	latency  map[env.LinkID]time.Duration
	jitter   time.Duration
	rng      *rand.Rand
	cuts     map[cutKey]env.Mono // active cuts and when they began
	paused   map[env.NodeID]env.Mono
	// pongAt is the ground truth: when a pong last reached node from peer
	// on link.
	pongAt  map[pathKey]env.Mono
	changes []nodeChange
	check   func() // invariants, after every event
}

// newCluster builds managers for nodes 1..n, all with the given links,
// mode and backoff. Peers are listed in a shuffled order on purpose.
func newCluster(t testing.TB, n int, seed uint64, links []LinkConfig, mode Mode, backoff int) *cluster {
	c := &cluster{
		t: t, cfg: map[env.NodeID]Config{}, m: map[env.NodeID]*Manager{},
		latency: map[env.LinkID]time.Duration{}, rng: rand.New(rand.NewPCG(seed, 7)),
		cuts: map[cutKey]env.Mono{}, paused: map[env.NodeID]env.Mono{}, pongAt: map[pathKey]env.Mono{},
	}
	for i := 1; i <= n; i++ {
		c.nodes = append(c.nodes, env.NodeID(i))
	}
	for _, l := range links {
		c.latency[l.ID] = 5 * time.Millisecond
	}
	for _, self := range c.nodes {
		var peers []env.NodeID
		for _, p := range c.nodes {
			if p != self {
				peers = append(peers, p)
			}
		}
		c.rng.Shuffle(len(peers), func(i, j int) { peers[i], peers[j] = peers[j], peers[i] })
		cfg := Config{Self: self, Peers: peers, Links: slices.Clone(links), Mode: mode, TimeoutBackoff: backoff}
		m, err := New(cfg, c.now)
		if err != nil {
			t.Fatal(err)
		}
		c.cfg[self], c.m[self] = cfg, m
		c.flush(self)
	}
	return c
}

func (c *cluster) isCut(a, b env.NodeID, l env.LinkID) bool {
	_, x := c.cuts[cutKey{0, l}]
	_, y := c.cuts[cutKey{a, l}]
	_, z := c.cuts[cutKey{b, l}]
	return x || y || z
}

// cutSince returns since when a path has been cut without interruption.
func (c *cluster) cutSince(a, b env.NodeID, l env.LinkID) (env.Mono, bool) {
	var since env.Mono
	found := false
	for _, k := range []cutKey{{0, l}, {a, l}, {b, l}} {
		if at, ok := c.cuts[k]; ok && (!found || at < since) {
			since, found = at, true
		}
	}
	return since, found
}

func (c *cluster) cut(node env.NodeID, l env.LinkID) {
	if _, ok := c.cuts[cutKey{node, l}]; !ok {
		c.cuts[cutKey{node, l}] = c.now
	}
}

func (c *cluster) restore(node env.NodeID, l env.LinkID) { delete(c.cuts, cutKey{node, l}) }

func (c *cluster) restoreAll() { clear(c.cuts) }

// pause stops node from running for d: its timers and deliveries wait, but
// frames keep their arrival times, as a kernel would stamp them.
func (c *cluster) pause(node env.NodeID, d time.Duration) { c.paused[node] = c.now.Add(d) }

func (c *cluster) flush(node env.NodeID) {
	m := c.m[node]
	rd := m.Ready()
	for _, o := range rd.Messages {
		if c.isCut(node, o.To, o.Link) {
			continue
		}
		lat := c.latency[o.Link]
		if c.jitter > 0 {
			lat += time.Duration(c.rng.Int64N(int64(c.jitter)))
		}
		c.seq++
		at := c.now.Add(lat)
		c.inflight = append(c.inflight, flight{deliverAt: at, at: at, seq: c.seq, from: node, to: o.To, link: o.Link, payload: Encode(o.Msg)})
	}
	for _, ch := range rd.Changes {
		c.changes = append(c.changes, nodeChange{node, ch})
	}
	m.Advance(rd)
}

// step runs the next event at or before until and reports whether there
// was one. Timers go before deliveries due at the same instant, so a node
// waking from a pause meets its late timer first.
func (c *cluster) step(until env.Mono) bool {
	var tickNode env.NodeID
	var tickAt env.Mono
	for _, n := range c.nodes {
		d, ok := c.m[n].NextDeadline()
		if !ok {
			continue
		}
		d = max(d, c.paused[n])
		if tickNode == 0 || d < tickAt {
			tickNode, tickAt = n, d
		}
	}
	fi := -1
	for i, f := range c.inflight {
		f.deliverAt = max(f.deliverAt, c.paused[f.to])
		c.inflight[i] = f
		if fi < 0 || f.deliverAt < c.inflight[fi].deliverAt || (f.deliverAt == c.inflight[fi].deliverAt && f.seq < c.inflight[fi].seq) {
			fi = i
		}
	}
	switch {
	case tickNode != 0 && tickAt <= until && (fi < 0 || tickAt <= c.inflight[fi].deliverAt):
		c.now = max(c.now, tickAt)
		c.m[tickNode].Tick(c.now)
		if d, ok := c.m[tickNode].NextDeadline(); ok && d <= c.now {
			// The driver would spin on a timer that never clears.
			c.t.Fatalf("node %d: Tick(%v) left NextDeadline at %v", tickNode, c.now, d)
		}
		c.flush(tickNode)
	case fi >= 0 && c.inflight[fi].deliverAt <= until:
		f := c.inflight[fi]
		c.inflight = slices.Delete(c.inflight, fi, fi+1)
		c.now = max(c.now, f.deliverAt)
		if c.isCut(f.from, f.to, f.link) {
			return true
		}
		msg, err := Decode(f.payload)
		if err != nil {
			c.t.Fatalf("harness frame does not decode: %v", err)
		}
		if _, ok := msg.(Pong); ok {
			c.pongAt[pathKey{f.to, f.from, f.link}] = f.at
		}
		if err := c.m[f.to].Step(f.at, f.link, f.from, msg); err != nil {
			c.t.Fatalf("node %d: Step: %v", f.to, err)
		}
		c.flush(f.to)
	default:
		return false
	}
	if c.check != nil {
		c.check()
	}
	return true
}

func (c *cluster) runUntil(t env.Mono) {
	for c.step(t) {
	}
	c.now = max(c.now, t)
}

func (c *cluster) runFor(d time.Duration) { c.runUntil(c.now.Add(d)) }

func (c *cluster) up(node, peer env.NodeID, l env.LinkID) bool {
	for _, ps := range c.m[node].Status() {
		if ps.Peer != peer {
			continue
		}
		for _, ls := range ps.Links {
			if ls.ID == l {
				return ls.Up
			}
		}
	}
	c.t.Fatalf("node %d has no path to %d on link %d", node, peer, l)
	return false
}

func (c *cluster) trace() string {
	s := ""
	for _, ch := range c.changes {
		s += fmt.Sprintf("%v n%d->%d l%d up=%v\n", ch.At, ch.Node, ch.Peer, ch.Link, ch.Up)
	}
	return s
}

// TestTwoNodesOneLinkCut is the harness scenario: with one of two links
// cut, the peer stays reachable over the other and passive routing moves
// to it, then back when the cut heals.
func TestTwoNodesOneLinkCut(t *testing.T) {
	links := []LinkConfig{lc(0, 10), lc(1, 20)}
	c := newCluster(t, 2, 1, links, Passive, 0)
	c.runFor(time.Second)
	for _, n := range c.nodes {
		peer := 3 - n
		if got := c.m[n].Route(peer); !slices.Equal(got, []env.LinkID{1}) {
			t.Fatalf("node %d: route before the cut = %v, want [1] (higher priority)", n, got)
		}
	}
	cutAt := c.now
	c.cut(0, 1)
	sawUnreachable := false
	c.check = func() {
		for _, n := range c.nodes {
			if len(c.m[n].Reachable()) != 1 {
				sawUnreachable = true
			}
		}
	}
	c.runFor(2 * time.Second)
	if sawUnreachable {
		t.Errorf("a node lost its peer although link 0 was intact:\n%s", c.trace())
	}
	for _, n := range c.nodes {
		peer := 3 - n
		if c.up(n, peer, 1) {
			t.Errorf("node %d: link 1 still up 2s after the cut", n)
		}
		if got := c.m[n].Route(peer); !slices.Equal(got, []env.LinkID{0}) {
			t.Errorf("node %d: route after the cut = %v, want [0]", n, got)
		}
		ls := c.m[n].Status()[0].Links[1]
		if ls.Downs != 1 || ls.LastChange <= cutAt || ls.LastChange > cutAt.Add(250*time.Millisecond) {
			t.Errorf("node %d: link 1 status %+v, want one down within PingTimeout of the cut at %v", n, ls, cutAt)
		}
	}
	c.restoreAll()
	c.runFor(time.Second)
	for _, n := range c.nodes {
		if got := c.m[n].Route(3 - n); !slices.Equal(got, []env.LinkID{1}) {
			t.Errorf("node %d: route after healing = %v, want [1] (fail back)", n, got)
		}
	}
}

// TestPauseInCluster pauses one node for far longer than PingTimeout. Its
// peer rightly sees it go silent; the paused node must not blame its links
// for its own absence.
func TestPauseInCluster(t *testing.T) {
	c := newCluster(t, 2, 3, []LinkConfig{lc(0, 0), lc(1, 0)}, Active, 0)
	c.runFor(time.Second)
	c.pause(1, 5*time.Second)
	c.runFor(4 * time.Second)
	if c.m[2].Reachable() != nil {
		t.Errorf("node 2 still reaches the paused node: %v", c.m[2].Reachable())
	}
	c.runFor(time.Second + 10*time.Millisecond) // node 1 wakes
	for _, ch := range c.changes {
		if ch.Node == 1 && !ch.Up {
			t.Fatalf("paused node declared a link down: %+v\n%s", ch, c.trace())
		}
	}
	if c.m[1].Stats().PausesDetected == 0 {
		t.Error("pause not detected")
	}
	c.runFor(time.Second)
	for _, n := range c.nodes {
		if got := c.m[n].Route(3 - n); !slices.Equal(got, []env.LinkID{0, 1}) {
			t.Errorf("node %d: route after the pause = %v, want [0 1]", n, got)
		}
	}
}

// TestDeterministicTrace runs the same seeded scenario twice: the traces
// (changes and every frame's bytes) must be identical, whatever the order
// peers were configured in.
func TestDeterministicTrace(t *testing.T) {
	run := func() string {
		c := newCluster(t, 4, 9, []LinkConfig{lc(0, 1), lc(1, 2), lc(2, 2)}, Passive, 10)
		c.jitter = 3 * time.Millisecond
		var frames []byte
		c.check = func() {
			for _, f := range c.inflight {
				frames = fmt.Appendf(frames, "%d>%d/%d@%v:%x;", f.from, f.to, f.link, f.at, f.payload)
			}
		}
		c.runFor(time.Second)
		c.cut(2, 1)
		c.runFor(time.Second)
		c.cut(0, 2)
		c.runFor(time.Second)
		c.restoreAll()
		c.runFor(time.Second)
		return c.trace() + string(frames)
	}
	a, b := run(), run()
	if a != b {
		t.Fatal("two runs from the same seed differ")
	}
}
