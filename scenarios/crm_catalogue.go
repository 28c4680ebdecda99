package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hakit/hakit/crm/cib"
	"github.com/hakit/hakit/crm/controller"
)

func init() {
	register(Scenario{Name: "crm-node-crash", Summary: "reference setup: power off the active node; vip and apache run on the survivor (failover budget measured); it comes back", Run: runCRMNodeCrash})
	register(Scenario{Name: "crm-apache-crash", Summary: "apache dies twice on the active node: restarted in place, then moved with the vip after migration-threshold=2", Run: runCRMApacheCrash})
	register(Scenario{Name: "crm-gateway-loss", Summary: "the active node loses its gateway: the pingd rule moves vip and apache to the other node", Run: runCRMGatewayLoss})
	register(Scenario{Name: "crm-standby", Summary: "node standby moves everything off the active node; online lets it back", Run: runCRMStandby})
	register(Scenario{Name: "crm-failback", Summary: "the active node crashes and returns: with stickiness the service stays, without it fails back", Run: runCRMFailback})
	register(Scenario{Name: "crm-dc-crash", Summary: "with fencing, the DC's daemon is killed mid-transition: it is fenced before anything of it starts elsewhere", Run: runCRMDCCrash})
	register(Scenario{Name: "crm-config-during-partition", Summary: "a configuration change on one side of a partition; after the merge the newest configuration wins everywhere", Run: runCRMConfigDuringPartition})
	register(Scenario{Name: "crm-partition-unsafe", Summary: "the reference configuration (no fencing, quorum ignored) under a partition: the dual primary must be found and timed", Run: runCRMPartitionUnsafe})
	register(Scenario{Name: "crm-partition-fenced", Summary: "the same partition with fencing: the fence race is won by the node running the service; never two primaries", Run: runCRMPartitionFenced})
	register(Scenario{Name: "crm-swarm", Summary: "fenced reference setup under random mixes of apache crashes, hung monitors, failed stops, gateway loss, node crashes and standby; then heal and converge", Run: runCRMSwarm})
}

// convergeBound is how long after the last fault heals the cluster must
// run what the scheduler wants for its final CIB: the longest monitor
// interval (a failure is seen), the token and consensus timeouts (a
// membership forms), the priority fencing delay and the slowest fence,
// and the agents' starts, with room to spare.
const convergeBound = 60 * time.Second

// startCRM builds the cluster and waits until it runs the service; it
// returns the host the service runs on. That is usually vm-node1 (the
// location preference), but vm-node2 when vm-node1's ping had not yet
// set pingd when the DC first placed the vip: the pingd rule bans a node
// without the attribute, and stickiness then keeps the service where it
// started, as with Pacemaker.
func startCRM(r *Run, names []string, text string, safe bool) (*CRMCluster, int, bool) {
	c := NewCRMCluster(r, names, text, safe)
	if !c.formed() {
		return c, 0, false
	}
	if _, ok := c.AwaitConverged(convergeBound, "the start"); !ok {
		return c, 0, false
	}
	for i, h := range c.Hosts {
		if c.runsVIPAndApache(h.Name()) {
			return c, i, true
		}
	}
	r.Violationf("after the start the service runs as %s", c.Truth())
	return c, 0, false
}

var twoNodes = []string{"vm-node1", "vm-node2"}

func runCRMNodeCrash(r *Run) {
	// A power-off cannot leave two primaries, whatever the configuration.
	c, active, ok := startCRM(r, twoNodes, ReferenceCRM, true)
	if !ok {
		return
	}
	faults := r.W.Rand("faults")
	r.W.RunFor(between(faults, time.Second, 11*time.Second))
	crashAt := r.W.Now()
	other := 1 - active
	c.Hosts[active].PowerOff()
	took, ok := c.Await(convergeBound, func() bool { return c.runsVIPAndApache(c.Hosts[other].Name()) })
	if !ok {
		r.Violationf("vip and apache not running on %s %v after %s was powered off: %s", c.Hosts[other].Name(), convergeBound, c.Hosts[active].Name(), c.Truth())
		return
	}
	c.reportFailover(crashAt, other, took)
	// It comes back: the cluster converges again (with stickiness 100
	// against a preference of 100, the service stays).
	c.Hosts[active].PowerOn()
	c.Procs[active].Restart()
	c.AwaitConverged(convergeBound, "the crashed node came back")
}

