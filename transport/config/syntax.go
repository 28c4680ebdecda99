package config

import (
	"strings"
)

// item is one element of the syntax tree: a section with children, or a
// key: value pair.
type item struct {
	name     string
	value    string
	line     int
	section  bool
	children []*item
}

// parseSyntax splits src into sections and key: value pairs the way
// Corosync's own parser does (exec/coroparse.c, read for behaviour only):
//
//   - a line is blank, a comment, "name {", "key: value" or "}", tested in
//     that order, so a line holding both '{' and ':' is a section start;
//   - '#' starts a comment only as the first non-blank character: there
//     are no trailing comments, "token: 3000 # ms" has the value
//     "3000 # ms";
//   - there is no quoting: quotes are part of the value;
//   - the value is everything after the first ':', trimmed, so IPv6
//     addresses need no escaping;
//   - trailing ':' and '{' are stripped from section and key names, so
//     "totem: {" opens totem.
//
// Corosync also rejects lines longer than 510 bytes; hakit accepts them
// because nothing depends on that limit.
func parseSyntax(file string, src []byte) (*item, error) {
	root := &item{section: true}
	stack := []*item{root}
	if len(src) >= 3 && string(src[:3]) == "\ufeff" {
		return nil, &Error{file, 1, "the file starts with a UTF-8 byte order mark, which Corosync reads as part of the first name: save it without one"}
	}
	lines := strings.Split(string(src), "\n")
	for i, raw := range lines {
		n := i + 1
		if strings.IndexByte(raw, 0) >= 0 {
			return nil, &Error{file, n, "line contains a NUL byte"}
		}
		line := strings.TrimSuffix(raw, "\r")
		line = strings.Trim(line, " \t")
		if line == "" || line[0] == '#' {
			continue
		}
		top := stack[len(stack)-1]
		if brace := strings.IndexByte(line, '{'); brace >= 0 {
			name := trimName(line[:brace])
			if name == "" {
				return nil, &Error{file, n, "missing section name before '{'"}
			}
			if rest := strings.Trim(line[brace+1:], " \t"); rest != "" {
				return nil, &Error{file, n, "extra characters after '{' (a section start must end the line)"}
			}
			s := &item{name: name, line: n, section: true}
			top.children = append(top.children, s)
			stack = append(stack, s)
			continue
		}
		if colon := strings.IndexByte(line, ':'); colon >= 0 {
			key := trimName(line[:colon])
			if key == "" {
				return nil, &Error{file, n, "missing key name before ':'"}
			}
			top.children = append(top.children, &item{name: key, value: strings.Trim(line[colon+1:], " \t"), line: n})
			continue
		}
		if strings.IndexByte(line, '}') >= 0 {
			if line != "}" {
				return nil, &Error{file, n, "extra characters before or after '}'"}
			}
			if len(stack) == 1 {
				return nil, &Error{file, n, "unexpected '}': no section is open"}
			}
			stack = stack[:len(stack)-1]
			continue
		}
		return nil, &Error{file, n, "line is neither a section start (name {), a key: value, nor a closing }"}
	}
	if len(stack) > 1 {
		open := stack[len(stack)-1]
		return nil, &Error{file, open.line, "section " + open.name + " is never closed (missing '}')"}
	}
	return root, nil
}

// trimName strips surrounding blanks and trailing ':' and '{', as Corosync
// does for section and key names.
func trimName(s string) string {
	return strings.TrimRight(strings.TrimLeft(s, " \t"), " \t:{")
}
