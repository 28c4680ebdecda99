package crmsh

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hakit/hakit/crm/cib"
)

func readTestdata(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.crm")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = string(b)
	}
	return out
}

func mustApply(t *testing.T, c *cib.CIB, src string) *cib.CIB {
	t.Helper()
	next, err := ApplyText(c, src)
	if err != nil {
		t.Fatalf("apply:\n%s\n%v", src, err)
	}
	return next
}

func digest(t *testing.T, c *cib.CIB) string {
	t.Helper()
	d, err := c.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestTestdata: every configure line of the seeds and of DESIGN.md §1
// parses, each file applies line by line and as one batch with the same
// result, and Show's output applies back to the same digest.
func TestTestdata(t *testing.T) {
	for name, src := range readTestdata(t) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			batch := mustApply(t, Empty(), src)
			step := Empty()
			for _, l := range strings.Split(src, "\n") {
				if _, err := Parse(l); err != nil {
					t.Errorf("%v", err)
				}
				step = mustApply(t, step, l)
			}
			if digest(t, batch) != digest(t, step) {
				t.Errorf("batch and step-by-step application differ")
			}
			shown := Show(batch)
			again := mustApply(t, Empty(), shown)
			if digest(t, again) != digest(t, batch) {
				t.Errorf("Show round trip changed the digest:\n%s", shown)
			}
			if s := Show(again); s != shown {
				t.Errorf("Show not stable:\n%s\nthen\n%s", shown, s)
			}
			t.Logf("\n%s", shown)
		})
	}
}

// TestReferenceCIB checks what the reference setup becomes, ids included.
func TestReferenceCIB(t *testing.T) {
	src := readTestdata(t)["testdata/reference.crm"]
	c := mustApply(t, Empty(), src)
	if c.Epoch != 1 {
		t.Errorf("epoch %d, want 1", c.Epoch)
	}
	out, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	x := string(out)
	for _, want := range []string{
		`<cluster_property_set id="cib-bootstrap-options">`,
		`<nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>`,
		`<primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">`,
		`<instance_attributes id="vip-instance_attributes">`,
		`<nvpair id="vip-instance_attributes-ip" name="ip" value="192.168.122.100"/>`,
		`<op id="vip-monitor-10s" name="monitor" interval="10s"/>`,
		`<op id="httpd-start-0s" name="start" interval="0s" timeout="60s"/>`,
		`<op id="httpd-monitor-0s" name="monitor" interval="0s" timeout="20s"/>`,
		`<clone id="cloned-ping-gateway">`,
		`<rsc_colocation id="httpd-with-vip" score="INFINITY" rsc="httpd" with-rsc="vip"/>`,
		`<rsc_order id="httpd-after-vip" kind="Mandatory" first="vip" then="httpd"/>`,
		`<rsc_location id="preferred-node" rsc="vip" score="100" node="vm-node1"/>`,
		`<rule id="vip-needs-gateway-rule" score="-INFINITY" boolean-op="or">`,
		`<expression id="vip-needs-gateway-rule-expression" attribute="pingd" operation="not_defined"/>`,
		`<expression id="vip-needs-gateway-rule-expression-0" attribute="pingd" operation="lte" value="0"/>`,
		`<meta_attributes id="rsc-options">`,
		`<nvpair id="rsc-options-resource-stickiness" name="resource-stickiness" value="100"/>`,
	} {
		if !strings.Contains(x, want) {
			t.Errorf("missing %s", want)
		}
	}
	if t.Failed() {
		t.Logf("\n%s", x)
	}
	// The rule means what the seed says: no pingd or pingd <= 0 bans vip.
	loc := c.Config.Constraints[3].(*cib.Location)
	for attrs, want := range map[string]bool{"": true, "0": true, "1000": false} {
		m := map[string]string{}
		if attrs != "" {
			m["pingd"] = attrs
		}
		if got, err := loc.Rules[0].Eval(m); err != nil || got != want {
			t.Errorf("rule with pingd=%q: %v %v, want %v", attrs, got, err, want)
		}
	}
	// The configuration is unsafe and Validate says so (a warning).
	if ps := c.Validate(); len(ps) == 0 {
		t.Errorf("no warning for stonith-enabled=false with no-quorum-policy=ignore")
	}
}

// TestBadBatchChangesNothing: one bad command anywhere in a batch leaves
// the input untouched and returns an error naming where.
func TestBadBatchChangesNothing(t *testing.T) {
	base := mustApply(t, Empty(), readTestdata(t)["testdata/reference.crm"])
	before, _ := base.Marshal()
	for _, tt := range []struct{ batch, want string }{
		{"primitive extra Dummy\nprimitive vip Dummy", `line 2, column 11: id "vip" is already in use`},
		{"primitive extra Dummy\nlocation l nosuch 100: n1", `line 2, column 12: no resource "nosuch"`},
		{"primitive extra Dummy\ngroup g extra httpd\ngroup g2 extra", `line 3, column 10: resource "extra" is already in "g"`},
		{"group g vip cloned-ping-gateway", `line 1, column 13: resource "cloned-ping-gateway" cannot be a group member (only primitives can)`},
		{"clone c ping-gateway", `line 1, column 9: resource "ping-gateway" is already in "cloned-ping-gateway"`},
		{"delete vip\ndelete vip", `line 2, column 8: no resource or constraint "vip"`},
		{"primitive extra Dummy\nlocation l vip 100 node1", `line 2, column 16: missing ':' after score "100"`},
		{"primitive extra Dummy\norder o Mandatory: extra:begin vip", "configuration rejected"},
		{"primitive extra Dummy op monitor interval=often", "configuration rejected"},
	} {
		next, err := ApplyText(base, tt.batch)
		if err == nil || next != nil {
			t.Errorf("%q: applied", tt.batch)
			continue
		}
		if !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%q:\n got %v\nwant %s", tt.batch, err, tt.want)
		}
		var e *Error
		if !strings.HasPrefix(tt.want, "configuration") && !errors.As(err, &e) {
			t.Errorf("%q: %T is not *Error", tt.batch, err)
		}
		after, _ := base.Marshal()
		if string(after) != string(before) {
			t.Fatalf("%q changed the input CIB", tt.batch)
		}
	}
}

