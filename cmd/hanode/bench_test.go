package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hakit/hakit/node/api"
	"github.com/hakit/hakit/node/env"
)

func TestBenchHistogram(t *testing.T) {
	// Every value falls in a bucket whose middle is within 1/64 of it.
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 123456, 1 << 40, 1<<62 + 12345} {
		i := histIndex(v)
		if i > 0 && histIndex(v-1) > i {
			t.Errorf("index not monotonic at %d", v)
		}
		mid := histValue(i)
		if d := mid - v; d < -v/64-1 || d > v/64+1 {
			t.Errorf("value %d: bucket %d has middle %d", v, i, mid)
		}
	}
	var h latHist
	for v := int64(1); v <= 1000; v++ {
		h.add(v * 1000) // 1 µs .. 1 ms
	}
	for _, c := range []struct {
		q    float64
		want int64
	}{{0.5, 500_000}, {0.99, 990_000}, {1, 1_000_000}} {
		if got := h.quantile(c.q); got < c.want*63/64 || got > c.want*65/64 {
			t.Errorf("quantile %v = %d, want about %d", c.q, got, c.want)
		}
	}
	if h.max != 1_000_000 || h.quantile(1) > h.max {
		t.Errorf("max %d, q1 %d", h.max, h.quantile(1))
	}
}

func TestBenchRecorder(t *testing.T) {
	p := encodeBench(nil, 256, 7, 2, 1, 1000)
	if len(p) != 256 {
		t.Fatalf("payload of %d bytes, want 256", len(p))
	}
	h, ok := decodeBench(p)
	if !ok || h.run != 7 || h.sender != 2 || h.seq != 1 || h.sentAt != 1000 {
		t.Fatalf("decoded %+v, %v", h, ok)
	}
	if _, ok := decodeBench([]byte("not a bench message, but long enough to be one")); ok {
		t.Fatal("decoded a foreign payload")
	}

	order := func(seqs ...[2]uint64) benchRec {
		var r benchRec
		r.reset(7)
		for _, s := range seqs {
			r.record(env.NodeID(s[0]), benchHeaderFields{run: 7, sender: env.NodeID(s[0]), seq: s[1], sentAt: 100}, 256, 300)
		}
		return r
	}
	a := order([2]uint64{1, 1}, [2]uint64{2, 1}, [2]uint64{1, 2})
	b := order([2]uint64{2, 1}, [2]uint64{1, 1}, [2]uint64{1, 2})
	if a.hash == b.hash {
		t.Error("two orders of the same messages hash alike")
	}
	if a.gaps+a.outOfOrder+b.gaps+b.outOfOrder != 0 || a.delivered != 3 || a.lat.quantile(0.5) != 200 {
		t.Errorf("clean runs: %+v %+v", a, b)
	}
	c := order([2]uint64{1, 1}, [2]uint64{1, 3}, [2]uint64{1, 2})
	if c.gaps != 1 || c.outOfOrder != 1 {
		t.Errorf("1, 3, 2: %d gaps, %d out of order; want 1 and 1", c.gaps, c.outOfOrder)
	}
}

// benchSummary is the part of hactl bench --json this test reads.
type benchSummary struct {
	Messages    uint64            `json:"messages"`
	Complete    bool              `json:"complete"`
	OrderAgrees bool              `json:"order_agrees"`
	Elapsed     float64           `json:"elapsed_seconds"`
	MsgsPerSec  float64           `json:"msgs_per_sec"`
	MBPerSec    float64           `json:"mb_per_sec"`
	LatencyP50  int64             `json:"latency_p50"`
	LatencyP99  int64             `json:"latency_p99"`
	LatencyMax  int64             `json:"latency_max"`
	Problems    []string          `json:"problems"`
	Nodes       []api.BenchReport `json:"nodes"`
}

// TestRealProcessesBench runs hactl bench for 2 s against three real
// hanodes, every one sending 256-byte messages, and checks the outcome
// (not the speed, which is only logged): every node delivered every
// message, each sender's in sequence without gaps, in one total order.
func TestRealProcessesBench(t *testing.T) {
	c := startCluster(t, 3)
	hactl := buildHactl(t, c.dir)
	c.await("ring of 3", 60*time.Second, func() bool { return c.ringOf(0, 1, 2) })

	cmd := exec.Command(hactl, "bench", "--seconds", "2", "--size", "256", "--json",
		"--socket", c.socket(0), "--socket", c.socket(1), "--socket", c.socket(2))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hactl bench: %v\nstderr: %s\nstdout: %s", err, stderr.String(), out)
	}
	var s benchSummary
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("hactl bench --json: %v\n%s", err, out)
	}
	if !s.Complete || !s.OrderAgrees || len(s.Problems) > 0 || len(s.Nodes) != 3 {
		t.Errorf("hactl bench: complete %v, order agrees %v, problems %q, %d nodes", s.Complete, s.OrderAgrees, s.Problems, len(s.Nodes))
	}

	// Check the nodes' reports here too, not only hactl's verdict.
	sent := map[uint32]uint64{}
	var total uint64
	for _, r := range s.Nodes {
		if r.Sent == 0 || r.SendErrors > 0 {
			t.Errorf("n%d sent %d messages with %d errors (%s)", r.Node, r.Sent, r.SendErrors, r.LastError)
		}
		sent[r.Node] = r.Sent
		total += r.Sent
	}
	for _, r := range s.Nodes {
		if r.Run != s.Nodes[0].Run || r.Sending {
			t.Errorf("n%d: run %d (sending %v), want run %d finished", r.Node, r.Run, r.Sending, s.Nodes[0].Run)
		}
		if r.Delivered != total || r.Bytes != 256*total {
			t.Errorf("n%d delivered %d messages (%d bytes) of %d", r.Node, r.Delivered, r.Bytes, total)
		}
		for _, from := range r.Senders {
			if from.Count != sent[from.Node] || from.LastSeq != sent[from.Node] {
				t.Errorf("n%d delivered %d messages from n%d (last seq %d), which sent %d", r.Node, from.Count, from.Node, from.LastSeq, sent[from.Node])
			}
		}
		if r.Gaps+r.OutOfOrder+r.Mismatched+r.Stale > 0 {
			t.Errorf("n%d: %d gaps, %d out of order, %d mismatched, %d stale", r.Node, r.Gaps, r.OutOfOrder, r.Mismatched, r.Stale)
		}
		if r.OrderHash != s.Nodes[0].OrderHash {
			t.Errorf("n%d's order hash %s differs from n%d's %s", r.Node, r.OrderHash, s.Nodes[0].Node, s.Nodes[0].OrderHash)
		}
	}
	t.Logf("figure: bench 2 s, 3 senders, 256-byte messages: %d messages ordered in %.2f s = %.0f msgs/s, %.2f MB/s; latency p50 %v p99 %v max %v",
		s.Messages, s.Elapsed, s.MsgsPerSec, s.MBPerSec,
		time.Duration(s.LatencyP50).Round(time.Microsecond), time.Duration(s.LatencyP99).Round(time.Microsecond), time.Duration(s.LatencyMax).Round(time.Microsecond))
}
