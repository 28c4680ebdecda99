package cib

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is a problem at one place in a CIB: a parse error, or a problem
// Validate found. Line is 0 when the element was not read from a file (built
// in code). Path is an XPath naming the element, usable with
// `cibadmin --query --xpath`.
type Error struct {
	File string
	Line int
	Path string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Severity says whether a Problem makes a CIB unusable.
type Severity int

const (
	// SevError: the CIB must not be used; Pacemaker would reject it or
	// act on something other than what was meant.
	SevError Severity = iota
	// SevWarning: accepted, but probably not what was meant, or unsafe.
	SevWarning
)

func (s Severity) String() string {
	if s == SevWarning {
		return "warning"
	}
	return "error"
}

// Problem is one finding of Validate. It deliberately does not implement
// error (Problems does): printed alone it must show its severity.
type Problem struct {
	Severity Severity
	File     string
	Line     int // 0 when the element was not read from a file
	Path     string
	Msg      string
	// ID names the kind of problem where a tool may want to recognise
	// it without reading Msg: ProblemSplitBrain. "" for most.
	ID string
}

// ProblemSplitBrain is the ID of Validate's warning that fencing is
// disabled and no-quorum-policy=ignore. hactl configure verify replaces
// it with one warning for each half, each with its own fix.
const ProblemSplitBrain = "split-brain"

// String is "file:line: severity: path: message".
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Severity.String())
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is everything Validate found, sorted by line.
type Problems []Problem

// Err returns nil when no problem is an error, and otherwise an error
// listing every problem (warnings included, so nothing is hidden).
func (ps Problems) Err() error {
	for _, p := range ps {
		if p.Severity == SevError {
			return ps
		}
	}
	return nil
}

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Errors returns only the problems of severity SevError.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == SevError {
			out = append(out, p)
		}
	}
	return out
}

// maxEcho bounds how much of a value a message quotes, so that an error
// never echoes an unbounded piece of the input.
const maxEcho = 64

func quote(s string) string {
	if len(s) > maxEcho {
		cut := maxEcho
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return strconv.Quote(s)
}

// seg is one XPath step: the element name, with its id when it has one.
func seg(name, id string) string {
	if id == "" {
		return name
	}
	if !strings.Contains(id, "'") {
		return name + "[@id='" + id + "']"
	}
	return name + `[@id="` + id + `"]`
}
