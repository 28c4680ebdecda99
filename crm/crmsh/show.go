package crmsh

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hakit/hakit/crm/cib"
)

// Show renders c's configuration as crm shell configure commands, one per
// logical line, long ones continued with a backslash, as `crm configure
// show` does. Parsing the output and applying it to an Empty CIB gives a
// configuration with the same Digest, for any configuration built by
// commands of this package (ids of nested elements are regenerated, so a
// CIB imported with other ids keeps its meaning but not its ids).
func Show(c *cib.CIB) string {
	var b strings.Builder
	for _, n := range c.Config.Nodes {
		fmt.Fprintf(&b, "# not shown: node %s\n", n.Uname)
	}
	for _, r := range c.Config.Resources {
		showResource(&b, r)
	}
	for _, k := range c.Config.Constraints {
		showConstraint(&b, k)
	}
	showSets(&b, "property", c.Config.CRMConfig)
	showSets(&b, "rsc_defaults", c.Config.RscDefaults)
	showSets(&b, "op_defaults", c.Config.OpDefaults)
	for _, x := range c.Config.Extra.Children {
		fmt.Fprintf(&b, "# not shown: <%s>\n", x.Name)
	}
	return b.String()
}

// ShowIDs renders only the named resources (with their members) and
// constraints, in the order given, as `crm configure show ID...` does.
func ShowIDs(c *cib.CIB, ids ...string) (string, error) {
	var b strings.Builder
	for _, id := range ids {
		if r, _ := c.Resource(id); r != nil {
			showResource(&b, r)
			continue
		}
		found := false
		for _, k := range c.Config.Constraints {
			if k.ConstraintID() == id {
				showConstraint(&b, k)
				found = true
				break
			}
		}
		if !found {
			return "", fmt.Errorf("no resource or constraint %s", strconv.Quote(id))
		}
	}
	return b.String(), nil
}

// line collects one command's parts and writes them with continuations.
type line struct {
	notes []string // "# not shown" comments, written before the command
	head  string
	parts []string
}

func (l *line) add(s string) { l.parts = append(l.parts, s) }

func (l *line) write(b *strings.Builder) {
	for _, n := range l.notes {
		b.WriteString("# not shown: " + n + "\n")
	}
	b.WriteString(l.head)
	for _, p := range l.parts {
		b.WriteString(" \\\n\t")
		b.WriteString(p)
	}
	b.WriteByte('\n')
}

