package link

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hakit/hakit/node/env"
)

// Mode is corosync.conf's link_mode: how data frames use the up links.
type Mode uint8

const (
	// Passive sends data on the up link with the highest Priority; on a tie,
	// the lowest link id.
	Passive Mode = iota
	// Active sends data on every up link; the receiver drops duplicates (the
	// wire layer's replay window does).
	Active
)

func (m Mode) String() string {
	switch m {
	case Passive:
		return "passive"
	case Active:
		return "active"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// LinkConfig is one link's knet settings.
type LinkConfig struct {
	ID env.LinkID
	// Priority is knet_link_priority, 0-255; only Passive mode uses it.
	Priority int
	// PingInterval is knet_ping_interval; PingTimeout is knet_ping_timeout.
	PingInterval, PingTimeout time.Duration
	// PongCount is knet_pong_count: valid pongs needed to bring a link up.
	PongCount int
}

// Config is the link layer of one node.
type Config struct {
	Self  env.NodeID
	Peers []env.NodeID // the other nodes of the nodelist
	Links []LinkConfig
	Mode  Mode
	// TimeoutBackoff enables knet's pong timeout backoff when above 1: after
	// New, and after a link's timeout window expires, that link's timeout is
	// multiplied by TimeoutBackoff, a factor that drops by one per second of
	// the Manager's clock down to 1 (libknet uses 10, its
	// KNET_LINK_PONG_TIMEOUT_BACKOFF). It damps flapping at the cost of up to
	// TimeoutBackoff × PingTimeout to notice a link that fails again soon
	// after coming back. Zero, the default, keeps the plain rule: down after
	// PingTimeout without a valid pong.
	TimeoutBackoff int
	// Epoch is this boot's epoch (rising across restarts): it versions the
	// connectivity rows this node spreads, so they supersede its old ones.
	Epoch uint64
	// Log receives link up/down and pause reports; nil discards them.
	Log *slog.Logger
}

// MaxTimeoutBackoff bounds Config.TimeoutBackoff.
const MaxTimeoutBackoff = 100

// KnetTimers returns Corosync 3's defaults for a link's ping interval and
// timeout (totem_calc_knet_ping_timers): token/(2*pongCount) and
// token/pongCount, token being the effective token timeout.
func KnetTimers(token time.Duration, pongCount int) (interval, timeout time.Duration) {
	if pongCount < 1 {
		pongCount = 1
	}
	return token / time.Duration(2*pongCount), token / time.Duration(pongCount)
}

// Validate reports every problem in c, each naming the field at fault.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("link: "+format, args...)) }
	if c.Self == 0 {
		bad("Self must be a non-zero node id")
	}
	seenPeer := map[env.NodeID]bool{}
	for i, p := range c.Peers {
		switch {
		case p == 0:
			bad("Peers[%d] is node id 0, which is not a valid node", i)
		case p == c.Self:
			bad("Peers[%d] is Self (%d); Peers lists the other nodes only", i, p)
		case seenPeer[p]:
			bad("Peers[%d] repeats node id %d", i, p)
		}
		seenPeer[p] = true
	}
	if len(c.Links) == 0 {
		bad("Links is empty; a node needs at least one link")
	}
	if len(c.Links) > env.MaxLinks {
		bad("Links has %d links, more than env.MaxLinks (%d)", len(c.Links), env.MaxLinks)
	}
	seenLink := map[env.LinkID]bool{}
	for i, l := range c.Links {
		at := fmt.Sprintf("Links[%d] (link %d)", i, l.ID)
		if seenLink[l.ID] {
			bad("%s: ID repeats an earlier link's", at)
		}
		seenLink[l.ID] = true
		if l.Priority < 0 || l.Priority > 255 {
			bad("%s: Priority %d is outside 0-255", at, l.Priority)
		}
		if l.PingInterval <= 0 {
			bad("%s: PingInterval must be positive, got %v", at, l.PingInterval)
		}
		if l.PingTimeout <= 0 {
			bad("%s: PingTimeout must be positive, got %v", at, l.PingTimeout)
		} else if l.PingTimeout <= l.PingInterval {
			// A timeout no longer than the interval declares a healthy link
			// down between two pings.
			bad("%s: PingTimeout %v must exceed PingInterval %v", at, l.PingTimeout, l.PingInterval)
		}
		if l.PongCount < 1 {
			bad("%s: PongCount must be at least 1, got %d", at, l.PongCount)
		}
	}
	if c.Mode != Passive && c.Mode != Active {
		bad("Mode %d is neither Passive nor Active", uint8(c.Mode))
	}
	if c.TimeoutBackoff < 0 || c.TimeoutBackoff > MaxTimeoutBackoff {
		bad("TimeoutBackoff %d is outside 0-%d", c.TimeoutBackoff, MaxTimeoutBackoff)
	}
	return errors.Join(errs...)
}
