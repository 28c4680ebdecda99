package sched

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"

	"github.com/hakit/hakit/crm/cib"
)

// The scheduler's invariants over random CIBs (the differential test's
// generator). Each names what Pacemaker promises an admin.

var propSeed = flag.Int64("prop.seed", 20261122, "seed of the scheduler properties' gopter run")

func schedProperties(t *testing.T, name string, check func(gc *genCase) string) {
	params := gopter.DefaultTestParametersWithSeed(*propSeed)
	params.MinSuccessfulTests = 300
	props := gopter.NewProperties(params)
	props.Property(name, prop.ForAll(func(gc *genCase) string {
		msg := check(gc)
		if msg != "" {
			// The case is the whole bug report: keep it for crm_simulate.
			if b, err := gc.CIB.Marshal(); err == nil {
				f, err := os.CreateTemp("", "hakit-sched-property-*.xml")
				if err == nil {
					f.Write(b)
					f.Close()
					msg += " (CIB: " + f.Name() + ")"
				}
			}
		}
		return msg
	}, genSchedCase()))
	props.TestingRun(t)
}

// runningNodes lists where each primitive instance ends up.
func finalByInstance(res *Result) map[string][]Instance {
	out := map[string][]Instance{}
	for _, in := range res.Final {
		out[in.ID] = append(out[in.ID], in)
	}
	return out
}

func TestPropertyNeverOnForbiddenNodes(t *testing.T) {
	schedProperties(t, "no start on a standby, offline or -INFINITY node", func(gc *genCase) string {
		res, err := Schedule(Input{CIB: gc.CIB})
		if err != nil {
			return err.Error()
		}
		state := map[string]NodeState{}
		for _, n := range res.Nodes {
			state[n.Name] = n.State
		}
		for _, a := range res.Actions {
			if a.Task != TaskStart && a.Task != TaskPromote {
				continue
			}
			if st := state[a.Node]; st != NodeOnline {
				return fmt.Sprintf("%s %s on %s, which is %s", a.Task, a.Resource, a.Node, st)
			}
			if w, ok := res.Scores[a.Resource][a.Node]; ok && w <= -cib.Infinity {
				return fmt.Sprintf("%s %s on %s, where its score is -INFINITY", a.Task, a.Resource, a.Node)
			}
		}
		return ""
	})
}

func TestPropertyInfinityColocationsHold(t *testing.T) {
	schedProperties(t, "INFINITY colocations hold in the output", func(gc *genCase) string {
		c := gc.CIB
		if colocationCycle(c) {
			return "" // Pacemaker too lets a loop break one of its colocations
		}
		res, err := Schedule(Input{CIB: c})
		if err != nil {
			return err.Error()
		}
		pl := res.Placement(c)
		nodesOf := func(id string) ([]string, bool) {
			r, ancestors := c.Resource(id)
			if r == nil {
				return nil, false
			}
			for _, a := range ancestors {
				if cl, ok := a.(*cib.Clone); ok {
					return pl.Resources[cl.ID].Nodes, true
				}
			}
			if g, ok := r.(*cib.Group); ok {
				// A group is where all of its members are.
				var common []string
				for i, ch := range g.Children {
					ns := pl.Resources[ch.ResourceID()].Nodes
					if i == 0 {
						common = slices.Clone(ns)
						continue
					}
					common = slices.DeleteFunc(common, func(n string) bool { return !slices.Contains(ns, n) })
				}
				return common, true
			}
			return pl.Resources[id].Nodes, true
		}
		for _, con := range c.Config.Constraints {
			co, ok := con.(*cib.Colocation)
			if !ok || len(co.Sets) > 0 || co.NodeAttribute != "" || co.RscRole != "" || co.WithRscRole != "" {
				continue
			}
			w, err := co.ScoreValue()
			if err != nil || (w < cib.Infinity && w > -cib.Infinity) {
				continue
			}
			dep, ok1 := nodesOf(co.Rsc)
			prim, ok2 := nodesOf(co.WithRsc)
			if !ok1 || !ok2 || unmanagedAnywhere(res) {
				continue
			}
			for _, n := range dep {
				if w >= cib.Infinity && !slices.Contains(prim, n) {
					return fmt.Sprintf("colocation %s: %s runs on %s without %s (on %v)", co.ID, co.Rsc, n, co.WithRsc, prim)
				}
				if w <= -cib.Infinity && slices.Contains(prim, n) {
					return fmt.Sprintf("colocation %s: %s runs on %s with %s", co.ID, co.Rsc, n, co.WithRsc)
				}
			}
		}
		return ""
	})
}

// unmanagedAnywhere: resources the cluster may not touch stay where they
// are whatever the constraints say, so colocations are not checked then.
func unmanagedAnywhere(res *Result) bool {
	for _, w := range res.Warnings {
		if strings.Contains(w, "no fencing device") {
			return true // nothing may be started or stopped at all
		}
	}
	for _, in := range res.Final {
		if in.Unmanaged || in.Blocked {
			return true
		}
	}
	return false
}

