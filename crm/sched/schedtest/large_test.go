package schedtest

import (
	"bytes"
	"testing"

	"github.com/hakit/hakit/crm/cib"
)

// shape counts what Large built.
type shape struct {
	primitives, grouped, clones, promotable, constraints  int
	locations, rules, colocations, infColocations, orders int
	running, failed, disabled, nodes, online, nodeStates  int
}

func measure(t *testing.T, c *cib.CIB) shape {
	t.Helper()
	var s shape
	prims := map[string]bool{}
	for _, r := range c.Config.Resources {
		switch r := r.(type) {
		case *cib.Primitive:
			s.primitives++
			prims[r.ID] = true
			if m, err := c.Meta(r.ID, cib.RuleInput{}); err == nil {
				if role, _ := m.TargetRole(); role == cib.RoleStopped {
					s.disabled++
				}
			}
		case *cib.Group:
			for _, ch := range r.Children {
				s.primitives++
				s.grouped++
				prims[ch.ResourceID()] = true
			}
		case *cib.Clone:
			s.primitives++
			s.clones++
			prims[r.Child.ResourceID()] = true
			if r.Promotable() {
				s.promotable++
			}
		}
	}
	for _, k := range c.Config.Constraints {
		s.constraints++
		switch k := k.(type) {
		case *cib.Location:
			s.locations++
			if len(k.Rules) > 0 {
				s.rules++
			}
		case *cib.Colocation:
			s.colocations++
			if k.Score == "INFINITY" {
				s.infColocations++
			}
		case *cib.Order:
			s.orders++
		}
	}
	s.nodes = len(c.Config.Nodes)
	runningSomewhere := map[string]bool{}
	for _, ns := range c.Status.NodeStates {
		s.nodeStates++
		if ns.Online() {
			s.online++
		}
		for p := range prims {
			h := c.History(ns.Uname, p)
			if h.State == cib.StateUnknown {
				t.Errorf("%s has no history on %s: every node has probed every resource", p, ns.Uname)
			}
			if h.State.Active() {
				runningSomewhere[p] = true
			}
			if h.State == cib.StateFailed {
				s.failed++
			}
		}
	}
	s.running = len(runningSomewhere)
	return s
}

func TestLargeShape(t *testing.T) {
	c := Large(1000, 32, 500, 1)
	s := measure(t, c)
	t.Logf("%+v", s)
	if s.primitives != 1000 || s.nodes != 32 || s.nodeStates != 32 || s.online != 32 || s.constraints != 500 {
		t.Errorf("counts: %d primitives, %d nodes (%d states, %d online), %d constraints; want 1000, 32, 500",
			s.primitives, s.nodes, s.nodeStates, s.online, s.constraints)
	}
	if s.grouped < 100 || s.grouped > 110 || s.clones < 3 || s.promotable != 1 {
		t.Errorf("%d primitives in groups, %d clones (%d promotable); want about 10%% grouped, a few clones, one promotable", s.grouped, s.clones, s.promotable)
	}
	for name, n := range map[string]int{"locations": s.locations, "rule-based locations": s.rules,
		"colocations": s.colocations, "INFINITY colocations": s.infColocations, "orders": s.orders,
		"failed resources": s.failed, "disabled resources": s.disabled} {
		if n == 0 {
			t.Errorf("no %s: the mix is meant to have some", name)
		}
	}
	if s.running < 400 || s.running > 600 {
		t.Errorf("%d of 1000 primitives run somewhere; want about half", s.running)
	}
}

// TestLargeValid covers the sizes the benchmarks use and some odd ones:
// Large panics if Validate finds anything, so building is the test.
func TestLargeValid(t *testing.T) {
	for _, size := range [][3]int{{0, 1, 0}, {1, 1, 5}, {5, 2, 10}, {19, 3, 40}, {50, 4, 25}, {200, 8, 100}, {300, 5, 2000}} {
		for seed := range uint64(5) {
			c := Large(size[0], size[1], size[2], seed)
			if _, err := c.Marshal(); err != nil {
				t.Errorf("Large(%v, %d): %v", size, seed, err)
			}
		}
	}
}

func TestLargeDeterministic(t *testing.T) {
	a, err := Large(200, 8, 100, 7).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Large(200, 8, 100, 7).Marshal()
	other, _ := Large(200, 8, 100, 8).Marshal()
	if !bytes.Equal(a, b) {
		t.Errorf("two calls with the same seed differ")
	}
	if bytes.Equal(a, other) {
		t.Errorf("seeds 7 and 8 give the same CIB")
	}
	// What the file says is what the model said.
	c, err := cib.Parse("large.xml", a)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.Marshal(); !bytes.Equal(again, a) {
		t.Errorf("Large's CIB does not survive a round trip through its own XML")
	}
}
