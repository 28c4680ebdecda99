package cib

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Marshal renders the CIB as Pacemaker XML, laid out the way cibadmin
// prints it. The output parses back to the same model, so
// Marshal(Parse(Marshal(c))) is byte-for-byte Marshal(c). Sections
// Pacemaker's schema requires (crm_config, nodes, resources, constraints)
// are always written, empty or not.
//
// Marshal fails only for a model that could not be read back as it is:
// characters XML cannot carry, an Extra holding a name the model owns, a
// Raw element with an invalid name.
func (c *CIB) Marshal() ([]byte, error) {
	e := &encoder{}
	root := e.cib(c)
	if e.err != nil {
		return nil, e.err
	}
	var buf bytes.Buffer
	writePretty(&buf, root, 0)
	return buf.Bytes(), nil
}

// Digest is the SHA-256, in hex, of the canonical form of the
// configuration section: attributes sorted, no whitespace, no comments,
// values escaped one way. Layout, attribute order and comments cannot
// change it; any change to what Pacemaker would read does (reordering
// elements counts as a change, since resource and rule order matter). The
// version tuple and the status section are not covered, so two nodes
// holding the same configuration have the same digest.
func (c *CIB) Digest() (string, error) {
	e := &encoder{}
	cfg := e.configuration(&c.Config, "/cib/configuration")
	if e.err != nil {
		return "", e.err
	}
	var buf bytes.Buffer
	writeInline(&buf, cfg, true)
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:]), nil
}

// encoder builds a Raw tree from the model, keeping the first error.
type encoder struct {
	err error
}

func (e *encoder) fail(path string, err error) {
	if e.err == nil {
		e.err = &Error{Path: path, Msg: err.Error()}
	}
}

// elem makes the element named name from modelled fields and an Extra.
// kind names the entry of the children table to check Extra against ("" for
// the name itself).
func (e *encoder) elem(name, kind, path string, fs []field, x Extra) *Raw {
	el := &Raw{Name: name}
	for _, f := range fs {
		var v string
		var ok bool
		switch {
		case f.s != nil:
			v, ok = *f.s, *f.s != ""
		case f.i != nil:
			v, ok = strconv.FormatInt(*f.i, 10), *f.i != 0 || f.always
		default:
			v, ok = strconv.Itoa(*f.n), *f.n != 0 || f.always
		}
		if !ok {
			// Absent from the typed field: an Extra attribute of the same
			// name (an attribute present with the zero value) is written in
			// the field's place, so it reads back where it was.
			if v, ok = extraAttr(x, f.name); ok && f.s == nil {
				if _, err := strconv.ParseInt(v, 10, 64); err != nil {
					e.fail(path, fmt.Errorf("attribute %s: %s is not an integer", f.name, quote(v)))
				}
			}
		}
		if ok {
			el.Attrs = append(el.Attrs, Attr{f.name, v})
		}
	}
	for _, a := range x.Attrs {
		if !fieldNamed(fs, a.Name) {
			el.Attrs = append(el.Attrs, a)
		}
	}
	if err := checkAttrs(el.Attrs); err != nil {
		e.fail(path, err)
	}
	if kind == "" {
		kind = name
	}
	e.extraChildren(path, kind, x.Children)
	return el
}

// extraChildren checks that Extra children can be written and read back as
// Extra children; the caller appends them after the modelled ones.
func (e *encoder) extraChildren(path, kind string, cs []*Raw) {
	for _, ch := range cs {
		if ch == nil {
			e.fail(path, errors.New("a nil Extra child"))
			continue
		}
		if ch.Name == "" {
			e.fail(path, errors.New("a text node in Extra.Children; modelled elements hold no text"))
			continue
		}
		if slices.Contains(children[kind], ch.Name) {
			e.fail(path, fmt.Errorf("Extra holds a <%s>, which the model represents; use the typed field", ch.Name))
			continue
		}
		if err := checkRaw(ch, 1); err != nil {
			e.fail(path+"/"+seg(ch.Name, ch.ID()), err)
		}
	}
}

func (e *encoder) raw(path string, r *Raw, modelled []string, what string) *Raw {
	if r == nil {
		e.fail(path, fmt.Errorf("a nil %s", what))
		return &Raw{Name: "invalid"}
	}
	if slices.Contains(modelled, r.Name) {
		e.fail(path, fmt.Errorf("a %s named <%s>, which the model represents; use the typed value", what, r.Name))
	}
	if err := checkRaw(r, 1); err != nil {
		e.fail(path+"/"+seg(r.Name, r.ID()), err)
	}
	return r
}

