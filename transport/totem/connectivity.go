package totem

import (
	"slices"

	"github.com/hakit/hakit/node/env"
)

// Partition splits nodes into fully connected groups, the same way on
// every node that has the same view of the links. Corosync forms a ring of
// whoever answers joins, so when two nodes cannot reach each other but
// both reach the rest, each keeps pulling the other into the gathering and
// being declared failed by it: the membership re-forms forever. hakit
// instead forms rings only of nodes that reach each other directly.
//
// reach(a, b) reports whether a says it has a link up to b; a pair is
// connected when each says so of the other (a one-way link is useless to
// totem, whose token goes both ways round the ring). The first group is
// the largest set of pairwise connected nodes (ties: the one whose sorted
// ids come first), the next the largest among the rest, and so on. A node
// whose view of another's links is missing should report true for them:
// its own row is the one that decides the pairs it is in.
func Partition(nodes []env.NodeID, reach func(a, b env.NodeID) bool) [][]env.NodeID {
	rest := slices.Sorted(slices.Values(nodes))
	rest = slices.Compact(rest)
	adj := make(map[env.NodeID]map[env.NodeID]bool, len(rest))
	for _, a := range rest {
		adj[a] = map[env.NodeID]bool{}
	}
	for i, a := range rest {
		for _, b := range rest[i+1:] {
			if reach(a, b) && reach(b, a) {
				adj[a][b], adj[b][a] = true, true
			}
		}
	}
	var groups [][]env.NodeID
	for len(rest) > 0 {
		g := largestClique(rest, adj)
		groups = append(groups, g)
		rest = slices.DeleteFunc(rest, func(n env.NodeID) bool { return slices.Contains(g, n) })
	}
	return groups
}

// GroupOf returns the group of Partition that holds self.
func GroupOf(self env.NodeID, groups [][]env.NodeID) []env.NodeID {
	for _, g := range groups {
		if slices.Contains(g, self) {
			return g
		}
	}
	return []env.NodeID{self}
}

// cliqueBudget bounds the search steps of largestClique. Every node
// computes the same answer either way, since the search is deterministic
// and the budget counts the same steps everywhere.
const cliqueBudget = 50_000

// largestClique runs Bron–Kerbosch with pivoting over nodes (sorted) and
// keeps the largest maximal clique, the lexicographically first among
// equals. Cluster graphs are nearly complete, where it is fast: k missing
// edges make at most 2^k maximal cliques. In a large cluster with many
// missing links that could take seconds on the event loop, so after
// cliqueBudget steps it settles for a greedy clique (nodes in id order,
// each kept if linked to all kept so far): still fully connected, maybe
// not the largest.
func largestClique(nodes []env.NodeID, adj map[env.NodeID]map[env.NodeID]bool) []env.NodeID {
	var best []env.NodeID
	steps := 0
	var search func(r, p, x []env.NodeID)
	search = func(r, p, x []env.NodeID) {
		if steps++; steps > cliqueBudget {
			return
		}
		if len(p) == 0 && len(x) == 0 {
			c := slices.Sorted(slices.Values(r))
			if len(c) > len(best) || (len(c) == len(best) && slices.Compare(c, best) < 0) {
				best = c
			}
			return
		}
		if len(r)+len(p) < len(best) {
			return // cannot beat the best, nor tie it
		}
		pivot, most := env.NodeID(0), -1
		for _, u := range append(slices.Clone(p), x...) {
			n := 0
			for _, v := range p {
				if adj[u][v] {
					n++
				}
			}
			if n > most {
				pivot, most = u, n
			}
		}
		for _, v := range slices.Clone(p) {
			if adj[pivot][v] {
				continue
			}
			keep := func(s []env.NodeID) []env.NodeID {
				var out []env.NodeID
				for _, w := range s {
					if adj[v][w] {
						out = append(out, w)
					}
				}
				return out
			}
			search(append(slices.Clone(r), v), keep(p), keep(x))
			p = slices.DeleteFunc(p, func(w env.NodeID) bool { return w == v })
			x = append(x, v)
		}
	}
	search(nil, slices.Clone(nodes), nil)
	if steps > cliqueBudget {
		best = nil
		for _, n := range nodes {
			if !slices.ContainsFunc(best, func(m env.NodeID) bool { return !adj[n][m] }) {
				best = append(best, n)
			}
		}
	}
	return best
}
