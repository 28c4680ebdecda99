package cib

import (
	"path/filepath"
	"strings"
	"testing"
)

// validateDoc wraps a configuration body in a CIB whose first body line is
// line 3, and returns every problem as a string.
func validateDoc(t *testing.T, body string) []string {
	t.Helper()
	doc := `<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">` + "\n<configuration>\n" + body + "\n</configuration></cib>"
	c, err := Parse("t.xml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range c.Validate() {
		out = append(out, p.String())
	}
	return out
}

// abc is three primitives on lines 4-6, for constraints to name.
const abc = `<resources>
<primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>
<primitive id="b" class="ocf" provider="heartbeat" type="Dummy"/>
<primitive id="c" class="ocf" provider="heartbeat" type="Dummy"/>
</resources>
`

const prim = `class="ocf" provider="heartbeat" type="Dummy"`

// TestValidate checks each problem Validate reports, message and place.
func TestValidate(t *testing.T) {
	const R = "/cib/configuration/resources"
	const C = "/cib/configuration/constraints"
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"valid", abc + `<constraints>
<rsc_location id="l" rsc="a" score="10" node="not-a-node-yet"/>
<rsc_colocation id="co" score="-INFINITY" rsc="a" with-rsc="b"/>
<rsc_order id="o" kind="Mandatory" first="a" then="b"/>
</constraints>`, nil},

		{"cluster property values", `<crm_config><cluster_property_set id="o">
<nvpair id="o-1" name="stonith-enabled" value="ture"/>
<nvpair id="o-2" name="no-quorum-policy" value="stopp"/>
<nvpair id="o-3" name="cluster-recheck-interval" value="soon"/>
<nvpair id="o-4" name="maintenance-mode" value="false"/>
</cluster_property_set></crm_config>`, []string{
			`t.xml:4: error: /cib/configuration/crm_config/cluster_property_set[@id='o']/nvpair[@id='o-1']: property stonith-enabled: "ture" is not a boolean (true/false, yes/no, on/off, 1/0)`,
			`t.xml:5: error: /cib/configuration/crm_config/cluster_property_set[@id='o']/nvpair[@id='o-2']: property no-quorum-policy: "stopp" is not one of stop, freeze, ignore, demote, suicide`,
			`t.xml:6: error: /cib/configuration/crm_config/cluster_property_set[@id='o']/nvpair[@id='o-3']: property cluster-recheck-interval: "soon" does not start with a number`,
		}},

		{"duplicate id", `<resources>
<primitive id="a" ` + prim + `/>
<group id="a"><primitive id="b" ` + prim + `>
<operations><op id="b" name="monitor" interval="10s"/></operations></primitive></group>
</resources>`, []string{
			`t.xml:5: error: ` + R + `/group[@id='a']: id "a" is already used at line 4 (` + R + `/primitive[@id='a']); Pacemaker requires ids to be unique`,
			`t.xml:6: error: ` + R + `/group[@id='a']/primitive[@id='b']/operations/op[@id='b']: id "b" is already used at line 5 (` + R + `/group[@id='a']/primitive[@id='b']); Pacemaker requires ids to be unique`,
		}},

		{"duplicate id in a kept element", abc + `<fencing-topology>
<fencing-level id="a" target="n1" index="1" devices="f1"/>
</fencing-topology>`, []string{
			`t.xml:9: error: /cib/configuration/fencing-topology/fencing-level[@id='a']: id "a" is already used at line 4 (` + R + `/primitive[@id='a']); Pacemaker requires ids to be unique`,
		}},

		{"unknown resources", abc + `<constraints>
<rsc_colocation id="co" score="INFINITY" rsc="a" with-rsc="nosuch"/>
<rsc_order id="o" first="ghost" then="b"/>
<rsc_location id="l" rsc="phantom" score="1" node="n1"/>
<rsc_order id="os"><resource_set id="os-0"><resource_ref id="a"/><resource_ref id="wraith"/></resource_set></rsc_order>
</constraints>`, []string{
			`t.xml:9: error: ` + C + `/rsc_colocation[@id='co']: with-rsc: no resource has id "nosuch"`,
			`t.xml:10: error: ` + C + `/rsc_order[@id='o']: first: no resource has id "ghost"`,
			`t.xml:11: error: ` + C + `/rsc_location[@id='l']: rsc: no resource has id "phantom"`,
			`t.xml:12: error: ` + C + `/rsc_order[@id='os']/resource_set[@id='os-0']: resource_ref: no resource has id "wraith"`,
		}},

		{"tags and bundles", `<resources>
<bundle id="bun"><podman image="x"/><primitive id="inner" ` + prim + `/></bundle>
</resources>
<constraints>
<rsc_location id="l1" rsc="web" score="1" node="n1"/>
<rsc_location id="l2" rsc="bun" score="1" node="n1"/>
<rsc_location id="l3" rsc="inner" score="1" node="n1"/>
</constraints>
<tags><tag id="web"><obj_ref id="bun"/></tag></tags>`, []string{
			`t.xml:9: error: ` + C + `/rsc_location[@id='l3']: rsc: no resource has id "inner"`,
		}},

		{"mandatory cycle", abc + `<constraints>
<rsc_order id="o1" first="a" then="b"/>
<rsc_order id="o2" first="b" then="c"/>
<rsc_order id="o3" kind="Mandatory" first="c" then="a"/>
<rsc_order id="o4" kind="Optional" first="c" then="b"/>
</constraints>`, []string{
			`t.xml:9: error: ` + C + `/rsc_order[@id='o1']: mandatory orders form a cycle, so none of these actions can run: a start → b start → c start → a start (constraints o1, o2, o3)`,
		}},

		{"optional and serialized orders never cycle", abc + `<constraints>
<rsc_order id="o1" kind="Optional" first="a" then="b"/>
<rsc_order id="o2" kind="Optional" first="b" then="a"/>
<rsc_order id="o3" kind="Serialize" first="a" then="c"/>
<rsc_order id="o4" score="0" first="c" then="a"/>
</constraints>`, nil},

		{"cycle through promote", `<resources>
<clone id="P"><meta_attributes id="P-m"><nvpair id="P-m-p" name="promotable" value="true"/></meta_attributes>
<primitive id="p" ` + prim + `/></clone>
<primitive id="x" ` + prim + `/>
</resources>
<constraints>
<rsc_order id="promote-then-x" first="P" first-action="promote" then="x" then-action="start"/>
<rsc_order id="x-then-P" first="x" then="P"/>
</constraints>`, []string{
			`t.xml:9: error: ` + C + `/rsc_order[@id='promote-then-x']: mandatory orders form a cycle, so none of these actions can run: P promote → x start → P start → P promote (constraints promote-then-x, x-then-P)`,
		}},

		{"cycle in resource sets", abc + `<constraints>
<rsc_order id="s"><resource_set id="s-0"><resource_ref id="a"/><resource_ref id="b"/></resource_set>
<resource_set id="s-1"><resource_ref id="a"/></resource_set></rsc_order>
</constraints>`, []string{
			`t.xml:9: error: ` + C + `/rsc_order[@id='s']: mandatory orders form a cycle, so none of these actions can run: a start → b start → a start (constraints s)`,
		}},

		{"bad values", abc + `<constraints>
<rsc_location id="l" rsc="a" score="inf" node="n1" role="Leader"/>
<rsc_colocation id="co" score="1.5" rsc="a" with-rsc="b" with-rsc-role="Master"/>
<rsc_order id="o" kind="Always" first="a" first-action="launch" then="b" symmetrical="maybe"/>
<rsc_order id="o2" kind="Mandatory" score="10" first="b" then="c"/>
<rsc_order id="o3" kind="Serialize" first="a" then="c" symmetrical="true"/>
</constraints>`, []string{
			`t.xml:9: error: ` + C + `/rsc_location[@id='l']: role: role "Leader" is not Stopped, Started, Unpromoted or Promoted`,
			`t.xml:9: error: ` + C + `/rsc_location[@id='l']: score: "inf" is not an integer or [+-]INFINITY`,
			`t.xml:10: error: ` + C + `/rsc_colocation[@id='co']: score: "1.5" is not an integer or [+-]INFINITY`,
			`t.xml:11: error: ` + C + `/rsc_order[@id='o']: kind: "Always" is not one of Mandatory, Optional, Serialize`,
			`t.xml:11: error: ` + C + `/rsc_order[@id='o']: first-action: "launch" is not one of start, promote, demote, stop`,
			`t.xml:11: error: ` + C + `/rsc_order[@id='o']: symmetrical: "maybe" is not a boolean (true/false, yes/no, on/off, 1/0)`,
			`t.xml:12: error: ` + C + `/rsc_order[@id='o2']: both kind and score; use kind (score is the legacy form)`,
			`t.xml:13: warning: ` + C + `/rsc_order[@id='o3']: symmetrical=true has no effect on a Serialize order`,
		}},

		{"constraint shapes", abc + `<constraints>
<rsc_location id="l1" score="1" node="n1"/>
<rsc_location id="l2" rsc="a" rsc-pattern="^a" score="1" node="n1"/>
<rsc_location id="l3" rsc="a" score="1"/>
<rsc_location id="l4" rsc="a"/>
<rsc_location id="l5" rsc="a" score="1" node="n1"><rule id="l5-r" score="1"><expression id="l5-e" attribute="x" operation="defined"/></rule></rsc_location>
<rsc_colocation id="co" score="INFINITY" rsc="a" with-rsc="a"/>
<rsc_colocation id="co2" score="INFINITY" rsc="a"/>
<rsc_order id="o" then="b"/>
<rsc_colocation id="co3" score="1" rsc="a" with-rsc="b"><resource_set id="co3-0"><resource_ref id="c"/></resource_set></rsc_colocation>
<rsc_order id="o4"><resource_set id="o4-0"/></rsc_order>
</constraints>`, []string{
			`t.xml:9: error: ` + C + `/rsc_location[@id='l1']: names no resource: give rsc, rsc-pattern or a resource_set`,
			`t.xml:10: error: ` + C + `/rsc_location[@id='l2']: give only one of rsc, rsc-pattern and resource_set`,
			`t.xml:11: error: ` + C + `/rsc_location[@id='l3']: needs both score and node`,
			`t.xml:12: error: ` + C + `/rsc_location[@id='l4']: needs score and node, or a rule`,
			`t.xml:13: error: ` + C + `/rsc_location[@id='l5']: both score/node and a rule; use one`,
			`t.xml:14: error: ` + C + `/rsc_colocation[@id='co']: colocates "a" with itself`,
			`t.xml:15: error: ` + C + `/rsc_colocation[@id='co2']: missing attribute with-rsc`,
			`t.xml:16: error: ` + C + `/rsc_order[@id='o']: missing attribute first`,
			`t.xml:17: error: ` + C + `/rsc_colocation[@id='co3']: both rsc/with-rsc and resource_set; use one`,
			`t.xml:18: error: ` + C + `/rsc_order[@id='o4']/resource_set[@id='o4-0']: resource_set has no resource_ref`,
		}},

		{"resource structure", `<resources>
<clone id="outer"><clone id="inner"><primitive id="p" ` + prim + `/></clone></clone>
<group id="g"><primitive id="g1" ` + prim + `/><clone id="gc"><primitive id="gcp" ` + prim + `/></clone></group>
<group id="empty"/>
<clone id="hollow"/>
</resources>`, []string{
			`t.xml:4: error: ` + R + `/clone[@id='outer']/clone[@id='inner']: a clone inside a clone`,
			`t.xml:5: error: ` + R + `/group[@id='g']: member "gc" is a clone; a group holds only primitives`,
			`t.xml:6: error: ` + R + `/group[@id='empty']: group has no members`,
			`t.xml:7: error: ` + R + `/clone[@id='hollow']: clone has no resource`,
		}},

		{"primitives and operations", `<resources>
<primitive id="p1" class="ocf" type="Dummy"/>
<primitive id="p2" class="lsb" provider="heartbeat" type="cron"/>
<primitive id="p3" class="docker" type="x"/>
<primitive id="p4" class="ocf" provider="heartbeat"/>
<primitive id="p5" ` + prim + `><operations>
<op id="p5-m1" name="monitor" interval="10s"/>
<op id="p5-m2" name="monitor" interval="10"/>
<op id="p5-m3" name="monitor" interval="10s" role="Promoted"/>
<op id="p5-m4" name="monitor"/>
<op id="p5-m5" name="monitor" interval="10x" timeout="soon"/>
<op id="p5-m6" name="monitor" interval="1.5s" on-fail="panic"/>
<op id="p5-m7" interval="0" role="Boss"/>
</operations></primitive>
</resources>`, []string{
			`t.xml:4: error: ` + R + `/primitive[@id='p1']: missing attribute provider (class ocf needs one)`,
			`t.xml:5: error: ` + R + `/primitive[@id='p2']: provider "heartbeat" given for class lsb; only ocf agents have providers`,
			`t.xml:6: error: ` + R + `/primitive[@id='p3']: class: "docker" is not one of ocf, lsb, systemd, service, stonith, heartbeat, upstart, nagios`,
			`t.xml:7: error: ` + R + `/primitive[@id='p4']: missing attribute type`,
			`t.xml:10: error: ` + R + `/primitive[@id='p5']/operations/op[@id='p5-m2']: operation monitor with interval 10 duplicates op "p5-m1"; each name and interval (per role) must be unique`,
			`t.xml:12: error: ` + R + `/primitive[@id='p5']/operations/op[@id='p5-m4']: missing attribute interval (0 for a non-recurring operation)`,
			`t.xml:13: error: ` + R + `/primitive[@id='p5']/operations/op[@id='p5-m5']: interval: "10x": unknown unit "x" (use ms, s, min or h, or ISO 8601 such as PT10S)`,
			`t.xml:13: error: ` + R + `/primitive[@id='p5']/operations/op[@id='p5-m5']: timeout: "soon" does not start with a number`,
			`t.xml:14: warning: ` + R + `/primitive[@id='p5']/operations/op[@id='p5-m6']: interval: Pacemaker reads only the integer part of "1.5s", so this is 1s`,
			`t.xml:14: error: ` + R + `/primitive[@id='p5']/operations/op[@id='p5-m6']: on-fail: "panic" is not one of ignore, block, demote, stop, restart, standby, fence, restart-container`,
			`t.xml:15: error: ` + R + `/primitive[@id='p5']/operations/op[@id='p5-m7']: missing attribute name`,
			`t.xml:15: error: ` + R + `/primitive[@id='p5']/operations/op[@id='p5-m7']: role: role "Boss" is not Stopped, Started, Unpromoted or Promoted`,
		}},

		{"meta-attributes", `<resources>
<primitive id="p" ` + prim + `><meta_attributes id="p-m">
<nvpair id="p-m-1" name="target-role" value="Running"/>
<nvpair id="p-m-2" name="is-managed" value="perhaps"/>
<nvpair id="p-m-3" name="migration-threshold" value="3x"/>
<nvpair id="p-m-4" name="failure-timeout" value="5 parsecs"/>
<nvpair id="p-m-5" value="orphan"/>
<nvpair id="p-m-6" name="priority" value="1"/>
<nvpair id="p-m-7" name="priority" value="2"/>
</meta_attributes></primitive>
<clone id="cl"><meta_attributes id="cl-m"><nvpair id="cl-m-1" name="clone-max" value="two"/></meta_attributes>
<primitive id="cp" ` + prim + `/></clone>
</resources>`, []string{
			`t.xml:5: error: ` + R + `/primitive[@id='p']/meta_attributes[@id='p-m']/nvpair[@id='p-m-1']: meta-attribute target-role: role "Running" is not Stopped, Started, Unpromoted or Promoted`,
			`t.xml:6: error: ` + R + `/primitive[@id='p']/meta_attributes[@id='p-m']/nvpair[@id='p-m-2']: meta-attribute is-managed: "perhaps" is not a boolean (true/false, yes/no, on/off, 1/0)`,
			`t.xml:7: error: ` + R + `/primitive[@id='p']/meta_attributes[@id='p-m']/nvpair[@id='p-m-3']: meta-attribute migration-threshold: "3x" is not an integer or [+-]INFINITY`,
			`t.xml:8: error: ` + R + `/primitive[@id='p']/meta_attributes[@id='p-m']/nvpair[@id='p-m-4']: meta-attribute failure-timeout: "5 parsecs": unknown unit "parsecs" (use ms, s, min or h, or ISO 8601 such as PT10S)`,
			`t.xml:9: error: ` + R + `/primitive[@id='p']/meta_attributes[@id='p-m']/nvpair[@id='p-m-5']: missing attribute name`,
			`t.xml:11: warning: ` + R + `/primitive[@id='p']/meta_attributes[@id='p-m']/nvpair[@id='p-m-7']: "priority" is set twice in this set; Pacemaker uses the first`,
			`t.xml:13: error: ` + R + `/clone[@id='cl']/meta_attributes[@id='cl-m']/nvpair[@id='cl-m-1']: meta-attribute clone-max: "two" is not a non-negative integer`,
		}},

		{"rules", abc + `<constraints>
<rsc_location id="l" rsc="a">
<rule id="r-empty" score="1"/>
<rule id="r" score="1" score-attribute="pingd" boolean-op="xor">
<expression id="e1" attribute="x" operation="like" value="1"/>
<expression id="e2" operation="lt" value="1" type="float"/>
<expression id="e3" attribute="x" operation="gt"/>
<date_expression id="d1" operation="gt" start="2030-01-01"/>
<rule id-ref="nowhere"/>
</rule>
</rsc_location>
</constraints>`, []string{
			`t.xml:10: error: ` + C + `/rsc_location[@id='l']/rule[@id='r-empty']: rule has no conditions`,
			`t.xml:11: error: ` + C + `/rsc_location[@id='l']/rule[@id='r']: boolean-op: "xor" is not one of and, or`,
			`t.xml:11: error: ` + C + `/rsc_location[@id='l']/rule[@id='r']: both score and score-attribute; use one`,
			`t.xml:12: error: ` + C + `/rsc_location[@id='l']/rule[@id='r']/expression[@id='e1']: operation: "like" is not one of lt, gt, lte, gte, eq, ne, defined, not_defined`,
			`t.xml:13: error: ` + C + `/rsc_location[@id='l']/rule[@id='r']/expression[@id='e2']: missing attribute attribute`,
			`t.xml:13: error: ` + C + `/rsc_location[@id='l']/rule[@id='r']/expression[@id='e2']: type: "float" is not one of string, integer, number, version`,
			`t.xml:14: warning: ` + C + `/rsc_location[@id='l']/rule[@id='r']/expression[@id='e3']: gt without a value never matches a defined attribute`,
			`t.xml:15: warning: ` + C + `/rsc_location[@id='l']/rule[@id='r']/date_expression[@id='d1']: date rules are kept but hakit cannot evaluate them yet`,
			`t.xml:16: error: ` + C + `/rsc_location[@id='l']/rule[@id='r']/rule: id-ref "nowhere" names no element`,
		}},

		{"promotable clones need OCF agents", `<resources>
<master id="ms"><primitive id="svc" class="systemd" type="nginx"/></master>
<clone id="pc"><meta_attributes id="pc-m"><nvpair id="pc-m-p" name="promotable" value="true"/></meta_attributes>
<group id="pg"><primitive id="pg1" ` + prim + `/><primitive id="pg2" class="lsb" type="cron"/></group></clone>
<clone id="plain"><primitive id="cron" class="lsb" type="cron"/></clone>
</resources>`, []string{
			`t.xml:4: error: ` + R + `/master[@id='ms']: promotable, but "svc" is a systemd agent; only ocf agents can be promoted`,
			`t.xml:6: error: ` + R + `/clone[@id='pc']: promotable, but "pg2" is a lsb agent; only ocf agents can be promoted`,
		}},

		{"versions Pacemaker cannot compare", abc + `<constraints>
<rsc_location id="l" rsc="a"><rule id="r" score="1" boolean-op="or">
<expression id="e1" attribute="#uname" operation="eq" value="node-1" type="version"/>
<expression id="e2" attribute="kernel" operation="lt" value="5.10.0-rc1" type="version"/>
<expression id="e3" attribute="kernel" operation="lt" value="5.10.1" type="version"/>
</rule></rsc_location>
</constraints>`, []string{
			`t.xml:10: warning: ` + C + `/rsc_location[@id='l']/rule[@id='r']/expression[@id='e1']: version "node-1" is not dotted numbers; Pacemaker's version comparison can loop forever on such values (seen with 2.1.5)`,
			`t.xml:11: warning: ` + C + `/rsc_location[@id='l']/rule[@id='r']/expression[@id='e2']: version "5.10.0-rc1" is not dotted numbers; Pacemaker's version comparison can loop forever on such values (seen with 2.1.5)`,
		}},

		{"nodes", `<nodes>
<node id="1" uname="n1"/>
<node id="1" uname="n2"/>
<node id="3" uname="n1" type="robot" score="lots"/>
<node uname="n4"/>
</nodes>`, []string{
			`t.xml:5: error: /cib/configuration/nodes/node[@id='1']: node id "1" is already used by node "n1"`,
			`t.xml:6: error: /cib/configuration/nodes/node[@id='3']: node name "n1" is used twice`,
			`t.xml:6: error: /cib/configuration/nodes/node[@id='3']: type: "robot" is not one of member, ping, remote`,
			`t.xml:6: error: /cib/configuration/nodes/node[@id='3']: score: "lots" is not an integer or [+-]INFINITY`,
			`t.xml:7: error: /cib/configuration/nodes/node: missing attribute id`,
		}},

		{"split brain warning", `<crm_config><cluster_property_set id="cib-bootstrap-options">
<nvpair id="o1" name="stonith-enabled" value="false"/>
<nvpair id="o2" name="no-quorum-policy" value="ignore"/>
</cluster_property_set></crm_config>`, []string{
			`t.xml: warning: /cib/configuration/crm_config: fencing is disabled and no-quorum-policy=ignore: during a partition every side runs every resource (split brain)`,
		}},

		{"new fencing option name", `<crm_config><cluster_property_set id="cib-bootstrap-options">
<nvpair id="o1" name="fencing-enabled" value="true"/>
<nvpair id="o2" name="no-quorum-policy" value="ignore"/>
</cluster_property_set></crm_config>`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := validateDoc(t, tt.body)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestValidateTestdata: the test CIBs have no errors; their warnings are
// the ones expected.
func TestValidateTestdata(t *testing.T) {
	splitBrain := "warning: /cib/configuration/crm_config: fencing is disabled and no-quorum-policy=ignore: during a partition every side runs every resource (split brain)"
	want := map[string][]string{
		"reference.xml":             {"reference.xml: " + splitBrain},
		"reference-reformatted.xml": {"reference-reformatted.xml: " + splitBrain},
		"drbd.xml":                  nil,
		"legacy-master.xml":         nil,
		"failed-history.xml":        nil,
		"kept-verbatim.xml":         {"kept-verbatim.xml:9: warning: /cib/configuration/crm_config/cluster_property_set[@id='weekend-options']/rule[@id='weekend-rule']/date_expression[@id='weekend-date']: date rules are kept but hakit cannot evaluate them yet"},
		"future.xml":                nil,
	}
	for _, file := range testdataFiles(t) {
		name := filepath.Base(file)
		c := mustParse(t, name, readTestdata(t, name))
		var got []string
		for _, p := range c.Validate() {
			got = append(got, p.String())
		}
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no expectation; problems:\n%s", name, strings.Join(got, "\n"))
			continue
		}
		if strings.Join(got, "\n") != strings.Join(w, "\n") {
			t.Errorf("%s problems:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(w, "\n"))
		}
	}
}

func TestValidateWithoutSchema(t *testing.T) {
	c := mustParse(t, "t.xml", []byte("<cib><configuration/></cib>"))
	ps := c.Validate()
	if len(ps) != 1 || ps[0].String() != "t.xml: warning: /cib: no validate-with: Pacemaker would not check this CIB against its schema" {
		t.Errorf("problems %v", ps)
	}
	if ps.Err() != nil {
		t.Error("a warning made Err non-nil")
	}
}

// TestEditCopyValidateSwap is the editing pattern for hactl and the crm
// shell: a change that fails validation never touches the CIB in use.
func TestEditCopyValidateSwap(t *testing.T) {
	live := mustParse(t, "reference.xml", readTestdata(t, "reference.xml"))
	before := mustMarshal(t, live)

	next := live.Clone()
	next.Config.Constraints = append(next.Config.Constraints,
		&Order{ID: "httpd-before-vip", First: "httpd", Then: "vip"}, // closes a cycle with httpd-after-vip
		&Colocation{ID: "vip-with-db", Score: "INFINITY", Rsc: "vip", WithRsc: "db"})
	errs := next.Validate().Errors()
	want := []string{
		`reference.xml:53: error: /cib/configuration/constraints/rsc_order[@id='httpd-after-vip']: mandatory orders form a cycle, so none of these actions can run: vip start → httpd start → vip start (constraints httpd-after-vip, httpd-before-vip)`,
		`reference.xml: error: /cib/configuration/constraints/rsc_colocation[@id='vip-with-db']: with-rsc: no resource has id "db"`,
	}
	var got []string
	for _, p := range errs {
		got = append(got, p.String())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if errs.Err() == nil {
		t.Fatal("Err() is nil with errors")
	}
	if string(mustMarshal(t, live)) != string(before) {
		t.Error("the live CIB changed")
	}
}
