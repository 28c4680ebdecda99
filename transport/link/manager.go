package link

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/hakit/hakit/node/env"
)

// MaxOutstanding bounds the pings remembered per peer per link while their
// pongs are awaited. Older ones are forgotten (Stats.Evicted): a pong that
// slow would be rejected as late anyway whenever PingTimeout spans fewer
// than MaxOutstanding intervals.
const MaxOutstanding = 16

// Errors returned by Step for messages it ignores.
var (
	ErrUnknownPeer = errors.New("link: message from a node that is not a peer")
	ErrUnknownLink = errors.New("link: message on a link that is not configured")
)

// Outbound is a message to send on one link to one peer.
type Outbound struct {
	Link env.LinkID
	To   env.NodeID
	Msg  Message
}

// Change reports that a peer's link went up or down.
type Change struct {
	Peer env.NodeID
	Link env.LinkID
	Up   bool
	At   env.Mono
}

// Ready is the output the driver carries out after each input.
type Ready struct {
	Messages []Outbound
	Changes  []Change
}

// Empty reports whether there is nothing to do.
func (r Ready) Empty() bool { return len(r.Messages) == 0 && len(r.Changes) == 0 }

// Stats counts what a Manager did and what it refused.
type Stats struct {
	PingsSent, PingsAnswered uint64
	// PongsReceived counts valid pongs only.
	PongsReceived uint64
	// UnknownPongs echo no ping we remember: duplicates, pongs for evicted
	// pings, or a SentAt that is not the one we sent.
	UnknownPongs uint64
	// LatePongs echo a known ping but took longer than the timeout.
	LatePongs uint64
	// Evicted counts pings forgotten unanswered because of MaxOutstanding.
	Evicted uint64
	// Malformed counts undecodable payloads (Receive) and nil or foreign
	// messages (Step); UnknownPeer and UnknownLink messages from outside
	// the configuration.
	Malformed, UnknownPeer, UnknownLink uint64
	LinkUps, LinkDowns                  uint64
	// CountResets counts pong runs of down links broken by a PingTimeout
	// without a valid pong before reaching PongCount.
	CountResets uint64
	// PausesDetected counts Ticks so late that this node itself must not
	// have been running; the timeout windows were restarted instead of
	// acted on.
	PausesDetected uint64
}

type sentPing struct {
	seq uint64
	at  env.Mono
}

// path is one peer over one link.
type path struct {
	up  bool
	run int // valid pongs since the count last restarted, while down
	// open says a timeout window runs from since: the last valid pong, or
	// the end of a detected pause. A path that has heard nothing since its
	// last expiry has no window.
	open        bool
	since       env.Mono
	backoffFrom env.Mono // when the timeout backoff last restarted
	outstanding []sentPing

	rtt                 time.Duration
	lastPong            env.Mono
	pongs, pings, downs uint64
	lastChange          env.Mono
}

type linkState struct {
	cfg      LinkConfig
	nextPing env.Mono
}

// Manager is one node's link layer. It is a pure state machine; see the
// package documentation for the loop that drives it.
type Manager struct {
	cfg     Config
	log     *slog.Logger
	peers   []env.NodeID // ascending
	peerIdx map[env.NodeID]int
	links   []linkState // ascending by ID
	linkIdx map[env.LinkID]int
	paths   [][]path // [peer index][link index]
	seq     uint64
	// pauseAfter is how late a Tick may be before the node is taken to
	// have been paused: half the shortest PingTimeout, so that a pause is
	// recognised before it could have cost any link its window.
	pauseAfter time.Duration
	// pauseGrace is the longest PingTimeout: after one pause is excused,
	// the next is excused only once a whole window has passed, so a loop
	// that is late at every tick still declares a silent peer down.
	pauseGrace    time.Duration
	lastExcusedAt env.Mono
	excusedOnce   bool
	ready         Ready
	stats         Stats
	// rows is the newest view of connectivity of every node we heard of,
	// ours included (see Row); connVersion changes whenever one changes.
	rows        map[env.NodeID]Row
	connVersion uint64
}

