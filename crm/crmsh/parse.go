package crmsh

import (
	"fmt"
	"strconv"
	"strings"
)

// Parse reads crm shell configure commands, one per (logical) line. The
// first error stops it; it is an *Error.
func Parse(src string) ([]Command, error) {
	var cmds []Command
	for _, l := range splitLines(src) {
		toks, err := tokenize(l)
		if err != nil {
			return nil, err
		}
		if len(toks) == 0 {
			continue
		}
		p := &parser{toks: toks, end: l.end}
		cmd, err := p.command()
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, cmd)
	}
	return cmds, nil
}

type parser struct {
	toks []token
	i    int
	end  Pos
}

func (p *parser) atEnd() bool { return p.i >= len(p.toks) }

func (p *parser) peek() *token {
	if p.atEnd() {
		return nil
	}
	return &p.toks[p.i]
}

func (p *parser) next() *token {
	t := p.peek()
	if t != nil {
		p.i++
	}
	return t
}

// errAt reports an error at t, or at the end of the line when t is nil.
// want is what was expected ("" for a free-form message in msg).
func (p *parser) errAt(t *token, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if t == nil {
		return &Error{Line: p.end.Line, Col: p.end.Col, Msg: msg + " at end of line"}
	}
	return &Error{Line: t.pos.Line, Col: t.pos.Col, Token: t.raw, Msg: msg}
}

// expected is "expected WHAT before TOKEN" / "expected WHAT at end of line".
func (p *parser) expected(t *token, what string) error {
	if t == nil {
		return p.errAt(nil, "expected %s", what)
	}
	return p.errAt(t, "expected %s before %s", what, strconv.Quote(t.raw))
}

func (p *parser) is(word string) bool {
	t := p.peek()
	return t != nil && !t.quoted && t.text == word
}

func (p *parser) command() (Command, error) {
	// An optional "crm configure" or "configure" prefix.
	if p.is("crm") && len(p.toks) > 1 && p.toks[1].text == "configure" {
		p.i += 2
	} else if p.is("configure") {
		p.i++
	}
	t := p.next()
	if t == nil {
		return nil, p.expected(nil, "a configure command")
	}
	pos := t.pos
	switch strings.ToLower(t.text) {
	case "primitive":
		return p.primitive(pos)
	case "group":
		return p.group(pos)
	case "clone":
		return p.clone(pos, false)
	case "ms", "master":
		return p.clone(pos, true)
	case "location":
		return p.location(pos)
	case "colocation", "collocation":
		return p.colocation(pos)
	case "order":
		return p.order(pos)
	case "property":
		return p.property(pos, CRMConfig)
	case "rsc_defaults":
		return p.property(pos, RscDefaults)
	case "op_defaults":
		return p.property(pos, OpDefaults)
	case "delete":
		d := &Delete{Pos: pos}
		for !p.atEnd() {
			r, err := p.ref("an id")
			if err != nil {
				return nil, err
			}
			d.IDs = append(d.IDs, r)
		}
		if len(d.IDs) == 0 {
			return nil, p.expected(nil, "an id to delete")
		}
		return d, nil
	case "erase":
		if !p.atEnd() {
			return nil, p.errAt(p.peek(), "unexpected %s: erase takes no arguments", strconv.Quote(p.peek().raw))
		}
		return &Erase{Pos: pos}, nil
	case "show":
		s := &ShowCmd{Pos: pos}
		for !p.atEnd() {
			r, err := p.ref("an id")
			if err != nil {
				return nil, err
			}
			s.IDs = append(s.IDs, r)
		}
		return s, nil
	}
	return nil, p.errAt(t, "unknown command %s: expected primitive, group, clone, ms, location, colocation, order, property, rsc_defaults, op_defaults, delete, erase or show", strconv.Quote(t.raw))
}

