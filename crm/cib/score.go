package cib

import (
	"fmt"
	"strconv"
)

// Score is a Pacemaker preference. Scores are integers bounded by
// ±Infinity; arithmetic saturates there, and a -Infinity on either side
// wins over +Infinity, so that a ban always beats a preference
// (Pacemaker_Explained, "Infinity Math").
type Score int

// Infinity is Pacemaker's INFINITY: 1,000,000.
const Infinity Score = 1_000_000

// ParseScore reads a score as the CIB schema allows it: an integer,
// INFINITY, +INFINITY or -INFINITY (case-sensitive, as in Pacemaker).
// Integers beyond ±1,000,000 are clamped, as Pacemaker clamps them. The
// crm shell's "inf" and the node-health names red, yellow and green are
// not CIB syntax and are rejected.
func ParseScore(s string) (Score, error) {
	switch s {
	case "INFINITY", "+INFINITY":
		return Infinity, nil
	case "-INFINITY":
		return -Infinity, nil
	case "red", "yellow", "green":
		return 0, fmt.Errorf("%s: node-health score names are not supported", quote(s))
	case "":
		return 0, fmt.Errorf("empty score")
	}
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	if body == "" {
		return 0, fmt.Errorf("%s is not an integer or [+-]INFINITY", quote(s))
	}
	for _, r := range body {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%s is not an integer or [+-]INFINITY", quote(s))
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil { // out of int64 range: the sign says which infinity
		if s[0] == '-' {
			return -Infinity, nil
		}
		return Infinity, nil
	}
	return clampScore(v), nil
}

func clampScore(v int64) Score {
	switch {
	case v >= int64(Infinity):
		return Infinity
	case v <= -int64(Infinity):
		return -Infinity
	}
	return Score(v)
}

// Add is saturating addition: -Infinity on either side gives -Infinity,
// then +Infinity on either side gives +Infinity, else the sum clamped.
func (s Score) Add(t Score) Score {
	s, t = s.clamp(), t.clamp()
	switch {
	case s == -Infinity || t == -Infinity:
		return -Infinity
	case s == Infinity || t == Infinity:
		return Infinity
	}
	return clampScore(int64(s) + int64(t))
}

// Sub is s + (-t): "any value (including INFINITY) - INFINITY = -INFINITY".
func (s Score) Sub(t Score) Score { return s.Add(t.clamp().Neg()) }

// Neg negates a score; the bounds are symmetric, so -(-Infinity) = Infinity.
func (s Score) Neg() Score { return -s.clamp() }

// clamp brings a Score built by conversion from a plain int into range.
func (s Score) clamp() Score { return clampScore(int64(s)) }

// String writes the score as the CIB does: INFINITY, -INFINITY or decimal.
func (s Score) String() string {
	switch s = s.clamp(); s {
	case Infinity:
		return "INFINITY"
	case -Infinity:
		return "-INFINITY"
	}
	return strconv.Itoa(int(s))
}

// ParseBool reads a boolean as Pacemaker does (crm_is_true): true, on,
// yes, y, 1 and false, off, no, n, 0, in any case.
func ParseBool(s string) (bool, error) {
	switch lowerASCII(s) {
	case "true", "on", "yes", "y", "1":
		return true, nil
	case "false", "off", "no", "n", "0":
		return false, nil
	}
	return false, fmt.Errorf("%s is not a boolean (true/false, yes/no, on/off, 1/0)", quote(s))
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
