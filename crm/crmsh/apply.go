package crmsh

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/hakit/hakit/crm/cib"
)

// ValidateWith is the schema an Empty CIB declares.
const ValidateWith = "pacemaker-3.9"

// Empty returns a CIB with an empty configuration.
func Empty() *cib.CIB { return &cib.CIB{ValidateWith: ValidateWith} }

// Apply runs cmds against a copy of c and returns the copy. Syntax-level
// problems found while applying (an id in use, a resource that does not
// exist) are *Error naming the command's line and column; a result that
// cib.Validate rejects, or that cannot be encoded, is an error too. On any
// error c is untouched and the result is nil: nothing is half-applied.
// When the configuration changed, the copy's Epoch is one higher and its
// NumUpdates 0, as Pacemaker counts. A nil c starts from Empty.
func Apply(c *cib.CIB, cmds []Command) (*cib.CIB, error) {
	if c == nil {
		c = Empty()
	}
	before, _ := c.Digest()
	next := c.Clone()
	a := &applier{c: next}
	for _, cmd := range cmds {
		a.ids = collectIDs(&next.Config)
		if err := a.apply(cmd); err != nil {
			return nil, err
		}
	}
	if err := next.Validate().Err(); err != nil {
		return nil, fmt.Errorf("configuration rejected:\n%w", err)
	}
	after, err := next.Digest()
	if err != nil {
		return nil, fmt.Errorf("configuration rejected: %w", err)
	}
	if after != before {
		next.Epoch++
		next.NumUpdates = 0
	}
	return next, nil
}

// ApplyText parses src and applies it: Parse then Apply.
func ApplyText(c *cib.CIB, src string) (*cib.CIB, error) {
	cmds, err := Parse(src)
	if err != nil {
		return nil, err
	}
	return Apply(c, cmds)
}

type applier struct {
	c   *cib.CIB
	ids map[string]bool
}

func errAt(pos Pos, tok, format string, args ...any) error {
	return &Error{Line: pos.Line, Col: pos.Col, Token: tok, Msg: fmt.Sprintf(format, args...)}
}

// collectIDs gathers every XML id in the configuration: each ID field of
// the model (nodes' ids are cluster node ids, not XML ids) and each id
// attribute of elements kept raw.
func collectIDs(cfg *cib.Configuration) map[string]bool {
	ids := map[string]bool{}
	nodeT := reflect.TypeFor[cib.Node]()
	attrT := reflect.TypeFor[cib.Attr]()
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Struct:
			if v.Type() == nodeT {
				return
			}
			if v.Type() == attrT {
				if v.Field(0).String() == "id" {
					ids[v.Field(1).String()] = true
				}
				return
			}
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if !f.IsExported() {
					continue
				}
				if f.Name == "ID" && f.Type.Kind() == reflect.String {
					if s := v.Field(i).String(); s != "" {
						ids[s] = true
					}
					continue
				}
				walk(v.Field(i))
			}
		}
	}
	walk(reflect.ValueOf(cfg))
	return ids
}

// sanitize makes s usable inside an XML id, as crmsh does.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	out := b.String()
	if out == "" || !validID(out) {
		out = "_" + out
	}
	return out
}

// alloc returns base, or base-0, base-1, ... if taken, and reserves it.
func (a *applier) alloc(base string) string {
	base = sanitize(base)
	id := base
	for n := 0; a.ids[id]; n++ {
		id = base + "-" + strconv.Itoa(n)
	}
	a.ids[id] = true
	return id
}

func (a *applier) claim(id string, pos Pos) error {
	if a.ids[id] {
		return errAt(pos, id, "id %s is already in use", strconv.Quote(id))
	}
	a.ids[id] = true
	return nil
}

func setPair(p *cib.NVPair, v string) {
	p.Value = v
	p.Extra.Attrs = slices.DeleteFunc(p.Extra.Attrs, func(x cib.Attr) bool { return x.Name == "value" })
	if v == "" {
		p.Extra.Attrs = append(p.Extra.Attrs, cib.Attr{Name: "value", Value: ""})
	}
}