// New returns a Manager with every link down and the first round of pings
// in its Ready.
func New(cfg Config, now env.Mono) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Manager{
		cfg:     cfg,
		rows:    map[env.NodeID]Row{cfg.Self: {Origin: cfg.Self, Epoch: cfg.Epoch}},
		log:     cfg.Log,
		peers:   slices.Clone(cfg.Peers),
		peerIdx: map[env.NodeID]int{},
		linkIdx: map[env.LinkID]int{},
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.cfg.Peers = nil
	m.cfg.Links = nil
	slices.Sort(m.peers)
	for i, p := range m.peers {
		m.peerIdx[p] = i
	}
	lcs := slices.Clone(cfg.Links)
	slices.SortFunc(lcs, func(a, b LinkConfig) int { return int(a.ID) - int(b.ID) })
	for i, lc := range lcs {
		m.links = append(m.links, linkState{cfg: lc, nextPing: now})
		m.linkIdx[lc.ID] = i
		m.pauseGrace = max(m.pauseGrace, lc.PingTimeout)
		if half := lc.PingTimeout / 2; i == 0 || half < m.pauseAfter {
			m.pauseAfter = half
		}
	}
	m.paths = make([][]path, len(m.peers))
	for pi := range m.paths {
		m.paths[pi] = make([]path, len(m.links))
		for li := range m.paths[pi] {
			m.paths[pi][li].backoffFrom = now
			m.paths[pi][li].lastChange = now
		}
	}
	m.sendPings(now)
	return m, nil
}

// Ready returns what the driver must do now; see Advance.
func (m *Manager) Ready() Ready { return m.ready }

// Advance discards the part of Ready the driver has carried out.
func (m *Manager) Advance(rd Ready) {
	n, c := min(len(rd.Messages), len(m.ready.Messages)), min(len(rd.Changes), len(m.ready.Changes))
	m.ready.Messages = m.ready.Messages[n:]
	m.ready.Changes = m.ready.Changes[c:]
	if len(m.ready.Messages) == 0 {
		m.ready.Messages = nil
	}
	if len(m.ready.Changes) == 0 {
		m.ready.Changes = nil
	}
}

// Stats returns the counters.
func (m *Manager) Stats() Stats { return m.stats }

// Receive decodes a link-layer payload and steps it, counting payloads
// that do not decode in Stats.Malformed.
func (m *Manager) Receive(now env.Mono, link env.LinkID, from env.NodeID, payload []byte) error {
	msg, err := Decode(payload)
	if err != nil {
		m.stats.Malformed++
		return err
	}
	return m.Step(now, link, from, msg)
}

// Step handles a message that arrived at now on link from a peer. Messages
// from outside the configuration are counted and ignored with an error;
// pongs that echo nothing we sent are counted and ignored without one,
// since duplicates are normal on an unreliable network.
func (m *Manager) Step(now env.Mono, link env.LinkID, from env.NodeID, msg Message) error {
	li, ok := m.linkIdx[link]
	if !ok {
		m.stats.UnknownLink++
		return fmt.Errorf("%w: link %d from node %d", ErrUnknownLink, link, from)
	}
	pi, ok := m.peerIdx[from]
	if !ok {
		m.stats.UnknownPeer++
		return fmt.Errorf("%w: node %d on link %d", ErrUnknownPeer, from, link)
	}
	switch msg := msg.(type) {
	case Ping:
		m.answer(link, from, msg)
		return nil
	case *Ping:
		if msg != nil {
			m.answer(link, from, *msg)
			return nil
		}
	case Pong:
		m.pong(now, pi, li, msg)
		return nil
	case *Pong:
		if msg != nil {
			m.pong(now, pi, li, *msg)
			return nil
		}
	}
	m.stats.Malformed++
	return fmt.Errorf("%w: %T", ErrMalformed, msg)
}

func (m *Manager) answer(link env.LinkID, to env.NodeID, p Ping) {
	for _, r := range p.Rows {
		if r.Origin == m.cfg.Self {
			continue
		}
		if _, known := m.peerIdx[r.Origin]; !known {
			continue
		}
		if old, ok := m.rows[r.Origin]; !ok || r.Newer(old) {
			r.Reach = slices.Clone(r.Reach)
			m.rows[r.Origin] = r
			if !ok || !slices.Equal(old.Reach, r.Reach) {
				m.connVersion++
			}
		}
	}
	m.stats.PingsAnswered++
	m.ready.Messages = append(m.ready.Messages, Outbound{Link: link, To: to, Msg: p.Pong()})
}

