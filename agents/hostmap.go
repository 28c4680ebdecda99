package agents

import (
	"fmt"
	"strings"
)

// HostMap is a fence device's pcmk_host_map: which value (a port, a plug,
// a network namespace) stands for which node, in the order written.
type HostMap []HostMapEntry

// HostMapEntry maps one node name to the value the fence agent is given
// for it.
type HostMapEntry struct {
	Node  string
	Value string
}

// ParseHostMap reads a pcmk_host_map in Pacemaker's syntax: node:value
// pairs ("=" works like ":"), separated by ";", spaces or tabs, or by
// commas; a backslash makes the next character literal. A comma followed
// by a bare value continues the value before it, so "node2:2,3" gives
// node2 the value "2,3" (ports 2 and 3) as in Pacemaker, while
// "node1:a,node2:b" is two pairs. The empty string is the empty map.
//
// Stricter than Pacemaker, which logs and skips what it cannot read and
// lets a later pair win: a fencing configuration that means something
// else than it says must fail validation rather than fence the wrong
// node. So a bare value after ";" or a space, a pair with two ":",
// an empty node or value, a dangling backslash and a node mapped twice to
// different values are errors. Node names compare case-insensitively, as
// in Pacemaker; a pair repeated exactly is kept once.
func ParseHostMap(s string) (HostMap, error) {
	toks, err := hostMapTokens(s)
	if err != nil {
		return nil, err
	}
	var m HostMap
	for _, tok := range toks {
		if tok.assign < 0 {
			if !tok.afterComma || len(m) == 0 {
				return nil, fmt.Errorf("pcmk_host_map: %q is not a node:value pair", tok.text)
			}
			last := &m[len(m)-1]
			last.Value += "," + tok.text
			continue
		}
		if tok.assigns > 1 {
			return nil, fmt.Errorf("pcmk_host_map: %q has more than one ':' or '=' (escape one with a backslash)", tok.text)
		}
		e := HostMapEntry{Node: tok.text[:tok.assign], Value: tok.text[tok.assign+1:]}
		if e.Node == "" || e.Value == "" {
			return nil, fmt.Errorf("pcmk_host_map: %q lacks a node name or a value", tok.text)
		}
		m = append(m, e)
	}
	return m.dedup()
}

// dedup drops exact repeats and refuses a node given two values. It runs
// after the comma continuations are joined, since they change values.
func (m HostMap) dedup() (HostMap, error) {
	var out HostMap
	for _, e := range m {
		if prev, ok := out.Lookup(e.Node); ok {
			if prev != e.Value {
				return nil, fmt.Errorf("pcmk_host_map: node %q is mapped twice, to %q and to %q", e.Node, prev, e.Value)
			}
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// hostMapToken is one separated piece of a map, unescaped. assign is the
// index in text of its first unescaped ':' or '=' (-1 when none) and
// assigns their count; escaped ones are plain text and not counted.
type hostMapToken struct {
	text       string
	assign     int
	assigns    int
	afterComma bool
}

func hostMapTokens(s string) ([]hostMapToken, error) {
	var toks []hostMapToken
	var b strings.Builder
	cur := hostMapToken{assign: -1}
	flush := func(comma bool) {
		// A comma joins only when nothing but the comma stands between
		// the value and the bare word: in "a:1, 2" or "a:1,,2" the bare
		// word is an error, not part of a's value.
		joins := comma && b.Len() > 0
		if b.Len() > 0 {
			cur.text = b.String()
			toks = append(toks, cur)
		}
		b.Reset()
		cur = hostMapToken{assign: -1, afterComma: joins}
	}
	// Bytes, not runes: every special character is ASCII, and names in
	// invalid UTF-8 must come through unchanged rather than as U+FFFD.
	escaped := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			b.WriteByte(c)
			escaped = false
		case c == '\\':
			escaped = true
		case c == ':' || c == '=':
			if cur.assign < 0 {
				cur.assign = b.Len()
			}
			cur.assigns++
			b.WriteByte(c)
		case c == ',':
			flush(true)
		case c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush(false)
		default:
			b.WriteByte(c)
		}
	}
	if escaped {
		return nil, fmt.Errorf("pcmk_host_map: %q ends in a lone backslash", s)
	}
	flush(false)
	return toks, nil
}

// Lookup returns the value mapped to node, comparing names
// case-insensitively as Pacemaker does.
func (m HostMap) Lookup(node string) (string, bool) {
	for _, e := range m {
		if strings.EqualFold(e.Node, node) {
			return e.Value, true
		}
	}
	return "", false
}

// Nodes lists the mapped node names in map order.
func (m HostMap) Nodes() []string {
	out := make([]string, len(m))
	for i, e := range m {
		out[i] = e.Node
	}
	return out
}

// String writes the map back in the syntax ParseHostMap reads, escaping
// whatever would otherwise separate or assign, so that parsing it gives
// the same map.
func (m HostMap) String() string {
	var b strings.Builder
	for i, e := range m {
		if i > 0 {
			b.WriteByte(';')
		}
		writeHostMapEscaped(&b, e.Node)
		b.WriteByte(':')
		writeHostMapEscaped(&b, e.Value)
	}
	return b.String()
}

func writeHostMapEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\', ':', '=', ',', ';', ' ', '\t', '\n', '\r':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
}
