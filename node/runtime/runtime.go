// Package runtime is the production Env adapter: real time, the event loop
// that serialises every input of a node, and files on a real disk.
//
// It is one of the few packages allowed to read the clock, draw OS
// randomness and start goroutines (see the determinism guard in
// internal/detguard). Everything here hands work into the node's loop; no
// node logic lives here.
package runtime

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hakit/hakit/node/env"
)

// Loop is a node's event loop: a queue of functions run one at a time, in
// the order they were posted, by the goroutine that called Run.
type Loop struct {
	mu      sync.Mutex
	queue   []func()
	wake    chan struct{}
	running bool
	closed  bool
}

var _ env.Loop = (*Loop)(nil)

// NewLoop returns an idle loop; nothing runs until Run is called. The zero
// Loop is not usable.
func NewLoop() *Loop {
	return &Loop{wake: make(chan struct{}, 1)}
}

// Post queues f. It is safe from any goroutine, including the loop itself,
// and never blocks. Functions posted after Run has returned are dropped.
func (l *Loop) Post(f func()) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.queue = append(l.queue, f)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default: // a wake-up is already pending; Run drains the whole queue
	}
}

// Run runs posted functions until ctx is done, then returns ctx.Err(). The
// queue is drained in batches so that a burst of posts costs one wake-up;
// functions posted while a batch runs go into the next batch, which keeps the
// posting order.
//
// Run may be called once: a second call returns an error at once, since two
// goroutines running events would break the one-at-a-time contract.
func (l *Loop) Run(ctx context.Context) error {
	l.mu.Lock()
	if l.running || l.closed || l.wake == nil {
		l.mu.Unlock()
		return errors.New("runtime: Loop.Run called twice or on a Loop not made by NewLoop")
	}
	l.running = true
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.closed = true
		l.queue = nil
		l.mu.Unlock()
	}()
	var batch []func()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.wake:
		}
		l.mu.Lock()
		batch, l.queue = l.queue, batch[:0]
		l.mu.Unlock()
		for i, f := range batch {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			f()
			batch[i] = nil // let the closure be collected
		}
	}
}

// Clock is the real clock. Mono counts from NewClock; timer callbacks are
// posted to the loop, so they run there and nowhere else.
type Clock struct {
	start time.Time
	loop  env.Loop
}

var _ env.Clock = (*Clock)(nil)

// NewClock returns a clock whose Mono starts at zero now and whose timers
// fire on loop.
func NewClock(loop env.Loop) *Clock {
	return &Clock{start: time.Now(), loop: loop}
}

// Now returns the wall time.
func (c *Clock) Now() time.Time { return time.Now() }

// Mono returns the time since NewClock on the OS monotonic clock (Go's
// time.Since uses the monotonic reading, so wall-clock steps do not show).
func (c *Clock) Mono() env.Mono { return env.Mono(time.Since(c.start)) }

// AfterFunc arms a real timer that posts f to the loop when it expires.
func (c *Clock) AfterFunc(d time.Duration, f func()) env.Timer {
	t := &timer{f: f}
	t.real = time.AfterFunc(d, func() { c.loop.Post(t.fire) })
	return t
}

// timer's state is touched only on the loop (fire runs there, and Stop is
// called there by contract), so Stop's answer is exact even when the real
// timer has already expired and its post is still queued.
type timer struct {
	real  *time.Timer
	f     func()
	state timerState
}

type timerState uint8

const (
	timerPending timerState = iota
	timerFired
	timerStopped
)

func (t *timer) fire() {
	if t.state != timerPending {
		return
	}
	t.state = timerFired
	f := t.f
	t.f = nil
	f()
}

func (t *timer) Stop() bool {
	if t.state != timerPending {
		return false
	}
	t.state = timerStopped
	t.f = nil
	t.real.Stop()
	return true
}

// RandSource returns an Env.Rand whose root seed comes from the OS once, so
// production nodes do not share streams, while each label still gets its
// own stream as in the simulator.
func RandSource() func(label string) *rand.Rand {
	var seed [8]byte
	crand.Read(seed[:]) // never fails on Linux (getrandom)
	root := binary.LittleEndian.Uint64(seed[:])
	return func(label string) *rand.Rand { return env.DeriveRand(root, label) }
}

// NewEnv assembles a production Env around loop: real clock, OS-seeded
// random streams, Buggify off.
func NewEnv(node env.NodeID, loop *Loop, tr env.Transport, disk env.Disk, log *slog.Logger) env.Env {
	return env.Env{
		Node:      node,
		Clock:     NewClock(loop),
		Transport: tr,
		Disk:      disk,
		Loop:      loop,
		Rand:      RandSource(),
		Buggify:   env.Never,
		Log:       log,
	}
}
