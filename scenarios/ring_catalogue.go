package scenarios

import (
	"fmt"
	"slices"
	"time"
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
	if _, ok := c.Await(30*time.Second, func() bool { return c.OneRing(c.All()...) }); !ok {
		r.Violationf("no ring of all %d members after 30 s", n)
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
	if _, ok := c.Await(30*time.Second, func() bool { return c.OneRing(c.All()...) }); !ok {
		r.Violationf("no ring of all %d members after 30 s", n)
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
