package udp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hakit/hakit/node/env"
	hrt "github.com/hakit/hakit/node/runtime"
)

// All traffic in these tests stays on 127.0.0.1 and ::1, on ports the OS
// chooses. Waits have a generous deadline so a slow machine fails loudly
// rather than hangs; no assertion depends on how fast anything is.
const patience = 20 * time.Second

var (
	lo4 = netip.MustParseAddrPort("127.0.0.1:0")
	lo6 = netip.MustParseAddrPort("[::1]:0")
)

type rx struct {
	link  env.LinkID
	from  env.NodeID
	frame []byte
	at    env.Mono
	now   env.Mono // Clock.Mono when the receiver ran
}

// node is one Transport with its own real loop and clock.
type node struct {
	tr    *Transport
	loop  *hrt.Loop
	clock *hrt.Clock
	rx    chan rx
}

// newLoop runs a real loop until the test ends.
func newLoop(t *testing.T) (*hrt.Loop, *hrt.Clock) {
	t.Helper()
	loop := hrt.NewLoop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return loop, hrt.NewClock(loop)
}

// onLoop runs f on loop and waits for it.
func onLoop(t *testing.T, loop env.Loop, f func()) {
	t.Helper()
	done := make(chan struct{})
	loop.Post(func() { f(); close(done) })
	select {
	case <-done:
	case <-time.After(patience):
		t.Fatal("the loop did not run a posted function")
	}
}

// listen returns a Config for node self with one socket per address in
// addrs (link i on addrs[i]), on a fresh real loop and clock.
func listenConfig(t *testing.T, self env.NodeID, addrs ...netip.AddrPort) Config {
	t.Helper()
	loop, clock := newLoop(t)
	cfg := Config{Self: self, Listen: map[env.LinkID]netip.AddrPort{}, Loop: loop, Clock: clock}
	for i, a := range addrs {
		cfg.Listen[env.LinkID(i)] = a
	}
	return cfg
}

// openMesh opens one Transport per config, each listing all the others as
// peers at the addresses the OS gave them. Peers are only known once every
// socket is bound, so this goes through Open's steps one by one.
func openMesh(t *testing.T, cfgs ...Config) []*node {
	t.Helper()
	nodes := make([]*node, len(cfgs))
	for i, cfg := range cfgs {
		tr, err := newTransport(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.bind(cfg); err != nil {
			t.Fatal(err)
		}
		nodes[i] = &node{tr: tr, loop: cfg.Loop.(*hrt.Loop), clock: cfg.Clock.(*hrt.Clock), rx: make(chan rx, 1024)}
	}
	for i, cfg := range cfgs {
		for j, other := range nodes {
			if j != i {
				addrs := addrsOf(other.tr)
				for l := range addrs {
					if _, ok := cfg.Listen[l]; !ok {
						delete(addrs, l) // only links both have
					}
				}
				cfg.Peers = append(cfg.Peers, Peer{Node: cfgs[j].Self, Addrs: addrs})
			}
		}
		n := nodes[i]
		if err := n.tr.setPeers(cfg); err != nil {
			t.Fatal(err)
		}
		n.tr.start()
		t.Cleanup(func() { n.tr.Close() })
		onLoop(t, n.loop, func() { n.tr.SetReceiver(n.receiver()) })
	}
	return nodes
}

func addrsOf(tr *Transport) map[env.LinkID]netip.AddrPort {
	m := map[env.LinkID]netip.AddrPort{}
	for _, l := range tr.Links() {
		m[l] = tr.LocalAddr(l)
	}
	return m
}

func (n *node) receiver() env.Receiver {
	return func(link env.LinkID, from env.NodeID, frame []byte, at env.Mono) {
		n.rx <- rx{link, from, frame, at, n.clock.Mono()}
	}
}

// send calls Send on n's loop, as the node would.
func (n *node) send(t *testing.T, link env.LinkID, to env.NodeID, frame []byte) error {
	t.Helper()
	var err error
	onLoop(t, n.loop, func() { err = n.tr.Send(link, to, frame) })
	return err
}

func (n *node) broadcast(t *testing.T, link env.LinkID, frame []byte) error {
	t.Helper()
	var err error
	onLoop(t, n.loop, func() { err = n.tr.Broadcast(link, frame) })
	return err
}

func (n *node) next(t *testing.T) rx {
	t.Helper()
	select {
	case r := <-n.rx:
		return r
	case <-time.After(patience):
		t.Fatalf("no frame arrived; stats %+v", n.tr.Stats())
		return rx{}
	}
}

// noMore checks that nothing else was delivered. It is only meaningful
// once stats show every datagram in question was accounted for.
func (n *node) noMore(t *testing.T) {
	t.Helper()
	onLoop(t, n.loop, func() {}) // frames already posted have run
	select {
	case r := <-n.rx:
		t.Errorf("unexpected frame %q on link %d from %d", r.frame, r.link, r.from)
	default:
	}
}

// eventually polls cond until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func ipv6Loopback(t *testing.T) bool {
	c, err := net.ListenUDP("udp6", net.UDPAddrFromAddrPort(lo6))
	if err != nil {
		t.Logf("no IPv6 loopback (%v): link 1 uses 127.0.0.1 too", err)
		return false
	}
	c.Close()
	return true
}

