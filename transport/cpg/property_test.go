package cpg

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/hakit/hakit/node/env"
)

// schedOp is one step of a random schedule. Kind picks the action through
// opKinds, so that the common ones are drawn more often.
type schedOp struct {
	Kind  int
	Node  int // 0-based
	Slot  int // which of the node's processes
	Group int
	Arg   int
}

const (
	opJoin = iota
	opLeave
	opMcast
	opKill
	opSequence
	opDeliver
	opPartition
	opHeal
	opRestart
	opQueueCap
)

var opKinds = []int{
	opJoin, opJoin, opJoin, opJoin, opLeave, opMcast, opMcast, opMcast, opKill,
	opSequence, opSequence, opSequence, opSequence, opDeliver, opDeliver, opDeliver, opDeliver, opDeliver,
	opPartition, opPartition, opHeal, opRestart, opQueueCap,
}

var opNames = [...]string{"join", "leave", "mcast", "kill", "seq", "deliver", "partition", "heal", "restart", "cap"}

func (o schedOp) String() string {
	return fmt.Sprintf("%s(n%d s%d g%d %d)", opNames[opKinds[o.Kind]], o.Node+1, o.Slot, o.Group, o.Arg)
}

const slotsPerNode = 3

var groupNames = []string{"alpha", "beta", "gamma"}

// tails pick where transitional groups stop in the old ring's log.
var tails = []tailFunc{
	allTail,
	noTail,
	func(r *hring, _ []env.NodeID, lo int) int { return lo + (len(r.log)-lo)/2 },
}

// model is the schedule's view of what each live process wants.
type model struct {
	c       *cluster
	slots   [][]uint32 // live pids, per node
	nextPID []uint32
	want    map[proc]map[string]bool
	step    int
}

func newModel(c *cluster) *model {
	m := &model{c: c, want: map[proc]map[string]bool{}}
	for range c.nodes {
		m.slots = append(m.slots, make([]uint32, slotsPerNode))
		m.nextPID = append(m.nextPID, 100)
	}
	for i := range c.nodes {
		for s := range slotsPerNode {
			m.spawn(i, s)
		}
	}
	return m
}

func (m *model) spawn(node, slot int) {
	m.nextPID[node]++
	m.slots[node][slot] = m.nextPID[node]
}

func (m *model) proc(node, slot int) proc {
	n := m.c.nodes[node]
	return proc{n.id, n.life, m.slots[node][slot]}
}

func (m *model) apply(o schedOp) error {
	m.step++
	c := m.c
	node, slot := o.Node%len(c.nodes), o.Slot%slotsPerNode
	n := c.nodes[node]
	p := m.proc(node, slot)
	g := groupNames[o.Group%len(groupNames)]
	wants := m.want[p][g]
	switch opKinds[o.Kind%len(opKinds)] {
	case opJoin:
		err := c.join(n.id, p.pid, g)
		if wants != errors.Is(err, ErrAlreadyJoined) || !wants && err != nil {
			return fmt.Errorf("%v join %q: %v (model: joined=%v)", p, g, err, wants)
		}
		if m.want[p] == nil {
			m.want[p] = map[string]bool{}
		}
		m.want[p][g] = true
	case opLeave:
		err := c.leave(n.id, p.pid, g)
		if wants == errors.Is(err, ErrNotJoined) || wants && err != nil {
			return fmt.Errorf("%v leave %q: %v (model: joined=%v)", p, g, err, wants)
		}
		delete(m.want[p], g)
	case opMcast:
		err := c.mcast(n.id, p.pid, g, fmt.Sprintf("m%d", m.step))
		if wants == errors.Is(err, ErrNotJoined) || wants && err != nil {
			return fmt.Errorf("%v mcast %q: %v (model: joined=%v)", p, g, err, wants)
		}
	case opKill:
		c.leaveAll(n.id, p.pid)
		delete(m.want, p)
		m.spawn(node, slot)
	case opSequence:
		c.drain(n)
		for range o.Arg%4 + 1 {
			c.sequence(n)
		}
	case opDeliver:
		for range o.Arg%4 + 1 {
			c.deliver(n)
		}
	case opPartition:
		var a, b []env.NodeID
		for i, nd := range c.nodes {
			if o.Arg&(1<<i) != 0 {
				a = append(a, nd.id)
			} else {
				b = append(b, nd.id)
			}
		}
		groups := [][]env.NodeID{}
		for _, g := range [][]env.NodeID{a, b} {
			if len(g) > 0 {
				groups = append(groups, g)
			}
		}
		c.repartition(tails[o.Slot%len(tails)], groups...)
	case opHeal:
		c.repartition(tails[o.Slot%len(tails)], c.all())
	case opRestart:
		for s := range slotsPerNode {
			delete(m.want, m.proc(node, s))
		}
		c.restart(n.id, o.Arg%2 == 0, tails[o.Slot%len(tails)])
		for s := range slotsPerNode {
			m.spawn(node, s)
		}
	case opQueueCap:
		n.queueCap = o.Arg % 3 * 2
	}
	return c.failure
}