func (m *Manager) pong(now env.Mono, pi, li int, pg Pong) {
	p := &m.paths[pi][li]
	i := slices.IndexFunc(p.outstanding, func(s sentPing) bool { return s.seq == pg.Seq })
	if i < 0 || p.outstanding[i].at != pg.SentAt {
		m.stats.UnknownPongs++
		return
	}
	sent := p.outstanding[i].at
	p.outstanding = slices.Delete(p.outstanding, i, i+1)
	rtt := max(now.Sub(sent), 0)
	if rtt > m.timeout(p, li, now) {
		m.stats.LatePongs++
		return
	}
	m.stats.PongsReceived++
	p.pongs++
	p.rtt = rtt
	p.lastPong = max(p.lastPong, now)
	if !p.open || now > p.since {
		p.since = now
	}
	p.open = true
	if p.up {
		return
	}
	p.run++
	if p.run < m.links[li].cfg.PongCount {
		return
	}
	if !slices.ContainsFunc(m.paths[pi], func(q path) bool { return q.up }) {
		m.connVersion++
	}
	p.up = true
	p.run = 0
	p.lastChange = now
	m.stats.LinkUps++
	peer, link := m.peers[pi], m.links[li].cfg.ID
	m.ready.Changes = append(m.ready.Changes, Change{Peer: peer, Link: link, Up: true, At: now})
	m.log.Info("link is up", "host", peer, "link", link, "rtt", rtt)
}

// Tick sends the pings that are due and declares down the links whose
// window has expired.
func (m *Manager) Tick(now env.Mono) {
	next, ok := m.NextDeadline()
	if !ok || now < next {
		return
	}
	if late := now.Sub(next); late > m.pauseAfter && (!m.excusedOnce || now.Sub(m.lastExcusedAt) > m.pauseGrace+late) {
		// Silence we slept through says nothing about the links, and the
		// pongs that did arrive meanwhile may still be queued behind this
		// timer: give every window a fresh start instead.
		m.excusedOnce, m.lastExcusedAt = true, now
		m.stats.PausesDetected++
		m.log.Warn("process was not scheduled; restarting link timeouts", "late", late)
		for pi := range m.paths {
			for li := range m.paths[pi] {
				if p := &m.paths[pi][li]; p.open {
					p.since = max(p.since, now)
				}
			}
		}
	}
	m.sendPings(now)
	for pi := range m.paths {
		for li := range m.paths[pi] {
			p := &m.paths[pi][li]
			if p.open && now >= m.expiry(p, li) {
				m.expire(now, pi, li)
			}
		}
	}
}

func (m *Manager) sendPings(now env.Mono) {
	if len(m.peers) == 0 {
		return
	}
	rows := m.gossip()
	for li := range m.links {
		ls := &m.links[li]
		if now < ls.nextPing {
			continue
		}
		for pi, peer := range m.peers {
			m.seq++
			p := &m.paths[pi][li]
			if len(p.outstanding) == MaxOutstanding {
				p.outstanding = slices.Delete(p.outstanding, 0, 1)
				m.stats.Evicted++
			}
			p.outstanding = append(p.outstanding, sentPing{seq: m.seq, at: now})
			p.pings++
			m.stats.PingsSent++
			m.ready.Messages = append(m.ready.Messages, Outbound{Link: ls.cfg.ID, To: peer, Msg: Ping{Seq: m.seq, SentAt: now, Rows: rows}})
		}
		// Keep the cadence, but never send a burst to catch up after a
		// late Tick.
		ls.nextPing = ls.nextPing.Add(ls.cfg.PingInterval)
		if ls.nextPing <= now {
			ls.nextPing = now.Add(ls.cfg.PingInterval)
		}
	}
}

func (m *Manager) expire(now env.Mono, pi, li int) {
	p := &m.paths[pi][li]
	p.open = false
	p.backoffFrom = now
	if !p.up {
		p.run = 0
		m.stats.CountResets++
		return
	}
	p.up = false
	p.run = 0
	p.downs++
	p.lastChange = now
	m.stats.LinkDowns++
	peer, link := m.peers[pi], m.links[li].cfg.ID
	m.ready.Changes = append(m.ready.Changes, Change{Peer: peer, Link: link, Up: false, At: now})
	m.log.Info("link is down", "host", peer, "link", link, "silent", now.Sub(p.lastPong))
	if !slices.ContainsFunc(m.paths[pi], func(q path) bool { return q.up }) {
		m.connVersion++
		m.log.Warn("host has no active links", "host", peer)
	}
}

// factor is the timeout backoff multiplier in force at t.
func (m *Manager) factor(p *path, t env.Mono) int {
	b := m.cfg.TimeoutBackoff
	if b <= 1 || t <= p.backoffFrom {
		return max(b, 1)
	}
	return max(b-int(t.Sub(p.backoffFrom)/time.Second), 1)
}

func (m *Manager) timeout(p *path, li int, t env.Mono) time.Duration {
	return m.links[li].cfg.PingTimeout * time.Duration(m.factor(p, t))
}

