package scenarios

import (
	"fmt"
	"time"

	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/sim"
)

// Cluster is a set of simulated hosts, each running one heartbeat node, and
// the record of what those nodes concluded, stamped with true virtual time.
type Cluster struct {
	r       *Run
	Hosts   []*sim.Host
	Private *sim.Switch
	Public  *sim.Switch
	Procs   []*sim.Process
	Nodes   []*Heartbeat // the current incarnation on each host
	Changes []Change
	// OnPing, if set, sees every ping any node receives, with its send and
	// arrival times in world time.
	OnPing func(p Ping)

	boots []uint64
	// started[i] is the incarnation of Procs[i] whose node is Nodes[i].
	started []uint64
}

// Ping is one ping as the world saw it.
type Ping struct {
	Sender, Receiver *sim.Host
	Link             env.LinkID
	Seq              uint64
	SentAt, At       time.Duration
}

// Change is one node's conclusion about one peer's link.
type Change struct {
	At             time.Duration
	Observer, Peer *sim.Host
	Link           env.LinkID
	Up             bool
}

func (c Change) String() string {
	state := map[bool]string{true: "up", false: "down"}[c.Up]
	return fmt.Sprintf("%v %s sees %s link %d %s", c.At, c.Observer.Name(), c.Peer.Name(), c.Link, state)
}

// Reference builds the reference setup of DESIGN.md §1: vm-node1 and
// vm-node2, bond0 (eth0, eth1) on the private network carrying link 0 and
// bond1 (eth2, eth3) on the public network carrying link 1; active-backup,
// miimon 100, downdelay 200, updelay 200.
func Reference(r *Run) *Cluster {
	return BondedCluster(r, []string{"vm-node1", "vm-node2"})
}

// BondedCluster builds hosts named names, each wired like a reference node;
// node ids are 1, 2, ... in order.
func BondedCluster(r *Run, names []string) *Cluster {
	c := &Cluster{r: r}
	c.Private = r.W.AddSwitch("private", sim.LAN())
	c.Public = r.W.AddSwitch("public", sim.LAN())
	for i, name := range names {
		h := r.W.AddHost(name)
		h.BindNode(env.NodeID(i + 1))
		bond0 := h.AddBond("bond0", sim.DefaultBond(), h.AddNIC("eth0", c.Private), h.AddNIC("eth1", c.Private))
		bond1 := h.AddBond("bond1", sim.DefaultBond(), h.AddNIC("eth2", c.Public), h.AddNIC("eth3", c.Public))
		h.AttachLink(0, bond0)
		h.AttachLink(1, bond1)
		c.Hosts = append(c.Hosts, h)
	}
	c.Nodes = make([]*Heartbeat, len(names))
	c.boots = make([]uint64, len(names))
	c.started = make([]uint64, len(names))
	return c
}

// Links are the links every node in a Cluster has.
var Links = []env.LinkID{0, 1}

// Start starts a heartbeat node named "hanode" on every host.
func (c *Cluster) Start(cfg HeartbeatConfig) {
	for i, h := range c.Hosts {
		c.Procs = append(c.Procs, c.r.W.StartProcess(h, "hanode", c.main(i, cfg)))
	}
}

func (c *Cluster) main(i int, cfg HeartbeatConfig) func(env.Env) {
	self := c.Hosts[i]
	cfg.Peers = nil
	for _, h := range c.Hosts {
		if h != self {
			cfg.Peers = append(cfg.Peers, h.Node())
		}
	}
	cfg.OnChange = func(peer env.NodeID, link env.LinkID, up bool) {
		c.Changes = append(c.Changes, Change{At: c.r.W.Now(), Observer: self, Peer: c.r.W.HostOf(peer), Link: link, Up: up})
	}
	cfg.OnPing = func(peer env.NodeID, link env.LinkID, seq uint64, sentAt, at env.Mono) {
		sender := c.r.W.HostOf(peer)
		arrived := c.Procs[i].Started() + time.Duration(at)
		// The sender's Mono counts from its current incarnation's start; a
		// ping from an earlier one (in flight across a restart) maps wrongly
		// and is not judged.
		sent := c.Procs[hostIndex(c, sender)].Started() + time.Duration(sentAt)
		if sent > arrived {
			return
		}
		// A partition drops what is sent while it stands and what would
		// arrive while it stands.
		for _, at := range []time.Duration{sent, arrived} {
			if !c.r.W.ReachableAt(sender.Name(), self.Name(), at) {
				c.r.Violationf("%s received a ping from %s sent at %v, arrived at %v, across a partition", self.Name(), sender.Name(), sent, arrived)
				break
			}
		}
		if c.OnPing != nil {
			c.OnPing(Ping{Sender: sender, Receiver: self, Link: link, Seq: seq, SentAt: sent, At: arrived})
		}
	}
	return func(e env.Env) {
		hb, err := StartHeartbeat(e, cfg)
		if err != nil {
			c.r.Violationf("%s: %v", self.Name(), err)
			return
		}
		// The boot counter is written atomically: no crash, not even a
		// power loss, may lose it, so it rises by exactly one per start.
		if hb.Boot() != c.boots[i]+1 {
			c.r.Violationf("%s: boot counter went from %d to %d", self.Name(), c.boots[i], hb.Boot())
		}
		c.boots[i] = hb.Boot()
		c.Nodes[i] = hb
		c.started[i] = c.Procs[i].Incarnation()
	}
}

// live reports whether host i's process is running and not paused.
func (c *Cluster) live(i int) bool {
	return c.Procs[i].Alive() && !c.Procs[i].Paused()
}

// AllUp reports whether every live node has started and sees every other
// live node up on every link. A process that runs but whose node has not
// started yet (or whose current node is a previous incarnation's) makes it
// false: no vacuous truth before the nodes exist.
func (c *Cluster) AllUp() bool {
	for i := range c.Hosts {
		if c.live(i) && c.started[i] != c.Procs[i].Incarnation() {
			return false
		}
	}
	for i := range c.Hosts {
		for j := range c.Hosts {
			if i == j || !c.live(i) || !c.live(j) {
				continue
			}
			for _, l := range Links {
				if !c.Nodes[i].Up(c.Hosts[j].Node(), l) {
					return false
				}
			}
		}
	}
	return true
}

// AwaitAllUp runs until AllUp or until limit has passed, and returns how
// long it took and whether it happened.
func (c *Cluster) AwaitAllUp(limit time.Duration) (time.Duration, bool) {
	start := c.r.W.Now()
	ok := c.r.W.RunWhile(start+limit, func() bool { return !c.AllUp() })
	return c.r.W.Now() - start, ok
}

// ChangesSince returns the changes recorded at or after t.
func (c *Cluster) ChangesSince(t time.Duration) []Change {
	var out []Change
	for _, ch := range c.Changes {
		if ch.At >= t {
			out = append(out, ch)
		}
	}
	return out
}

// Downs returns the down-changes in [from, to).
func (c *Cluster) Downs(from, to time.Duration) []Change {
	var out []Change
	for _, ch := range c.Changes {
		if !ch.Up && ch.At >= from && ch.At < to {
			out = append(out, ch)
		}
	}
	return out
}

// between draws a duration uniformly from [lo, hi) on the stream.
func between(rng interface{ Int64N(int64) int64 }, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int64N(int64(hi-lo)))
}
