package cib

import (
	"fmt"
	"slices"
	"strconv"
)

// Parse reads a CIB in Pacemaker's XML form, as `cibadmin -Q` prints it or
// as cib.xml stores it. name is used in error messages. Parse checks
// structure only: malformed XML, a root that is not <cib>, a second
// <configuration>, an attribute that must be a number and is not. What is
// well-formed but wrong (an unknown resource in a constraint, a cyclic
// order, a bad score) is for Validate, so that every problem can be
// reported at once.
//
// Every error is an *Error naming the file, the line and the element.
func Parse(name string, data []byte) (*CIB, error) {
	root, err := parseTree(name, data)
	if err != nil {
		return nil, err
	}
	d := &decoder{file: name}
	c := d.cib(root)
	if d.err != nil {
		return nil, d.err
	}
	c.file = name
	return c, nil
}

// decoder turns a Raw tree into the model. It keeps the first error; the
// decode methods carry on after one (returning zero values) so that they
// need no error plumbing, and Parse discards the half-built result.
type decoder struct {
	file string
	err  error
}

func (d *decoder) fail(el *Raw, path, format string, args ...any) {
	if d.err == nil {
		d.err = &Error{File: d.file, Line: el.line, Path: path, Msg: fmt.Sprintf(format, args...)}
	}
}

// attrs fills fields from el's attributes and puts the rest in extra. An
// attribute present with the zero value stays in extra, so that presence
// survives (see Extra).
func (d *decoder) attrs(el *Raw, path string, extra *Extra, fs []field) {
	for _, f := range fs {
		if f.always {
			if _, ok := el.Attr(f.name); !ok {
				d.fail(el, path, "missing attribute %s", f.name)
				return
			}
		}
	}
	for _, a := range el.Attrs {
		i := slices.IndexFunc(fs, func(f field) bool { return f.name == a.Name })
		if i < 0 {
			extra.Attrs = append(extra.Attrs, a)
			continue
		}
		f := fs[i]
		switch {
		case f.s != nil:
			if a.Value == "" {
				extra.Attrs = append(extra.Attrs, a)
			}
			*f.s = a.Value
		default:
			v, err := strconv.ParseInt(a.Value, 10, 64)
			if err != nil || f.n != nil && int64(int(v)) != v {
				d.fail(el, path, "attribute %s: %s is not an integer", a.Name, quote(a.Value))
				return
			}
			if v == 0 && !f.always {
				extra.Attrs = append(extra.Attrs, a)
			}
			if f.i != nil {
				*f.i = v
			} else {
				*f.n = int(v)
			}
		}
	}
}

// noText rejects text inside a modelled element: the CIB schema has none,
// and silently dropping it would lose what the user wrote.
func (d *decoder) noText(el *Raw, path string) bool {
	for _, c := range el.Children {
		if c.Name == "" {
			d.fail(c, path, "unexpected text %s inside <%s>", quote(c.Text), el.Name)
			return false
		}
	}
	return true
}

func (d *decoder) cib(el *Raw) *CIB {
	c := &CIB{}
	if el.Name != "cib" {
		d.fail(el, "/"+el.Name, "the root element is <%s>, not <cib>", el.Name)
		return c
	}
	const path = "/cib"
	d.attrs(el, path, &c.Extra, withoutAlways(c.fields()))
	for _, f := range []struct {
		name string
		v    int64
	}{{"admin_epoch", c.AdminEpoch}, {"epoch", c.Epoch}, {"num_updates", c.NumUpdates}} {
		if f.v < 0 {
			d.fail(el, path, "attribute %s: %d is negative", f.name, f.v)
		}
	}
	if !d.noText(el, path) {
		return c
	}
	var sawConfig bool
	for _, ch := range el.Children {
		switch ch.Name {
		case "configuration":
			if sawConfig {
				d.fail(ch, path+"/configuration", "a second <configuration> (the first is at line %d)", firstNamed(el, "configuration").line)
			}
			sawConfig = true
			c.Config = d.configuration(ch, path+"/configuration")
		case "status":
			if c.Status != nil {
				d.fail(ch, path+"/status", "a second <status>")
			}
			c.Status = d.status(ch, path+"/status")
		default:
			c.Extra.Children = append(c.Extra.Children, ch)
		}
	}
	if !sawConfig {
		d.fail(el, path, "no <configuration> section")
	}
	return c
}

