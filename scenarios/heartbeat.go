package scenarios

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/hakit/hakit/node/env"
)

// Heartbeat is the small node the scenarios run until the messaging layer
// exists: on every link it pings every peer each Interval, answers pings
// with pongs, and declares a peer's link down after Timeout without a frame
// from it. It is written against env.Env only, like the real node, and so
// exercises the world the way the real node will: timers, links, bonds,
// pauses, crashes and the disk.
type Heartbeat struct {
	e     env.Env
	cfg   HeartbeatConfig
	boot  uint64
	seq   uint64
	links map[peerLink]*linkView
	// lastTick detects pauses: a tick that comes much later than planned
	// means the process did not run (SIGSTOP, frozen VM), not that the
	// peers went quiet.
	lastTick env.Mono
	Stats    HeartbeatStats
}

// HeartbeatConfig configures a Heartbeat.
type HeartbeatConfig struct {
	// Peers are the nodes to ping.
	Peers []env.NodeID
	// Interval between pings (default 100 ms) and Timeout without any
	// frame before a peer's link is declared down (default 1 s).
	Interval, Timeout time.Duration
	// OnChange, if set, is called on the loop when a peer's link changes
	// state; scenarios use it to compare the node's view with the truth.
	OnChange func(peer env.NodeID, link env.LinkID, up bool)
	// OnPing, if set, is called for each ping received, with the sender's
	// Mono when it sent it and the receiver's Mono when it arrived.
	OnPing func(peer env.NodeID, link env.LinkID, seq uint64, sentAt, at env.Mono)
}

// HeartbeatStats counts what a Heartbeat saw.
type HeartbeatStats struct {
	PingsSent, PingsReceived, PongsReceived, Malformed, PausesDetected uint64
	// RTTs are round-trip times of answered pings, in arrival order.
	RTTs []time.Duration
}

type peerLink struct {
	peer env.NodeID
	link env.LinkID
}

type linkView struct {
	up        bool
	lastHeard env.Mono
}

// Heartbeat frame: magic "HB", version, kind, seq, the sender's Mono at ping
// time (echoed back in the pong).
const (
	hbMagic0, hbMagic1 = 'H', 'B'
	hbVersion          = 1
	hbPing, hbPong     = 1, 2
	hbFrameLen         = 4 + 8 + 8
)

type hbFrame struct {
	kind   byte
	seq    uint64
	sentAt env.Mono
}

func (f hbFrame) encode() []byte {
	b := make([]byte, hbFrameLen)
	b[0], b[1], b[2], b[3] = hbMagic0, hbMagic1, hbVersion, f.kind
	binary.BigEndian.PutUint64(b[4:], f.seq)
	binary.BigEndian.PutUint64(b[12:], uint64(f.sentAt))
	return b
}

var errMalformed = errors.New("malformed heartbeat frame")

func decodeHB(b []byte) (hbFrame, error) {
	if len(b) != hbFrameLen || b[0] != hbMagic0 || b[1] != hbMagic1 || b[2] != hbVersion || (b[3] != hbPing && b[3] != hbPong) {
		return hbFrame{}, errMalformed
	}
	return hbFrame{kind: b[3], seq: binary.BigEndian.Uint64(b[4:]), sentAt: env.Mono(binary.BigEndian.Uint64(b[12:]))}, nil
}

// bootFile holds the boot counter, written atomically so it survives any
// crash; lastSeenFile is written without sync, and may vanish with a power
// loss: the scenarios check both.
const (
	bootFile     = "boot"
	lastSeenFile = "last-seen"
)

