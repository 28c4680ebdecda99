package scenarios

import (
	"slices"
	"time"

	"github.com/hakit/hakit/node/env"
)

func init() {
	register(Scenario{Name: "partial-connectivity", Summary: "3-5 members; one pair cut off from each other while both still reach the rest: membership settles on the fully connected nodes and stays put; healed, one ring again", Run: runPartialConnectivity})
}

// runPartialConnectivity cuts one pair of nodes apart, both ways, on both
// networks, while each still reaches every other node: the case where
// Corosync re-forms the membership forever, each of the pair pulling the
// other back into the gathering. hakit must settle: one ring of the
// largest fully connected group (every node but the pair's higher id, by
// Partition's tie rule), the other alone, and no membership change after
// that while the cut stands.
func runPartialConnectivity(r *Run) {
	opts := r.W.Rand("options")
	n := 3 + opts.IntN(3)
	names := nodeNames(n)
	c := NewRingCluster(r, names, ReferenceConf(names, "", ""))
	if _, ok := c.Await(30*time.Second, func() bool { return c.OneRing(c.All()...) }); !ok {
		r.Violationf("no ring of all %d members after 30 s", n)
		return
	}
	c.load(50 * time.Millisecond)
	faults := r.W.Rand("faults")
	r.W.RunFor(between(faults, time.Second, 3*time.Second))
	a := faults.IntN(n)
	b := (a + 1 + faults.IntN(n-1)) % n
	a, b = min(a, b), max(a, b)
	cut := r.W.Now()
	r.W.Block(names[a], names[b])
	r.W.Block(names[b], names[a])

	// The settled state: everyone but b in one ring, b alone.
	var rest []int
	for i := range n {
		if i != b {
			rest = append(rest, i)
		}
	}
	settled := func() bool { return c.OneRing(rest...) && c.OneRing(b) }
	bound := 30 * time.Second
	if _, ok := c.Await(bound, settled); !ok {
		r.Violationf("%s|%s cut: no ring of %v with %s alone within %v", names[a], names[b], rest, names[b], bound)
		return
	}
	// Stable: no configuration anywhere for ten token timeouts.
	quietFrom, before := r.W.Now(), c.regularsSince(0)
	r.W.RunFor(10 * c.Conf.EffectiveToken())
	if k := c.regularsSince(0) - before; k > 0 || !settled() {
		r.Violationf("membership did not stay settled under the cut: %d configurations in the %v after it settled", k, 10*c.Conf.EffectiveToken())
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
	if st := c.Members[b].Status(); st.Quorum.Quorate {
		r.Violationf("%s, alone of %d, is quorate: %+v", names[b], n, st.Quorum)
	}
	if st := c.Members[a].Status(); !st.Quorum.Quorate {
		r.Violationf("%s, in the ring of %d of %d, is not quorate: %+v", names[a], n-1, n, st.Quorum)
	}
	for _, i := range rest {
		if ex := c.Members[i].Ring().Excluded(); !slices.Equal(ex, []env.NodeID{c.Hosts[b].Node()}) {
			r.Violationf("%s excludes %v, want [%s]", names[i], ex, names[b])
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
