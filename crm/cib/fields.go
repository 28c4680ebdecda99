package cib

// field ties an XML attribute name to the model field holding it. Each
// modelled element lists its fields once (the fields methods below); the
// decoder fills them from attributes and the encoder writes them back in
// this order, which is the order Pacemaker itself writes them in.
type field struct {
	name string
	s    *string
	i    *int64
	n    *int
	// always: a numeric attribute Pacemaker always writes (call-id,
	// rc-code, ...); it must be present on input and is written even when
	// zero. Other numeric attributes read as 0 when absent.
	always bool
}

func str(name string, p *string) field               { return field{name: name, s: p} }
func num64(name string, p *int64, always bool) field { return field{name: name, i: p, always: always} }
func num(name string, p *int, always bool) field     { return field{name: name, n: p, always: always} }

func fieldNamed(fs []field, name string) bool {
	for _, f := range fs {
		if f.name == name {
			return true
		}
	}
	return false
}

// children lists, per modelled element, the child elements the model
// represents. Anything else goes to Extra.Children; the encoder refuses an
// Extra child with one of these names, because it would read back as the
// modelled kind and the round trip would not be stable.
var children = map[string][]string{
	"cib":                  {"configuration", "status"},
	"configuration":        {"crm_config", "nodes", "resources", "constraints", "rsc_defaults", "op_defaults"},
	"crm_config":           {"cluster_property_set"},
	"nodes":                {"node"},
	"node":                 {"instance_attributes", "utilization"},
	"primitive":            {"instance_attributes", "meta_attributes", "utilization", "operations"},
	"operations":           {"op"},
	"op":                   {"instance_attributes", "meta_attributes"},
	"group":                {"instance_attributes", "meta_attributes", "primitive", "group", "clone", "master"},
	"clone":                {"instance_attributes", "meta_attributes", "primitive", "group", "clone", "master"},
	"rsc_defaults":         {"meta_attributes"},
	"op_defaults":          {"meta_attributes"},
	"rsc_location":         {"resource_set", "rule"},
	"rsc_colocation":       {"resource_set"},
	"rsc_order":            {"resource_set"},
	"resource_set":         {"resource_ref"},
	"nvset":                {"rule", "nvpair"},
	"nvpair":               {},
	"rule":                 {"expression", "rule", "rsc_expression", "op_expression"},
	"expression":           {},
	"rsc_expression":       {},
	"op_expression":        {},
	"status":               {"node_state"},
	"node_state":           {"transient_attributes", "lrm"},
	"transient_attributes": {"instance_attributes"},
	"lrm":                  {"lrm_resources"},
	"lrm_resources":        {"lrm_resource"},
	"lrm_resource":         {"lrm_rsc_op"},
	"lrm_rsc_op":           {},
}

// resourceKinds and constraintKinds are the element names that decode to
// typed resources and constraints; other names become Raw ones.
var resourceKinds = []string{"primitive", "group", "clone", "master"}
var constraintKinds = []string{"rsc_location", "rsc_colocation", "rsc_order"}
var conditionKinds = []string{"expression", "rule", "rsc_expression", "op_expression"}

func (c *CIB) fields() []field {
	return []field{
		str("validate-with", &c.ValidateWith),
		num64("epoch", &c.Epoch, true),
		num64("num_updates", &c.NumUpdates, true),
		num64("admin_epoch", &c.AdminEpoch, true),
	}
}

func (s *NVSet) fields() []field {
	return []field{str("id", &s.ID), str("id-ref", &s.IDRef), str("score", &s.Score)}
}

func (p *NVPair) fields() []field {
	return []field{str("id", &p.ID), str("id-ref", &p.IDRef), str("name", &p.Name), str("value", &p.Value)}
}

func (n *Node) fields() []field {
	return []field{str("id", &n.ID), str("uname", &n.Uname), str("type", &n.Type),
		str("description", &n.Description), str("score", &n.Score)}
}

func (p *Primitive) fields() []field {
	return []field{str("id", &p.ID), str("class", &p.Class), str("provider", &p.Provider),
		str("type", &p.Type), str("template", &p.Template), str("description", &p.Description)}
}