// validID is what crmsh accepts as an XML id.
func validID(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// id reads an object id.
func (p *parser) id(what string) (string, Pos, error) {
	t := p.peek()
	if t == nil {
		return "", Pos{}, p.expected(nil, what)
	}
	if !validID(t.text) {
		return "", Pos{}, p.errAt(t, "%s is not a valid id (a letter or _, then letters, digits, _, - or .)", strconv.Quote(t.raw))
	}
	p.i++
	return t.text, t.pos, nil
}

func (p *parser) ref(what string) (Ref, error) {
	id, pos, err := p.id(what)
	return Ref{id, pos}, err
}

// pairs reads name=value tokens until a token without '='.
func (p *parser) pairs() ([]Pair, error) {
	var out []Pair
	for t := p.peek(); t != nil && t.eq >= 0; t = p.peek() {
		if t.eq == 0 {
			return nil, p.errAt(t, "missing name before '=' in %s", strconv.Quote(t.raw))
		}
		out = append(out, Pair{Name: t.text[:t.eq], Value: t.text[t.eq+1:], Pos: t.pos})
		p.i++
	}
	return out, nil
}

// keyPairs reads the list after a keyword (params, meta, ...): at least one pair.
func (p *parser) keyPairs(kw string) ([]Pair, error) {
	ps, err := p.pairs()
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, p.expected(p.peek(), "name=value after "+kw)
	}
	return ps, nil
}

// kv reports whether t is name=value with the given name, and the value.
func kv(t *token, name string) (string, bool) {
	if t == nil || t.eq < 0 || t.text[:t.eq] != name {
		return "", false
	}
	return t.text[t.eq+1:], true
}

func (p *parser) primitive(pos Pos) (Command, error) {
	pr := &Primitive{Pos: pos}
	var err error
	if pr.ID, pr.IDPos, err = p.id("a resource id"); err != nil {
		return nil, err
	}
	t := p.peek()
	if t == nil || t.eq >= 0 {
		return nil, p.expected(t, "an agent (class:provider:type)")
	}
	p.i++
	if strings.HasPrefix(t.text, "@") {
		pr.Template = t.text[1:]
		if !validID(pr.Template) {
			return nil, p.errAt(t, "%s is not a valid template id", strconv.Quote(t.raw))
		}
	} else {
		parts := strings.Split(t.text, ":")
		for _, s := range parts {
			if s == "" || !agentWord(s) {
				return nil, p.errAt(t, "bad agent %s: expected class:provider:type, class:type or type", strconv.Quote(t.raw))
			}
		}
		switch len(parts) {
		case 1:
			pr.Class, pr.Provider, pr.Type = "ocf", "heartbeat", parts[0]
		case 2:
			pr.Class, pr.Type = parts[0], parts[1]
			if pr.Class == "ocf" {
				pr.Provider = "heartbeat"
			}
		case 3:
			pr.Class, pr.Provider, pr.Type = parts[0], parts[1], parts[2]
		default:
			return nil, p.errAt(t, "bad agent %s: expected class:provider:type, class:type or type", strconv.Quote(t.raw))
		}
	}
	if v, ok := kv(p.peek(), "description"); ok {
		pr.Description = v
		p.i++
	}
	// crmsh allows the params keyword to be left out right after the agent.
	if t := p.peek(); t != nil && t.eq >= 0 {
		ps, err := p.pairs()
		if err != nil {
			return nil, err
		}
		pr.Params = append(pr.Params, ps...)
	}
	for !p.atEnd() {
		t := p.next()
		if t.quoted {
			return nil, p.expected(t, "params, meta, utilization or op")
		}
		switch t.text {
		case "params":
			ps, err := p.keyPairs("params")
			if err != nil {
				return nil, err
			}
			pr.Params = append(pr.Params, ps...)
		case "meta":
			ps, err := p.keyPairs("meta")
			if err != nil {
				return nil, err
			}
			pr.Meta = append(pr.Meta, ps...)
		case "utilization":
			ps, err := p.keyPairs("utilization")
			if err != nil {
				return nil, err
			}
			pr.Util = append(pr.Util, ps...)
		case "op":
			nt := p.next()
			if nt == nil || nt.eq >= 0 || nt.quoted || !validID(nt.text) {
				if nt != nil {
					p.i--
				}
				return nil, p.expected(p.peek(), "an operation name after op")
			}
			ps, err := p.pairs()
			if err != nil {
				return nil, err
			}
			pr.Ops = append(pr.Ops, OpSpec{Name: nt.text, Attrs: ps, Pos: nt.pos})
		default:
			return nil, p.expected(t, "params, meta, utilization or op")
		}
	}
	return pr, nil
}

