package scenarios

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/sim"
)

// The heartbeat timing the catalogue uses unless a scenario says otherwise.
const (
	hbInterval = 100 * time.Millisecond
	hbTimeout  = time.Second
)

func init() {
	register(Scenario{Name: "heartbeat", Summary: "reference setup, no faults: every link comes up and stays up for a minute", Run: runHeartbeat})
	register(Scenario{Name: "bond-failover", Summary: "cut a random active slave: 200-300 ms outage on that link, no peer declared down, no switch back on restore", Run: runBondFailover})
	register(Scenario{Name: "lossy", Summary: "3 nodes over lossy, duplicating, reordering networks: measured rates match, no false down", Run: runLossy})
	register(Scenario{Name: "partition", Summary: "isolate one of 3 nodes, then heal: detection within timeout+interval, nothing crosses the cut", Run: runPartition})
	register(Scenario{Name: "crash-restart", Summary: "power a node off and back on: peers detect it, the atomic boot counter survives, the unsynced file does not", Run: runCrashRestart})
	register(Scenario{Name: "pause", Summary: "freeze a node for 0.5x, 1x or 5x the timeout: it does not act on stale timers", Run: runPause})
	register(Scenario{Name: "swarm", Summary: "random mixes of cable cuts, partitions, crashes, pauses and lossy links; then heal and converge", Run: runSwarm})
}

func runHeartbeat(r *Run) {
	c := Reference(r)
	c.Start(HeartbeatConfig{Interval: hbInterval, Timeout: hbTimeout})
	took, ok := c.AwaitAllUp(time.Second)
	if !ok {
		r.Violationf("links not all up after %v", took)
		return
	}
	r.Figure("all_up_ms", ms(took), "ms")
	settled := r.W.Now()
	r.W.RunFor(time.Minute)
	for _, ch := range c.Downs(settled, r.W.Now()) {
		r.Violationf("false down on a quiet network: %s", ch)
	}
	var rtts []time.Duration
	for _, n := range c.Nodes {
		rtts = append(rtts, n.Stats.RTTs...)
	}
	slices.Sort(rtts)
	r.Figure("rtt_median_us", float64(rtts[len(rtts)/2])/1e3, "µs")
}

func runBondFailover(r *Run) {
	const interval = 10 * time.Millisecond // fine-grained, to see the outage
	c := Reference(r)
	// lastPing[receiver][sender][link] is when the last ping arrived.
	type key struct {
		rx, tx *sim.Host
		link   env.LinkID
	}
	var cutAt time.Duration
	lastBefore, firstAfter := map[key]time.Duration{}, map[key]time.Duration{}
	// Judged by send time: a frame already on the wire at the cut may still
	// arrive after it.
	c.OnPing = func(p Ping) {
		k := key{p.Receiver, p.Sender, p.Link}
		if cutAt == 0 || p.SentAt <= cutAt {
			lastBefore[k] = p.SentAt
		} else if _, seen := firstAfter[k]; !seen {
			firstAfter[k] = p.SentAt
		}
	}
	c.Start(HeartbeatConfig{Interval: interval, Timeout: hbTimeout})
	if _, ok := c.AwaitAllUp(time.Second); !ok {
		r.Violationf("links not all up")
		return
	}

	faults := r.W.Rand("faults")
	host := c.Hosts[faults.IntN(len(c.Hosts))]
	link := Links[faults.IntN(len(Links))]
	bond := host.Bond(fmt.Sprintf("bond%d", link))
	active := bond.Active()
	r.W.RunUntil(between(faults, 5*time.Second, 6*time.Second))
	cutAt = r.W.Now()
	active.CutCable()
	r.W.RunFor(2 * time.Second)

	backup := bond.Active()
	if backup == nil || backup == active {
		r.Violationf("%s did not fail over from %s", bond.Name(), active.Name())
		return
	}
	// Frames on the bond's link are lost both ways until the failover:
	// 200-300 ms, plus up to one interval until the next ping goes out.
	// (This ping is the first delivered of those sent after the cut.)
	peer := c.Hosts[0]
	if peer == host {
		peer = c.Hosts[1]
	}
	for _, k := range []key{{peer, host, link}, {host, peer, link}} {
		outage := firstAfter[k] - cutAt
		r.Figure(fmt.Sprintf("outage_ms_%s_to_%s", k.tx.Name(), k.rx.Name()), ms(outage), "ms")
		if outage < 200*time.Millisecond || outage > 300*time.Millisecond+interval+time.Millisecond {
			r.Violationf("outage %s -> %s on link %d lasted %v, want 200-300 ms (+ one %v interval)", k.tx.Name(), k.rx.Name(), link, outage, interval)
		}
	}
	// The other link was never affected.
	other := key{peer, host, 1 - link}
	if gap := firstAfter[other] - lastBefore[other]; gap > 2*interval {
		r.Violationf("link %d, which was not cut, went quiet for %v", other.link, gap)
	}

	restoreAt := r.W.Now() + between(faults, 0, 2*time.Second)
	r.W.RunUntil(restoreAt)
	active.RestoreCable()
	r.W.RunFor(3 * time.Second)
	if bond.Active() != backup {
		r.Violationf("%s switched back to %s after the restore (active-backup without primary never does)", bond.Name(), bond.Active().Name())
	}
	for _, ch := range c.Downs(0, r.W.Now()) {
		r.Violationf("a bond failover within the timeout took a link down: %s", ch)
	}
}

