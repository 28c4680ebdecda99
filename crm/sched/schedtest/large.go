// Package schedtest owns generators of large CIBs for the scheduler's
// benchmarks and tests: configurations of the size and mix a busy
// production cluster has (hundreds of resources, groups, clones, a
// promotable clone, locations, rules, colocations and orders) together
// with a status section in mid-life, so that the scheduler has stops,
// starts, moves, promotions and recoveries to compute, not a blank slate.
//
// Everything is drawn from one seed, so a benchmark, a failing test and
// `go run ./crm/sched/schedtest/cmd/largecib` for crm_simulate all see the
// same CIB.
package schedtest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/hakit/hakit/crm/cib"
)

// Op digests as Pacemaker 2.1.5 computes them for the operations Large
// configures (crm_simulate -S -x big.xml -O out.xml records the same values
// for the operations it simulates). Every primitive has no parameters and
// the same operations precisely so that one digest per operation fits all
// of them: a recorded operation without its digest makes Pacemaker restart
// the resource, since it cannot tell whether the parameters changed, and
// the benchmark would then time a cluster-wide restart instead of the
// intended transition. The one-off operations (probe, start, promote)
// share one digest, the recurring monitors another.
const (
	oneOffDigest    = "f2317cad3d54cec5d7d7aa7d0bf35cf8"
	recurringDigest = "4811cef7f7f94e3a35a70be7916cb2fd"
)

// kind is what a top-level resource is.
type kind int

const (
	kPrimitive kind = iota
	kGroup
	kClone
	kPromotable
)

// top is one top-level resource as the generator tracks it.
type top struct {
	id       string
	kind     kind
	prims    []string // the primitives inside, in order
	disabled bool     // target-role=Stopped
	infDeps  int      // resources colocated with it at INFINITY
	infDep   bool     // it is itself colocated with something at INFINITY
}

type gen struct {
	r     *rand.Rand
	c     *cib.CIB
	nodes []string
	tops  []*top
	// pingless are the nodes whose pingd is 0 (their gateway is gone),
	// which rule-based locations keep resources away from.
	pingless map[string]bool
	uuid     string
	callID   []int // per node
	trans    int
}

// Large builds a deterministic CIB of nodes online nodes, primitives
// primitives and constraints constraints, drawn from seed: about 10% of
// the primitives in groups of 3 to 5, a few clones (the first one
// promotable), the rest standalone Dummy resources; locations by score,
// bans, and rules on a node attribute; colocations finite and INFINITY;
// mandatory and optional orders; resource-stickiness 100 by default. In
// the status section about half of the resources already run, some on
// nodes their constraints now forbid, a few disabled ones still run and a
// few have a failed monitor.
//
// The result passes cib.Validate without a problem: orders only go from
// earlier to later resources (so mandatory orders cannot form a cycle),
// INFINITY colocations are one level deep and never point at a disabled
// resource, and no location is +INFINITY, so no combination of
// constraints leaves a resource without a node. Large panics on
// arguments it cannot honour (fewer than one node, negative counts).
func Large(primitives, nodes, constraints int, seed uint64) *cib.CIB {
	if nodes < 1 || primitives < 0 || constraints < 0 {
		panic(fmt.Sprintf("schedtest.Large(%d, %d, %d): need at least one node and no negative counts", primitives, nodes, constraints))
	}
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x6861_6b69_745f_6369)), pingless: map[string]bool{}}
	// No crm_feature_set on the root: crm_simulate 2.1.5 (feature set
	// 3.16.1) aborts at the first action it simulates on a CIB that claims
	// a newer one, and any older value would be a guess.
	g.c = &cib.CIB{ValidateWith: "pacemaker-3.9", Epoch: 1000 + int64(g.r.IntN(1000)), NumUpdates: int64(g.r.IntN(100)),
		Extra: cib.Extra{Attrs: []cib.Attr{{Name: "have-quorum", Value: "1"}, {Name: "dc-uuid", Value: "1"}}}}
	g.uuid = fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", g.r.Uint32(), g.r.IntN(1<<16), g.r.IntN(1<<12), g.r.IntN(1<<12), g.r.Uint64()&(1<<48-1))
	g.properties()
	g.makeNodes(nodes)
	g.resources(primitives)
	g.constraints(constraints)
	g.status()
	if ps := g.c.Validate(); len(ps) > 0 {
		panic(fmt.Sprintf("schedtest.Large(%d, %d, %d, %d) built an invalid CIB (a bug in the generator):\n%v", primitives, nodes, constraints, seed, ps))
	}
	return g.c
}