func (o *Op) fields() []field {
	return []field{str("id", &o.ID), str("name", &o.Name), str("interval", &o.Interval),
		str("timeout", &o.Timeout), str("role", &o.Role), str("on-fail", &o.OnFail)}
}

func (g *Group) fields() []field {
	return []field{str("id", &g.ID), str("description", &g.Description)}
}

func (c *Clone) fields() []field {
	return []field{str("id", &c.ID), str("description", &c.Description)}
}

func (l *Location) fields() []field {
	return []field{str("id", &l.ID), str("rsc", &l.Rsc), str("rsc-pattern", &l.RscPattern),
		str("role", &l.Role), str("score", &l.Score), str("node", &l.Node),
		str("resource-discovery", &l.ResourceDiscovery)}
}

func (c *Colocation) fields() []field {
	return []field{str("id", &c.ID), str("score", &c.Score), str("rsc", &c.Rsc),
		str("rsc-role", &c.RscRole), str("with-rsc", &c.WithRsc), str("with-rsc-role", &c.WithRscRole),
		str("node-attribute", &c.NodeAttribute), str("influence", &c.Influence)}
}

func (o *Order) fields() []field {
	return []field{str("id", &o.ID), str("kind", &o.Kind), str("score", &o.Score),
		str("first", &o.First), str("first-action", &o.FirstAction),
		str("then", &o.Then), str("then-action", &o.ThenAction),
		str("symmetrical", &o.Symmetrical), str("require-all", &o.RequireAll)}
}

func (s *ResourceSet) fields() []field {
	return []field{str("id", &s.ID), str("id-ref", &s.IDRef), str("sequential", &s.Sequential),
		str("require-all", &s.RequireAll), str("ordering", &s.Ordering), str("action", &s.Action),
		str("role", &s.Role), str("score", &s.Score), str("kind", &s.Kind)}
}

func (r *Rule) fields() []field {
	return []field{str("id", &r.ID), str("id-ref", &r.IDRef), str("score", &r.Score),
		str("score-attribute", &r.ScoreAttribute), str("boolean-op", &r.BooleanOp), str("role", &r.Role)}
}

func (e *Expression) fields() []field {
	return []field{str("id", &e.ID), str("attribute", &e.Attribute), str("operation", &e.Operation),
		str("value", &e.Value), str("type", &e.Type), str("value-source", &e.ValueSource)}
}

func (e *RscExpression) fields() []field {
	return []field{str("id", &e.ID), str("class", &e.Class), str("provider", &e.Provider), str("type", &e.Type)}
}

func (e *OpExpression) fields() []field {
	return []field{str("id", &e.ID), str("name", &e.Name), str("interval", &e.Interval)}
}

func (n *NodeState) fields() []field {
	return []field{str("id", &n.ID), str("uname", &n.Uname), str("in_ccm", &n.InCCM),
		str("crmd", &n.Crmd), str("join", &n.Join), str("expected", &n.Expected)}
}

func (t *TransientAttributes) fields() []field { return []field{str("id", &t.ID)} }

func (l *LRM) fields() []field { return []field{str("id", &l.ID)} }

func (r *LRMResource) fields() []field {
	return []field{str("id", &r.ID), str("type", &r.Type), str("class", &r.Class), str("provider", &r.Provider)}
}

func (o *LRMOp) fields() []field {
	return []field{str("id", &o.ID), str("operation_key", &o.OperationKey), str("operation", &o.Operation),
		str("transition-key", &o.TransitionKey), str("transition-magic", &o.TransitionMagic),
		str("exit-reason", &o.ExitReason), str("on_node", &o.OnNode),
		num("call-id", &o.CallID, true), num("rc-code", &o.RCCode, true), num("op-status", &o.OpStatus, true),
		num64("interval", &o.IntervalMS, true), num64("last-rc-change", &o.LastRCChange, false),
		num64("exec-time", &o.ExecTimeMS, false), num64("queue-time", &o.QueueTimeMS, false)}
}
