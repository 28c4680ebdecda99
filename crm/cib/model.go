package cib

import (
	"fmt"
	"slices"
)

// The model below mirrors Pacemaker's CIB XML element for element. String
// fields hold attribute values exactly as written ("" = absent), because
// the CIB is user input: a score of "+INFINITY" or an interval of "PT10S"
// must survive an import and export, and a bad value must survive long
// enough for Validate to name it. Typed readings (ScoreValue, IntervalValue,
// OrderKind, ...) parse on demand.
//
// Every modelled element has an Extra for what the model does not know:
// unknown attributes and unknown child elements, written back in order.

// CIB is a whole Pacemaker cluster information base: the <cib> element.
type CIB struct {
	// The version tuple. On join, the copy with the highest
	// (AdminEpoch, Epoch, NumUpdates) wins; Epoch rises on every
	// configuration change, NumUpdates on every status change.
	AdminEpoch int64
	Epoch      int64
	NumUpdates int64
	// ValidateWith names the schema, "pacemaker-3.9" for example.
	ValidateWith string
	// Extra holds the other root attributes (crm_feature_set, have-quorum,
	// dc-uuid, cib-last-written, update-origin, ...) and unknown sections.
	Extra  Extra
	Config Configuration
	// Status is the <status> section; nil when the input had none.
	Status *Status

	file string // the name Parse was given, for messages
}

// Configuration is the <configuration> section. Each modelled section comes
// with an Extra for its own unknown attributes and children. Sections the
// model does not know (fencing-topology, acls, tags, alerts) are kept in
// Extra.Children.
type Configuration struct {
	CRMConfig      []NVSet // cluster_property_set elements
	CRMConfigExtra Extra
	Nodes          []Node
	NodesExtra     Extra
	// Resources in document order, which Pacemaker uses to break ties when
	// placing them. Kinds the model does not know (bundle, template) are
	// *RawResource.
	Resources      []Resource
	ResourcesExtra Extra // attributes of <resources> only
	// Constraints in document order; rsc_ticket and unknown kinds are
	// *RawConstraint.
	Constraints      []Constraint
	ConstraintsExtra Extra // attributes of <constraints> only
	RscDefaults      []NVSet
	RscDefaultsExtra Extra
	OpDefaults       []NVSet
	OpDefaultsExtra  Extra
	Extra            Extra
}

// NVSet is a set of name/value pairs: cluster_property_set,
// instance_attributes, meta_attributes, utilization. When several sets
// define a name, Pacemaker takes the set with the highest Score first, then
// document order, skipping sets whose Rule does not match.
type NVSet struct {
	ID    string
	IDRef string // a reference to a set defined elsewhere
	Score string
	Rule  *Rule
	Pairs []NVPair
	Extra Extra

	line int
}

// NVPair is one <nvpair>. A pair whose value attribute is absent (not
// merely empty) is ignored by Pacemaker; HasValue tells the two apart.
type NVPair struct {
	ID    string
	IDRef string
	Name  string
	Value string
	Extra Extra

	line int
}

// HasValue reports whether the pair has a value attribute, possibly empty.
func (p *NVPair) HasValue() bool {
	if p.Value != "" {
		return true
	}
	_, ok := extraAttr(p.Extra, "value")
	return ok
}

// Node is a cluster node in the <nodes> section.
type Node struct {
	ID            string // the cluster layer's node id ("1"); not an XML ID
	Uname         string
	Type          string // member (default), remote, ping
	Description   string
	Score         string
	InstanceAttrs []NVSet // permanent node attributes (standby=on lives here)
	Utilization   []NVSet
	Extra         Extra

	line int
}

// Resource is one entry of <resources> or a group or clone member:
// *Primitive, *Group, *Clone or *RawResource.
type Resource interface {
	ResourceID() string
	isResource()
}

