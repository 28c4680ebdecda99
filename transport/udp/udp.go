package udp

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hakit/hakit/node/env"
)

// BasePort is Corosync's default mcastport: link N listens on BasePort+N
// unless configured otherwise.
const BasePort = 5405

// DefaultPort is the port link listens on when the configuration names
// none, as in Corosync 3 (mcastport + link number).
func DefaultPort(link env.LinkID) uint16 { return BasePort + uint16(link) }

// DefaultRecvQueueMax is Config.RecvQueueMax when left zero.
const DefaultRecvQueueMax = 1024

// DefaultRecvQueueBytes is Config.RecvQueueBytes when left zero: room for
// a full totem window of the largest messages, while a flood of large
// datagrams (from a listed address, before authentication) holds at most
// this much memory per link.
const DefaultRecvQueueBytes = 4 << 20

// Largest payloads one UDP datagram can carry: 65535 minus the IPv4 and UDP
// headers, and 65535 minus the UDP header for IPv6 (whose payload length
// does not count its own header). env.MaxFrameSize is a little larger than
// both; Send refuses frames in the gap instead of letting the kernel do it.
const (
	maxUDPPayload4 = 65535 - 20 - 8
	maxUDPPayload6 = 65535 - 8
)

// ErrClosed is returned by Send and Broadcast after Close.
var ErrClosed = errors.New("udp: transport closed")

// Peer is one other cluster member and where it listens on each link.
type Peer struct {
	Node  env.NodeID
	Addrs map[env.LinkID]netip.AddrPort
}

// Config is what Open needs.
type Config struct {
	// Self is this node's id. A Peer entry for Self is ignored, so the
	// whole nodelist may be passed as Peers.
	Self env.NodeID
	// Listen is this node's socket per link: ringN_addr and port. Its keys
	// are the node's links. Port 0 lets the OS choose (tests); LocalAddr
	// tells which it chose. Bind a specific address, not the wildcard, so
	// that datagrams leave from the address peers expect them from.
	Listen map[env.LinkID]netip.AddrPort
	// Peers are the other members. A datagram is accepted on a link only
	// from an address listed here for that link, and it is attributed to
	// that peer.
	Peers []Peer
	// Loop receives every frame (Loop.Post); Clock stamps it (Clock.Mono,
	// called from the reader goroutines).
	Loop  env.Loop
	Clock env.Clock
	// Log gets send errors and unlisted sources, rate-limited; nil discards.
	Log *slog.Logger
	// RecvQueueMax bounds the frames per link posted to the loop and not
	// yet run; more are dropped (Stats.QueueFull). Zero means
	// DefaultRecvQueueMax.
	RecvQueueMax int
	// RecvQueueBytes bounds the bytes of those frames per link. Zero means
	// DefaultRecvQueueBytes.
	RecvQueueBytes int
	// SocketBuffer, if positive, sets SO_RCVBUF and SO_SNDBUF of every
	// socket (the kernel caps it at net.core.rmem_max/wmem_max).
	SocketBuffer int

	// maxFrame overrides env.MaxFrameSize in tests, since real UDP cannot
	// carry a datagram above env.MaxFrameSize to check the receive side.
	maxFrame int
}

