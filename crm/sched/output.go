package sched

import (
	"slices"

	"github.com/hakit/hakit/crm/cib"
)

func (s *scheduler) result() *Result {
	res := &Result{Scores: map[string]map[string]cib.Score{}, Warnings: s.warnings}
	for _, n := range s.nodes {
		res.Nodes = append(res.Nodes, Node{Name: n.name, ID: n.id, State: n.state()})
		fn := Node{Name: n.name, ID: n.id, State: n.state()}
		if n.fenced {
			fn.State = NodeOffline
		}
		res.FinalNodes = append(res.FinalNodes, fn)
	}
	for _, p := range s.prims {
		base := Instance{ID: p.id, Primitive: p.confID, Unmanaged: !p.managed, Blocked: p.blocked}
		if cl := p.cloneParent(); cl != nil {
			base.Clone = cl.confID
		}
		if p.parent != nil && p.parent.kind == rscGroup {
			base.Group = p.parent.confID
		}
		for i, n := range p.running {
			in := base
			in.Node, in.Role, in.Failed = n.name, p.runRoles[i], p.failed
			res.Current = append(res.Current, in)
		}
		if !s.canAct(p) {
			for i, n := range p.running {
				if n.fenced {
					continue
				}
				in := base
				in.Node, in.Role, in.Failed = n.name, p.runRoles[i], p.failed
				res.Final = append(res.Final, in)
			}
		} else if p.assigned != nil {
			in := base
			in.Node, in.Role = p.assigned.name, cib.RoleStarted
			if p.nextRole == cib.RolePromoted {
				in.Role = cib.RolePromoted
			} else if p.cloneParent() != nil && p.cloneParent().promotable {
				in.Role = cib.RoleUnpromoted
			}
			res.Final = append(res.Final, in)
		}
		sc := map[string]cib.Score{}
		for i, e := range p.allowed {
			if e.in {
				sc[s.nodes[i].name] = e.w
			}
		}
		res.Scores[p.id] = sc
	}
	byInst := func(a, b Instance) int {
		if c := compareStrings(a.ID, b.ID); c != 0 {
			return c
		}
		return compareStrings(a.Node, b.Node)
	}
	slices.SortFunc(res.Current, byInst)
	slices.SortFunc(res.Final, byInst)
	res.Actions = s.actions.sorted(&res.Warnings)
	return res
}

// sorted lists the actions so that each comes after everything it waits
// for, otherwise in creation order, and fills in After.
func (g *graph) sorted(warnings *[]string) []Action {
	indeg := map[*Action]int{}
	next := map[*Action][]*Action{}
	for then, firsts := range g.after {
		for first := range firsts {
			indeg[then]++
			next[first] = append(next[first], then)
		}
	}
	var ready []*Action
	for _, a := range g.list {
		if indeg[a] == 0 {
			ready = append(ready, a)
		}
	}
	var order []*Action
	for len(ready) > 0 {
		slices.SortFunc(ready, func(a, b *Action) int { return a.ID - b.ID })
		a := ready[0]
		ready = ready[1:]
		order = append(order, a)
		for _, t := range next[a] {
			indeg[t]--
			if indeg[t] == 0 {
				ready = append(ready, t)
			}
		}
	}
	if len(order) < len(g.list) {
		*warnings = append(*warnings, "the action graph has a cycle; actions on it are listed in creation order")
		for _, a := range g.list {
			if !slices.Contains(order, a) {
				order = append(order, a)
			}
		}
	}
	// Renumber in the final order so that IDs read top to bottom.
	newID := map[*Action]int{}
	for i, a := range order {
		newID[a] = i + 1
	}
	out := make([]Action, len(order))
	for i, a := range order {
		out[i] = *a
		out[i].ID = newID[a]
		out[i].After = nil
		for f := range g.after[a] {
			out[i].After = append(out[i].After, newID[f])
		}
		slices.Sort(out[i].After)
	}
	return out
}