func (e *encoder) cib(c *CIB) *Raw {
	const path = "/cib"
	el := e.elem("cib", "", path, c.fields(), c.Extra)
	el.Children = append(el.Children, e.configuration(&c.Config, path+"/configuration"))
	if c.Status != nil {
		el.Children = append(el.Children, e.status(c.Status, path+"/status"))
	}
	el.Children = append(el.Children, c.Extra.Children...)
	return el
}

func (e *encoder) configuration(cfg *Configuration, path string) *Raw {
	el := e.elem("configuration", "", path, nil, cfg.Extra)
	el.Children = append(el.Children, e.sets("crm_config", "cluster_property_set", path+"/crm_config", cfg.CRMConfig, cfg.CRMConfigExtra))

	nodes := e.elem("nodes", "", path+"/nodes", nil, cfg.NodesExtra)
	for i := range cfg.Nodes {
		nodes.Children = append(nodes.Children, e.node(&cfg.Nodes[i], path+"/nodes"))
	}
	nodes.Children = append(nodes.Children, cfg.NodesExtra.Children...)
	el.Children = append(el.Children, nodes)

	rp := path + "/resources"
	rsc := e.elem("resources", "", rp, nil, Extra{Attrs: cfg.ResourcesExtra.Attrs})
	if len(cfg.ResourcesExtra.Children) > 0 {
		e.fail(rp, errors.New("ResourcesExtra.Children is unused: unknown resources go in Resources as *RawResource"))
	}
	for _, r := range cfg.Resources {
		rsc.Children = append(rsc.Children, e.resource(r, rp, false))
	}
	el.Children = append(el.Children, rsc)

	cp := path + "/constraints"
	cons := e.elem("constraints", "", cp, nil, Extra{Attrs: cfg.ConstraintsExtra.Attrs})
	if len(cfg.ConstraintsExtra.Children) > 0 {
		e.fail(cp, errors.New("ConstraintsExtra.Children is unused: unknown constraints go in Constraints as *RawConstraint"))
	}
	for _, c := range cfg.Constraints {
		cons.Children = append(cons.Children, e.constraint(c, cp))
	}
	el.Children = append(el.Children, cons)

	// An empty rsc_defaults or op_defaults means nothing; leave it out.
	if len(cfg.RscDefaults) > 0 || !cfg.RscDefaultsExtra.empty() {
		el.Children = append(el.Children, e.sets("rsc_defaults", "meta_attributes", path+"/rsc_defaults", cfg.RscDefaults, cfg.RscDefaultsExtra))
	}
	if len(cfg.OpDefaults) > 0 || !cfg.OpDefaultsExtra.empty() {
		el.Children = append(el.Children, e.sets("op_defaults", "meta_attributes", path+"/op_defaults", cfg.OpDefaults, cfg.OpDefaultsExtra))
	}
	el.Children = append(el.Children, cfg.Extra.Children...)
	return el
}

func (e *encoder) sets(name, kind, path string, sets []NVSet, x Extra) *Raw {
	el := e.elem(name, "", path, nil, x)
	for i := range sets {
		el.Children = append(el.Children, e.nvset(kind, &sets[i], path))
	}
	el.Children = append(el.Children, x.Children...)
	return el
}

func (e *encoder) nvsets(el *Raw, kind string, sets []NVSet, path string) {
	for i := range sets {
		el.Children = append(el.Children, e.nvset(kind, &sets[i], path))
	}
}

func (e *encoder) nvset(name string, s *NVSet, parent string) *Raw {
	path := parent + "/" + seg(name, s.ID)
	el := e.elem(name, "nvset", path, s.fields(), s.Extra)
	if s.Rule != nil {
		el.Children = append(el.Children, e.rule(s.Rule, path))
	}
	for i := range s.Pairs {
		p := &s.Pairs[i]
		pp := path + "/" + seg("nvpair", p.ID)
		pe := e.elem("nvpair", "", pp, p.fields(), p.Extra)
		pe.Children = p.Extra.Children
		el.Children = append(el.Children, pe)
	}
	el.Children = append(el.Children, s.Extra.Children...)
	return el
}

func (e *encoder) node(n *Node, parent string) *Raw {
	path := parent + "/" + seg("node", n.ID)
	el := e.elem("node", "", path, n.fields(), n.Extra)
	e.nvsets(el, "instance_attributes", n.InstanceAttrs, path)
	e.nvsets(el, "utilization", n.Utilization, path)
	el.Children = append(el.Children, n.Extra.Children...)
	return el
}

