package quorum

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hakit/hakit/node/env"
)

// DefaultLastManStandingWindow is votequorum(5)'s last_man_standing_window
// default (10000 ms).
const DefaultLastManStandingWindow = 10 * time.Second

// Bounds on vote arithmetic. They keep every sum and doubling inside uint32
// with room to spare (MaxMembers * MaxNodeVotes < 2^26), so no comparison in
// the quorum rule can be fooled by wrap-around.
const (
	// MaxNodeVotes bounds one node's quorum_votes.
	MaxNodeVotes = 1<<16 - 1
	// MaxExpectedVotes bounds expected_votes, configured or announced.
	MaxExpectedVotes = 1 << 24
	// MaxMembers bounds a membership; totem's own limit is far lower.
	MaxMembers = 1024
)

// Config is the quorum { } section of corosync.conf plus the nodelist's
// quorum_votes. Every node of a cluster must be given the same values apart
// from Self: votequorum(5) warns that behaviour is "unpredictable" otherwise.
type Config struct {
	// Self is this node's id; it must appear in Votes.
	Self env.NodeID
	// Votes is the nodelist: every configured node with its quorum_votes
	// (the nodelist default is 1; 0 is a node without a vote, as in
	// votequorum). At least one node must have a vote.
	Votes map[env.NodeID]uint32
	// ExpectedVotes is quorum.expected_votes. Zero means the sum of Votes;
	// a non-zero value overrides it, as the explicit setting does in
	// corosync. Set it below the sum only knowingly: two halves of the
	// nodelist may then both reach quorum.
	ExpectedVotes uint32

	// TwoNode is two_node: quorum is forced to 1. It implies WaitForAll
	// unless WaitForAllSet says WaitForAll was given explicitly. It is
	// disabled when the nodelist has more than 2 nodes, and while more than
	// 2 nodes are members.
	TwoNode bool
	// WaitForAll is wait_for_all: never quorate until all expected votes
	// have been present at the same time since this node started, and
	// again after every loss of quorum (votequorum re-arms it whenever the
	// node is inquorate), unless a quorate member that is not waiting
	// vouches that the cluster was seen whole.
	WaitForAll bool
	// WaitForAllSet records that WaitForAll was written in the
	// configuration, so that "wait_for_all: 0" can switch off the default
	// TwoNode brings.
	WaitForAllSet bool

	// LastManStanding is last_man_standing: after LastManStandingWindow of
	// unchanged membership while quorate, expected_votes drops to the votes
	// present. It requires every node to have at most 1 vote.
	LastManStanding bool
	// LastManStandingWindow is last_man_standing_window; zero means
	// DefaultLastManStandingWindow.
	LastManStandingWindow time.Duration

	// AutoTieBreaker is auto_tie_breaker: in a split where exactly half of
	// expected_votes is present, the half holding the tie-breaker node stays
	// quorate. It excludes TwoNode, and needs WaitForAll when the votes add
	// up to an odd number, as in votequorum.
	AutoTieBreaker bool
	// AutoTieBreakerNode is auto_tie_breaker_node: "lowest" (the default,
	// also for ""), "highest", or space-separated node ids in preference
	// order. The tie-breaker is the lowest or highest id of Votes, or the
	// first listed id that is in Votes.
	AutoTieBreakerNode string
}

// resolved is a validated Config with its defaults and derived values.
type resolved struct {
	Config
	votes      map[env.NodeID]uint32 // a private copy
	expected   uint32                // configured expected_votes
	waitForAll bool
	twoNode    bool // two_node as configured, before the membership check
	tieBreaker env.NodeID
}

