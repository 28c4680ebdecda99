package cib

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Validate checks what Parse leaves alone: that the configuration means
// something, and the same thing to hakit as to Pacemaker. It returns every
// problem, each naming the file, line (when the CIB was parsed) and
// element, sorted by line (problems without one last); Problems.Err is nil
// when none is an error.
//
// Errors:
//   - an id used twice in the configuration (Pacemaker's schema makes ids
//     unique across it; node ids, which are the cluster layer's numbers,
//     and references such as resource_ref are not ids);
//   - a constraint naming a resource that does not exist (resources at any
//     depth, bundles, templates and tags count, but not the primitive
//     inside a bundle, which Pacemaker refuses); an id-ref to nothing;
//   - mandatory orders that form a cycle, given with the path and the
//     constraints on it;
//   - a score, interval, timeout, role, boolean, action, kind or
//     enumerated value that Pacemaker would not read as meant;
//   - missing required attributes (an op's name and interval, a
//     primitive's class and type, ...);
//   - a clone inside a clone, a group holding anything but primitives, an
//     empty group or clone, a promotable clone of non-OCF agents, a
//     resource colocated with itself.
//
// Warnings: a decimal interval Pacemaker truncates, date rules (kept, but
// hakit cannot evaluate them), a comparison without a value, a
// type=version value that is not dotted numbers (Pacemaker 2.1.5's
// compare_version never returns when both sides have a non-numeric part
// at the same place, "node-1" against "node-1" or "5.10.0-rc1" against
// "5.10"; hakit reads each part's leading digits), Serialize
// with symmetrical=true, a cluster with fencing disabled and
// no-quorum-policy=ignore (both sides of a partition run everything), a
// CIB without validate-with.
//
// Not checked: the status section (the cluster's own record), unknown
// elements kept verbatim beyond their ids, rsc-pattern regular expressions,
// and whether an agent accepts its parameters. Location constraints may
// name nodes that do not exist: Pacemaker allows it (the node may join
// later).
func (c *CIB) Validate() Problems {
	v := &validator{file: c.file, ids: map[string]idUse{}, rscIDs: map[string]bool{}}
	v.cib(c)
	// By line, so a user can work down the file; problems with no line
	// (elements built in code, whole-CIB warnings) go last.
	slices.SortStableFunc(v.out, func(a, b Problem) int {
		la, lb := a.Line, b.Line
		if la == 0 {
			la = math.MaxInt
		}
		if lb == 0 {
			lb = math.MaxInt
		}
		return cmp.Compare(la, lb)
	})
	return v.out
}

type idUse struct {
	line int
	path string
}

type validator struct {
	file   string
	out    Problems
	ids    map[string]idUse
	rscIDs map[string]bool // what constraints may name
	refs   []idRef         // id-ref attributes, checked once every id is known
	orders []*Order
	paths  map[*Order]string
}

type idRef struct {
	id, path string
	line     int
}

