package scenarios

import (
	"fmt"
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
	var schedule []string
	for range nFaults {
		at := between(faults, time.Second, faultPhase-5*time.Second)
		length := between(faults, 100*time.Millisecond, 5*time.Second)
		host := c.Hosts[faults.IntN(len(c.Hosts))]
		i := hostIndex(c, host)
		switch kind := faults.IntN(5); kind {
		case 0:
			nic := host.NIC(fmt.Sprintf("eth%d", faults.IntN(4)))
			r.W.At(at, "fault: cut "+nic.Name(), nic.CutCable)
			r.W.At(at+length, "repair: restore "+nic.Name(), nic.RestoreCable)
			schedule = append(schedule, fmt.Sprintf("cut %s at %v for %v", nic.Name(), at, length))
		case 1:
			var a, b []string
			for _, h := range c.Hosts {
				if faults.IntN(2) == 0 {
					a = append(a, h.Name())
				} else {
					b = append(b, h.Name())
				}
			}
			r.W.At(at, "", func() { r.W.Partition(a, b) })
			r.W.At(at+length, "", r.W.Heal)
			schedule = append(schedule, fmt.Sprintf("partition %v|%v at %v for %v", a, b, at, length))
		case 2:
			r.W.At(at, "fault: power off "+host.Name(), host.PowerOff)
			r.W.At(at+length, "repair: power on "+host.Name(), func() { powerOnAndRestart(c, i) })
			schedule = append(schedule, fmt.Sprintf("power off %s at %v for %v", host.Name(), at, length))
		case 3:
			p := c.Procs[i]
			r.W.At(at, "fault: pause "+p.Name(), p.Pause)
			r.W.At(at+length, "repair: resume "+p.Name(), p.Resume)
			schedule = append(schedule, fmt.Sprintf("pause %s at %v for %v", host.Name(), at, length))
		case 4:
			p := c.Procs[i]
			r.W.At(at, "fault: crash "+p.Name(), p.Crash)
			r.W.At(at+length, "repair: restart "+p.Name(), func() {
				if host.Powered() && !p.Alive() {
					p.Restart()
				}
			})
			schedule = append(schedule, fmt.Sprintf("crash %s at %v for %v", p.Name(), at, length))
		}
	}
	r.W.Trace() // the schedule is in the trace through the labelled events
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
	r.Figure("faults", float64(nFaults), "")
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