// withoutAlways relaxes the root's version attributes: a hand-written CIB
// may leave them out, and they then read as 0 (and are written on export).
func withoutAlways(fs []field) []field {
	out := slices.Clone(fs)
	for i := range out {
		out[i].always = false
	}
	return out
}

func firstNamed(el *Raw, name string) *Raw {
	for _, c := range el.Children {
		if c.Name == name {
			return c
		}
	}
	return el
}

// once reports a second occurrence of a section that may appear once.
func (d *decoder) once(seen map[string]bool, ch *Raw, path string) {
	if seen[ch.Name] {
		d.fail(ch, path, "a second <%s>", ch.Name)
	}
	seen[ch.Name] = true
}

func (d *decoder) configuration(el *Raw, path string) Configuration {
	var cfg Configuration
	d.attrs(el, path, &cfg.Extra, nil)
	if !d.noText(el, path) {
		return cfg
	}
	seen := map[string]bool{}
	for _, ch := range el.Children {
		p := path + "/" + ch.Name
		switch ch.Name {
		case "crm_config":
			d.once(seen, ch, p)
			cfg.CRMConfig = d.sets(ch, p, &cfg.CRMConfigExtra, "cluster_property_set", nil)
		case "nodes":
			d.once(seen, ch, p)
			d.attrs(ch, p, &cfg.NodesExtra, nil)
			if !d.noText(ch, p) {
				break
			}
			for _, n := range ch.Children {
				if n.Name == "node" {
					cfg.Nodes = append(cfg.Nodes, d.node(n, p))
				} else {
					cfg.NodesExtra.Children = append(cfg.NodesExtra.Children, n)
				}
			}
		case "resources":
			d.once(seen, ch, p)
			d.attrs(ch, p, &cfg.ResourcesExtra, nil)
			if !d.noText(ch, p) {
				break
			}
			for _, r := range ch.Children {
				cfg.Resources = append(cfg.Resources, d.resource(r, p))
			}
		case "constraints":
			d.once(seen, ch, p)
			d.attrs(ch, p, &cfg.ConstraintsExtra, nil)
			if !d.noText(ch, p) {
				break
			}
			for _, r := range ch.Children {
				cfg.Constraints = append(cfg.Constraints, d.constraint(r, p))
			}
		case "rsc_defaults":
			d.once(seen, ch, p)
			cfg.RscDefaults = d.sets(ch, p, &cfg.RscDefaultsExtra, "meta_attributes", nil)
		case "op_defaults":
			d.once(seen, ch, p)
			cfg.OpDefaults = d.sets(ch, p, &cfg.OpDefaultsExtra, "meta_attributes", nil)
		default:
			cfg.Extra.Children = append(cfg.Extra.Children, ch)
		}
	}
	return cfg
}

// sets decodes a section whose modelled children are all name/value sets
// of one kind (crm_config, rsc_defaults, op_defaults).
func (d *decoder) sets(el *Raw, path string, extra *Extra, kind string, fs []field) []NVSet {
	d.attrs(el, path, extra, fs)
	if !d.noText(el, path) {
		return nil
	}
	var out []NVSet
	for _, ch := range el.Children {
		if ch.Name == kind {
			out = append(out, d.nvset(ch, path))
		} else {
			extra.Children = append(extra.Children, ch)
		}
	}
	return out
}

