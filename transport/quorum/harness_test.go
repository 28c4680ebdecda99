package quorum

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hakit/hakit/node/env"
)

// cluster plays totem for a set of Quorums: it installs configurations and
// delivers every broadcast to every member of the sender's partition, the
// sender included, in one agreed order.
type cluster struct {
	t     testing.TB
	now   env.Mono
	cfgs  map[env.NodeID]Config
	nodes map[env.NodeID]*Quorum
	part  map[env.NodeID][]env.NodeID // running nodes only; down nodes are absent
	rng   *rand.Rand                  // if set, permutes each round of broadcasts
}

// newCluster builds nodes 1..n with one vote each; mut adjusts each
// node's Config (it sees Self already set).
func newCluster(t testing.TB, n int, mut func(*Config)) *cluster {
	votes := map[env.NodeID]uint32{}
	for i := 1; i <= n; i++ {
		votes[env.NodeID(i)] = 1
	}
	return newClusterVotes(t, votes, mut)
}

func newClusterVotes(t testing.TB, votes map[env.NodeID]uint32, mut func(*Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, cfgs: map[env.NodeID]Config{}, nodes: map[env.NodeID]*Quorum{}, part: map[env.NodeID][]env.NodeID{}}
	for id := range votes {
		cfg := Config{Self: id, Votes: votes}
		if mut != nil {
			mut(&cfg)
		}
		c.cfgs[id] = cfg
		c.restart(id)
	}
	return c
}

// restart replaces a node with a fresh Quorum, as after a reboot; it is down
// until the next split names it.
func (c *cluster) restart(id env.NodeID) {
	c.t.Helper()
	q, err := New(c.cfgs[id])
	if err != nil {
		c.t.Fatalf("New(node %d): %v", id, err)
	}
	c.nodes[id] = q
	delete(c.part, id)
	c.drain(q)
}

// split installs one configuration per part; nodes in no part are down.
func (c *cluster) split(parts ...[]env.NodeID) {
	c.t.Helper()
	clear(c.part)
	for _, p := range parts {
		p = slices.Sorted(slices.Values(p))
		for _, id := range p {
			c.part[id] = p
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.part)) {
		c.nodes[id].SetMembership(c.now, c.part[id])
	}
	c.settle()
}

func (c *cluster) drain(q *Quorum) []NodeInfo {
	var out []NodeInfo
	for q.HasReady() {
		rd := q.Ready()
		if rd.Broadcast != nil {
			out = append(out, *rd.Broadcast)
		}
		q.Advance(rd)
	}
	return out
}

// settle runs Ready/Advance and delivery rounds until nothing is pending.
func (c *cluster) settle() {
	c.t.Helper()
	for round := 0; ; round++ {
		if round > 50 {
			c.t.Fatal("cluster does not settle")
		}
		busy := false
		for _, p := range c.partitions() {
			var msgs []NodeInfo
			for _, id := range p {
				msgs = append(msgs, c.drain(c.nodes[id])...)
			}
			if c.rng != nil {
				c.rng.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
			}
			for _, m := range msgs {
				busy = true
				for _, id := range p {
					c.nodes[id].Receive(c.now, m)
				}
			}
		}
		if !busy {
			return
		}
	}
}

func (c *cluster) partitions() [][]env.NodeID {
	var out [][]env.NodeID
	for _, id := range slices.Sorted(maps.Keys(c.part)) {
		if p := c.part[id]; p[0] == id {
			out = append(out, p)
		}
	}
	return out
}

// wait moves time on, ticks every running node and settles.
func (c *cluster) wait(d time.Duration) {
	c.t.Helper()
	c.now = c.now.Add(d)
	for _, id := range slices.Sorted(maps.Keys(c.part)) {
		c.nodes[id].Tick(c.now)
	}
	c.settle()
}

func (c *cluster) status(id env.NodeID) Status { return c.nodes[id].Status() }

// ids is a shorthand for a list of node ids.
func ids(n ...int) []env.NodeID {
	out := make([]env.NodeID, len(n))
	for i, v := range n {
		out[i] = env.NodeID(v)
	}
	return out
}

// span returns lo..hi.
func span(lo, hi int) []env.NodeID {
	var out []env.NodeID
	for i := lo; i <= hi; i++ {
		out = append(out, env.NodeID(i))
	}
	return out
}