func runLossy(r *Run) {
	opts := r.W.Rand("options")
	cfg := sim.LAN()
	// Rates start at 1 %, well above the 5σ tolerance below (about 0.5 %
	// at these sample sizes), so a feature that did nothing would fail.
	cfg.Loss = 0.05 + opts.Float64()*0.15
	cfg.Duplicate = 0.01 + opts.Float64()*0.04
	cfg.Reorder = 0.01 + opts.Float64()*0.04
	cfg.ReorderDelay = 250 * time.Millisecond // longer than the interval, so later pings overtake
	c := BondedCluster(r, []string{"node1", "node2", "node3"})
	c.Private.SetConfig(cfg)
	c.Public.SetConfig(cfg)

	type stream struct {
		rx, tx *sim.Host
		link   env.LinkID
	}
	seen := map[stream]map[uint64]bool{}
	highest := map[stream]uint64{}
	var arrivals, dups, late float64
	c.OnPing = func(p Ping) {
		s, seq := stream{p.Receiver, p.Sender, p.Link}, p.Seq
		if seen[s] == nil {
			seen[s] = map[uint64]bool{}
		}
		arrivals++
		if seen[s][seq] {
			dups++
			return
		}
		seen[s][seq] = true
		if seq < highest[s] {
			late++
		}
		highest[s] = max(highest[s], seq)
	}
	c.Start(HeartbeatConfig{Interval: hbInterval, Timeout: hbTimeout})
	r.W.RunFor(100 * time.Second)
	c.Procs[0].Crash() // stop the counts; in-flight frames are few and far below tolerance
	for _, p := range c.Procs[1:] {
		p.Crash()
	}

	var sent float64
	for _, n := range c.Nodes {
		sent += float64(n.Stats.PingsSent)
	}
	unique := arrivals - dups
	check := func(name string, measured, configured, n float64) {
		sigma := math.Sqrt(configured * (1 - configured) / n)
		r.Figure(name+"_measured", measured, "")
		r.Figure(name+"_configured", configured, "")
		if math.Abs(measured-configured) > 5*sigma {
			r.Violationf("%s rate measured %.4f over %.0f frames, configured %.4f", name, measured, n, configured)
		}
	}
	check("loss", 1-unique/sent, cfg.Loss, sent)
	check("duplication", dups/unique, cfg.Duplicate, unique)
	// A reordered frame whose duplicate copy arrives on time is not late.
	check("reordering", late/unique, cfg.Reorder*(1-cfg.Duplicate), unique)
	for _, ch := range c.Downs(0, r.W.Now()) {
		if ch.At < 99*time.Second { // the crashes at the end are real downs
			r.Violationf("loss of at most 20%% with 20 frames per timeout declared a link down: %s", ch)
		}
	}
}

func runPartition(r *Run) {
	c := BondedCluster(r, []string{"node1", "node2", "node3"})
	c.Start(HeartbeatConfig{Interval: hbInterval, Timeout: hbTimeout})
	if _, ok := c.AwaitAllUp(time.Second); !ok {
		r.Violationf("links not all up")
		return
	}
	faults := r.W.Rand("faults")
	isolated := c.Hosts[faults.IntN(len(c.Hosts))]
	var rest []string
	for _, h := range c.Hosts {
		if h != isolated {
			rest = append(rest, h.Name())
		}
	}
	r.W.RunUntil(between(faults, 5*time.Second, 6*time.Second))
	cut := r.W.Now()
	r.W.Partition([]string{isolated.Name()}, rest)
	r.W.RunFor(between(faults, 2*time.Second, 5*time.Second))

	// Each side declares each link to each peer across the cut down within
	// (timeout - interval, timeout + interval] of the cut, and nothing else.
	downs := c.Downs(cut, r.W.Now())
	detected := map[string]time.Duration{}
	for _, ch := range downs {
		if ch.Observer != isolated && ch.Peer != isolated {
			r.Violationf("a partition that left them together took a link down: %s", ch)
			continue
		}
		detected[fmt.Sprintf("%s/%s/%d", ch.Observer.Name(), ch.Peer.Name(), ch.Link)] = ch.At - cut
	}
	if want := 2 * (len(c.Hosts) - 1) * len(Links); len(detected) != want {
		r.Violationf("%d of %d links across the partition declared down: %v", len(detected), want, downs)
	}
	var worst time.Duration
	for _, k := range slices.Sorted(maps.Keys(detected)) {
		d := detected[k]
		if d <= hbTimeout-hbInterval-time.Millisecond || d > hbTimeout+hbInterval {
			r.Violationf("%s declared down %v after the cut, want within (%v, %v]", k, d, hbTimeout-hbInterval, hbTimeout+hbInterval)
		}
		worst = max(worst, d)
	}
	r.Figure("detection_ms_max", ms(worst), "ms")

	r.W.Heal()
	took, ok := c.AwaitAllUp(2 * hbInterval)
	if !ok {
		r.Violationf("links not all up %v after the heal", took)
	}
	r.Figure("recovery_ms", ms(took), "ms")
}

