package main

// The ordered-messaging benchmark, after Corosync's cpgbench: a load
// generator that keeps this node's totem send queue full (or a bounded
// number of its own messages in flight) and a recorder of every bench
// message the node delivers. hactl bench drives both on every node through
// the API ("bench-start", "bench-report") and adds up the reports.
//
// Everything here runs on the node's loop: the API handler, the Deliver and
// Config observers and the generator's timer, so nothing is locked.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"time"

	"github.com/hakit/hakit/node"
	"github.com/hakit/hakit/node/api"
	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/node/runtime"
	"github.com/hakit/hakit/transport/totem"
)

// A bench message: magic, run id, sender node, sequence number (from 1 per
// sender and run) and the send time (Unix ns on the host's wall clock, which
// every process on one machine shares), then padding up to the size.
const (
	benchMagic  = "HKBENCH1"
	benchHeader = len(benchMagic) + 8 + 4 + 8 + 8
	// benchMaxSize leaves room for the member's service byte.
	benchMaxSize = totem.MaxPayload - 1
	// benchTick is how often a generator refused by backpressure tries
	// again when none of its own messages comes back to wake it.
	benchTick = 5 * time.Millisecond
	// benchMaxSeconds bounds one run.
	benchMaxSeconds = 3600
)

// bench is the generator and the recorder of one node.
type bench struct {
	e env.Env
	m *node.Member // set on the loop once the member has started

	gen benchGen
	rec benchRec
}

type benchGen struct {
	run      uint64
	size     int
	inflight int // own messages sent and not yet delivered back; 0: until backpressure
	active   bool
	end      env.Mono
	// seq is the last sequence number queued; back counts this node's
	// own messages delivered back to it.
	seq, back            uint64
	backpressure, errors uint64
	lastErr              string
	firstSend, lastSend  int64
	timer                env.Timer
}

type benchRec struct {
	run                    uint64
	delivered, bytes       uint64
	first, last            int64
	senders                map[env.NodeID]*api.BenchSender
	gaps, outOfOrder, mism uint64
	stale                  uint64
	hash                   uint64
	configs                uint64
	lat                    latHist
}

func newBench(e env.Env) *bench {
	b := &bench{e: e}
	b.rec.reset(0)
	return b
}

// observer is what hanode hands StartMember.
func (b *bench) observer() node.Observer {
	return node.Observer{Deliver: b.deliver, Config: func(totem.Event) {
		if b.rec.run != 0 {
			b.rec.configs++
		}
	}}
}

// handle answers the bench commands; false means c is not one of them.
func (b *bench) handle(c *runtime.Call) bool {
	switch c.Cmd {
	case "bench-start":
		c.Reply(b.start(c.Args))
	case "bench-report":
		c.Reply(b.report(), nil)
	default:
		return false
	}
	return true
}

