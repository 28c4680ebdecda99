package scenarios

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/hakit/hakit/sim"
)

// runSwarm is swarm testing (TigerBeetle's VOPR): the seed draws the world
// (2-5 nodes, how lossy each network is) and a schedule of faults. During
// the fault phase the safety invariants hold at every event (nothing
// crosses a partition, boot counters only rise); then everything is healed
// and the cluster must converge within a bound.
func runSwarm(r *Run) {
	opts := r.W.Rand("options")
	c := BondedCluster(r, nodeNames(2+opts.IntN(4)))
	swarmNetworks(opts, c.Private, c.Public)
	c.Start(HeartbeatConfig{Interval: hbInterval, Timeout: hbTimeout})

	const faultPhase = 40 * time.Second
	planned := planFaults(r.W, r.W.Rand("faults"), c.Hosts, c.Procs, time.Second, faultPhase-5*time.Second, 5*time.Second)
	schedule := schedulePlanned(r.W, planned)
	r.W.RunUntil(faultPhase)

	// Liveness: heal everything, then all links up within the bound: one
	// timeout for stale views to clear is not needed (up needs one frame),
	// so one interval for the next ping, a miimon poll for bonds whose
	// slaves all died, and a margin for one lost ping on a lossy network.
	r.W.Heal()
	for i, h := range c.Hosts {
		for _, nic := range []string{"eth0", "eth1", "eth2", "eth3"} {
			h.NIC(nic).RestoreCable()
		}
		powerOnAndRestart(c, i)
		c.Procs[i].Resume()
	}
	c.Private.SetConfig(sim.LAN())
	c.Public.SetConfig(sim.LAN())
	const bound = 2*hbInterval + 100*time.Millisecond + 10*time.Millisecond
	took, ok := c.AwaitAllUp(bound)
	if !ok {
		r.Violationf("no convergence within %v of the heal; faults: %s", bound, strings.Join(schedule, "; "))
	}
	r.Figure("convergence_ms", ms(took), "ms")
	r.Figure("faults", float64(len(planned)), "")
}

// swarmNetworks draws each network's loss (0-10 %), duplication and
// reordering (0-5 % each) from the options stream.
func swarmNetworks(opts *rand.Rand, switches ...*sim.Switch) {
	for _, sw := range switches {
		cfg := sim.LAN()
		cfg.Loss = opts.Float64() * 0.1
		cfg.Duplicate = opts.Float64() * 0.05
		cfg.Reorder = opts.Float64() * 0.05
		sw.SetConfig(cfg)
	}
}

// planFaults draws up to 8 faults (cable cuts, partitions, one pair cut
// apart, power loss, pauses, crashes) at times in [atLo, atHi) lasting up to lengthMax, from
// rng. Faults on one resource (a NIC, the partition, a host) never overlap,
// so each repair undoes exactly its own fault and the schedule is what
// happened. Both swarms use it, with their own windows.
func planFaults(w *sim.World, rng *rand.Rand, hosts []*sim.Host, procs []*sim.Process, atLo, atHi, lengthMax time.Duration) []plannedFault {
	var planned []plannedFault
	for range 1 + rng.IntN(8) {
		f := plannedFault{at: between(rng, atLo, atHi), length: between(rng, 100*time.Millisecond, lengthMax)}
		i := rng.IntN(len(hosts))
		host, p := hosts[i], procs[i]
		switch rng.IntN(6) {
		case 0:
			nic := host.NIC(fmt.Sprintf("eth%d", rng.IntN(4)))
			f.resource, f.what, f.apply, f.repair = "nic "+nic.Name(), "cut "+nic.Name(), nic.CutCable, nic.RestoreCable
		case 1:
			var a, b []string
			for _, h := range hosts {
				if rng.IntN(2) == 0 {
					a = append(a, h.Name())
				} else {
					b = append(b, h.Name())
				}
			}
			f.resource, f.what = "partition", fmt.Sprintf("partition %v|%v", a, b)
			f.apply, f.repair = func() { w.Partition(a, b) }, w.Heal
		case 2:
			f.resource, f.what = "host "+host.Name(), "power off "+host.Name()
			f.apply = host.PowerOff
			f.repair = func() {
				host.PowerOn()
				if !p.Alive() {
					p.Restart()
				}
			}
		case 3:
			f.resource, f.what, f.apply, f.repair = "host "+host.Name(), "pause "+p.Name(), p.Pause, p.Resume
		case 4:
			f.resource, f.what, f.apply, f.repair = "host "+host.Name(), "crash "+p.Name(), p.Crash, p.Restart
		case 5:
			// Partial connectivity: one pair cut apart, both still
			// reaching the rest. It shares the partition's resource, as
			// Heal ends both.
			other := hosts[(i+1+rng.IntN(len(hosts)-1))%len(hosts)]
			f.resource, f.what = "partition", fmt.Sprintf("cut %s|%s", host.Name(), other.Name())
			f.apply = func() { w.Block(host.Name(), other.Name()); w.Block(other.Name(), host.Name()) }
			f.repair = w.Heal
		}
		if !slices.ContainsFunc(planned, f.overlaps) {
			planned = append(planned, f)
		}
	}
	return planned
}

// schedulePlanned puts the faults and their repairs on the world's queue
// and returns the schedule as text, for violation reports.
func schedulePlanned(w *sim.World, planned []plannedFault) []string {
	var schedule []string
	for _, f := range planned {
		w.At(f.at, "fault: "+f.what, f.apply)
		w.At(f.at+f.length, "repair: "+f.what, f.repair)
		schedule = append(schedule, fmt.Sprintf("%s at %v for %v", f.what, f.at, f.length))
	}
	return schedule
}

type plannedFault struct {
	resource, what string
	at, length     time.Duration
	apply, repair  func()
}

func (f plannedFault) overlaps(g plannedFault) bool {
	return f.resource == g.resource && f.at < g.at+g.length && g.at < f.at+f.length
}

func powerOnAndRestart(c *Cluster, i int) {
	h, p := c.Hosts[i], c.Procs[i]
	if !h.Powered() {
		h.PowerOn()
	}
	if !p.Alive() {
		p.Restart()
	}
}

func hostIndex(c *Cluster, h *sim.Host) int {
	for i, x := range c.Hosts {
		if x == h {
			return i
		}
	}
	panic("unknown host " + h.Name())
}
