package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/transport/totem"
)

func init() {
	register(Scenario{Name: "partial-connectivity", Summary: "3-5 members; pairs cut apart (one pair, staged cuts, or one-way blocks) while they still reach others: the membership settles on the fully connected groups and stays put; healed, one ring again", Run: runPartialConnectivity})
}

// runPartialConnectivity cuts pairs of nodes apart while each still reaches
// others: the case where Corosync re-forms the membership forever, each of
// a pair pulling the other back into the gathering. The seed picks one
// pair cut both ways, a series of cuts made one after another (a node's
// picture of links it cannot see must come from the others), or one-way
// blocks mixed with cuts. hakit must settle on the groups totem.Partition
// computes from the true connectivity, one ring per group, and then not
// change while the cuts stand.
func runPartialConnectivity(r *Run) {
	opts := r.W.Rand("options")
	n := 3 + opts.IntN(3)
	names := nodeNames(n)
	c := NewRingCluster(r, names, ReferenceConf(names, "", ""))
	if !c.formed() {
		return
	}
	c.load(50 * time.Millisecond)
	faults := r.W.Rand("faults")
	r.W.RunFor(between(faults, time.Second, 3*time.Second))
	pair := func() (int, int) {
		a := faults.IntN(n)
		b := (a + 1 + faults.IntN(n-1)) % n
		return min(a, b), max(a, b)
	}
	cut := r.W.Now()
	var done []string
	switch mode := faults.IntN(3); mode {
	case 0:
		a, b := pair()
		r.W.Block(names[a], names[b])
		r.W.Block(names[b], names[a])
		done = append(done, fmt.Sprintf("cut %s|%s", names[a], names[b]))
	case 1:
		for range 2 + faults.IntN(2) {
			a, b := pair()
			r.W.Block(names[a], names[b])
			r.W.Block(names[b], names[a])
			done = append(done, fmt.Sprintf("cut %s|%s at %v", names[a], names[b], r.W.Now()))
			r.W.RunFor(between(faults, 5*time.Second, 20*time.Second))
		}
	case 2:
		for range 1 + faults.IntN(3) {
			a, b := pair()
			if faults.IntN(2) == 0 {
				a, b = b, a
			}
			r.W.Block(names[a], names[b])
			what := fmt.Sprintf("block %s->%s", names[a], names[b])
			if faults.IntN(2) == 0 {
				r.W.Block(names[b], names[a])
				what = fmt.Sprintf("cut %s|%s", names[a], names[b])
			}
			done = append(done, what)
		}
	}
	cuts := strings.Join(done, ", ")

	// The groups the true connectivity gives: a pair is connected when
	// frames pass both ways.
	ids := make([]env.NodeID, n)
	for i := range n {
		ids[i] = c.Hosts[i].Node()
	}
	groups := totem.Partition(ids, func(a, b env.NodeID) bool {
		return r.W.Reachable(r.W.HostOf(a).Name(), r.W.HostOf(b).Name())
	})
	settled := func() bool {
		for _, g := range groups {
			var idx []int
			for _, id := range g {
				idx = append(idx, int(id)-1)
			}
			if !c.OneRing(idx...) {
				return false
			}
		}
		return true
	}
	bound := 30 * time.Second
	if _, ok := c.Await(bound, settled); !ok {
		r.Violationf("%s: not one ring per fully connected group %v within %v", cuts, groups, bound)
		return
	}
	quietFrom, before := r.W.Now(), c.regularsSince(0)
	r.W.RunFor(10 * c.Conf.EffectiveToken())
	if k := c.regularsSince(0) - before; k > 0 || !settled() {
		r.Violationf("%s: the membership did not stay on %v: %d configurations in the %v after it settled", cuts, groups, k, 10*c.Conf.EffectiveToken())
	}
	last := cut
	for _, seen := range c.RegularAt {
		for _, s := range seen {
			if s.At >= cut && s.At <= quietFrom {
				last = max(last, s.At)
			}
		}
	}
	r.Figure("settle_ms", ms(last-cut), "ms")
	r.Figure("configurations_until_settled", float64(c.regularsSince(cut)), "")
	// Quorum: only a group holding a majority of the votes may be quorate.
	for _, g := range groups {
		for _, id := range g {
			if q := c.Members[int(id)-1].Status().Quorum.Quorate; q != (2*len(g) > n) {
				r.Violationf("%s: node %d in group %v of %d nodes: quorate=%v", cuts, id, g, n, q)
			}
			want := slices.DeleteFunc(slices.Clone(ids), func(x env.NodeID) bool { return slices.Contains(g, x) })
			if ex := c.Members[int(id)-1].Ring().Excluded(); !slices.Equal(ex, want) {
				r.Violationf("%s: node %d excludes %v, want %v", cuts, id, ex, want)
			}
		}
	}

	r.W.Heal()
	took, ok := c.Await(bound, func() bool { return c.OneRing(c.All()...) })
	if !ok {
		r.Violationf("healed: no ring of all %d within %v", n, bound)
		return
	}
	r.Figure("merge_ms", ms(took), "ms")
	c.finalDelivery(5 * time.Second)
}
