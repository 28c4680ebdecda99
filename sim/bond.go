package sim

import (
	"fmt"
	"time"
)

// BondConfig is an active-backup bond's mii monitoring, with Linux's names
// and semantics (Documentation/networking/bonding.rst).
type BondConfig struct {
	// Miimon is the carrier polling interval. Linux's default is 0 (off);
	// the reference setup uses 100 ms.
	Miimon time.Duration
	// Downdelay and Updelay are how long a slave's carrier must stay down
	// (up) before the bond acts on it. Linux counts them in miimon polls,
	// rounding down to a multiple of Miimon, and so do we.
	Downdelay, Updelay time.Duration
	// Primary, if set, names the slave that becomes active whenever it is up
	// (primary_reselect=always). Without it, a bond never switches back to a
	// recovered slave while the active one works.
	Primary string
}

// DefaultBond is the reference setup's bond: miimon 100, downdelay 200,
// updelay 200, no primary.
func DefaultBond() BondConfig {
	return BondConfig{Miimon: 100 * time.Millisecond, Downdelay: 200 * time.Millisecond, Updelay: 200 * time.Millisecond}
}

// Validate reports the first invalid field.
func (c BondConfig) Validate() error {
	switch {
	case c.Miimon <= 0:
		return fmt.Errorf("bond: miimon %v must be positive (no mii monitoring means no failover)", c.Miimon)
	case c.Downdelay < 0 || c.Updelay < 0:
		return fmt.Errorf("bond: downdelay %v and updelay %v must not be negative", c.Downdelay, c.Updelay)
	}
	return nil
}

// FailoverWindow is the longest a cut on the active slave loses frames: the
// cut is seen at the next poll (up to one Miimon later), then Downdelay
// runs. A messaging layer's token timeout shorter than this loses the token
// on every failover.
func (c BondConfig) FailoverWindow() time.Duration {
	return c.Miimon + c.Downdelay/c.Miimon*c.Miimon
}

// slaveState is Linux's BOND_LINK_{UP,FAIL,DOWN,BACK}.
type slaveState uint8

const (
	slaveUp   slaveState = iota
	slaveFail            // carrier lost, downdelay running; still active if it was
	slaveDown
	slaveBack // carrier back, updelay running; not used yet
)

func (s slaveState) String() string {
	return [...]string{"up", "fail", "down", "back"}[s]
}

type bondSlave struct {
	nic   *NIC
	state slaveState
	delay int // polls left, as Linux's slave->delay
}

// Bond is an active-backup bond. Frames go out, and are accepted in, only on
// the active slave; frames arriving on the other slaves are dropped, as
// Linux does for inactive slaves. On failover the new active slave announces
// the bond's address (gratuitous ARP), so switches forward to it at once.
type Bond struct {
	host   *Host
	name   string
	cfg    BondConfig
	slaves []*bondSlave
	active *bondSlave
}

// AddBond enslaves nics into an active-backup bond. Slaves with carrier
// start up and the first of them (or the primary) becomes active. The first
// miimon poll comes at a seeded phase within one interval, as hosts do not
// boot in lockstep. It panics on a bad configuration.
func (h *Host) AddBond(name string, cfg BondConfig, nics ...*NIC) *Bond {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("sim: %s/%s: %v", h.name, name, err))
	}
	if len(nics) == 0 {
		panic(fmt.Sprintf("sim: %s/%s: a bond needs slaves", h.name, name))
	}
	b := &Bond{host: h, name: name, cfg: cfg}
	upPolls := int(cfg.Updelay / cfg.Miimon)
	for _, n := range nics {
		if n.host != h || n.bond != nil {
			panic(fmt.Sprintf("sim: %s/%s: cannot enslave %s", h.name, name, n.Name()))
		}
		n.bond = b
		// As bond_enslave: a slave with carrier starts in BACK, counting its
		// updelay, unless there is none.
		s := &bondSlave{nic: n, state: slaveDown}
		if n.Carrier() {
			s.state, s.delay = slaveBack, upPolls
			if upPolls == 0 {
				s.state = slaveUp
			}
		}
		b.slaves = append(b.slaves, s)
	}
	if cfg.Primary != "" && b.slave(cfg.Primary) == nil {
		panic(fmt.Sprintf("sim: %s/%s: primary %s is not a slave", h.name, name, cfg.Primary))
	}
	b.selectActive()
	h.bonds = append(h.bonds, b)
	phase := time.Duration(h.w.Rand("bond/"+h.name+"/"+name).Int64N(int64(cfg.Miimon))) + 1
	h.w.After(phase, "", b.miimon)
	return b
}