// start begins run args["run"]: the recorder starts counting that run's
// messages (unless it already saw some of them: a peer started first), and
// unless args["send"] is "false" the generator sends size-byte messages for
// args["seconds"].
func (b *bench) start(args map[string]string) (any, error) {
	num := func(name string, def, lo, hi float64) (float64, error) {
		s, ok := args[name]
		if !ok || s == "" {
			return def, nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < lo || v > hi || math.IsNaN(v) {
			return 0, fmt.Errorf("bench-start: %s %q: want a number in %g..%g", name, s, lo, hi)
		}
		return v, nil
	}
	// hactl names the run, so that every node counts the same one; a
	// caller that does not gets a run named by the wall clock.
	run := uint64(b.e.Clock.Now().UnixNano())
	if s, ok := args["run"]; ok {
		var err error
		if run, err = strconv.ParseUint(s, 10, 64); err != nil || run == 0 {
			return nil, fmt.Errorf("bench-start: run %q: want a positive integer", s)
		}
	}
	size, err := num("size", 256, float64(benchHeader), float64(benchMaxSize))
	if err != nil {
		return nil, err
	}
	seconds, err := num("seconds", 10, 0, benchMaxSeconds)
	if err != nil {
		return nil, err
	}
	inflight, err := num("inflight", 0, 0, 1<<20)
	if err != nil {
		return nil, err
	}
	if run < b.rec.run {
		return nil, fmt.Errorf("bench-start: run %d is older than run %d, already under way here", run, b.rec.run)
	}
	if b.m == nil {
		return nil, errors.New("bench-start: the member has not started")
	}
	if run > b.rec.run {
		b.rec.reset(run)
	}
	b.stopGen()
	g := &b.gen
	*g = benchGen{run: run, size: int(size), inflight: int(inflight)}
	send := args["send"] != "false" && seconds > 0
	if send {
		g.active = true
		g.end = b.e.Clock.Mono().Add(time.Duration(seconds * float64(time.Second)))
		b.e.Log.Info("bench: sending", "run", run, "size", g.size, "seconds", seconds, "inflight", g.inflight)
		b.fill()
		b.arm()
	} else {
		b.e.Log.Info("bench: recording", "run", run)
	}
	return map[string]any{"node": uint32(b.e.Node), "run": run, "sending": send}, nil
}

func (b *bench) arm() {
	if b.gen.active {
		b.gen.timer = b.e.Clock.AfterFunc(benchTick, func() {
			b.gen.timer = nil
			b.fill()
			b.arm()
		})
	}
}

func (b *bench) stopGen() {
	g := &b.gen
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	if g.active {
		g.active = false
		b.e.Log.Info("bench: done sending", "run", g.run, "sent", g.seq, "backpressure", g.backpressure, "errors", g.errors)
	}
}

// fill queues messages until the ring refuses, the in-flight bound is
// reached or the run's time is up.
func (b *bench) fill() {
	g := &b.gen
	if !g.active {
		return
	}
	if b.e.Clock.Mono() >= g.end {
		b.stopGen()
		return
	}
	for g.inflight == 0 || g.seq-g.back < uint64(g.inflight) {
		now := b.e.Clock.Now().UnixNano()
		err := b.m.Send(encodeBench(make([]byte, 0, g.size), g.size, g.run, b.e.Node, g.seq+1, now))
		if errors.Is(err, totem.ErrBackpressure) {
			g.backpressure++
			return
		}
		if err != nil {
			g.errors++
			g.lastErr = err.Error()
			b.stopGen()
			return
		}
		g.seq++
		if g.firstSend == 0 {
			g.firstSend = now
		}
		g.lastSend = now
	}
}

// deliver is the member's Deliver observer.
func (b *bench) deliver(_ totem.RingID, sender env.NodeID, payload []byte) {
	h, ok := decodeBench(payload)
	if !ok {
		return // not a bench message
	}
	if h.run > b.rec.run {
		// A peer started this run before our bench-start arrived.
		b.rec.reset(h.run)
	}
	if h.run < b.rec.run {
		b.rec.stale++
		return
	}
	b.rec.record(sender, h, len(payload), b.e.Clock.Now().UnixNano())
	if sender == b.e.Node && h.run == b.gen.run {
		b.gen.back++
		b.fill()
	}
}

func (b *bench) report() api.BenchReport {
	g, r := &b.gen, &b.rec
	rep := api.BenchReport{
		Node: uint32(b.e.Node), Run: r.run,
		Size: g.size, Inflight: g.inflight, Sending: g.active,
		Backpressure: g.backpressure, SendErrors: g.errors, LastError: g.lastErr,
		FirstSend: g.firstSend, LastSend: g.lastSend,
		Delivered: r.delivered, Bytes: r.bytes, FirstDelivery: r.first, LastDelivery: r.last,
		Senders: []api.BenchSender{},
		Gaps:    r.gaps, OutOfOrder: r.outOfOrder, Mismatched: r.mism, Stale: r.stale,
		OrderHash:      fmt.Sprintf("%016x", r.hash),
		Configurations: r.configs,
		LatencyP50:     r.lat.quantile(0.50), LatencyP99: r.lat.quantile(0.99), LatencyMax: r.lat.max,
		Latency: r.lat.buckets(),
	}
	if g.run == r.run {
		rep.Sent = g.seq
	}
	for _, n := range slices.Sorted(maps.Keys(r.senders)) {
		rep.Senders = append(rep.Senders, *r.senders[n])
	}
	return rep
}

// FNV-1a, 64 bits.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func (r *benchRec) reset(run uint64) {
	*r = benchRec{run: run, senders: map[env.NodeID]*api.BenchSender{}, hash: fnvOffset}
}