// reportFailover records the failover's budget: detection (the survivor's
// new membership), scheduling (to the first start), the agents' starts,
// and the total, from the crash to the service running.
func (c *CRMCluster) reportFailover(crashAt time.Duration, survivor int, took time.Duration) {
	r := c.r
	name := c.Hosts[survivor].Name()
	detected := time.Duration(-1)
	for _, s := range c.RegularAt[survivor] {
		if s.At > crashAt {
			detected = s.At
			break
		}
	}
	vip := lastStart(c.Agents.Starts["vip"], name, crashAt)
	httpd := lastStart(c.Agents.Starts["httpd"], name, crashAt)
	r.Figure("failover_ms", ms(took), "ms")
	if detected < 0 || vip == nil || httpd == nil {
		r.Violationf("failover budget incomplete: detection %v, vip start %v, httpd start %v", detected, vip, httpd)
		return
	}
	r.Figure("detection_ms", ms(detected-crashAt), "ms")
	r.Figure("scheduling_ms", ms(vip.Began-detected), "ms")
	r.Figure("vip_start_ms", ms(vip.At-vip.Began), "ms")
	r.Figure("httpd_start_ms", ms(httpd.At-httpd.Began), "ms")
	r.Figure("overhead_ms", ms(took-(detected-crashAt)-(vip.At-vip.Began)-(httpd.At-httpd.Began)), "ms")
	// The target: the token and consensus timeouts (detection), the
	// agents' starts, and at most 300 ms for everything else.
	limit := c.Conf.EffectiveToken() + c.Conf.EffectiveConsensus() + (vip.At - vip.Began) + (httpd.At - httpd.Began) + 300*time.Millisecond
	if took > limit {
		r.Violationf("failover took %v, above token + consensus + agent starts + 300 ms = %v", took, limit)
	}
	// The budget the survivor itself reports (log, hactl status).
	if c.CRMs[survivor] == nil {
		return
	}
	fo := c.CRMs[survivor].Controller().Failovers()
	if len(fo) == 0 {
		r.Violationf("%s reported no failover budget", name)
		return
	}
	b := fo[len(fo)-1]
	r.Figure("reported_detection_ms", ms(b.Detection), "ms")
	r.Figure("reported_scheduling_ms", ms(b.Scheduling), "ms")
	r.Figure("reported_agent_start_ms", ms(b.AgentStart), "ms")
	r.Figure("reported_total_ms", ms(b.Total), "ms")
}

func lastStart(recs []StartRecord, host string, after time.Duration) *StartRecord {
	var out *StartRecord
	for i := range recs {
		if recs[i].Host == host && recs[i].At > after {
			out = &recs[i]
		}
	}
	return out
}

func runCRMApacheCrash(r *Run) {
	text := strings.Replace(ReferenceCRM, "rsc_defaults resource-stickiness=100", "rsc_defaults resource-stickiness=100 migration-threshold=2", 1)
	c, active, ok := startCRM(r, twoNodes, text, true)
	if !ok {
		return
	}
	faults := r.W.Rand("faults")
	for n := 1; n <= 2; n++ {
		r.W.RunFor(between(faults, time.Second, 15*time.Second))
		c.Agents.Crash(c.Hosts[active], "apache")
		if _, ok := c.AwaitConverged(convergeBound, fmt.Sprintf("apache crash %d", n)); !ok {
			return
		}
		where := c.Hosts[map[int]int{1: active, 2: 1 - active}[n]].Name()
		want := "vip@" + where + " httpd@" + where
		if got := c.Truth(); got != want {
			r.Violationf("after apache crash %d the service runs as %s, want %s", n, got, want)
			return
		}
	}
	x := c.CRMs[1-active].Controller().CIB()
	if fc, _, err := x.FailCount(c.Hosts[active].Name(), "httpd"); err != nil || fc != 2 {
		r.Violationf("httpd's fail count on %s is %v (%v), want 2", c.Hosts[active].Name(), fc, err)
	}
}

func runCRMGatewayLoss(r *Run) {
	c, active, ok := startCRM(r, twoNodes, ReferenceCRM, true)
	if !ok {
		return
	}
	faults := r.W.Rand("faults")
	r.W.RunFor(between(faults, time.Second, 11*time.Second))
	lost, other := c.Hosts[active].Name(), c.Hosts[1-active].Name()
	c.Agents.SetGateway(lost, false)
	// Converged already holds before ping's next monitor notices: wait
	// for the move itself.
	want := "vip@" + other + " httpd@" + other
	took, ok := c.Await(convergeBound, func() bool { return c.Truth() == want && c.Converged() })
	if !ok {
		r.Violationf("%v after %s lost its gateway the service runs as %s, want %s; %s", convergeBound, lost, c.Truth(), want, c.describe())
		return
	}
	r.Figure("move_ms", ms(took), "ms")
	c.Agents.SetGateway(lost, true)
	c.AwaitConverged(convergeBound, "the gateway came back")
}

