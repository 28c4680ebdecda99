package cib

import (
	"maps"
	"reflect"
	"testing"
)

func TestResourceLookup(t *testing.T) {
	c := mustParse(t, "drbd.xml", readTestdata(t, "drbd.xml"))
	for id, wantUp := range map[string][]string{
		"svc": {}, "fs": {"svc"}, "drbd-r0": {"drbd-r0-clone"}, "drbd-r0-clone": {},
	} {
		r, up := c.Resource(id)
		if r == nil || r.ResourceID() != id {
			t.Errorf("Resource(%s) = %v", id, r)
			continue
		}
		var got []string
		for _, a := range up {
			got = append(got, a.ResourceID())
		}
		if len(got) != len(wantUp) || len(got) > 0 && !reflect.DeepEqual(got, wantUp) {
			t.Errorf("Resource(%s) ancestors %v, want %v", id, got, wantUp)
		}
	}
	if r, _ := c.Resource("nope"); r != nil {
		t.Errorf("Resource(nope) = %v", r)
	}
}

// TestEffectiveMeta: a resource's own meta-attributes win over its
// group's or clone's, which win over rsc_defaults.
func TestEffectiveMeta(t *testing.T) {
	drbd := mustParse(t, "drbd.xml", readTestdata(t, "drbd.xml"))
	ref := mustParse(t, "reference.xml", readTestdata(t, "reference.xml"))
	legacy := mustParse(t, "legacy-master.xml", readTestdata(t, "legacy-master.xml"))
	meta := func(c *CIB, id string) Meta {
		t.Helper()
		m, err := c.Meta(id, RuleInput{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	vip := meta(drbd, "vip")
	if mt, err := vip.MigrationThreshold(); err != nil || mt != 3 {
		t.Errorf("vip migration-threshold %v, %v", mt, err)
	}
	if r, err := vip.TargetRole(); err != nil || r != RoleStarted || vip["target-role"] != "Started" {
		t.Errorf("vip target-role %v, %v (inherited from svc)", r, err)
	}

	child := meta(drbd, "drbd-r0") // inherits the clone's options
	for _, check := range []struct {
		name string
		got  any
		want any
	}{
		{"promotable", must(child.Promotable()), true},
		{"promoted-max", must(child.PromotedMax()), 1},
		{"promoted-node-max", must(child.PromotedNodeMax()), 1},
		{"clone-max", must(child.CloneMax(5)), 2},
		{"clone-node-max", must(child.CloneNodeMax()), 1},
		{"interleave", must(child.Interleave()), false},
		{"globally-unique", must(child.GloballyUnique()), false},
	} {
		if check.got != check.want {
			t.Errorf("drbd-r0 %s = %v, want %v", check.name, check.got, check.want)
		}
	}

	if s, set, err := meta(ref, "httpd").Stickiness(); err != nil || !set || s != 100 {
		t.Errorf("httpd stickiness %v set %v err %v (from rsc_defaults)", s, set, err)
	}
	ms := meta(legacy, "ms-pgsql")
	if n := must(ms.PromotedMax()); n != 1 {
		t.Errorf("legacy master-max read as promoted-max %d", n)
	}
	if _, err := legacy.Meta("nope", RuleInput{}); err == nil || err.Error() != `no resource "nope"` {
		t.Errorf("Meta(nope) error %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestMetaDefaultsAndErrors(t *testing.T) {
	var m Meta
	if r := must(m.TargetRole()); r != RoleStarted {
		t.Errorf("target-role default %v", r)
	}
	if !must(m.IsManaged()) || must(m.MigrationThreshold()) != Infinity || must(m.Priority()) != 0 ||
		must(m.CloneMax(3)) != 3 || must(m.CloneNodeMax()) != 1 || must(m.PromotedMax()) != 1 ||
		must(m.PromotedNodeMax()) != 1 || must(m.GloballyUnique()) || must(m.Interleave()) || must(m.Promotable()) {
		t.Error("wrong defaults")
	}
	if _, set, _ := m.Stickiness(); set {
		t.Error("stickiness reported set")
	}
	bad := Meta{"is-managed": "perhaps", "target-role": "Running", "clone-max": "-1", "migration-threshold": "inf"}
	for _, tt := range []struct {
		err  error
		want string
	}{
		{second(bad.IsManaged()), `meta-attribute is-managed: "perhaps" is not a boolean (true/false, yes/no, on/off, 1/0)`},
		{second(bad.TargetRole()), `meta-attribute target-role: role "Running" is not Stopped, Started, Unpromoted or Promoted`},
		{second(bad.CloneMax(2)), `meta-attribute clone-max: "-1" is not a non-negative integer`},
		{second(bad.MigrationThreshold()), `meta-attribute migration-threshold: "inf" is not an integer or [+-]INFINITY`},
	} {
		if tt.err == nil || tt.err.Error() != tt.want {
			t.Errorf("error %v, want %s", tt.err, tt.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// TestValuesOrder: sets are read highest score first, rules filter them,
// the first value of a name wins, and cluster options read
// cib-bootstrap-options first.
func TestValuesOrder(t *testing.T) {
	onN1 := &Rule{ID: "r", Conditions: []Condition{expr("#uname", "eq", "n1", "")}}
	sets := []NVSet{
		{ID: "low", Pairs: []NVPair{{Name: "x", Value: "low"}, {Name: "y", Value: "low"}}},
		{ID: "high", Score: "10", Rule: onN1, Pairs: []NVPair{{Name: "x", Value: "high"}}},
		{ID: "low2", Pairs: []NVPair{{Name: "y", Value: "low2"}, {Name: "z", Value: "low2"}}},
		{ID: "ref", IDRef: "elsewhere"},
	}
	for node, want := range map[string]map[string]string{
		"n1": {"x": "high", "y": "low", "z": "low2"},
		"n2": {"x": "low", "y": "low", "z": "low2"},
	} {
		got, err := Values(sets, RuleInput{NodeAttrs: map[string]string{"#uname": node}})
		if err != nil || !maps.Equal(got, want) {
			t.Errorf("%s: %v, %v; want %v", node, got, err, want)
		}
	}
	sets[0].Score = "lots"
	if _, err := Values(sets, RuleInput{}); err == nil || err.Error() != `set "low": score: "lots" is not an integer or [+-]INFINITY` {
		t.Errorf("bad set score error %v", err)
	}

	c := &CIB{Config: Configuration{CRMConfig: []NVSet{
		{ID: "other", Score: "100", Pairs: []NVPair{{Name: "cluster-name", Value: "other"}}},
		{ID: "cib-bootstrap-options", Pairs: []NVPair{{Name: "cluster-name", Value: "boot"}}},
	}}}
	if v, ok, err := c.Property("cluster-name", RuleInput{}); err != nil || !ok || v != "boot" {
		t.Errorf("cluster-name = %q, %v, %v; want boot", v, ok, err)
	}
}

func TestNodeAttrs(t *testing.T) {
	ref := mustParse(t, "reference.xml", readTestdata(t, "reference.xml"))
	drbd := mustParse(t, "drbd.xml", readTestdata(t, "drbd.xml"))
	tests := []struct {
		c    *CIB
		node string
		want map[string]string
	}{
		{ref, "vm-node1", map[string]string{"#uname": "vm-node1", "#id": "1", "#kind": "cluster", "#is_dc": "true",
			"#cluster-name": "hakit-ref", "#site-name": "hakit-ref", "pingd": "1000"}},
		{ref, "vm-node2", map[string]string{"#uname": "vm-node2", "#id": "2", "#kind": "cluster", "#is_dc": "false",
			"#cluster-name": "hakit-ref", "#site-name": "hakit-ref", "pingd": "1000"}},
		{drbd, "beta", map[string]string{"#uname": "beta", "#id": "2", "#kind": "cluster", "#is_dc": "true",
			"#cluster-name": "storage", "#site-name": "storage", "rack": "r2", "standby": "off", "master-drbd-r0": "1000"}},
		{drbd, "gamma", map[string]string{"#uname": "gamma", "#kind": "cluster", "#cluster-name": "storage", "#site-name": "storage"}},
	}
	for _, tt := range tests {
		if got := tt.c.NodeAttrs(tt.node); !maps.Equal(got, tt.want) {
			t.Errorf("NodeAttrs(%s) = %v\nwant %v", tt.node, got, tt.want)
		}
	}
	// The drbd file's rules, evaluated against those attributes.
	loc := drbd.Config.Constraints[3].(*Location)
	if !must(loc.Rules[0].Eval(drbd.NodeAttrs("alpha"))) || must(loc.Rules[0].Eval(drbd.NodeAttrs("beta"))) {
		t.Error("rack rule: want alpha only")
	}
	old := drbd.Config.Constraints[4].(*Location)
	for kernel, want := range map[string]bool{"": false, "5.4.0": true, "5.10": false, "6.1.0-rc1": false} {
		attrs := drbd.NodeAttrs("alpha")
		if kernel != "" {
			attrs["kernel"] = kernel
		}
		if got := must(old.Rules[0].Eval(attrs)); got != want {
			t.Errorf("kernel %q: old-kernel rule %v, want %v", kernel, got, want)
		}
	}
}

func TestOrderSemantics(t *testing.T) {
	tests := []struct {
		o      Order
		kind   OrderKind
		sym    bool
		fa, ta string
	}{
		{Order{}, Mandatory, true, "start", "start"},
		{Order{Kind: "Optional"}, Optional, true, "start", "start"},
		{Order{Kind: "Serialize"}, Serialize, false, "start", "start"},
		{Order{Kind: "Serialize", Symmetrical: "true"}, Serialize, false, "start", "start"},
		{Order{Score: "0"}, Optional, true, "start", "start"},
		{Order{Score: "INFINITY"}, Mandatory, true, "start", "start"},
		{Order{Score: "-5"}, Mandatory, true, "start", "start"},
		{Order{Symmetrical: "false", FirstAction: "promote"}, Mandatory, false, "promote", "promote"},
		{Order{FirstAction: "promote", ThenAction: "start"}, Mandatory, true, "promote", "start"},
	}
	for _, tt := range tests {
		k, err := tt.o.OrderKind()
		s, err2 := tt.o.IsSymmetrical()
		fa, ta := tt.o.Actions()
		if err != nil || err2 != nil || k != tt.kind || s != tt.sym || fa != tt.fa || ta != tt.ta {
			t.Errorf("%+v: %v %v %s %s (%v, %v)", tt.o, k, s, fa, ta, err, err2)
		}
	}
	if _, err := (&Order{ID: "o", Kind: "Sometimes"}).OrderKind(); err == nil ||
		err.Error() != `order "o": kind "Sometimes" is not Mandatory, Optional or Serialize` {
		t.Errorf("bad kind error %v", err)
	}
}