func TestPropertyFixedPoint(t *testing.T) {
	schedProperties(t, "simulating the result again yields no actions", func(gc *genCase) string {
		if colocationCycle(gc.CIB) {
			return "" // see colocationCycle
		}
		if frozen(gc.CIB) {
			return "" // see frozen
		}
		res, err := Schedule(Input{CIB: gc.CIB})
		if err != nil {
			return err.Error()
		}
		next := Apply(gc.CIB, res)
		again, err := Schedule(Input{CIB: next})
		if err != nil {
			return "second run: " + err.Error()
		}
		for _, a := range again.Actions {
			if a.Task == TaskMonitor && a.Interval == 0 {
				continue // probes of nodes Apply had no record for
			}
			return fmt.Sprintf("not a fixed point: %s %s on %s after the transition (seed %d)", a.Task, a.Resource, a.Node, gc.Seed)
		}
		return ""
	})
}

func TestPropertyStickinessPreventsGratuitousMoves(t *testing.T) {
	schedProperties(t, "with enough stickiness and nothing changed, nothing moves", func(gc *genCase) string {
		if colocationCycle(gc.CIB) {
			return ""
		}
		// Settle the cluster first, then raise stickiness far above every
		// finite score: with no node lost, no constraint changed and no
		// failure, a running resource must stay where it is.
		res, err := Schedule(Input{CIB: gc.CIB})
		if err != nil {
			return err.Error()
		}
		settled := Apply(gc.CIB, res)
		sticky := settled.Clone()
		sticky.Config.RscDefaults = []cib.NVSet{{ID: "sticky-defaults", Pairs: []cib.NVPair{
			{ID: "sticky-defaults-stickiness", Name: "resource-stickiness", Value: "900000"}}}}
		dropResourceStickiness(sticky)
		before, err := Schedule(Input{CIB: sticky})
		if err != nil {
			return err.Error()
		}
		for _, a := range before.Actions {
			if a.Task == TaskStop || (a.Task == TaskStart && wasRunning(before, a.Resource)) {
				return fmt.Sprintf("%s %s on %s with stickiness 900000 and nothing changed", a.Task, a.Resource, a.Node)
			}
		}
		return ""
	})
}

func wasRunning(res *Result, id string) bool {
	for _, in := range res.Current {
		if in.ID == id {
			return true
		}
	}
	return false
}

// dropResourceStickiness removes per-resource stickiness so that the
// defaults apply everywhere.
func dropResourceStickiness(c *cib.CIB) {
	var walk func(r cib.Resource)
	strip := func(sets []cib.NVSet) []cib.NVSet {
		for i := range sets {
			sets[i].Pairs = slices.DeleteFunc(sets[i].Pairs, func(p cib.NVPair) bool { return p.Name == "resource-stickiness" })
		}
		return sets
	}
	walk = func(r cib.Resource) {
		switch r := r.(type) {
		case *cib.Primitive:
			r.MetaAttrs = strip(r.MetaAttrs)
		case *cib.Group:
			r.MetaAttrs = strip(r.MetaAttrs)
			for _, ch := range r.Children {
				walk(ch)
			}
		case *cib.Clone:
			r.MetaAttrs = strip(r.MetaAttrs)
			if r.Child != nil {
				walk(r.Child)
			}
		}
	}
	for _, r := range c.Config.Resources {
		walk(r)
	}
}

// colocationCycle reports whether the colocations (groups' internal ones
// included) form a cycle. Pacemaker breaks such loops wherever its
// recursion happens to meet them ("Breaking assignment loop"), so neither
// it nor hakit promises a fixed point there; the properties skip them.
func colocationCycle(c *cib.CIB) bool {
	edges := map[string][]string{}
	top := func(id string) string {
		r, ancestors := c.Resource(id)
		if r == nil {
			return id
		}
		for _, a := range ancestors {
			if _, ok := a.(*cib.Clone); ok {
				return a.ResourceID()
			}
			if _, ok := a.(*cib.Group); ok {
				return a.ResourceID()
			}
		}
		return id
	}
	for _, con := range c.Config.Constraints {
		if co, ok := con.(*cib.Colocation); ok && len(co.Sets) == 0 {
			a, b := top(co.Rsc), top(co.WithRsc)
			edges[a] = append(edges[a], b)
		}
	}
	state := map[string]int{}
	var visit func(string) bool
	visit = func(n string) bool {
		switch state[n] {
		case 1:
			return true
		case 2:
			return false
		}
		state[n] = 1
		for _, m := range edges[n] {
			if visit(m) {
				return true
			}
		}
		state[n] = 2
		return false
	}
	for n := range edges {
		if visit(n) {
			return true
		}
	}
	return false
}

// frozen reports a partition without quorum under no-quorum-policy=freeze.
// There a failed resource is recovered in place even where its scores
// would now send it away, and the next transition stops it: hakit does
// not yet reach a fixed point in one step there (an open bug, listed in
// crm/DEVIATIONS.md).
func frozen(c *cib.CIB) bool {
	v, _, _ := c.Property("no-quorum-policy", cib.RuleInput{})
	if v != "freeze" {
		return false
	}
	for _, a := range c.Extra.Attrs {
		if a.Name == "have-quorum" && (a.Value == "1" || a.Value == "true") {
			return false
		}
	}
	return true
}
