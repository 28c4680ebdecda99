package cib

import (
	"errors"
	"testing"
	"time"
)

func expr(attr, op, value, typ string) *Expression {
	return &Expression{ID: "e", Attribute: attr, Operation: op, Value: value, Type: typ}
}

func rule(op string, cs ...Condition) *Rule {
	return &Rule{ID: "r", BooleanOp: op, Conditions: cs}
}

// TestEvalExpressions pins Pacemaker's comparison semantics
// (pcmk__evaluate_attr_expression, pcmk__cmp_by_type).
func TestEvalExpressions(t *testing.T) {
	tests := []struct {
		name  string
		e     *Expression
		attrs map[string]string
		want  bool
	}{
		{"defined", expr("pingd", "defined", "", ""), map[string]string{"pingd": ""}, true},
		{"not defined", expr("pingd", "not_defined", "", ""), nil, true},
		{"defined, absent", expr("pingd", "defined", "", ""), nil, false},
		{"string eq folds case", expr("#uname", "eq", "VM-Node1", ""), map[string]string{"#uname": "vm-node1"}, true},
		{"string ne", expr("#uname", "ne", "vm-node2", ""), map[string]string{"#uname": "vm-node1"}, true},
		{"eq with absent attribute", expr("rack", "eq", "r1", ""), nil, false},
		{"ne with absent attribute", expr("rack", "ne", "r1", ""), nil, true},
		{"lt with absent attribute", expr("pingd", "lt", "1", ""), nil, false},
		{"gt with absent attribute", expr("pingd", "gt", "1", ""), nil, false},
		{"empty value counts as absent: eq", expr("x", "eq", "", ""), map[string]string{"x": ""}, false},
		{"empty value counts as absent: ne", expr("x", "ne", "", "string"), map[string]string{"x": "a"}, true},
		{"empty value, lte never", expr("x", "lte", "", "integer"), map[string]string{"x": "1"}, false},

		// Default types: integer for orderings, number if a '.' appears.
		{"default integer: 9 < 10", expr("n", "lt", "10", ""), map[string]string{"n": "9"}, true},
		{"explicit string: 9 > 10", expr("n", "lt", "10", "string"), map[string]string{"n": "9"}, false},
		{"default number: 2.5 > 2.25", expr("n", "gt", "2.25", ""), map[string]string{"n": "2.5"}, true},
		{"integer truncates 3.7 to 3", expr("n", "eq", "3", "integer"), map[string]string{"n": "3.7"}, true},
		{"integer: leading space and sign", expr("n", "lt", "-1", "integer"), map[string]string{"n": " -5"}, true},
		{"number: exponent", expr("n", "gt", "999", "number"), map[string]string{"n": "1e3"}, true},
		{"number: eq across forms", expr("n", "eq", "1.0", "number"), map[string]string{"n": "1"}, true},
		{"default eq is string: 1.0 != 1", expr("n", "eq", "1.0", ""), map[string]string{"n": "1"}, false},
		{"unparsable integer compares as string", expr("pingd", "lte", "0", ""), map[string]string{"pingd": "abc"}, false},
		{"unparsable integer, string order", expr("n", "lt", "b", "integer"), map[string]string{"n": "a"}, true},
		{"integer overflow compares as string", expr("n", "gt", "5", "integer"), map[string]string{"n": "99999999999999999999"}, true},
		{"number: NaN compares equal, as in Pacemaker", expr("n", "eq", "5", "number"), map[string]string{"n": "nan"}, true},

		// Versions: numeric parts, missing parts are 0.
		{"version 5.9 < 5.10", expr("kernel", "lt", "5.10", "version"), map[string]string{"kernel": "5.9"}, true},
		{"version string order would say no", expr("kernel", "lt", "5.10", "string"), map[string]string{"kernel": "5.9"}, false},
		{"version 1.0 == 1", expr("v", "eq", "1", "version"), map[string]string{"v": "1.0"}, true},
		{"version 2.1.7 >= 2.1.5", expr("v", "gte", "2.1.5", "version"), map[string]string{"v": "2.1.7"}, true},
		{"version suffix ignored", expr("v", "eq", "6.1", "version"), map[string]string{"v": "6.1-rc2"}, true},
		{"version 1..2 is 1.0.2", expr("v", "eq", "1.0.2", "version"), map[string]string{"v": "1..2"}, true},

		{"gte equal", expr("n", "gte", "3", ""), map[string]string{"n": "3"}, true},
		{"lte equal", expr("n", "lte", "3", ""), map[string]string{"n": "3"}, true},
		{"operation case folds", expr("n", "GT", "3", "INTEGER"), map[string]string{"n": "4"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rule("", tt.e).Eval(tt.attrs)
			if err != nil || got != tt.want {
				t.Errorf("= %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// TestEvalPingdRule is DESIGN.md §1's rule: location vip-needs-gateway vip
// rule -inf: not_defined pingd or pingd lte 0.
func TestEvalPingdRule(t *testing.T) {
	c := mustParse(t, "reference.xml", readTestdata(t, "reference.xml"))
	loc := c.Config.Constraints[3].(*Location)
	r := &loc.Rules[0]
	if s, err := r.ScoreValue(); err != nil || s != -Infinity {
		t.Fatalf("score %v, %v", s, err)
	}
	for _, tt := range []struct {
		pingd string // "-" for not defined
		match bool
	}{{"-", true}, {"0", true}, {"-1000", true}, {"1000", false}, {"1", false}, {"00", true}} {
		attrs := map[string]string{"#uname": "vm-node1"}
		if tt.pingd != "-" {
			attrs["pingd"] = tt.pingd
		}
		if got, err := r.Eval(attrs); err != nil || got != tt.match {
			t.Errorf("pingd=%s: %v, %v; want %v", tt.pingd, got, err, tt.match)
		}
	}
	// The attributes come from the status section.
	for node, want := range map[string]bool{"vm-node1": false, "vm-node2": false} {
		if got, err := r.Eval(c.NodeAttrs(node)); err != nil || got != want {
			t.Errorf("%s from status: %v, %v", node, got, err)
		}
	}
}

func TestEvalRules(t *testing.T) {
	yes := expr("a", "defined", "", "")
	no := expr("z", "defined", "", "")
	date := &RawCondition{Raw: &Raw{Name: "date_expression", Attrs: []Attr{{"id", "d"}}}}
	attrs := map[string]string{"a": "1", "#uname": "n1", "p": "5"}
	tests := []struct {
		name string
		r    *Rule
		in   RuleInput
		want bool
		err  string
	}{
		{"and", rule("and", yes, yes), RuleInput{}, true, ""},
		{"and, one false", rule("", yes, no), RuleInput{}, false, ""},
		{"or", rule("or", no, yes), RuleInput{}, true, ""},
		{"or, all false", rule("or", no, no), RuleInput{}, false, ""},
		{"empty and is true", rule("and"), RuleInput{}, true, ""},
		{"empty or is false", rule("or"), RuleInput{}, false, ""},
		{"nested", rule("and", yes, rule("or", no, expr("#uname", "eq", "n1", ""))), RuleInput{}, true, ""},
		{"or short-circuits before a date", rule("or", yes, date), RuleInput{}, true, ""},
		{"and short-circuits before a date", rule("and", no, date), RuleInput{}, false, ""},
		{"date reached", rule("and", yes, date), RuleInput{}, false, `date_expression "d": date rules not supported`},
		{"value-source param", rule("", &Expression{ID: "e", Attribute: "p", Operation: "eq", Value: "port", ValueSource: "param"}),
			RuleInput{RscParams: map[string]string{"port": "5"}}, true, ""},
		{"value-source meta, missing", rule("", &Expression{ID: "e", Attribute: "p", Operation: "eq", Value: "port", ValueSource: "meta"}),
			RuleInput{}, false, ""},
		{"rsc_expression", rule("", &RscExpression{ID: "x", Class: "ocf", Provider: "heartbeat"}),
			RuleInput{RscClass: "ocf", RscProvider: "heartbeat", RscType: "IPaddr2"}, true, ""},
		{"rsc_expression, other provider", rule("", &RscExpression{ID: "x", Class: "ocf", Provider: "pacemaker"}),
			RuleInput{RscClass: "ocf", RscProvider: "heartbeat"}, false, ""},
		{"op_expression", rule("", &OpExpression{ID: "x", Name: "monitor", Interval: "10s"}),
			RuleInput{OpName: "monitor", OpInterval: 10 * time.Second}, true, ""},
		{"op_expression, other interval", rule("", &OpExpression{ID: "x", Name: "monitor", Interval: "10s"}),
			RuleInput{OpName: "monitor", OpInterval: 20 * time.Second}, false, ""},
		{"op_expression, any interval", rule("", &OpExpression{ID: "x", Name: "monitor"}),
			RuleInput{OpName: "monitor", OpInterval: 20 * time.Second}, true, ""},
		{"bad boolean-op", rule("xor", yes), RuleInput{}, false, `rule "r": boolean-op "xor" is not and/or`},
		{"bad operation", rule("", expr("a", "like", "1", "")), RuleInput{}, false,
			`expression "e": operation "like" is not one of lt, gt, lte, gte, eq, ne, defined, not_defined`},
		{"bad type", rule("", expr("a", "eq", "1", "float")), RuleInput{}, false,
			`expression "e": type "float" is not string, integer, number or version`},
		{"no attribute", rule("", expr("", "eq", "1", "")), RuleInput{}, false, `expression "e" has no attribute`},
		{"id-ref", &Rule{IDRef: "other"}, RuleInput{}, false, `rule id-ref "other" must be resolved before evaluation`},
		{"unknown condition", rule("", &RawCondition{Raw: &Raw{Name: "moon_expression"}}), RuleInput{}, false,
			"unsupported rule condition <moon_expression>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if in.NodeAttrs == nil {
				in.NodeAttrs = attrs
			}
			got, err := tt.r.EvalWith(in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %s", err, tt.err)
				}
				if got {
					t.Error("an error came with true")
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("= %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	_, err := rule("", yes, date).Eval(attrs)
	if !errors.Is(err, ErrDateRule) {
		t.Errorf("date error %v does not wrap ErrDateRule", err)
	}
}