// containerTail reads [description=] [meta ...] [params ...] after a group's or clone's members.
func (p *parser) containerTail(desc *string, params, meta *[]Pair) error {
	if v, ok := kv(p.peek(), "description"); ok {
		*desc = v
		p.i++
	}
	for !p.atEnd() {
		t := p.next()
		switch {
		case !t.quoted && t.text == "meta":
			ps, err := p.keyPairs("meta")
			if err != nil {
				return err
			}
			*meta = append(*meta, ps...)
		case !t.quoted && t.text == "params":
			ps, err := p.keyPairs("params")
			if err != nil {
				return err
			}
			*params = append(*params, ps...)
		default:
			return p.expected(t, "meta or params")
		}
	}
	return nil
}

func (p *parser) group(pos Pos) (Command, error) {
	g := &Group{Pos: pos}
	var err error
	if g.ID, g.IDPos, err = p.id("a group id"); err != nil {
		return nil, err
	}
	for t := p.peek(); t != nil && t.eq < 0 && (t.quoted || (t.text != "meta" && t.text != "params")); t = p.peek() {
		r, err := p.ref("a resource id")
		if err != nil {
			return nil, err
		}
		g.Children = append(g.Children, r)
	}
	if len(g.Children) == 0 {
		return nil, p.expected(p.peek(), "at least one resource in group")
	}
	if err := p.containerTail(&g.Description, &g.Params, &g.Meta); err != nil {
		return nil, err
	}
	return g, nil
}

func (p *parser) clone(pos Pos, master bool) (Command, error) {
	c := &Clone{Pos: pos, Master: master}
	var err error
	if c.ID, c.IDPos, err = p.id("a clone id"); err != nil {
		return nil, err
	}
	if t := p.peek(); t != nil && t.eq >= 0 {
		return nil, p.expected(t, "the resource to clone")
	}
	if c.Child, err = p.ref("the resource to clone"); err != nil {
		return nil, err
	}
	if err := p.containerTail(&c.Description, &c.Params, &c.Meta); err != nil {
		return nil, err
	}
	return c, nil
}

// normScore turns crmsh's score spelling into the CIB's.
func normScore(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "inf", "+inf", "infinity", "+infinity":
		return "INFINITY", true
	case "-inf", "-infinity":
		return "-INFINITY", true
	}
	body := strings.TrimPrefix(strings.TrimPrefix(s, "+"), "-")
	if body == "" || len(body) > 18 {
		return "", false
	}
	for _, r := range body {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return s, true
}

// scoreLabel reads "X:" (or "X :") and returns X; ok is false, with
// nothing consumed, when the next token is not one.
func (p *parser) scoreLabel() (string, *token, bool) {
	t := p.peek()
	if t == nil || t.quoted || t.eq >= 0 {
		return "", nil, false
	}
	if len(t.text) > 1 && strings.HasSuffix(t.text, ":") && strings.Count(t.text, ":") == 1 {
		p.i++
		return t.text[:len(t.text)-1], t, true
	}
	if p.i+1 < len(p.toks) && p.toks[p.i+1].text == ":" && !p.toks[p.i+1].quoted && !strings.Contains(t.text, ":") {
		p.i += 2
		return t.text, t, true
	}
	return "", nil, false
}

// score reads "SCORE:".
func (p *parser) score() (string, error) {
	s, t, ok := p.scoreLabel()
	if !ok {
		if t := p.peek(); t != nil && !t.quoted {
			if _, isScore := normScore(t.text); isScore {
				return "", p.errAt(t, "missing ':' after score %s", strconv.Quote(t.raw))
			}
		}
		return "", p.expected(p.peek(), "SCORE:")
	}
	v, ok := normScore(s)
	if !ok {
		return "", p.errAt(t, "bad score %s: expected an integer, inf, -inf or INFINITY", strconv.Quote(s))
	}
	return v, nil
}

