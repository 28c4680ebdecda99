package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hakit/hakit/node/api"
)

func TestBenchSummary(t *testing.T) {
	report := func(node uint32, sent uint64, hash string, from map[uint32]uint64) api.BenchReport {
		r := api.BenchReport{Node: node, Run: 9, Size: 256, Sent: sent, FirstSend: 1e9, OrderHash: hash,
			FirstDelivery: 1e9 + 1e6, LastDelivery: 3e9, LatencyMax: 5e6,
			Latency: []api.HistBucket{{V: 1e6, N: 90}, {V: 5e6, N: 10}}}
		for n, c := range from {
			r.Senders = append(r.Senders, api.BenchSender{Node: n, Count: c, LastSeq: c})
			r.Delivered += c
		}
		return r
	}
	all := map[uint32]uint64{1: 100, 2: 50}
	good := []api.BenchReport{report(1, 100, "aa", all), report(2, 50, "aa", all), report(3, 0, "aa", all)}
	s := summarize(good)
	if !s.Complete || !s.OrderAgrees || len(s.Problems) > 0 || s.Messages != 150 {
		t.Fatalf("clean run summarised as %+v", s)
	}
	if s.Elapsed != 2 || s.MsgsPerSec != 75 || s.LatencyP50 != 1e6 || s.LatencyP99 != 5e6 || s.LatencyMax != 5e6 {
		t.Errorf("figures: %.2f s, %.1f msgs/s, p50 %d, p99 %d, max %d", s.Elapsed, s.MsgsPerSec, s.LatencyP50, s.LatencyP99, s.LatencyMax)
	}
	var out bytes.Buffer
	printBench(&out, s)
	if !strings.Contains(out.String(), "75 msgs/s") || !strings.Contains(out.String(), "in the same order") {
		t.Errorf("printed:\n%s", out.String())
	}

	bad := []api.BenchReport{report(1, 100, "aa", all), report(2, 50, "bb", map[uint32]uint64{1: 100, 2: 49}), report(3, 0, "aa", all)}
	bad[1].Gaps = 1
	s = summarize(bad)
	if s.Complete || s.OrderAgrees || len(s.Problems) != 3 {
		t.Fatalf("broken run summarised as complete %v, order agrees %v, problems %q", s.Complete, s.OrderAgrees, s.Problems)
	}
}

func TestBenchUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"bench", "--size", "8"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "--size") {
		t.Errorf("bench --size 8: exit %d, stderr %q; want 2 and a usage error", code, errOut.String())
	}
}