// Transport is env.Transport over UDP. Send, Broadcast and SetReceiver are
// meant for the node's loop; Stats, LocalAddr, Links, Block, Unblock and
// Close are safe from any goroutine.
type Transport struct {
	self       env.NodeID
	loop       env.Loop
	clock      env.Clock
	log        *slog.Logger
	maxFrame   int
	queueMax   int64
	queueBytes int64

	ids   []env.LinkID
	links [env.MaxLinks]*link

	// recv is stored atomically: the contract has SetReceiver on the loop,
	// where frames are delivered too, but a test or a driver that installs
	// it before starting the loop must not race either.
	recv atomic.Pointer[env.Receiver]

	closed    atomic.Bool
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

var _ env.Transport = (*Transport)(nil)

// link is one socket and what it knows about the peers on it. Everything
// but the counters, the pending gauge and the block set is fixed by Open.
type link struct {
	id    env.LinkID
	conn  *net.UDPConn
	local netip.AddrPort
	to    map[env.NodeID]netip.AddrPort // where to send
	peers []env.NodeID                  // keys of to, ascending: Broadcast order
	from  map[netip.AddrPort]env.NodeID // who sent, by normalised source address

	blockMu sync.Mutex                              // serialises writers of blocked
	blocked atomic.Pointer[map[env.NodeID]struct{}] // copy on write; nil: none

	pending      atomic.Int64 // frames posted to the loop and not yet run
	pendingBytes atomic.Int64 // and their bytes
	c            counters
}

type counters struct {
	sent, sendErrors, noRoute                      atomic.Uint64
	received, delivered, noReceiver                atomic.Uint64
	unknown, oversize, queueFull, blocked, readErr atomic.Uint64
}

// Open validates cfg, binds one socket per link and starts one reader per
// socket. On error nothing is left open; bind errors name the link and the
// address.
func Open(cfg Config) (*Transport, error) {
	t, err := newTransport(cfg)
	if err != nil {
		return nil, err
	}
	if err := t.setPeers(cfg); err != nil {
		return nil, err
	}
	if err := t.bind(cfg); err != nil {
		return nil, err
	}
	t.start()
	return t, nil
}

// newTransport checks cfg, apart from Peers, and sets up the links without
// touching the network.
func newTransport(cfg Config) (*Transport, error) {
	switch {
	case cfg.Self == 0:
		return nil, errors.New("udp: Config.Self is zero, not a valid node id")
	case cfg.Loop == nil:
		return nil, errors.New("udp: Config.Loop is nil")
	case cfg.Clock == nil:
		return nil, errors.New("udp: Config.Clock is nil")
	case len(cfg.Listen) == 0:
		return nil, errors.New("udp: Config.Listen names no link")
	case cfg.RecvQueueMax < 0:
		return nil, fmt.Errorf("udp: Config.RecvQueueMax %d is negative", cfg.RecvQueueMax)
	case cfg.RecvQueueBytes < 0:
		return nil, fmt.Errorf("udp: Config.RecvQueueBytes %d is negative", cfg.RecvQueueBytes)
	case cfg.SocketBuffer < 0:
		return nil, fmt.Errorf("udp: Config.SocketBuffer %d is negative", cfg.SocketBuffer)
	}
	t := &Transport{
		self:       cfg.Self,
		loop:       cfg.Loop,
		clock:      cfg.Clock,
		log:        cfg.Log,
		maxFrame:   cfg.maxFrame,
		queueMax:   int64(cfg.RecvQueueMax),
		queueBytes: int64(cfg.RecvQueueBytes),
		done:       make(chan struct{}),
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.maxFrame <= 0 {
		t.maxFrame = env.MaxFrameSize
	}
	if t.queueMax == 0 {
		t.queueMax = DefaultRecvQueueMax
	}
	if t.queueBytes == 0 {
		t.queueBytes = DefaultRecvQueueBytes
	}
	for id, ap := range cfg.Listen {
		if id >= env.MaxLinks {
			return nil, fmt.Errorf("udp: link %d: at most %d links (0-%d)", id, env.MaxLinks, env.MaxLinks-1)
		}
		if !ap.Addr().IsValid() {
			return nil, fmt.Errorf("udp: link %d: no listen address", id)
		}
		t.ids = append(t.ids, id)
		t.links[id] = &link{
			id:   id,
			to:   map[env.NodeID]netip.AddrPort{},
			from: map[netip.AddrPort]env.NodeID{},
		}
	}
	slices.Sort(t.ids)
	return t, nil
}

// setPeers checks cfg.Peers and records them on the links. It must run
// before start: the readers use the result without locks.
func (t *Transport) setPeers(cfg Config) error {
	seen := map[env.NodeID]bool{}
	for _, p := range cfg.Peers {
		if p.Node == 0 {
			return errors.New("udp: a peer has node id zero")
		}
		if seen[p.Node] {
			return fmt.Errorf("udp: node %d listed twice in Peers", p.Node)
		}
		seen[p.Node] = true
		if p.Node == cfg.Self {
			continue
		}
		for id, ap := range p.Addrs {
			if err := t.addPeer(cfg, id, p.Node, ap); err != nil {
				return err
			}
		}
	}
	for _, id := range t.ids {
		l := t.links[id]
		for n := range l.to {
			l.peers = append(l.peers, n)
		}
		slices.Sort(l.peers)
	}
	return nil
}

// bind opens every link's socket, or none.
func (t *Transport) bind(cfg Config) error {
	for _, id := range t.ids {
		l := t.links[id]
		ua := net.UDPAddrFromAddrPort(unmap(cfg.Listen[id]))
		conn, err := net.ListenUDP(network(ua.AddrPort().Addr()), ua)
		if err == nil && cfg.SocketBuffer > 0 {
			err = errors.Join(conn.SetReadBuffer(cfg.SocketBuffer), conn.SetWriteBuffer(cfg.SocketBuffer))
			if err != nil {
				conn.Close()
			}
		}
		if err != nil {
			t.closeSockets()
			return fmt.Errorf("udp: link %d: bind %s: %w", id, cfg.Listen[id], err)
		}
		l.conn = conn
		l.local = unmap(conn.LocalAddr().(*net.UDPAddr).AddrPort())
	}
	return nil
}

// start runs one reader per socket.
func (t *Transport) start() {
	for _, id := range t.ids {
		t.wg.Add(1)
		go t.read(t.links[id])
	}
}

func (t *Transport) addPeer(cfg Config, id env.LinkID, node env.NodeID, ap netip.AddrPort) error {
	l := t.link(id)
	if l == nil {
		return fmt.Errorf("udp: node %d has an address on link %d, which this node does not listen on", node, id)
	}
	ap = unmap(ap)
	listen := unmap(cfg.Listen[id]).Addr()
	switch {
	case !ap.Addr().IsValid() || ap.Addr().IsUnspecified():
		return fmt.Errorf("udp: link %d: node %d has no usable address (%s)", id, node, ap)
	case ap.Port() == 0:
		return fmt.Errorf("udp: link %d: node %d address %s has no port", id, node, ap)
	case listen.Is4() && !ap.Addr().Is4():
		return fmt.Errorf("udp: link %d: node %d address %s is IPv6 but the link listens on IPv4 %s", id, node, ap, listen)
	case listen.Is6() && !listen.IsUnspecified() && !ap.Addr().Is6():
		return fmt.Errorf("udp: link %d: node %d address %s is IPv4 but the link listens on IPv6 %s", id, node, ap, listen)
	}
	key := sourceKey(ap)
	if other, dup := l.from[key]; dup {
		return fmt.Errorf("udp: link %d: nodes %d and %d share address %s", id, other, node, ap)
	}
	if key == sourceKey(cfg.Listen[id]) {
		return fmt.Errorf("udp: link %d: node %d has this node's own address %s", id, node, ap)
	}
	l.from[key] = node
	l.to[node] = ap
	return nil
}

// network picks the socket family: IPv4 for an IPv4 address, IPv6 for a
// specific IPv6 one, and a dual-stack socket for "::".
func network(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.Is4():
		return "udp4"
	case a.IsUnspecified():
		return "udp"
	}
	return "udp6"
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// sourceKey normalises an address for matching sources against peers:
// IPv4-mapped IPv6 (from a dual-stack socket) becomes IPv4, and the zone is
// dropped, since the kernel names it by index and the configuration by name.
func sourceKey(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())
}

// Links lists the node's links in ascending order.
func (t *Transport) Links() []env.LinkID { return slices.Clone(t.ids) }

// LocalAddr returns the address link's socket is bound to (with the port the
// OS chose, if Listen said 0), or the zero AddrPort for an unknown link.
func (t *Transport) LocalAddr(link env.LinkID) netip.AddrPort {
	if l := t.link(link); l != nil {
		return l.local
	}
	return netip.AddrPort{}
}

func (t *Transport) link(id env.LinkID) *link {
	if int(id) >= env.MaxLinks {
		return nil
	}
	return t.links[id]
}

// check validates a frame for link, the part of Send and Broadcast that may
// return an error.
func (t *Transport) check(id env.LinkID, frame []byte) (*link, error) {
	if len(frame) > t.maxFrame {
		return nil, fmt.Errorf("%w: %d bytes", env.ErrFrameTooLarge, len(frame))
	}
	l := t.link(id)
	if l == nil {
		return nil, fmt.Errorf("%w %d", env.ErrUnknownLink, id)
	}
	if t.closed.Load() {
		return nil, ErrClosed
	}
	return l, nil
}

// Send writes frame to node to on link. A peer with no address on link is a
// lost frame (Stats.NoRoute), as in the simulator; a node not in Peers is
// ErrUnknownNode. Frames to Self are looped back through the loop. Socket
// errors other than the transport being closed are counted, not returned.
func (t *Transport) Send(id env.LinkID, to env.NodeID, frame []byte) error {
	l, err := t.check(id, frame)
	if err != nil {
		return err
	}
	if to == t.self {
		if !l.reserve(t.queueMax, t.queueBytes, int64(len(frame))) {
			l.c.queueFull.Add(1)
			return nil
		}
		l.c.sent.Add(1)
		t.post(l, to, append([]byte(nil), frame...), t.clock.Mono())
		return nil
	}
	ap, ok := l.to[to]
	if !ok {
		if t.known(to) {
			l.c.noRoute.Add(1)
			return nil
		}
		return fmt.Errorf("%w %d", env.ErrUnknownNode, to)
	}
	return t.write(l, to, ap, frame)
}

// known reports whether node has an address on any link.
func (t *Transport) known(node env.NodeID) bool {
	for _, id := range t.ids {
		if _, ok := t.links[id].to[node]; ok {
			return true
		}
	}
	return false
}

// Broadcast writes frame to every peer with an address on link, in node id
// order.
func (t *Transport) Broadcast(id env.LinkID, frame []byte) error {
	l, err := t.check(id, frame)
	if err != nil {
		return err
	}
	for _, n := range l.peers {
		if err := t.write(l, n, l.to[n], frame); err != nil {
			return err
		}
	}
	return nil
}

func (t *Transport) write(l *link, to env.NodeID, ap netip.AddrPort, frame []byte) error {
	limit := maxUDPPayload6
	if ap.Addr().Is4() {
		limit = maxUDPPayload4
	}
	if len(frame) > limit {
		return fmt.Errorf("%w: %d bytes, more than the %d one UDP datagram to %s carries", env.ErrFrameTooLarge, len(frame), limit, ap)
	}
	if l.isBlocked(to) {
		l.c.blocked.Add(1)
		return nil
	}
	// An unconnected UDP write does not wait for the peer: it copies the
	// frame into the kernel and returns, so the loop is not held up.
	_, err := l.conn.WriteToUDPAddrPort(frame, ap)
	if err == nil {
		l.c.sent.Add(1)
		return nil
	}
	if errors.Is(err, net.ErrClosed) {
		return ErrClosed
	}
	if n := l.c.sendErrors.Add(1); isPowerOfTwo(n) {
		t.log.Warn("udp: send failed; frame dropped", "link", l.id, "to", to, "addr", ap, "err", err, "send_errors", n)
	}
	return nil
}

// SetReceiver installs r for every frame that arrives from now on; frames
// arriving with no receiver are dropped (Stats.NoReceiver).
func (t *Transport) SetReceiver(r env.Receiver) {
	if r == nil {
		t.recv.Store(nil)
		return
	}
	t.recv.Store(&r)
}

// read is link l's reader goroutine: it runs until Close.
func (t *Transport) read(l *link) {
	defer t.wg.Done()
	buf := make([]byte, t.maxFrame+1) // one more byte shows truncation
	var backoff time.Duration
	for {
		n, src, err := l.conn.ReadFromUDPAddrPort(buf)
		at := t.clock.Mono()
		if err != nil {
			if t.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// ECONNREFUSED and friends can surface here (queued ICMP
			// errors); they say nothing about the next datagram. Back off
			// only if errors persist, so a broken socket does not spin.
			if c := l.c.readErr.Add(1); isPowerOfTwo(c) {
				t.log.Warn("udp: read failed", "link", l.id, "err", err, "read_errors", c)
			}
			backoff = min(max(2*backoff, time.Millisecond), 100*time.Millisecond)
			if !t.sleep(backoff) {
				return
			}
			continue
		}
		backoff = 0
		t.receive(l, buf[:n], src, at)
	}
}

// sleep waits d or until Close, reporting false on Close.
func (t *Transport) sleep(d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-t.done:
		return false
	case <-tm.C:
		return true
	}
}