func (v *validator) add(sev Severity, line int, path, format string, args ...any) {
	v.out = append(v.out, Problem{Severity: sev, File: v.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) errorf(line int, path, format string, args ...any) {
	v.add(SevError, line, path, format, args...)
}

func (v *validator) warnf(line int, path, format string, args ...any) {
	v.add(SevWarning, line, path, format, args...)
}

// id records an XML ID. required says the element must have one.
func (v *validator) id(id string, line int, path string, required bool) {
	if id == "" {
		if required {
			v.errorf(line, path, "missing attribute id")
		}
		return
	}
	if prev, ok := v.ids[id]; ok {
		where := prev.path
		if prev.line > 0 {
			where = fmt.Sprintf("line %d (%s)", prev.line, prev.path)
		}
		v.errorf(line, path, "id %s is already used at %s; Pacemaker requires ids to be unique", quote(id), where)
		return
	}
	v.ids[id] = idUse{line, path}
}

// idOrRef is an element that has either its own id or an id-ref.
func (v *validator) idOrRef(id, ref string, line int, path string) {
	switch {
	case id != "" && ref != "":
		v.errorf(line, path, "both id and id-ref; use one")
	case ref != "":
		v.refs = append(v.refs, idRef{ref, path, line})
	default:
		v.id(id, line, path, true)
	}
}

func (v *validator) cib(c *CIB) {
	if c.ValidateWith == "" {
		v.warnf(0, "/cib", "no validate-with: Pacemaker would not check this CIB against its schema")
	}
	cfg := &c.Config
	p := "/cib/configuration"

	// Resource ids first, so constraints anywhere can be checked against
	// them; then everything in document order.
	v.collectResources(cfg.Resources)
	for _, x := range cfg.Extra.Children {
		if x.Name == "tags" {
			for _, t := range x.Children {
				if t.Name == "tag" && t.ID() != "" {
					v.rscIDs[t.ID()] = true // a constraint may name a tag
				}
			}
		}
	}

	v.sets(cfg.CRMConfig, p+"/crm_config", "cluster_property_set")
	v.propertyValues(cfg.CRMConfig, p+"/crm_config")
	v.extra(cfg.CRMConfigExtra, p+"/crm_config")
	v.nodes(cfg.Nodes, p+"/nodes")
	v.extra(cfg.NodesExtra, p+"/nodes")
	for _, r := range cfg.Resources {
		v.resource(r, p+"/resources", nil)
	}
	for _, con := range cfg.Constraints {
		v.constraint(con, p+"/constraints")
	}
	v.sets(cfg.RscDefaults, p+"/rsc_defaults", "meta_attributes")
	v.metaValues(cfg.RscDefaults, p+"/rsc_defaults")
	v.extra(cfg.RscDefaultsExtra, p+"/rsc_defaults")
	v.sets(cfg.OpDefaults, p+"/op_defaults", "meta_attributes")
	v.extra(cfg.OpDefaultsExtra, p+"/op_defaults")
	v.extra(cfg.Extra, p)

	for _, r := range v.refs {
		if _, ok := v.ids[r.id]; !ok {
			v.errorf(r.line, r.path, "id-ref %s names no element", quote(r.id))
		}
	}
	v.orderCycles()
	v.safety(c)
}

// extra records the ids inside kept-verbatim elements, which Pacemaker's
// uniqueness rule covers too.
func (v *validator) extra(x Extra, parent string) {
	for _, r := range x.Children {
		v.rawIDs(r, parent)
	}
}

// notIDs are elements whose id attribute is a reference or not an XML ID.
var notIDs = []string{"resource_ref", "obj_ref", "role", "acl_target", "node"}

func (v *validator) rawIDs(r *Raw, parent string) {
	if r == nil || r.Name == "" {
		return
	}
	path := parent + "/" + seg(r.Name, r.ID())
	if !slices.Contains(notIDs, r.Name) {
		v.id(r.ID(), r.line, path, false)
	}
	for _, c := range r.Children {
		v.rawIDs(c, path)
	}
}

func (v *validator) collectResources(rs []Resource) {
	for _, r := range rs {
		switch r := r.(type) {
		case *Primitive:
			v.rscIDs[r.ID] = true
		case *Group:
			v.rscIDs[r.ID] = true
			v.collectResources(r.Children)
		case *Clone:
			v.rscIDs[r.ID] = true
			if r.Child != nil {
				v.collectResources([]Resource{r.Child})
			}
		case *RawResource:
			// A bundle or template. Not the primitive a bundle wraps:
			// Pacemaker rejects constraints that name it ("not a valid
			// resource or tag").
			if r.Raw != nil {
				v.rscIDs[r.Raw.ID()] = true
			}
		}
	}
}

func (v *validator) score(s string, line int, path, attr string) {
	if s == "" {
		return
	}
	if _, err := ParseScore(s); err != nil {
		v.errorf(line, path, "%s: %v", attr, err)
	}
}

func (v *validator) role(s string, line int, path, attr string) {
	if s == "" {
		return
	}
	if _, err := ParseRole(s); err != nil {
		v.errorf(line, path, "%s: %v", attr, err)
	}
}

func (v *validator) boolean(s string, line int, path, attr string) {
	if s == "" {
		return
	}
	if _, err := ParseBool(s); err != nil {
		v.errorf(line, path, "%s: %v", attr, err)
	}
}

func (v *validator) oneOf(s string, line int, path, attr string, allowed ...string) {
	if s != "" && !slices.Contains(allowed, s) {
		v.errorf(line, path, "%s: %s is not one of %s", attr, quote(s), strings.Join(allowed, ", "))
	}
}

// interval checks an interval or timeout; truncation is a warning.
func (v *validator) interval(s string, line int, path, attr string) {
	if s == "" {
		return
	}
	d, trunc, err := ParseInterval(s)
	if err != nil {
		v.errorf(line, path, "%s: %v", attr, err)
	} else if trunc {
		v.warnf(line, path, "%s: Pacemaker reads only the integer part of %s, so this is %v", attr, quote(s), d)
	}
}

func (v *validator) rscRef(id string, line int, path, attr string) {
	if id == "" {
		return
	}
	if !v.rscIDs[id] {
		v.errorf(line, path, "%s: no resource has id %s", attr, quote(id))
	}
}

func (v *validator) sets(sets []NVSet, parent, name string) {
	for i := range sets {
		s := &sets[i]
		path := parent + "/" + seg(name, s.ID)
		v.idOrRef(s.ID, s.IDRef, s.line, path)
		v.score(s.Score, s.line, path, "score")
		if s.Rule != nil {
			v.rule(s.Rule, path)
		}
		seen := map[string]bool{}
		for j := range s.Pairs {
			p := &s.Pairs[j]
			pp := path + "/" + seg("nvpair", p.ID)
			v.idOrRef(p.ID, p.IDRef, p.line, pp)
			if p.IDRef != "" {
				continue
			}
			if p.Name == "" {
				v.errorf(p.line, pp, "missing attribute name")
				continue
			}
			if seen[p.Name] {
				v.warnf(p.line, pp, "%s is set twice in this set; Pacemaker uses the first", quote(p.Name))
			}
			seen[p.Name] = true
		}
		v.extra(s.Extra, path)
	}
}

func (v *validator) nodes(nodes []Node, parent string) {
	byID, byName := map[string]int{}, map[string]int{}
	for i := range nodes {
		n := &nodes[i]
		path := parent + "/" + seg("node", n.ID)
		if n.ID == "" {
			v.errorf(n.line, path, "missing attribute id")
		} else if j, dup := byID[n.ID]; dup {
			v.errorf(n.line, path, "node id %s is already used by node %s", quote(n.ID), quote(nodes[j].Uname))
		} else {
			byID[n.ID] = i
		}
		if n.Uname == "" {
			v.errorf(n.line, path, "missing attribute uname")
		} else if _, dup := byName[n.Uname]; dup {
			v.errorf(n.line, path, "node name %s is used twice", quote(n.Uname))
		} else {
			byName[n.Uname] = i
		}
		v.oneOf(n.Type, n.line, path, "type", "member", "ping", "remote")
		v.score(n.Score, n.line, path, "score")
		v.sets(n.InstanceAttrs, path, "instance_attributes")
		v.sets(n.Utilization, path, "utilization")
		v.extra(n.Extra, path)
	}
}

var resourceClasses = []string{"ocf", "lsb", "systemd", "service", "stonith", "heartbeat", "upstart", "nagios"}

// resource checks one resource; parent is the enclosing group or clone.
func (v *validator) resource(r Resource, path string, parent Resource) {
	switch r := r.(type) {
	case *Primitive:
		v.primitive(r, path+"/"+seg("primitive", r.ID))
	case *Group:
		p := path + "/" + seg("group", r.ID)
		v.id(r.ID, r.line, p, true)
		if len(r.Children) == 0 {
			v.errorf(r.line, p, "group has no members")
		}
		for _, ch := range r.Children {
			if _, ok := ch.(*Primitive); !ok {
				v.errorf(r.line, p, "member %s is a %s; a group holds only primitives", quote(ch.ResourceID()), kindName(ch))
			}
			v.resource(ch, p, r)
		}
		v.sets(r.InstanceAttrs, p, "instance_attributes")
		v.sets(r.MetaAttrs, p, "meta_attributes")
		v.metaValues(r.MetaAttrs, p)
		v.extra(r.Extra, p)
	case *Clone:
		name := "clone"
		if r.Master {
			name = "master"
		}
		p := path + "/" + seg(name, r.ID)
		v.id(r.ID, r.line, p, true)
		if _, ok := parent.(*Clone); ok {
			v.errorf(r.line, p, "a clone inside a clone")
		}
		switch ch := r.Child.(type) {
		case nil:
			v.errorf(r.line, p, "clone has no resource")
		case *Primitive, *Group:
		case *Clone:
			// Reported when checking the child, with its line.
		default:
			v.errorf(r.line, p, "clone holds a %s; a clone holds a primitive or a group", kindName(ch))
		}
		if r.Child != nil {
			v.resource(r.Child, p, r)
			if r.Promotable() {
				v.promotableAgents(r.Child, p)
			}
		}
		v.sets(r.InstanceAttrs, p, "instance_attributes")
		v.sets(r.MetaAttrs, p, "meta_attributes")
		v.metaValues(r.MetaAttrs, p)
		v.extra(r.Extra, p)
	case *RawResource:
		if r.Raw != nil {
			v.rawIDs(r.Raw, path)
		}
	}
}

// promotableAgents checks that a promotable clone holds only OCF agents:
// only they have promote and demote, and Pacemaker ignores the whole clone
// otherwise ("cannot be used as a promotable clone resource").
func (v *validator) promotableAgents(r Resource, clonePath string) {
	switch r := r.(type) {
	case *Primitive:
		if r.Class != "" && r.Class != "ocf" {
			v.errorf(r.line, clonePath, "promotable, but %s is a %s agent; only ocf agents can be promoted", quote(r.ID), r.Class)
		}
	case *Group:
		for _, ch := range r.Children {
			v.promotableAgents(ch, clonePath)
		}
	}
}

func kindName(r Resource) string {
	switch r := r.(type) {
	case *Primitive:
		return "primitive"
	case *Group:
		return "group"
	case *Clone:
		if r.Master {
			return "master"
		}
		return "clone"
	case *RawResource:
		if r.Raw != nil {
			return r.Raw.Name
		}
	}
	return fmt.Sprintf("%T", r)
}

func (v *validator) primitive(r *Primitive, p string) {
	v.id(r.ID, r.line, p, true)
	switch {
	case r.Template != "":
		v.refs = append(v.refs, idRef{r.Template, p, r.line})
		if r.Class != "" || r.Type != "" {
			v.errorf(r.line, p, "both template and class/type; use one")
		}
	case r.Class == "":
		v.errorf(r.line, p, "missing attribute class")
	case !slices.Contains(resourceClasses, r.Class):
		v.errorf(r.line, p, "class: %s is not one of %s", quote(r.Class), strings.Join(resourceClasses, ", "))
	case r.Class == "ocf" && r.Provider == "":
		v.errorf(r.line, p, "missing attribute provider (class ocf needs one)")
	case r.Class != "ocf" && r.Provider != "":
		v.errorf(r.line, p, "provider %s given for class %s; only ocf agents have providers", quote(r.Provider), r.Class)
	}
	if r.Template == "" && r.Type == "" {
		v.errorf(r.line, p, "missing attribute type")
	}
	v.sets(r.InstanceAttrs, p, "instance_attributes")
	v.sets(r.MetaAttrs, p, "meta_attributes")
	v.metaValues(r.MetaAttrs, p)
	v.sets(r.Utilization, p, "utilization")
	if id, ok := extraAttr(r.OpsExtra, "id"); ok {
		v.id(id, r.line, p+"/operations", false)
	}
	if ref, ok := extraAttr(r.OpsExtra, "id-ref"); ok {
		v.refs = append(v.refs, idRef{ref, p + "/operations", r.line})
	}
	type key struct{ name, role string }
	intervals := map[key]map[int64]string{}
	for i := range r.Ops {
		o := &r.Ops[i]
		op := p + "/operations/" + seg("op", o.ID)
		v.id(o.ID, o.line, op, true)
		if o.Name == "" {
			v.errorf(o.line, op, "missing attribute name")
		}
		if o.Interval == "" {
			v.errorf(o.line, op, "missing attribute interval (0 for a non-recurring operation)")
		} else {
			v.interval(o.Interval, o.line, op, "interval")
			if d, _, err := ParseInterval(o.Interval); err == nil {
				k := key{o.Name, roleOrStarted(o.Role)}
				if intervals[k] == nil {
					intervals[k] = map[int64]string{}
				}
				ms := d.Milliseconds()
				if prev, dup := intervals[k][ms]; dup {
					v.errorf(o.line, op, "operation %s with interval %s duplicates op %s; each name and interval (per role) must be unique", o.Name, o.Interval, quote(prev))
				} else {
					intervals[k][ms] = o.ID
				}
			}
		}
		v.interval(o.Timeout, o.line, op, "timeout")
		v.role(o.Role, o.line, op, "role")
		v.oneOf(o.OnFail, o.line, op, "on-fail", "ignore", "block", "demote", "stop", "restart", "standby", "fence", "restart-container")
		v.sets(o.InstanceAttrs, op, "instance_attributes")
		v.sets(o.MetaAttrs, op, "meta_attributes")
		v.extra(o.Extra, op)
	}
	v.extra(r.OpsExtra, p+"/operations")
	v.extra(r.Extra, p)
}

func roleOrStarted(r string) string {
	role, err := ParseRole(r)
	if err != nil || role == RoleUnknown {
		return "Started"
	}
	return role.String()
}

// propertyValues checks the values of the cluster properties the
// scheduler reads: a typo in one (stonith-enabled=ture) would otherwise
// stop the scheduler only when it next runs, on a live cluster.
func (v *validator) propertyValues(sets []NVSet, parent string) {
	for i := range sets {
		s := &sets[i]
		path := parent + "/" + seg("cluster_property_set", s.ID)
		for j := range s.Pairs {
			pr := &s.Pairs[j]
			pp := path + "/" + seg("nvpair", pr.ID)
			attr := "property " + pr.Name
			switch pr.Name {
			case "stonith-enabled", "fencing-enabled", "symmetric-cluster", "maintenance-mode", "stop-all-resources",
				"start-failure-is-fatal", "stop-orphan-resources", "stop-orphan-actions", "enable-startup-probes", "concurrent-fencing":
				v.boolean(pr.Value, pr.line, pp, attr)
			case "no-quorum-policy":
				v.oneOf(pr.Value, pr.line, pp, attr, "stop", "freeze", "ignore", "demote", "suicide")
			case "placement-strategy":
				v.oneOf(pr.Value, pr.line, pp, attr, "default", "utilization", "minimal", "balanced")
			case "cluster-recheck-interval", "stonith-timeout", "dc-deadtime", "shutdown-lock-limit", "priority-fencing-delay":
				v.interval(pr.Value, pr.line, pp, attr)
			}
		}
	}
}

// metaValues checks the values of well-known meta-attributes.
func (v *validator) metaValues(sets []NVSet, parent string) {
	for i := range sets {
		s := &sets[i]
		path := parent + "/" + seg("meta_attributes", s.ID)
		for j := range s.Pairs {
			pr := &s.Pairs[j]
			pp := path + "/" + seg("nvpair", pr.ID)
			attr := "meta-attribute " + pr.Name
			switch pr.Name {
			case "target-role":
				v.role(pr.Value, pr.line, pp, attr)
			case "is-managed", "globally-unique", "interleave", "promotable", "notify", "ordered", "allow-migrate", "maintenance", "critical":
				v.boolean(pr.Value, pr.line, pp, attr)
			case "resource-stickiness", "migration-threshold", "priority":
				v.score(pr.Value, pr.line, pp, attr)
			case "clone-max", "clone-node-max", "promoted-max", "promoted-node-max", "master-max", "master-node-max":
				if _, err := (Meta{pr.Name: pr.Value}).integer(0, pr.Name); err != nil {
					v.errorf(pr.line, pp, "%v", err)
				}
			case "failure-timeout":
				v.interval(pr.Value, pr.line, pp, attr)
			}
		}
	}
}

func (v *validator) constraint(c Constraint, parent string) {
	switch c := c.(type) {
	case *Location:
		p := parent + "/" + seg("rsc_location", c.ID)
		v.id(c.ID, c.line, p, true)
		targets := 0
		for _, t := range []string{c.Rsc, c.RscPattern} {
			if t != "" {
				targets++
			}
		}
		if len(c.Sets) > 0 {
			targets++
		}
		switch {
		case targets == 0:
			v.errorf(c.line, p, "names no resource: give rsc, rsc-pattern or a resource_set")
		case targets > 1:
			v.errorf(c.line, p, "give only one of rsc, rsc-pattern and resource_set")
		}
		v.rscRef(c.Rsc, c.line, p, "rsc")
		v.role(c.Role, c.line, p, "role")
		direct := c.Score != "" || c.Node != ""
		switch {
		case direct && len(c.Rules) > 0:
			v.errorf(c.line, p, "both score/node and a rule; use one")
		case !direct && len(c.Rules) == 0:
			v.errorf(c.line, p, "needs score and node, or a rule")
		case direct && (c.Score == "" || c.Node == ""):
			v.errorf(c.line, p, "needs both score and node")
		}
		v.score(c.Score, c.line, p, "score")
		v.oneOf(c.ResourceDiscovery, c.line, p, "resource-discovery", "always", "never", "exclusive")
		v.resourceSets(c.Sets, p, false)
		for i := range c.Rules {
			v.rule(&c.Rules[i], p)
		}
		v.extra(c.Extra, p)
	case *Colocation:
		p := parent + "/" + seg("rsc_colocation", c.ID)
		v.id(c.ID, c.line, p, true)
		v.pairOrSets(c.Rsc, c.WithRsc, "rsc", "with-rsc", len(c.Sets), c.line, p)
		if c.Rsc != "" && c.Rsc == c.WithRsc {
			v.errorf(c.line, p, "colocates %s with itself", quote(c.Rsc))
		}
		v.score(c.Score, c.line, p, "score")
		v.role(c.RscRole, c.line, p, "rsc-role")
		v.role(c.WithRscRole, c.line, p, "with-rsc-role")
		v.boolean(c.Influence, c.line, p, "influence")
		v.resourceSets(c.Sets, p, false)
		v.extra(c.Extra, p)
	case *Order:
		p := parent + "/" + seg("rsc_order", c.ID)
		v.id(c.ID, c.line, p, true)
		v.pairOrSets(c.First, c.Then, "first", "then", len(c.Sets), c.line, p)
		if c.Kind != "" && c.Score != "" {
			v.errorf(c.line, p, "both kind and score; use kind (score is the legacy form)")
		}
		v.oneOf(c.Kind, c.line, p, "kind", "Mandatory", "Optional", "Serialize")
		v.score(c.Score, c.line, p, "score")
		v.oneOf(c.FirstAction, c.line, p, "first-action", "start", "promote", "demote", "stop")
		v.oneOf(c.ThenAction, c.line, p, "then-action", "start", "promote", "demote", "stop")
		v.boolean(c.Symmetrical, c.line, p, "symmetrical")
		v.boolean(c.RequireAll, c.line, p, "require-all")
		if k, err := c.OrderKind(); err == nil && k == Serialize {
			if b, err := ParseBool(c.Symmetrical); err == nil && b {
				v.warnf(c.line, p, "symmetrical=true has no effect on a Serialize order")
			}
		}
		v.resourceSets(c.Sets, p, true)
		v.extra(c.Extra, p)
		if v.paths == nil {
			v.paths = map[*Order]string{}
		}
		v.orders = append(v.orders, c)
		v.paths[c] = p
	case *RawConstraint:
		if c.Raw != nil {
			v.rawIDs(c.Raw, parent)
		}
	}
}

// pairOrSets checks the two resource attributes of a colocation or order,
// which must both be given unless the constraint uses resource sets.
func (v *validator) pairOrSets(a, b, an, bn string, sets, line int, p string) {
	switch {
	case sets > 0 && (a != "" || b != ""):
		v.errorf(line, p, "both %s/%s and resource_set; use one", an, bn)
	case sets == 0 && a == "":
		v.errorf(line, p, "missing attribute %s", an)
	case sets == 0 && b == "":
		v.errorf(line, p, "missing attribute %s", bn)
	}
	v.rscRef(a, line, p, an)
	v.rscRef(b, line, p, bn)
}

func (v *validator) resourceSets(sets []ResourceSet, parent string, order bool) {
	for i := range sets {
		s := &sets[i]
		p := parent + "/" + seg("resource_set", s.ID)
		v.idOrRef(s.ID, s.IDRef, s.line, p)
		if s.IDRef == "" && len(s.Resources) == 0 {
			v.errorf(s.line, p, "resource_set has no resource_ref")
		}
		for _, r := range s.Resources {
			v.rscRef(r, s.line, p, "resource_ref")
		}
		v.boolean(s.Sequential, s.line, p, "sequential")
		v.boolean(s.RequireAll, s.line, p, "require-all")
		v.oneOf(s.Ordering, s.line, p, "ordering", "group", "listed")
		v.oneOf(s.Action, s.line, p, "action", "start", "promote", "demote", "stop")
		v.role(s.Role, s.line, p, "role")
		v.score(s.Score, s.line, p, "score")
		v.oneOf(s.Kind, s.line, p, "kind", "Mandatory", "Optional", "Serialize")
		if s.Kind != "" && s.Score != "" {
			v.errorf(s.line, p, "both kind and score; use kind")
		}
		v.extra(s.Extra, p)
	}
}

func (v *validator) rule(r *Rule, parent string) {
	p := parent + "/" + seg("rule", r.ID)
	v.idOrRef(r.ID, r.IDRef, r.line, p)
	if r.IDRef != "" {
		return
	}
	v.oneOf(r.BooleanOp, r.line, p, "boolean-op", "and", "or")
	v.role(r.Role, r.line, p, "role")
	v.score(r.Score, r.line, p, "score")
	if r.Score != "" && r.ScoreAttribute != "" {
		v.errorf(r.line, p, "both score and score-attribute; use one")
	}
	if len(r.Conditions) == 0 {
		v.errorf(r.line, p, "rule has no conditions")
	}
	for _, c := range r.Conditions {
		switch c := c.(type) {
		case *Rule:
			v.rule(c, p)
		case *Expression:
			ep := p + "/" + seg("expression", c.ID)
			v.id(c.ID, c.line, ep, true)
			if c.Attribute == "" {
				v.errorf(c.line, ep, "missing attribute attribute")
			}
			if c.Operation == "" {
				v.errorf(c.line, ep, "missing attribute operation")
			}
			v.oneOf(c.Operation, c.line, ep, "operation", "lt", "gt", "lte", "gte", "eq", "ne", "defined", "not_defined")
			v.oneOf(c.Type, c.line, ep, "type", "string", "integer", "number", "version")
			v.oneOf(c.ValueSource, c.line, ep, "value-source", "literal", "param", "meta")
			switch c.Operation {
			case "defined", "not_defined", "":
			default:
				if c.Value == "" {
					v.warnf(c.line, ep, "%s without a value never matches a defined attribute", c.Operation)
				}
			}
			if c.Type == "version" && c.Value != "" && !dottedNumber(c.Value) {
				v.warnf(c.line, ep, "version %s is not dotted numbers; Pacemaker's version comparison can loop forever on such values (seen with 2.1.5)", quote(c.Value))
			}
			v.extra(c.Extra, ep)
		case *RscExpression:
			ep := p + "/" + seg("rsc_expression", c.ID)
			v.id(c.ID, c.line, ep, true)
			v.extra(c.Extra, ep)
		case *OpExpression:
			ep := p + "/" + seg("op_expression", c.ID)
			v.id(c.ID, c.line, ep, true)
			if c.Name == "" {
				v.errorf(c.line, ep, "missing attribute name")
			}
			v.interval(c.Interval, c.line, ep, "interval")
			v.extra(c.Extra, ep)
		case *RawCondition:
			if c.Raw == nil {
				continue
			}
			v.rawIDs(c.Raw, p)
			if c.Raw.Name == "date_expression" {
				v.warnf(c.Raw.line, p+"/"+seg(c.Raw.Name, c.Raw.ID()), "date rules are kept but hakit cannot evaluate them yet")
			} else {
				v.errorf(c.Raw.line, p+"/"+seg(c.Raw.Name, c.Raw.ID()), "<%s> is not a rule condition hakit knows", c.Raw.Name)
			}
		}
	}
	v.extra(r.Extra, p)
}

// safety warns about the configuration DESIGN.md §1 calls unsafe: without
// fencing and with quorum ignored, both sides of a partition run every
// resource.
func (v *validator) safety(c *CIB) {
	vals, err := values(c.Config.CRMConfig, RuleInput{}, "cib-bootstrap-options")
	if err != nil {
		return
	}
	fencing := true
	for _, name := range []string{"fencing-enabled", "stonith-enabled"} {
		if s, ok := vals[name]; ok {
			if b, err := ParseBool(s); err == nil {
				fencing = b
			}
			break
		}
	}
	if !fencing && vals["no-quorum-policy"] == "ignore" {
		v.warnf(0, "/cib/configuration/crm_config", "fencing is disabled and no-quorum-policy=ignore: during a partition every side runs every resource (split brain)")
		v.out[len(v.out)-1].ID = ProblemSplitBrain
	}
}

// dottedNumber reports whether s is digits separated by single dots.
func dottedNumber(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for _, r := range part {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	return true
}
