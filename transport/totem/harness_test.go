package totem

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hakit/hakit/internal/evscheck"
	"github.com/hakit/hakit/node/env"
)

// harness runs several rings on an in-memory network with a virtual clock:
// every message is encoded and decoded, delayed, possibly lost, and
// delivered in (time, sequence) order. It is deterministic for a seed.
type harness struct {
	t      testing.TB
	now    env.Mono
	nodes  []env.NodeID
	rings  map[env.NodeID]*Ring
	disk   map[env.NodeID]Persistent
	alive  map[env.NodeID]bool
	cut    map[[2]env.NodeID]bool
	loss   float64
	rng    *rand.Rand
	seq    uint64
	flight []inflight
	log    map[env.NodeID]*incarnation // the current incarnation of each node
	sent   map[string]bool             // payloads ever sent
	// evs checks every event against total order and virtual synchrony.
	evs *evscheck.Checker[RingID, env.NodeID]
	cfg func(Config) Config
	// stuck counts steps without time advancing: a protocol that keeps
	// doing things at one instant is livelocked.
	stuck     int
	stuckTime env.Mono
	// failure holds the first invariant violation when soft is set (a
	// property test that lets gopter shrink); otherwise violations fail
	// the test at once.
	soft    bool
	failure error
}

func (h *harness) fail(format string, args ...any) {
	h.t.Helper()
	if !h.soft {
		h.t.Fatalf(format, args...)
	}
	if h.failure == nil {
		h.failure = fmt.Errorf(format, args...)
	}
}

type inflight struct {
	at       env.Mono
	seq      uint64
	from, to env.NodeID
	data     []byte
}

const latency = 200 * time.Microsecond

func newHarness(t testing.TB, n int, seed uint64) *harness {
	h := &harness{
		t: t, rings: map[env.NodeID]*Ring{}, disk: map[env.NodeID]Persistent{}, alive: map[env.NodeID]bool{},
		cut: map[[2]env.NodeID]bool{}, rng: rand.New(rand.NewPCG(seed, 7)),
		log: map[env.NodeID]*incarnation{}, sent: map[string]bool{},
	}
	h.evs = evscheck.New[RingID, env.NodeID](func(p string) bool { return h.sent[p] }, func(v string) { h.fail("%s", v) })
	for i := range n {
		h.nodes = append(h.nodes, env.NodeID(i+1))
	}
	for _, id := range h.nodes {
		h.start(id)
	}
	return h
}

func (h *harness) config(id env.NodeID) Config {
	c := DefaultConfig(id, h.nodes)
	if h.cfg != nil {
		c = h.cfg(c)
	}
	return c
}

func (h *harness) start(id env.NodeID) {
	if h.alive[id] {
		return
	}
	r, err := New(h.config(id), h.disk[id], h.now)
	if err != nil {
		h.t.Fatal(err)
	}
	h.rings[id] = r
	h.alive[id] = true
	h.log[id] = &incarnation{evs: h.evs.Member(fmt.Sprintf("node %d", id))}
	h.flush(id)
}

func (h *harness) crash(id env.NodeID) {
	if !h.alive[id] {
		return
	}
	h.alive[id] = false
	delete(h.rings, id)
	delete(h.log, id)
}

// partition cuts every pair across the groups (both directions).
func (h *harness) partition(groups ...[]env.NodeID) {
	h.cut = map[[2]env.NodeID]bool{}
	for i, g := range groups {
		for j, o := range groups {
			if i != j {
				for _, a := range g {
					for _, b := range o {
						h.cut[[2]env.NodeID{a, b}] = true
					}
				}
			}
		}
	}
}

func (h *harness) heal() { h.cut = map[[2]env.NodeID]bool{} }

// flush carries out a ring's Ready: persist, queue messages, and feed the
// events to the invariant checker.
func (h *harness) flush(id env.NodeID) {
	r := h.rings[id]
	for {
		rd := r.Ready()
		if rd.Empty() {
			return
		}
		if rd.Persist != nil {
			h.disk[id] = *rd.Persist
		}
		for _, o := range rd.Messages {
			data := Encode(o.Msg)
			targets := []env.NodeID{o.To}
			if o.To == Broadcast {
				targets = nil
				for _, n := range h.nodes {
					if n != id {
						targets = append(targets, n)
					}
				}
			}
			for _, to := range targets {
				if h.cut[[2]env.NodeID{id, to}] || (h.loss > 0 && h.rng.Float64() < h.loss) {
					continue
				}
				h.seq++
				jitter := time.Duration(h.rng.Int64N(int64(latency)))
				h.flight = append(h.flight, inflight{at: h.now.Add(latency + jitter), seq: h.seq, from: id, to: to, data: data})
			}
		}
		for _, e := range rd.Events {
			h.check(id, e)
		}
		r.Advance(rd)
	}
}

