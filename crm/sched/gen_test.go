package sched

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hakit/hakit/crm/cib"
	"github.com/leanovate/gopter"
)

// This file draws random scheduling problems for the differential test:
// valid CIBs whose configuration and status section together exercise
// what the scheduler decides (node states, resource kinds, meta-attributes,
// cluster options, constraints, failures), with a current placement that
// is mostly what a real cluster would have recorded and sometimes odd.
// Every draw comes from the gopter Rng, so a seed reproduces a case.

// genCase is one drawn scheduling problem.
type genCase struct {
	Seed int64
	CIB  *cib.CIB
	// Features names what the case exercises ("node:standby",
	// "rsc:cloned-group", "status:failed-start", ...), sorted; the
	// differential test classifies mismatches by them.
	Features []string
	// Redraws counts drafts Validate rejected before this one (the
	// generator aims for none).
	Redraws int
}

// genSchedCase is a gopter generator of *genCase.
func genSchedCase() gopter.Gen {
	return func(p *gopter.GenParameters) *gopter.GenResult {
		return gopter.NewGenResult(genDrawCase(p.Rng), gopter.NoShrinker)
	}
}

// genCaseForSeed draws the case a seed stands for: the differential test's
// replay command relies on this being the whole recipe.
func genCaseForSeed(seed int64) *genCase {
	p := gopter.DefaultGenParameters()
	p.Rng = rand.New(rand.NewSource(seed))
	gc := genSchedCase()(p).Result.(*genCase)
	gc.Seed = seed
	return gc
}

func genDrawCase(r *rand.Rand) *genCase {
	var last error
	for redraws := 0; redraws < 50; redraws++ {
		g := &schedGen{r: r, feats: map[string]bool{}}
		c := g.cib()
		if last = c.Validate().Err(); last == nil {
			return &genCase{CIB: c, Features: g.features(), Redraws: redraws}
		}
	}
	// A generator bug, not a property of the seed: fail loudly.
	panic(fmt.Sprintf("schedGen: 50 drafts in a row fail Validate; last: %v", last))
}

// Digests Pacemaker 2.1.5 records in op-digest for an agent given no
// parameters: one for one-off operations (start, stop, promote, probes),
// one for a recurring monitor without a timeout of its own. Read from
// `crm_simulate -S -O`; without them (or with others) Pacemaker sees a
// changed definition and restarts every running resource.
const (
	genDigestNoParams = "f2317cad3d54cec5d7d7aa7d0bf35cf8"
	genDigestMonitor  = "4811cef7f7f94e3a35a70be7916cb2fd"
)

// genFeatureSet is what crm_simulate 2.1.5 accepts: it refuses to apply its
// simulated results to a CIB claiming a newer one (3.16.2), and aborts.
const genFeatureSet = "3.16.1"

type genMembership int

const (
	genMemOnline genMembership = iota
	genMemOffline
	genMemAbsent // no node_state at all: never seen by the cluster
	// genMemLost left the membership while expected: unclean when fencing
	// is enabled, merely offline when it is not.
	genMemLost
	// genMemPending is in the membership but has not joined yet.
	genMemPending
)

type genNode struct {
	name, id string
	mem      genMembership
	// standby and maint say where the attribute lives: "" (not set),
	// "permanent" (<nodes>) or "transient" (status section).
	standby, maint string
	pingd, rack    string
	callID         int
	transient      []cib.NVPair
	lrm            []cib.LRMResource
}

// hasState reports whether the node has a node_state entry.
func (n *genNode) hasState() bool { return n.mem != genMemAbsent }

// up reports whether the node is in the membership (online, possibly in
// standby or maintenance).
func (n *genNode) up() bool { return n.mem == genMemOnline }

type genKind int

const (
	genPrimitive genKind = iota
	genGroup
	genClone
	genPromotable
	genClonedGroup
	genStonith
)

// genRsc is one top-level resource and what the status drawing needs to
// know about it.
type genRsc struct {
	id    string
	kind  genKind
	res   cib.Resource
	prims []*cib.Primitive // in order: the primitive, or the group's members
	group string           // the group's id, for groups and cloned groups
	// Clone shape, effective values (defaults applied).
	unique, promotable bool
	cloneMax, nodeMax  int
	monitors           bool
}

// lrmIDs are the ids the status section records the resource under: the
// primitive ids, or "<primitive>:<n>" per instance of a unique clone.
func (r *genRsc) lrmIDs(member int) []string {
	p := r.prims[member].ID
	if !r.unique {
		return []string{p}
	}
	ids := make([]string, r.cloneMax)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s:%d", p, i)
	}
	return ids
}

type schedGen struct {
	r       *rand.Rand
	feats   map[string]bool
	seq     int
	nodes   []*genNode
	rscs    []*genRsc
	stonith bool
	uuid    string
	clock   int64
	// bans records location -INFINITY per resource id and node name, to
	// tag cases where something runs where it is banned.
	bans map[string]map[string]bool
}

func (g *schedGen) intn(n int) int        { return g.r.Intn(n) }
func (g *schedGen) chance(p float64) bool { return g.r.Float64() < p }
func (g *schedGen) pick(xs ...string) string {
	return xs[g.r.Intn(len(xs))]
}
func (g *schedGen) tag(f string) { g.feats[f] = true }

func (g *schedGen) id(prefix string) string {
	g.seq++
	return fmt.Sprintf("%s-%d", prefix, g.seq)
}

func (g *schedGen) pair(prefix, name, value string) cib.NVPair {
	return cib.NVPair{ID: g.id(prefix + "-" + name), Name: name, Value: value}
}

func (g *schedGen) features() []string {
	fs := make([]string, 0, len(g.feats))
	for f := range g.feats {
		fs = append(fs, f)
	}
	slices.Sort(fs)
	return fs
}

