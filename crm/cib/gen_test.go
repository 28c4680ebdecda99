package cib

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"

	"github.com/leanovate/gopter"
)

// cibGen draws random CIBs. In valid mode it draws only what Pacemaker's
// schema and Validate accept (unique ids, existing references, acyclic
// orders, fencing off so crm_verify needs no fence device); otherwise it
// adds everything the model must carry without understanding: unknown
// attributes and elements, text, empty-valued attributes, odd values,
// kept-verbatim resources, constraints and conditions, a status section.
type cibGen struct {
	r     *rand.Rand
	valid bool
	n     int
}

// genCIB is a gopter generator of *CIB.
func genCIB(valid bool) gopter.Gen {
	return func(p *gopter.GenParameters) *gopter.GenResult {
		g := &cibGen{r: p.Rng, valid: valid}
		return gopter.NewGenResult(g.cib(), gopter.NoShrinker)
	}
}

func (g *cibGen) id(prefix string) string { g.n++; return fmt.Sprintf("%s-%d", prefix, g.n) }
func (g *cibGen) intn(n int) int          { return g.r.Intn(n) }
func (g *cibGen) chance(p float64) bool   { return g.r.Float64() < p }
func (g *cibGen) pick(xs ...string) string {
	return xs[g.r.Intn(len(xs))]
}

// text is an attribute value that needs care to write: markup characters,
// tabs and line ends, non-ASCII, padding.
func (g *cibGen) text() string {
	return g.pick("x", "a b", "tab\there", "line\nbreak", "cr\rlf\r\n", `quote"s'`, "amp&lt;", "<tag>", "é中🙂",
		"  padded  ", "100", "INFINITY", "]]>", "&#38;")
}

// wildStr is a typed attribute in wild mode: usually plausible, sometimes
// empty (absent) or strange.
func (g *cibGen) wildStr(plausible ...string) string {
	switch {
	case g.chance(0.2):
		return ""
	case g.chance(0.2):
		return g.text()
	}
	return g.pick(plausible...)
}

// extra draws unknown attributes and children (wild mode only). Names
// start with "zz-" so they never collide with modelled ones.
func (g *cibGen) extra() Extra {
	var x Extra
	if g.valid {
		return x
	}
	for i := range g.intn(3) {
		if g.chance(0.5) {
			x.Attrs = append(x.Attrs, Attr{fmt.Sprintf("zz-a%d", i), g.text()})
		}
	}
	if g.chance(0.2) {
		x.Attrs = append(x.Attrs, Attr{"zz:ns", "v"})
	}
	if g.chance(0.25) {
		x.Children = append(x.Children, g.raw("zz-el", 0))
	}
	return x
}

// withEmpty adds a modelled attribute present with an empty value, which
// lives in Extra (see Extra's comment), when the typed field is empty.
func (g *cibGen) withEmpty(x Extra, name, typed string) Extra {
	if !g.valid && typed == "" && g.chance(0.3) {
		x.Attrs = append(x.Attrs, Attr{name, ""})
	}
	return x
}

func (g *cibGen) raw(name string, depth int) *Raw {
	r := &Raw{Name: name}
	if g.chance(0.6) {
		r.Attrs = append(r.Attrs, Attr{"id", g.id(name)})
	}
	if g.chance(0.5) {
		r.Attrs = append(r.Attrs, Attr{"zz-k", g.text()})
	}
	lastText := false
	for range g.intn(4) {
		if !lastText && g.chance(0.4) {
			t := g.text()
			if strings.TrimSpace(t) == "" {
				t = "t"
			}
			r.Children = append(r.Children, &Raw{Text: t})
			lastText = true
			continue
		}
		if depth < 3 {
			r.Children = append(r.Children, g.raw(g.pick("zz-child", "zz-leaf", "rule"), depth+1))
			lastText = false
		}
	}
	return r
}

