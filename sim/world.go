package sim

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/hakit/hakit/node/env"
)

// Epoch is the wall-clock time at which every world starts, so that wall
// timestamps in traces do not depend on when a run happens.
var Epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// World is one simulated universe. It is not safe for concurrent use: run
// many worlds in parallel, never one world from many goroutines.
type World struct {
	seed  uint64
	now   time.Duration
	seq   uint64
	queue eventQueue
	steps uint64

	trace *Trace

	hosts    []*Host
	hostName map[string]*Host
	nodes    map[env.NodeID]*Host
	switches []*Switch
	blocked  map[hostPair]bool
	cuts     []cutEpoch
	fifo     map[pathKey]time.Duration // latest arrival scheduled per path
	drops    map[string]uint64

	buggifyOn    bool
	buggifySites map[string]bool
}

// Option configures a World.
type Option func(*World)

// WithTraceWriter makes the world write its trace, one line per event, to
// out as well as hashing it.
func WithTraceWriter(out io.Writer) Option {
	return func(w *World) { w.trace.out = out }
}

// WithBuggify turns BUGGIFY on for every process in the world.
func WithBuggify(on bool) Option {
	return func(w *World) { w.buggifyOn = on }
}

// New returns an empty world at virtual time zero whose every random choice
// derives from seed.
func New(seed uint64, opts ...Option) *World {
	w := &World{
		seed:         seed,
		trace:        newTrace(),
		hostName:     map[string]*Host{},
		nodes:        map[env.NodeID]*Host{},
		blocked:      map[hostPair]bool{},
		fifo:         map[pathKey]time.Duration{},
		drops:        map[string]uint64{},
		buggifySites: map[string]bool{},
	}
	for _, o := range opts {
		o(w)
	}
	w.tracef("world", "seed", "%d", seed)
	return w
}

// Seed returns the root seed.
func (w *World) Seed() uint64 { return w.seed }

// Now returns the virtual time since the world started.
func (w *World) Now() time.Duration { return w.now }

// Steps returns how many events have run.
func (w *World) Steps() uint64 { return w.steps }

// Trace returns the world's trace.
func (w *World) Trace() *Trace { return w.trace }

// Rand returns the stream for a label, derived from the root seed. Scenarios
// draw their fault schedules from their own labels ("faults", "options").
func (w *World) Rand(label string) *rand.Rand { return env.DeriveRand(w.seed, label) }

// After runs fn once d of virtual time has passed. label names the event in
// the trace; an empty label keeps it out of the trace (internal plumbing
// whose effects are traced on their own).
func (w *World) After(d time.Duration, label string, fn func()) {
	w.At(w.now+max(d, 0), label, fn)
}

// At runs fn at virtual time t, or now if t has passed.
func (w *World) At(t time.Duration, label string, fn func()) {
	if label != "" {
		inner := fn
		fn = func() { w.tracef("world", "event", "%s", label); inner() }
	}
	w.schedule(max(t, w.now), fn)
}

func (w *World) schedule(at time.Duration, fn func()) {
	w.seq++
	w.queue.push(event{at: at, seq: w.seq, fn: fn})
}

// Step runs the next event and reports whether there was one.
func (w *World) Step() bool {
	if w.queue.len() == 0 {
		return false
	}
	ev := w.queue.pop()
	w.now = ev.at
	w.steps++
	ev.fn()
	return true
}

// RunUntil runs every event due at or before t, then sets the clock to t.
func (w *World) RunUntil(t time.Duration) {
	for w.queue.len() > 0 && w.queue.peek().at <= t {
		w.Step()
	}
	w.now = max(w.now, t)
}

// RunFor runs the world for d of virtual time.
func (w *World) RunFor(d time.Duration) { w.RunUntil(w.now + d) }

// RunWhile runs events while cond holds and the clock has not passed limit;
// it reports whether cond became false.
func (w *World) RunWhile(limit time.Duration, cond func() bool) bool {
	for cond() {
		if w.queue.len() == 0 || w.queue.peek().at > limit {
			w.now = max(w.now, limit)
			return false
		}
		w.Step()
	}
	return true
}

func (w *World) tracef(who, what, format string, args ...any) {
	w.trace.record(w.now, who, what, fmt.Sprintf(format, args...))
}

// buggifyFor returns the env.Buggify of one process. FoundationDB's rule:
// a site is active in a run with P=1/4, then fires with P=1/4 at each
// evaluation. Whether a site is active depends only on the seed and the
// site's name, and each process draws its firings from its own stream, so
// adding a node or a site does not change another's choices.
func (w *World) buggifyFor(label string) env.Buggify {
	if !w.buggifyOn {
		return env.Never
	}
	fires := env.DeriveRand(w.seed, label+"buggify")
	return func(site string) bool {
		return w.buggifyActive(site) && fires.IntN(4) == 0
	}
}

func (w *World) buggifyActive(site string) bool {
	active, seen := w.buggifySites[site]
	if !seen {
		active = env.DeriveRand(w.seed, "buggify/"+site).IntN(4) == 0
		w.buggifySites[site] = active
		w.tracef("world", "buggify", "site=%s active=%v", site, active)
	}
	return active
}

// Host returns the host with the given name, or nil.
func (w *World) Host(name string) *Host { return w.hostName[name] }

// Hosts returns every host in the order they were added.
func (w *World) Hosts() []*Host { return slices.Clone(w.hosts) }

// HostOf returns the host a node id is bound to, or nil.
func (w *World) HostOf(id env.NodeID) *Host { return w.nodes[id] }

// Drops returns how many frames were lost, by reason ("loss", "partition",
// "no-carrier", "not-running", ...), for statistics and invariants.
func (w *World) Drops() map[string]uint64 {
	out := make(map[string]uint64, len(w.drops))
	for k, v := range w.drops {
		out[k] = v
	}
	return out
}

// event is one entry of the queue. seq breaks ties between events due at
// the same time in the order they were scheduled, which is what makes the
// order total and the run reproducible.
type event struct {
	at  time.Duration
	seq uint64
	fn  func()
}

func (a event) before(b event) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// eventQueue is a binary min-heap written out for event values: the
// container/heap version boxes every element in an interface.
type eventQueue struct{ items []event }

func (q *eventQueue) len() int    { return len(q.items) }
func (q *eventQueue) peek() event { return q.items[0] }

func (q *eventQueue) push(e event) {
	q.items = append(q.items, e)
	i := len(q.items) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !q.items[i].before(q.items[parent]) {
			break
		}
		q.items[i], q.items[parent] = q.items[parent], q.items[i]
		i = parent
	}
}

func (q *eventQueue) pop() event {
	top := q.items[0]
	last := len(q.items) - 1
	q.items[0] = q.items[last]
	q.items[last] = event{}
	q.items = q.items[:last]
	i, n := 0, last
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && q.items[l].before(q.items[m]) {
			m = l
		}
		if r < n && q.items[r].before(q.items[m]) {
			m = r
		}
		if m == i {
			break
		}
		q.items[i], q.items[m] = q.items[m], q.items[i]
		i = m
	}
	return top
}