// addPairs adds or updates pairs in set (a later value for a name wins).
func (a *applier) addPairs(set *cib.NVSet, ps []Pair) {
	for _, p := range ps {
		i := slices.IndexFunc(set.Pairs, func(x cib.NVPair) bool { return x.Name == p.Name })
		if i < 0 {
			set.Pairs = append(set.Pairs, cib.NVPair{ID: a.alloc(set.ID + "-" + p.Name), Name: p.Name})
			i = len(set.Pairs) - 1
		}
		setPair(&set.Pairs[i], p.Value)
	}
}

// nvsets makes the one set crmsh writes for a params/meta/utilization list.
func (a *applier) nvsets(owner, kind string, ps []Pair) []cib.NVSet {
	if len(ps) == 0 {
		return nil
	}
	set := cib.NVSet{ID: a.alloc(owner + "-" + kind)}
	a.addPairs(&set, ps)
	return []cib.NVSet{set}
}

func (a *applier) apply(cmd Command) error {
	switch cmd := cmd.(type) {
	case *Primitive:
		return a.primitive(cmd)
	case *Group:
		return a.group(cmd)
	case *Clone:
		return a.clone(cmd)
	case *Location:
		return a.location(cmd)
	case *Colocation:
		return a.colocation(cmd)
	case *Order:
		return a.order(cmd)
	case *Property:
		return a.property(cmd)
	case *Delete:
		return a.delete(cmd)
	case *Erase:
		cfg := &a.c.Config
		cfg.Resources, cfg.Constraints, cfg.CRMConfig, cfg.RscDefaults, cfg.OpDefaults = nil, nil, nil, nil, nil
		return nil
	case *ShowCmd:
		return nil
	}
	return fmt.Errorf("crmsh: unknown command %T", cmd)
}

// opAttrs are the op attributes written on <op> itself; any other name
// becomes an op instance attribute (OCF_CHECK_LEVEL, ...).
var opAttrs = map[string]bool{
	"start-delay": true, "enabled": true, "record-pending": true, "description": true,
	"interval-origin": true, "requires": true, "on-fail": true, "role": true,
}

func (a *applier) primitive(cmd *Primitive) error {
	if err := a.claim(cmd.ID, cmd.IDPos); err != nil {
		return err
	}
	p := &cib.Primitive{ID: cmd.ID, Class: cmd.Class, Provider: cmd.Provider, Type: cmd.Type,
		Template: cmd.Template, Description: cmd.Description}
	p.InstanceAttrs = a.nvsets(cmd.ID, "instance_attributes", cmd.Params)
	p.MetaAttrs = a.nvsets(cmd.ID, "meta_attributes", cmd.Meta)
	p.Utilization = a.nvsets(cmd.ID, "utilization", cmd.Util)
	for _, o := range cmd.Ops {
		op := cib.Op{Name: o.Name}
		var params []Pair
		for _, at := range o.Attrs {
			switch at.Name {
			case "interval":
				op.Interval = at.Value
			case "timeout":
				op.Timeout = at.Value
			case "role":
				op.Role = at.Value
			case "on-fail":
				op.OnFail = at.Value
			case "id":
				op.ID = at.Value
				if !validID(op.ID) {
					return errAt(at.Pos, at.Name+"="+at.Value, "%s is not a valid id", strconv.Quote(op.ID))
				}
				if err := a.claim(op.ID, at.Pos); err != nil {
					return err
				}
			default:
				if opAttrs[at.Name] {
					op.Extra.Attrs = append(op.Extra.Attrs, cib.Attr{Name: at.Name, Value: at.Value})
				} else {
					params = append(params, at)
				}
			}
		}
		if op.Interval == "" {
			op.Interval = "0s" // the schema requires an interval; crmsh writes 0s
		}
		if op.ID == "" {
			op.ID = a.alloc(cmd.ID + "-" + o.Name + "-" + op.Interval)
		}
		op.InstanceAttrs = a.nvsets(op.ID, "instance_attributes", params)
		p.Ops = append(p.Ops, op)
	}
	a.c.Config.Resources = append(a.c.Config.Resources, p)
	return nil
}

