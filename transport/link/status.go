package link

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hakit/hakit/node/env"
)

// PeerStatus is one peer's links as this node sees them.
type PeerStatus struct {
	Peer  env.NodeID
	Links []LinkStatus // ascending by ID
}

// LinkStatus is one link to one peer.
type LinkStatus struct {
	ID       env.LinkID
	Priority int
	Up       bool
	// RTT is the round trip of the last valid pong.
	RTT                      time.Duration
	PongsReceived, PingsSent uint64
	Downs                    uint64
	// LastChange is when the link last went up or down (New's time if
	// never); LastPong when its last valid pong arrived (meaningless while
	// PongsReceived is 0).
	LastChange, LastPong env.Mono
}

func (l LinkStatus) state() string {
	if l.Up {
		return "connected"
	}
	return "disconnected"
}

// String renders one peer on one line, e.g.
// "nodeid 2: link 0 connected (rtt 1.2ms), link 1 disconnected".
func (p PeerStatus) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nodeid %d:", p.Peer)
	for i, l := range p.Links {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " link %d %s", l.ID, l.state())
		if l.Up {
			fmt.Fprintf(&b, " (rtt %v)", l.RTT)
		}
	}
	return b.String()
}

// FormatStatus renders a Status the way `corosync-cfgtool -s` lays out
// knet links: one block per link, one line per node, this node as
// localhost.
func FormatStatus(self env.NodeID, peers []PeerStatus) string {
	type line struct {
		node  env.NodeID
		state string
	}
	byLink := map[env.LinkID][]line{}
	for _, p := range peers {
		for _, l := range p.Links {
			byLink[l.ID] = append(byLink[l.ID], line{p.Peer, l.state()})
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Local node ID %d, transport knet\n", self)
	for _, id := range slices.Sorted(maps.Keys(byLink)) {
		lines := append(byLink[id], line{self, "localhost"})
		slices.SortStableFunc(lines, func(x, y line) int { return cmp.Compare(x.node, y.node) })
		fmt.Fprintf(&b, "LINK ID %d\n\tstatus:\n", id)
		for _, ln := range lines {
			fmt.Fprintf(&b, "\t\tnodeid: %2d:\t%s\n", ln.node, ln.state)
		}
	}
	return b.String()
}
