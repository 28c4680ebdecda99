package totem

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hakit/hakit/node/env"
)

func TestPartition(t *testing.T) {
	ids := func(n int) []env.NodeID {
		var out []env.NodeID
		for i := 1; i <= n; i++ {
			out = append(out, env.NodeID(i))
		}
		return out
	}
	for _, c := range []struct {
		name  string
		n     int
		cut   [][2]env.NodeID // pairs with no link either way
		oneWy [][2]env.NodeID // a says it reaches b, b does not say it reaches a
		want  string
	}{
		{"fully connected", 3, nil, nil, "[[1 2 3]]"},
		{"one pair of three", 3, [][2]env.NodeID{{1, 3}}, nil, "[[1 2] [3]]"},
		{"the higher id of the pair goes", 3, [][2]env.NodeID{{2, 3}}, nil, "[[1 2] [3]]"},
		{"lowest ids win a tie", 4, [][2]env.NodeID{{1, 2}}, nil, "[[1 3 4] [2]]"},
		{"non-adjacent pair of five", 5, [][2]env.NodeID{{2, 4}}, nil, "[[1 2 3 5] [4]]"},
		{"one-way link counts as cut", 3, nil, [][2]env.NodeID{{1, 2}}, "[[1 3] [2]]"},
		{"clean split", 4, [][2]env.NodeID{{1, 3}, {1, 4}, {2, 3}, {2, 4}}, nil, "[[1 2] [3 4]]"},
		{"isolated node", 3, [][2]env.NodeID{{2, 1}, {2, 3}}, nil, "[[1 3] [2]]"},
		{"a path graph", 4, [][2]env.NodeID{{1, 3}, {1, 4}, {2, 4}}, nil, "[[1 2] [3 4]]"},
		{"two missing edges", 5, [][2]env.NodeID{{1, 2}, {3, 4}}, nil, "[[1 3 5] [2 4]]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			reach := func(a, b env.NodeID) bool {
				for _, p := range c.cut {
					if p == [2]env.NodeID{a, b} || p == [2]env.NodeID{b, a} {
						return false
					}
				}
				for _, p := range c.oneWy {
					if p == [2]env.NodeID{b, a} {
						return false
					}
				}
				return true
			}
			got := Partition(ids(c.n), reach)
			if fmt.Sprint(got) != c.want {
				t.Errorf("Partition = %v, want %s", got, c.want)
			}
			// Every group is pairwise connected and the groups cover the
			// nodes exactly once.
			var all []env.NodeID
			for _, g := range got {
				for i, a := range g {
					for _, b := range g[i+1:] {
						if !reach(a, b) || !reach(b, a) {
							t.Errorf("group %v holds %d and %d, which are not connected", g, a, b)
						}
					}
				}
				all = append(all, g...)
			}
			slices.Sort(all)
			if !slices.Equal(all, ids(c.n)) {
				t.Errorf("groups %v do not cover the nodes once", got)
			}
		})
	}
}

// The protocol part of partial connectivity: nodes 1 and 3 cannot talk,
// both reach 2. Without exclusions the ring keeps re-forming (each of the
// pair keeps pulling the other into the gathering); with the exclusions
// every driver computes from the same view (Partition: {1,2} and {3}), the
// membership settles and stays.
func TestPartialConnectivitySettlesWithExclusions(t *testing.T) {
	for _, exclude := range []bool{false, true} {
		t.Run(fmt.Sprintf("exclusions=%v", exclude), func(t *testing.T) {
			h := newHarness(t, 3, 7)
			if !h.runUntil(10*time.Second, func() bool { return h.oneRing(1, 2, 3) }) {
				t.Fatalf("no ring:\n%s", h.dump())
			}
			h.cut[[2]env.NodeID{1, 3}], h.cut[[2]env.NodeID{3, 1}] = true, true
			if exclude {
				h.rings[1].SetExcluded(h.now, []env.NodeID{3})
				h.rings[2].SetExcluded(h.now, []env.NodeID{3})
				h.rings[3].SetExcluded(h.now, []env.NodeID{1, 2})
				for _, id := range h.nodes {
					h.flush(id)
				}
			}
			h.runFor(30 * time.Second)
			gathers := func() uint64 {
				var n uint64
				for _, r := range h.rings {
					n += r.Stats().Gathers
				}
				return n
			}
			before := gathers()
			h.runFor(60 * time.Second)
			again := gathers() - before
			settled := h.oneRing(1, 2) && h.oneRing(3)
			if exclude && (!settled || again != 0) {
				t.Errorf("with exclusions: settled=%v, %d gatherings in the minute after 30 s:\n%s", settled, again, h.dump())
			}
			if !exclude && again == 0 {
				t.Errorf("without exclusions the membership settled; this test no longer shows what exclusions are for")
			}
			t.Logf("exclusions=%v: %d gatherings in the second minute under the cut", exclude, again)
		})
	}
}

// A large cluster where every node misses one peer has 2^(n/2) maximal
// cliques; Partition must still answer quickly (the budget), with groups
// that are fully connected and cover every node.
func TestPartitionLargeClusterStaysBounded(t *testing.T) {
	var nodes []env.NodeID
	for i := 1; i <= 64; i++ {
		nodes = append(nodes, env.NodeID(i))
	}
	reach := func(a, b env.NodeID) bool { return (a-1)/2 != (b-1)/2 } // 1-2, 3-4, ... cut
	groups := Partition(nodes, reach)
	seen := 0
	for _, g := range groups {
		for i, a := range g {
			for _, b := range g[i+1:] {
				if !reach(a, b) {
					t.Fatalf("group %v holds the cut pair %d, %d", g, a, b)
				}
			}
		}
		seen += len(g)
	}
	if seen != len(nodes) || len(groups[0]) != 32 {
		t.Errorf("groups %v: want every node once and a first group of 32", groups)
	}
}