func (h *harness) send(id env.NodeID, payload string) error {
	r := h.rings[id]
	if r == nil {
		return fmt.Errorf("node %d is down", id)
	}
	err := r.Send(h.now, []byte(payload))
	if err == nil {
		h.sent[payload] = true
	}
	h.flush(id)
	return err
}

// step advances to the next message or deadline, whichever comes first, and
// handles it. It reports false when nothing is pending before limit.
func (h *harness) step(limit env.Mono) bool {
	if h.failure != nil {
		return false
	}
	if h.now == h.stuckTime {
		if h.stuck++; h.stuck > 100_000 {
			h.fail("livelock: 100,000 steps at %v\n%s", h.now, h.dump())
			return false
		}
	} else {
		h.stuck, h.stuckTime = 0, h.now
	}
	next, which := env.Mono(-1), env.NodeID(0)
	for _, id := range h.nodes {
		if r := h.rings[id]; r != nil {
			if d, ok := r.NextDeadline(); ok && (next < 0 || d < next) {
				next, which = d, id
			}
		}
	}
	fi := -1
	for i, f := range h.flight {
		if fi < 0 || f.at < h.flight[fi].at || (f.at == h.flight[fi].at && f.seq < h.flight[fi].seq) {
			fi = i
		}
	}
	if fi >= 0 && (next < 0 || h.flight[fi].at <= next) {
		f := h.flight[fi]
		if f.at > limit {
			return false
		}
		h.flight = slices.Delete(h.flight, fi, fi+1)
		h.now = max(h.now, f.at)
		r := h.rings[f.to]
		if r == nil || h.cut[[2]env.NodeID{f.from, f.to}] {
			return true
		}
		m, err := Decode(f.data)
		if err != nil {
			h.t.Fatalf("decoding our own message: %v", err)
		}
		r.Step(h.now, f.from, m)
		h.flush(f.to)
		return true
	}
	if next < 0 || next > limit {
		return false
	}
	h.now = max(h.now, next)
	h.rings[which].Tick(h.now)
	h.flush(which)
	return true
}

func (h *harness) runFor(d time.Duration) {
	limit := h.now.Add(d)
	for h.step(limit) {
	}
	h.now = limit
}

// runUntil runs until cond holds or limit passes; it reports which.
func (h *harness) runUntil(d time.Duration, cond func() bool) bool {
	limit := h.now.Add(d)
	for !cond() {
		if !h.step(limit) {
			h.now = limit
			return cond()
		}
	}
	return true
}

// oneRing reports whether the live nodes in ids are operational in one ring
// made of exactly them.
func (h *harness) oneRing(ids ...env.NodeID) bool {
	var ring RingID
	for i, id := range ids {
		r := h.rings[id]
		if r == nil || r.State() != StateOperational || !slices.Equal(r.Members(), ids) {
			return false
		}
		if i == 0 {
			ring = r.RingID()
		} else if r.RingID() != ring {
			return false
		}
	}
	return true
}

// incarnation is one run of one node.
type incarnation struct {
	delivered []string
	evs       *evscheck.Member[RingID, env.NodeID]
}

// delivered returns the payloads a node's current incarnation delivered.
func (h *harness) delivered(id env.NodeID) []string {
	if inc := h.log[id]; inc != nil {
		return inc.delivered
	}
	return nil
}

// check feeds one event to the shared invariant checker (internal/evscheck:
// nothing twice or unsent, one total order per configuration, agreement on
// members, virtual synchrony), over every incarnation of every node.
func (h *harness) check(id env.NodeID, e Event) {
	h.t.Helper()
	inc := h.log[id]
	if inc.evs.Events() > 20_000 {
		h.fail("node %d: over 20,000 events in one incarnation; churning?\n%s", id, h.dump())
	}
	switch e.Kind {
	case EventRegular:
		inc.evs.Regular(e.Ring, e.Members)
	case EventTransitional:
		inc.evs.Transitional(e.Ring, e.Members)
	case EventDeliver:
		inc.delivered = append(inc.delivered, string(e.Payload))
		inc.evs.Deliver(string(e.Payload))
	}
}

func (h *harness) dump() string {
	var b strings.Builder
	for _, id := range h.nodes {
		if r := h.rings[id]; r != nil {
			fmt.Fprintf(&b, "node %d: %v ring %v members %v stats %+v\n", id, r.State(), r.RingID(), r.Members(), r.Stats())
		} else {
			fmt.Fprintf(&b, "node %d: down\n", id)
		}
	}
	return b.String()
}
