package sim

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/hakit/hakit/node/env"
)

// SegmentConfig is the behaviour of one L2 segment (a switch). Every frame
// crossing it draws, in this order: lost?, latency, reordered?, duplicated?
type SegmentConfig struct {
	// LatencyMin is the one-way floor; LatencyMean the mean. The latency of
	// a frame is LatencyMin plus an exponential draw with mean
	// LatencyMean-LatencyMin: mostly close to the floor with a long tail,
	// as on a real LAN.
	LatencyMin, LatencyMean time.Duration
	// Loss is the probability that a frame is dropped.
	Loss float64
	// Duplicate is the probability that a delivered frame arrives twice,
	// the copy with its own latency.
	Duplicate float64
	// Reorder is the probability that a frame is held back by ReorderDelay
	// on top of its latency, so frames sent after it overtake it.
	Reorder      float64
	ReorderDelay time.Duration
}

// LAN is a quiet switched network: 50 µs floor, 100 µs mean, no faults.
func LAN() SegmentConfig {
	return SegmentConfig{LatencyMin: 50 * time.Microsecond, LatencyMean: 100 * time.Microsecond, ReorderDelay: 5 * time.Millisecond}
}

// Validate reports the first field out of range.
func (c SegmentConfig) Validate() error {
	switch {
	case c.LatencyMin < 0:
		return fmt.Errorf("segment: LatencyMin %v is negative", c.LatencyMin)
	case c.LatencyMean < c.LatencyMin:
		return fmt.Errorf("segment: LatencyMean %v is below LatencyMin %v", c.LatencyMean, c.LatencyMin)
	case c.Loss < 0 || c.Loss > 1:
		return fmt.Errorf("segment: Loss %v is not a probability", c.Loss)
	case c.Duplicate < 0 || c.Duplicate > 1:
		return fmt.Errorf("segment: Duplicate %v is not a probability", c.Duplicate)
	case c.Reorder < 0 || c.Reorder > 1:
		return fmt.Errorf("segment: Reorder %v is not a probability", c.Reorder)
	case c.ReorderDelay < 0:
		return fmt.Errorf("segment: ReorderDelay %v is negative", c.ReorderDelay)
	}
	return nil
}

// Switch is one L2 segment. Frames between two hosts cross the switch their
// sending NIC is plugged into and reach the destination's NIC on the same
// switch.
type Switch struct {
	w     *World
	name  string
	cfg   SegmentConfig
	rng   *rand.Rand
	stats SegmentStats
}

// SegmentStats counts what happened to the frames that entered a switch.
type SegmentStats struct {
	Sent, Lost, Duplicated, Reordered, Delivered uint64
}

// AddSwitch adds an L2 segment. It panics on an invalid configuration or a
// duplicate name: both are bugs in the scenario, not runtime conditions.
func (w *World) AddSwitch(name string, cfg SegmentConfig) *Switch {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("sim: switch %s: %v", name, err))
	}
	for _, s := range w.switches {
		if s.name == name {
			panic("sim: duplicate switch " + name)
		}
	}
	s := &Switch{w: w, name: name, cfg: cfg, rng: env.DeriveRand(w.seed, "net/"+name)}
	w.switches = append(w.switches, s)
	return s
}

// Name returns the switch's name.
func (s *Switch) Name() string { return s.name }

// Config returns the current segment behaviour.
func (s *Switch) Config() SegmentConfig { return s.cfg }

// SetConfig changes the segment's behaviour from now on (a fault or its
// repair). It panics on an invalid configuration.
func (s *Switch) SetConfig(cfg SegmentConfig) {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("sim: switch %s: %v", s.name, err))
	}
	s.cfg = cfg
	s.w.tracef(s.name, "segment", "latency=%v/%v loss=%g dup=%g reorder=%g", cfg.LatencyMin, cfg.LatencyMean, cfg.Loss, cfg.Duplicate, cfg.Reorder)
}

// Stats returns the switch's frame counters.
func (s *Switch) Stats() SegmentStats { return s.stats }

