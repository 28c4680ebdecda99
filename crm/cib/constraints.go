package cib

import (
	"fmt"
	"slices"
	"strings"
)

// OrderKind is how strictly an order constraint binds.
type OrderKind int

const (
	// Mandatory: Then's action waits for First's, and if First stops or
	// restarts, so does Then.
	Mandatory OrderKind = iota
	// Optional: only when both actions happen in the same transition.
	Optional
	// Serialize: never at the same time, in either order.
	Serialize
)

func (k OrderKind) String() string {
	switch k {
	case Optional:
		return "Optional"
	case Serialize:
		return "Serialize"
	}
	return "Mandatory"
}

// OrderKind returns the constraint's kind: kind if given, else from the
// legacy score (0 is Optional, any other score Mandatory, as Pacemaker
// reads it), else Mandatory.
func (o *Order) OrderKind() (OrderKind, error) {
	switch o.Kind {
	case "Mandatory":
		return Mandatory, nil
	case "Optional":
		return Optional, nil
	case "Serialize":
		return Serialize, nil
	case "":
	default:
		return Mandatory, fmt.Errorf("order %s: kind %s is not Mandatory, Optional or Serialize", quote(o.ID), quote(o.Kind))
	}
	if o.Score == "" {
		return Mandatory, nil
	}
	s, err := ParseScore(o.Score)
	if err != nil {
		return Mandatory, fmt.Errorf("order %s: score: %w", quote(o.ID), err)
	}
	if s == 0 {
		return Optional, nil
	}
	return Mandatory, nil
}

// IsSymmetrical reports whether the order also applies in reverse to
// stopping (stop Then before First). The default is true, except for
// Serialize, which has no reverse.
func (o *Order) IsSymmetrical() (bool, error) {
	k, err := o.OrderKind()
	if err != nil {
		return false, err
	}
	if k == Serialize {
		return false, nil
	}
	if o.Symmetrical == "" {
		return true, nil
	}
	b, err := ParseBool(o.Symmetrical)
	if err != nil {
		return false, fmt.Errorf("order %s: symmetrical: %w", quote(o.ID), err)
	}
	return b, nil
}

// Actions returns First's and Then's actions with Pacemaker's defaults:
// first-action defaults to start, then-action to first-action.
func (o *Order) Actions() (first, then string) {
	first = o.FirstAction
	if first == "" {
		first = "start"
	}
	then = o.ThenAction
	if then == "" {
		then = first
	}
	return first, then
}

// ScoreValue parses a constraint's score. An absent score reads as def.
func scoreValue(s string, def Score) (Score, error) {
	if s == "" {
		return def, nil
	}
	return ParseScore(s)
}

// ScoreValue is the location's score (absent: 0, as for a rule-based
// location, whose rules carry the scores).
func (l *Location) ScoreValue() (Score, error) { return scoreValue(l.Score, 0) }

// ScoreValue is the colocation's score; absent reads as 0 (Pacemaker
// ignores a colocation without a score).
func (c *Colocation) ScoreValue() (Score, error) { return scoreValue(c.Score, 0) }

// ScoreValue is the rule's score when it matches (absent: 0; see also
// ScoreAttribute).
func (r *Rule) ScoreValue() (Score, error) { return scoreValue(r.Score, 0) }

// inverseAction is the action a symmetrical order reverses to.
func inverseAction(a string) string {
	switch a {
	case "start":
		return "stop"
	case "stop":
		return "start"
	case "promote":
		return "demote"
	case "demote":
		return "promote"
	}
	return a
}

// orderEdge is "from must happen before to", from constraint cid ("" for
// an action order implied inside one resource).
type orderEdge struct {
	to, cid string
}

