package cib

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrDateRule is returned when evaluation reaches a date_expression: time
// is an input hakit's core does not read, and date rules are not
// implemented yet. They are still kept and exported unchanged.
var ErrDateRule = errors.New("date rules not supported")

// RuleInput is what a rule can test. Everything is supplied by the caller;
// nothing is looked up, so evaluation is a pure function.
type RuleInput struct {
	// NodeAttrs are the node's attributes, including the built-in ones the
	// caller knows: #uname, #id, #kind ("cluster", "remote", "container"),
	// #is_dc, #cluster-name, #site-name. CIB.NodeAttrs builds this map.
	NodeAttrs map[string]string
	// RscParams and RscMeta are the resource's parameters and
	// meta-attributes, for expressions with value-source param or meta.
	RscParams map[string]string
	RscMeta   map[string]string
	// RscClass, RscProvider and RscType are matched by rsc_expression.
	RscClass, RscProvider, RscType string
	// OpName and OpInterval are matched by op_expression.
	OpName     string
	OpInterval time.Duration
}

// Eval reports whether the rule matches a node with the given attributes.
// It is EvalWith with only NodeAttrs set.
func (r *Rule) Eval(attrs map[string]string) (bool, error) {
	return r.EvalWith(RuleInput{NodeAttrs: attrs})
}

// EvalWith evaluates the rule as Pacemaker's pcmk_evaluate_rule does:
//
//   - conditions are evaluated in order; "and" (the default) stops at the
//     first false, "or" at the first true;
//   - a rule with no conditions is true under "and", false under "or";
//   - expression: defined and not_defined test presence; for the
//     comparisons, a missing node attribute sorts below any value (so "ne"
//     is true and "lt" is false), an empty reference value counts as
//     missing, strings compare case-insensitively;
//   - the type defaults to integer for lt/gt/lte/gte (number if either
//     value contains a '.'), to string otherwise; "integer" reads a 64-bit
//     integer prefix ("3.7" is 3), "number" a float; when either value does
//     not read as the type, the two are compared as strings (Pacemaker
//     logs "Comparing ... as strings because invalid as integers");
//   - "version" compares dot-separated numeric parts, missing parts as 0
//     ("1.0" equals "1");
//   - rsc_expression and op_expression match the RuleInput's resource and
//     operation.
//
// It returns an error, and false, for what Validate would also reject (an
// unknown operation, type or boolean-op, an id-ref, which must be resolved
// by the caller) and ErrDateRule when a date_expression is reached; a
// short-circuit that skips a date_expression gives an exact answer with no
// error.
func (r *Rule) EvalWith(in RuleInput) (bool, error) {
	return r.eval(&in, 0)
}

func (r *Rule) eval(in *RuleInput, depth int) (bool, error) {
	if depth > maxDepth {
		return false, fmt.Errorf("rule %s: nested deeper than %d", quote(r.ID), maxDepth)
	}
	if r.IDRef != "" {
		return false, fmt.Errorf("rule id-ref %s must be resolved before evaluation", quote(r.IDRef))
	}
	var or bool
	switch lowerASCII(r.BooleanOp) {
	case "", "and":
	case "or":
		or = true
	default:
		return false, fmt.Errorf("rule %s: boolean-op %s is not and/or", quote(r.ID), quote(r.BooleanOp))
	}
	for _, c := range r.Conditions {
		ok, err := evalCondition(c, in, depth)
		if err != nil {
			return false, err
		}
		if ok == or {
			return or, nil // "or" found a true, or "and" found a false
		}
	}
	return !or, nil
}

func evalCondition(c Condition, in *RuleInput, depth int) (bool, error) {
	switch c := c.(type) {
	case *Rule:
		return c.eval(in, depth+1)
	case *Expression:
		return c.eval(in)
	case *RscExpression:
		return (c.Class == "" || c.Class == in.RscClass) &&
			(c.Provider == "" || c.Provider == in.RscProvider) &&
			(c.Type == "" || c.Type == in.RscType), nil
	case *OpExpression:
		if c.Name == "" {
			return false, fmt.Errorf("op_expression %s has no name", quote(c.ID))
		}
		if c.Name != in.OpName {
			return false, nil
		}
		if c.Interval == "" {
			return true, nil // no interval matches every interval
		}
		iv, _, err := ParseInterval(c.Interval)
		if err != nil {
			return false, fmt.Errorf("op_expression %s: %w", quote(c.ID), err)
		}
		return iv.Truncate(time.Millisecond) == in.OpInterval.Truncate(time.Millisecond), nil
	case *RawCondition:
		if c.Raw != nil && c.Raw.Name == "date_expression" {
			return false, fmt.Errorf("date_expression %s: %w", quote(c.Raw.ID()), ErrDateRule)
		}
		if c.Raw != nil {
			return false, fmt.Errorf("unsupported rule condition <%s>", c.Raw.Name)
		}
	}
	return false, fmt.Errorf("rule condition of type %T cannot be evaluated", c)
}

// valueType is how an expression compares its two values.
type valueType int

const (
	typeString valueType = iota
	typeInteger
	typeNumber
	typeVersion
)

