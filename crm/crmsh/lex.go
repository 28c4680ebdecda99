package crmsh

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is a syntax or apply error at one place in crm shell input. Line
// and Col are 1-based (Col counts characters); Token is the offending
// token as written, "" at the end of a line.
type Error struct {
	Line, Col int
	Token     string
	Msg       string
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// Pos is a place in the input: 1-based line and column.
type Pos struct{ Line, Col int }

type token struct {
	text   string // unquoted
	raw    string // as written
	pos    Pos
	eq     int  // index in text of the first unquoted '=', or -1
	quoted bool // some part was quoted
}

// logicalLine is one command's characters with their positions.
type logicalLine struct {
	chars []rune
	pos   []Pos
	end   Pos // just after the last character
}

// splitLines joins backslash-continued physical lines.
func splitLines(src string) []logicalLine {
	phys := strings.Split(src, "\n")
	var out []logicalLine
	var cur logicalLine
	open := false
	for i, l := range phys {
		l = strings.TrimSuffix(l, "\r")
		cont := false
		trimmed := strings.TrimRight(l, " \t")
		if strings.HasSuffix(trimmed, "\\") && !strings.HasSuffix(trimmed, "\\\\") {
			cont = true
			l = trimmed[:len(trimmed)-1]
		}
		col := 1
		for _, r := range l {
			cur.chars = append(cur.chars, r)
			cur.pos = append(cur.pos, Pos{i + 1, col})
			col++
		}
		cur.end = Pos{i + 1, col}
		open = true
		if cont {
			// keep tokens on either side apart
			cur.chars = append(cur.chars, ' ')
			cur.pos = append(cur.pos, Pos{i + 1, col})
			continue
		}
		out = append(out, cur)
		cur, open = logicalLine{}, false
	}
	if open {
		out = append(out, cur)
	}
	return out
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\f' || r == '\v' }

// tokenize splits a logical line into tokens. A line whose first
// non-blank character is '#' is a comment (as in crmsh; inside a line '#'
// is an ordinary character, as in #uname).
func tokenize(l logicalLine) ([]token, error) {
	var toks []token
	c := l.chars
	i := 0
	for i < len(c) {
		if isSpace(c[i]) {
			i++
			continue
		}
		if c[i] == '#' && len(toks) == 0 {
			break
		}
		start := i
		var text strings.Builder
		eq := -1
		quoted := false
		for i < len(c) && !isSpace(c[i]) {
			switch c[i] {
			case '"', '\'':
				q := c[i]
				qpos := l.pos[i]
				quoted = true
				i++
				closed := false
				for i < len(c) {
					if c[i] == q {
						closed = true
						i++
						break
					}
					if q == '"' && c[i] == '\\' && i+1 < len(c) && (c[i+1] == '"' || c[i+1] == '\\') {
						i++
					}
					text.WriteRune(c[i])
					i++
				}
				if !closed {
					return nil, &Error{Line: qpos.Line, Col: qpos.Col, Token: string(c[start:]), Msg: fmt.Sprintf("unterminated quote in %s", strconv.Quote(string(c[start:])))}
				}
			default:
				if c[i] == '=' && eq < 0 {
					eq = text.Len()
				}
				text.WriteRune(c[i])
				i++
			}
		}
		toks = append(toks, token{text: text.String(), raw: string(c[start:i]), pos: l.pos[start], eq: eq, quoted: quoted})
	}
	return toks, nil
}