// quoteValue quotes a value when the lexer would not read it back as is.
func quoteValue(v string) string {
	switch v {
	case "", "(", ")", "[", "]":
	default:
		if !strings.ContainsAny(v, " \t\r\n\f\v\"'\\") {
			return v
		}
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(v) + `"`
}

func pairsText(ps []cib.NVPair) string {
	var out []string
	for _, p := range ps {
		out = append(out, quoteValue(p.Name)+"="+quoteValue(p.Value))
	}
	return strings.Join(out, " ")
}

// setsPart renders option sets as "KW k=v ..." (all sets merged).
func setsPart(l *line, kw string, sets []cib.NVSet) {
	var ps []cib.NVPair
	for _, s := range sets {
		if s.Rule != nil || s.IDRef != "" || s.Score != "" {
			l.notes = append(l.notes, kw+" set "+s.ID+" has a rule, score or id-ref")
		}
		ps = append(ps, s.Pairs...)
	}
	if len(ps) > 0 {
		l.add(kw + " " + pairsText(ps))
	}
}

func showResource(b *strings.Builder, r cib.Resource) {
	switch r := r.(type) {
	case *cib.Primitive:
		l := &line{head: "primitive " + r.ID + " " + agent(r)}
		if r.Description != "" {
			l.head += " description=" + quoteValue(r.Description)
		}
		setsPart(l, "params", r.InstanceAttrs)
		setsPart(l, "meta", r.MetaAttrs)
		setsPart(l, "utilization", r.Utilization)
		for _, o := range r.Ops {
			s := "op " + o.Name
			if o.Interval != "" {
				s += " interval=" + quoteValue(o.Interval)
			}
			if o.Timeout != "" {
				s += " timeout=" + quoteValue(o.Timeout)
			}
			if o.Role != "" {
				s += " role=" + quoteValue(o.Role)
			}
			if o.OnFail != "" {
				s += " on-fail=" + quoteValue(o.OnFail)
			}
			for _, x := range o.Extra.Attrs {
				s += " " + x.Name + "=" + quoteValue(x.Value)
			}
			if len(o.MetaAttrs) > 0 || len(o.InstanceAttrs) > 1 {
				l.notes = append(l.notes, "op "+o.ID+" meta_attributes or several instance_attributes sets")
			}
			for _, set := range o.InstanceAttrs {
				if len(set.Pairs) > 0 {
					s += " " + pairsText(set.Pairs)
				}
			}
			l.add(s)
		}
		l.write(b)
	case *cib.Group:
		var ids []string
		for _, c := range r.Children {
			showResource(b, c)
			ids = append(ids, c.ResourceID())
		}
		l := &line{head: "group " + r.ID + " " + strings.Join(ids, " ")}
		containerTail(l, r.Description, r.InstanceAttrs, r.MetaAttrs)
		l.write(b)
	case *cib.Clone:
		kw, child := "clone", ""
		if r.Master {
			kw = "ms"
		}
		if r.Child != nil {
			showResource(b, r.Child)
			child = r.Child.ResourceID()
		}
		l := &line{head: kw + " " + r.ID + " " + child}
		containerTail(l, r.Description, r.InstanceAttrs, r.MetaAttrs)
		l.write(b)
	case *cib.RawResource:
		fmt.Fprintf(b, "# not shown: <%s id=%s>\n", r.Raw.Name, r.Raw.ID())
	}
}

func containerTail(l *line, desc string, params, meta []cib.NVSet) {
	if desc != "" {
		l.head += " description=" + quoteValue(desc)
	}
	setsPart(l, "meta", meta)
	setsPart(l, "params", params)
}

func agent(p *cib.Primitive) string {
	switch {
	case p.Template != "":
		return "@" + p.Template
	case p.Provider != "":
		return p.Class + ":" + p.Provider + ":" + p.Type
	case p.Class != "":
		return p.Class + ":" + p.Type
	}
	return p.Type
}

// scoreText is the crmsh spelling of a CIB score.
func scoreText(s string) string {
	switch s {
	case "INFINITY", "+INFINITY":
		return "inf"
	case "-INFINITY":
		return "-inf"
	}
	return s
}

func withSuffix(id, suffix string) string {
	if suffix == "" {
		return id
	}
	return id + ":" + suffix
}

func setsText(sets []cib.ResourceSet, colocation bool) string {
	var parts []string
	for _, s := range sets {
		suf := s.Action
		if colocation {
			suf = s.Role
		}
		var ms []string
		for _, r := range s.Resources {
			ms = append(ms, withSuffix(r, suf))
		}
		switch {
		case s.Sequential == "false" && s.RequireAll == "false":
			parts = append(parts, "[ "+strings.Join(ms, " ")+" ]")
		case s.Sequential == "false":
			parts = append(parts, "( "+strings.Join(ms, " ")+" )")
		default:
			parts = append(parts, strings.Join(ms, " "))
		}
	}
	return strings.Join(parts, " ")
}

func showConstraint(b *strings.Builder, k cib.Constraint) {
	switch k := k.(type) {
	case *cib.Location:
		rsc := k.Rsc
		if k.RscPattern != "" {
			rsc = "~" + k.RscPattern
		}
		if len(k.Sets) > 0 {
			fmt.Fprintf(b, "# not shown: location %s with resource sets\n", k.ID)
			return
		}
		l := &line{head: "location " + k.ID + " " + rsc}
		if k.Role != "" {
			l.head += " role=" + quoteValue(k.Role)
		}
		if len(k.Rules) == 0 {
			l.head += " " + scoreText(k.Score) + ": " + quoteValue(k.Node)
		}
		for _, r := range k.Rules {
			l.add(ruleText(l, &r))
		}
		if k.ResourceDiscovery != "" {
			l.add("resource-discovery=" + quoteValue(k.ResourceDiscovery))
		}
		l.write(b)
	case *cib.Colocation:
		s := "colocation " + k.ID + " " + scoreText(k.Score) + ": "
		if len(k.Sets) > 0 {
			s += setsText(k.Sets, true)
		} else {
			s += withSuffix(k.Rsc, k.RscRole) + " " + withSuffix(k.WithRsc, k.WithRscRole)
		}
		if k.NodeAttribute != "" {
			s += " node-attribute=" + quoteValue(k.NodeAttribute)
		}
		b.WriteString(s + "\n")
	case *cib.Order:
		s := "order " + k.ID + " "
		switch {
		case k.Kind != "":
			s += k.Kind + ": "
		case k.Score != "":
			s += scoreText(k.Score) + ": "
		}
		if len(k.Sets) > 0 {
			s += setsText(k.Sets, false)
		} else {
			s += withSuffix(k.First, k.FirstAction) + " " + withSuffix(k.Then, k.ThenAction)
		}
		if k.Symmetrical != "" {
			s += " symmetrical=" + quoteValue(k.Symmetrical)
		}
		if k.RequireAll != "" {
			s += " require-all=" + quoteValue(k.RequireAll)
		}
		b.WriteString(s + "\n")
	case *cib.RawConstraint:
		fmt.Fprintf(b, "# not shown: <%s id=%s>\n", k.Raw.Name, k.Raw.ID())
	}
}

func ruleText(l *line, r *cib.Rule) string {
	s := "rule"
	if r.Role != "" {
		s += " role=" + quoteValue(r.Role)
	}
	if r.ScoreAttribute != "" {
		s += " " + r.ScoreAttribute + ":"
	} else {
		s += " " + scoreText(r.Score) + ":"
	}
	join := " and "
	if r.BooleanOp != "" {
		join = " " + r.BooleanOp + " "
	}
	var es []string
	for _, c := range r.Conditions {
		e, ok := c.(*cib.Expression)
		if !ok || e.ValueSource != "" {
			l.notes = append(l.notes, "rule "+r.ID+" has a nested rule or a condition other than a node attribute expression")
			continue
		}
		switch e.Operation {
		case "defined", "not_defined":
			es = append(es, e.Operation+" "+exprWord(e.Attribute))
		default:
			op := e.Operation
			if e.Type != "" {
				op = e.Type + ":" + op
			}
			es = append(es, exprWord(e.Attribute)+" "+op+" "+exprWord(e.Value))
		}
	}
	return s + " " + strings.Join(es, join)
}

func showSets(b *strings.Builder, kw string, sets []cib.NVSet) {
	for _, s := range sets {
		if s.Rule != nil || s.IDRef != "" || s.Score != "" {
			fmt.Fprintf(b, "# not shown: %s set %s has a rule, score or id-ref\n", kw, s.ID)
		}
		if len(s.Pairs) == 0 {
			continue
		}
		l := &line{head: kw + " " + s.ID + ":"}
		for _, p := range s.Pairs {
			l.add(quoteValue(p.Name) + "=" + quoteValue(p.Value))
		}
		l.write(b)
	}
}

// exprWord quotes an attribute or value in a rule expression where the
// parser would otherwise read it as a keyword or a type prefix.
func exprWord(s string) string {
	switch s {
	case "and", "or", "rule", "date", "defined", "not_defined":
		return `"` + s + `"`
	}
	if strings.ContainsAny(s, ":=") {
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
		return `"` + r.Replace(s) + `"`
	}
	return quoteValue(s)
}
