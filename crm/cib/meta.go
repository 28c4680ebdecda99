package cib

import (
	"fmt"
	"slices"
	"strconv"
)

// Role is a resource's role on a node.
type Role int

const (
	RoleUnknown Role = iota
	RoleStopped
	RoleStarted
	RoleUnpromoted
	RolePromoted
)

// ParseRole reads a role name as the CIB writes it, including the legacy
// names Master (Promoted) and Slave (Unpromoted).
func ParseRole(s string) (Role, error) {
	switch s {
	case "Stopped":
		return RoleStopped, nil
	case "Started":
		return RoleStarted, nil
	case "Unpromoted", "Slave":
		return RoleUnpromoted, nil
	case "Promoted", "Master":
		return RolePromoted, nil
	}
	return RoleUnknown, fmt.Errorf("role %s is not Stopped, Started, Unpromoted or Promoted", quote(s))
}

func (r Role) String() string {
	switch r {
	case RoleStopped:
		return "Stopped"
	case RoleStarted:
		return "Started"
	case RoleUnpromoted:
		return "Unpromoted"
	case RolePromoted:
		return "Promoted"
	}
	return "Unknown"
}

// Values flattens name/value sets into one map, as Pacemaker's
// pcmk_unpack_nvpair_blocks does: sets are taken in order of their score,
// highest first (document order among equals), a set whose rule does not
// match is skipped, and the first value seen for a name wins. A set or pair
// given by id-ref is skipped (resolve references before calling). A rule
// that cannot be evaluated is an error, so that a date rule is never
// silently read as false.
func Values(sets []NVSet, in RuleInput) (map[string]string, error) {
	return values(sets, in, "")
}