func nvset(id string, pairs ...string) cib.NVSet {
	s := cib.NVSet{ID: id}
	for i := 0; i+1 < len(pairs); i += 2 {
		s.Pairs = append(s.Pairs, cib.NVPair{ID: id + "-" + pairs[i], Name: pairs[i], Value: pairs[i+1]})
	}
	return s
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) properties() {
	// Fencing is off because the CIB has no fence device: with it on,
	// Pacemaker would refuse to start anything. Quorum is left at its
	// default (stop), so Validate has no split-brain warning to give.
	g.c.Config.CRMConfig = []cib.NVSet{nvset("cib-bootstrap-options",
		"have-watchdog", "false", "cluster-infrastructure", "corosync", "cluster-name", "large",
		"stonith-enabled", "false")}
	g.c.Config.RscDefaults = []cib.NVSet{nvset("rsc-options", "resource-stickiness", "100")}
}

func (g *gen) makeNodes(n int) {
	width := len(strconv.Itoa(n))
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("node%0*d", max(width, 2), i)
		id := strconv.Itoa(i)
		g.nodes = append(g.nodes, name)
		g.c.Config.Nodes = append(g.c.Config.Nodes, cib.Node{ID: id, Uname: name,
			InstanceAttrs: []cib.NVSet{nvset("nodes-"+id, "rack", fmt.Sprintf("rack%d", (i-1)%4+1))}})
	}
	// One node in sixteen has lost its gateway (never all of them).
	for _, i := range g.r.Perm(n)[:n/16] {
		g.pingless[g.nodes[i]] = true
	}
}

func dummy(id string, meta ...string) *cib.Primitive {
	p := &cib.Primitive{ID: id, Class: "ocf", Provider: "pacemaker", Type: "Dummy",
		Ops: []cib.Op{
			{ID: id + "-monitor-10s", Name: "monitor", Interval: "10s", Timeout: "20s"},
			{ID: id + "-start-0s", Name: "start", Interval: "0s", Timeout: "20s"},
			{ID: id + "-stop-0s", Name: "stop", Interval: "0s", Timeout: "20s"},
		}}
	if len(meta) > 0 {
		p.MetaAttrs = []cib.NVSet{nvset(id+"-meta_attributes", meta...)}
	}
	return p
}

func stateful(id string) *cib.Primitive {
	return &cib.Primitive{ID: id, Class: "ocf", Provider: "pacemaker", Type: "Stateful",
		Ops: []cib.Op{
			{ID: id + "-monitor-10s", Name: "monitor", Interval: "10s", Timeout: "20s", Role: "Promoted"},
			{ID: id + "-monitor-11s", Name: "monitor", Interval: "11s", Timeout: "20s", Role: "Unpromoted"},
			{ID: id + "-start-0s", Name: "start", Interval: "0s", Timeout: "20s"},
			{ID: id + "-stop-0s", Name: "stop", Interval: "0s", Timeout: "20s"},
			{ID: id + "-promote-0s", Name: "promote", Interval: "0s", Timeout: "10s"},
			{ID: id + "-demote-0s", Name: "demote", Interval: "0s", Timeout: "10s"},
		}}
}