func (g *cibGen) cib() *CIB {
	c := &CIB{
		AdminEpoch: int64(g.intn(3)), Epoch: int64(g.intn(1000)), NumUpdates: int64(g.intn(100)),
		ValidateWith: "pacemaker-3.9",
		Extra:        g.extra(),
	}
	if g.valid {
		c.Extra.Attrs = []Attr{{"crm_feature_set", "3.16.2"}, {"have-quorum", "1"}, {"dc-uuid", "1"}}
	} else {
		c.ValidateWith = g.wildStr("pacemaker-3.9", "pacemaker-2.10", "pacemaker-next")
		c.Extra = g.withEmpty(c.Extra, "validate-with", c.ValidateWith)
		if g.chance(0.2) {
			c.Extra.Children = append(c.Extra.Children, g.raw("zz-section", 0))
		}
	}
	var unames []string
	for i := range 1 + g.intn(3) {
		n := Node{ID: fmt.Sprint(i + 1), Uname: fmt.Sprintf("node-%d", i+1), Extra: g.extra()}
		if g.chance(0.5) {
			n.InstanceAttrs = []NVSet{g.set("nodes", map[string][]string{"rack": {"r1", "r2"}, "standby": {"off"}}, false)}
		}
		if g.chance(0.2) {
			n.Utilization = []NVSet{g.set("util", map[string][]string{"cpu": {"2", "8"}}, false)}
		}
		unames = append(unames, n.Uname)
		c.Config.Nodes = append(c.Config.Nodes, n)
	}

	boot := g.set("cib-bootstrap-options", map[string][]string{
		"no-quorum-policy": {"stop", "ignore", "freeze"}, "symmetric-cluster": {"true"},
		"cluster-name": {"gen", "é中"}, "maintenance-mode": {"false"},
	}, false)
	boot.ID = "cib-bootstrap-options"
	if g.valid {
		boot.Pairs = append(boot.Pairs, NVPair{ID: g.id("opt"), Name: "stonith-enabled", Value: "false"})
	}
	c.Config.CRMConfig = []NVSet{boot}
	if g.chance(0.3) {
		c.Config.CRMConfig = append(c.Config.CRMConfig, g.set("opts", map[string][]string{"start-failure-is-fatal": {"true", "false"}}, true))
	}
	c.Config.CRMConfigExtra = g.extra()
	c.Config.NodesExtra = g.extra()

	var tops []string // top-level resources, which constraints name
	for range g.intn(6) {
		r := g.resource(0)
		c.Config.Resources = append(c.Config.Resources, r)
		tops = append(tops, r.ResourceID())
	}
	if !g.valid && g.chance(0.3) {
		raw := g.raw(g.pick("bundle", "zz-rsc"), 0)
		c.Config.Resources = append(c.Config.Resources, &RawResource{Raw: raw})
	}
	c.Config.ResourcesExtra.Attrs = g.extra().Attrs

	for range g.intn(7) {
		if con := g.constraint(tops, unames); con != nil {
			c.Config.Constraints = append(c.Config.Constraints, con)
		}
	}
	if !g.valid && g.chance(0.3) {
		c.Config.Constraints = append(c.Config.Constraints, &RawConstraint{Raw: g.raw(g.pick("rsc_ticket", "zz-con"), 0)})
	}
	c.Config.ConstraintsExtra.Attrs = g.extra().Attrs
	if g.chance(0.5) {
		c.Config.RscDefaults = []NVSet{g.set("rsc-options", map[string][]string{"resource-stickiness": {"100", "0", "INFINITY"}}, false)}
		c.Config.RscDefaultsExtra = g.extra()
	}
	if g.chance(0.3) {
		c.Config.OpDefaults = []NVSet{g.set("op-options", map[string][]string{"timeout": {"30s", "PT1M"}}, false)}
	}
	c.Config.Extra = g.extra()
	if g.chance(0.7) {
		c.Status = g.status(unames, tops)
	}
	return c
}