// where reports where a resource is: its index at top level, or the id
// of the container holding it.
func (a *applier) where(id string) (top int, parent string, found bool) {
	for i, r := range a.c.Config.Resources {
		if r.ResourceID() == id {
			return i, "", true
		}
	}
	if r, chain := a.c.Resource(id); r != nil && len(chain) > 0 {
		return -1, chain[len(chain)-1].ResourceID(), true
	}
	return -1, "", false
}

// take removes a top-level resource for a container.
func (a *applier) take(ref Ref, what string, ok func(cib.Resource) bool) (cib.Resource, error) {
	i, parent, found := a.where(ref.ID)
	if !found {
		return nil, errAt(ref.Pos, ref.ID, "no resource %s", strconv.Quote(ref.ID))
	}
	if i < 0 {
		return nil, errAt(ref.Pos, ref.ID, "resource %s is already in %s", strconv.Quote(ref.ID), strconv.Quote(parent))
	}
	r := a.c.Config.Resources[i]
	if !ok(r) {
		return nil, errAt(ref.Pos, ref.ID, "resource %s cannot be %s", strconv.Quote(ref.ID), what)
	}
	a.c.Config.Resources = slices.Delete(a.c.Config.Resources, i, i+1)
	return r, nil
}

func (a *applier) group(cmd *Group) error {
	if err := a.claim(cmd.ID, cmd.IDPos); err != nil {
		return err
	}
	g := &cib.Group{ID: cmd.ID, Description: cmd.Description}
	for _, ref := range cmd.Children {
		r, err := a.take(ref, "a group member (only primitives can)", func(r cib.Resource) bool {
			_, ok := r.(*cib.Primitive)
			return ok
		})
		if err != nil {
			return err
		}
		g.Children = append(g.Children, r)
	}
	g.InstanceAttrs = a.nvsets(cmd.ID, "instance_attributes", cmd.Params)
	g.MetaAttrs = a.nvsets(cmd.ID, "meta_attributes", cmd.Meta)
	a.c.Config.Resources = append(a.c.Config.Resources, g)
	return nil
}

func (a *applier) clone(cmd *Clone) error {
	if err := a.claim(cmd.ID, cmd.IDPos); err != nil {
		return err
	}
	child, err := a.take(cmd.Child, "cloned (only a primitive or a group can)", func(r cib.Resource) bool {
		switch r.(type) {
		case *cib.Primitive, *cib.Group:
			return true
		}
		return false
	})
	if err != nil {
		return err
	}
	cl := &cib.Clone{ID: cmd.ID, Description: cmd.Description, Master: cmd.Master, Child: child}
	cl.InstanceAttrs = a.nvsets(cmd.ID, "instance_attributes", cmd.Params)
	cl.MetaAttrs = a.nvsets(cmd.ID, "meta_attributes", cmd.Meta)
	a.c.Config.Resources = append(a.c.Config.Resources, cl)
	return nil
}

func (a *applier) exists(refs ...Ref) error {
	for _, r := range refs {
		if res, _ := a.c.Resource(r.ID); res == nil {
			return errAt(r.Pos, r.ID, "no resource %s", strconv.Quote(r.ID))
		}
	}
	return nil
}

