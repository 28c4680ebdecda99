package udp

import (
	"net/netip"

	"github.com/hakit/hakit/node/env"
)

// LinkStats are one link's counters since Open. Every datagram read from
// the socket (and every frame sent to Self) is counted in exactly one of Received, Unknown, Oversize,
// QueueFull or Blocked (which also counts frames not sent); every frame
// Received ends up in Delivered or NoReceiver once the loop has run it
// (Queued are those still waiting).
type LinkStats struct {
	Link  env.LinkID
	Local netip.AddrPort

	// Sent counts datagrams written to the socket (and frames to Self,
	// looped back). SendErrors counts writes the kernel refused
	// (ECONNREFUSED, ENETUNREACH, ENOBUFS, ...): lost frames, not errors
	// returned to the caller. NoRoute counts Sends to a peer with no
	// address on this link.
	Sent, SendErrors, NoRoute uint64

	// Received counts frames from a listed peer posted to the loop;
	// Delivered those the loop handed to the Receiver; NoReceiver those it
	// dropped because no Receiver was set or the transport was closed.
	Received, Delivered, NoReceiver uint64

	// Drops on receive: Unknown, from an address no peer has on this link;
	// Oversize, larger than env.MaxFrameSize; QueueFull, RecvQueueMax
	// frames were already waiting for the loop. Blocked counts frames to or
	// from a peer cut off by Block, both ways.
	Unknown, Oversize, QueueFull, Blocked uint64

	// ReadErrors counts failed socket reads (not datagrams).
	ReadErrors uint64

	// Queued is how many frames are posted to the loop and not yet run
	// right now; it never exceeds RecvQueueMax.
	Queued int64
}

// Dropped is the number of frames this link lost on its own account, in
// either direction.
func (s LinkStats) Dropped() uint64 {
	return s.SendErrors + s.NoRoute + s.NoReceiver + s.Unknown + s.Oversize + s.QueueFull + s.Blocked
}

// Stats is every link's counters, in ascending link order.
type Stats struct {
	Links []LinkStats
}

// Link returns the counters of one link (zero for an unknown link).
func (s Stats) Link(id env.LinkID) LinkStats {
	for _, l := range s.Links {
		if l.Link == id {
			return l
		}
	}
	return LinkStats{}
}

// Stats reads the counters. Safe from any goroutine; the counters are read
// one at a time, so a snapshot taken under traffic may be off by in-flight
// frames.
func (t *Transport) Stats() Stats {
	out := Stats{Links: make([]LinkStats, 0, len(t.ids))}
	for _, id := range t.ids {
		l := t.links[id]
		out.Links = append(out.Links, LinkStats{
			Link:       id,
			Local:      l.local,
			Sent:       l.c.sent.Load(),
			SendErrors: l.c.sendErrors.Load(),
			NoRoute:    l.c.noRoute.Load(),
			Received:   l.c.received.Load(),
			Delivered:  l.c.delivered.Load(),
			NoReceiver: l.c.noReceiver.Load(),
			Unknown:    l.c.unknown.Load(),
			Oversize:   l.c.oversize.Load(),
			QueueFull:  l.c.queueFull.Load(),
			Blocked:    l.c.blocked.Load(),
			ReadErrors: l.c.readErr.Load(),
			Queued:     l.pending.Load(),
		})
	}
	return out
}