// values is Values with one set, by id, taken before all others: Pacemaker
// reads cluster options from "cib-bootstrap-options" first.
func values(sets []NVSet, in RuleInput, first string) (map[string]string, error) {
	out := map[string]string{}
	err := eachPair(sets, in, first, func(_ *NVSet, p *NVPair) bool {
		if _, seen := out[p.Name]; !seen {
			out[p.Name] = p.Value
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachPair calls f with every pair Values reads, in the order it reads
// them (so the first pair of a name is the one that counts), until f
// returns false.
func eachPair(sets []NVSet, in RuleInput, first string, f func(*NVSet, *NVPair) bool) error {
	order := make([]int, len(sets))
	for i := range order {
		order[i] = i
	}
	scores := make([]Score, len(sets))
	for i, s := range sets {
		if s.Score != "" {
			v, err := ParseScore(s.Score)
			if err != nil {
				return fmt.Errorf("set %s: score: %w", quote(s.ID), err)
			}
			scores[i] = v
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if af, bf := sets[a].ID == first && first != "", sets[b].ID == first && first != ""; af != bf {
			if af {
				return -1
			}
			return 1
		}
		return int(scores[b]) - int(scores[a])
	})
	for _, i := range order {
		s := &sets[i]
		if s.IDRef != "" {
			continue
		}
		if s.Rule != nil {
			ok, err := s.Rule.EvalWith(in)
			if err != nil {
				return fmt.Errorf("set %s: %w", quote(s.ID), err)
			}
			if !ok {
				continue
			}
		}
		for j := range s.Pairs {
			p := &s.Pairs[j]
			if p.IDRef != "" || p.Name == "" || !p.HasValue() {
				continue
			}
			if !f(s, p) {
				return nil
			}
		}
	}
	return nil
}

// Meta is a resource's effective meta-attributes. The accessors give
// Pacemaker's defaults for what is not set and report unreadable values as
// errors, since a typo in a meta-attribute changes behaviour.
type Meta map[string]string

func (m Meta) boolean(name string, def bool) (bool, error) {
	v, ok := m[name]
	if !ok {
		return def, nil
	}
	b, err := ParseBool(v)
	if err != nil {
		return def, fmt.Errorf("meta-attribute %s: %w", name, err)
	}
	return b, nil
}

func (m Meta) integer(def int, names ...string) (int, error) {
	for _, name := range names {
		v, ok := m[name]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return def, fmt.Errorf("meta-attribute %s: %s is not a non-negative integer", name, quote(v))
		}
		return n, nil
	}
	return def, nil
}

func (m Meta) score(name string, def Score) (Score, error) {
	v, ok := m[name]
	if !ok {
		return def, nil
	}
	s, err := ParseScore(v)
	if err != nil {
		return def, fmt.Errorf("meta-attribute %s: %w", name, err)
	}
	return s, nil
}

// TargetRole is the role the cluster should keep the resource in; default
// Started, which for a promotable clone means "promote as configured".
func (m Meta) TargetRole() (Role, error) {
	v, ok := m["target-role"]
	if !ok {
		return RoleStarted, nil
	}
	r, err := ParseRole(v)
	if err != nil {
		return RoleStarted, fmt.Errorf("meta-attribute target-role: %w", err)
	}
	return r, nil
}

// IsManaged is whether the cluster may start and stop the resource; default true.
func (m Meta) IsManaged() (bool, error) { return m.boolean("is-managed", true) }

// Stickiness is resource-stickiness and whether it is set. Pacemaker's
// default is 0, except 1 for clone instances; the caller knows which it
// has, so an unset value is reported rather than guessed.
func (m Meta) Stickiness() (s Score, set bool, err error) {
	_, set = m["resource-stickiness"]
	s, err = m.score("resource-stickiness", 0)
	return s, set, err
}

// MigrationThreshold is how many failures ban the resource from a node;
// default INFINITY (never).
func (m Meta) MigrationThreshold() (Score, error) { return m.score("migration-threshold", Infinity) }

// Priority decides which resources stay up when not all can; default 0.
func (m Meta) Priority() (Score, error) { return m.score("priority", 0) }

// Promotable is the promotable meta-attribute (the <master> element implies
// it; see Clone.Promotable).
func (m Meta) Promotable() (bool, error) { return m.boolean("promotable", false) }

// CloneMax is how many instances to run; default the number of nodes.
func (m Meta) CloneMax(nodes int) (int, error) { return m.integer(nodes, "clone-max") }

// CloneNodeMax is how many instances one node may run; default 1.
func (m Meta) CloneNodeMax() (int, error) { return m.integer(1, "clone-node-max") }

// GloballyUnique is whether instances are distinct; default false.
func (m Meta) GloballyUnique() (bool, error) { return m.boolean("globally-unique", false) }

// Interleave is whether instances depend only on the local instance of the
// clones they are ordered or colocated with; default false.
func (m Meta) Interleave() (bool, error) { return m.boolean("interleave", false) }

// PromotedMax is how many instances may be promoted (promoted-max, or the
// legacy master-max); default 1.
func (m Meta) PromotedMax() (int, error) { return m.integer(1, "promoted-max", "master-max") }

// PromotedNodeMax is how many promoted instances one node may run
// (promoted-node-max, or the legacy master-node-max); default 1.
func (m Meta) PromotedNodeMax() (int, error) {
	return m.integer(1, "promoted-node-max", "master-node-max")
}

// Promotable reports whether the clone has promoted and unpromoted
// instances: written as <master>, or with meta promotable=true in a set
// without a rule.
func (c *Clone) Promotable() bool {
	if c.Master {
		return true
	}
	for _, s := range c.MetaAttrs {
		if s.Rule != nil || s.IDRef != "" {
			continue
		}
		for _, p := range s.Pairs {
			if p.Name == "promotable" {
				b, _ := ParseBool(p.Value)
				return b
			}
		}
	}
	return false
}

// Resource finds a resource by id at any depth: top level, a group
// member, a clone's child. It returns the resource and its ancestors,
// outermost first.
func (c *CIB) Resource(id string) (Resource, []Resource) {
	var found Resource
	var path []Resource
	var walk func(rs []Resource, up []Resource) bool
	walk = func(rs []Resource, up []Resource) bool {
		for _, r := range rs {
			if r == nil {
				continue
			}
			if r.ResourceID() == id {
				found, path = r, slices.Clone(up)
				return true
			}
			switch r := r.(type) {
			case *Group:
				if walk(r.Children, append(up, r)) {
					return true
				}
			case *Clone:
				if r.Child != nil && walk([]Resource{r.Child}, append(up, r)) {
					return true
				}
			}
		}
		return false
	}
	walk(c.Config.Resources, nil)
	return found, path
}

// Meta returns a resource's effective meta-attributes: its own, then each
// enclosing group or clone's, innermost first, then rsc_defaults; the first
// definition of a name wins. in supplies what the sets' rules test.
func (c *CIB) Meta(id string, in RuleInput) (Meta, error) {
	r, ancestors := c.Resource(id)
	if r == nil {
		return nil, fmt.Errorf("no resource %s", quote(id))
	}
	levels := [][]NVSet{metaSets(r)}
	for i := len(ancestors) - 1; i >= 0; i-- {
		levels = append(levels, metaSets(ancestors[i]))
	}
	levels = append(levels, c.Config.RscDefaults)
	out := Meta{}
	for _, sets := range levels {
		vals, err := Values(sets, in)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", quote(id), err)
		}
		// Map iteration order cannot matter: only absent names are filled.
		for k, v := range vals {
			if _, ok := out[k]; !ok {
				out[k] = v
			}
		}
	}
	return out, nil
}

func metaSets(r Resource) []NVSet {
	switch r := r.(type) {
	case *Primitive:
		return r.MetaAttrs
	case *Group:
		return r.MetaAttrs
	case *Clone:
		return r.MetaAttrs
	}
	return nil
}

// Property returns a cluster property (crm_config) with rules evaluated
// against in, and whether it is set. As in Pacemaker, the set with id
// "cib-bootstrap-options" (where crm_attribute and crmsh write) is read
// first.
func (c *CIB) Property(name string, in RuleInput) (string, bool, error) {
	vals, err := values(c.Config.CRMConfig, in, "cib-bootstrap-options")
	if err != nil {
		return "", false, fmt.Errorf("crm_config: %w", err)
	}
	v, ok := vals[name]
	return v, ok, nil
}

// PropertyPair is Property's answer with where it came from: the nvpair
// that sets the property (nil when none does) and its XPath, for messages
// that point the admin at the line to change.
func (c *CIB) PropertyPair(name string, in RuleInput) (*NVPair, string, error) {
	var pair *NVPair
	var path string
	err := eachPair(c.Config.CRMConfig, in, "cib-bootstrap-options", func(s *NVSet, p *NVPair) bool {
		if p.Name != name {
			return true
		}
		pair = p
		path = "/cib/configuration/crm_config/" + seg("cluster_property_set", s.ID) + "/" + seg("nvpair", p.ID)
		return false
	})
	if err != nil {
		return nil, "", fmt.Errorf("crm_config: %w", err)
	}
	return pair, path, nil
}

// NodeAttrs builds the attributes rules see for the node named uname: the
// built-ins #uname, #id, #kind (cluster, or remote for a remote node),
// #is_dc and #cluster-name, the node's permanent attributes from <nodes>
// (rule-less sets only: their rules would need these very attributes),
// then its transient attributes from the status section, which win, as the
// attribute manager's current values do in Pacemaker.
func (c *CIB) NodeAttrs(uname string) map[string]string {
	attrs := map[string]string{"#uname": uname, "#kind": "cluster"}
	var node *Node
	for i := range c.Config.Nodes {
		if c.Config.Nodes[i].Uname == uname {
			node = &c.Config.Nodes[i]
			break
		}
	}
	ns := c.NodeState(uname)
	id := ""
	switch {
	case node != nil:
		id = node.ID
		if node.Type == "remote" {
			attrs["#kind"] = "remote"
		}
	case ns != nil:
		id = ns.ID
	}
	if id != "" {
		attrs["#id"] = id
		dc, _ := extraAttr(c.Extra, "dc-uuid")
		attrs["#is_dc"] = strconv.FormatBool(dc == id)
	}
	if name, ok, err := c.Property("cluster-name", RuleInput{}); err == nil && ok {
		attrs["#cluster-name"] = name
	}
	if node != nil {
		for _, s := range node.InstanceAttrs {
			if s.Rule != nil {
				continue
			}
			vals, _ := Values([]NVSet{s}, RuleInput{})
			for k, v := range vals {
				if _, ok := attrs[k]; !ok {
					attrs[k] = v
				}
			}
		}
	}
	if ns != nil && ns.Transient != nil {
		for k, v := range ns.Transient.Attrs() {
			attrs[k] = v
		}
	}
	if _, ok := attrs["#cluster-name"]; ok {
		if site, ok := attrs["site-name"]; ok {
			attrs["#site-name"] = site
		} else {
			attrs["#site-name"] = attrs["#cluster-name"]
		}
	}
	return attrs
}