func (a *applier) location(cmd *Location) error {
	if err := a.claim(cmd.ID, cmd.IDPos); err != nil {
		return err
	}
	if cmd.RscPattern == "" {
		if err := a.exists(cmd.Rsc); err != nil {
			return err
		}
	}
	l := &cib.Location{ID: cmd.ID, Rsc: cmd.Rsc.ID, RscPattern: cmd.RscPattern, Role: cmd.Role,
		Score: cmd.Score, Node: cmd.Node, ResourceDiscovery: cmd.ResourceDiscovery}
	for _, rs := range cmd.Rules {
		r := cib.Rule{ID: rs.ID, Role: rs.Role, Score: rs.Score, ScoreAttribute: rs.ScoreAttribute, BooleanOp: rs.BooleanOp}
		if r.ID != "" {
			if err := a.claim(r.ID, cmd.IDPos); err != nil {
				return err
			}
		} else {
			r.ID = a.alloc(cmd.ID + "-rule")
		}
		for _, e := range rs.Exprs {
			r.Conditions = append(r.Conditions, &cib.Expression{ID: a.alloc(r.ID + "-expression"),
				Attribute: e.Attribute, Operation: e.Operation, Value: e.Value, Type: e.Type})
		}
		l.Rules = append(l.Rules, r)
	}
	a.c.Config.Constraints = append(a.c.Config.Constraints, l)
	return nil
}

func (a *applier) sets(cid string, specs []SetSpec) ([]cib.ResourceSet, error) {
	var out []cib.ResourceSet
	for i, s := range specs {
		if err := a.exists(s.Resources...); err != nil {
			return nil, err
		}
		rs := cib.ResourceSet{ID: a.alloc(cid + "-" + strconv.Itoa(i)), Sequential: s.Sequential,
			RequireAll: s.RequireAll, Role: s.Role, Action: s.Action}
		for _, r := range s.Resources {
			rs.Resources = append(rs.Resources, r.ID)
		}
		out = append(out, rs)
	}
	return out, nil
}

func (a *applier) colocation(cmd *Colocation) error {
	if err := a.claim(cmd.ID, cmd.IDPos); err != nil {
		return err
	}
	c := &cib.Colocation{ID: cmd.ID, Score: cmd.Score, NodeAttribute: cmd.NodeAttribute}
	if cmd.Sets == nil {
		if err := a.exists(cmd.Rsc, cmd.WithRsc); err != nil {
			return err
		}
		c.Rsc, c.RscRole, c.WithRsc, c.WithRscRole = cmd.Rsc.ID, cmd.RscRole, cmd.WithRsc.ID, cmd.WithRscRole
	} else {
		var err error
		if c.Sets, err = a.sets(cmd.ID, cmd.Sets); err != nil {
			return err
		}
	}
	a.c.Config.Constraints = append(a.c.Config.Constraints, c)
	return nil
}

func (a *applier) order(cmd *Order) error {
	if err := a.claim(cmd.ID, cmd.IDPos); err != nil {
		return err
	}
	o := &cib.Order{ID: cmd.ID, Kind: cmd.Kind, Score: cmd.Score, Symmetrical: cmd.Symmetrical, RequireAll: cmd.RequireAll}
	if cmd.Sets == nil {
		if err := a.exists(cmd.First, cmd.Then); err != nil {
			return err
		}
		o.First, o.FirstAction, o.Then, o.ThenAction = cmd.First.ID, cmd.FirstAction, cmd.Then.ID, cmd.ThenAction
	} else {
		var err error
		if o.Sets, err = a.sets(cmd.ID, cmd.Sets); err != nil {
			return err
		}
	}
	a.c.Config.Constraints = append(a.c.Config.Constraints, o)
	return nil
}

// defaultSetID is the set crmsh edits when none is named.
var defaultSetID = [...]string{CRMConfig: "cib-bootstrap-options", RscDefaults: "rsc-options", OpDefaults: "op-options"}

func (a *applier) property(cmd *Property) error {
	var sets *[]cib.NVSet
	switch cmd.Section {
	case CRMConfig:
		sets = &a.c.Config.CRMConfig
	case RscDefaults:
		sets = &a.c.Config.RscDefaults
	default:
		sets = &a.c.Config.OpDefaults
	}
	id := cmd.SetID
	if id == "" {
		id = defaultSetID[cmd.Section]
	}
	i := slices.IndexFunc(*sets, func(s cib.NVSet) bool { return s.ID == id })
	if i < 0 {
		if err := a.claim(id, cmd.Pos); err != nil {
			return err
		}
		*sets = append(*sets, cib.NVSet{ID: id})
		i = len(*sets) - 1
	}
	a.addPairs(&(*sets)[i], cmd.Pairs)
	return nil
}

