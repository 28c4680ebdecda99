package cib

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// Attr is one XML attribute. Name is the attribute's name as written,
// prefix included ("xmlns:foo"): the CIB uses no namespaces, and keeping the
// raw name is what lets an unknown namespaced attribute survive a round trip.
type Attr struct {
	Name  string
	Value string
}

// Raw is an XML element hakit does not model (a bundle, fencing-topology,
// an ACL, a date_expression, a future Pacemaker element). It is kept
// verbatim, minus comments and whitespace-only text, so that importing a CIB
// and exporting it again never drops configuration.
type Raw struct {
	Name     string // element name, "" for a text node
	Attrs    []Attr // in document order
	Children []*Raw
	Text     string // the text of a text node (Name == "")

	line int // where the element started in the parsed input; 0 if built in code
}

// Attr returns the value of the named attribute and whether it is present.
func (r *Raw) Attr(name string) (string, bool) {
	for _, a := range r.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// ID is the element's id attribute, "" when it has none.
func (r *Raw) ID() string {
	v, _ := r.Attr("id")
	return v
}

// Extra carries what the model does not know about an element it does
// model: attributes other than the modelled ones, and child elements of
// kinds it does not model. Both are written back in their original order,
// after the modelled ones. A modelled attribute that was present with an
// empty value is kept here too, so that presence survives: the typed field
// uses "" for "absent".
type Extra struct {
	Attrs    []Attr
	Children []*Raw
}

func (e Extra) empty() bool { return len(e.Attrs) == 0 && len(e.Children) == 0 }

// maxDepth bounds element nesting. Real CIBs nest about ten deep (rules
// inside rules inside a location); the bound keeps hostile input from
// costing unbounded recursion in the decoder and the writers.
const maxDepth = 256

// parseTree reads data into a Raw tree. It uses RawToken, which leaves
// namespace prefixes as written, and checks element nesting itself.
// Comments, processing instructions, directives and whitespace-only text are
// dropped: none of them means anything in a CIB, and Pacemaker's own parser
// drops them too.
func parseTree(file string, data []byte) (*Raw, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:firstInvalidUTF8(data)], []byte("\n"))
		return nil, &Error{File: file, Line: line, Msg: "input is not valid UTF-8"}
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	var root *Raw
	var stack []*Raw
	for {
		line, _ := d.InputPos()
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &Error{File: file, Line: se.Line, Msg: "malformed XML: " + se.Msg}
			}
			l, _ := d.InputPos()
			msg := "malformed XML: " + err.Error()
			if strings.Contains(err.Error(), "CharsetReader") {
				// Pacemaker writes UTF-8 only; say so rather than name a Go API.
				msg = "the XML declaration names an encoding other than UTF-8; convert the file to UTF-8"
			}
			return nil, &Error{File: file, Line: l, Msg: msg}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			el := &Raw{Name: rawName(t.Name), line: line}
			for _, a := range t.Attr {
				name := rawName(a.Name)
				if _, dup := el.Attr(name); dup {
					return nil, &Error{File: file, Line: line, Path: "<" + el.Name + ">",
						Msg: fmt.Sprintf("attribute %s appears twice", name)}
				}
				el.Attrs = append(el.Attrs, Attr{name, a.Value})
			}
			switch {
			case len(stack) > 0:
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, el)
			case root == nil:
				root = el
			default:
				return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("malformed XML: a second root element <%s> after </%s>", el.Name, root.Name)}
			}
			if len(stack) >= maxDepth {
				return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("elements nest deeper than %d", maxDepth)}
			}
			stack = append(stack, el)
		case xml.EndElement:
			name := rawName(t.Name)
			if len(stack) == 0 {
				return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("malformed XML: </%s> closes nothing", name)}
			}
			open := stack[len(stack)-1]
			if open.Name != name {
				return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("malformed XML: </%s> closes <%s> (line %d)", name, open.Name, open.line)}
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
			if len(stack) == 0 {
				return nil, &Error{File: file, Line: line, Msg: "malformed XML: text outside the root element"}
			}
			parent := stack[len(stack)-1]
			// CDATA sections and entity-split text arrive as several tokens;
			// join them so one run of text is one node.
			if n := len(parent.Children); n > 0 && parent.Children[n-1].Name == "" {
				parent.Children[n-1].Text += string(t)
			} else {
				parent.Children = append(parent.Children, &Raw{Text: string(t), line: line})
			}
		}
	}
	if len(stack) > 0 {
		open := stack[len(stack)-1]
		return nil, &Error{File: file, Line: open.line, Msg: fmt.Sprintf("malformed XML: <%s> is never closed", open.Name)}
	}
	if root == nil {
		return nil, &Error{File: file, Line: 1, Msg: "malformed XML: no root element"}
	}
	return root, nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func rawName(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// writePretty renders r the way cibadmin prints a CIB: two spaces per level,
// one element per line, empty elements self-closed. An element holding text
// is written on one line, since indenting its children would add whitespace
// to that text.
func writePretty(buf *bytes.Buffer, r *Raw, depth int) {
	for range depth {
		buf.WriteString("  ")
	}
	if len(r.Children) == 0 || hasText(r) {
		writeInline(buf, r, false)
		buf.WriteByte('\n')
		return
	}
	writeStartTag(buf, r, false)
	buf.WriteString(">\n")
	for _, c := range r.Children {
		writePretty(buf, c, depth+1)
	}
	for range depth {
		buf.WriteString("  ")
	}
	buf.WriteString("</" + r.Name + ">\n")
}

// writeInline renders r with no added whitespace. With sortAttrs it is the
// canonical form the digest is computed over: attribute order and layout
// cannot change it.
func writeInline(buf *bytes.Buffer, r *Raw, sortAttrs bool) {
	if r.Name == "" {
		buf.WriteString(escapeText(r.Text))
		return
	}
	writeStartTag(buf, r, sortAttrs)
	if len(r.Children) == 0 {
		buf.WriteString("/>")
		return
	}
	buf.WriteByte('>')
	for _, c := range r.Children {
		writeInline(buf, c, sortAttrs)
	}
	buf.WriteString("</" + r.Name + ">")
}

// writeStartTag writes "<name attrs" without the closing bracket.
func writeStartTag(buf *bytes.Buffer, r *Raw, sortAttrs bool) {
	buf.WriteByte('<')
	buf.WriteString(r.Name)
	attrs := r.Attrs
	if sortAttrs {
		attrs = sortedAttrs(attrs)
	}
	for _, a := range attrs {
		buf.WriteByte(' ')
		buf.WriteString(a.Name)
		buf.WriteString(`="`)
		buf.WriteString(escapeAttr(a.Value))
		buf.WriteByte('"')
	}
}

func hasText(r *Raw) bool {
	for _, c := range r.Children {
		if c.Name == "" {
			return true
		}
	}
	return false
}

func sortedAttrs(as []Attr) []Attr {
	out := slices.Clone(as)
	slices.SortFunc(out, func(a, b Attr) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// escapeAttr escapes an attribute value so that parsing it back yields the
// same string: tabs and line ends must be character references, or the
// parser would normalise them.
func escapeAttr(s string) string {
	if !strings.ContainsAny(s, "&<>\"\t\n\r") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\t':
			b.WriteString("&#9;")
		case '\n':
			b.WriteString("&#10;")
		case '\r':
			b.WriteString("&#13;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func escapeText(s string) string {
	if !strings.ContainsAny(s, "&<>\r") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\r':
			b.WriteString("&#13;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// checkRaw reports why r cannot be written as XML that parses back to it:
// names that are not XML names, duplicate attributes, characters XML 1.0
// cannot carry, text nodes that are only whitespace (the parser drops them).
func checkRaw(r *Raw, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("elements nest deeper than %d", maxDepth)
	}
	if r.Name == "" {
		if strings.TrimSpace(r.Text) == "" {
			return errors.New("a text node holds only whitespace, which XML parsing drops")
		}
		return checkChars(r.Text)
	}
	if !isXMLName(r.Name) {
		return fmt.Errorf("%q is not an XML element name", r.Name)
	}
	if err := checkAttrs(r.Attrs); err != nil {
		return fmt.Errorf("<%s>: %w", r.Name, err)
	}
	for i, c := range r.Children {
		if i > 0 && c.Name == "" && r.Children[i-1].Name == "" {
			return fmt.Errorf("<%s>: two adjacent text nodes would parse back as one", r.Name)
		}
		if err := checkRaw(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func checkAttrs(as []Attr) error {
	for i, a := range as {
		if !isXMLName(a.Name) {
			return fmt.Errorf("%q is not an XML attribute name", a.Name)
		}
		for _, b := range as[:i] {
			if b.Name == a.Name {
				return fmt.Errorf("attribute %s appears twice", a.Name)
			}
		}
		if err := checkChars(a.Value); err != nil {
			return fmt.Errorf("attribute %s: %w", a.Name, err)
		}
	}
	return nil
}

// checkChars rejects strings XML 1.0 cannot represent, even escaped.
func checkChars(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	for _, r := range s {
		if !isXMLChar(r) {
			return fmt.Errorf("character %U cannot appear in XML", r)
		}
	}
	return nil
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// isXMLName reports whether s can be written as an element or attribute
// name and read back. ASCII names are checked directly; others are handed
// to encoding/xml itself, so that the writer never disagrees with the
// parser about what a name is.
func isXMLName(s string) bool {
	if s == "" {
		return false
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			ascii = false
		case c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c == '-' || c == '.' || c >= '0' && c <= '9'):
		default:
			return false
		}
	}
	if ascii {
		return true
	}
	d := xml.NewDecoder(strings.NewReader("<" + s + "/>"))
	tok, err := d.RawToken()
	if err != nil {
		return false
	}
	start, ok := tok.(xml.StartElement)
	return ok && rawName(start.Name) == s && len(start.Attr) == 0
}
