package node

import (
	"fmt"

	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/transport/config"
	"github.com/hakit/hakit/transport/link"
	"github.com/hakit/hakit/transport/quorum"
	"github.com/hakit/hakit/transport/totem"
	"github.com/hakit/hakit/transport/wire"
)

// FromConfig turns a parsed corosync.conf into a member's configuration,
// applying Corosync's derived values (effective token, consensus, token
// retransmit, hold, knet ping timers, wait_for_all and expected votes) in
// one place, for hanode and for the simulator alike. Self is left for
// StartMember to fill from the Env.
func FromConfig(c *config.Config, authkey []byte) (Config, error) {
	if err := wire.CheckKey(authkey); err != nil {
		return Config{}, err
	}
	var nodes []env.NodeID
	votes := map[env.NodeID]uint32{}
	for _, n := range c.Nodes {
		nodes = append(nodes, env.NodeID(n.ID))
		votes[env.NodeID(n.ID)] = n.QuorumVotes
	}
	t := c.Totem
	tc := totem.Config{
		Nodes:                      nodes,
		Token:                      c.EffectiveToken(),
		TokenRetransmit:            c.EffectiveTokenRetransmit(),
		TokenRetransmitsBeforeLoss: t.TokenRetransmitsBeforeLossConst,
		Hold:                       c.EffectiveHold(),
		SeqnoUnchangedConst:        t.SeqnoUnchangedConst,
		Join:                       t.Join,
		Consensus:                  c.EffectiveConsensus(),
		Merge:                      t.Merge,
		FailRecvConst:              t.FailRecvConst,
		MaxMessages:                t.MaxMessages,
		WindowSize:                 t.WindowSize,
		SendQueueMax:               4096,
	}
	qc := quorum.Config{
		Votes:                 votes,
		ExpectedVotes:         c.Quorum.ExpectedVotes,
		TwoNode:               c.Quorum.TwoNode,
		WaitForAll:            c.WaitForAll(),
		WaitForAllSet:         true, // c.WaitForAll already applied the two_node default
		LastManStanding:       c.Quorum.LastManStanding,
		LastManStandingWindow: c.Quorum.LastManStandingWindow,
		AutoTieBreaker:        c.Quorum.AutoTieBreaker,
		AutoTieBreakerNode:    c.Quorum.AutoTieBreakerNode,
	}
	var links []link.LinkConfig
	for _, l := range c.Links() {
		iface := c.Interface(l)
		interval, timeout, pongs := c.KnetPingTimers(l)
		links = append(links, link.LinkConfig{ID: env.LinkID(l), Priority: iface.Priority, PingInterval: interval, PingTimeout: timeout, PongCount: pongs})
	}
	mode := link.Passive
	switch t.LinkMode {
	case "passive", "":
	case "active":
		mode = link.Active
	default:
		return Config{}, fmt.Errorf("link_mode %q is not supported", t.LinkMode)
	}
	return Config{AuthKey: authkey, Totem: tc, Quorum: qc, Links: links, LinkMode: mode}, nil
}