func (d *decoder) nvset(el *Raw, parent string) NVSet {
	s := NVSet{line: el.line}
	path := parent + "/" + seg(el.Name, el.ID())
	d.attrs(el, path, &s.Extra, s.fields())
	if !d.noText(el, path) {
		return s
	}
	for _, ch := range el.Children {
		switch ch.Name {
		case "rule":
			if s.Rule != nil {
				d.fail(ch, path, "more than one <rule> in a set (Pacemaker uses only the first)")
			}
			r := d.rule(ch, path)
			s.Rule = &r
		case "nvpair":
			p := NVPair{line: ch.line}
			pp := path + "/" + seg("nvpair", ch.ID())
			d.attrs(ch, pp, &p.Extra, p.fields())
			d.extraChildren(ch, pp, &p.Extra)
			s.Pairs = append(s.Pairs, p)
		default:
			s.Extra.Children = append(s.Extra.Children, ch)
		}
	}
	return s
}

// extraChildren keeps every child of an element that models none.
func (d *decoder) extraChildren(el *Raw, path string, extra *Extra) {
	if d.noText(el, path) {
		extra.Children = append(extra.Children, el.Children...)
	}
}

func (d *decoder) node(el *Raw, parent string) Node {
	n := Node{line: el.line}
	path := parent + "/" + seg("node", el.ID())
	d.attrs(el, path, &n.Extra, n.fields())
	if !d.noText(el, path) {
		return n
	}
	for _, ch := range el.Children {
		switch ch.Name {
		case "instance_attributes":
			n.InstanceAttrs = append(n.InstanceAttrs, d.nvset(ch, path))
		case "utilization":
			n.Utilization = append(n.Utilization, d.nvset(ch, path))
		default:
			n.Extra.Children = append(n.Extra.Children, ch)
		}
	}
	return n
}

func (d *decoder) resource(el *Raw, parent string) Resource {
	path := parent + "/" + seg(el.Name, el.ID())
	switch el.Name {
	case "primitive":
		return d.primitive(el, path)
	case "group":
		g := &Group{line: el.line}
		d.attrs(el, path, &g.Extra, g.fields())
		if !d.noText(el, path) {
			return g
		}
		for _, ch := range el.Children {
			switch ch.Name {
			case "instance_attributes":
				g.InstanceAttrs = append(g.InstanceAttrs, d.nvset(ch, path))
			case "meta_attributes":
				g.MetaAttrs = append(g.MetaAttrs, d.nvset(ch, path))
			case "primitive", "group", "clone", "master":
				g.Children = append(g.Children, d.resource(ch, path))
			default:
				g.Extra.Children = append(g.Extra.Children, ch)
			}
		}
		return g
	case "clone", "master":
		c := &Clone{Master: el.Name == "master", line: el.line}
		d.attrs(el, path, &c.Extra, c.fields())
		if !d.noText(el, path) {
			return c
		}
		for _, ch := range el.Children {
			switch ch.Name {
			case "instance_attributes":
				c.InstanceAttrs = append(c.InstanceAttrs, d.nvset(ch, path))
			case "meta_attributes":
				c.MetaAttrs = append(c.MetaAttrs, d.nvset(ch, path))
			case "primitive", "group", "clone", "master":
				if c.Child != nil {
					d.fail(ch, path, "a second resource <%s> inside <%s> (a clone has exactly one)", ch.Name, el.Name)
				}
				c.Child = d.resource(ch, path)
			default:
				c.Extra.Children = append(c.Extra.Children, ch)
			}
		}
		return c
	default:
		return &RawResource{Raw: el}
	}
}

func (d *decoder) primitive(el *Raw, path string) *Primitive {
	p := &Primitive{line: el.line}
	d.attrs(el, path, &p.Extra, p.fields())
	if !d.noText(el, path) {
		return p
	}
	sawOps := false
	for _, ch := range el.Children {
		switch ch.Name {
		case "instance_attributes":
			p.InstanceAttrs = append(p.InstanceAttrs, d.nvset(ch, path))
		case "meta_attributes":
			p.MetaAttrs = append(p.MetaAttrs, d.nvset(ch, path))
		case "utilization":
			p.Utilization = append(p.Utilization, d.nvset(ch, path))
		case "operations":
			opath := path + "/operations"
			if sawOps {
				d.fail(ch, opath, "a second <operations>")
			}
			sawOps = true
			d.attrs(ch, opath, &p.OpsExtra, nil)
			if !d.noText(ch, opath) {
				break
			}
			for _, o := range ch.Children {
				if o.Name == "op" {
					p.Ops = append(p.Ops, d.op(o, opath))
				} else {
					p.OpsExtra.Children = append(p.OpsExtra.Children, o)
				}
			}
		default:
			p.Extra.Children = append(p.Extra.Children, ch)
		}
	}
	return p
}

