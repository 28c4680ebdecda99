package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is a problem at one place in the input. Line is 0 when the problem
// has no single line, such as a section that is missing altogether.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// UnsupportedError is a Corosync option hakit recognises but does not
// implement. It is a separate type so that tooling (a config checker, a
// migration report) can tell "you made a mistake" from "hakit cannot do
// this yet" without matching on text.
type UnsupportedError struct {
	File   string
	Line   int
	Option string // dotted path, with the value when only that value is unsupported: "totem.link_mode: rr"
	Reason string
}

func (e *UnsupportedError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: unsupported option %s (line %d): %s", e.File, e.Option, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: unsupported option %s: %s", e.File, e.Option, e.Reason)
}

// Errors is every problem found in one input, in line order. Parse reports
// them all at once so a user fixing a file does not have to iterate one
// error per run; errors.As reaches the individual *Error and
// *UnsupportedError values through Unwrap.
type Errors []error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

func (es Errors) Unwrap() []error { return es }

// lineOf is the sort key for errors: problems without a line (a missing
// section) go last, after everything the user can jump to.
func lineOf(err error) int {
	switch e := err.(type) {
	case *Error:
		if e.Line > 0 {
			return e.Line
		}
	case *UnsupportedError:
		if e.Line > 0 {
			return e.Line
		}
	}
	return int(^uint(0) >> 1)
}

func sortErrors(errs []error) {
	slices.SortStableFunc(errs, func(a, b error) int { return lineOf(a) - lineOf(b) })
}

// suggest returns the candidate closest to word when it is close enough to
// be a plausible typo, else "". Ties go to the alphabetically first
// candidate so the message never depends on map order.
func suggest(word string, candidates []string) string {
	if len(word) == 0 || len(word) > 64 {
		return ""
	}
	limit := 1
	if len(word) >= 5 {
		limit = 2
	}
	best, bestDist := "", limit+1
	sorted := slices.Clone(candidates)
	slices.Sort(sorted)
	for _, c := range sorted {
		if d := editDistance(word, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance over bytes; keys are ASCII.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Limits on what one input can cost. corosync.conf files are a few
// kilobytes; these bound memory, time and message size for hostile ones.
const (
	maxInputSize = 1 << 20 // bytes
	maxErrors    = 50      // errors reported; decoding stops after one more
	maxWarnings  = 50      // warnings kept
	maxEcho      = 64      // bytes of a name or value quoted in a message
)

// capErrors sorts errs by line and keeps the first maxErrors, noting how
// many were dropped.
func capErrors(file string, errs []error) Errors {
	sortErrors(errs)
	if len(errs) > maxErrors {
		errs = append(errs[:maxErrors:maxErrors], &Error{file, 0, fmt.Sprintf("too many errors; only the first %d are shown", maxErrors)})
	}
	return Errors(errs)
}

// clip shortens s for quoting in a message, so that an error never echoes
// an unbounded piece of the input.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// quote is strconv.Quote of the clipped s.
func quote(s string) string { return strconv.Quote(clip(s)) }
