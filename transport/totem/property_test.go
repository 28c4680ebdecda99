package totem

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/hakit/hakit/node/env"
)

// faultOp is one step of a random fault schedule.
type faultOp struct {
	Kind   int // see apply
	A      int
	WaitMS int
}

func (o faultOp) String() string {
	return fmt.Sprintf("%s(%d)+%dms", [...]string{"send", "crash", "restart", "isolate", "heal", "loss"}[o.Kind], o.A, o.WaitMS)
}

func (o faultOp) apply(h *harness, step int) {
	id := env.NodeID(o.A)
	switch o.Kind {
	case 0:
		h.send(id, fmt.Sprintf("op%d-from%d", step, id))
	case 1:
		h.crash(id)
	case 2:
		h.start(id)
	case 3:
		var rest []env.NodeID
		for _, n := range h.nodes {
			if n != id {
				rest = append(rest, n)
			}
		}
		h.partition([]env.NodeID{id}, rest)
	case 4:
		h.heal()
	case 5:
		h.loss = float64(o.WaitMS%25) / 100
	}
	h.runFor(time.Duration(o.WaitMS) * time.Millisecond)
}

// runSchedule plays a schedule, then heals everything and requires one ring
// of all nodes in which a message from each node reaches every node. The
// safety invariants are checked at every event along the way.
func runSchedule(t testing.TB, nodes int, seed uint64, ops []faultOp) (ok bool, why string) {
	h := newHarness(t, nodes, seed)
	h.soft = true
	h.runFor(time.Second)
	for i, o := range ops {
		o.apply(h, i)
	}
	if h.failure != nil {
		return false, h.failure.Error()
	}
	h.heal()
	h.loss = 0
	for _, id := range h.nodes {
		h.start(id)
	}
	all := slices.Clone(h.nodes)
	if !h.runUntil(60*time.Second, func() bool { return h.oneRing(all...) }) || h.failure != nil {
		if h.failure != nil {
			return false, h.failure.Error()
		}
		return false, "no single ring 60 s after healing:\n" + h.dump()
	}
	for _, id := range h.nodes {
		h.send(id, fmt.Sprintf("final-from%d", id))
	}
	h.runFor(2 * time.Second)
	if h.failure != nil {
		return false, h.failure.Error()
	}
	for _, id := range h.nodes {
		got := h.delivered(id)
		for _, want := range h.nodes {
			if !slices.Contains(got, fmt.Sprintf("final-from%d", want)) {
				return false, fmt.Sprintf("node %d did not deliver final-from%d", id, want)
			}
		}
	}
	return true, ""
}

func genSchedule(nodes int) gopter.Gen {
	return gen.SliceOfN(12, gen.Struct(reflect.TypeOf(faultOp{}), map[string]gopter.Gen{
		"Kind":   gen.IntRange(0, 5),
		"A":      gen.IntRange(1, nodes),
		"WaitMS": gen.IntRange(0, 9000),
	}))
}

// TestRandomFaultSchedules: safety at every event and convergence after
// healing, for random schedules of sends, crashes, restarts, partitions and
// loss on 2-5 node rings. On failure gopter shrinks the schedule to a
// minimal one and prints it with its seed.
func TestRandomFaultSchedules(t *testing.T) {
	params := gopter.DefaultTestParametersWithSeed(1234)
	params.MinSuccessfulTests = 60
	params.Workers = 1
	if testing.Short() {
		params.MinSuccessfulTests = 15
	}
	t.Logf("gopter seed %d", params.Seed())
	props := gopter.NewProperties(params)
	for _, nodes := range []int{2, 3, 5} {
		props.Property(fmt.Sprintf("%d nodes: safe, then converges", nodes), prop.ForAll(
			func(ops []faultOp) (bool, error) {
				ok, why := runSchedule(t, nodes, 99, ops)
				if !ok {
					return false, fmt.Errorf("%s\nschedule: %v", why, ops)
				}
				return true, nil
			},
			genSchedule(nodes),
		))
	}
	props.TestingRun(t)
}