// runSchedule plays a schedule on a cluster, then lifts the queue bounds,
// heals everything into one ring and requires that every replica holds
// the table the live processes want, and that a last multicast from each
// member reaches every member of its group. The tables are checked at
// every delivery, the traces at the end.
func runSchedule(t testing.TB, nodes int, ops []schedOp) error {
	c := newUpCluster(t, nodes)
	m := newModel(c)
	for _, o := range ops {
		if err := m.apply(o); err != nil {
			return err
		}
	}
	for _, n := range c.nodes {
		n.queueCap = 0
	}
	c.repartition(allTail, c.all())
	c.settle()
	if c.failure != nil {
		return c.failure
	}
	want := map[string][]Member{}
	for p, gs := range m.want {
		for g := range gs {
			want[g] = append(want[g], Member{p.node, p.pid})
		}
	}
	for g := range want {
		slices.SortFunc(want[g], Member.compare)
	}
	for _, n := range c.nodes {
		st := n.svc.Status()
		if !st.Synced || st.Pending != 0 || st.Held != 0 {
			return fmt.Errorf("node %d after healing: %+v", n.id, st)
		}
		if got := n.svc.Groups(); !reflect.DeepEqual(got, want) {
			return fmt.Errorf("node %d after healing holds\n%s\nthe processes want\n%s", n.id, tableString(got), tableString(want))
		}
	}
	before := map[proc]int{}
	for p, tr := range c.traces {
		before[p] = len(tr)
	}
	for _, g := range slices.Sorted(maps.Keys(want)) {
		for _, mem := range want[g] {
			if err := c.mcast(mem.Node, mem.PID, g, fmt.Sprintf("final-%v", mem)); err != nil {
				return fmt.Errorf("final mcast of %v to %q: %v", mem, g, err)
			}
		}
	}
	c.settle()
	for g, ms := range want {
		for _, to := range ms {
			p := proc{to.Node, c.node(to.Node).life, to.PID}
			var got int
			for _, tr := range c.traces[p][before[p]:] {
				if tr.ev.Kind == EventDeliver && tr.ev.Group == g {
					got++
				}
			}
			if got != len(ms) {
				return fmt.Errorf("%v got %d of the %d final messages of %q", p, got, len(ms), g)
			}
		}
	}
	if c.applyErr != 0 {
		return fmt.Errorf("%d deliveries did not decode", c.applyErr)
	}
	return c.checkTraces()
}

func genSchedule(nodes int) gopter.Gen {
	return gen.SliceOf(gen.Struct(reflect.TypeOf(schedOp{}), map[string]gopter.Gen{
		"Kind":  gen.IntRange(0, len(opKinds)-1),
		"Node":  gen.IntRange(0, nodes-1),
		"Slot":  gen.IntRange(0, slotsPerNode-1),
		"Group": gen.IntRange(0, len(groupNames)-1),
		"Arg":   gen.IntRange(0, 1<<nodes-1),
	}))
}

// TestRandomSchedules: on 2-4 nodes, random joins, leaves, multicasts and
// process deaths interleaved with partitions, merges, restarts and full
// send queues keep the tables equal wherever the exchange is over, keep
// virtual synchrony per group, and converge once healed. On failure
// gopter shrinks the schedule to a minimal one and prints it.
func TestRandomSchedules(t *testing.T) {
	params := gopter.DefaultTestParametersWithSeed(4321)
	params.MinSuccessfulTests = 400
	params.Workers = 1
	params.MaxSize = 120 // schedule length
	if testing.Short() {
		params.MinSuccessfulTests = 60
	}
	props := gopter.NewProperties(params)
	for _, nodes := range []int{2, 3, 4} {
		props.Property(fmt.Sprintf("%d nodes", nodes), prop.ForAll(
			func(ops []schedOp) (bool, error) {
				if err := runSchedule(t, nodes, ops); err != nil {
					return false, fmt.Errorf("%w\nschedule: %v", err, ops)
				}
				return true, nil
			},
			genSchedule(nodes),
		))
	}
	props.TestingRun(t)
}