func (a *applier) delete(cmd *Delete) error {
	for _, ref := range cmd.IDs {
		cfg := &a.c.Config
		if i := slices.IndexFunc(cfg.Constraints, func(c cib.Constraint) bool { return c.ConstraintID() == ref.ID }); i >= 0 {
			cfg.Constraints = slices.Delete(cfg.Constraints, i, i+1)
			continue
		}
		if r, _ := a.c.Resource(ref.ID); r == nil {
			return errAt(ref.Pos, ref.ID, "no resource or constraint %s", strconv.Quote(ref.ID))
		}
		removed := map[string]bool{}
		cfg.Resources = removeResource(cfg.Resources, ref.ID, removed)
		cfg.Constraints = dropReferences(cfg.Constraints, removed)
	}
	return nil
}

// removeResource removes the resource id (and its members) from list; a
// group or clone left empty goes too. Every removed resource id is put
// in removed.
func removeResource(list []cib.Resource, id string, removed map[string]bool) []cib.Resource {
	var out []cib.Resource
	for _, r := range list {
		if r.ResourceID() == id {
			markAll(r, removed)
			continue
		}
		switch r := r.(type) {
		case *cib.Group:
			r.Children = removeResource(r.Children, id, removed)
			if len(r.Children) == 0 {
				removed[r.ID] = true
				continue
			}
		case *cib.Clone:
			if r.Child != nil {
				if kept := removeResource([]cib.Resource{r.Child}, id, removed); len(kept) == 0 {
					removed[r.ID] = true
					continue
				}
			}
		}
		out = append(out, r)
	}
	return out
}

func markAll(r cib.Resource, removed map[string]bool) {
	removed[r.ResourceID()] = true
	switch r := r.(type) {
	case *cib.Group:
		for _, c := range r.Children {
			markAll(c, removed)
		}
	case *cib.Clone:
		if r.Child != nil {
			markAll(r.Child, removed)
		}
	}
}

// dropReferences removes what constraints say about removed resources, as
// crmsh does: a constraint left with nothing to constrain goes.
func dropReferences(cs []cib.Constraint, removed map[string]bool) []cib.Constraint {
	// filterSets drops removed resources and empty sets. Sets that had the
	// ids this package generates (cid-0, cid-1, ...) are renumbered, so
	// the constraint reads as if written without the removed resources.
	filterSets := func(cid string, sets []cib.ResourceSet) []cib.ResourceSet {
		generated := true
		for i, s := range sets {
			generated = generated && s.ID == cid+"-"+strconv.Itoa(i)
		}
		var out []cib.ResourceSet
		n := 0 // resources left; under two, nothing is left to relate and the constraint goes
		for _, s := range sets {
			s.Resources = slices.DeleteFunc(s.Resources, func(id string) bool { return removed[id] })
			if len(s.Resources) > 0 {
				if generated {
					s.ID = cid + "-" + strconv.Itoa(len(out))
				}
				out = append(out, s)
				n += len(s.Resources)
			}
		}
		if n < 2 {
			return nil
		}
		return out
	}
	var out []cib.Constraint
	for _, c := range cs {
		switch c := c.(type) {
		case *cib.Location:
			if removed[c.Rsc] {
				continue
			}
			if len(c.Sets) > 0 {
				if c.Sets = filterSets(c.ID, c.Sets); len(c.Sets) == 0 {
					continue
				}
			}
		case *cib.Colocation:
			if removed[c.Rsc] || removed[c.WithRsc] {
				continue
			}
			if len(c.Sets) > 0 {
				if c.Sets = filterSets(c.ID, c.Sets); len(c.Sets) == 0 {
					continue
				}
			}
		case *cib.Order:
			if removed[c.First] || removed[c.Then] {
				continue
			}
			if len(c.Sets) > 0 {
				if c.Sets = filterSets(c.ID, c.Sets); len(c.Sets) == 0 {
					continue
				}
			}
		}
		out = append(out, c)
	}
	return out
}
