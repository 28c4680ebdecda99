package scenarios

import (
	"fmt"
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
	var names []string
	for i := range 2 + opts.IntN(4) {
		names = append(names, fmt.Sprintf("node%d", i+1))
	}
	c := BondedCluster(r, names)
	for _, sw := range []*sim.Switch{c.Private, c.Public} {
		cfg := sim.LAN()
		cfg.Loss = opts.Float64() * 0.1
		cfg.Duplicate = opts.Float64() * 0.05
		cfg.Reorder = opts.Float64() * 0.05
		sw.SetConfig(cfg)
	}
	c.Start(HeartbeatConfig{Interval: hbInterval, Timeout: hbTimeout})

	const faultPhase = 40 * time.Second
	faults := r.W.Rand("faults")
	nFaults := 1 + faults.IntN(8)
	var planned []plannedFault
	for range nFaults {
		f := plannedFault{
			at:     between(faults, time.Second, faultPhase-5*time.Second),
			length: between(faults, 100*time.Millisecond, 5*time.Second),
		}
		host := c.Hosts[faults.IntN(len(c.Hosts))]
		i := hostIndex(c, host)
		p := c.Procs[i]
		switch faults.IntN(5) {
		case 0:
			nic := host.NIC(fmt.Sprintf("eth%d", faults.IntN(4)))
			f.resource, f.what = "nic "+nic.Name(), "cut "+nic.Name()
			f.apply, f.repair = nic.CutCable, nic.RestoreCable
		case 1:
			var a, b []string
			for _, h := range c.Hosts {
				if faults.IntN(2) == 0 {
					a = append(a, h.Name())
				} else {
					b = append(b, h.Name())
				}
			}
			f.resource, f.what = "partition", fmt.Sprintf("partition %v|%v", a, b)
			f.apply, f.repair = func() { r.W.Partition(a, b) }, r.W.Heal
		case 2:
			f.resource, f.what = "host "+host.Name(), "power off "+host.Name()
			f.apply, f.repair = host.PowerOff, func() { powerOnAndRestart(c, i) }
		case 3:
			f.resource, f.what = "host "+host.Name(), "pause "+p.Name()
			f.apply, f.repair = p.Pause, p.Resume
		case 4:
			f.resource, f.what = "host "+host.Name(), "crash "+p.Name()
			f.apply, f.repair = p.Crash, p.Restart
		}
		// Faults on one resource never overlap, so each repair undoes
		// exactly its own fault and the schedule below is what happened.
		if slices.ContainsFunc(planned, f.overlaps) {
			continue
		}
		planned = append(planned, f)
	}
	var schedule []string
	for _, f := range planned {
		r.W.At(f.at, "fault: "+f.what, f.apply)
		r.W.At(f.at+f.length, "repair: "+f.what, f.repair)
		schedule = append(schedule, fmt.Sprintf("%s at %v for %v", f.what, f.at, f.length))
	}
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
