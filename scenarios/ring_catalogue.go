package scenarios

import (
	"fmt"
	"slices"
	"time"

	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/sim"
	"github.com/hakit/hakit/transport/totem"
)

func init() {
	register(Scenario{Name: "ring-crash-restart", Summary: "2 or 3 members under load; one loses power: survivors deliver the new membership within token (+coefficient) + consensus + 200 ms; it restarts and rejoins", Run: runRingCrashRestart})
	register(Scenario{Name: "ring-split-brain", Summary: "partition 2|1 (or 1|1 with two_node) under load: each side forms its ring, quorum as votequorum says, then the rings merge", Run: runRingSplitBrain})
}

func nodeNames(n int) []string {
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("node%d", i+1))
	}
	return names
}

// load has every live member send a message every interval until stop.
func (c *RingCluster) load(every time.Duration) {
	var tick func()
	tick = func() {
		for i := range c.Hosts {
			if c.live(i) {
				c.Send(i)
			}
		}
		c.r.W.After(every, "", tick)
	}
	c.r.W.After(every, "", tick)
}

func runRingCrashRestart(r *Run) {
	opts := r.W.Rand("options")
	n := 2 + opts.IntN(2)
	c := NewRingCluster(r, nodeNames(n), ReferenceConf(nodeNames(n), "", ""))
	if !c.formed() {
		return
	}
	c.load(50 * time.Millisecond)
	faults := r.W.Rand("faults")
	victim := faults.IntN(n)
	r.W.RunFor(between(faults, 2*time.Second, 4*time.Second))
	crash := r.W.Now()
	c.Hosts[victim].PowerOff()
	var survivors []int
	for i := range c.Hosts {
		if i != victim {
			survivors = append(survivors, i)
		}
	}
	bound := c.Conf.EffectiveToken() + c.Conf.EffectiveConsensus() + 200*time.Millisecond
	if _, ok := c.Await(bound+5*time.Second, func() bool { return c.OneRing(survivors...) }); !ok {
		r.Violationf("survivors %v formed no ring within %v of the crash", survivors, bound+5*time.Second)
		return
	}
	var detect time.Duration
	for _, i := range survivors {
		seen := false
		for _, s := range c.RegularAt[i] {
			if s.At >= crash && !slices.Contains(s.Members, c.Hosts[victim].Node()) {
				detect, seen = max(detect, s.At-crash), true
				break
			}
		}
		if !seen {
			r.Violationf("%s never delivered a membership without %s", c.Hosts[i].Name(), c.Hosts[victim].Name())
		}
	}
	r.Figure(fmt.Sprintf("detection_ms_%dnodes", n), ms(detect), "ms")
	if detect > bound {
		r.Violationf("new membership %v after the crash, want within token+consensus+200ms = %v", detect, bound)
	}
	r.W.RunFor(between(faults, time.Second, 5*time.Second))
	c.Hosts[victim].PowerOn()
	c.Procs[victim].Restart()
	took, ok := c.Await(30*time.Second, func() bool { return c.OneRing(c.All()...) })
	if !ok {
		r.Violationf("restarted member not back in the ring after 30 s")
	}
	r.Figure("rejoin_ms", ms(took), "ms")
	r.W.RunFor(2 * time.Second)
}

func runRingSplitBrain(r *Run) {
	opts := r.W.Rand("options")
	n := 2 + opts.IntN(2)
	names := nodeNames(n)
	c := NewRingCluster(r, names, ReferenceConf(names, "", ""))
	if !c.formed() {
		return
	}
	c.load(50 * time.Millisecond)
	faults := r.W.Rand("faults")
	alone := faults.IntN(n)
	var rest []int
	var restNames []string
	for i, h := range c.Hosts {
		if i != alone {
			rest = append(rest, i)
			restNames = append(restNames, h.Name())
		}
	}
	r.W.RunFor(between(faults, 2*time.Second, 4*time.Second))
	r.W.Partition([]string{c.Hosts[alone].Name()}, restNames)
	bound := c.Conf.EffectiveToken() + c.Conf.EffectiveConsensus() + time.Second
	took, ok := c.Await(bound, func() bool { return c.OneRing(alone) && c.OneRing(rest...) })
	if !ok {
		r.Violationf("no two rings within %v of the partition", bound)
		return
	}
	r.Figure(fmt.Sprintf("split_ms_%dnodes", n), ms(took), "ms")
	// votequorum: with three votes the pair keeps quorum and the single
	// node loses it; with two_node both halves keep it (fencing decides).
	r.W.RunFor(time.Second)
	aloneQ, restQ := c.Members[alone].Quorum().Quorate, c.Members[rest[0]].Quorum().Quorate
	switch {
	case n == 3 && (aloneQ || !restQ):
		r.Violationf("3 nodes split 1|2: single quorate=%v, pair quorate=%v; want false, true", aloneQ, restQ)
	case n == 2 && !(aloneQ && restQ):
		r.Violationf("two_node split 1|1: quorate %v and %v; want both (fencing decides)", aloneQ, restQ)
	}
	r.W.RunFor(between(faults, time.Second, 5*time.Second))
	r.W.Heal()
	took, ok = c.Await(30*time.Second, func() bool { return c.OneRing(c.All()...) })
	if !ok {
		r.Violationf("rings did not merge within 30 s of the heal")
		return
	}
	r.Figure("merge_ms", ms(took), "ms")
	r.W.RunFor(time.Second)
	for i := range c.Hosts {
		if !c.Members[i].Quorum().Quorate {
			r.Violationf("%s not quorate after the merge", c.Hosts[i].Name())
		}
	}
}

