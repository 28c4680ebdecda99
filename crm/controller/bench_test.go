package controller

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hakit/hakit/node/env"
)

// BenchmarkFailoverToActions measures, for 200 resources on 8 nodes, the
// resource manager's part of a failover: the DC's work from the
// membership change that drops a node to its first dispatched action. It
// covers the DC's announcement and its decoding of the six others', the
// agreement, the scheduler run and the dispatch. The other members' work
// (done in parallel on their machines) and the network are not timed.
func BenchmarkFailoverToActions(b *testing.B) {
	var conf strings.Builder
	conf.WriteString("property stonith-enabled=false\nproperty no-quorum-policy=ignore\nrsc_defaults resource-stickiness=100\n")
	for i := range 200 {
		fmt.Fprintf(&conf, "primitive r%03d ocf:pacemaker:Dummy op monitor interval=10s\n", i)
	}
	for i := range 50 {
		fmt.Fprintf(&conf, "colocation c%02d inf: r%03d r%03d\n", i, 2*i+1, 2*i)
		fmt.Fprintf(&conf, "location l%02d r%03d %d: vm-node%d\n", i, 4*i, 10+i%7, 1+i%8)
	}
	actions := 0
	for range b.N {
		b.StopTimer()
		cl := newCluster(b, 8, conf.String())
		cl.settle()
		dc := cl.ctl[1]
		before := dc.Stats().Actions
		// Only the DC's own work is timed: the other members run theirs
		// in parallel on their own machines.
		timed := func(id env.NodeID, f func()) {
			if id == 1 {
				b.StartTimer()
				f()
				b.StopTimer()
			} else {
				f()
			}
		}
		for _, id := range cl.up {
			if id != 5 {
				timed(id, func() {
					cl.ctl[id].Membership(cl.now, cl.ring+1, slices.DeleteFunc(slices.Clone(cl.up), func(x env.NodeID) bool { return x == 5 }), true)
				})
			}
		}
		cl.ring++
		cl.up = slices.DeleteFunc(cl.up, func(x env.NodeID) bool { return x == 5 })
		cl.bus, cl.execs = nil, nil
		for dc.Stats().Actions == before {
			for _, id := range cl.up {
				c := cl.ctl[id]
				rd := c.Ready()
				c.Advance()
				for _, m := range rd.Messages {
					cl.bus = append(cl.bus, delivery{id, m})
				}
			}
			if len(cl.bus) == 0 {
				b.Fatal("no action after the node left")
			}
			d := cl.bus[0]
			cl.bus = cl.bus[1:]
			for _, id := range cl.up {
				timed(id, func() { cl.ctl[id].Deliver(cl.now, d.from, d.payload) })
			}
		}
		b.StopTimer()
		actions = len(dc.transition.actions)
	}
	b.ReportMetric(float64(actions), "actions")
}