// resources lays out the top-level resources in a shuffled order (a real
// configuration grows by accretion, not by kind) and numbers the
// primitives in document order so that ids read in sequence.
func (g *gen) resources(primitives int) {
	var kinds []kind
	left := primitives
	if primitives >= 20 {
		clones := 2 + primitives/250
		kinds = append(kinds, kPromotable)
		for range clones - 1 {
			kinds = append(kinds, kClone)
		}
		left -= clones
	}
	var groupSizes []int
	for grouped := 0; grouped < primitives/10; {
		n := min(3+g.r.IntN(3), left)
		if n < 3 {
			break
		}
		groupSizes = append(groupSizes, n)
		grouped += n
		left -= n
		kinds = append(kinds, kGroup)
	}
	for range left {
		kinds = append(kinds, kPrimitive)
	}
	g.r.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })

	next := 0
	prim := func() string { next++; return fmt.Sprintf("rsc%04d", next) }
	var groups, clones int
	for _, k := range kinds {
		t := &top{kind: k}
		var r cib.Resource
		switch k {
		case kPrimitive:
			id := prim()
			var meta []string
			switch {
			case g.chance(0.03):
				meta = append(meta, "target-role", "Stopped")
				t.disabled = true
			case g.chance(0.05):
				meta = append(meta, "resource-stickiness", []string{"0", "500", "INFINITY"}[g.r.IntN(3)])
			}
			if g.chance(0.1) {
				meta = append(meta, "priority", strconv.Itoa(1+g.r.IntN(10)))
			}
			t.id, t.prims, r = id, []string{id}, dummy(id, meta...)
		case kGroup:
			groups++
			gr := &cib.Group{ID: fmt.Sprintf("grp%03d", groups)}
			for range groupSizes[groups-1] {
				id := prim()
				gr.Children = append(gr.Children, dummy(id))
				t.prims = append(t.prims, id)
			}
			t.id, r = gr.ID, gr
		case kClone:
			clones++
			id := prim()
			cl := &cib.Clone{ID: fmt.Sprintf("clone%02d-%s", clones, id), Child: dummy(id)}
			if g.chance(0.5) {
				cl.MetaAttrs = []cib.NVSet{nvset(cl.ID+"-meta_attributes", "interleave", "true")}
			}
			t.id, t.prims, r = cl.ID, []string{id}, cl
		case kPromotable:
			clones++
			id := prim()
			cl := &cib.Clone{ID: fmt.Sprintf("clone%02d-%s", clones, id), Child: stateful(id),
				MetaAttrs: []cib.NVSet{nvset(fmt.Sprintf("clone%02d-%s-meta_attributes", clones, id),
					"promotable", "true", "promoted-max", "1", "promoted-node-max", "1", "interleave", "true")}}
			t.id, t.prims, r = cl.ID, []string{id}, cl
		}
		g.tops = append(g.tops, t)
		g.c.Config.Resources = append(g.c.Config.Resources, r)
	}
}

// constraints draws n constraints. The first two, when there is a
// promotable clone, are the pattern every DRBD-style setup has: a
// resource colocated with the promoted instance and started after the
// promotion.
func (g *gen) constraints(n int) {
	if len(g.tops) < 2 {
		return
	}
	var seq int
	id := func(prefix string) string { seq++; return fmt.Sprintf("%s-%04d", prefix, seq) }
	add := func(c cib.Constraint) { g.c.Config.Constraints = append(g.c.Config.Constraints, c) }
	if i := slices.IndexFunc(g.tops, func(t *top) bool { return t.kind == kPromotable }); i >= 0 && n >= 2 {
		ms := g.tops[i]
		if j := slices.IndexFunc(g.tops[i+1:], func(t *top) bool { return t.kind == kPrimitive && !t.disabled }); j >= 0 {
			dep := g.tops[i+1+j]
			dep.infDep, ms.infDeps = true, ms.infDeps+1
			add(&cib.Colocation{ID: id("col-with-promoted"), Score: "INFINITY", Rsc: dep.id, WithRsc: ms.id, WithRscRole: "Promoted"})
			add(&cib.Order{ID: id("ord-after-promote"), Kind: "Mandatory", First: ms.id, FirstAction: "promote", Then: dep.id, ThenAction: "start"})
			n -= 2
		}
	}
	for range n {
		switch x := g.r.Float64(); {
		case x < 0.35:
			g.location(id("loc"), add)
		case x < 0.45:
			g.ruleLocation(id("loc-rule"), add)
		case x < 0.75:
			g.colocation(id("col"), add)
		default:
			g.order(id("ord"), add)
		}
	}
}

func (g *gen) pick() *top { return g.tops[g.r.IntN(len(g.tops))] }

func (g *gen) location(id string, add func(cib.Constraint)) {
	t := g.pick()
	score := strconv.Itoa((g.r.IntN(201) - 100) * 10)
	if g.chance(0.1) {
		score = "-INFINITY"
	}
	add(&cib.Location{ID: id, Rsc: t.id, Score: score, Node: g.nodes[g.r.IntN(len(g.nodes))]})
}

