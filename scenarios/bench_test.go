package scenarios

import (
	"testing"
	"time"

	"github.com/hakit/hakit/sim"
)

// BenchmarkRingThreeNodes100MsgsPerSecond measures simulated seconds per
// wall second for three real members (wire, links, totem, votequorum) on
// bonded simulated hosts carrying 100 ordered messages per second in all,
// every event traced and hashed as in a real run.
func BenchmarkRingThreeNodes100MsgsPerSecond(b *testing.B) {
	const simulated = 60 * time.Second
	var wall time.Duration
	for i := range b.N {
		r := &Run{Scenario: "bench", Seed: uint64(i)}
		r.W = sim.New(uint64(i))
		names := nodeNames(3)
		c := NewRingCluster(r, names, ReferenceConf(names, "", ""))
		if _, ok := c.Await(30*time.Second, func() bool { return c.OneRing(c.All()...) }); !ok {
			b.Fatal("no ring")
		}
		c.load(30 * time.Millisecond) // 3 members x 33.3/s = 100 messages/s
		start := time.Now()
		r.W.RunFor(simulated)
		wall += time.Since(start)
		if len(r.violations) > 0 {
			b.Fatal(r.violations)
		}
	}
	b.ReportMetric(simulated.Seconds()*float64(b.N)/wall.Seconds(), "sim-s/wall-s")
}