// receive handles one datagram read from l: drop it, or copy it and post it
// to the loop.
func (t *Transport) receive(l *link, data []byte, src netip.AddrPort, at env.Mono) {
	if len(data) > t.maxFrame {
		l.c.oversize.Add(1)
		return
	}
	from, ok := l.from[sourceKey(src)]
	if !ok {
		if c := l.c.unknown.Add(1); isPowerOfTwo(c) {
			t.log.Warn("udp: dropped datagram from an address not in the nodelist", "link", l.id, "src", src, "unknown", c)
		}
		return
	}
	if l.isBlocked(from) {
		l.c.blocked.Add(1)
		return
	}
	if !l.reserve(t.queueMax, t.queueBytes, int64(len(data))) {
		l.c.queueFull.Add(1)
		return
	}
	t.post(l, from, append([]byte(nil), data...), at)
}

// post hands one frame, already counted in l.pending, to the loop.
func (t *Transport) post(l *link, from env.NodeID, frame []byte, at env.Mono) {
	l.c.received.Add(1)
	t.loop.Post(func() {
		l.pending.Add(-1)
		l.pendingBytes.Add(-int64(len(frame)))
		r := t.recv.Load()
		if r == nil || t.closed.Load() {
			l.c.noReceiver.Add(1)
			return
		}
		l.c.delivered.Add(1)
		(*r)(l.id, from, frame, at)
	})
}