// plainSocket is a bare UDP socket on loopback, not a Transport.
func plainSocket(t *testing.T, at netip.AddrPort) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(at))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func addrOf(c *net.UDPConn) netip.AddrPort {
	return unmap(c.LocalAddr().(*net.UDPAddr).AddrPort())
}

func TestTwoNodesExchangeFramesOnTwoLinks(t *testing.T) {
	link1 := lo4
	if ipv6Loopback(t) {
		link1 = lo6
	}
	nodes := openMesh(t, listenConfig(t, 1, lo4, link1), listenConfig(t, 2, lo4, link1))
	a, b := nodes[0], nodes[1]

	if got := a.tr.Links(); len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Fatalf("Links() = %v, want [0 1]", got)
	}
	for _, l := range a.tr.Links() {
		if a.tr.LocalAddr(l).Port() == 0 {
			t.Errorf("LocalAddr(%d) = %v, want the port the OS chose", l, a.tr.LocalAddr(l))
		}
	}

	buf := []byte("a->b link 0")
	if err := a.send(t, 0, 2, buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXXXXX") // the caller may reuse its buffer once Send returns
	if err := a.send(t, 1, 2, []byte("a->b link 1")); err != nil {
		t.Fatal(err)
	}
	if err := b.broadcast(t, 0, []byte("b bcast 0")); err != nil {
		t.Fatal(err)
	}
	if err := b.broadcast(t, 1, []byte("b bcast 1")); err != nil {
		t.Fatal(err)
	}

	// Datagrams on different sockets may arrive in any order.
	gotB := map[string]rx{}
	for range 2 {
		r := b.next(t)
		gotB[string(r.frame)] = r
	}
	gotA := map[string]rx{}
	for range 2 {
		r := a.next(t)
		gotA[string(r.frame)] = r
	}
	check := func(got map[string]rx, frame string, link env.LinkID, from env.NodeID) {
		t.Helper()
		r, ok := got[frame]
		if !ok {
			t.Errorf("frame %q not received; got %v", frame, got)
			return
		}
		if r.link != link || r.from != from {
			t.Errorf("frame %q came on link %d from %d, want link %d from %d", frame, r.link, r.from, link, from)
		}
		if r.at <= 0 || r.at > r.now {
			t.Errorf("frame %q stamped at %v, delivered at %v: want 0 < at <= now", frame, r.at, r.now)
		}
	}
	check(gotB, "a->b link 0", 0, 1)
	check(gotB, "a->b link 1", 1, 1)
	check(gotA, "b bcast 0", 0, 2)
	check(gotA, "b bcast 1", 1, 2)

	for _, n := range nodes {
		for _, s := range n.tr.Stats().Links {
			if s.Sent != 1 || s.Received != 1 || s.Delivered != 1 || s.Dropped() != 0 || s.Queued != 0 {
				t.Errorf("link %d stats %+v, want one sent, one received and delivered, nothing dropped", s.Link, s)
			}
		}
	}
}

func TestReceivedFramesAreTheReceiversToKeep(t *testing.T) {
	nodes := openMesh(t, listenConfig(t, 1, lo4), listenConfig(t, 2, lo4))
	a, b := nodes[0], nodes[1]
	want := [][]byte{bytes.Repeat([]byte{'x'}, 1000), []byte("short"), {}, bytes.Repeat([]byte{'y'}, maxUDPPayload4)}
	for _, f := range want {
		if err := a.send(t, 0, 2, f); err != nil {
			t.Fatal(err)
		}
	}
	var got [][]byte
	for range want {
		got = append(got, b.next(t).frame) // read buffer reused meanwhile
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("frame %d: got %d bytes, want %d (loopback keeps order on one socket)", i, len(got[i]), len(want[i]))
		}
	}
}