// record counts one delivered bench message of the current run at wall
// time now.
func (r *benchRec) record(sender env.NodeID, h benchHeaderFields, size int, now int64) {
	if h.sender != sender {
		r.mism++
	}
	s := r.senders[sender]
	if s == nil {
		s = &api.BenchSender{Node: uint32(sender)}
		r.senders[sender] = s
	}
	switch {
	case h.seq == s.LastSeq+1:
	case h.seq > s.LastSeq+1:
		r.gaps += h.seq - s.LastSeq - 1
	default:
		r.outOfOrder++
	}
	s.LastSeq = max(s.LastSeq, h.seq)
	s.Count++
	r.delivered++
	r.bytes += uint64(size)
	if r.first == 0 {
		r.first = now
	}
	r.last = now
	var key [12]byte
	binary.BigEndian.PutUint32(key[:4], uint32(sender))
	binary.BigEndian.PutUint64(key[4:], h.seq)
	for _, c := range key {
		r.hash = (r.hash ^ uint64(c)) * fnvPrime
	}
	r.lat.add(max(now-h.sentAt, 0))
}

type benchHeaderFields struct {
	run    uint64
	sender env.NodeID
	seq    uint64
	sentAt int64
}

func encodeBench(buf []byte, size int, run uint64, sender env.NodeID, seq uint64, sentAt int64) []byte {
	buf = append(buf, benchMagic...)
	buf = binary.BigEndian.AppendUint64(buf, run)
	buf = binary.BigEndian.AppendUint32(buf, uint32(sender))
	buf = binary.BigEndian.AppendUint64(buf, seq)
	buf = binary.BigEndian.AppendUint64(buf, uint64(sentAt))
	for len(buf) < size {
		buf = append(buf, byte(len(buf)))
	}
	return buf
}

func decodeBench(p []byte) (benchHeaderFields, bool) {
	if len(p) < benchHeader || string(p[:len(benchMagic)]) != benchMagic {
		return benchHeaderFields{}, false
	}
	p = p[len(benchMagic):]
	return benchHeaderFields{
		run:    binary.BigEndian.Uint64(p),
		sender: env.NodeID(binary.BigEndian.Uint32(p[8:])),
		seq:    binary.BigEndian.Uint64(p[12:]),
		sentAt: int64(binary.BigEndian.Uint64(p[20:])),
	}, true
}

// latHist is a log-linear histogram of non-negative ns values: exact below
// 128, then 64 buckets per power of two (at most 1.6 % relative error), so
// it stays small (a few thousand counters at most) however long the run.
type latHist struct {
	counts []uint64
	n      uint64
	max    int64
}

const histSub = 64

func histIndex(v int64) int {
	if v < 2*histSub {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - 7 // v>>e is in [64, 128)
	return (e+1)*histSub + int(v>>e) - histSub
}

// histValue is the middle of bucket i.
func histValue(i int) int64 {
	if i < 2*histSub {
		return int64(i)
	}
	e := i/histSub - 1
	m := int64(i%histSub + histSub)
	lo, hi := m<<e, (m+1)<<e-1
	return lo + (hi-lo)/2
}

func (h *latHist) add(v int64) {
	i := histIndex(v)
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]uint64, i+1-len(h.counts))...)
	}
	h.counts[i]++
	h.n++
	h.max = max(h.max, v)
}

// quantile returns the value below which a fraction q of the samples lie
// (the bucket's middle, never above the maximum seen); 0 when empty.
func (h *latHist) quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(histValue(i), h.max)
		}
	}
	return h.max
}

func (h *latHist) buckets() []api.HistBucket {
	out := []api.HistBucket{}
	for i, c := range h.counts {
		if c > 0 {
			out = append(out, api.HistBucket{V: histValue(i), N: c})
		}
	}
	return out
}