// resource writes one resource. nested is true inside a group or clone,
// where an unknown kind reads back into Extra.Children (after the modelled
// members), so a RawResource there would not keep its place.
func (e *encoder) resource(r Resource, parent string, nested bool) *Raw {
	switch r := r.(type) {
	case *Primitive:
		if r != nil {
			return e.primitive(r, parent)
		}
	case *Group:
		if r != nil {
			path := parent + "/" + seg("group", r.ID)
			el := e.elem("group", "", path, r.fields(), r.Extra)
			e.nvsets(el, "instance_attributes", r.InstanceAttrs, path)
			e.nvsets(el, "meta_attributes", r.MetaAttrs, path)
			for _, ch := range r.Children {
				el.Children = append(el.Children, e.resource(ch, path, true))
			}
			el.Children = append(el.Children, r.Extra.Children...)
			return el
		}
	case *Clone:
		if r != nil {
			name := "clone"
			if r.Master {
				name = "master"
			}
			path := parent + "/" + seg(name, r.ID)
			el := e.elem(name, "clone", path, r.fields(), r.Extra)
			e.nvsets(el, "instance_attributes", r.InstanceAttrs, path)
			e.nvsets(el, "meta_attributes", r.MetaAttrs, path)
			if r.Child != nil {
				el.Children = append(el.Children, e.resource(r.Child, path, true))
			}
			el.Children = append(el.Children, r.Extra.Children...)
			return el
		}
	case *RawResource:
		if r != nil && nested {
			e.fail(parent, errors.New("a RawResource inside a group or clone; keep unknown members in its Extra.Children"))
			return &Raw{Name: "invalid"}
		}
		if r != nil {
			return e.raw(parent, r.Raw, resourceKinds, "RawResource")
		}
	}
	e.fail(parent, fmt.Errorf("resource of type %T cannot be written", r))
	return &Raw{Name: "invalid"}
}

func (e *encoder) primitive(p *Primitive, parent string) *Raw {
	path := parent + "/" + seg("primitive", p.ID)
	el := e.elem("primitive", "", path, p.fields(), p.Extra)
	e.nvsets(el, "instance_attributes", p.InstanceAttrs, path)
	e.nvsets(el, "meta_attributes", p.MetaAttrs, path)
	e.nvsets(el, "utilization", p.Utilization, path)
	if len(p.Ops) > 0 || !p.OpsExtra.empty() {
		opath := path + "/operations"
		ops := e.elem("operations", "", opath, nil, p.OpsExtra)
		for i := range p.Ops {
			o := &p.Ops[i]
			op := opath + "/" + seg("op", o.ID)
			oe := e.elem("op", "", op, o.fields(), o.Extra)
			e.nvsets(oe, "instance_attributes", o.InstanceAttrs, op)
			e.nvsets(oe, "meta_attributes", o.MetaAttrs, op)
			oe.Children = append(oe.Children, o.Extra.Children...)
			ops.Children = append(ops.Children, oe)
		}
		ops.Children = append(ops.Children, p.OpsExtra.Children...)
		el.Children = append(el.Children, ops)
	}
	el.Children = append(el.Children, p.Extra.Children...)
	return el
}

func (e *encoder) constraint(c Constraint, parent string) *Raw {
	switch c := c.(type) {
	case *Location:
		if c != nil {
			path := parent + "/" + seg("rsc_location", c.ID)
			el := e.elem("rsc_location", "", path, c.fields(), c.Extra)
			e.resourceSets(el, c.Sets, path)
			for i := range c.Rules {
				el.Children = append(el.Children, e.rule(&c.Rules[i], path))
			}
			el.Children = append(el.Children, c.Extra.Children...)
			return el
		}
	case *Colocation:
		if c != nil {
			path := parent + "/" + seg("rsc_colocation", c.ID)
			el := e.elem("rsc_colocation", "", path, c.fields(), c.Extra)
			e.resourceSets(el, c.Sets, path)
			el.Children = append(el.Children, c.Extra.Children...)
			return el
		}
	case *Order:
		if c != nil {
			path := parent + "/" + seg("rsc_order", c.ID)
			el := e.elem("rsc_order", "", path, c.fields(), c.Extra)
			e.resourceSets(el, c.Sets, path)
			el.Children = append(el.Children, c.Extra.Children...)
			return el
		}
	case *RawConstraint:
		if c != nil {
			return e.raw(parent, c.Raw, constraintKinds, "RawConstraint")
		}
	}
	e.fail(parent, fmt.Errorf("constraint of type %T cannot be written", c))
	return &Raw{Name: "invalid"}
}

