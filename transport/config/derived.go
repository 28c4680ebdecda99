package config

import (
	"slices"
	"time"
)

// The values below are what Corosync computes in totem_volatile_config_read
// and calc_knet_ping_timers (exec/totemconfig.c) and votequorum_readconfig
// (exec/votequorum.c). Corosync keeps them in whole milliseconds and
// truncates each division; hakit keeps nanoseconds, so its values can be up
// to 1 ms longer (token_retransmit at token 3000: Corosync 714 ms, hakit
// 714.285714 ms). They are meant for a Config that passed validation.

// EffectiveToken is the token timeout totem runs with:
//
//	token + max(0, N-2) * token_coefficient,  N = len(Nodes)
//
// so a cluster can grow without retuning token. Corosync counts the ring0
// addresses of the nodelist; hakit requires ring0_addr on every node, so
// that is len(Nodes).
func (c *Config) EffectiveToken() time.Duration {
	t := c.Totem.Token
	if n := len(c.Nodes); n > 2 {
		t += time.Duration(n-2) * c.Totem.TokenCoefficient
	}
	return t
}

// EffectiveConsensus is how long a node gathering a new membership waits
// for agreement: consensus if set, else 1.2 * EffectiveToken.
func (c *Config) EffectiveConsensus() time.Duration {
	if c.Totem.Consensus > 0 {
		return c.Totem.Consensus
	}
	return mulDiv(c.EffectiveToken(), 6, 5)
}

// EffectiveTokenRetransmit is how long after the token was expected it is
// sent again: token_retransmit if set, else
//
//	EffectiveToken / (token_retransmits_before_loss_const + 0.2)
//
// which fits that many retransmits into one token timeout.
func (c *Config) EffectiveTokenRetransmit() time.Duration {
	if c.Totem.TokenRetransmit > 0 {
		return c.Totem.TokenRetransmit
	}
	r := max(c.Totem.TokenRetransmitsBeforeLossConst, 1)
	return mulDiv(c.EffectiveToken(), 5, int64(5*r+1))
}

// EffectiveHold is how long the ring representative keeps the token while
// the ring is idle: hold if set, else EffectiveTokenRetransmit * 0.8.
// Corosync also subtracts one kernel tick (1000/HZ ms: 10 ms at HZ=100,
// 4 ms at HZ=250); hakit has no tick to subtract.
func (c *Config) EffectiveHold() time.Duration {
	if c.Totem.Hold > 0 {
		return c.Totem.Hold
	}
	return mulDiv(c.EffectiveTokenRetransmit(), 4, 5)
}

// KnetPingTimers returns the link-health timers of one link: a ping every
// interval, the link declared down after timeout without a pong, and up
// again after pongCount pongs. Values set in the link's interface block
// win; otherwise
//
//	interval = EffectiveToken / (pongCount*2)
//	timeout  = EffectiveToken / pongCount,   pongCount default 2
//
// so a link is declared down well inside one token timeout and a failover
// to another link does not cost a membership change. For two nodes at the
// default token that is a ping every 750 ms and down after 1.5 s.
func (c *Config) KnetPingTimers(link int) (interval, timeout time.Duration, pongCount int) {
	ifc := c.Interface(link)
	pongCount = ifc.PongCount
	tok := c.EffectiveToken()
	interval, timeout = ifc.PingInterval, ifc.PingTimeout
	if interval == 0 {
		interval = tok / time.Duration(pongCount*2)
	}
	if timeout == 0 {
		timeout = tok / time.Duration(pongCount)
	}
	return interval, timeout, pongCount
}

// Interface returns the settings of one link: its interface block if the
// file has one, else the defaults, with zero "use the default" fields
// filled in either way.
func (c *Config) Interface(link int) Interface {
	ifc := Interface{LinkNumber: link, Priority: DefaultKnetLinkPriority}
	for _, i := range c.Totem.Interfaces {
		if i.LinkNumber == link {
			ifc = i
			break
		}
	}
	if ifc.PongCount <= 0 {
		ifc.PongCount = DefaultKnetPongCount
	}
	if ifc.PingPrecision <= 0 {
		ifc.PingPrecision = DefaultKnetPingPrecision
	}
	if ifc.MCastPort <= 0 {
		ifc.MCastPort = DefaultMCastPort + link
	}
	ifc.keyLines = nil
	return ifc
}

// Links returns the link numbers in use, ascending. Validation guarantees
// every node has the same set.
func (c *Config) Links() []int {
	if len(c.Nodes) == 0 {
		return nil
	}
	links := make([]int, 0, len(c.Nodes[0].Addrs))
	for l := range c.Nodes[0].Addrs {
		links = append(links, l)
	}
	slices.Sort(links)
	return links
}

// WaitForAll reports whether the cluster must see every node once before
// it first becomes quorate: wait_for_all if written, else two_node, which
// turns it on so that two nodes booting apart do not each fence the other.
func (c *Config) WaitForAll() bool {
	if c.Quorum.waitForAllSet {
		return c.Quorum.WaitForAll
	}
	return c.Quorum.WaitForAll || c.Quorum.TwoNode
}

// ExpectedVotes is the vote total quorum is computed from (quorate at more
// than half): expected_votes if set, else the sum of the nodes'
// quorum_votes.
func (c *Config) ExpectedVotes() uint32 {
	if c.Quorum.ExpectedVotes > 0 {
		return c.Quorum.ExpectedVotes
	}
	return uint32(c.nodeVotes())
}

func (c *Config) nodeVotes() uint64 {
	var sum uint64
	for _, n := range c.Nodes {
		sum += uint64(n.QuorumVotes)
	}
	return sum
}

// NodeByName finds a node by name, falling back to ring0_addr as Corosync
// does when it looks for the local node, so a file without names still
// works with addresses. It returns a pointer into c.Nodes.
func (c *Config) NodeByName(name string) (*Node, bool) {
	for i := range c.Nodes {
		if c.Nodes[i].Name == name && name != "" {
			return &c.Nodes[i], true
		}
	}
	for i := range c.Nodes {
		if a, ok := c.Nodes[i].Addrs[0]; ok && a == name && name != "" {
			return &c.Nodes[i], true
		}
	}
	return nil, false
}

// NodeByID finds a node by nodeid; it returns a pointer into c.Nodes.
func (c *Config) NodeByID(id uint32) (*Node, bool) {
	for i := range c.Nodes {
		if c.Nodes[i].ID == id {
			return &c.Nodes[i], true
		}
	}
	return nil, false
}

// mulDiv returns d*num/den without overflowing for any d a validated
// Config can hold.
func mulDiv(d time.Duration, num, den int64) time.Duration {
	q, r := int64(d)/den, int64(d)%den
	return time.Duration(q*num + r*num/den)
}