// Primitive is a single resource run by one agent.
type Primitive struct {
	ID          string
	Class       string // ocf, lsb, systemd, service, stonith
	Provider    string // ocf only: heartbeat, pacemaker, linbit, ...
	Type        string // the agent: IPaddr2, apache, ping, drbd
	Template    string // a template id, instead of class/provider/type
	Description string
	// InstanceAttrs are the agent's parameters (OCF_RESKEY_*).
	InstanceAttrs []NVSet
	// MetaAttrs are options for the cluster: target-role,
	// resource-stickiness, migration-threshold, ...
	MetaAttrs   []NVSet
	Utilization []NVSet
	Ops         []Op
	// OpsExtra is the <operations> element's own attributes (id, id-ref)
	// and unknown children.
	OpsExtra Extra
	Extra    Extra

	line int
}

// Op is one configured operation: a recurring monitor, or a start/stop
// with its own timeout.
type Op struct {
	ID       string
	Name     string // monitor, start, stop, promote, demote, ...
	Interval string // Pacemaker interval syntax; see ParseInterval
	Timeout  string
	Role     string // monitor only this role: Promoted, Unpromoted, ...
	OnFail   string // ignore, block, demote, stop, restart, standby, fence
	// InstanceAttrs carry op parameters such as OCF_CHECK_LEVEL.
	InstanceAttrs []NVSet
	MetaAttrs     []NVSet
	Extra         Extra // start-delay, enabled, record-pending, description, ...

	line int
}

// Group is an ordered, colocated chain of primitives.
type Group struct {
	ID            string
	Description   string
	Children      []Resource // primitives; anything else fails Validate
	InstanceAttrs []NVSet
	MetaAttrs     []NVSet
	Extra         Extra

	line int
}

// Clone runs its child (a primitive or a group) on several nodes. A
// promotable clone (meta promotable=true, or the legacy <master> element)
// also promotes some instances: DRBD primaries, PostgreSQL primaries.
type Clone struct {
	ID          string
	Description string
	// Master is set when the clone was written as the legacy <master>
	// element; export keeps that element, so a CIB read from an old
	// cluster is written back the way it came.
	Master        bool
	Child         Resource
	InstanceAttrs []NVSet
	MetaAttrs     []NVSet
	Extra         Extra

	line int
}

// RawResource is a resource kind the model does not know (bundle, template),
// kept verbatim.
type RawResource struct {
	Raw *Raw
}

func (p *Primitive) ResourceID() string   { return p.ID }
func (g *Group) ResourceID() string       { return g.ID }
func (c *Clone) ResourceID() string       { return c.ID }
func (r *RawResource) ResourceID() string { return r.Raw.ID() }
func (*Primitive) isResource()            {}
func (*Group) isResource()                {}
func (*Clone) isResource()                {}
func (*RawResource) isResource()          {}

// Constraint is one entry of <constraints>: *Location, *Colocation, *Order
// or *RawConstraint.
type Constraint interface {
	ConstraintID() string
	isConstraint()
}

// Location gives a resource a score on a node, either directly (Score and
// Node) or through rules over node attributes.
type Location struct {
	ID         string
	Rsc        string
	RscPattern string // a regular expression over resource ids, instead of Rsc
	Role       string
	Score      string
	Node       string // a node name; unknown names are allowed, as in Pacemaker
	// ResourceDiscovery is always (default), never or exclusive.
	ResourceDiscovery string
	Sets              []ResourceSet
	Rules             []Rule
	Extra             Extra // <lifetime> and unknown attributes

	line int
}

// Colocation places Rsc relative to WithRsc: a positive score attracts, a
// negative one repels, ±INFINITY is mandatory.
type Colocation struct {
	ID            string
	Score         string
	Rsc           string
	RscRole       string
	WithRsc       string
	WithRscRole   string
	NodeAttribute string // colocate by equal values of this node attribute instead of by node
	Influence     string
	Sets          []ResourceSet
	Extra         Extra

	line int
}

// Order sequences actions: First's FirstAction before Then's ThenAction.
type Order struct {
	ID          string
	Kind        string // Mandatory (default), Optional, Serialize
	Score       string // legacy instead of Kind: 0 is Optional, anything else Mandatory
	First       string
	FirstAction string // start (default), promote, demote, stop
	Then        string
	ThenAction  string // defaults to FirstAction
	Symmetrical string // default true, except for Serialize
	RequireAll  string
	Sets        []ResourceSet
	Extra       Extra

	line int
}