func (p *parser) location(pos Pos) (Command, error) {
	l := &Location{Pos: pos}
	var err error
	if l.ID, l.IDPos, err = p.id("a constraint id"); err != nil {
		return nil, err
	}
	if t := p.peek(); t != nil && strings.HasPrefix(t.text, "~") && len(t.text) > 1 {
		l.RscPattern = t.text[1:]
		p.i++
	} else if l.Rsc, err = p.ref("a resource id"); err != nil {
		return nil, err
	}
	for _, name := range []string{"role", "$role"} {
		if v, ok := kv(p.peek(), name); ok {
			l.Role = v
			p.i++
		}
	}
	if p.is("rule") {
		for p.is("rule") {
			p.i++
			r, err := p.rule()
			if err != nil {
				return nil, err
			}
			l.Rules = append(l.Rules, r)
		}
	} else {
		if l.Score, err = p.score(); err != nil {
			return nil, err
		}
		t := p.peek()
		if t == nil || t.eq >= 0 || t.text == "" {
			return nil, p.expected(t, "a node name")
		}
		l.Node = t.text
		p.i++
	}
	if v, ok := kv(p.peek(), "resource-discovery"); ok {
		l.ResourceDiscovery = v
		p.i++
	}
	if !p.atEnd() {
		if l.Rules != nil {
			return nil, p.expected(p.peek(), "rule, and, or, or resource-discovery=")
		}
		return nil, p.expected(p.peek(), "end of line or resource-discovery=")
	}
	return l, nil
}

var binaryOps = map[string]bool{"lt": true, "gt": true, "lte": true, "gte": true, "eq": true, "ne": true}

// rule reads what follows the keyword rule.
func (p *parser) rule() (RuleSpec, error) {
	var r RuleSpec
	for {
		t := p.peek()
		if v, ok := kv(t, "$id"); ok {
			r.ID = v
		} else if v, ok := kv(t, "id"); ok {
			r.ID = v
		} else if v, ok := kv(t, "$role"); ok {
			r.Role = v
		} else if v, ok := kv(t, "role"); ok {
			r.Role = v
		} else {
			break
		}
		p.i++
	}
	if r.ID != "" && !validID(r.ID) {
		return r, p.errAt(&p.toks[p.i-1], "%s is not a valid id", strconv.Quote(r.ID))
	}
	s, t, ok := p.scoreLabel()
	if !ok {
		return r, p.expected(p.peek(), "SCORE: after rule")
	}
	if v, ok := normScore(s); ok {
		r.Score = v
	} else if validID(s) || strings.HasPrefix(s, "#") {
		r.ScoreAttribute = s
	} else {
		return r, p.errAt(t, "bad score %s: expected an integer, inf, -inf, INFINITY or a node attribute", strconv.Quote(s))
	}
	for {
		e, err := p.expr()
		if err != nil {
			return r, err
		}
		r.Exprs = append(r.Exprs, e)
		t := p.peek()
		if t == nil || t.quoted || (t.text != "and" && t.text != "or") {
			break
		}
		if r.BooleanOp != "" && r.BooleanOp != t.text {
			return r, p.errAt(t, "cannot mix and with or in one rule: use several rules")
		}
		r.BooleanOp = t.text
		p.i++
	}
	return r, nil
}