// orderCycles reports mandatory orders that can never be satisfied because
// they wait on each other. The graph's nodes are resource actions
// ("drbd promote"); its edges are the mandatory orders (and resource sets),
// their reverses when symmetrical, and each resource's own start before
// promote and demote before stop. Each set of constraints forming a cycle
// is reported once, on the first order in it.
func (v *validator) orderCycles() {
	adj := map[string][]orderEdge{}
	var nodes []string
	addNode := func(n string) {
		if _, ok := adj[n]; !ok {
			adj[n] = nil
			nodes = append(nodes, n)
		}
	}
	rscs := map[string]bool{}
	add := func(rscA, actA, rscB, actB, cid string) {
		a, b := rscA+" "+actA, rscB+" "+actB
		addNode(a)
		addNode(b)
		adj[a] = append(adj[a], orderEdge{b, cid})
		rscs[rscA], rscs[rscB] = true, true
	}
	for _, o := range v.orders {
		kind, err := o.OrderKind()
		if err != nil || kind != Mandatory {
			continue
		}
		sym, err := o.IsSymmetrical()
		if err != nil {
			continue
		}
		link := func(ra, aa, rb, ab string) {
			add(ra, aa, rb, ab, o.ID)
			if sym {
				add(rb, inverseAction(ab), ra, inverseAction(aa), o.ID)
			}
		}
		if len(o.Sets) == 0 {
			if o.First == "" || o.Then == "" {
				continue
			}
			fa, ta := o.Actions()
			link(o.First, fa, o.Then, ta)
			continue
		}
		// Within a sequential set each member waits for the one before;
		// each set waits for the whole set before it.
		var prev []string
		var prevAct string
		for _, s := range o.Sets {
			act := s.Action
			if act == "" {
				act = "start"
			}
			seq := true
			if s.Sequential != "" {
				seq, _ = ParseBool(s.Sequential)
			}
			if seq {
				for i := 1; i < len(s.Resources); i++ {
					link(s.Resources[i-1], act, s.Resources[i], act)
				}
			}
			for _, a := range prev {
				for _, b := range s.Resources {
					link(a, prevAct, b, act)
				}
			}
			prev, prevAct = s.Resources, act
		}
	}
	rscList := make([]string, 0, len(rscs))
	for r := range rscs {
		rscList = append(rscList, r)
	}
	slices.Sort(rscList)
	for _, r := range rscList {
		for _, pair := range [][2]string{{"start", "promote"}, {"demote", "stop"}} {
			a, b := r+" "+pair[0], r+" "+pair[1]
			if _, ok := adj[a]; !ok {
				continue
			}
			if _, ok := adj[b]; !ok {
				continue
			}
			adj[a] = append(adj[a], orderEdge{b, ""})
		}
	}

	// Depth-first search in a fixed order (nodes as first seen, edges in
	// document order), so the report never depends on map order.
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []cycleStep
	reported := map[string]bool{}
	var visit func(n string)
	visit = func(n string) {
		color[n] = grey
		for _, e := range adj[n] {
			switch color[e.to] {
			case white:
				stack = append(stack, cycleStep{e.to, e.cid})
				visit(e.to)
				stack = stack[:len(stack)-1]
			case grey:
				start := slices.IndexFunc(stack, func(s cycleStep) bool { return s.node == e.to })
				v.reportCycle(append(slices.Clone(stack[start:]), cycleStep{e.to, e.cid}), reported)
			}
		}
		color[n] = black
	}
	for _, n := range nodes {
		if color[n] == white {
			stack = append(stack[:0], cycleStep{n, ""})
			visit(n)
		}
	}
}

// cycleStep is one node on a search path and the constraint on the edge
// that reached it.
type cycleStep struct{ node, via string }

func (v *validator) reportCycle(steps []cycleStep, reported map[string]bool) {
	var ids []string
	for _, s := range steps[1:] {
		if s.via != "" && !slices.Contains(ids, s.via) {
			ids = append(ids, s.via)
		}
	}
	key := slices.Clone(ids)
	slices.Sort(key)
	if len(ids) == 0 || reported[strings.Join(key, "\x00")] {
		return
	}
	reported[strings.Join(key, "\x00")] = true
	var path []string
	for _, s := range steps {
		path = append(path, s.node)
	}
	first := ids[0]
	var line int
	var p string
	for _, o := range v.orders {
		if o.ID == first {
			line, p = o.line, v.paths[o]
			break
		}
	}
	v.errorf(line, p, "mandatory orders form a cycle, so none of these actions can run: %s (constraints %s)",
		strings.Join(path, " → "), strings.Join(ids, ", "))
}
