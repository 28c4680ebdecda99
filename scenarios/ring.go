package scenarios

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hakit/hakit/internal/evscheck"
	"github.com/hakit/hakit/node"
	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/sim"
	"github.com/hakit/hakit/transport/config"
	"github.com/hakit/hakit/transport/quorum"
	"github.com/hakit/hakit/transport/totem"
)

// RingCluster runs the real messaging layer (node.Member: wire, links,
// totem, votequorum) on bonded simulated hosts and checks, at every event,
// what the members deliver against the protocol's guarantees.
type RingCluster struct {
	r     *Run
	Hosts []*sim.Host
	Procs []*sim.Process
	// Members holds each host's current incarnation; nil while down.
	Members []*node.Member
	Conf    *config.Config
	Private *sim.Switch
	Public  *sim.Switch

	// RegularAt records, per host, when (world time) each regular
	// configuration was delivered, in order.
	RegularAt [][]ConfigSeen
	// OnDeliver, if set, sees every application delivery.
	OnDeliver func(host int, ring totem.RingID, sender env.NodeID, payload []byte)
	// DropTotem, if set, is asked about every totem message host is about
	// to send to a peer and drops it when it returns true: the scenarios'
	// way to lose exactly the tokens.
	DropTotem func(host int, to env.NodeID, m totem.Message) bool
	// OnMember, if set, is called with each member started, in its
	// process: where the resource manager is started on top of it.
	OnMember func(host int, e env.Env, m *node.Member)

	evs  *evscheck.Checker[totem.RingID, env.NodeID]
	sent map[string]bool
	seq  int
}

// ConfigSeen is one regular configuration as a host delivered it.
type ConfigSeen struct {
	At      time.Duration
	Ring    totem.RingID
	Members []env.NodeID
}

// ReferenceConf renders a corosync.conf for n bonded nodes named
// names[i], node ids 1..n, ring0 on the private network and ring1 on the
// public one, with extra lines added to the totem and quorum sections.
func ReferenceConf(names []string, totemExtra, quorumExtra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "totem {\n\tversion: 2\n\tcluster_name: hakit\n\tlink_mode: passive\n%s", totemExtra)
	b.WriteString("\tinterface {\n\t\tlinknumber: 0\n\t\tknet_link_priority: 20\n\t}\n\tinterface {\n\t\tlinknumber: 1\n\t\tknet_link_priority: 10\n\t}\n}\n")
	b.WriteString("nodelist {\n")
	for i, name := range names {
		fmt.Fprintf(&b, "\tnode {\n\t\tname: %s\n\t\tnodeid: %d\n\t\tring0_addr: 10.0.0.%d\n\t\tring1_addr: 192.168.122.%d\n\t}\n", name, i+1, i+1, i+11)
	}
	b.WriteString("}\nquorum {\n\tprovider: corosync_votequorum\n")
	if len(names) == 2 {
		b.WriteString("\ttwo_node: 1\n")
	}
	b.WriteString(quorumExtra)
	b.WriteString("}\n")
	return b.String()
}

// testAuthKey is the simulated cluster's authkey: fixed, since a run must
// be a function of its seed.
var testAuthKey = bytes.Repeat([]byte("hakit-sim-authkey/"), 16)

// NewRingCluster builds bonded hosts (as BondedCluster) and starts a member
// named "hanode" on each from the given corosync.conf text.
func NewRingCluster(r *Run, names []string, conf string) *RingCluster {
	parsed, err := config.Parse("corosync.conf", []byte(conf))
	if err != nil {
		panic(fmt.Sprintf("scenario corosync.conf: %v", err))
	}
	bc := BondedCluster(r, names)
	c := &RingCluster{r: r, Hosts: bc.Hosts, Conf: parsed, Private: bc.Private, Public: bc.Public,
		Members: make([]*node.Member, len(names)), RegularAt: make([][]ConfigSeen, len(names)),
		sent: map[string]bool{}}
	c.evs = evscheck.New[totem.RingID, env.NodeID](func(p string) bool { return c.sent[p] }, func(v string) { r.Violationf("%s", v) })
	for i, h := range c.Hosts {
		c.Procs = append(c.Procs, r.W.StartProcess(h, "hanode", c.main(i)))
	}
	return c
}