func (d *decoder) op(el *Raw, parent string) Op {
	o := Op{line: el.line}
	path := parent + "/" + seg("op", el.ID())
	d.attrs(el, path, &o.Extra, o.fields())
	if !d.noText(el, path) {
		return o
	}
	for _, ch := range el.Children {
		switch ch.Name {
		case "instance_attributes":
			o.InstanceAttrs = append(o.InstanceAttrs, d.nvset(ch, path))
		case "meta_attributes":
			o.MetaAttrs = append(o.MetaAttrs, d.nvset(ch, path))
		default:
			o.Extra.Children = append(o.Extra.Children, ch)
		}
	}
	return o
}

func (d *decoder) constraint(el *Raw, parent string) Constraint {
	path := parent + "/" + seg(el.Name, el.ID())
	switch el.Name {
	case "rsc_location":
		l := &Location{line: el.line}
		d.attrs(el, path, &l.Extra, l.fields())
		if !d.noText(el, path) {
			return l
		}
		for _, ch := range el.Children {
			switch ch.Name {
			case "resource_set":
				l.Sets = append(l.Sets, d.resourceSet(ch, path))
			case "rule":
				l.Rules = append(l.Rules, d.rule(ch, path))
			default:
				l.Extra.Children = append(l.Extra.Children, ch)
			}
		}
		return l
	case "rsc_colocation":
		c := &Colocation{line: el.line}
		d.attrs(el, path, &c.Extra, c.fields())
		c.Sets = d.constraintSets(el, path, &c.Extra)
		return c
	case "rsc_order":
		o := &Order{line: el.line}
		d.attrs(el, path, &o.Extra, o.fields())
		o.Sets = d.constraintSets(el, path, &o.Extra)
		return o
	default:
		return &RawConstraint{Raw: el}
	}
}

func (d *decoder) constraintSets(el *Raw, path string, extra *Extra) []ResourceSet {
	if !d.noText(el, path) {
		return nil
	}
	var sets []ResourceSet
	for _, ch := range el.Children {
		if ch.Name == "resource_set" {
			sets = append(sets, d.resourceSet(ch, path))
		} else {
			extra.Children = append(extra.Children, ch)
		}
	}
	return sets
}

func (d *decoder) resourceSet(el *Raw, parent string) ResourceSet {
	s := ResourceSet{line: el.line}
	path := parent + "/" + seg("resource_set", el.ID())
	d.attrs(el, path, &s.Extra, s.fields())
	if !d.noText(el, path) {
		return s
	}
	for _, ch := range el.Children {
		if ch.Name != "resource_ref" {
			s.Extra.Children = append(s.Extra.Children, ch)
			continue
		}
		// A resource_ref is only a reference; the model keeps it as a
		// plain id, so anything more on it could not survive.
		id, ok := ch.Attr("id")
		if !ok || id == "" || len(ch.Attrs) != 1 || len(ch.Children) != 0 {
			d.fail(ch, path+"/resource_ref", "a <resource_ref> must have exactly one attribute, a non-empty id, and no content")
			continue
		}
		s.Resources = append(s.Resources, id)
	}
	return s
}