func (e *Expression) eval(in *RuleInput) (bool, error) {
	if e.Attribute == "" {
		return false, fmt.Errorf("expression %s has no attribute", quote(e.ID))
	}
	op := lowerASCII(e.Operation)
	switch op {
	case "defined", "not_defined", "eq", "ne", "lt", "lte", "gt", "gte":
	default:
		return false, fmt.Errorf("expression %s: operation %s is not one of lt, gt, lte, gte, eq, ne, defined, not_defined", quote(e.ID), quote(e.Operation))
	}
	actual, hasActual := in.NodeAttrs[e.Attribute]
	switch op {
	case "defined":
		return hasActual, nil
	case "not_defined":
		return !hasActual, nil
	}

	ref, hasRef := e.Value, e.Value != ""
	switch lowerASCII(e.ValueSource) {
	case "", "literal":
	case "param":
		ref, hasRef = lookupNonEmpty(in.RscParams, e.Value)
	case "meta":
		ref, hasRef = lookupNonEmpty(in.RscMeta, e.Value)
	default:
		return false, fmt.Errorf("expression %s: value-source %s is not literal, param or meta", quote(e.ID), quote(e.ValueSource))
	}

	var typ valueType
	switch lowerASCII(e.Type) {
	case "":
		typ = typeString
		if op == "lt" || op == "lte" || op == "gt" || op == "gte" {
			typ = typeInteger
			if strings.Contains(actual, ".") || strings.Contains(ref, ".") {
				typ = typeNumber
			}
		}
	case "string":
		typ = typeString
	case "integer":
		typ = typeInteger
	case "number":
		typ = typeNumber
	case "version":
		typ = typeVersion
	default:
		return false, fmt.Errorf("expression %s: type %s is not string, integer, number or version", quote(e.ID), quote(e.Type))
	}

	var cmp int
	switch {
	case !hasActual && !hasRef:
		cmp = 0
	case !hasActual:
		cmp = -1 // a missing value sorts first
	case !hasRef:
		cmp = 1
	default:
		cmp = compareAs(actual, ref, typ)
	}
	switch op {
	case "eq":
		return cmp == 0, nil
	case "ne":
		return cmp != 0, nil
	}
	if !hasActual || !hasRef {
		return false, nil // an ordering with a missing side is meaningless
	}
	switch op {
	case "lt":
		return cmp < 0, nil
	case "lte":
		return cmp <= 0, nil
	case "gt":
		return cmp > 0, nil
	default: // gte
		return cmp >= 0, nil
	}
}

// lookupNonEmpty treats an empty name or value as missing, as Pacemaker
// does for reference values.
func lookupNonEmpty(m map[string]string, name string) (string, bool) {
	if name == "" {
		return "", false
	}
	v, ok := m[name]
	return v, ok && v != ""
}

func compareAs(a, b string, typ valueType) int {
	switch typ {
	case typeInteger:
		x, okx := scanInt(a)
		y, oky := scanInt(b)
		if okx && oky {
			return cmp3(x < y, x > y)
		}
	case typeNumber:
		x, okx := scanFloat(a)
		y, oky := scanFloat(b)
		if okx && oky {
			return cmp3(x < y, x > y)
		}
	case typeVersion:
		return compareVersion(a, b)
	}
	return compareFold(a, b)
}

func cmp3(less, greater bool) int {
	switch {
	case less:
		return -1
	case greater:
		return 1
	}
	return 0
}

// compareFold is strcasecmp: bytes compared after ASCII lowering.
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := lowerByte(a[i]), lowerByte(b[i])
		if x != y {
			return cmp3(x < y, x > y)
		}
	}
	return cmp3(len(a) < len(b), len(a) > len(b))
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// scanInt reads an integer prefix the way strtoll does: leading space, an
// optional sign, digits; trailing text is ignored. It fails with no digits
// or on overflow.
func scanInt(s string) (int64, bool) {
	s = strings.TrimLeft(s, " \t\n\r\f\v")
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return 0, false
	}
	v, err := strconv.ParseInt(s[:j], 10, 64)
	return v, err == nil
}

// scanFloat reads a decimal floating-point prefix the way strtod does,
// including inf and nan. It fails with no digits, on overflow, and on
// underflow to a subnormal, as Pacemaker's pcmk__scan_double does.
func scanFloat(s string) (float64, bool) {
	s = strings.TrimLeft(s, " \t\n\r\f\v")
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	low := lowerASCII(s[i:])
	for _, word := range []string{"infinity", "inf", "nan"} {
		if strings.HasPrefix(low, word) {
			v, _ := strconv.ParseFloat(s[:i]+word, 64)
			return v, true
		}
	}
	j, digits := i, 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j, digits = j+1, digits+1
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j, digits = j+1, digits+1
		}
	}
	if digits == 0 {
		return 0, false
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && s[k] >= '0' && s[k] <= '9' {
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			j = k
		}
	}
	v, err := strconv.ParseFloat(s[:j], 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	if v != 0 && math.Abs(v) < 0x1p-1022 {
		return 0, false
	}
	return v, true
}

// compareVersion compares dot-separated versions part by part, each part
// read as a leading integer (0 when it has none), missing parts as 0, as
// Pacemaker's compare_version does.
func compareVersion(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(pa), len(pb)) {
		var x, y int64
		if i < len(pa) {
			x, _ = scanInt(pa[i])
		}
		if i < len(pb) {
			y, _ = scanInt(pb[i])
		}
		if c := cmp3(x < y, x > y); c != 0 {
			return c
		}
	}
	return 0
}
