package cib

import (
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
)

const propertySeed = 0xc1b_5eed

func properties(t *testing.T, runs int) *gopter.Properties {
	t.Logf("gopter seed %#x", propertySeed)
	params := gopter.DefaultTestParametersWithSeed(propertySeed)
	params.MinSuccessfulTests = runs
	return gopter.NewProperties(params)
}

func TestParseScore(t *testing.T) {
	tests := []struct {
		in   string
		want Score
		err  string
	}{
		{"0", 0, ""},
		{"100", 100, ""},
		{"-100", -100, ""},
		{"+5", 5, ""},
		{"INFINITY", Infinity, ""},
		{"+INFINITY", Infinity, ""},
		{"-INFINITY", -Infinity, ""},
		{"1000000", Infinity, ""},
		{"2000000", Infinity, ""}, // clamped, as Pacemaker clamps
		{"-99999999999999999999999", -Infinity, ""},
		{"99999999999999999999999", Infinity, ""},
		{"", 0, "empty score"},
		{"inf", 0, `"inf" is not an integer or [+-]INFINITY`},
		{"infinity", 0, `"infinity" is not an integer or [+-]INFINITY`},
		{"-", 0, `"-" is not an integer or [+-]INFINITY`},
		{"1.5", 0, `"1.5" is not an integer or [+-]INFINITY`},
		{" 1", 0, `" 1" is not an integer or [+-]INFINITY`},
		{"red", 0, `"red": node-health score names are not supported`},
	}
	for _, tt := range tests {
		got, err := ParseScore(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseScore(%q) error %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseScore(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestScoreArithmetic pins Pacemaker's rules ("Infinity Math"): a ban
// (-INFINITY) beats everything, +INFINITY beats every finite value, and
// finite sums saturate.
func TestScoreArithmetic(t *testing.T) {
	tests := []struct {
		a, b, sum, diff Score
	}{
		{1, 2, 3, -1},
		{Infinity, -Infinity, -Infinity, Infinity},
		{-Infinity, Infinity, -Infinity, -Infinity},
		{Infinity, Infinity, Infinity, -Infinity}, // "any value - INFINITY = -INFINITY"
		{Infinity, 5, Infinity, Infinity},
		{-Infinity, 5, -Infinity, -Infinity},
		{999_999, 1, Infinity, 999_998},
		{-999_999, -1, -Infinity, -999_998},
		{600_000, 600_000, Infinity, 0},
		{5_000_000, 0, Infinity, Infinity}, // out-of-range values are clamped first
	}
	for _, tt := range tests {
		if got := tt.a.Add(tt.b); got != tt.sum {
			t.Errorf("%v + %v = %v, want %v", tt.a, tt.b, got, tt.sum)
		}
		if got := tt.a.Sub(tt.b); got != tt.diff {
			t.Errorf("%v - %v = %v, want %v", tt.a, tt.b, got, tt.diff)
		}
	}
	for s, want := range map[Score]string{Infinity: "INFINITY", -Infinity: "-INFINITY", 42: "42", -7: "-7", 3 * Infinity: "INFINITY"} {
		if s.String() != want {
			t.Errorf("Score(%d).String() = %q, want %q", int(s), s.String(), want)
		}
	}
}

// TestPropertyScoreAlgebra: Add is commutative, stays in range, has 0 as
// identity on finite scores, and -INFINITY absorbs everything.
func TestPropertyScoreAlgebra(t *testing.T) {
	props := properties(t, 2000)
	score := gen.OneGenOf(
		gen.IntRange(-2*int(Infinity), 2*int(Infinity)),
		gen.OneConstOf(int(Infinity), -int(Infinity), 0, int(Infinity)-1, 1-int(Infinity)),
	).Map(func(v int) Score { return Score(v) })
	props.Property("commutative and bounded", prop.ForAll(func(a, b Score) bool {
		s := a.Add(b)
		return s == b.Add(a) && s >= -Infinity && s <= Infinity
	}, score, score))
	props.Property("-INFINITY absorbs", prop.ForAll(func(a Score) bool {
		return a.Add(-Infinity) == -Infinity && (-Infinity).Add(a) == -Infinity
	}, score))
	props.Property("0 is the identity", prop.ForAll(func(a Score) bool {
		return a.Add(0) == a.clamp()
	}, score))
	props.Property("String parses back", prop.ForAll(func(a Score) bool {
		p, err := ParseScore(a.String())
		return err == nil && p == a.clamp()
	}, score))
	props.TestingRun(t)
}

func TestParseInterval(t *testing.T) {
	tests := []struct {
		in    string
		want  time.Duration
		trunc bool
		err   string
	}{
		{"0", 0, false, ""},
		{"10", 10 * time.Second, false, ""},
		{"10s", 10 * time.Second, false, ""},
		{"10sec", 10 * time.Second, false, ""},
		{" 10 s ", 10 * time.Second, false, ""},
		{"500ms", 500 * time.Millisecond, false, ""},
		{"500msec", 500 * time.Millisecond, false, ""},
		{"1500us", 1500 * time.Microsecond, false, ""},
		{"1min", time.Minute, false, ""},
		{"2m", 2 * time.Minute, false, ""},
		{"2MIN", 2 * time.Minute, false, ""},
		{"1h", time.Hour, false, ""},
		{"3hr", 3 * time.Hour, false, ""},
		{"20 minutes", 20 * time.Minute, false, ""},
		{"1.5s", time.Second, true, ""}, // Pacemaker reads the integer part only
		{"PT10S", 10 * time.Second, false, ""},
		{"PT1M30S", 90 * time.Second, false, ""},
		{"PT0.5S", 500 * time.Millisecond, false, ""},
		{"P1DT2H", 26 * time.Hour, false, ""},
		{"P2W", 14 * 24 * time.Hour, false, ""},
		{"P1M", 30 * 24 * time.Hour, false, ""},
		{"P1Y", 365 * 24 * time.Hour, false, ""},
		{"", 0, false, `"" does not start with a number`},
		{"s", 0, false, `"s" does not start with a number`},
		{"-5s", 0, false, `"-5s" does not start with a number`},
		{"10x", 0, false, `"10x": unknown unit "x" (use ms, s, min or h, or ISO 8601 such as PT10S)`},
		{"10sxyz", 0, false, `"10sxyz": unknown unit "sxyz" (use ms, s, min or h, or ISO 8601 such as PT10S)`},
		{"P", 0, false, `"P" is not an ISO 8601 duration: no fields after P`},
		{"PT", 0, false, `"PT" is not an ISO 8601 duration: no fields after T`},
		{"P1H", 0, false, `"P1H" is not an ISO 8601 duration: unknown designator 'H'`},
		{"PT1S1M", 0, false, `"PT1S1M" is not an ISO 8601 duration: designator 'M' out of order`},
		{"P1.5D", 0, false, `"P1.5D" is not an ISO 8601 duration: bad number "1.5"`},
		{"PT10", 0, false, `"PT10" is not an ISO 8601 duration: expected a number followed by a designator`},
		{"99999999999999999999h", 0, false, `"99999999999999999999h" is too long`},
		{"9999999999h", 0, false, `"9999999999h" is too long`},
	}
	for _, tt := range tests {
		got, trunc, err := ParseInterval(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseInterval(%q) error %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want || trunc != tt.trunc {
			t.Errorf("ParseInterval(%q) = %v, %v, %v; want %v, %v", tt.in, got, trunc, err, tt.want, tt.trunc)
		}
	}
}

func TestParseBool(t *testing.T) {
	for _, s := range []string{"true", "TRUE", "on", "yes", "Y", "1"} {
		if b, err := ParseBool(s); err != nil || !b {
			t.Errorf("ParseBool(%q) = %v, %v", s, b, err)
		}
	}
	for _, s := range []string{"false", "Off", "no", "n", "0"} {
		if b, err := ParseBool(s); err != nil || b {
			t.Errorf("ParseBool(%q) = %v, %v", s, b, err)
		}
	}
	if _, err := ParseBool("maybe"); err == nil || err.Error() != `"maybe" is not a boolean (true/false, yes/no, on/off, 1/0)` {
		t.Errorf("ParseBool(maybe) error %v", err)
	}
}

func TestOpValues(t *testing.T) {
	o := Op{ID: "m", Interval: "PT10S", Timeout: "1min"}
	if d, err := o.IntervalValue(); err != nil || d != 10*time.Second {
		t.Errorf("interval %v, %v", d, err)
	}
	if d, err := o.TimeoutValue(20 * time.Second); err != nil || d != time.Minute {
		t.Errorf("timeout %v, %v", d, err)
	}
	o = Op{ID: "m", Timeout: "x"}
	if d, err := o.IntervalValue(); err != nil || d != 0 {
		t.Errorf("absent interval %v, %v", d, err)
	}
	if _, err := o.TimeoutValue(0); err == nil || err.Error() != `op "m": timeout: "x" does not start with a number` {
		t.Errorf("timeout error %v", err)
	}
}