// expiry is the first instant at which p's window, stretched by the
// backoff factor in force at that instant, has passed. The factor only
// falls with time, so it is found by walking its steps from the highest.
func (m *Manager) expiry(p *path, li int) env.Mono {
	timeout := m.links[li].cfg.PingTimeout
	b := m.cfg.TimeoutBackoff
	if b <= 1 {
		return p.since.Add(timeout)
	}
	for k := b; k >= 1; k-- {
		// The factor is k from start (b from the beginning of time) until
		// end (forever for 1).
		at := p.since.Add(timeout * time.Duration(k))
		if k < b {
			at = max(at, p.backoffFrom.Add(time.Duration(b-k)*time.Second))
		}
		if k == 1 || at < p.backoffFrom.Add(time.Duration(b-k+1)*time.Second) {
			return at
		}
	}
	panic("unreachable")
}

// NextDeadline returns when Tick next has something to do: a ping round
// or the end of a window. There is none without peers.
func (m *Manager) NextDeadline() (env.Mono, bool) {
	var next env.Mono
	ok := false
	consider := func(t env.Mono) {
		if !ok || t < next {
			next, ok = t, true
		}
	}
	if len(m.peers) > 0 {
		for _, ls := range m.links {
			consider(ls.nextPing)
		}
	}
	for pi := range m.paths {
		for li := range m.paths[pi] {
			if p := &m.paths[pi][li]; p.open {
				consider(m.expiry(p, li))
			}
		}
	}
	return next, ok
}

// Route returns the links a data frame to `to` goes out on now: in Passive
// mode the best up link, in Active mode every up link in ascending order.
// Nil means the peer has no active links (or is not a peer) and the frame
// should be dropped, as knet does.
func (m *Manager) Route(to env.NodeID) []env.LinkID {
	pi, ok := m.peerIdx[to]
	if !ok {
		return nil
	}
	var out []env.LinkID
	best := -1
	for li := range m.links {
		if !m.paths[pi][li].up {
			continue
		}
		if m.cfg.Mode == Active {
			out = append(out, m.links[li].cfg.ID)
		} else if best < 0 || m.links[li].cfg.Priority > m.links[best].cfg.Priority {
			best = li
		}
	}
	if best >= 0 {
		out = []env.LinkID{m.links[best].cfg.ID}
	}
	return out
}

// Reachable returns the peers with at least one link up, ascending.
func (m *Manager) Reachable() []env.NodeID {
	var out []env.NodeID
	for pi, peer := range m.peers {
		if slices.ContainsFunc(m.paths[pi], func(p path) bool { return p.up }) {
			out = append(out, peer)
		}
	}
	return out
}

// maxGossip bounds the encoded rows a ping carries: our own always, the
// others while they fit (all of them in clusters of up to ~60 nodes).
const maxGossip = 16 << 10

// gossip returns the rows a ping carries, our own brought up to date.
func (m *Manager) gossip() []Row {
	own := m.rows[m.cfg.Self]
	if reach := m.Reachable(); !slices.Equal(reach, own.Reach) {
		own.Seq++
		own.Reach = reach
		m.rows[m.cfg.Self] = own
	}
	rows := []Row{own}
	size := rowHeader + 4*len(own.Reach)
	for _, id := range slices.Sorted(maps.Keys(m.rows)) {
		if r := m.rows[id]; id != m.cfg.Self && size+rowHeader+4*len(r.Reach) <= maxGossip {
			rows = append(rows, r)
			size += rowHeader + 4*len(r.Reach)
		}
	}
	slices.SortFunc(rows, func(a, b Row) int { return cmp.Compare(a.Origin, b.Origin) })
	return rows
}

// PeerReach returns the peers that peer has a link up to, in the newest
// version of its view that reached us (directly or through others), and
// whether any did.
func (m *Manager) PeerReach(peer env.NodeID) ([]env.NodeID, bool) {
	r, ok := m.rows[peer]
	return r.Reach, ok && peer != m.cfg.Self
}

// ConnectivityVersion changes whenever Reachable or a PeerReach does:
// the driver recomputes membership constraints only then.
func (m *Manager) ConnectivityVersion() uint64 { return m.connVersion }

// Status returns every peer's links, peers and links ascending.
func (m *Manager) Status() []PeerStatus {
	out := make([]PeerStatus, 0, len(m.peers))
	for pi, peer := range m.peers {
		ps := PeerStatus{Peer: peer}
		for li := range m.links {
			p := &m.paths[pi][li]
			ps.Links = append(ps.Links, LinkStatus{
				ID: m.links[li].cfg.ID, Priority: m.links[li].cfg.Priority, Up: p.up, RTT: p.rtt,
				PongsReceived: p.pongs, PingsSent: p.pings, Downs: p.downs,
				LastChange: p.lastChange, LastPong: p.lastPong,
			})
		}
		out = append(out, ps)
	}
	return out
}
