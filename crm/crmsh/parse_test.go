package crmsh

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in   string
		want Command
	}{
		{"primitive vip ocf:heartbeat:IPaddr2 params ip=10.0.0.1 op monitor interval=10s",
			&Primitive{Pos: Pos{1, 1}, ID: "vip", IDPos: Pos{1, 11}, Class: "ocf", Provider: "heartbeat", Type: "IPaddr2",
				Params: []Pair{{"ip", "10.0.0.1", Pos{1, 44}}},
				Ops:    []OpSpec{{Name: "monitor", Pos: Pos{1, 59}, Attrs: []Pair{{"interval", "10s", Pos{1, 67}}}}}}},
		{"primitive f stonith:fence_xvm", &Primitive{Pos: Pos{1, 1}, ID: "f", IDPos: Pos{1, 11}, Class: "stonith", Type: "fence_xvm"}},
		{"primitive web systemd:apache meta target-role=Stopped", &Primitive{Pos: Pos{1, 1}, ID: "web", IDPos: Pos{1, 11}, Class: "systemd", Type: "apache",
			Meta: []Pair{{"target-role", "Stopped", Pos{1, 35}}}}},
		{"primitive d Dummy fake=1", &Primitive{Pos: Pos{1, 1}, ID: "d", IDPos: Pos{1, 11}, Class: "ocf", Provider: "heartbeat", Type: "Dummy",
			Params: []Pair{{"fake", "1", Pos{1, 19}}}}},
		{`primitive d ocf:Dummy params "a b"="c d" e=`, &Primitive{Pos: Pos{1, 1}, ID: "d", IDPos: Pos{1, 11}, Class: "ocf", Provider: "heartbeat", Type: "Dummy",
			Params: []Pair{{"a b", "c d", Pos{1, 30}}, {"e", "", Pos{1, 42}}}}},
		{"group g a b meta target-role=Started", &Group{Pos: Pos{1, 1}, ID: "g", IDPos: Pos{1, 7},
			Children: []Ref{{"a", Pos{1, 9}}, {"b", Pos{1, 11}}}, Meta: []Pair{{"target-role", "Started", Pos{1, 18}}}}},
		{"ms ms-drbd drbd meta promoted-max=1", &Clone{Pos: Pos{1, 1}, ID: "ms-drbd", IDPos: Pos{1, 4}, Master: true,
			Child: Ref{"drbd", Pos{1, 12}}, Meta: []Pair{{"promoted-max", "1", Pos{1, 22}}}}},
		{"location l vip 100: vm-node1", &Location{Pos: Pos{1, 1}, ID: "l", IDPos: Pos{1, 10}, Rsc: Ref{"vip", Pos{1, 12}}, Score: "100", Node: "vm-node1"}},
		{"location l vip -inf : n1", &Location{Pos: Pos{1, 1}, ID: "l", IDPos: Pos{1, 10}, Rsc: Ref{"vip", Pos{1, 12}}, Score: "-INFINITY", Node: "n1"}},
		{"location l vip role=Promoted rule $id=r1 inf: #uname eq n1 rule pingd: defined pingd resource-discovery=never",
			&Location{Pos: Pos{1, 1}, ID: "l", IDPos: Pos{1, 10}, Rsc: Ref{"vip", Pos{1, 12}}, Role: "Promoted", ResourceDiscovery: "never",
				Rules: []RuleSpec{
					{ID: "r1", Score: "INFINITY", Exprs: []ExprSpec{{Attribute: "#uname", Operation: "eq", Value: "n1"}}},
					{ScoreAttribute: "pingd", Exprs: []ExprSpec{{Attribute: "pingd", Operation: "defined"}}}}}},
		{"location l vip rule -inf: a number:gt 1.5 and b lte integer:3",
			&Location{Pos: Pos{1, 1}, ID: "l", IDPos: Pos{1, 10}, Rsc: Ref{"vip", Pos{1, 12}},
				Rules: []RuleSpec{{Score: "-INFINITY", BooleanOp: "and", Exprs: []ExprSpec{
					{Attribute: "a", Operation: "gt", Value: "1.5", Type: "number"},
					{Attribute: "b", Operation: "lte", Value: "3", Type: "integer"}}}}}},
		{"colocation c inf: a:Promoted b", &Colocation{Pos: Pos{1, 1}, ID: "c", IDPos: Pos{1, 12}, Score: "INFINITY",
			Rsc: Ref{"a", Pos{1, 19}}, RscRole: "Promoted", WithRsc: Ref{"b", Pos{1, 30}}}},
		{"colocation c -100: a b c", &Colocation{Pos: Pos{1, 1}, ID: "c", IDPos: Pos{1, 12}, Score: "-100",
			Sets: []SetSpec{{Resources: []Ref{{"a", Pos{1, 20}}, {"b", Pos{1, 22}}, {"c", Pos{1, 24}}}}}}},
		{"order o Serialize: a b symmetrical=false", &Order{Pos: Pos{1, 1}, ID: "o", IDPos: Pos{1, 7}, Kind: "Serialize",
			First: Ref{"a", Pos{1, 20}}, Then: Ref{"b", Pos{1, 22}}, Symmetrical: "false"}},
		{"order o inf: a:promote b:start", &Order{Pos: Pos{1, 1}, ID: "o", IDPos: Pos{1, 7}, Kind: "Mandatory",
			First: Ref{"a", Pos{1, 14}}, FirstAction: "promote", Then: Ref{"b", Pos{1, 24}}, ThenAction: "start"}},
		{"order o 0: a b", &Order{Pos: Pos{1, 1}, ID: "o", IDPos: Pos{1, 7}, Kind: "Optional",
			First: Ref{"a", Pos{1, 12}}, Then: Ref{"b", Pos{1, 14}}}},
		{"order o a ( b c ) [ d ]", &Order{Pos: Pos{1, 1}, ID: "o", IDPos: Pos{1, 7}, Sets: []SetSpec{
			{Resources: []Ref{{"a", Pos{1, 9}}}},
			{Resources: []Ref{{"b", Pos{1, 13}}, {"c", Pos{1, 15}}}, Sequential: "false"},
			{Resources: []Ref{{"d", Pos{1, 21}}}, Sequential: "false", RequireAll: "false"}}}},
		{"property cib-bootstrap-options: stonith-enabled=false", &Property{Pos: Pos{1, 1}, SetID: "cib-bootstrap-options",
			Pairs: []Pair{{"stonith-enabled", "false", Pos{1, 33}}}}},
		{"crm configure rsc_defaults resource-stickiness=100", &Property{Pos: Pos{1, 15}, Section: RscDefaults,
			Pairs: []Pair{{"resource-stickiness", "100", Pos{1, 28}}}}},
		{"op_defaults $id=od timeout=30s", &Property{Pos: Pos{1, 1}, Section: OpDefaults, SetID: "od",
			Pairs: []Pair{{"timeout", "30s", Pos{1, 20}}}}},
		{"delete a b", &Delete{Pos: Pos{1, 1}, IDs: []Ref{{"a", Pos{1, 8}}, {"b", Pos{1, 10}}}}},
		{"# a comment\n  # another\nconfigure erase", &Erase{Pos: Pos{3, 11}}},
		{"show vip", &ShowCmd{Pos: Pos{1, 1}, IDs: []Ref{{"vip", Pos{1, 6}}}}},
		{"primitive d Dummy \\\n  op monitor interval=5s", &Primitive{Pos: Pos{1, 1}, ID: "d", IDPos: Pos{1, 11}, Class: "ocf", Provider: "heartbeat", Type: "Dummy",
			Ops: []OpSpec{{Name: "monitor", Pos: Pos{2, 6}, Attrs: []Pair{{"interval", "5s", Pos{2, 14}}}}}}},
	}
	for _, tt := range tests {
		cmds, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if len(cmds) != 1 || !reflect.DeepEqual(cmds[0], tt.want) {
			t.Errorf("Parse(%q):\n got %#v\nwant %#v", tt.in, cmds[0], tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want, token string }{
		{"location preferred-node vip node1", `line 1, column 29: expected SCORE: before "node1"`, "node1"},
		{"location l vip 100 n1", `line 1, column 16: missing ':' after score "100"`, "100"},
		{"location l vip 100:", `line 1, column 20: expected a node name at end of line`, ""},
		{"location l vip abc: n1", `line 1, column 16: bad score "abc": expected an integer, inf, -inf or INFINITY`, "abc:"},
		{"location l vip rule-inf:not_defined pingd", `line 1, column 16: expected SCORE: before "rule-inf:not_defined"`, "rule-inf:not_defined"},
		{"location l vip rule -inf: a lte", `line 1, column 32: expected a value after lte at end of line`, ""},
		{"location l vip rule -inf: a le 0", `line 1, column 29: expected an operator (lt, gt, lte, gte, eq, ne) before "le"`, "le"},
		{"location l vip rule -inf: a eq 1 or b eq 2 and c eq 3", `line 1, column 44: cannot mix and with or in one rule: use several rules`, "and"},
		{"location l vip rule -inf: date gt 2020", `line 1, column 27: date expressions are not supported`, "date"},
		{"frobnicate x", `line 1, column 1: unknown command "frobnicate": expected primitive, group, clone, ms, location, colocation, order, property, rsc_defaults, op_defaults, delete, erase or show`, "frobnicate"},
		{"primitive $RES Dummy", `line 1, column 11: "$RES" is not a valid id (a letter or _, then letters, digits, _, - or .)`, "$RES"},
		{"primitive", `line 1, column 10: expected a resource id at end of line`, ""},
		{"primitive p", `line 1, column 12: expected an agent (class:provider:type) at end of line`, ""},
		{"primitive p ocf::Dummy", `line 1, column 13: bad agent "ocf::Dummy": expected class:provider:type, class:type or type`, "ocf::Dummy"},
		{"primitive p Dummy op", `line 1, column 21: expected an operation name after op at end of line`, ""},
		{"primitive p Dummy params", `line 1, column 25: expected name=value after params at end of line`, ""},
		{"primitive p Dummy params a=1 monitor", `line 1, column 30: expected params, meta, utilization or op before "monitor"`, "monitor"},
		{"primitive p Dummy params =1", `line 1, column 26: missing name before '=' in "=1"`, "=1"},
		{`primitive p Dummy params a="1`, `line 1, column 28: unterminated quote in "a=\"1"`, `a="1`},
		{"group g", `line 1, column 8: expected at least one resource in group at end of line`, ""},
		{"group g a b meta", `line 1, column 17: expected name=value after meta at end of line`, ""},
		{"clone c", `line 1, column 8: expected the resource to clone at end of line`, ""},
		{"clone c p extra", `line 1, column 11: expected meta or params before "extra"`, "extra"},
		{"colocation c inf: a", `line 1, column 20: expected two resources at end of line`, ""},
		{"colocation c a b", `line 1, column 14: expected SCORE: before "a"`, "a"},
		{"colocation c inf: a ( b", `line 1, column 24: expected ")" at end of line`, ""},
		{"colocation c inf: a b x=1", `line 1, column 23: expected end of line or node-attribute= before "x=1"`, "x=1"},
		{"order o sometimes: a b", `line 1, column 9: bad kind "sometimes": expected Mandatory, Optional, Serialize or a score`, "sometimes:"},
		{"order o Mandatory: a: b", `line 1, column 20: missing role or action after ':' in "a:"`, "a:"},
		{"property", `line 1, column 9: expected name=value at end of line`, ""},
		{"property a=1 b", `line 1, column 14: expected name=value before "b"`, "b"},
		{"erase now", `line 1, column 7: unexpected "now": erase takes no arguments`, "now"},
		{"delete", `line 1, column 7: expected an id to delete at end of line`, ""},
		{"property a=1\nprimitive p Dummy \\\n  op monitor interval=10s timeout\n", `line 3, column 27: expected params, meta, utilization or op before "timeout"`, "timeout"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q): no error, want %s", tt.in, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%q):\n got %s\nwant %s", tt.in, err, tt.want)
		}
		if e, ok := err.(*Error); !ok || e.Token != tt.token {
			t.Errorf("Parse(%q): token %q, want %q", tt.in, e.Token, tt.token)
		}
	}
}

// TestSeedMangled: the seed's lines as printed, where its text lost
// spaces, are rejected with the place named.
func TestSeedMangled(t *testing.T) {
	for _, in := range []string{
		`primitive vip ocf:heartbeat:IPaddr2 params ip= cidr_netmask=24nic="bond1"op monitor interval="10s"`,
		`location vip-needs-gateway vip rule-inf:not_defined pingd or pingd lte 0`,
	} {
		_, err := Parse(in)
		if err == nil || !strings.HasPrefix(err.Error(), "line 1, column ") {
			t.Errorf("Parse(%q) = %v, want a positioned error", in, err)
		}
		t.Logf("%s\n  -> %v", in, err)
	}
}