func (c *RingCluster) main(i int) func(env.Env) {
	return func(e env.Env) {
		cfg, err := node.FromConfig(c.Conf, testAuthKey)
		if err != nil {
			c.r.Violationf("%s: %v", c.Hosts[i].Name(), err)
			return
		}
		// Every incarnation is followed by the shared checker: nothing
		// twice or unsent, one total order per configuration, agreement on
		// members, virtual synchrony across transitions.
		inc := c.evs.Member(c.Hosts[i].Name())
		m, err := node.StartMember(e, cfg, node.Observer{
			Config: func(ev totem.Event) {
				if ev.Kind == totem.EventRegular {
					inc.Regular(ev.Ring, ev.Members)
					c.RegularAt[i] = append(c.RegularAt[i], ConfigSeen{At: c.r.W.Now(), Ring: ev.Ring, Members: slices.Clone(ev.Members)})
				} else {
					inc.Transitional(ev.Ring, ev.Members)
				}
			},
			Deliver: func(ring totem.RingID, sender env.NodeID, payload []byte) {
				inc.Deliver(string(payload))
				if c.OnDeliver != nil {
					c.OnDeliver(i, ring, sender, payload)
				}
			},
			Quorum: func(s quorum.Status) { c.checkQuorum() },
			DropTotem: func(to env.NodeID, m totem.Message) bool {
				return c.DropTotem != nil && c.DropTotem(i, to, m)
			},
		})
		if err != nil {
			c.r.Violationf("%s: %v", c.Hosts[i].Name(), err)
			return
		}
		c.Members[i] = m
		if c.OnMember != nil {
			c.OnMember(i, e, m)
		}
	}
}

// live reports whether host i's member runs (and is not paused).
func (c *RingCluster) live(i int) bool {
	return c.Procs[i].Alive() && !c.Procs[i].Paused() && c.Members[i] != nil && c.Hosts[i].Powered()
}

// Send has host i's member send a unique message; it returns its text.
func (c *RingCluster) Send(i int) string {
	c.seq++
	msg := fmt.Sprintf("%s#%d", c.Hosts[i].Name(), c.seq)
	if !c.live(i) {
		return ""
	}
	// Recorded before sending: a ring of one delivers within Send.
	c.sent[msg] = true
	if err := c.Members[i].Send([]byte(msg)); err != nil {
		delete(c.sent, msg)
	}
	return msg
}

// OneRing reports whether the hosts listed (by index) are operational in
// one ring made of exactly them.
func (c *RingCluster) OneRing(idx ...int) bool {
	var want []env.NodeID
	for _, i := range idx {
		want = append(want, c.Hosts[i].Node())
	}
	slices.Sort(want)
	var ring totem.RingID
	for k, i := range idx {
		if !c.live(i) {
			return false
		}
		// The ring itself, not Status: this runs after every event.
		r := c.Members[i].Ring()
		if r.State() != totem.StateOperational || !slices.Equal(r.Members(), want) {
			return false
		}
		if k == 0 {
			ring = r.RingID()
		} else if r.RingID() != ring {
			return false
		}
	}
	return true
}

// All returns 0..n-1.
func (c *RingCluster) All() []int {
	var out []int
	for i := range c.Hosts {
		out = append(out, i)
	}
	return out
}

// formed waits up to 30 s for the first ring of every member, the start
// of every ring scenario, and records a violation if none forms.
func (c *RingCluster) formed() bool {
	if _, ok := c.Await(30*time.Second, func() bool { return c.OneRing(c.All()...) }); !ok {
		c.r.Violationf("no ring of all %d members after 30 s", len(c.Hosts))
		return false
	}
	return true
}

// Await runs until cond or limit; it returns how long it took and whether
// cond held.
func (c *RingCluster) Await(limit time.Duration, cond func() bool) (time.Duration, bool) {
	start := c.r.W.Now()
	ok := c.r.W.RunWhile(start+limit, func() bool { return !cond() })
	return c.r.W.Now() - start, ok
}

// checkQuorum: two live members that are quorate at the same time must not
// be in disjoint memberships, unless two_node makes one node a quorum (that
// case is what fencing is for).
func (c *RingCluster) checkQuorum() {
	if c.Conf.Quorum.TwoNode {
		return
	}
	var quorate []int
	for i := range c.Hosts {
		if c.live(i) && c.Members[i].Quorum().Quorate {
			quorate = append(quorate, i)
		}
	}
	for a := 0; a < len(quorate); a++ {
		for b := a + 1; b < len(quorate); b++ {
			ma, mb := c.Members[quorate[a]].Quorum().Members, c.Members[quorate[b]].Quorum().Members
			if !slices.ContainsFunc(ma, func(n env.NodeID) bool { return slices.Contains(mb, n) }) {
				c.r.Violationf("split brain: %s is quorate with %v and %s with %v", c.Hosts[quorate[a]].Name(), ma, c.Hosts[quorate[b]].Name(), mb)
			}
		}
	}
}