func init() {
	register(Scenario{Name: "ring-bond-failover", Summary: "reference setup under load; a random active slave's cable is cut: no membership change with default timing, delivery goes on", Run: runRingBondFailover})
	register(Scenario{Name: "ring-lossy", Summary: "3 members, 5-20% loss with duplication and reordering on both networks: safety throughout, one ring and full delivery once the loss stops", Run: runRingLossy})
	register(Scenario{Name: "ring-pause", Summary: "a member frozen for 0.5x, 1x or 5x the token: nothing happens at 0.5x; at 5x the others reform, the frozen one notices its pause and rejoins", Run: runRingPause})
	register(Scenario{Name: "ring-swarm", Summary: "2-5 members, random mixes of power loss, crashes, pauses, partitions, cable cuts and loss; then heal: one ring of all and every final message delivered", Run: runRingSwarm})
}

// regularsSince counts regular configurations delivered at or after t.
func (c *RingCluster) regularsSince(t time.Duration) int {
	n := 0
	for _, seen := range c.RegularAt {
		for _, s := range seen {
			if s.At >= t {
				n++
			}
		}
	}
	return n
}

// finalDelivery waits for one ring of every member that has held for a
// token timeout plus consensus (a ring that is about to lose a member to
// a token lost in the faulty period is not the end state), then has every
// member send one message and requires every member to deliver all of
// them within limit.
func (c *RingCluster) finalDelivery(limit time.Duration) {
	quiet := c.Conf.EffectiveToken() + c.Conf.EffectiveConsensus()
	var steadySince time.Duration = -1
	if _, ok := c.Await(30*time.Second+quiet, func() bool {
		switch {
		case !c.OneRing(c.All()...):
			steadySince = -1
		case steadySince < 0:
			steadySince = c.r.W.Now()
		}
		return steadySince >= 0 && c.r.W.Now()-steadySince >= quiet
	}); !ok {
		c.r.Violationf("no ring of all members that held for %v within %v", quiet, 30*time.Second+quiet)
		return
	}
	got := make([]map[string]bool, len(c.Hosts))
	for i := range got {
		got[i] = map[string]bool{}
	}
	prev := c.OnDeliver
	c.OnDeliver = func(i int, ring totem.RingID, sender env.NodeID, p []byte) {
		got[i][string(p)] = true
		if prev != nil {
			prev(i, ring, sender, p)
		}
	}
	var final []string
	for i := range c.Hosts {
		final = append(final, c.Send(i))
	}
	all := func() bool {
		for i := range c.Hosts {
			for _, f := range final {
				if !got[i][f] {
					return false
				}
			}
		}
		return true
	}
	if _, ok := c.Await(limit, all); !ok {
		c.r.Violationf("final messages %v not delivered everywhere within %v", final, limit)
	}
}

func runRingBondFailover(r *Run) {
	names := []string{"vm-node1", "vm-node2"}
	c := NewRingCluster(r, names, ReferenceConf(names, "", ""))
	if !c.formed() {
		return
	}
	c.load(20 * time.Millisecond)
	faults := r.W.Rand("faults")
	host := c.Hosts[faults.IntN(2)]
	bond := host.Bond(fmt.Sprintf("bond%d", faults.IntN(2)))
	r.W.RunFor(between(faults, time.Second, 3*time.Second))
	cut := r.W.Now()
	bond.Active().CutCable()
	r.W.RunFor(10 * time.Second)
	if n := c.regularsSince(cut); n != 0 {
		r.Violationf("a bond failover (%v) changed the membership %d times with token %v", bond.Config().FailoverWindow(), n, c.Conf.EffectiveToken())
	}
	c.finalDelivery(5 * time.Second)
}