func runCRMStandby(r *Run) {
	c, active, ok := startCRM(r, twoNodes, ReferenceCRM, true)
	if !ok {
		return
	}
	faults := r.W.Rand("faults")
	r.W.RunFor(between(faults, time.Second, 5*time.Second))
	via := faults.IntN(2) // either node may carry the command
	name, other := c.Hosts[active].Name(), c.Hosts[1-active].Name()
	if err := c.Configure(via, func(x *cib.CIB) error { return x.SetNodeAttr(name, "standby", "on") }); err != nil {
		r.Violationf("node standby %s: %v", name, err)
		return
	}
	if _, ok := c.AwaitConverged(convergeBound, "standby"); !ok {
		return
	}
	if got, want := c.Truth(), "vip@"+other+" httpd@"+other; got != want {
		r.Violationf("with %s in standby the service runs as %s, want %s", name, got, want)
	}
	if err := c.Configure(via, func(x *cib.CIB) error { return x.SetNodeAttr(name, "standby", "") }); err != nil {
		r.Violationf("node online %s: %v", name, err)
		return
	}
	c.AwaitConverged(convergeBound, "online")
}

func runCRMFailback(r *Run) {
	faults := r.W.Rand("faults")
	sticky := faults.IntN(2) == 0
	text := ReferenceCRM
	if !sticky {
		text = strings.Replace(text, "resource-stickiness=100", "resource-stickiness=0", 1)
	}
	c, active, ok := startCRM(r, twoNodes, text, true)
	if !ok {
		return
	}
	r.W.RunFor(between(faults, time.Second, 5*time.Second))
	c.Hosts[active].PowerOff()
	if _, ok := c.AwaitConverged(convergeBound, "the active node crashed"); !ok {
		return
	}
	r.W.RunFor(between(faults, time.Second, 10*time.Second))
	c.Hosts[active].PowerOn()
	c.Procs[active].Restart()
	if _, ok := c.AwaitConverged(convergeBound, "the crashed node came back"); !ok {
		return
	}
	// Without stickiness the service returns to its preferred node; with
	// it, it stays on the node that took over.
	where := map[bool]string{true: c.Hosts[1-active].Name(), false: "vm-node1"}[sticky]
	if got, want := c.Truth(), "vip@"+where+" httpd@"+where; got != want {
		r.Violationf("stickiness=%v: after the crashed node returned the service runs as %s, want %s", sticky, got, want)
	}
}

func runCRMDCCrash(r *Run) {
	c, active, ok := startCRM(r, twoNodes, FencedCRM, true)
	if !ok {
		return
	}
	faults := r.W.Rand("faults")
	r.W.RunFor(between(faults, time.Second, 5*time.Second))
	// Move the service; the DC (vm-node1, the lowest id) starts the
	// transition and its daemon dies somewhere in it: what it ran keeps
	// running until the survivor fences it.
	if err := c.Configure(0, crmText("location move-vip vip inf: "+c.Hosts[1-active].Name())); err != nil {
		r.Violationf("moving the vip: %v", err)
		return
	}
	r.W.RunFor(between(faults, 0, 1500*time.Millisecond))
	c.Procs[0].Crash()
	if _, ok := c.AwaitConverged(convergeBound, "the DC's daemon was killed"); !ok {
		return
	}
	if !slices.Equal(c.Agents.Fenced, []string{"vm-node1"}) {
		r.Violationf("fenced %v after vm-node1's daemon died, want [vm-node1]", c.Agents.Fenced)
	}
}

func runCRMConfigDuringPartition(r *Run) {
	c, _, ok := startCRM(r, twoNodes, ReferenceCRM, false)
	if !ok {
		return
	}
	faults := r.W.Rand("faults")
	r.W.RunFor(between(faults, time.Second, 5*time.Second))
	r.W.Partition([]string{"vm-node1"}, []string{"vm-node2"})
	side := faults.IntN(2)
	if _, ok := c.Await(convergeBound, func() bool { return c.OneRing(side) && c.CRMs[side].Controller().Idle() }); !ok {
		r.Violationf("vm-node%d alone did not settle", side+1)
		return
	}
	if err := c.Configure(side, crmText("primitive extra ocf:heartbeat:Dummy")); err != nil {
		r.Violationf("the change during the partition: %v", err)
		return
	}
	epoch := c.CRMs[side].Controller().CIB().Epoch
	r.W.RunFor(between(faults, time.Second, 10*time.Second))
	r.W.Heal()
	if _, ok := c.AwaitConverged(convergeBound, "the partition healed"); !ok {
		return
	}
	for i, crm := range c.CRMs {
		x := crm.Controller().CIB()
		if x.Epoch < epoch {
			r.Violationf("%s has epoch %d after the merge, below the change's %d", c.Hosts[i].Name(), x.Epoch, epoch)
		}
		if res, _ := x.Resource("extra"); res == nil {
			r.Violationf("%s lost the change made during the partition", c.Hosts[i].Name())
		}
	}
}