func (g *schedGen) cib() *cib.CIB {
	g.uuid = fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", g.r.Uint32(), g.intn(1<<16), g.intn(1<<16), g.intn(1<<16), g.r.Int63n(1<<48))
	g.clock = 1772530000 + int64(g.intn(100000))
	g.bans = map[string]map[string]bool{}
	c := &cib.CIB{AdminEpoch: 0, Epoch: int64(1 + g.intn(200)), NumUpdates: int64(g.intn(100)), ValidateWith: "pacemaker-3.9"}
	c.Extra.Attrs = append(c.Extra.Attrs, cib.Attr{Name: "crm_feature_set", Value: genFeatureSet})

	g.stonith = g.chance(0.2)
	g.drawNodes()
	c.Config.CRMConfig = []cib.NVSet{g.properties()}
	switch x := g.r.Float64(); {
	case x < 0.7:
		c.Extra.Attrs = append(c.Extra.Attrs, cib.Attr{Name: "have-quorum", Value: "1"})
	case x < 0.9:
		c.Extra.Attrs = append(c.Extra.Attrs, cib.Attr{Name: "have-quorum", Value: "0"})
		g.tag("quorum:0")
	default:
		g.tag("quorum:absent")
	}
	for _, n := range g.nodes {
		if n.up() {
			c.Extra.Attrs = append(c.Extra.Attrs, cib.Attr{Name: "dc-uuid", Value: n.id})
			break
		}
	}
	c.Config.Nodes = g.configNodes()

	if g.stonith && g.chance(0.85) {
		p := &cib.Primitive{ID: "fencing", Class: "stonith", Type: "fence_dummy"}
		g.rscs = append(g.rscs, &genRsc{id: p.ID, kind: genStonith, res: p, prims: []*cib.Primitive{p}})
		g.tag("rsc:stonith-device")
	} else if g.stonith {
		g.tag("prop:stonith-without-device")
	}
	for i := range 1 + g.intn(5) {
		g.rscs = append(g.rscs, g.resource(i+1))
	}
	for _, r := range g.rscs {
		c.Config.Resources = append(c.Config.Resources, r.res)
	}
	c.Config.Constraints = g.constraints()
	if g.chance(0.3) {
		c.Config.RscDefaults = []cib.NVSet{{ID: "rsc-options", Pairs: []cib.NVPair{
			g.pair("rsc-options", "resource-stickiness", g.pick("0", "1", "100", "INFINITY"))}}}
		g.tag("defaults:stickiness")
	}
	c.Status = g.status()
	return c
}

func (g *schedGen) drawNodes() {
	count := []int{1, 2, 2, 2, 3, 3, 3, 4, 4, 5}[g.intn(10)]
	g.tag(fmt.Sprintf("nodes:%d", count))
	for i := range count {
		n := &genNode{name: fmt.Sprintf("n%d", i+1), id: strconv.Itoa(i + 1), callID: 1 + g.intn(20)}
		switch x := g.r.Float64(); {
		case x < 0.62:
			n.mem = genMemOnline
		case x < 0.76:
			n.mem = genMemOffline
			g.tag("node:offline")
		case x < 0.86:
			n.mem = genMemAbsent
			g.tag("node:no-node-state")
		case x < 0.97 && g.stonith:
			n.mem = genMemLost
			g.tag("node:unclean")
		case x < 0.97:
			n.mem = genMemLost
			g.tag("node:lost-without-fencing")
		default:
			n.mem = genMemPending
			g.tag("node:pending")
		}
		if g.chance(0.15) {
			n.standby = "permanent"
			if n.hasState() && g.chance(0.3) {
				n.standby = "transient"
			}
			g.tag("node:standby-" + n.standby)
		}
		if g.chance(0.07) {
			n.maint = "permanent"
			if n.hasState() && g.chance(0.4) {
				n.maint = "transient"
			}
			g.tag("node:maintenance-" + n.maint)
		}
		if n.hasState() && g.chance(0.45) {
			n.pingd = g.pick("0", "100", "1000", "1000")
			g.tag("attr:pingd")
		}
		if g.chance(0.4) {
			n.rack = g.pick("r1", "r2")
			g.tag("attr:rack")
		}
		if n.up() {
			g.tag("node:online")
		}
		g.nodes = append(g.nodes, n)
	}
}

func (g *schedGen) configNodes() []cib.Node {
	var out []cib.Node
	for _, n := range g.nodes {
		cn := cib.Node{ID: n.id, Uname: n.name}
		var pairs []cib.NVPair
		prefix := "nodes-" + n.id
		if n.standby == "permanent" {
			pairs = append(pairs, g.pair(prefix, "standby", g.pick("on", "on", "true")))
		}
		if n.maint == "permanent" {
			pairs = append(pairs, g.pair(prefix, "maintenance", g.pick("on", "true")))
		}
		if n.rack != "" {
			pairs = append(pairs, g.pair(prefix, "rack", n.rack))
		}
		if len(pairs) > 0 {
			cn.InstanceAttrs = []cib.NVSet{{ID: prefix, Pairs: pairs}}
		}
		out = append(out, cn)
	}
	return out
}

func (g *schedGen) properties() cib.NVSet {
	s := cib.NVSet{ID: "cib-bootstrap-options"}
	add := func(name, value string) {
		s.Pairs = append(s.Pairs, cib.NVPair{ID: "cib-bootstrap-options-" + name, Name: name, Value: value})
	}
	add("stonith-enabled", strconv.FormatBool(g.stonith))
	if g.stonith {
		g.tag("prop:stonith-enabled")
	}
	switch x := g.r.Float64(); {
	case x < 0.15:
		add("symmetric-cluster", "false")
		g.tag("prop:symmetric-cluster=false")
	case x < 0.25:
		add("symmetric-cluster", "true")
	}
	switch x := g.r.Float64(); {
	case x < 0.3:
		add("no-quorum-policy", "ignore")
		g.tag("prop:no-quorum-policy=ignore")
	case x < 0.45:
		add("no-quorum-policy", "stop")
		g.tag("prop:no-quorum-policy=stop")
	case x < 0.6:
		add("no-quorum-policy", "freeze")
		g.tag("prop:no-quorum-policy=freeze")
	}
	if g.chance(0.05) {
		add("maintenance-mode", "true")
		g.tag("prop:maintenance-mode")
	}
	if g.chance(0.03) {
		add("stop-all-resources", "true")
		g.tag("prop:stop-all-resources")
	}
	return s
}