func runRingLossy(r *Run) {
	opts := r.W.Rand("options")
	names := nodeNames(3)
	c := NewRingCluster(r, names, ReferenceConf(names, "", ""))
	lossy := sim.LAN()
	lossy.Loss = 0.05 + opts.Float64()*0.15
	lossy.Duplicate = opts.Float64() * 0.05
	lossy.Reorder = opts.Float64() * 0.05
	c.Private.SetConfig(lossy)
	c.Public.SetConfig(lossy)
	r.Figure("loss", lossy.Loss, "")
	c.load(50 * time.Millisecond)
	r.W.RunFor(60 * time.Second)
	c.Private.SetConfig(sim.LAN())
	c.Public.SetConfig(sim.LAN())
	bound := c.Conf.EffectiveToken() + c.Conf.EffectiveConsensus() + 5*time.Second
	if _, ok := c.Await(bound, func() bool { return c.OneRing(c.All()...) }); !ok {
		r.Violationf("no ring of all members within %v of the loss stopping", bound)
		return
	}
	r.Figure("membership_changes", float64(c.regularsSince(0)), "")
	c.finalDelivery(5 * time.Second)
}

func runRingPause(r *Run) {
	opts := r.W.Rand("options")
	n := 2 + opts.IntN(2)
	names := nodeNames(n)
	c := NewRingCluster(r, names, ReferenceConf(names, "", ""))
	if !c.formed() {
		return
	}
	c.load(50 * time.Millisecond)
	faults := r.W.Rand("faults")
	factor := []float64{0.5, 1, 5}[faults.IntN(3)]
	frozen := faults.IntN(n)
	pause := time.Duration(factor * float64(c.Conf.EffectiveToken()))
	r.W.RunFor(between(faults, time.Second, 3*time.Second))
	start := r.W.Now()
	c.Procs[frozen].Pause()
	r.W.RunFor(pause)
	c.Procs[frozen].Resume()
	r.Figure("pause_ms", ms(pause), "ms")
	bound := c.Conf.EffectiveToken() + c.Conf.EffectiveConsensus() + 5*time.Second
	if _, ok := c.Await(bound, func() bool { return c.OneRing(c.All()...) }); !ok {
		r.Violationf("no ring of all members within %v of the resume", bound)
		return
	}
	changes := c.regularsSince(start)
	switch {
	case factor == 0.5 && changes != 0:
		r.Violationf("a pause of half the token changed the membership %d times", changes)
	case factor == 5 && changes == 0:
		r.Violationf("the others did not notice a member frozen for %v", pause)
	}
	c.finalDelivery(5 * time.Second)
	// Checked once the resumed member has run what came due while it was
	// stopped.
	if factor >= 1 {
		ring := c.Members[frozen].Ring().Stats().PausesDetected
		links := c.Members[frozen].Links().Stats().PausesDetected
		if ring+links == 0 {
			r.Violationf("a pause of %v went unnoticed by the frozen member", pause)
		}
	}
}

func runRingSwarm(r *Run) {
	opts := r.W.Rand("options")
	n := 2 + opts.IntN(4)
	names := nodeNames(n)
	c := NewRingCluster(r, names, ReferenceConf(names, "", ""))
	swarmNetworks(opts, c.Private, c.Public)
	c.load(100 * time.Millisecond)
	const faultPhase = 60 * time.Second
	planned := planFaults(r.W, r.W.Rand("faults"), c.Hosts, c.Procs, 5*time.Second, faultPhase-10*time.Second, 10*time.Second)
	schedule := schedulePlanned(r.W, planned)
	r.W.RunUntil(faultPhase)
	c.Private.SetConfig(sim.LAN())
	c.Public.SetConfig(sim.LAN())
	bound := c.Conf.EffectiveToken() + c.Conf.EffectiveConsensus() + 10*time.Second
	took, ok := c.Await(bound, func() bool { return c.OneRing(c.All()...) })
	if !ok {
		r.Violationf("no ring of all members within %v of healing; faults: %v", bound, schedule)
		return
	}
	r.Figure("convergence_ms", ms(took), "ms")
	c.finalDelivery(5 * time.Second)
}