// RawConstraint is a constraint kind the model keeps but does not
// interpret: rsc_ticket, and anything newer.
type RawConstraint struct {
	Raw *Raw
}

func (l *Location) ConstraintID() string      { return l.ID }
func (c *Colocation) ConstraintID() string    { return c.ID }
func (o *Order) ConstraintID() string         { return o.ID }
func (r *RawConstraint) ConstraintID() string { return r.Raw.ID() }
func (*Location) isConstraint()               {}
func (*Colocation) isConstraint()             {}
func (*Order) isConstraint()                  {}
func (*RawConstraint) isConstraint()          {}

// ResourceSet is a <resource_set> inside a constraint.
type ResourceSet struct {
	ID         string
	IDRef      string
	Sequential string // default true
	RequireAll string // default true
	Ordering   string
	Action     string
	Role       string
	Score      string
	Kind       string
	Resources  []string // the resource_ref ids, in order
	Extra      Extra

	line int
}

// Rule is a condition over node attributes (and, in option sets, over
// resource and operation properties). Conditions are combined with
// BooleanOp.
type Rule struct {
	ID             string
	IDRef          string
	Score          string // in a location constraint: the score to apply when the rule matches
	ScoreAttribute string // ... or the node attribute holding it
	BooleanOp      string // and (default), or
	Role           string
	Conditions     []Condition
	Extra          Extra

	line int
}

// Condition is one child of a rule: *Expression, *Rule, *RscExpression,
// *OpExpression, or *RawCondition (date_expression and anything newer).
type Condition interface {
	isCondition()
}

// Expression compares a node attribute with a value.
type Expression struct {
	ID          string
	Attribute   string // a node attribute, or #uname, #id, #kind, ...
	Operation   string // lt, gt, lte, gte, eq, ne, defined, not_defined
	Value       string
	Type        string // string, integer, number, version; see Eval for the default
	ValueSource string // literal (default), param, meta
	Extra       Extra

	line int
}

// RscExpression matches a resource's agent (rsc_defaults and op_defaults
// rules only).
type RscExpression struct {
	ID       string
	Class    string
	Provider string
	Type     string
	Extra    Extra

	line int
}

// OpExpression matches an operation by name and interval (op_defaults
// rules only).
type OpExpression struct {
	ID       string
	Name     string
	Interval string
	Extra    Extra

	line int
}

// RawCondition keeps a rule condition the model does not evaluate:
// date_expression (with its date_spec or duration), or anything newer.
type RawCondition struct {
	Raw *Raw
}

func (*Expression) isCondition()    {}
func (*Rule) isCondition()          {}
func (*RscExpression) isCondition() {}
func (*OpExpression) isCondition()  {}
func (*RawCondition) isCondition()  {}

// Status is the <status> section: what each node's controller has recorded.
type Status struct {
	NodeStates []NodeState
	Extra      Extra
}

// NodeState is a <node_state>: one node's membership, its transient
// attributes and its resource operation history.
type NodeState struct {
	ID    string
	Uname string
	// InCCM is whether the node is in the cluster membership: "true" or
	// "false", or since Pacemaker 2.1.7 the time (epoch seconds) it joined.
	InCCM string
	// Crmd is the controller's state: "online" or "offline", or since
	// 2.1.7 the time its process joined.
	Crmd      string
	Join      string // member, down, pending, banned
	Expected  string // member, down
	Transient *TransientAttributes
	LRM       *LRM
	Extra     Extra // crm-debug-origin, shutdown, ...

	line int
}

// TransientAttributes are the node attributes attrd keeps (pingd,
// fail-count-*, last-failure-*, master-*): lost when the node leaves.
type TransientAttributes struct {
	ID    string
	Sets  []NVSet
	Extra Extra
}

// LRM is a node's <lrm> element: the history of every resource the
// node's executor has run an operation for.
type LRM struct {
	ID             string
	Resources      []LRMResource
	ResourcesExtra Extra // the <lrm_resources> element's attributes and unknown children
	Extra          Extra
}

