package cib

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// ParseInterval reads an operation interval or timeout in Pacemaker's
// syntax (pcmk_parse_interval_spec):
//
//   - a number of seconds: "10";
//   - a number and a unit, with optional spaces around the number: "10s",
//     "500ms", "1min", "2h", " 10 s"; units are us/usec, ms/msec, s/sec,
//     m/min, h/hr (also written out: seconds, minutes, hours), in any case;
//   - an ISO 8601 duration: "PT10S", "P1DT2H", "P2W".
//
// Pacemaker reads only the integer part of a decimal ("1.5s" is one second)
// and so does ParseInterval; it reports that through truncated, so that
// Validate can warn. Where Pacemaker is looser than this (it accepts any
// unit that starts with a known one, "10sxyz", and silently uses 0 for what
// it cannot read), ParseInterval returns an error instead: a typo in an
// interval should be found, not become "never".
//
// ISO 8601 years and months have no fixed length; they count as 365 and 30
// days.
func ParseInterval(s string) (d time.Duration, truncated bool, err error) {
	if strings.HasPrefix(s, "P") {
		d, err := parseISODuration(s)
		return d, false, err
	}
	t := strings.TrimLeft(s, " \t\n\r\f\v")
	digits := 0
	for digits < len(t) && t[digits] >= '0' && t[digits] <= '9' {
		digits++
	}
	if digits == 0 {
		return 0, false, fmt.Errorf("%s does not start with a number", quote(s))
	}
	n, ok := atoi64(t[:digits])
	rest := t[digits:]
	if strings.HasPrefix(rest, ".") {
		truncated = true
		rest = strings.TrimLeft(rest, "0123456789.")
	}
	rest = strings.TrimSpace(rest)
	var unit time.Duration
	switch lowerASCII(rest) {
	case "", "s", "sec", "secs", "second", "seconds":
		unit = time.Second
	case "ms", "msec", "msecs":
		unit = time.Millisecond
	case "us", "usec", "usecs":
		unit = time.Microsecond
	case "m", "min", "mins", "minute", "minutes":
		unit = time.Minute
	case "h", "hr", "hrs", "hour", "hours":
		unit = time.Hour
	default:
		return 0, false, fmt.Errorf("%s: unknown unit %s (use ms, s, min or h, or ISO 8601 such as PT10S)", quote(s), quote(rest))
	}
	if !ok || n > math.MaxInt64/int64(unit) {
		return 0, false, fmt.Errorf("%s is too long", quote(s))
	}
	return time.Duration(n) * unit, truncated, nil
}

func atoi64(digits string) (int64, bool) {
	var n int64
	for _, c := range digits {
		if n > (math.MaxInt64-9)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseISODuration reads PnYnMnWnDTnHnMnS with integer fields (seconds may
// have a fraction).
func parseISODuration(s string) (time.Duration, error) {
	bad := func(why string) (time.Duration, error) {
		return 0, fmt.Errorf("%s is not an ISO 8601 duration: %s", quote(s), why)
	}
	rest := s[1:]
	if rest == "" {
		return bad("no fields after P")
	}
	const day = 24 * time.Hour
	dateUnits := map[byte]time.Duration{'Y': 365 * day, 'M': 30 * day, 'W': 7 * day, 'D': day}
	timeUnits := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second}
	var total time.Duration
	inTime := false
	lastRank := -1
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return bad("a second T")
			}
			inTime, lastRank = true, -1
			rest = rest[1:]
			if rest == "" {
				return bad("no fields after T")
			}
			continue
		}
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.' || rest[i] == ',') {
			i++
		}
		if i == 0 || i == len(rest) {
			return bad("expected a number followed by a designator")
		}
		num, des := rest[:i], rest[i]
		rest = rest[i+1:]
		units, order := dateUnits, "YMWD"
		if inTime {
			units, order = timeUnits, "HMS"
		}
		unit, ok := units[des]
		if !ok {
			return bad(fmt.Sprintf("unknown designator %q", des))
		}
		rank := strings.IndexByte(order, des)
		if rank <= lastRank {
			return bad(fmt.Sprintf("designator %q out of order", des))
		}
		lastRank = rank
		whole, frac, hasFrac := strings.Cut(strings.ReplaceAll(num, ",", "."), ".")
		if whole == "" || hasFrac && (des != 'S' || strings.ContainsAny(frac, ".")) {
			return bad(fmt.Sprintf("bad number %q", num))
		}
		n, ok := atoi64(whole)
		if !ok || n > int64((math.MaxInt64-total)/unit) {
			return bad("too long")
		}
		total += time.Duration(n) * unit
		if hasFrac && frac != "" {
			// Fractions of a second, to the nanosecond.
			frac = (frac + "000000000")[:9]
			ns, _ := atoi64(frac)
			if time.Duration(ns) > math.MaxInt64-total {
				return bad("too long")
			}
			total += time.Duration(ns)
		}
	}
	return total, nil
}

// IntervalValue is the op's interval; an absent interval reads as 0 (a
// one-off operation), as Pacemaker reads it.
func (o *Op) IntervalValue() (time.Duration, error) {
	if o.Interval == "" {
		return 0, nil
	}
	d, _, err := ParseInterval(o.Interval)
	if err != nil {
		return 0, fmt.Errorf("op %s: interval: %w", quote(o.ID), err)
	}
	return d, nil
}

// TimeoutValue is the op's timeout, or def when it sets none (the caller
// knows op_defaults and Pacemaker's 20s default).
func (o *Op) TimeoutValue(def time.Duration) (time.Duration, error) {
	if o.Timeout == "" {
		return def, nil
	}
	d, _, err := ParseInterval(o.Timeout)
	if err != nil {
		return def, fmt.Errorf("op %s: timeout: %w", quote(o.ID), err)
	}
	return d, nil
}