func (e *encoder) resourceSets(el *Raw, sets []ResourceSet, parent string) {
	for i := range sets {
		s := &sets[i]
		path := parent + "/" + seg("resource_set", s.ID)
		se := e.elem("resource_set", "", path, s.fields(), s.Extra)
		for _, id := range s.Resources {
			if id == "" {
				e.fail(path, errors.New("an empty resource_ref id"))
			}
			if err := checkChars(id); err != nil {
				e.fail(path, fmt.Errorf("resource_ref: %w", err))
			}
			se.Children = append(se.Children, &Raw{Name: "resource_ref", Attrs: []Attr{{"id", id}}})
		}
		se.Children = append(se.Children, s.Extra.Children...)
		el.Children = append(el.Children, se)
	}
}

func (e *encoder) rule(r *Rule, parent string) *Raw {
	path := parent + "/" + seg("rule", r.ID)
	el := e.elem("rule", "", path, r.fields(), r.Extra)
	for _, c := range r.Conditions {
		el.Children = append(el.Children, e.condition(c, path))
	}
	el.Children = append(el.Children, r.Extra.Children...)
	return el
}

func (e *encoder) condition(c Condition, parent string) *Raw {
	var el *Raw
	var x Extra
	switch c := c.(type) {
	case *Rule:
		if c != nil {
			return e.rule(c, parent)
		}
	case *Expression:
		if c != nil {
			el, x = e.elem("expression", "", parent+"/"+seg("expression", c.ID), c.fields(), c.Extra), c.Extra
		}
	case *RscExpression:
		if c != nil {
			el, x = e.elem("rsc_expression", "", parent+"/"+seg("rsc_expression", c.ID), c.fields(), c.Extra), c.Extra
		}
	case *OpExpression:
		if c != nil {
			el, x = e.elem("op_expression", "", parent+"/"+seg("op_expression", c.ID), c.fields(), c.Extra), c.Extra
		}
	case *RawCondition:
		if c != nil {
			return e.raw(parent, c.Raw, conditionKinds, "RawCondition")
		}
	}
	if el == nil {
		e.fail(parent, fmt.Errorf("rule condition of type %T cannot be written", c))
		return &Raw{Name: "invalid"}
	}
	el.Children = x.Children
	return el
}

func (e *encoder) status(s *Status, path string) *Raw {
	el := e.elem("status", "", path, nil, s.Extra)
	for i := range s.NodeStates {
		el.Children = append(el.Children, e.nodeState(&s.NodeStates[i], path))
	}
	el.Children = append(el.Children, s.Extra.Children...)
	return el
}

func (e *encoder) nodeState(n *NodeState, parent string) *Raw {
	path := parent + "/" + seg("node_state", n.ID)
	el := e.elem("node_state", "", path, n.fields(), n.Extra)
	if t := n.Transient; t != nil {
		tp := path + "/transient_attributes"
		te := e.elem("transient_attributes", "", tp, t.fields(), t.Extra)
		e.nvsets(te, "instance_attributes", t.Sets, tp)
		te.Children = append(te.Children, t.Extra.Children...)
		el.Children = append(el.Children, te)
	}
	if l := n.LRM; l != nil {
		lp := path + "/lrm"
		le := e.elem("lrm", "", lp, l.fields(), l.Extra)
		rp := lp + "/lrm_resources"
		re := e.elem("lrm_resources", "", rp, nil, l.ResourcesExtra)
		for i := range l.Resources {
			r := &l.Resources[i]
			p := rp + "/" + seg("lrm_resource", r.ID)
			ri := e.elem("lrm_resource", "", p, r.fields(), r.Extra)
			for j := range r.Ops {
				o := &r.Ops[j]
				oe := e.elem("lrm_rsc_op", "", p+"/"+seg("lrm_rsc_op", o.ID), o.fields(), o.Extra)
				oe.Children = o.Extra.Children
				ri.Children = append(ri.Children, oe)
			}
			ri.Children = append(ri.Children, r.Extra.Children...)
			re.Children = append(re.Children, ri)
		}
		re.Children = append(re.Children, l.ResourcesExtra.Children...)
		le.Children = append(le.Children, re)
		le.Children = append(le.Children, l.Extra.Children...)
		el.Children = append(el.Children, le)
	}
	el.Children = append(el.Children, n.Extra.Children...)
	return el
}