func runCRMPartitionUnsafe(r *Run) {
	c, _, ok := startCRM(r, twoNodes, ReferenceCRM, false)
	if !ok {
		return
	}
	faults := r.W.Rand("faults")
	r.W.RunFor(between(faults, time.Second, 11*time.Second))
	r.W.Partition([]string{"vm-node1"}, []string{"vm-node2"})
	r.W.RunFor(between(faults, 20*time.Second, 40*time.Second))
	r.W.Heal()
	c.AwaitConverged(convergeBound, "the partition healed")
	if len(c.Dual) == 0 {
		r.Violationf("the unsafe configuration (no fencing, no-quorum-policy=ignore) ran the service on one node only through a partition: the expected dual primary was not found")
		return
	}
	var total time.Duration
	for _, d := range c.Dual {
		if d.To < 0 {
			r.Violationf("dual primary (%s) since %v not resolved after the heal", d.What, d.From)
			return
		}
		total += d.To - d.From
	}
	r.Figure("dual_primary_ms", ms(total), "ms")
}

func runCRMPartitionFenced(r *Run) {
	c, active, ok := startCRM(r, twoNodes, FencedCRM, true)
	if !ok {
		return
	}
	faults := r.W.Rand("faults")
	r.W.RunFor(between(faults, time.Second, 11*time.Second))
	cut := r.W.Now()
	r.W.Partition([]string{"vm-node1"}, []string{"vm-node2"})
	if _, ok := c.Await(convergeBound, func() bool { return len(c.Agents.Fenced) > 0 }); !ok {
		r.Violationf("nobody was fenced %v into the partition", convergeBound)
		return
	}
	r.Figure("fenced_after_ms", ms(r.W.Now()-cut), "ms")
	// The shot node reboots, still cut off: after the startup wait it may
	// fence the other in turn, which is safe but not what should happen
	// first; the race itself must go to the node running the service.
	r.W.RunFor(2 * controller.PriorityFencingDelay)
	if first := c.Agents.Fenced[0]; first == c.Hosts[active].Name() {
		r.Violationf("the fence race was lost by %s, the node running the service (fenced: %v)", first, c.Agents.Fenced)
	}
	r.W.Heal()
	c.AwaitConverged(convergeBound, "the partition healed")
}

func runCRMSwarm(r *Run) {
	c, _, ok := startCRM(r, twoNodes, strings.Replace(FencedCRM, "resource-stickiness=100", "resource-stickiness=100 migration-threshold=3", 1), true)
	if !ok {
		return
	}
	faults := r.W.Rand("faults")
	var done []string
	for range 1 + faults.IntN(4) {
		r.W.RunFor(between(faults, time.Second, 20*time.Second))
		host := faults.IntN(2)
		name := c.Hosts[host].Name()
		switch faults.IntN(7) {
		case 0:
			c.Agents.Crash(c.Hosts[host], "apache")
			done = append(done, "apache crash on "+name)
		case 1:
			c.Agents.SetGateway(name, false)
			done = append(done, "gateway lost on "+name)
		case 2:
			c.Hosts[host].PowerOff()
			done = append(done, "power off "+name)
		case 3:
			c.Procs[host].Crash()
			done = append(done, "daemon killed on "+name)
		case 4:
			if c.liveCRM(1 - host) {
				_ = c.Configure(1-host, func(x *cib.CIB) error { return x.SetNodeAttr(name, "standby", "on") })
				done = append(done, "standby "+name)
			}
		case 5:
			// The next monitor of apache there hangs past its timeout: a
			// failure like any other.
			c.Agents.Inject(name, "httpd", "monitor", FaultHang)
			done = append(done, "apache monitor hangs on "+name)
		case 6:
			// apache will not stop there, and then something makes it
			// move: the node must be fenced before apache starts elsewhere.
			c.Agents.Inject(name, "httpd", "stop", FaultFail)
			c.Agents.Crash(c.Hosts[host], "apache")
			done = append(done, "apache crash and failed stop on "+name)
		}
	}
	r.W.RunFor(between(faults, time.Second, 10*time.Second))
	// Heal: gateways back, hosts on, daemons running, nobody in standby.
	for i, h := range c.Hosts {
		c.Agents.SetGateway(h.Name(), true)
		if !h.Powered() {
			h.PowerOn()
		}
		if !c.Procs[i].Alive() {
			c.Procs[i].Restart()
		}
	}
	if _, ok := c.Await(convergeBound, func() bool {
		return c.OneRing(0, 1) && c.liveCRM(0) && c.liveCRM(1) && c.CRMs[0].Controller().Settled()
	}); !ok {
		r.Violationf("the nodes did not come back together after the faults (%s)", strings.Join(done, "; "))
		return
	}
	for _, h := range c.Hosts {
		_ = c.Configure(0, func(x *cib.CIB) error { return x.SetNodeAttr(h.Name(), "standby", "") })
	}
	c.AwaitConverged(convergeBound, "healing "+strings.Join(done, "; "))
}