func runCrashRestart(r *Run) {
	c := BondedCluster(r, []string{"node1", "node2", "node3"})
	c.Start(HeartbeatConfig{Interval: hbInterval, Timeout: hbTimeout})
	if _, ok := c.AwaitAllUp(time.Second); !ok {
		r.Violationf("links not all up")
		return
	}
	faults := r.W.Rand("faults")
	victim := faults.IntN(len(c.Hosts))
	host := c.Hosts[victim]
	r.W.RunUntil(between(faults, 5*time.Second, 6*time.Second))
	crash := r.W.Now()
	host.PowerOff()
	r.W.RunFor(between(faults, 2*time.Second, 5*time.Second))

	var worst time.Duration
	for _, ch := range c.Downs(crash, r.W.Now()) {
		if ch.Peer != host {
			r.Violationf("a live peer was declared down: %s", ch)
			continue
		}
		worst = max(worst, ch.At-crash)
	}
	if n := len(c.Downs(crash, r.W.Now())); n != (len(c.Hosts)-1)*len(Links) {
		r.Violationf("%d link-downs after the crash, want %d", n, (len(c.Hosts)-1)*len(Links))
	}
	if worst > hbTimeout+hbInterval {
		r.Violationf("crash detected after %v, want at most %v", worst, hbTimeout+hbInterval)
	}
	r.Figure("detection_ms_max", ms(worst), "ms")

	host.PowerOn()
	// Written each tick but never synced: gone with the power.
	if _, err := host.Disk().ReadFile(lastSeenFile); err == nil {
		r.Violationf("%s survived a power loss without a sync", lastSeenFile)
	}
	c.Procs[victim].Restart() // the boot-counter invariant is checked in Start
	took, ok := c.AwaitAllUp(2 * hbInterval)
	if !ok {
		r.Violationf("restarted node not seen up after %v", took)
	}
	r.Figure("rejoin_ms", ms(took), "ms")
}

func runPause(r *Run) {
	c := Reference(r)
	c.Start(HeartbeatConfig{Interval: hbInterval, Timeout: hbTimeout})
	if _, ok := c.AwaitAllUp(time.Second); !ok {
		r.Violationf("links not all up")
		return
	}
	faults := r.W.Rand("faults")
	factor := []float64{0.5, 1, 5}[faults.IntN(3)]
	frozen := faults.IntN(len(c.Hosts))
	pause := time.Duration(factor * float64(hbTimeout))
	r.W.RunUntil(between(faults, 5*time.Second, 6*time.Second))
	start := r.W.Now()
	c.Procs[frozen].Pause()
	r.W.RunFor(pause)
	c.Procs[frozen].Resume()
	r.Figure("pause_ms", ms(pause), "ms")

	took, ok := c.AwaitAllUp(2 * hbInterval)
	if !ok {
		r.Violationf("links not all up %v after the resume", took)
	}
	r.W.RunFor(5 * time.Second)
	node := c.Nodes[frozen]
	for _, ch := range c.Downs(start, r.W.Now()) {
		switch {
		case ch.Observer == c.Hosts[frozen]:
			r.Violationf("the paused node acted on stale timers: %s", ch)
		case factor < 1:
			r.Violationf("a pause of half the timeout took a link down: %s", ch)
		}
	}
	if factor >= 1 && node.Stats.PausesDetected == 0 {
		r.Violationf("a pause of %v went unnoticed", pause)
	}
	if factor == 5 && len(c.Downs(start, r.W.Now())) == 0 {
		r.Violationf("the peer did not notice a node frozen for %v", pause)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