// resource draws the i-th top-level resource. Ids follow a scheme that
// keeps a group's members in lexical order (the differential test's
// "first member stands for a cloned group instance" relies on it).
func (g *schedGen) resource(i int) *genRsc {
	r := &genRsc{}
	switch x := g.r.Float64(); {
	case x < 0.3:
		r.kind = genPrimitive
		r.id = fmt.Sprintf("p%d", i)
		r.monitors = g.chance(0.35)
		p := g.primitive(r.id, "Dummy", r.monitors)
		p.MetaAttrs = g.meta(r.id, false, 1)
		r.res, r.prims = p, []*cib.Primitive{p}
		g.tag("rsc:primitive")
	case x < 0.5:
		r.kind = genGroup
		r.id = fmt.Sprintf("g%d", i)
		r.group = r.id
		r.monitors = g.chance(0.35)
		gr := g.group(r.id, "Dummy", r.monitors)
		gr.MetaAttrs = g.meta(r.id, false, 0.7)
		for _, ch := range gr.Children {
			p := ch.(*cib.Primitive)
			p.MetaAttrs = g.meta(p.ID, false, 0.25)
			r.prims = append(r.prims, p)
		}
		r.res = gr
		g.tag("rsc:group")
	case x < 0.7:
		r.kind = genClone
		r.id = fmt.Sprintf("c%d", i)
		r.monitors = g.chance(0.35)
		p := g.primitive(r.id+"-p", "Dummy", r.monitors)
		p.MetaAttrs = g.meta(p.ID, false, 0.25)
		r.prims = []*cib.Primitive{p}
		r.res = g.clone(r, p)
		g.tag("rsc:clone")
	case x < 0.88:
		r.kind = genPromotable
		r.promotable = true
		r.id = fmt.Sprintf("ms%d", i)
		r.monitors = g.chance(0.35)
		p := g.primitive(r.id+"-p", "Stateful", r.monitors)
		p.MetaAttrs = g.meta(p.ID, true, 0.25)
		r.prims = []*cib.Primitive{p}
		r.res = g.clone(r, p)
		g.tag("rsc:promotable")
	default:
		r.kind = genClonedGroup
		r.promotable = g.chance(0.2)
		r.id = fmt.Sprintf("cg%d", i)
		r.group = r.id + "-g"
		r.monitors = g.chance(0.35)
		agent := "Dummy"
		if r.promotable {
			agent = "Stateful"
			g.tag("rsc:promotable-group")
		}
		gr := g.group(r.group, agent, r.monitors)
		gr.MetaAttrs = g.meta(gr.ID, r.promotable, 0.2)
		for _, ch := range gr.Children {
			r.prims = append(r.prims, ch.(*cib.Primitive))
		}
		r.res = g.clone(r, gr)
		g.tag("rsc:cloned-group")
	}
	return r
}

func (g *schedGen) primitive(id, agent string, monitors bool) *cib.Primitive {
	p := &cib.Primitive{ID: id, Class: "ocf", Provider: "pacemaker", Type: agent}
	if monitors {
		if agent == "Stateful" {
			// One interval per role, as Pacemaker requires.
			p.Ops = []cib.Op{
				{ID: id + "-monitor-promoted", Name: "monitor", Interval: "10s", Role: "Promoted"},
				{ID: id + "-monitor-unpromoted", Name: "monitor", Interval: "11s", Role: "Unpromoted"},
			}
		} else {
			p.Ops = []cib.Op{{ID: id + "-monitor", Name: "monitor", Interval: "10s"}}
		}
		g.tag("rsc:monitor-op")
	}
	return p
}

func (g *schedGen) group(id, agent string, monitors bool) *cib.Group {
	gr := &cib.Group{ID: id}
	for m := range 2 + g.intn(2) {
		gr.Children = append(gr.Children, g.primitive(fmt.Sprintf("%s-%c", id, 'a'+m), agent, monitors))
	}
	return gr
}

// clone wraps child in a clone of r's kind and draws the clone's options.
func (g *schedGen) clone(r *genRsc, child cib.Resource) *cib.Clone {
	cl := &cib.Clone{ID: r.id, Child: child}
	var pairs []cib.NVPair
	add := func(name, value string) { pairs = append(pairs, g.pair(r.id+"-meta", name, value)) }
	legacy := false
	if r.promotable {
		if g.chance(0.3) {
			cl.Master = true
			g.tag("rsc:legacy-master-element")
			legacy = g.chance(0.5)
		} else {
			add("promotable", "true")
		}
	}
	r.cloneMax, r.nodeMax = len(g.nodes), 1
	if g.chance(0.35) {
		r.cloneMax = 1 + g.intn(len(g.nodes)+1)
		add("clone-max", strconv.Itoa(r.cloneMax))
		g.tag("clone:clone-max")
	}
	switch x := g.r.Float64(); {
	case x < 0.2:
		add("globally-unique", "true")
		r.unique = true
		g.tag("clone:globally-unique")
	case x < 0.25:
		add("globally-unique", "false")
	}
	if g.chance(0.15) {
		r.nodeMax = 1 + g.intn(2)
		add("clone-node-max", strconv.Itoa(r.nodeMax))
		g.tag("clone:clone-node-max")
	}
	if g.chance(0.3) {
		add("interleave", g.pick("true", "true", "false"))
		g.tag("clone:interleave")
	}
	if r.promotable {
		max, nodeMax := "promoted-max", "promoted-node-max"
		if legacy {
			max, nodeMax = "master-max", "master-node-max"
			g.tag("rsc:legacy-master-names")
		}
		if g.chance(0.3) {
			add(max, g.pick("1", "2", "2", "3"))
			g.tag("clone:promoted-max")
		}
		if g.chance(0.1) {
			add(nodeMax, g.pick("1", "2"))
			g.tag("clone:promoted-node-max")
		}
	}
	meta := g.meta(r.id, r.promotable, 0.8)
	if len(meta) > 0 {
		pairs = append(pairs, meta[0].Pairs...)
	}
	if len(pairs) > 0 {
		cl.MetaAttrs = []cib.NVSet{{ID: r.id + "-meta", Pairs: pairs}}
	}
	return cl
}