func TestUnlistedSourceIsDroppedAndCounted(t *testing.T) {
	nodes := openMesh(t, listenConfig(t, 1, lo4), listenConfig(t, 2, lo4))
	a, b := nodes[0], nodes[1]

	// Same IP as node 2, different port: still not node 2.
	stranger := plainSocket(t, lo4)
	for range 3 {
		if _, err := stranger.WriteToUDPAddrPort([]byte("let me in"), a.tr.LocalAddr(0)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "3 unknown-source drops", func() bool { return a.tr.Stats().Link(0).Unknown == 3 })

	if err := b.send(t, 0, 1, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if r := a.next(t); string(r.frame) != "hello" || r.from != 2 {
		t.Errorf("got %q from %d, want hello from 2", r.frame, r.from)
	}
	a.noMore(t)
	if s := a.tr.Stats().Link(0); s.Received != 1 || s.Unknown != 3 || s.Dropped() != 3 {
		t.Errorf("stats %+v, want 1 received, 3 unknown", s)
	}
}

func TestOversizeFramesAreRefused(t *testing.T) {
	nodes := openMesh(t, listenConfig(t, 1, lo4), listenConfig(t, 2, lo4))
	a := nodes[0]
	for _, size := range []int{env.MaxFrameSize + 1, maxUDPPayload4 + 1} {
		big := make([]byte, size)
		if err := a.send(t, 0, 2, big); !errors.Is(err, env.ErrFrameTooLarge) {
			t.Errorf("Send of %d bytes: %v, want ErrFrameTooLarge", size, err)
		}
		if err := a.broadcast(t, 0, big); !errors.Is(err, env.ErrFrameTooLarge) {
			t.Errorf("Broadcast of %d bytes: %v, want ErrFrameTooLarge", size, err)
		}
	}
	if s := a.tr.Stats().Link(0); s.Sent != 0 {
		t.Errorf("refused frames were sent: %+v", s)
	}
}

// No real datagram is larger than env.MaxFrameSize, so the receive side is
// checked against a smaller limit.
func TestOversizeDatagramsAreDroppedOnReceive(t *testing.T) {
	peer := plainSocket(t, lo4)
	cfg := listenConfig(t, 1, lo4)
	cfg.maxFrame = 1000
	cfg.Peers = []Peer{{Node: 2, Addrs: map[env.LinkID]netip.AddrPort{0: addrOf(peer)}}}
	tr, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	got := make(chan []byte, 10)
	onLoop(t, cfg.Loop, func() {
		tr.SetReceiver(func(_ env.LinkID, _ env.NodeID, f []byte, _ env.Mono) { got <- f })
	})
	for _, size := range []int{1001, 5000, 1000} {
		if _, err := peer.WriteToUDPAddrPort(make([]byte, size), tr.LocalAddr(0)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case f := <-got:
		if len(f) != 1000 {
			t.Errorf("delivered %d bytes, want only the 1000-byte frame", len(f))
		}
	case <-time.After(patience):
		t.Fatal("the frame at the limit was not delivered")
	}
	eventually(t, "2 oversize drops", func() bool { return tr.Stats().Link(0).Oversize == 2 })
	if s := tr.Stats().Link(0); s.Received != 1 {
		t.Errorf("stats %+v, want 1 received", s)
	}
}

func TestBlockCutsOnePeerOnOneLink(t *testing.T) {
	nodes := openMesh(t, listenConfig(t, 1, lo4, lo4), listenConfig(t, 2, lo4, lo4))
	a, b := nodes[0], nodes[1]
	a.tr.Block(0, 2)

	if err := a.send(t, 0, 2, []byte("out, blocked")); err != nil {
		t.Fatalf("Send to a blocked peer: %v, want nil (a lost frame)", err)
	}
	if err := b.send(t, 0, 1, []byte("in, blocked")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both directions blocked", func() bool { return a.tr.Stats().Link(0).Blocked == 2 })
	if s := b.tr.Stats().Link(0); s.Received != 0 {
		t.Errorf("node 2 received through the block: %+v", s)
	}

	// Link 1 is not cut.
	if err := b.send(t, 1, 1, []byte("link 1")); err != nil {
		t.Fatal(err)
	}
	if r := a.next(t); string(r.frame) != "link 1" || r.link != 1 {
		t.Errorf("got %q on link %d, want the link 1 frame", r.frame, r.link)
	}
	a.noMore(t)

	a.tr.Unblock(0, 2)
	if err := b.send(t, 0, 1, []byte("unblocked")); err != nil {
		t.Fatal(err)
	}
	if r := a.next(t); string(r.frame) != "unblocked" || r.link != 0 {
		t.Errorf("got %q on link %d after Unblock", r.frame, r.link)
	}
	if err := a.send(t, 0, 2, []byte("back")); err != nil {
		t.Fatal(err)
	}
	if r := b.next(t); string(r.frame) != "back" {
		t.Errorf("got %q after Unblock", r.frame)
	}
}

func closeOnce(c chan struct{}) {
	select {
	case <-c:
	default:
		close(c)
	}
}

// readers counts this package's reader goroutines in the whole process.
func readers() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			// Every goroutine's trace ends with where it was started,
			// whether it has run yet or not.
			return strings.Count(string(buf[:n]), "created by github.com/hakit/hakit/transport/udp.(*Transport).start")
		}
		buf = make([]byte, 2*len(buf))
	}
}

func TestCloseIsPromptIdempotentAndLeavesNoGoroutines(t *testing.T) {
	before := readers()
	nodes := openMesh(t, listenConfig(t, 1, lo4, lo4), listenConfig(t, 2, lo4, lo4))
	a, b := nodes[0], nodes[1]
	if got := readers(); got != before+4 {
		t.Fatalf("%d reader goroutines, want %d", got, before+4)
	}
	// A frame posted but not yet run when Close happens is not delivered.
	hold := make(chan struct{})
	defer closeOnce(hold)
	a.loop.Post(func() { <-hold })
	if err := b.send(t, 0, 1, []byte("late")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the frame to be queued", func() bool { return a.tr.Stats().Link(0).Queued == 1 })

	closed := make(chan error, 1)
	go func() { closed <- a.tr.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(patience):
		t.Fatal("Close did not return while the readers were blocked in read")
	}
	if got := readers(); got != before+2 {
		t.Errorf("%d reader goroutines after closing one transport, want %d", got, before+2)
	}
	closeOnce(hold)
	onLoop(t, a.loop, func() {})
	select {
	case r := <-a.rx:
		t.Errorf("frame %q delivered after Close", r.frame)
	default:
	}
	if s := a.tr.Stats().Link(0); s.NoReceiver != 1 || s.Queued != 0 {
		t.Errorf("stats %+v, want the late frame dropped as NoReceiver", s)
	}

	if err := a.tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := a.send(t, 0, 2, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
	if err := a.broadcast(t, 1, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Broadcast after Close: %v, want ErrClosed", err)
	}
	if err := b.tr.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readers(); got != before {
		t.Errorf("%d reader goroutines after Close, want %d", got, before)
	}
}

func TestFloodStaysBoundedByRecvQueueMax(t *testing.T) {
	// Small frames meet the frame bound; large ones the byte bound first
	// (8 KiB frames, 64 KiB: at most 8 waiting).
	t.Run("frames", func(t *testing.T) { floodTest(t, 64, 0, 100, 64) })
	t.Run("bytes", func(t *testing.T) { floodTest(t, 1024, 64<<10, 8<<10, 8) })
}

// floodTest floods a transport whose loop is stuck and checks that at most
// wantMax frames wait.
func floodTest(t *testing.T, queueMax, queueBytes, frameSize int, wantMax uint64) {
	const flood = 100_000
	peer := plainSocket(t, lo4)
	cfg := listenConfig(t, 1, lo4)
	cfg.RecvQueueMax, cfg.RecvQueueBytes = queueMax, queueBytes
	cfg.Peers = []Peer{{Node: 2, Addrs: map[env.LinkID]netip.AddrPort{0: addrOf(peer)}}}
	tr, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()

	// The slowest receiver: the first frame holds the loop until the
	// flood is over, so nothing more runs and every later frame must
	// either wait in the bounded queue or be dropped.
	release := make(chan struct{})
	defer closeOnce(release) // never leave the loop stuck, even on failure
	var delivered int
	onLoop(t, cfg.Loop, func() {
		tr.SetReceiver(func(env.LinkID, env.NodeID, []byte, env.Mono) {
			if delivered == 0 {
				<-release
			}
			delivered++
		})
	})
	dst := tr.LocalAddr(0)
	frame := make([]byte, frameSize)
	for i := range flood {
		frame[0], frame[1], frame[2] = byte(i), byte(i>>8), byte(i>>16)
		if _, err := peer.WriteToUDPAddrPort(frame, dst); err != nil {
			t.Fatal(err) // loopback drops when the socket is full; it does not fail
		}
		if i%1000 == 0 {
			if s := tr.Stats().Link(0); uint64(s.Queued) > wantMax || s.Received > wantMax+1 {
				t.Fatalf("after %d datagrams: %+v exceeds the bound of %d frames", i, s, wantMax)
			}
		}
	}
	eventually(t, "the queue to overflow", func() bool { return tr.Stats().Link(0).QueueFull > 0 })
	s := tr.Stats().Link(0)
	// One frame is running (held), at most queueMax are waiting.
	if uint64(s.Queued) > wantMax || s.Received > wantMax+1 {
		t.Fatalf("%+v exceeds the bound of %d frames", s, wantMax)
	}
	t.Logf("%d datagrams sent, %d read: %d queued, %d dropped (queue full)", flood, s.Received+s.QueueFull, s.Received, s.QueueFull)

	closeOnce(release)
	eventually(t, "the queue to drain", func() bool { s := tr.Stats().Link(0); return s.Queued == 0 && s.Delivered == s.Received })
	onLoop(t, cfg.Loop, func() {
		if uint64(delivered) != tr.Stats().Link(0).Delivered {
			t.Errorf("receiver ran %d times, stats say %d", delivered, tr.Stats().Link(0).Delivered)
		}
	})
}

func TestSendToDeadPeerDoesNotBreakTheTransport(t *testing.T) {
	// A port that was bound and closed: the kernel answers ICMP port
	// unreachable, the ECONNREFUSED of a dead peer.
	gone := plainSocket(t, lo4)
	deadAddr := addrOf(gone)
	gone.Close()

	cfgs := []Config{listenConfig(t, 1, lo4), listenConfig(t, 2, lo4)}
	nodes := openMeshWithExtra(t, cfgs, Peer{Node: 3, Addrs: map[env.LinkID]netip.AddrPort{0: deadAddr}})
	a, b := nodes[0], nodes[1]
	for i := range 200 {
		if err := a.send(t, 0, 3, []byte("anyone?")); err != nil {
			t.Fatalf("Send %d to a dead peer: %v", i, err)
		}
		if err := a.broadcast(t, 0, []byte("all")); err != nil {
			t.Fatalf("Broadcast %d with a dead peer: %v", i, err)
		}
	}
	for range 200 {
		if r := b.next(t); string(r.frame) != "all" {
			t.Fatalf("got %q", r.frame)
		}
	}
	if err := b.send(t, 0, 1, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if r := a.next(t); string(r.frame) != "still here" {
		t.Fatalf("got %q", r.frame)
	}
	t.Logf("node 1 link 0: %+v", a.tr.Stats().Link(0))

	// A write the kernel refuses (port 0 is EINVAL, and sends nothing
	// anywhere) is counted, not returned, like ECONNREFUSED would be.
	onLoop(t, a.loop, func() { a.tr.links[0].to[3] = netip.AddrPortFrom(deadAddr.Addr(), 0) })
	if err := a.send(t, 0, 3, []byte("x")); err != nil {
		t.Fatalf("Send with a failing write: %v, want nil", err)
	}
	if s := a.tr.Stats().Link(0); s.SendErrors != 1 {
		t.Errorf("stats %+v, want 1 send error", s)
	}
	if err := a.send(t, 0, 2, []byte("after")); err != nil {
		t.Fatal(err)
	}
	if r := b.next(t); string(r.frame) != "after" {
		t.Fatalf("got %q", r.frame)
	}
}

// openMeshWithExtra is openMesh with one more peer, not a Transport, known
// to the first node.
func openMeshWithExtra(t *testing.T, cfgs []Config, extra Peer) []*node {
	t.Helper()
	cfgs[0].Peers = append(cfgs[0].Peers, extra)
	return openMesh(t, cfgs...)
}

func TestSendAddressing(t *testing.T) {
	nodes := openMesh(t, listenConfig(t, 1, lo4, lo4), listenConfig(t, 2, lo4))
	a := nodes[0]
	if err := a.send(t, 0, 9, []byte("x")); !errors.Is(err, env.ErrUnknownNode) {
		t.Errorf("Send to a node not in Peers: %v, want ErrUnknownNode", err)
	}
	if err := a.send(t, 5, 2, []byte("x")); !errors.Is(err, env.ErrUnknownLink) {
		t.Errorf("Send on a link this node lacks: %v, want ErrUnknownLink", err)
	}
	if err := a.broadcast(t, 200, []byte("x")); !errors.Is(err, env.ErrUnknownLink) {
		t.Errorf("Broadcast on link 200: %v, want ErrUnknownLink", err)
	}
	// Node 2 has no address on link 1: a lost frame, as in the simulator.
	if err := a.send(t, 1, 2, []byte("x")); err != nil {
		t.Errorf("Send to a peer with no address on the link: %v, want nil", err)
	}
	if s := a.tr.Stats().Link(1); s.NoRoute != 1 || s.Sent != 0 {
		t.Errorf("link 1 stats %+v, want one NoRoute", s)
	}
	// To itself: looped back through the loop.
	if err := a.send(t, 1, 1, []byte("me")); err != nil {
		t.Fatal(err)
	}
	if r := a.next(t); string(r.frame) != "me" || r.from != 1 || r.link != 1 {
		t.Errorf("self frame %+v", r)
	}
}

func TestOpenRejectsBadConfigs(t *testing.T) {
	loop, clock := newLoop(t)
	p := func(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
	base := func() Config {
		return Config{Self: 1, Loop: loop, Clock: clock, Listen: map[env.LinkID]netip.AddrPort{0: lo4}}
	}
	taken := plainSocket(t, lo4)
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no self", func(c *Config) { c.Self = 0 }, "Self"},
		{"no loop", func(c *Config) { c.Loop = nil }, "Loop"},
		{"no clock", func(c *Config) { c.Clock = nil }, "Clock"},
		{"no links", func(c *Config) { c.Listen = nil }, "no link"},
		{"link 8", func(c *Config) { c.Listen[8] = lo4 }, "link 8"},
		{"peer on a link we lack", func(c *Config) {
			c.Peers = []Peer{{Node: 2, Addrs: map[env.LinkID]netip.AddrPort{1: p("127.0.0.1:5406")}}}
		}, "link 1"},
		{"duplicate address", func(c *Config) {
			c.Peers = []Peer{
				{Node: 2, Addrs: map[env.LinkID]netip.AddrPort{0: p("127.0.0.1:5405")}},
				{Node: 3, Addrs: map[env.LinkID]netip.AddrPort{0: p("127.0.0.1:5405")}},
			}
		}, "share address"},
		{"duplicate node", func(c *Config) { c.Peers = []Peer{{Node: 2}, {Node: 2}} }, "twice"},
		{"peer without port", func(c *Config) {
			c.Peers = []Peer{{Node: 2, Addrs: map[env.LinkID]netip.AddrPort{0: p("127.0.0.1:0")}}}
		}, "no port"},
		{"family mismatch", func(c *Config) {
			c.Peers = []Peer{{Node: 2, Addrs: map[env.LinkID]netip.AddrPort{0: p("[::1]:5405")}}}
		}, "IPv6"},
		{"port taken", func(c *Config) { c.Listen[0] = addrOf(taken) }, fmt.Sprintf("link 0: bind %s", addrOf(taken))},
	} {
		cfg := base()
		tc.edit(&cfg)
		tr, err := Open(cfg)
		if err == nil {
			tr.Close()
			t.Errorf("%s: Open succeeded", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not mention %q", tc.name, err, tc.want)
		}
	}
	// The whole nodelist, self included, is fine.
	cfg := base()
	cfg.Peers = []Peer{{Node: 1, Addrs: map[env.LinkID]netip.AddrPort{0: p("127.0.0.1:5405")}}}
	tr, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	if DefaultPort(0) != 5405 || DefaultPort(1) != 5406 {
		t.Errorf("DefaultPort: %d, %d", DefaultPort(0), DefaultPort(1))
	}
}
