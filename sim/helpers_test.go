package sim

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/hakit/hakit/node/env"
)

// arrival is one frame of a stream as the receiver saw it, in world time.
type arrival struct {
	seq            uint64
	sentAt, recvAt time.Duration
}

// stream sends a numbered frame from one host's node to another's every
// interval on one link and records what arrives. It is the smallest node
// there is: it exists to observe the network.
type stream struct {
	sent     uint64
	arrivals []arrival
}

func startStream(w *World, from, to *Host, link env.LinkID, every time.Duration) *stream {
	s := &stream{}
	w.StartProcess(from, "sender", func(e env.Env) {
		var tick func()
		tick = func() {
			s.sent++
			frame := make([]byte, 16)
			binary.BigEndian.PutUint64(frame, s.sent)
			binary.BigEndian.PutUint64(frame[8:], uint64(w.Now()))
			if err := e.Transport.Send(link, to.Node(), frame); err != nil {
				panic(err)
			}
			e.Clock.AfterFunc(every, tick)
		}
		tick()
	})
	w.StartProcess(to, "receiver", func(e env.Env) {
		e.Transport.SetReceiver(func(l env.LinkID, fromID env.NodeID, frame []byte, at env.Mono) {
			if l != link || fromID != from.Node() {
				return
			}
			s.arrivals = append(s.arrivals, arrival{
				seq:    binary.BigEndian.Uint64(frame),
				sentAt: time.Duration(binary.BigEndian.Uint64(frame[8:])),
				recvAt: w.Now(),
			})
		})
	})
	return s
}

// firstSentAfter returns the send time of the first frame delivered that was
// sent after t (a frame sent at t left before anything done at t).
func (s *stream) firstSentAfter(t *testing.T, at time.Duration) time.Duration {
	t.Helper()
	for _, a := range s.arrivals {
		if a.sentAt > at {
			return a.sentAt
		}
	}
	t.Fatalf("no frame sent after %v was delivered", at)
	return 0
}

// fixedLAN has constant latency, so timing assertions are exact.
func fixedLAN() SegmentConfig {
	return SegmentConfig{LatencyMin: 50 * time.Microsecond, LatencyMean: 50 * time.Microsecond}
}

// bondedPair is two hosts, each with bond0 over eth0 and eth1, all four NICs
// on one switch, bond0 carrying link 0.
func bondedPair(seed uint64, cfg BondConfig) (w *World, a, b *Host) {
	w = New(seed)
	lan := w.AddSwitch("private", fixedLAN())
	a, b = w.AddHost("a"), w.AddHost("b")
	for i, h := range []*Host{a, b} {
		h.BindNode(env.NodeID(i + 1))
		h.AttachLink(0, h.AddBond("bond0", cfg, h.AddNIC("eth0", lan), h.AddNIC("eth1", lan)))
	}
	return w, a, b
}