func TestPropertyUpdate(t *testing.T) {
	c := mustApply(t, Empty(), "property a=1 b=2\nproperty a=3\nproperty other: a=4\nop_defaults timeout=30s")
	got := Show(c)
	want := "property cib-bootstrap-options: \\\n\ta=3 \\\n\tb=2\nproperty other: \\\n\ta=4\nop_defaults op-options: \\\n\ttimeout=30s\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := ApplyText(c, "property vip: x=1\nprimitive vip Dummy"); err == nil {
		t.Errorf("property set id clash not caught")
	}
}

func TestGroupCloneDelete(t *testing.T) {
	c := mustApply(t, Empty(), `primitive a Dummy
primitive b Dummy
primitive c Dummy
group g a b meta target-role=Started
clone cl g meta interleave=true
primitive d ocf:linbit:drbd
ms ms-d d meta promoted-max=1
location l1 cl 10: n1
colocation co inf: c cl
order o1 Mandatory: ms-d:promote c:start
order o2 inf: a ( b c )
`)
	ids := func() []string {
		var out []string
		for _, r := range c.Config.Resources {
			out = append(out, r.ResourceID())
		}
		for _, k := range c.Config.Constraints {
			out = append(out, k.ConstraintID())
		}
		return out
	}
	if got := ids(); !slices.Equal(got, []string{"c", "cl", "ms-d", "l1", "co", "o1", "o2"}) {
		t.Errorf("ids %v", got)
	}
	if _, err := Parse(Show(c)); err != nil {
		t.Fatal(err)
	}
	again := mustApply(t, Empty(), Show(c))
	if digest(t, again) != digest(t, c) {
		t.Errorf("round trip:\n%s", Show(c))
	}
	// Deleting a member keeps the group; deleting the last one removes
	// group and clone, and every constraint left with nothing to constrain.
	c = mustApply(t, c, "delete a")
	if got := ids(); !slices.Equal(got, []string{"c", "cl", "ms-d", "l1", "co", "o1", "o2"}) {
		t.Errorf("after delete a: %v", got)
	}
	c = mustApply(t, c, "delete b")
	// o2 is left relating c alone, so it goes too.
	if got := ids(); !slices.Equal(got, []string{"c", "ms-d", "o1"}) {
		t.Errorf("after delete b: %v", got)
	}
	c = mustApply(t, c, "primitive e Dummy\nprimitive f Dummy\norder o3 c ( e f ) c:stop")
	c = mustApply(t, c, "delete e")
	if o3 := c.Config.Constraints[1].(*cib.Order); len(o3.Sets) != 3 || o3.Sets[1].ID != "o3-1" || !slices.Equal(o3.Sets[1].Resources, []string{"f"}) {
		t.Errorf("o3 sets %+v", o3.Sets)
	}
	c = mustApply(t, c, "delete o1 ms-d o3 f")
	if got := ids(); !slices.Equal(got, []string{"c"}) {
		t.Errorf("after delete o1 ms-d: %v", got)
	}
	c = mustApply(t, c, "erase")
	if got := ids(); len(got) != 0 {
		t.Errorf("after erase: %v", got)
	}
	if s, err := ShowIDs(mustApply(t, c, "primitive x Dummy\nlocation lx x inf: n1"), "lx", "x"); err != nil || s != "location lx x inf: n1\nprimitive x ocf:heartbeat:Dummy\n" {
		t.Errorf("ShowIDs: %q %v", s, err)
	}
}

func TestGeneratedIDsUnique(t *testing.T) {
	c := mustApply(t, Empty(), `primitive p Dummy op monitor interval=10s role=Promoted op monitor interval=10s role=Unpromoted OCF_CHECK_LEVEL=10
location l p rule inf: a eq 1 rule 10: b eq 2
`)
	p := c.Config.Resources[0].(*cib.Primitive)
	if p.Ops[0].ID != "p-monitor-10s" || p.Ops[1].ID != "p-monitor-10s-0" {
		t.Errorf("op ids %s %s", p.Ops[0].ID, p.Ops[1].ID)
	}
	if got := p.Ops[1].InstanceAttrs[0].Pairs[0].ID; got != "p-monitor-10s-0-instance_attributes-OCF_CHECK_LEVEL" {
		t.Errorf("op param id %s", got)
	}
	l := c.Config.Constraints[0].(*cib.Location)
	if l.Rules[0].ID != "l-rule" || l.Rules[1].ID != "l-rule-0" {
		t.Errorf("rule ids %s %s", l.Rules[0].ID, l.Rules[1].ID)
	}
	// "p-monitor-10s-0" was taken by the time the second primitive came, but
	// as an op id: the primitive's id clashes.
	if _, err := ApplyText(Empty(), "primitive p Dummy op monitor interval=10s\nprimitive p-monitor-10s Dummy"); err == nil {
		t.Errorf("clash with a generated id not caught")
	}
}