// StartHeartbeat starts a heartbeat node in e and returns it. Peers begin
// down and come up at their first frame.
func StartHeartbeat(e env.Env, cfg HeartbeatConfig) (*Heartbeat, error) {
	if cfg.Interval == 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Second
	}
	if cfg.Interval <= 0 || cfg.Timeout <= cfg.Interval {
		return nil, fmt.Errorf("heartbeat: need 0 < interval (%v) < timeout (%v)", cfg.Interval, cfg.Timeout)
	}
	h := &Heartbeat{e: e, cfg: cfg, links: map[peerLink]*linkView{}}
	if b, err := e.Disk.ReadFile(bootFile); err == nil {
		h.boot, err = strconv.ParseUint(string(b), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("heartbeat: %s: %w", bootFile, err)
		}
	}
	h.boot++
	if err := e.Disk.WriteFileAtomic(bootFile, []byte(strconv.FormatUint(h.boot, 10))); err != nil {
		return nil, err
	}
	e.Log.Info("heartbeat started", "node", e.Node, "boot", h.boot, "peers", len(cfg.Peers))
	e.Transport.SetReceiver(h.receive)
	h.lastTick = e.Clock.Mono()
	h.tick()
	return h, nil
}

// Boot returns the boot counter read from disk at start, plus one.
func (h *Heartbeat) Boot() uint64 { return h.boot }

// Up reports whether the node considers the peer's link up.
func (h *Heartbeat) Up(peer env.NodeID, link env.LinkID) bool {
	v := h.links[peerLink{peer, link}]
	return v != nil && v.up
}

func (h *Heartbeat) tick() {
	now := h.e.Clock.Mono()
	if late := now.Sub(h.lastTick) - h.cfg.Interval; late > h.cfg.Timeout/2 {
		// Our own timers are stale: every peer looks silent because we did
		// not run. Give each peer a fresh Timeout instead of declaring it
		// down on evidence we slept through.
		h.Stats.PausesDetected++
		h.e.Log.Warn("process was not scheduled; not acting on stale timers", "late", late)
		for _, v := range h.links {
			v.lastHeard = max(v.lastHeard, now)
		}
	}
	h.lastTick = now
	for _, link := range h.e.Transport.Links() {
		for _, peer := range h.cfg.Peers {
			h.seq++
			if err := h.e.Transport.Send(link, peer, hbFrame{kind: hbPing, seq: h.seq, sentAt: now}.encode()); err == nil {
				h.Stats.PingsSent++
			}
			v := h.view(peer, link)
			if v.up && now.Sub(v.lastHeard) >= h.cfg.Timeout {
				h.setUp(peer, link, v, false)
			}
		}
	}
	h.e.Disk.WriteFile(lastSeenFile, []byte(now.String()))
	h.e.Clock.AfterFunc(h.cfg.Interval, h.tick)
}

func (h *Heartbeat) view(peer env.NodeID, link env.LinkID) *linkView {
	k := peerLink{peer, link}
	v := h.links[k]
	if v == nil {
		v = &linkView{lastHeard: h.e.Clock.Mono()}
		h.links[k] = v
	}
	return v
}

func (h *Heartbeat) receive(link env.LinkID, from env.NodeID, frame []byte, at env.Mono) {
	f, err := decodeHB(frame)
	if err != nil || !slices.Contains(h.cfg.Peers, from) {
		h.Stats.Malformed++
		return
	}
	v := h.view(from, link)
	v.lastHeard = max(v.lastHeard, at)
	if !v.up {
		h.setUp(from, link, v, true)
	}
	switch f.kind {
	case hbPing:
		h.Stats.PingsReceived++
		if h.cfg.OnPing != nil {
			h.cfg.OnPing(from, link, f.seq, f.sentAt, at)
		}
		h.e.Transport.Send(link, from, hbFrame{kind: hbPong, seq: f.seq, sentAt: f.sentAt}.encode())
	case hbPong:
		h.Stats.PongsReceived++
		if f.sentAt <= at {
			h.Stats.RTTs = append(h.Stats.RTTs, at.Sub(f.sentAt))
		}
	}
}

func (h *Heartbeat) setUp(peer env.NodeID, link env.LinkID, v *linkView, up bool) {
	v.up = up
	state := map[bool]string{true: "up", false: "down"}[up]
	h.e.Log.Info("peer link "+state, "peer", peer, "link", link)
	if h.cfg.OnChange != nil {
		h.cfg.OnChange(peer, link, up)
	}
}
