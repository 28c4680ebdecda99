package sim

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/hakit/hakit/node/env"
)

// RecvBufferBytes bounds the frames queued for a paused process, like a
// socket's receive buffer (Linux net.core.rmem_default); beyond it frames
// are dropped, as the kernel would.
const RecvBufferBytes = 212992

type procState uint8

const (
	procRunning procState = iota
	procPaused
	procDead
)

func (s procState) String() string { return [...]string{"running", "paused", "dead"}[s] }

// Process is a program running on a host, given an env.Env by the world.
// Every event for it (timers, frames, posts) goes through dispatch, which
// drops events of an earlier incarnation (the process crashed since) and
// holds events while the process is paused.
type Process struct {
	w     *World
	host  *Host
	name  string
	main  func(env.Env)
	state procState
	// incarnation counts starts and kills; an event carries the incarnation
	// it was scheduled in and is dropped if that has passed.
	incarnation uint64
	started     time.Duration
	receiver    env.Receiver
	held        []heldEvent
	heldBytes   int
}

// heldEvent is an event that came due while the process was paused; size
// is the bytes it holds in the receive buffer (zero for timers).
type heldEvent struct {
	fn     func()
	size   int
	onDrop func()
}

// StartProcess starts main on h as a new process named name. main runs as
// the first event of the process, at the current virtual time; it should set
// up timers and a receiver and return. If h has a node id, the process's
// Transport sends and receives as that node.
func (w *World) StartProcess(h *Host, name string, main func(env.Env)) *Process {
	for _, p := range h.procs {
		if p.name == name {
			panic(fmt.Sprintf("sim: %s: duplicate process %s", h.name, name))
		}
	}
	p := &Process{w: w, host: h, name: name, main: main, state: procDead}
	h.procs = append(h.procs, p)
	p.start()
	return p
}

// Name returns host/process.
func (p *Process) Name() string { return p.host.name + "/" + p.name }

// Host returns the host the process runs on.
func (p *Process) Host() *Host { return p.host }

// Alive reports whether the process runs (possibly paused).
func (p *Process) Alive() bool { return p.state != procDead }

// Paused reports whether the process is stopped (SIGSTOP).
func (p *Process) Paused() bool { return p.state == procPaused }

// Started returns the virtual time the current incarnation started: its
// Mono zero.
func (p *Process) Started() time.Duration { return p.started }

// Incarnation counts the process's starts and kills.
func (p *Process) Incarnation() uint64 { return p.incarnation }

func (p *Process) start() {
	if !p.host.powered {
		panic(fmt.Sprintf("sim: cannot start %s: host is powered off", p.Name()))
	}
	p.incarnation++
	p.state = procRunning
	p.started = p.w.now
	p.w.tracef(p.Name(), "proc", "start incarnation=%d", p.incarnation)
	e := p.env()
	p.post(func() { p.main(e) })
}

// Crash kills the process like kill -9: its memory is gone, its timers and
// queued frames with it; its disk writes, even unsynced, stay (the page
// cache belongs to the kernel). Use Host.PowerOff for a machine crash.
func (p *Process) Crash() { p.kill("crash") }

// Restart starts a new incarnation, killing the running one first if there
// is one. The new incarnation's monotonic clock starts at zero.
func (p *Process) Restart() {
	if p.state != procDead {
		p.kill("restart")
	}
	p.start()
}

// Pause stops the process like SIGSTOP: its timers and arriving frames wait
// (frames up to RecvBufferBytes) while its monotonic clock keeps running.
func (p *Process) Pause() {
	if p.state == procRunning {
		p.state = procPaused
		p.w.tracef(p.Name(), "proc", "pause")
	}
}

// Resume continues a paused process (SIGCONT): everything that came due
// while it was stopped runs now, in the order it came due.
func (p *Process) Resume() {
	if p.state != procPaused {
		return
	}
	p.state = procRunning
	p.w.tracef(p.Name(), "proc", "resume held=%d", len(p.held))
	held := p.held
	p.held, p.heldBytes = nil, 0
	inc := p.incarnation
	for _, h := range held {
		p.w.schedule(p.w.now, func() { p.dispatchSized(inc, h) })
	}
}

func (p *Process) kill(reason string) {
	if p.state == procDead {
		return
	}
	p.state = procDead
	p.incarnation++
	p.receiver = nil
	p.held, p.heldBytes = nil, 0
	p.w.tracef(p.Name(), "proc", "killed (%s)", reason)
}

// post schedules fn on the process now, in the current incarnation.
func (p *Process) post(fn func()) {
	inc := p.incarnation
	p.w.schedule(p.w.now, func() { p.dispatch(inc, fn) })
}

func (p *Process) dispatch(inc uint64, fn func()) {
	p.dispatchSized(inc, heldEvent{fn: fn})
}

// dispatchSized runs an event now, or holds it while the process is
// paused; a frame that does not fit the receive buffer is dropped.
func (p *Process) dispatchSized(inc uint64, ev heldEvent) {
	switch {
	case inc != p.incarnation || p.state == procDead:
	case p.state == procPaused:
		if ev.size > 0 && p.heldBytes+ev.size > RecvBufferBytes {
			ev.onDrop()
			return
		}
		p.heldBytes += ev.size
		p.held = append(p.held, ev)
	default:
		ev.fn()
	}
}

