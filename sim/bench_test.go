package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/scenarios"
	"github.com/hakit/hakit/sim"
)

// BenchmarkEventLoop measures the bare event queue: each event schedules
// the next, with 1,000 others pending so the heap has depth.
func BenchmarkEventLoop(b *testing.B) {
	w := sim.New(1)
	for i := range 1000 {
		w.After(time.Duration(i)*time.Hour, "", func() {})
	}
	remaining := b.N
	var next func()
	next = func() {
		if remaining--; remaining > 0 {
			w.After(time.Microsecond, "", next)
		}
	}
	w.After(0, "", next)
	b.ResetTimer()
	start := time.Now()
	for remaining > 0 && w.Step() {
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkThreeHeartbeatNodes measures simulated seconds per wall second
// for three heartbeat nodes on one LAN, each sending 10 pings/s (5 to each
// peer) and answering the 10 pings/s it receives with pongs; every frame is
// traced and hashed, as in a real run.
func BenchmarkThreeHeartbeatNodes(b *testing.B) {
	const simulated = 60 * time.Second
	var wall time.Duration
	for i := range b.N {
		w := sim.New(uint64(i))
		lan := w.AddSwitch("lan", sim.LAN())
		var ids []env.NodeID
		var hosts []*sim.Host
		for n := range 3 {
			h := w.AddHost(fmt.Sprintf("node%d", n+1))
			h.BindNode(env.NodeID(n + 1))
			h.AttachLink(0, h.AddNIC("eth0", lan))
			hosts = append(hosts, h)
			ids = append(ids, env.NodeID(n+1))
		}
		for n, h := range hosts {
			var peers []env.NodeID
			for _, id := range ids {
				if id != ids[n] {
					peers = append(peers, id)
				}
			}
			w.StartProcess(h, "hanode", func(e env.Env) {
				if _, err := scenarios.StartHeartbeat(e, scenarios.HeartbeatConfig{Peers: peers, Interval: 200 * time.Millisecond, Timeout: time.Second}); err != nil {
					b.Fatal(err)
				}
			})
		}
		start := time.Now()
		w.RunFor(simulated)
		wall += time.Since(start)
	}
	b.ReportMetric(simulated.Seconds()*float64(b.N)/wall.Seconds(), "sim-s/wall-s")
}
