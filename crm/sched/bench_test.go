package sched_test

import (
	"fmt"
	"testing"

	"github.com/hakit/hakit/crm/sched"
	"github.com/hakit/hakit/crm/sched/schedtest"
)

// BenchmarkSchedule times one scheduler run on clusters in mid-life (see
// schedtest.Large): the last size is the one hactl simulate is compared
// with crm_simulate on (BenchmarkSimulateVsCrmSimulate in cmd/hactl).
func BenchmarkSchedule(b *testing.B) {
	for _, size := range []struct {
		name                           string
		primitives, nodes, constraints int
	}{
		{"small", 50, 4, 25},
		{"medium", 200, 8, 100},
		{"large", 1000, 32, 500},
	} {
		b.Run(fmt.Sprintf("%s-%dx%dx%d", size.name, size.primitives, size.nodes, size.constraints), func(b *testing.B) {
			c := schedtest.Large(size.primitives, size.nodes, size.constraints, 1)
			var r *sched.Result
			for b.Loop() {
				var err error
				if r, err = sched.Schedule(sched.Input{CIB: c}); err != nil {
					b.Fatal(err)
				}
			}
			// The transition's size says how much work the time bought.
			b.ReportMetric(float64(len(r.Actions)), "actions")
		})
	}
}