func (p *Process) mono() env.Mono { return env.Mono(p.w.now - p.started) }

func (p *Process) receive(link env.LinkID, src *Host, frame []byte) {
	// Stamped at arrival, as the kernel timestamps a datagram, not when a
	// paused process finally reads it.
	at := p.mono()
	p.dispatchSized(p.incarnation, heldEvent{
		size:   max(len(frame), 1),
		onDrop: func() { p.w.drop("rcvbuf-full", src, p.host, link) },
		fn: func() {
			if p.receiver == nil {
				p.w.drop("no-receiver", src, p.host, link)
				return
			}
			p.w.tracef(p.host.name, "recv", "link=%d from=%s len=%d", link, src.name, len(frame))
			p.receiver(link, src.node, frame, at)
		},
	})
}

func (p *Process) env() env.Env {
	inc := p.incarnation
	label := fmt.Sprintf("proc/%s/%s/%d/", p.host.name, p.name, inc)
	return env.Env{
		Node:      p.host.node,
		Clock:     &procClock{p: p, inc: inc},
		Transport: &procTransport{p: p},
		Disk:      p.host.disk,
		Loop:      &procLoop{p: p, inc: inc},
		Rand:      func(l string) *rand.Rand { return env.DeriveRand(p.w.seed, label+l) },
		Buggify:   p.w.buggifyFor(label),
		Log: slog.New(slog.NewTextHandler(&traceWriter{p: p}, &slog.HandlerOptions{
			Level: slog.LevelDebug,
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if len(groups) == 0 && a.Key == slog.TimeKey {
					return slog.Attr{} // the trace line carries virtual time
				}
				return a
			},
		})),
	}
}

type procClock struct {
	p   *Process
	inc uint64
}

func (c *procClock) Now() time.Time { return Epoch.Add(c.p.w.now + c.p.host.skew) }
func (c *procClock) Mono() env.Mono { return c.p.mono() }

func (c *procClock) AfterFunc(d time.Duration, f func()) env.Timer {
	t := &simTimer{f: f}
	p, inc := c.p, c.inc
	p.w.schedule(p.w.now+max(d, 0), func() { p.dispatch(inc, t.fire) })
	return t
}

type simTimer struct {
	f    func()
	done bool // fired or stopped
}

func (t *simTimer) fire() {
	if t.done {
		return
	}
	t.done = true
	f := t.f
	t.f = nil
	f()
}

func (t *simTimer) Stop() bool {
	if t.done {
		return false
	}
	t.done, t.f = true, nil
	return true
}

// procLoop is env.Loop in the simulator, where every caller runs on the
// world's goroutine: nothing else exists to post from.
type procLoop struct {
	p   *Process
	inc uint64
}

func (l *procLoop) Post(f func()) {
	p, inc := l.p, l.inc
	p.w.schedule(p.w.now, func() { p.dispatch(inc, f) })
}

type procTransport struct{ p *Process }

func (t *procTransport) Links() []env.LinkID {
	links := make([]env.LinkID, 0, len(t.p.host.links))
	for l := range t.p.host.links {
		links = append(links, l)
	}
	slices.Sort(links)
	return links
}

func (t *procTransport) check(link env.LinkID, frame []byte) error {
	if len(frame) > env.MaxFrameSize {
		return env.ErrFrameTooLarge
	}
	if t.p.host.links[link] == nil {
		return fmt.Errorf("%w %d on %s", env.ErrUnknownLink, link, t.p.host.name)
	}
	if t.p.host.node == 0 {
		return fmt.Errorf("sim: %s has no node id", t.p.host.name)
	}
	return nil
}

func (t *procTransport) Send(link env.LinkID, to env.NodeID, frame []byte) error {
	if err := t.check(link, frame); err != nil {
		return err
	}
	dst := t.p.w.nodes[to]
	if dst == nil {
		return fmt.Errorf("%w %d", env.ErrUnknownNode, to)
	}
	if dst.links[link] == nil {
		t.p.w.drop("no-route", t.p.host, dst, link)
		return nil
	}
	t.p.w.transmit(t.p.host, dst, link, slices.Clone(frame))
	return nil
}

func (t *procTransport) Broadcast(link env.LinkID, frame []byte) error {
	if err := t.check(link, frame); err != nil {
		return err
	}
	for _, dst := range t.p.w.peersOn(t.p.host, link) {
		t.p.w.transmit(t.p.host, dst, link, slices.Clone(frame))
	}
	return nil
}

func (t *procTransport) SetReceiver(r env.Receiver) {
	t.p.receiver = r
	t.p.host.listener = t.p
}

// traceWriter turns the node's slog records into trace lines.
type traceWriter struct{ p *Process }

func (tw *traceWriter) Write(b []byte) (int, error) {
	tw.p.w.tracef(tw.p.Name(), "log", "%s", strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}