// Name returns host/bond.
func (b *Bond) Name() string { return b.host.name + "/" + b.name }

// Config returns the bond's configuration.
func (b *Bond) Config() BondConfig { return b.cfg }

// Active returns the active slave's NIC, or nil.
func (b *Bond) Active() *NIC {
	if b.active == nil {
		return nil
	}
	return b.active.nic
}

func (b *Bond) slave(name string) *bondSlave {
	for _, s := range b.slaves {
		if s.nic.name == name {
			return s
		}
	}
	return nil
}

func (b *Bond) txNIC() *NIC { return b.Active() }

func (b *Bond) rxNIC(sw *Switch) *NIC {
	if n := b.Active(); n != nil && n.sw == sw {
		return n
	}
	return nil
}

func (b *Bond) reaches(sw *Switch) bool {
	for _, s := range b.slaves {
		if s.nic.sw == sw {
			return true
		}
	}
	return false
}

// miimon is one poll, following bond_miimon_inspect and bond_miimon_commit:
// a slave that loses carrier goes to FAIL and is declared DOWN after
// downdelay polls; one that regains it goes to BACK and is declared UP after
// updelay polls, except that updelay is skipped when the bond has no active
// slave at all (there is nothing to protect by waiting).
func (b *Bond) miimon() {
	if !b.host.powered {
		b.host.w.After(b.cfg.Miimon, "", b.miimon)
		return
	}
	miimon := b.cfg.Miimon
	downPolls, upPolls := int(b.cfg.Downdelay/miimon), int(b.cfg.Updelay/miimon)
	ignoreUpdelay := b.active == nil
	reselect := false
	for _, s := range b.slaves {
		carrier := s.nic.Carrier()
		switch s.state {
		case slaveUp:
			if carrier {
				continue
			}
			s.state, s.delay = slaveFail, downPolls
			if s.delay > 0 {
				b.log(s, "link status down, disabling it in %d ms", downPolls*int(miimon/time.Millisecond))
			}
			fallthrough
		case slaveFail:
			if carrier {
				s.state = slaveUp
				b.log(s, "link status up again")
				continue
			}
			if s.delay <= 0 {
				s.state = slaveDown
				b.log(s, "link status definitely down, disabling slave")
				reselect = reselect || s == b.active
				continue
			}
			s.delay--
		case slaveDown:
			if !carrier {
				continue
			}
			s.state, s.delay = slaveBack, upPolls
			if s.delay > 0 && !ignoreUpdelay {
				b.log(s, "link status up, enabling it in %d ms", upPolls*int(miimon/time.Millisecond))
			}
			fallthrough
		case slaveBack:
			if !carrier {
				s.state = slaveDown
				b.log(s, "link status down again")
				continue
			}
			if ignoreUpdelay {
				s.delay = 0
			}
			if s.delay <= 0 {
				s.state = slaveUp
				ignoreUpdelay = false
				b.log(s, "link status definitely up")
				reselect = reselect || b.active == nil || s.nic.name == b.cfg.Primary
				continue
			}
			s.delay--
		}
	}
	if reselect {
		b.selectActive()
	}
	b.host.w.After(miimon, "", b.miimon)
}

// selectActive follows bond_find_best_slave for active-backup: the primary
// if it is up, else the current active slave if it is up, else the first up
// slave in enslavement order.
//
// When no slave is up, Linux takes the slave in BACK (carrier back, updelay
// still running) with the least delay left and makes it active at once:
// waiting would only prolong an outage.
func (b *Bond) selectActive() {
	var best *bondSlave
	if p := b.slave(b.cfg.Primary); p != nil && p.state == slaveUp {
		best = p
	} else if b.active != nil && b.active.state == slaveUp {
		best = b.active
	} else {
		for _, s := range b.slaves {
			if s.state == slaveUp {
				best = s
				break
			}
		}
	}
	if best == nil {
		for _, s := range b.slaves {
			if s.state == slaveBack && s.nic.Carrier() && (best == nil || s.delay < best.delay) {
				best = s
			}
		}
		if best != nil {
			b.log(best, "making interface the new active one %d ms earlier", best.delay*int(b.cfg.Miimon/time.Millisecond))
			best.state, best.delay = slaveUp, 0
		}
	}
	if best == b.active {
		return
	}
	b.active = best
	if best == nil {
		b.host.w.tracef(b.Name(), "bond", "now has no active interface")
		return
	}
	b.host.w.tracef(b.Name(), "bond", "making interface %s the new active one", best.nic.name)
}

func (b *Bond) log(s *bondSlave, format string, args ...any) {
	b.host.w.tracef(b.Name(), "bond", "%s: "+format, append([]any{s.nic.name}, args...)...)
}