// ruleLocation keeps a resource off the nodes without a gateway (the
// reference setup's pingd rule), or draws it towards a rack.
func (g *gen) ruleLocation(id string, add func(cib.Constraint)) {
	t := g.pick()
	l := &cib.Location{ID: id, Rsc: t.id}
	if g.chance(0.5) {
		l.Rules = []cib.Rule{{ID: id + "-rule", Score: "-INFINITY", BooleanOp: "or", Conditions: []cib.Condition{
			&cib.Expression{ID: id + "-rule-expression", Attribute: "pingd", Operation: "not_defined"},
			&cib.Expression{ID: id + "-rule-expression-0", Attribute: "pingd", Operation: "lte", Value: "0"},
		}}}
	} else {
		l.Rules = []cib.Rule{{ID: id + "-rule", Score: strconv.Itoa(50 * (1 + g.r.IntN(10))), Conditions: []cib.Condition{
			&cib.Expression{ID: id + "-rule-expression", Attribute: "rack", Operation: "eq", Value: fmt.Sprintf("rack%d", 1+g.r.IntN(4))},
		}}}
	}
	add(l)
}

// colocation draws a finite colocation between any two resources, or an
// INFINITY one from a resource that has none yet to one that is not itself
// a dependent, enabled, and has fewer than three dependents: chains and
// piles of mandatory colocations are what make clusters unrunnable.
func (g *gen) colocation(id string, add func(cib.Constraint)) {
	for range 20 {
		dep, with := g.pick(), g.pick()
		if dep == with || dep.kind == kClone || dep.kind == kPromotable {
			continue
		}
		if g.chance(0.4) {
			if dep.infDep || dep.infDeps > 0 || with.infDep || with.disabled || with.infDeps >= 3 {
				continue
			}
			dep.infDep, with.infDeps = true, with.infDeps+1
			add(&cib.Colocation{ID: id, Score: "INFINITY", Rsc: dep.id, WithRsc: with.id})
			return
		}
		score := 50 * (1 + g.r.IntN(20))
		if g.chance(0.3) {
			score = -score
		}
		add(&cib.Colocation{ID: id, Score: strconv.Itoa(score), Rsc: dep.id, WithRsc: with.id})
		return
	}
	g.location(id, add)
}

// order draws an order from an earlier resource to a later one, so that
// however many are drawn they cannot form a cycle. A disabled resource is
// never first of a mandatory order: that would block its successor too.
func (g *gen) order(id string, add func(cib.Constraint)) {
	for range 20 {
		i, j := g.r.IntN(len(g.tops)), g.r.IntN(len(g.tops))
		if i == j {
			continue
		}
		i, j = min(i, j), max(i, j)
		first, then := g.tops[i], g.tops[j]
		kind := "Mandatory"
		if g.chance(0.4) {
			kind = "Optional"
		} else if first.disabled {
			continue
		}
		add(&cib.Order{ID: id, Kind: kind, First: first.id, Then: then.id})
		return
	}
	g.location(id, add)
}