// meta draws a resource's scheduling meta-attributes; scale lowers the
// odds for a resource whose container may carry them instead.
func (g *schedGen) meta(owner string, promotable bool, scale float64) []cib.NVSet {
	var pairs []cib.NVPair
	add := func(name, value string) { pairs = append(pairs, g.pair(owner+"-meta", name, value)) }
	switch x := g.r.Float64() / scale; {
	case x < 0.07:
		add("target-role", "Stopped")
		g.tag("meta:target-role=Stopped")
	case x < 0.1:
		add("target-role", "Started")
		g.tag("meta:target-role=Started")
	case promotable && x < 0.15:
		add("target-role", g.pick("Unpromoted", "Unpromoted", "Slave"))
		g.tag("meta:target-role=Unpromoted")
	case promotable && x < 0.2:
		add("target-role", g.pick("Promoted", "Promoted", "Master"))
		g.tag("meta:target-role=Promoted")
	}
	if g.chance(0.05 * scale) {
		add("is-managed", "false")
		g.tag("meta:is-managed=false")
	}
	if g.chance(0.2 * scale) {
		add("resource-stickiness", g.pick("0", "10", "100", "1000", "INFINITY", "-10"))
		g.tag("meta:resource-stickiness")
	}
	if g.chance(0.12 * scale) {
		add("priority", strconv.Itoa(1+g.intn(10)))
		g.tag("meta:priority")
	}
	if g.chance(0.12 * scale) {
		add("migration-threshold", g.pick("1", "2", "3"))
		g.tag("meta:migration-threshold")
	}
	if len(pairs) == 0 {
		return nil
	}
	return []cib.NVSet{{ID: owner + "-meta", Pairs: pairs}}
}

// genTarget is something a constraint can name: a top-level resource or a
// group member, with what the constraint may say about it.
type genTarget struct {
	id         string
	promotable bool
}

func (g *schedGen) targets(top int) []genTarget {
	r := g.rscs[top]
	out := []genTarget{{id: r.id, promotable: r.promotable}}
	if r.kind == genGroup {
		for _, p := range r.prims {
			out = append(out, genTarget{id: p.ID})
		}
	}
	return out
}

// drawTarget picks what a constraint on the top-th resource names: usually
// the resource itself, sometimes one of its group's members.
func (g *schedGen) drawTarget(top int) genTarget {
	ts := g.targets(top)
	if len(ts) > 1 && g.chance(0.2) {
		g.tag("con:on-group-member")
		return ts[1+g.intn(len(ts)-1)]
	}
	return ts[0]
}

func (g *schedGen) constraints() []cib.Constraint {
	var tops []int // constrainable resources: all but the fence device
	for i, r := range g.rscs {
		if r.kind != genStonith {
			tops = append(tops, i)
		}
	}
	var out []cib.Constraint
	if g.feats["prop:symmetric-cluster=false"] {
		// An opt-in cluster runs nothing without a location preference.
		for i, r := range g.rscs {
			if g.chance(0.75) {
				for range 1 + g.intn(2) {
					out = append(out, &cib.Location{ID: g.id("opt-in-" + r.id), Rsc: g.rscs[i].id,
						Score: g.pick("100", "200", "INFINITY", "0"), Node: g.nodes[g.intn(len(g.nodes))].name})
				}
			}
		}
	}
	for range g.intn(7) {
		switch x := g.r.Float64(); {
		case x < 0.45:
			out = append(out, g.location(tops[g.intn(len(tops))]))
		case x < 0.75:
			if len(tops) < 2 {
				continue
			}
			i := g.intn(len(tops))
			j := (i + 1 + g.intn(len(tops)-1)) % len(tops)
			out = append(out, g.colocation(tops[i], tops[j]))
		default:
			if len(tops) < 2 {
				continue
			}
			i := g.intn(len(tops))
			j := (i + 1 + g.intn(len(tops)-1)) % len(tops)
			// Always forward in resource order, so orders never form a cycle.
			out = append(out, g.order(tops[min(i, j)], tops[max(i, j)]))
		}
	}
	return out
}

func (g *schedGen) location(top int) *cib.Location {
	t := g.drawTarget(top)
	l := &cib.Location{ID: g.id("loc-" + t.id), Rsc: t.id}
	if t.promotable && g.chance(0.3) {
		l.Role = g.pick("Promoted", "Promoted", "Master", "Unpromoted")
		g.tag("loc:role")
	}
	if g.chance(0.6) {
		l.Score = g.pick("INFINITY", "-INFINITY", "100", "-100", "50", "200", "1000", "-1000")
		l.Node = g.nodes[g.intn(len(g.nodes))].name
		if g.chance(0.03) {
			l.Node = "n9"
			g.tag("loc:unknown-node")
		}
		switch l.Score {
		case "INFINITY":
			g.tag("loc:score=INFINITY")
		case "-INFINITY":
			g.tag("loc:score=-INFINITY")
			if l.Role == "" {
				if g.bans[t.id] == nil {
					g.bans[t.id] = map[string]bool{}
				}
				g.bans[t.id][l.Node] = true
			}
		default:
			g.tag("loc:score=finite")
		}
		return l
	}
	for range 1 + genB2I(g.chance(0.2)) {
		l.Rules = append(l.Rules, g.rule(0))
	}
	if len(l.Rules) > 1 {
		g.tag("rule:several")
	}
	return l
}