func (c Config) validate() (resolved, error) {
	r := resolved{Config: c}
	if c.Self == 0 {
		return r, errors.New("quorum: Config.Self: node id 0 is not valid")
	}
	if len(c.Votes) == 0 {
		return r, errors.New("quorum: Config.Votes: the nodelist is empty")
	}
	if len(c.Votes) > MaxMembers {
		return r, fmt.Errorf("quorum: Config.Votes: %d nodes, more than MaxMembers (%d)", len(c.Votes), MaxMembers)
	}
	if _, ok := c.Votes[c.Self]; !ok {
		return r, fmt.Errorf("quorum: Config.Votes: Self (node %d) is not in the nodelist", c.Self)
	}
	r.votes = make(map[env.NodeID]uint32, len(c.Votes))
	var sum uint64
	for _, id := range slices.Sorted(maps.Keys(c.Votes)) {
		v := c.Votes[id]
		if id == 0 {
			return r, errors.New("quorum: Config.Votes: node id 0 is not valid")
		}
		if v > MaxNodeVotes {
			return r, fmt.Errorf("quorum: Config.Votes: node %d has %d votes, more than MaxNodeVotes (%d)", id, v, MaxNodeVotes)
		}
		if c.LastManStanding && v > 1 {
			return r, fmt.Errorf("quorum: Config.LastManStanding: node %d has %d votes; last_man_standing needs at most 1 vote on every node (votequorum(5))", id, v)
		}
		r.votes[id] = v
		sum += uint64(v)
	}
	if sum == 0 {
		return r, errors.New("quorum: Config.Votes: no node has a vote, so the cluster could never be quorate")
	}
	if sum > MaxExpectedVotes {
		return r, fmt.Errorf("quorum: Config.Votes: %d votes in all, more than MaxExpectedVotes (%d)", sum, MaxExpectedVotes)
	}
	r.expected = uint32(sum)
	if c.ExpectedVotes > MaxExpectedVotes {
		return r, fmt.Errorf("quorum: Config.ExpectedVotes: %d is more than MaxExpectedVotes (%d)", c.ExpectedVotes, MaxExpectedVotes)
	}
	if c.ExpectedVotes != 0 {
		r.expected = c.ExpectedVotes
	}
	if c.LastManStandingWindow < 0 {
		return r, fmt.Errorf("quorum: Config.LastManStandingWindow: %v is negative", c.LastManStandingWindow)
	}
	if c.LastManStandingWindow == 0 {
		r.LastManStandingWindow = DefaultLastManStandingWindow
	}
	// votequorum(5): "enabling two_node: 1 automatically enables
	// wait_for_all. It is still possible to override wait_for_all by
	// explicitly setting it to 0."
	r.waitForAll = c.WaitForAll || (c.TwoNode && !c.WaitForAllSet)
	// "If more than 2 nodes join the cluster, the two_node option is
	// automatically disabled": a nodelist of 3 can never need it.
	r.twoNode = c.TwoNode && len(c.Votes) <= 2
	// votequorum switches two_node off next to auto_tie_breaker, and
	// auto_tie_breaker off (or refuses to start, with last_man_standing)
	// when the votes add up to an odd number without wait_for_all; a
	// cluster quietly lacking a feature its operator configured decides
	// splits differently than planned, so refuse, as package config does.
	if c.TwoNode && c.AutoTieBreaker {
		return r, errors.New("quorum: Config.TwoNode: two_node and auto_tie_breaker are not compatible (votequorum(5))")
	}
	if c.AutoTieBreaker && sum%2 == 1 && !r.waitForAll {
		return r, fmt.Errorf("quorum: Config.AutoTieBreaker: the nodes' votes add up to %d, an odd number, so auto_tie_breaker needs WaitForAll (votequorum(5))", sum)
	}
	tb, err := tieBreaker(c.AutoTieBreakerNode, r.votes)
	if err != nil {
		return r, err
	}
	r.tieBreaker = tb
	return r, nil
}

// tieBreaker resolves auto_tie_breaker_node against the nodelist alone.
// votequorum(5) skips a listed node that "was not in the cluster before the
// split", but the two halves of a split cannot agree on that, and if they
// disagree both may claim the tie. Fixing the choice from configuration
// keeps "at most one half" true at the cost of never falling back from a
// configured node that is down for good.
func tieBreaker(spec string, votes map[env.NodeID]uint32) (env.NodeID, error) {
	ids := slices.Sorted(maps.Keys(votes))
	fields := strings.Fields(spec)
	switch {
	case len(fields) == 0 || (len(fields) == 1 && fields[0] == "lowest"):
		return ids[0], nil
	case len(fields) == 1 && fields[0] == "highest":
		return ids[len(ids)-1], nil
	}
	var pick env.NodeID
	for _, f := range fields {
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil || n == 0 {
			return 0, fmt.Errorf("quorum: Config.AutoTieBreakerNode: %q is not lowest, highest or a list of node ids", spec)
		}
		if _, ok := votes[env.NodeID(n)]; ok && pick == 0 {
			pick = env.NodeID(n)
		}
	}
	if pick == 0 {
		return 0, fmt.Errorf("quorum: Config.AutoTieBreakerNode: none of %q is in the nodelist (Config.Votes)", spec)
	}
	return pick, nil
}
