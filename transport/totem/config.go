package totem

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/hakit/hakit/node/env"
)

// Config is a ring's timing and limits, with corosync.conf's names and
// Corosync 3's defaults (DefaultConfig). Timeouts are the effective ones:
// the caller has already applied token_coefficient for rings of three or
// more nodes (transport/config does).
type Config struct {
	// Self is this node; Nodes the nodelist (Self included). A ring forms
	// among nodes of the nodelist only.
	Self  env.NodeID
	Nodes []env.NodeID

	// Token is how long without the token before it is declared lost
	// (default 3000 ms; effective token = token + (N-2)*token_coefficient).
	Token time.Duration
	// TokenRetransmit is how long a node waits for the next token before
	// sending its last one again (default Token/(TokenRetransmitsBeforeLoss+0.2)).
	TokenRetransmit time.Duration
	// TokenRetransmitsBeforeLoss is Corosync's
	// token_retransmits_before_loss_const (default 4); with the formula above
	// it makes that many retransmits fit in one Token.
	TokenRetransmitsBeforeLoss int
	// Hold is how long the representative keeps the token of an idle ring
	// before passing it on (default TokenRetransmit*0.8), so an idle ring does
	// not spin.
	Hold time.Duration
	// SeqnoUnchangedConst is how many rotations without a new message make
	// a ring idle (default 30).
	SeqnoUnchangedConst int
	// Join is the interval between join messages while gathering (50 ms).
	Join time.Duration
	// Consensus is how long gathering waits for every candidate to agree
	// before declaring the silent ones failed (default 1.2*Token).
	Consensus time.Duration
	// Merge is how often the representative of an idle ring announces it,
	// so that rings split by a partition find each other (200 ms).
	Merge time.Duration
	// FailRecvConst is how many rotations a message may stay missing at a
	// node before the ring gives up on it and reforms (2500).
	FailRecvConst int
	// MaxMessages is how many new messages one node may send per token
	// visit (17); WindowSize how many the whole ring may send per rotation
	// (50).
	MaxMessages, WindowSize int
	// SendQueueMax bounds the messages waiting for the token at this node;
	// Send fails with ErrBackpressure beyond it.
	SendQueueMax int

	// Log receives the ring's state changes; nil discards them.
	Log *slog.Logger
}

// DefaultConfig returns Corosync 3's defaults for a ring of the given nodes.
func DefaultConfig(self env.NodeID, nodes []env.NodeID) Config {
	token := 3000 * time.Millisecond
	if n := len(nodes); n > 2 {
		token += time.Duration(n-2) * 650 * time.Millisecond // token_coefficient
	}
	retransmit := time.Duration(float64(token) / 4.2)
	return Config{
		Self:                       self,
		Nodes:                      nodes,
		Token:                      token,
		TokenRetransmit:            retransmit,
		TokenRetransmitsBeforeLoss: 4,
		Hold:                       retransmit * 8 / 10,
		SeqnoUnchangedConst:        30,
		Join:                       50 * time.Millisecond,
		Consensus:                  token * 12 / 10,
		Merge:                      200 * time.Millisecond,
		FailRecvConst:              2500,
		MaxMessages:                17,
		WindowSize:                 50,
		SendQueueMax:               4096,
	}
}

func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Self == 0 || !slices.Contains(c.Nodes, c.Self) {
		bad("totem: self (%d) must be a non-zero member of the nodelist %v", c.Self, c.Nodes)
	}
	if len(c.Nodes) > MaxNodes {
		bad("totem: %d nodes exceeds the limit of %d", len(c.Nodes), MaxNodes)
	}
	seen := map[env.NodeID]bool{}
	for _, n := range c.Nodes {
		if n == 0 || seen[n] {
			bad("totem: nodelist has a zero or repeated node id %d", n)
		}
		seen[n] = true
	}
	positive := map[string]time.Duration{"token": c.Token, "token_retransmit": c.TokenRetransmit, "hold": c.Hold, "join": c.Join, "consensus": c.Consensus, "merge": c.Merge}
	for _, name := range []string{"token", "token_retransmit", "hold", "join", "consensus", "merge"} {
		if positive[name] <= 0 {
			bad("totem: %s must be positive, got %v", name, positive[name])
		}
	}
	if c.TokenRetransmit >= c.Token {
		bad("totem: token_retransmit %v must be below token %v", c.TokenRetransmit, c.Token)
	}
	if c.Hold >= c.TokenRetransmit {
		bad("totem: hold %v must be below token_retransmit %v, or an idle ring retransmits its token", c.Hold, c.TokenRetransmit)
	}
	if c.Consensus < c.Token*12/10 {
		bad("totem: consensus %v must be at least 1.2 * token (%v)", c.Consensus, c.Token*12/10)
	}
	if c.MaxMessages < 1 || c.WindowSize < c.MaxMessages {
		bad("totem: need 1 <= max_messages (%d) <= window_size (%d)", c.MaxMessages, c.WindowSize)
	}
	if c.SeqnoUnchangedConst < 1 || c.FailRecvConst < 1 || c.SendQueueMax < 1 {
		bad("totem: seqno_unchanged_const, fail_recv_const and the send queue must be positive")
	}
	return errors.Join(errs...)
}