func (s *Switch) latency() time.Duration {
	d := s.cfg.LatencyMin
	if tail := s.cfg.LatencyMean - s.cfg.LatencyMin; tail > 0 {
		d += time.Duration(s.rng.ExpFloat64() * float64(tail))
	}
	return d
}

// NIC is a network interface with a cable to a switch.
type NIC struct {
	host    *Host
	name    string
	sw      *Switch
	cableOK bool
	bond    *Bond
}

// Name returns host/nic.
func (n *NIC) Name() string { return n.host.name + "/" + n.name }

// Switch returns the switch the NIC is cabled to.
func (n *NIC) Switch() *Switch { return n.sw }

// Carrier reports whether the link is physically up: cable in, host powered.
func (n *NIC) Carrier() bool { return n.cableOK && n.host.powered }

// CutCable unplugs the NIC's cable. Frames leaving or reaching it are lost
// from now on; a bond over it notices at its next miimon poll.
func (n *NIC) CutCable() {
	if n.cableOK {
		n.cableOK = false
		n.host.w.tracef(n.Name(), "cable", "cut")
	}
}

// RestoreCable plugs the cable back in.
func (n *NIC) RestoreCable() {
	if !n.cableOK {
		n.cableOK = true
		n.host.w.tracef(n.Name(), "cable", "restored")
	}
}

// Interface is what a link is attached to on a host: a NIC or a bond.
type Interface interface {
	Name() string
	// txNIC is the NIC frames leave by now, or nil if there is none.
	txNIC() *NIC
	// rxNIC is the NIC on sw that accepts frames for this interface now,
	// or nil.
	rxNIC(sw *Switch) *NIC
	// reaches reports whether any of the interface's NICs is cabled to sw.
	reaches(sw *Switch) bool
}

func (n *NIC) txNIC() *NIC { return n }

func (n *NIC) reaches(sw *Switch) bool { return n.sw == sw }

func (n *NIC) rxNIC(sw *Switch) *NIC {
	if n.sw == sw {
		return n
	}
	return nil
}

type hostPair struct{ from, to *Host }

// Partition splits the hosts into groups that cannot reach each other, in
// both directions; hosts in no group keep reaching everyone. It replaces any
// earlier partition. Frames already in flight across a new cut are lost.
func (w *World) Partition(groups ...[]string) {
	blocked := map[hostPair]bool{}
	var desc []string
	for i, g := range groups {
		desc = append(desc, strings.Join(g, ","))
		for j, other := range groups {
			if i == j {
				continue
			}
			for _, a := range g {
				for _, b := range other {
					blocked[hostPair{w.mustHost(a), w.mustHost(b)}] = true
				}
			}
		}
	}
	w.setBlocked(blocked)
	w.tracef("world", "partition", "%s", strings.Join(desc, " | "))
}

// Block cuts the path from one host to another in that direction only, on
// top of the partitions and blocks in force.
func (w *World) Block(from, to string) {
	blocked := maps.Clone(w.blocked)
	blocked[hostPair{w.mustHost(from), w.mustHost(to)}] = true
	w.setBlocked(blocked)
	w.tracef("world", "block", "%s -> %s", from, to)
}

// Heal removes every partition and block.
func (w *World) Heal() {
	w.setBlocked(map[hostPair]bool{})
	w.tracef("world", "heal", "")
}

// setBlocked installs a new cut set and keeps the history that ReachableAt
// answers from. The maps are never changed once installed.
func (w *World) setBlocked(blocked map[hostPair]bool) {
	w.blocked = blocked
	w.cuts = append(w.cuts, cutEpoch{since: w.now, blocked: blocked})
}

type cutEpoch struct {
	since   time.Duration
	blocked map[hostPair]bool
}

// Reachable reports whether frames from one host to another pass the
// partition and block rules now (it says nothing of cables and bonds).
func (w *World) Reachable(from, to string) bool {
	return !w.blocked[hostPair{w.mustHost(from), w.mustHost(to)}]
}