func (p *parser) expr() (ExprSpec, error) {
	t := p.next()
	if t == nil {
		return ExprSpec{}, p.expected(nil, "an expression")
	}
	if !t.quoted && (t.text == "defined" || t.text == "not_defined") {
		a := p.next()
		if a == nil || a.text == "" {
			return ExprSpec{}, p.expected(nil, "a node attribute after "+t.text)
		}
		if a.eq >= 0 || (!a.quoted && (a.text == "and" || a.text == "or" || a.text == "rule")) {
			return ExprSpec{}, p.expected(a, "a node attribute after "+t.text)
		}
		return ExprSpec{Operation: t.text, Attribute: a.text}, nil
	}
	if t.text == "" || t.eq >= 0 || (!t.quoted && (t.text == "and" || t.text == "or" || t.text == "rule" || t.text == "date")) {
		if !t.quoted && t.text == "date" {
			return ExprSpec{}, p.errAt(t, "date expressions are not supported")
		}
		return ExprSpec{}, p.expected(t, "an expression")
	}
	e := ExprSpec{Attribute: t.text}
	o := p.next()
	if o == nil {
		return e, p.expected(nil, "an operator (lt, gt, lte, gte, eq, ne)")
	}
	op := o.text
	if i := strings.IndexByte(op, ':'); i >= 0 && !o.quoted {
		e.Type, op = op[:i], op[i+1:]
		switch e.Type {
		case "string", "integer", "number", "version":
		default:
			return e, p.errAt(o, "bad type %s: expected string, integer, number or version", strconv.Quote(e.Type))
		}
	}
	if o.quoted || !binaryOps[op] {
		return e, p.errAt(o, "expected an operator (lt, gt, lte, gte, eq, ne) before %s", strconv.Quote(o.raw))
	}
	e.Operation = op
	v := p.next()
	if v == nil {
		return e, p.expected(nil, "a value after "+op)
	}
	val := v.text
	// crmsh also takes the type on the value: pingd lte integer:0.
	if i := strings.IndexByte(val, ':'); i > 0 && e.Type == "" && !v.quoted {
		switch val[:i] {
		case "string", "integer", "number", "version":
			e.Type, val = val[:i], val[i+1:]
		}
	}
	e.Value = val
	return e, nil
}

// member reads rsc[:suffix].
func (p *parser) member(what string) (Ref, string, error) {
	t := p.peek()
	if t == nil {
		return Ref{}, "", p.expected(nil, what)
	}
	id, suffix := t.text, ""
	if i := strings.IndexByte(id, ':'); i >= 0 {
		id, suffix = id[:i], id[i+1:]
		if suffix == "" {
			return Ref{}, "", p.errAt(t, "missing role or action after ':' in %s", strconv.Quote(t.raw))
		}
	}
	if t.eq >= 0 || !validID(id) {
		return Ref{}, "", p.errAt(t, "expected %s before %s", what, strconv.Quote(t.raw))
	}
	p.i++
	return Ref{id, t.pos}, suffix, nil
}

// sets reads resource sets up to a name=value token or the end.
func (p *parser) sets(what string, colocation bool) ([]SetSpec, error) {
	var out []SetSpec
	var cur *SetSpec
	for t := p.peek(); t != nil && t.eq < 0; t = p.peek() {
		if !t.quoted && (t.text == "(" || t.text == "[") {
			close := ")"
			s := SetSpec{Sequential: "false"}
			if t.text == "[" {
				close, s.RequireAll = "]", "false"
			}
			p.i++
			cur = nil
			first := true
			for {
				nt := p.peek()
				if nt == nil {
					return nil, p.expected(nil, strconv.Quote(close))
				}
				if !nt.quoted && nt.text == close {
					p.i++
					break
				}
				r, suf, err := p.member("a resource id")
				if err != nil {
					return nil, err
				}
				if !first && suf != roleOrAction(s, colocation) {
					return nil, p.errAt(nt, "all resources in a set must have the same role or action")
				}
				first = false
				setSuffix(&s, suf, colocation)
				s.Resources = append(s.Resources, r)
			}
			if len(s.Resources) == 0 {
				return nil, p.errAt(t, "empty resource set")
			}
			out = append(out, s)
			continue
		}
		r, suf, err := p.member(what)
		if err != nil {
			return nil, err
		}
		if cur == nil || suf != roleOrAction(*cur, colocation) {
			out = append(out, SetSpec{})
			cur = &out[len(out)-1]
			setSuffix(cur, suf, colocation)
		}
		cur.Resources = append(cur.Resources, r)
	}
	return out, nil
}

func roleOrAction(s SetSpec, colocation bool) string {
	if colocation {
		return s.Role
	}
	return s.Action
}

func setSuffix(s *SetSpec, suf string, colocation bool) {
	if colocation {
		s.Role = suf
	} else {
		s.Action = suf
	}
}