// status records what a cluster in mid-life has: every node online with
// its attributes, every resource probed on every node, and about half of
// them running somewhere.
func (g *gen) status() {
	type rec struct {
		node, prim, agent string
		ops               []cib.LRMOp
	}
	hist := make([][]rec, len(g.nodes)) // per node, in resource order
	g.callID = make([]int, len(g.nodes))
	fails := map[int][]cib.NVPair{}
	for _, t := range g.tops {
		where := map[int]bool{} // node index -> runs there
		promoted := -1
		switch t.kind {
		case kPrimitive, kGroup:
			if g.chance(0.5) {
				where[g.r.IntN(len(g.nodes))] = true
			}
		case kClone, kPromotable:
			for i := range g.nodes {
				if g.chance(0.5) {
					where[i] = true
				}
			}
			if t.kind == kPromotable && len(where) > 0 {
				on := slices.Sorted(maps.Keys(where))
				promoted = on[g.r.IntN(len(on))]
			}
		}
		for _, p := range t.prims {
			agent := "Dummy"
			if t.kind == kPromotable {
				agent = "Stateful"
			}
			for ni, node := range g.nodes {
				var ops []cib.LRMOp
				switch {
				case !where[ni]:
					ops = []cib.LRMOp{g.op(ni, p, "monitor", 0, cib.RCNotRunning, cib.RCNotRunning, oneOffDigest)}
				case t.kind == kPromotable && ni == promoted:
					ops = []cib.LRMOp{g.op(ni, p, "promote", 0, cib.RCOK, cib.RCOK, oneOffDigest),
						g.op(ni, p, "monitor", 10000, cib.RCRunningPromoted, cib.RCRunningPromoted, recurringDigest)}
				case t.kind == kPromotable:
					ops = []cib.LRMOp{g.op(ni, p, "start", 0, cib.RCOK, cib.RCOK, oneOffDigest),
						g.op(ni, p, "monitor", 11000, cib.RCOK, cib.RCOK, recurringDigest)}
				default:
					mon := g.op(ni, p, "monitor", 10000, cib.RCOK, cib.RCOK, recurringDigest)
					// A monitor that found the resource gone: the
					// scheduler must recover it (stop, then start).
					ops = []cib.LRMOp{g.op(ni, p, "start", 0, cib.RCOK, cib.RCOK, oneOffDigest), mon}
					if g.chance(0.02) {
						failed := g.op(ni, p, "monitor", 10000, cib.RCNotRunning, cib.RCOK, recurringDigest)
						last := failed
						last.ID = p + "_last_failure_0"
						ops = []cib.LRMOp{ops[0], failed, last}
						key := "#monitor_10000"
						fails[ni] = append(fails[ni],
							cib.NVPair{Name: "fail-count-" + p + key, Value: "1"},
							cib.NVPair{Name: "last-failure-" + p + key, Value: strconv.FormatInt(failed.LastRCChange, 10)})
					}
				}
				hist[ni] = append(hist[ni], rec{node: node, prim: p, agent: agent, ops: ops})
			}
		}
	}
	g.c.Status = &cib.Status{}
	for ni, node := range g.nodes {
		id := strconv.Itoa(ni + 1)
		pingd := "1000"
		if g.pingless[node] {
			pingd = "0"
		}
		attrs := nvset("status-"+id, "pingd", pingd)
		for _, p := range fails[ni] {
			p.ID = attrs.ID + "-" + p.Name
			attrs.Pairs = append(attrs.Pairs, p)
		}
		lrm := &cib.LRM{ID: id}
		for _, h := range hist[ni] {
			lrm.Resources = append(lrm.Resources, cib.LRMResource{ID: h.prim, Class: "ocf", Provider: "pacemaker", Type: h.agent, Ops: h.ops})
		}
		g.c.Status.NodeStates = append(g.c.Status.NodeStates, cib.NodeState{ID: id, Uname: node,
			InCCM: "true", Crmd: "online", Join: "member", Expected: "member",
			Transient: &cib.TransientAttributes{ID: id, Sets: []cib.NVSet{attrs}}, LRM: lrm})
	}
}

// op records one operation result on node ni, named as the controller
// names them: <rsc>_last_0 for the latest one-off operation, and
// <rsc>_monitor_<ms> for a recurring monitor.
func (g *gen) op(ni int, rsc, task string, intervalMS int64, rc, targetRC int, digest string) cib.LRMOp {
	g.callID[ni]++
	g.trans++
	id := rsc + "_last_0"
	if intervalMS > 0 {
		id = fmt.Sprintf("%s_%s_%d", rsc, task, intervalMS)
	}
	key := fmt.Sprintf("%d:%d:%d:%s", 1+g.r.IntN(50), g.trans/64, targetRC, g.uuid)
	return cib.LRMOp{ID: id, OperationKey: fmt.Sprintf("%s_%s_%d", rsc, task, intervalMS), Operation: task,
		TransitionKey: key, TransitionMagic: fmt.Sprintf("0:%d;%s", rc, key), OnNode: g.nodes[ni],
		CallID: g.callID[ni], RCCode: rc, IntervalMS: intervalMS,
		LastRCChange: 1772500000 + int64(g.r.IntN(86400)), ExecTimeMS: int64(g.r.IntN(100)),
		Extra: cib.Extra{Attrs: []cib.Attr{{Name: "op-digest", Value: digest}}}}
}