// reserve takes one of the max places, and size of the maxBytes, for
// frames waiting for the loop. Bytes are taken first, so the frame count a
// reader of Stats sees never exceeds max, even for a moment.
func (l *link) reserve(max, maxBytes, size int64) bool {
	for {
		b := l.pendingBytes.Load()
		if b+size > maxBytes {
			return false
		}
		if l.pendingBytes.CompareAndSwap(b, b+size) {
			break
		}
	}
	for {
		p := l.pending.Load()
		if p >= max {
			l.pendingBytes.Add(-size)
			return false
		}
		if l.pending.CompareAndSwap(p, p+1) {
			return true
		}
	}
}

func isPowerOfTwo(n uint64) bool { return n&(n-1) == 0 }

// Block drops every frame to and from peer on link until Unblock: a cut
// link, without root or firewall rules. Unknown links are ignored.
func (t *Transport) Block(link env.LinkID, peer env.NodeID) { t.setBlocked(link, peer, true) }

// Unblock undoes Block.
func (t *Transport) Unblock(link env.LinkID, peer env.NodeID) { t.setBlocked(link, peer, false) }

func (t *Transport) setBlocked(id env.LinkID, peer env.NodeID, on bool) {
	l := t.link(id)
	if l == nil {
		return
	}
	l.blockMu.Lock()
	defer l.blockMu.Unlock()
	next := map[env.NodeID]struct{}{}
	if cur := l.blocked.Load(); cur != nil {
		for n := range *cur {
			next[n] = struct{}{}
		}
	}
	if on {
		next[peer] = struct{}{}
	} else {
		delete(next, peer)
	}
	if len(next) == 0 {
		l.blocked.Store(nil)
		return
	}
	l.blocked.Store(&next)
}

func (l *link) isBlocked(peer env.NodeID) bool {
	m := l.blocked.Load()
	if m == nil {
		return false
	}
	_, ok := (*m)[peer]
	return ok
}

// Close stops the readers, waits for them and closes the sockets. Frames
// already posted to the loop are dropped when they run. It is idempotent
// and safe from any goroutine, including the loop.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		t.closed.Store(true)
		close(t.done)
		t.closeErr = t.closeSockets()
		t.wg.Wait()
	})
	return t.closeErr
}

// closeSockets closes every bound socket, which wakes its reader with
// net.ErrClosed.
func (t *Transport) closeSockets() error {
	var errs []error
	for _, id := range t.ids {
		if l := t.links[id]; l.conn != nil {
			if err := l.conn.Close(); err != nil {
				errs = append(errs, fmt.Errorf("udp: link %d: close: %w", id, err))
			}
		}
	}
	return errors.Join(errs...)
}