// simplePair reports whether sets are exactly two single resources
// written without brackets: the plain two-resource form.
func simplePair(sets []SetSpec) (a, b Ref, sa, sb string, ok bool) {
	var plain []struct {
		r Ref
		s string
	}
	for _, s := range sets {
		if s.Sequential != "" || s.RequireAll != "" {
			return
		}
		for _, r := range s.Resources {
			plain = append(plain, struct {
				r Ref
				s string
			}{r, s.Role + s.Action})
		}
	}
	if len(plain) != 2 {
		return
	}
	return plain[0].r, plain[1].r, plain[0].s, plain[1].s, true
}

func (p *parser) colocation(pos Pos) (Command, error) {
	c := &Colocation{Pos: pos}
	var err error
	if c.ID, c.IDPos, err = p.id("a constraint id"); err != nil {
		return nil, err
	}
	if c.Score, err = p.score(); err != nil {
		return nil, err
	}
	sets, err := p.sets("a resource id", true)
	if err != nil {
		return nil, err
	}
	if a, b, ra, rb, ok := simplePair(sets); ok {
		c.Rsc, c.WithRsc, c.RscRole, c.WithRscRole = a, b, ra, rb
	} else if n := countRefs(sets); n < 2 {
		return nil, p.expected(p.peek(), "two resources")
	} else {
		c.Sets = sets
	}
	if v, ok := kv(p.peek(), "node-attribute"); ok {
		c.NodeAttribute = v
		p.i++
	}
	if !p.atEnd() {
		return nil, p.expected(p.peek(), "end of line or node-attribute=")
	}
	return c, nil
}

func countRefs(sets []SetSpec) int {
	n := 0
	for _, s := range sets {
		n += len(s.Resources)
	}
	return n
}

func (p *parser) order(pos Pos) (Command, error) {
	o := &Order{Pos: pos}
	var err error
	if o.ID, o.IDPos, err = p.id("a constraint id"); err != nil {
		return nil, err
	}
	if s, t, ok := p.scoreLabel(); ok {
		switch strings.ToLower(s) {
		case "mandatory":
			o.Kind = "Mandatory"
		case "optional":
			o.Kind = "Optional"
		case "serialize":
			o.Kind = "Serialize"
		default:
			v, ok := normScore(s)
			if !ok {
				return nil, p.errAt(t, "bad kind %s: expected Mandatory, Optional, Serialize or a score", strconv.Quote(s))
			}
			switch v {
			case "INFINITY":
				o.Kind = "Mandatory"
			case "0", "+0", "-0":
				o.Kind = "Optional"
			default:
				o.Score = v
			}
		}
	}
	sets, err := p.sets("a resource id", false)
	if err != nil {
		return nil, err
	}
	if a, b, fa, ta, ok := simplePair(sets); ok {
		o.First, o.Then, o.FirstAction, o.ThenAction = a, b, fa, ta
	} else if n := countRefs(sets); n < 2 {
		return nil, p.expected(p.peek(), "two resources")
	} else {
		o.Sets = sets
	}
	for !p.atEnd() {
		t := p.peek()
		if v, ok := kv(t, "symmetrical"); ok {
			o.Symmetrical = v
		} else if v, ok := kv(t, "require-all"); ok {
			o.RequireAll = v
		} else {
			return nil, p.expected(t, "end of line, symmetrical= or require-all=")
		}
		p.i++
	}
	return o, nil
}

func (p *parser) property(pos Pos, sec Section) (Command, error) {
	pr := &Property{Pos: pos, Section: sec}
	if v, ok := kv(p.peek(), "$id"); ok {
		pr.SetID = v
		p.i++
	} else if t := p.peek(); t != nil && t.eq < 0 && strings.HasSuffix(t.text, ":") {
		pr.SetID = t.text[:len(t.text)-1]
		p.i++
	}
	if pr.SetID != "" && !validID(pr.SetID) {
		return nil, p.errAt(&p.toks[p.i-1], "%s is not a valid id", strconv.Quote(pr.SetID))
	}
	ps, err := p.pairs()
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, p.expected(p.peek(), "name=value")
	}
	if !p.atEnd() {
		return nil, p.expected(p.peek(), "name=value")
	}
	pr.Pairs = ps
	return pr, nil
}

// agentWord is what a class, provider or agent name may be made of.
func agentWord(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.-@+", r)) {
			return false
		}
	}
	return true
}