// set draws a name/value set from names (each with plausible values).
// Names are drawn in sorted order so the set does not depend on map order.
func (g *cibGen) set(prefix string, names map[string][]string, mayRule bool) NVSet {
	s := NVSet{ID: g.id(prefix), Extra: g.extra()}
	keys := sortedKeys(names)
	for _, name := range keys {
		if g.chance(0.6) {
			continue
		}
		p := NVPair{ID: g.id(prefix + "-" + name), Name: name, Value: g.pick(names[name]...), Extra: g.extra()}
		if !g.valid && g.chance(0.2) {
			p.Value = ""
			p.Extra = g.withEmpty(p.Extra, "value", "")
		}
		s.Pairs = append(s.Pairs, p)
	}
	if !g.valid && g.chance(0.3) {
		s.Pairs = append(s.Pairs, NVPair{ID: g.id("p"), Name: g.text(), Value: g.text()})
	}
	if mayRule && g.chance(0.5) {
		r := g.rule(0, false)
		s.Rule = &r
	}
	if !g.valid && g.chance(0.2) {
		s.Score = g.pick("10", "-INFINITY", "lots")
	}
	return s
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func (g *cibGen) rule(depth int, scored bool) Rule {
	r := Rule{ID: g.id("rule"), BooleanOp: g.pick("", "and", "or"), Extra: g.extra()}
	if scored {
		r.Score = g.pick("INFINITY", "-INFINITY", "100", "-5")
		if !g.valid && g.chance(0.2) {
			r.Score, r.ScoreAttribute = "", "pingd"
		}
	}
	for range 1 + g.intn(3) {
		switch {
		case depth < 2 && g.chance(0.2):
			sub := g.rule(depth+1, false)
			r.Conditions = append(r.Conditions, &sub)
		case !g.valid && g.chance(0.1):
			r.Conditions = append(r.Conditions, &RawCondition{Raw: g.raw("date_expression", 2)})
		case !g.valid && g.chance(0.1):
			r.Conditions = append(r.Conditions, &RscExpression{ID: g.id("rx"), Class: "ocf", Extra: g.extra()})
		case !g.valid && g.chance(0.1):
			r.Conditions = append(r.Conditions, &OpExpression{ID: g.id("ox"), Name: "monitor", Interval: g.wildStr("10s"), Extra: g.extra()})
		default:
			e := &Expression{ID: g.id("expr"), Attribute: g.pick("#uname", "pingd", "rack", "kernel"),
				Operation: g.pick("lt", "gt", "lte", "gte", "eq", "ne", "defined", "not_defined"),
				Type:      g.pick("", "string", "integer", "number", "version"), Extra: g.extra()}
			if e.Operation != "defined" && e.Operation != "not_defined" {
				e.Value = g.pick("0", "1000", "node-1", "5.10", "r1")
			}
			if g.valid && e.Type == "version" {
				// Pacemaker 2.1.5 loops forever comparing versions whose
				// non-numeric parts line up (#uname against "node-1").
				e.Attribute, e.Value = "kernel", "5.10"
			}
			if !g.valid {
				e.Value = g.wildStr(e.Value)
				e.Extra = g.withEmpty(e.Extra, "value", e.Value)
				e.ValueSource = g.wildStr("literal", "param")
			}
			r.Conditions = append(r.Conditions, e)
		}
	}
	return r
}

func (g *cibGen) primitive() *Primitive {
	agent := g.pick("ocf:heartbeat:Dummy", "ocf:heartbeat:IPaddr2", "ocf:pacemaker:Stateful", "lsb:cron", "systemd:nginx")
	parts := strings.Split(agent, ":")
	p := &Primitive{ID: g.id("prim"), Class: parts[0], Type: parts[len(parts)-1], Extra: g.extra()}
	if len(parts) == 3 {
		p.Provider = parts[1]
	}
	if !g.valid {
		p.Provider = g.wildStr(p.Provider)
		p.Description = g.wildStr("a resource")
		p.Extra = g.withEmpty(p.Extra, "description", p.Description)
	}
	if g.chance(0.7) {
		p.InstanceAttrs = []NVSet{g.set(p.ID+"-ia", map[string][]string{"ip": {"10.0.0.1"}, "state": {"/run/x"}, "text": {g.text()}}, false)}
	}
	if g.chance(0.4) {
		p.MetaAttrs = []NVSet{g.set(p.ID+"-meta", map[string][]string{
			"target-role": {"Started", "Stopped"}, "is-managed": {"true"}, "resource-stickiness": {"100"},
			"migration-threshold": {"3"}, "priority": {"5"}}, true)}
	}
	if g.chance(0.2) {
		p.Utilization = []NVSet{g.set(p.ID+"-util", map[string][]string{"cpu": {"1"}}, false)}
	}
	intervals := []string{"10s", "20", "1min", "PT45S", "500ms"}
	g.r.Shuffle(len(intervals), func(i, j int) { intervals[i], intervals[j] = intervals[j], intervals[i] })
	for _, iv := range intervals[:g.intn(3)] {
		o := Op{ID: g.id(p.ID + "-monitor"), Name: "monitor", Interval: iv, Extra: g.extra()}
		if g.chance(0.5) {
			o.Timeout = g.pick("20s", "60", "PT2M")
		}
		if g.chance(0.2) {
			o.OnFail = g.pick("restart", "block", "ignore")
		}
		if g.chance(0.1) {
			o.InstanceAttrs = []NVSet{g.set(o.ID+"-ia", map[string][]string{"OCF_CHECK_LEVEL": {"10"}}, false)}
		}
		if !g.valid {
			o.Interval = g.wildStr(o.Interval, "1.5s", "often")
			o.Role = g.wildStr("Promoted", "Slave")
		}
		p.Ops = append(p.Ops, o)
	}
	if g.chance(0.3) {
		p.Ops = append(p.Ops, Op{ID: g.id(p.ID + "-start"), Name: "start", Interval: "0", Timeout: "60s"})
	}
	if !g.valid && g.chance(0.2) {
		p.OpsExtra = Extra{Attrs: []Attr{{"id", g.id("ops")}}}
	}
	return p
}

func (g *cibGen) resource(depth int) Resource {
	switch k := g.intn(10); {
	case k < 5 || depth > 0 && g.valid:
		return g.primitive()
	case k < 7:
		gr := &Group{ID: g.id("group"), Extra: g.extra()}
		for range 1 + g.intn(3) {
			gr.Children = append(gr.Children, g.primitive())
		}
		if !g.valid && g.chance(0.2) {
			gr.Children = append(gr.Children, g.resource(depth+1)) // not a primitive: Validate's business
		}
		if g.chance(0.3) {
			gr.MetaAttrs = []NVSet{g.set(gr.ID+"-meta", map[string][]string{"target-role": {"Started"}}, false)}
		}
		return gr
	default:
		cl := &Clone{ID: g.id("clone"), Master: g.chance(0.3), Extra: g.extra()}
		if g.chance(0.7) || g.valid {
			if g.chance(0.3) {
				cl.Child = g.resource(depth + 1)
				if g.valid {
					gr := &Group{ID: g.id("cgroup"), Children: []Resource{g.primitive(), g.primitive()}}
					cl.Child = gr
				}
			} else {
				cl.Child = g.primitive()
			}
		}
		names := map[string][]string{"clone-max": {"2"}, "clone-node-max": {"1"}, "interleave": {"true", "false"},
			"globally-unique": {"false"}, "notify": {"true"}}
		if cl.Master {
			names["master-max"] = []string{"1"}
			names["master-node-max"] = []string{"1"}
		} else {
			names["promotable"] = []string{"false"}
			if !g.valid {
				names["promotable"] = []string{"true", "false"}
			}
			names["promoted-max"] = []string{"1"}
		}
		if g.chance(0.7) {
			cl.MetaAttrs = []NVSet{g.set(cl.ID+"-meta", names, false)}
		}
		if g.valid && cl.Master {
			ocfOnly(cl.Child) // only OCF agents can be promoted
		}
		return cl
	}
}

// ocfOnly makes every primitive in r an OCF agent that can be promoted.
func ocfOnly(r Resource) {
	switch r := r.(type) {
	case *Primitive:
		r.Class, r.Provider, r.Type = "ocf", "pacemaker", "Stateful"
	case *Group:
		for _, ch := range r.Children {
			ocfOnly(ch)
		}
	}
}

func (g *cibGen) constraint(tops, unames []string) Constraint {
	if len(tops) == 0 {
		return nil
	}
	node := g.pick(append(unames, "ghost")...)
	switch g.intn(3) {
	case 0:
		l := &Location{ID: g.id("loc"), Rsc: g.pick(tops...), Extra: g.extra()}
		if g.chance(0.5) {
			l.Score, l.Node = g.pick("INFINITY", "-INFINITY", "+INFINITY", "100", "-1"), node
		} else {
			for range 1 + g.intn(2) {
				l.Rules = append(l.Rules, g.rule(0, true))
			}
		}
		if g.chance(0.2) {
			l.Role = "Started"
		}
		if !g.valid && g.chance(0.2) {
			l.Score = g.pick("inf", "1.5", "")
			l.ResourceDiscovery = g.wildStr("never", "exclusive")
		}
		return l
	case 1:
		if len(tops) < 2 {
			return nil
		}
		i, j := g.two(len(tops))
		co := &Colocation{ID: g.id("col"), Score: g.pick("INFINITY", "-INFINITY", "100", "-50", "+INFINITY"), Extra: g.extra()}
		if g.chance(0.3) {
			co.Sets = []ResourceSet{{ID: g.id("colset"), Sequential: g.pick("", "false"), Resources: []string{tops[i], tops[j]}, Extra: g.extra()}}
		} else {
			co.Rsc, co.WithRsc = tops[i], tops[j]
		}
		if !g.valid {
			co.RscRole = g.wildStr("Started", "Master")
		}
		return co
	default:
		if len(tops) < 2 {
			return nil
		}
		i, j := g.two(len(tops))
		i, j = min(i, j), max(i, j) // always forward in resource order: no cycles
		o := &Order{ID: g.id("ord"), Kind: g.pick("", "Mandatory", "Optional", "Serialize"), Extra: g.extra()}
		if o.Kind != "Serialize" {
			o.Symmetrical = g.pick("", "true", "false")
		}
		if g.chance(0.3) && i+1 < j {
			o.Sets = []ResourceSet{
				{ID: g.id("ordset"), Resources: []string{tops[i], tops[i+1]}, RequireAll: g.pick("", "true")},
				{ID: g.id("ordset"), Resources: []string{tops[j]}},
			}
		} else {
			o.First, o.Then = tops[i], tops[j]
			o.FirstAction = g.pick("", "start")
		}
		if !g.valid && g.chance(0.2) {
			o.Kind, o.Score = "", g.pick("0", "INFINITY", "x")
		}
		return o
	}
}

func (g *cibGen) two(n int) (int, int) {
	i := g.intn(n)
	j := (i + 1 + g.intn(n-1)) % n
	return i, j
}

func (g *cibGen) status(unames, tops []string) *Status {
	s := &Status{Extra: g.extra()}
	for i, u := range unames {
		ns := NodeState{ID: fmt.Sprint(i + 1), Uname: u, InCCM: "true", Crmd: "online", Join: "member", Expected: "member", Extra: g.extra()}
		if !g.valid {
			ns.InCCM = g.wildStr("true", "false", "1772530000")
			ns.Crmd = g.wildStr("online", "offline", "1772530001")
		}
		if g.chance(0.7) {
			ns.Transient = &TransientAttributes{ID: ns.ID, Sets: []NVSet{g.set("status-"+ns.ID, map[string][]string{"pingd": {"0", "1000"}}, false)}, Extra: g.extra()}
		}
		if g.chance(0.7) {
			ns.LRM = &LRM{ID: ns.ID, Extra: g.extra(), ResourcesExtra: g.extra()}
			for _, rsc := range tops {
				if g.chance(0.5) {
					continue
				}
				lr := LRMResource{ID: rsc, Class: "ocf", Provider: "heartbeat", Type: "Dummy", Extra: g.extra()}
				// A probe that found the resource stopped: harmless to
				// Pacemaker's scheduler in valid mode.
				probe := LRMOp{ID: rsc + "_last_0", OperationKey: rsc + "_monitor_0", Operation: "monitor",
					CallID: 1 + g.intn(50), RCCode: 7, TransitionKey: "1:1:7:uuid", TransitionMagic: "0:7;1:1:7:uuid",
					OnNode: u, LastRCChange: 1772530000 + int64(g.intn(1000)), ExecTimeMS: int64(g.intn(100)), Extra: g.extra()}
				if !g.valid {
					probe.RCCode, probe.OpStatus, probe.IntervalMS = g.intn(10)-1, g.intn(6)-1, int64(g.intn(3)*10000)
					probe.CallID = g.intn(100) - 5
					probe.ExitReason = g.wildStr("Timed Out", "")
					probe.Extra = g.withEmpty(probe.Extra, "exit-reason", probe.ExitReason)
					if probe.ExecTimeMS == 0 && g.chance(0.5) {
						probe.Extra.Attrs = append(probe.Extra.Attrs, Attr{"exec-time", "0"})
					}
				}
				lr.Ops = append(lr.Ops, probe)
				ns.LRM.Resources = append(ns.LRM.Resources, lr)
			}
		}
		s.NodeStates = append(s.NodeStates, ns)
	}
	return s
}

// reformat rewrites XML with the same content in another layout: other
// indentation, attributes shuffled, either quote, empty elements as
// <x></x>, comments between elements. A digest must not notice.
func reformat(r *rand.Rand, root *Raw) []byte {
	var b bytes.Buffer
	if r.Intn(2) == 0 {
		b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	}
	ws := func() string { return []string{"", " ", "\n", "\n\t\t", "\r\n  "}[r.Intn(5)] }
	var write func(x *Raw)
	write = func(x *Raw) {
		if x.Name == "" {
			b.WriteString(escapeText(x.Text))
			return
		}
		b.WriteString("<" + x.Name)
		attrs := append([]Attr(nil), x.Attrs...)
		r.Shuffle(len(attrs), func(i, j int) { attrs[i], attrs[j] = attrs[j], attrs[i] })
		for _, a := range attrs {
			b.WriteString(ws()[:0] + " " + a.Name + "=")
			if r.Intn(2) == 0 {
				b.WriteString(`"` + escapeAttr(a.Value) + `"`)
			} else {
				b.WriteString("'" + strings.ReplaceAll(escapeAttr(a.Value), "'", "&apos;") + "'")
			}
		}
		text := hasText(x)
		if len(x.Children) == 0 {
			if r.Intn(2) == 0 {
				b.WriteString("/>")
			} else {
				b.WriteString("></" + x.Name + ">")
			}
			return
		}
		b.WriteString(">")
		for _, c := range x.Children {
			if !text {
				b.WriteString(ws())
				if r.Intn(5) == 0 {
					b.WriteString("<!-- a comment -->" + ws())
				}
			}
			write(c)
		}
		if !text {
			b.WriteString(ws())
		}
		b.WriteString("</" + x.Name + ">")
	}
	write(root)
	b.WriteString(ws())
	return b.Bytes()
}