func (d *decoder) rule(el *Raw, parent string) Rule {
	r := Rule{line: el.line}
	path := parent + "/" + seg("rule", el.ID())
	d.attrs(el, path, &r.Extra, r.fields())
	if !d.noText(el, path) {
		return r
	}
	for _, ch := range el.Children {
		cpath := path + "/" + seg(ch.Name, ch.ID())
		switch ch.Name {
		case "rule":
			sub := d.rule(ch, path)
			r.Conditions = append(r.Conditions, &sub)
		case "expression":
			e := &Expression{line: ch.line}
			d.attrs(ch, cpath, &e.Extra, e.fields())
			d.extraChildren(ch, cpath, &e.Extra)
			r.Conditions = append(r.Conditions, e)
		case "rsc_expression":
			e := &RscExpression{line: ch.line}
			d.attrs(ch, cpath, &e.Extra, e.fields())
			d.extraChildren(ch, cpath, &e.Extra)
			r.Conditions = append(r.Conditions, e)
		case "op_expression":
			e := &OpExpression{line: ch.line}
			d.attrs(ch, cpath, &e.Extra, e.fields())
			d.extraChildren(ch, cpath, &e.Extra)
			r.Conditions = append(r.Conditions, e)
		default:
			r.Conditions = append(r.Conditions, &RawCondition{Raw: ch})
		}
	}
	return r
}

func (d *decoder) status(el *Raw, path string) *Status {
	s := &Status{}
	d.attrs(el, path, &s.Extra, nil)
	if !d.noText(el, path) {
		return s
	}
	for _, ch := range el.Children {
		if ch.Name == "node_state" {
			s.NodeStates = append(s.NodeStates, d.nodeState(ch, path))
		} else {
			s.Extra.Children = append(s.Extra.Children, ch)
		}
	}
	return s
}

func (d *decoder) nodeState(el *Raw, parent string) NodeState {
	n := NodeState{line: el.line}
	path := parent + "/" + seg("node_state", el.ID())
	d.attrs(el, path, &n.Extra, n.fields())
	if !d.noText(el, path) {
		return n
	}
	for _, ch := range el.Children {
		switch ch.Name {
		case "transient_attributes":
			tpath := path + "/transient_attributes"
			if n.Transient != nil {
				d.fail(ch, tpath, "a second <transient_attributes>")
			}
			t := &TransientAttributes{}
			t.Sets = d.sets(ch, tpath, &t.Extra, "instance_attributes", t.fields())
			n.Transient = t
		case "lrm":
			if n.LRM != nil {
				d.fail(ch, path+"/lrm", "a second <lrm>")
			}
			n.LRM = d.lrm(ch, path)
		default:
			n.Extra.Children = append(n.Extra.Children, ch)
		}
	}
	return n
}

func (d *decoder) lrm(el *Raw, parent string) *LRM {
	l := &LRM{}
	path := parent + "/lrm"
	d.attrs(el, path, &l.Extra, l.fields())
	if !d.noText(el, path) {
		return l
	}
	saw := false
	for _, ch := range el.Children {
		if ch.Name != "lrm_resources" {
			l.Extra.Children = append(l.Extra.Children, ch)
			continue
		}
		rpath := path + "/lrm_resources"
		if saw {
			d.fail(ch, rpath, "a second <lrm_resources>")
		}
		saw = true
		d.attrs(ch, rpath, &l.ResourcesExtra, nil)
		if !d.noText(ch, rpath) {
			continue
		}
		for _, r := range ch.Children {
			if r.Name != "lrm_resource" {
				l.ResourcesExtra.Children = append(l.ResourcesExtra.Children, r)
				continue
			}
			l.Resources = append(l.Resources, d.lrmResource(r, rpath))
		}
	}
	return l
}

func (d *decoder) lrmResource(el *Raw, parent string) LRMResource {
	r := LRMResource{line: el.line}
	path := parent + "/" + seg("lrm_resource", el.ID())
	d.attrs(el, path, &r.Extra, r.fields())
	if !d.noText(el, path) {
		return r
	}
	for _, ch := range el.Children {
		if ch.Name != "lrm_rsc_op" {
			r.Extra.Children = append(r.Extra.Children, ch)
			continue
		}
		o := LRMOp{line: ch.line}
		opath := path + "/" + seg("lrm_rsc_op", ch.ID())
		d.attrs(ch, opath, &o.Extra, o.fields())
		d.extraChildren(ch, opath, &o.Extra)
		r.Ops = append(r.Ops, o)
	}
	return r
}