// ReachableAt reports whether the path was open at virtual time t, for
// invariants that judge a frame by when it arrived. At the very instant of a
// change both the old and the new rules are in force (events at one instant
// are ordered by sequence, which a time alone cannot tell), and the path
// counts as open if either allowed it.
func (w *World) ReachableAt(from, to string, t time.Duration) bool {
	pair := hostPair{w.mustHost(from), w.mustHost(to)}
	open := true // before any partition everything is reachable
	for _, c := range w.cuts {
		switch {
		case c.since < t:
			open = !c.blocked[pair]
		case c.since == t:
			open = open || !c.blocked[pair]
		}
	}
	return open
}

func (w *World) mustHost(name string) *Host {
	h := w.hostName[name]
	if h == nil {
		panic("sim: unknown host " + name)
	}
	return h
}

func (w *World) drop(reason string, src, dst *Host, link env.LinkID) {
	w.drops[reason]++
	w.tracef(src.name, "drop", "link=%d to=%s reason=%s", link, dst.name, reason)
}

// transmit sends one frame from src to dst on link: it leaves by the NIC
// the source interface uses now, crosses that NIC's switch, and is handed to
// the destination at arrival if the destination still accepts it then.
func (w *World) transmit(src, dst *Host, link env.LinkID, frame []byte) {
	out := src.links[link].txNIC()
	if out == nil || !out.Carrier() {
		w.drop("no-carrier", src, dst, link)
		return
	}
	sw := out.sw
	if !dst.links[link].reaches(sw) {
		w.drop("no-route", src, dst, link)
		return
	}
	if w.blocked[hostPair{src, dst}] {
		w.drop("partition", src, dst, link)
		return
	}
	sw.stats.Sent++
	if sw.cfg.Loss > 0 && sw.rng.Float64() < sw.cfg.Loss {
		sw.stats.Lost++
		w.drop("loss", src, dst, link)
		return
	}
	// A path through one switch is FIFO, as on a real LAN: jitter delays a
	// frame but does not let it overtake the one before. Only a frame drawn
	// for reordering is held back past the later ones.
	path := pathKey{src, dst, sw}
	arrival := max(w.now+sw.latency(), w.fifo[path])
	w.fifo[path] = arrival
	if sw.cfg.Reorder > 0 && sw.rng.Float64() < sw.cfg.Reorder {
		sw.stats.Reordered++
		arrival += sw.cfg.ReorderDelay
	}
	w.tracef(src.name, "send", "link=%d to=%s via=%s len=%d", link, dst.name, out.name, len(frame))
	w.schedule(arrival, func() { w.arrive(src, dst, link, sw, frame) })
	if sw.cfg.Duplicate > 0 && sw.rng.Float64() < sw.cfg.Duplicate {
		sw.stats.Duplicated++
		dup := slices.Clone(frame) // each copy is its receiver's to keep
		w.schedule(w.now+sw.latency(), func() { w.arrive(src, dst, link, sw, dup) })
	}
}

// pathKey names a one-way path through a switch, whose frames stay in order.
type pathKey struct {
	src, dst *Host
	sw       *Switch
}

func (w *World) arrive(src, dst *Host, link env.LinkID, sw *Switch, frame []byte) {
	if w.blocked[hostPair{src, dst}] {
		w.drop("partition", src, dst, link)
		return
	}
	in := dst.links[link].rxNIC(sw)
	if in == nil || !in.Carrier() {
		w.drop("no-carrier", src, dst, link)
		return
	}
	sw.stats.Delivered++
	dst.receive(link, src, frame)
}

// peersOn returns the node hosts other than h that have link, in name order:
// the order broadcasts go out in must not depend on map iteration.
func (w *World) peersOn(h *Host, link env.LinkID) []*Host {
	var out []*Host
	for _, o := range w.hosts {
		if o != h && o.links[link] != nil && o.node != 0 {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b *Host) int { return strings.Compare(a.name, b.name) })
	return out
}