func genB2I(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (g *schedGen) rule(depth int) cib.Rule {
	r := cib.Rule{ID: g.id("rule")}
	if depth == 0 {
		if g.chance(0.1) {
			r.ScoreAttribute = "pingd"
			g.tag("rule:score-attribute")
		} else {
			r.Score = g.pick("INFINITY", "-INFINITY", "-INFINITY", "100", "-100", "500")
		}
	}
	r.BooleanOp = g.pick("", "", "and", "or", "or")
	if r.BooleanOp == "or" {
		g.tag("rule:or")
	}
	for range 1 + g.intn(3) {
		if depth == 0 && g.chance(0.15) {
			sub := g.rule(depth + 1)
			r.Conditions = append(r.Conditions, &sub)
			g.tag("rule:nested")
			continue
		}
		r.Conditions = append(r.Conditions, g.expression())
	}
	return r
}

func (g *schedGen) expression() *cib.Expression {
	e := &cib.Expression{ID: g.id("expr")}
	switch g.intn(6) {
	case 0, 1:
		e.Attribute = "pingd"
		e.Operation = g.pick("lt", "gt", "lte", "gte", "eq", "ne")
		e.Value = g.pick("0", "100", "500", "1000")
		e.Type = g.pick("", "integer", "integer", "number")
		g.tag("rule:pingd-compare")
	case 2:
		e.Attribute = "pingd"
		e.Operation = g.pick("defined", "not_defined")
		g.tag("rule:defined")
	case 3:
		e.Attribute = "#uname"
		e.Operation = g.pick("eq", "ne")
		e.Value = g.nodes[g.intn(len(g.nodes))].name
		e.Type = g.pick("", "string")
		g.tag("rule:uname")
	case 4:
		e.Attribute = "rack"
		e.Operation = g.pick("eq", "ne")
		e.Value = g.pick("r1", "r2")
		e.Type = g.pick("", "string")
		g.tag("rule:string-attr")
	default:
		e.Attribute = "rack"
		e.Operation = g.pick("defined", "not_defined")
		g.tag("rule:defined")
	}
	return e
}

func (g *schedGen) colocation(i, j int) *cib.Colocation {
	a, b := g.drawTarget(i), g.drawTarget(j)
	co := &cib.Colocation{ID: g.id("col-" + a.id + "-" + b.id), Rsc: a.id, WithRsc: b.id,
		Score: g.pick("INFINITY", "INFINITY", "-INFINITY", "100", "-100", "500", "-500", "1000")}
	switch co.Score {
	case "INFINITY":
		g.tag("col:score=INFINITY")
	case "-INFINITY":
		g.tag("col:score=-INFINITY")
	default:
		g.tag("col:score=finite")
	}
	if a.promotable && g.chance(0.4) {
		co.RscRole = g.pick("Promoted", "Promoted", "Unpromoted", "Master")
		g.tag("col:rsc-role")
	}
	if b.promotable && g.chance(0.5) {
		co.WithRscRole = g.pick("Promoted", "Promoted", "Unpromoted", "Master")
		g.tag("col:with-rsc-role")
	}
	return co
}

// order draws an order between the i-th and j-th resources, i < j. Orders
// of starts and promotions always run forward in resource order and orders
// of stops and demotions backward, so that neither they nor their
// symmetrical reverses can close a cycle.
func (g *schedGen) order(i, j int) *cib.Order {
	down := g.chance(0.2)
	if down {
		i, j = j, i
	}
	a, b := g.drawTarget(i), g.drawTarget(j)
	o := &cib.Order{ID: g.id("ord-" + a.id + "-" + b.id), First: a.id, Then: b.id}
	o.Kind = g.pick("", "Mandatory", "Mandatory", "Optional", "Serialize")
	switch o.Kind {
	case "", "Mandatory":
		g.tag("ord:Mandatory")
	default:
		g.tag("ord:" + o.Kind)
	}
	plain, role := "start", "promote"
	if down {
		plain, role = "stop", "demote"
		g.tag("ord:stop-actions")
	}
	action := func(promotable, first bool) string {
		switch {
		case promotable && g.chance(0.4):
			g.tag("ord:promote-actions")
			return role
		case first && down || g.chance(0.5):
			return plain
		}
		return ""
	}
	o.FirstAction, o.ThenAction = action(a.promotable, true), action(b.promotable, false)
	if o.ThenAction == "" && o.FirstAction == role && !b.promotable {
		// then-action defaults to first-action, which b does not have.
		o.ThenAction = plain
	}
	if o.Kind != "Serialize" && g.chance(0.3) {
		o.Symmetrical = g.pick("false", "false", "true")
		if o.Symmetrical == "false" {
			g.tag("ord:asymmetrical")
		}
	}
	return o
}

// genRunning is one resource instance the status section records as active.
type genRunning struct {
	node     *genNode
	promoted bool
}

// status draws what the cluster has recorded: node membership, transient
// attributes, and for each node the operation history of what runs there.
func (g *schedGen) status() *cib.Status {
	runs := g.placement()
	st := &cib.Status{}
	// Every lrm id, in resource order, with its resource and member index.
	type lrmEntry struct {
		id     string
		rsc    *genRsc
		member int
	}
	var entries []lrmEntry
	for _, r := range g.rscs {
		for m := range r.prims {
			for _, id := range r.lrmIDs(m) {
				entries = append(entries, lrmEntry{id, r, m})
			}
		}
	}
	for _, n := range g.nodes {
		if !n.hasState() {
			for _, e := range entries {
				if len(runs[e.id]) > 0 && slices.ContainsFunc(runs[e.id], func(x genRunning) bool { return x.node == n }) {
					panic("schedGen: placed on a node without node_state")
				}
			}
			continue
		}
		for _, e := range entries {
			var here *genRunning
			for k := range runs[e.id] {
				if runs[e.id][k].node == n {
					here = &runs[e.id][k]
				}
			}
			g.history(n, e.id, e.rsc, e.member, here)
		}
		g.promotionScores(n)
		if n.pingd != "" {
			n.transient = append(n.transient, g.statusPair(n, "pingd", n.pingd))
		}
		if n.standby == "transient" {
			n.transient = append(n.transient, g.statusPair(n, "standby", "on"))
		}
		if n.maint == "transient" {
			n.transient = append(n.transient, g.statusPair(n, "maintenance", "on"))
		}
		ns := cib.NodeState{ID: n.id, Uname: n.name}
		switch n.mem {
		case genMemOnline:
			ns.InCCM, ns.Crmd, ns.Join, ns.Expected = "true", "online", "member", "member"
		case genMemOffline:
			ns.InCCM, ns.Crmd, ns.Join, ns.Expected = "false", "offline", "down", "down"
		case genMemLost:
			// Lost without saying goodbye: still expected as a member.
			ns.InCCM, ns.Crmd, ns.Join, ns.Expected = "false", "offline", g.pick("member", "down"), "member"
		case genMemPending:
			ns.InCCM, ns.Crmd, ns.Join, ns.Expected = "true", "online", "pending", "member"
		}
		ns.Extra.Attrs = []cib.Attr{{Name: "crm-debug-origin", Value: "do_update_resource"}}
		// attrd forgets a node's transient attributes when it leaves.
		if len(n.transient) > 0 && (n.up() || g.chance(0.1)) {
			ns.Transient = &cib.TransientAttributes{ID: n.id, Sets: []cib.NVSet{{ID: "status-" + n.id, Pairs: n.transient}}}
			if !n.up() {
				g.tag("status:transient-on-down-node")
			}
		}
		if len(n.lrm) > 0 || g.chance(0.8) {
			ns.LRM = &cib.LRM{ID: n.id, Resources: n.lrm}
		}
		st.NodeStates = append(st.NodeStates, ns)
	}
	return st
}

func (g *schedGen) statusPair(n *genNode, name, value string) cib.NVPair {
	id := "status-" + n.id + "-" + strings.NewReplacer("#", ".", ":", ".").Replace(name)
	return cib.NVPair{ID: id, Name: name, Value: value}
}

// placement draws where each resource (lrm id) currently runs: mostly
// what a cluster settles into, sometimes not (active twice, a group split
// across nodes, more instances than clone-max, on an offline node).
func (g *schedGen) placement() map[string][]genRunning {
	runs := map[string][]genRunning{}
	hosts := func() []*genNode {
		var hs []*genNode
		for _, n := range g.nodes {
			switch {
			case n.mem == genMemOnline || n.mem == genMemLost:
				hs = append(hs, n)
			case n.mem == genMemOffline && g.chance(0.04):
				hs = append(hs, n)
				g.tag("status:active-on-offline-node")
			}
		}
		return hs
	}
	anyOf := func(hs []*genNode) *genNode { return hs[g.intn(len(hs))] }
	for _, r := range g.rscs {
		hs := hosts()
		if len(hs) == 0 {
			continue
		}
		switch r.kind {
		case genPrimitive, genStonith:
			id := r.prims[0].ID
			switch x := g.r.Float64(); {
			case x < 0.6:
				runs[id] = []genRunning{{node: anyOf(hs)}}
			case x < 0.66 && len(hs) > 1:
				i := g.intn(len(hs))
				j := (i + 1 + g.intn(len(hs)-1)) % len(hs)
				runs[id] = []genRunning{{node: hs[i]}, {node: hs[j]}}
				g.tag("status:multi-active")
			}
		case genGroup:
			switch x := g.r.Float64(); {
			case x < 0.6:
				n := anyOf(hs)
				for _, p := range r.prims {
					runs[p.ID] = []genRunning{{node: n}}
				}
			case x < 0.7:
				n := anyOf(hs)
				for _, p := range r.prims[:1+g.intn(len(r.prims)-1)] {
					runs[p.ID] = []genRunning{{node: n}}
				}
				g.tag("status:group-partly-active")
			case x < 0.74:
				for _, p := range r.prims {
					runs[p.ID] = []genRunning{{node: anyOf(hs)}}
				}
				g.tag("status:group-split")
			}
		default:
			g.placeClone(r, hs, runs)
		}
	}
	for _, r := range g.rscs {
		for m := range r.prims {
			for _, id := range r.lrmIDs(m) {
				for _, x := range runs[id] {
					g.tagPlacement(r, m, x)
				}
			}
		}
	}
	return runs
}

func (g *schedGen) tagPlacement(r *genRsc, member int, x genRunning) {
	if x.node.standby != "" {
		g.tag("status:active-on-standby-node")
	}
	if x.node.mem == genMemLost {
		g.tag("status:active-on-lost-node")
	}
	if g.bans[r.id][x.node.name] || g.bans[r.prims[member].ID][x.node.name] {
		g.tag("status:active-on-banned-node")
	}
	if x.promoted {
		g.tag("status:promoted")
	}
}

func (g *schedGen) placeClone(r *genRsc, hs []*genNode, runs map[string][]genRunning) {
	// where[i] is the node instance i runs on, nil when it is stopped; an
	// anonymous clone's instances are simply the nodes chosen for it.
	var where []*genNode
	if r.unique {
		perNode := map[*genNode]int{}
		for range r.cloneMax {
			n := hs[g.intn(len(hs))]
			if !g.chance(0.6) {
				where = append(where, nil)
				continue
			}
			if perNode[n] >= r.nodeMax && g.chance(0.9) {
				where = append(where, nil)
				continue
			}
			perNode[n]++
			where = append(where, n)
		}
	} else {
		for _, n := range hs {
			if g.chance(0.65) {
				where = append(where, n)
			}
		}
		if len(where) > r.cloneMax {
			if g.chance(0.85) {
				g.r.Shuffle(len(where), func(i, j int) { where[i], where[j] = where[j], where[i] })
				where = where[:r.cloneMax]
			} else {
				g.tag("status:clone-over-max")
			}
		}
	}
	promoted := make([]bool, len(where))
	if r.promotable {
		order := g.r.Perm(len(where))
		for k, i := range order {
			if where[i] != nil && (k == 0 && g.chance(0.6) || g.chance(0.08)) {
				promoted[i] = true
			}
		}
	}
	for i, n := range where {
		if n == nil {
			continue
		}
		members := len(r.prims)
		if members > 1 && g.chance(0.1) {
			members = 1 + g.intn(members-1)
			g.tag("status:group-partly-active")
		}
		for m := range members {
			id := r.prims[m].ID
			if r.unique {
				id = fmt.Sprintf("%s:%d", id, i)
			}
			runs[id] = append(runs[id], genRunning{node: n, promoted: promoted[i]})
		}
	}
}

// history writes lrm id's operation history on node n: what a cluster
// that ran it there (here != nil) or probed it would have recorded, with
// the occasional failure and fail count.
func (g *schedGen) history(n *genNode, id string, r *genRsc, member int, here *genRunning) {
	p := r.prims[member]
	lr := cib.LRMResource{ID: id, Class: p.Class, Provider: p.Provider, Type: p.Type}
	promotable := r.promotable
	if here == nil {
		switch x := g.r.Float64(); {
		case x < 0.55:
			lr.Ops = append(lr.Ops, g.op(n, id, "last_0", "monitor", 0, cib.RCNotRunning, cib.OpDone, cib.RCNotRunning))
			g.tag("status:probe-not-running")
		case x < 0.67:
			lr.Ops = append(lr.Ops, g.op(n, id, "last_0", "stop", 0, cib.RCOK, cib.OpDone, cib.RCOK))
			g.tag("status:stopped")
		default:
			if n.up() && g.chance(0.04) {
				// A fail count outliving its history (the resource was
				// cleaned up on another node, or the history was erased).
				g.failCount(n, id, "start_0", "INFINITY")
				g.tag("status:stale-fail-count")
			}
			return
		}
		n.lrm = append(n.lrm, lr)
		return
	}
	task, target := "start", cib.RCOK
	if here.promoted {
		task = "promote"
	}
	switch x := g.r.Float64(); {
	case x < 0.04:
		// A failed start: Pacemaker counts it active and recovers it.
		op := g.op(n, id, "last_0", "start", 0, cib.RCErrGeneric, cib.OpDone, cib.RCOK)
		op.ExitReason = "simulated failure"
		lr.Ops = append(lr.Ops, op, genFailureCopy(op, id))
		if g.chance(0.85) {
			g.failCount(n, id, "start_0", "INFINITY")
		}
		g.tag("status:failed-start")
	case x < 0.055:
		op := g.op(n, id, "last_0", "stop", 0, cib.RCErrGeneric, g.pickStatus(), cib.RCOK)
		lr.Ops = append(lr.Ops, op, genFailureCopy(op, id))
		if g.chance(0.85) {
			g.failCount(n, id, "stop_0", "INFINITY")
		}
		g.tag("status:failed-stop")
	case x < 0.1 && here.promoted:
		op := g.op(n, id, "last_0", "promote", 0, cib.RCErrGeneric, cib.OpDone, cib.RCOK)
		lr.Ops = append(lr.Ops, op, genFailureCopy(op, id))
		if g.chance(0.85) {
			g.failCount(n, id, "promote_0", g.pick("1", "INFINITY"))
		}
		g.tag("status:failed-promote")
	default:
		lr.Ops = append(lr.Ops, g.op(n, id, "last_0", task, 0, cib.RCOK, cib.OpDone, cib.RCOK))
		interval, rc := int64(10000), cib.RCOK
		if promotable {
			interval = 11000
			if here.promoted {
				interval, rc, target = 10000, cib.RCRunningPromoted, cib.RCRunningPromoted
			}
		}
		switch {
		case r.monitors && g.chance(0.1):
			// The recurring monitor found it broken.
			bad := g.pick("1", "1", "7")
			code, _ := strconv.Atoi(bad)
			op := g.op(n, id, fmt.Sprintf("monitor_%d", interval), "monitor", interval, code, cib.OpDone, target)
			lr.Ops = append(lr.Ops, op, genFailureCopy(op, id))
			if g.chance(0.85) {
				g.failCount(n, id, fmt.Sprintf("monitor_%d", interval), g.pick("1", "1", "2", "3", "INFINITY"))
			}
			g.tag("status:failed-monitor")
		case r.monitors && g.chance(0.75):
			lr.Ops = append(lr.Ops, g.op(n, id, fmt.Sprintf("monitor_%d", interval), "monitor", interval, rc, cib.OpDone, target))
		}
	}
	n.lrm = append(n.lrm, lr)
}

func (g *schedGen) pickStatus() int {
	if g.chance(0.5) {
		return cib.OpTimeout
	}
	return cib.OpDone
}

func (g *schedGen) failCount(n *genNode, id, op, count string) {
	n.transient = append(n.transient,
		g.statusPair(n, "fail-count-"+id+"#"+op, count),
		g.statusPair(n, "last-failure-"+id+"#"+op, strconv.FormatInt(g.clock-int64(g.intn(5000)), 10)))
	g.tag("status:fail-count")
}

// op records one operation as the controller writes it. suffix names the
// entry: last_0, last_failure_0 or monitor_<ms>.
func (g *schedGen) op(n *genNode, id, suffix, task string, intervalMS int64, rc, status, target int) cib.LRMOp {
	n.callID += 1 + g.intn(3)
	g.clock += int64(1 + g.intn(60))
	key := fmt.Sprintf("%d:%d:%d:%s", 1+g.intn(40), 1+g.intn(30), target, g.uuid)
	digest := genDigestNoParams
	if intervalMS > 0 {
		digest = genDigestMonitor
	}
	return cib.LRMOp{
		ID: id + "_" + suffix, OperationKey: fmt.Sprintf("%s_%s_%d", id, task, intervalMS), Operation: task,
		CallID: n.callID, RCCode: rc, OpStatus: status, IntervalMS: intervalMS,
		LastRCChange: g.clock, ExecTimeMS: int64(g.intn(200)), TransitionKey: key,
		TransitionMagic: fmt.Sprintf("%d:%d;%s", status, rc, key), OnNode: n.name,
		Extra: cib.Extra{Attrs: []cib.Attr{
			{Name: "crm-debug-origin", Value: "do_update_resource"},
			{Name: "crm_feature_set", Value: genFeatureSet},
			{Name: "op-digest", Value: digest},
		}},
	}
}

// genFailureCopy is the <rsc>_last_failure_0 entry the controller keeps
// beside a failed operation.
func genFailureCopy(op cib.LRMOp, id string) cib.LRMOp {
	f := op
	f.ID = id + "_last_failure_0"
	f.Extra.Attrs = slices.Clone(op.Extra.Attrs)
	return f
}

// promotionScores sets the master-<id> attributes a promotable agent
// publishes with crm_attribute: without one (or a location with a role),
// Pacemaker promotes nothing.
func (g *schedGen) promotionScores(n *genNode) {
	if !n.up() {
		return
	}
	for _, r := range g.rscs {
		if !r.promotable {
			continue
		}
		for m := range r.prims {
			for _, id := range r.lrmIDs(m) {
				if g.chance(0.55) {
					n.transient = append(n.transient, g.statusPair(n, "master-"+id, g.pick("5", "10", "100", "1000")))
					g.tag("status:promotion-score")
				}
			}
		}
	}
}

// genRequired are the features the generator promises to exercise: each
// must turn up in TestSchedGen's sample, so a change that silently stops
// drawing one is caught.
var genRequired = []string{
	"nodes:1", "nodes:5", "node:online", "node:offline", "node:no-node-state", "node:unclean",
	"node:lost-without-fencing", "node:pending", "node:standby-permanent", "node:standby-transient",
	"node:maintenance-permanent", "node:maintenance-transient", "attr:pingd", "attr:rack",
	"prop:stonith-enabled", "prop:stonith-without-device", "rsc:stonith-device", "prop:symmetric-cluster=false",
	"prop:no-quorum-policy=ignore", "prop:no-quorum-policy=stop", "prop:no-quorum-policy=freeze",
	"quorum:0", "quorum:absent", "prop:maintenance-mode", "prop:stop-all-resources", "defaults:stickiness",
	"rsc:primitive", "rsc:group", "rsc:clone", "rsc:promotable", "rsc:cloned-group", "rsc:promotable-group",
	"rsc:legacy-master-element", "rsc:legacy-master-names", "rsc:monitor-op",
	"clone:clone-max", "clone:clone-node-max", "clone:globally-unique", "clone:interleave",
	"clone:promoted-max", "clone:promoted-node-max",
	"meta:target-role=Stopped", "meta:target-role=Started", "meta:target-role=Unpromoted", "meta:target-role=Promoted",
	"meta:is-managed=false", "meta:resource-stickiness", "meta:priority", "meta:migration-threshold",
	"loc:score=INFINITY", "loc:score=-INFINITY", "loc:score=finite", "loc:role", "loc:unknown-node",
	"rule:pingd-compare", "rule:defined", "rule:uname", "rule:string-attr", "rule:or", "rule:nested",
	"rule:several", "rule:score-attribute", "con:on-group-member",
	"col:score=INFINITY", "col:score=-INFINITY", "col:score=finite", "col:rsc-role", "col:with-rsc-role",
	"ord:Mandatory", "ord:Optional", "ord:Serialize", "ord:stop-actions", "ord:promote-actions", "ord:asymmetrical",
	"status:probe-not-running", "status:stopped", "status:promoted", "status:promotion-score",
	"status:failed-start", "status:failed-monitor", "status:failed-stop", "status:failed-promote",
	"status:fail-count", "status:stale-fail-count", "status:multi-active", "status:group-partly-active",
	"status:group-split", "status:clone-over-max", "status:active-on-standby-node", "status:active-on-banned-node",
	"status:active-on-lost-node", "status:active-on-offline-node", "status:transient-on-down-node",
}

// TestSchedGen checks the generator itself: every case validates, reads
// back as written (crm_simulate and Schedule see the same CIB), is the
// same for the same seed, and the sample covers every promised feature.
// With -v it logs the feature histogram.
func TestSchedGen(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	hist := map[string]int{}
	redraws := 0
	for i := range n {
		seed := int64(7_000_000 + i)
		gc := genCaseForSeed(seed)
		redraws += gc.Redraws
		for _, f := range gc.Features {
			hist[f]++
		}
		if err := gc.CIB.Validate().Err(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		data, err := gc.CIB.Marshal()
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		back, err := cib.Parse("generated", data)
		if err != nil {
			t.Fatalf("seed %d: the export does not parse: %v", seed, err)
		}
		if again, err := back.Marshal(); err != nil || !bytes.Equal(again, data) {
			t.Fatalf("seed %d: the export does not read back as written (%v)", seed, err)
		}
		if i < 50 {
			if twice, _ := genCaseForSeed(seed).CIB.Marshal(); !bytes.Equal(twice, data) {
				t.Fatalf("seed %d: drawn twice, two different CIBs", seed)
			}
		}
	}
	if redraws > n/100 {
		t.Errorf("%d of %d drafts failed Validate; the generator should draw valid CIBs by construction", redraws, n+redraws)
	}
	var missing []string
	for _, f := range genRequired {
		if hist[f] == 0 {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		t.Errorf("features never drawn in %d cases: %v", n, missing)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "features over %d cases (%d redraws):\n", n, redraws)
	for _, f := range slices.Sorted(maps.Keys(hist)) {
		fmt.Fprintf(&b, "  %-40s %5d\n", f, hist[f])
	}
	t.Log(b.String())
}