// LRMResource is one resource's operation history on one node.
type LRMResource struct {
	ID       string
	Class    string
	Provider string
	Type     string
	Ops      []LRMOp
	Extra    Extra // container, ...

	line int
}

// LRMOp is one recorded operation result. Pacemaker keeps only a few per
// resource and node: the last non-recurring op (<rsc>_last_0), the last
// failure (<rsc>_last_failure_0) and one per recurring monitor.
type LRMOp struct {
	ID           string
	OperationKey string // <rsc>_<op>_<interval ms>
	Operation    string
	CallID       int
	RCCode       int // the agent's OCF exit code
	OpStatus     int // the executor's status: 0 done, -1 pending, 1 cancelled, 2 timed out, 4 error, ...
	IntervalMS   int64
	// LastRCChange is when the result last changed, in epoch seconds; 0
	// when not recorded (then any "last-rc-change" attribute, if present,
	// stays in Extra).
	LastRCChange    int64
	ExecTimeMS      int64
	QueueTimeMS     int64
	TransitionKey   string // action:transition:target-rc:uuid
	TransitionMagic string // op-status:rc;transition-key
	OnNode          string
	ExitReason      string
	Extra           Extra // op-digest, crm_feature_set, crm-debug-origin, last-run, ...

	line int
}

func extraAttr(e Extra, name string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// SetNodeAttr sets a permanent attribute of the node named uname (what
// `crm node standby` does with standby=on), or deletes it when value is
// "". It reports an error for a node the configuration does not have.
func (c *CIB) SetNodeAttr(uname, name, value string) error {
	for i := range c.Config.Nodes {
		if n := &c.Config.Nodes[i]; n.Uname == uname {
			setNV(&n.InstanceAttrs, "nodes-"+n.ID, name, value)
			return nil
		}
	}
	return fmt.Errorf("no node named %q in the configuration", uname)
}

// SetMeta sets a meta attribute of resource id (what `crm resource
// stop` does with target-role=Stopped), or deletes it when value is "".
func (c *CIB) SetMeta(id, name, value string) error {
	r, _ := c.Resource(id)
	var sets *[]NVSet
	switch r := r.(type) {
	case *Primitive:
		sets = &r.MetaAttrs
	case *Group:
		sets = &r.MetaAttrs
	case *Clone:
		sets = &r.MetaAttrs
	default:
		return fmt.Errorf("no resource %q in the configuration", id)
	}
	setNV(sets, id+"-meta_attributes", name, value)
	return nil
}

// setNV sets name in the first of sets (created with id when there is
// none), or deletes it from every set when value is "".
func setNV(sets *[]NVSet, id, name, value string) {
	if value == "" {
		for i := range *sets {
			set := &(*sets)[i]
			set.Pairs = slices.DeleteFunc(set.Pairs, func(p NVPair) bool { return p.Name == name })
		}
		return
	}
	for i := range *sets {
		for j, p := range (*sets)[i].Pairs {
			if p.Name == name {
				(*sets)[i].Pairs[j].Value = value
				return
			}
		}
	}
	if len(*sets) == 0 {
		*sets = []NVSet{{ID: id}}
	}
	set := &(*sets)[0]
	set.Pairs = append(set.Pairs, NVPair{ID: set.ID + "-" + name, Name: name, Value: value})
}

// Primitives returns every primitive of the configuration, in document
// order (group members in order, a clone's child once).
func (c *CIB) Primitives() []*Primitive {
	var out []*Primitive
	for _, r := range c.Config.Resources {
		out = append(out, PrimitivesUnder(r)...)
	}
	return out
}

// PrimitivesUnder returns the primitives r is made of: r itself, a
// group's members, a clone's child's.
func PrimitivesUnder(r Resource) []*Primitive {
	switch r := r.(type) {
	case *Primitive:
		return []*Primitive{r}
	case *Group:
		var out []*Primitive
		for _, ch := range r.Children {
			out = append(out, PrimitivesUnder(ch)...)
		}
		return out
	case *Clone:
		if r.Child != nil {
			return PrimitivesUnder(r.Child)
		}
	}
	return nil
}
