package agents

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MetaData is what an OCF agent's meta-data action describes: its
// parameters and the actions it supports with their advised timeouts
// (OCF resource agent API 1.1, ra-api-1.dtd). hactl ra info shows it, and
// the node checks a primitive's parameters against it.
type MetaData struct {
	// Name is the resource-agent element's name attribute ("IPaddr2").
	Name string
	// Version is the agent's own version: the version attribute, or the
	// version element when the attribute is absent.
	Version string
	// ShortDesc and LongDesc are the agent's descriptions, the English
	// ones when several languages are given.
	ShortDesc string
	LongDesc  string
	// Parameters are in the order the agent lists them.
	Parameters []Parameter
	// Actions are in the order the agent lists them; monitor may appear
	// several times with different depths or roles.
	Actions []ActionSpec
}

// Parameter is one instance attribute an agent accepts.
type Parameter struct {
	Name       string
	Required   bool
	Unique     bool
	Reloadable bool
	// Type is the content element's type: string, integer, boolean,
	// select, ... (as written; the OCF standard lists them but agents
	// vary).
	Type string
	// Default is the content element's default attribute, verbatim: some
	// agents put shell-expanded text there. HasDefault tells an absent
	// default from an empty one.
	Default    string
	HasDefault bool
	ShortDesc  string
	LongDesc   string
}

// ActionSpec is one action element: an action the agent supports and the
// timeout and interval it advises for it.
type ActionSpec struct {
	Name     string
	Timeout  time.Duration
	Interval time.Duration
	// Depth is the monitor depth (OCF_CHECK_LEVEL) the entry is for.
	Depth int
	// Role is Promoted or Unpromoted for role-specific monitors, or empty.
	Role string
}

// ParseMetaData reads an agent's meta-data XML. Unknown elements and
// attributes are skipped, as Pacemaker does; malformed XML, a root other
// than resource-agent, a parameter or action without a name, a duplicate
// parameter, and a timeout, interval, depth or flag that cannot be read
// are errors naming the line.
func ParseMetaData(data []byte) (MetaData, error) {
	p := metaDataParser{d: xml.NewDecoder(bytes.NewReader(data))}
	p.d.CharsetReader = charsetReader
	md, err := p.parse()
	if err != nil {
		return MetaData{}, fmt.Errorf("meta-data: %w", err)
	}
	return md, nil
}

// Defaults returns the default of every parameter that declares one,
// empty defaults included. Agents apply their own defaults; this is for
// showing and checking configurations.
func (m MetaData) Defaults() map[string]string {
	out := map[string]string{}
	for _, p := range m.Parameters {
		if p.HasDefault {
			out[p.Name] = p.Default
		}
	}
	return out
}

// Validate checks params against the required parameters, in the order
// the agent lists them. A required parameter set to the empty string
// counts as missing: agents test for emptiness, not presence. Parameters
// the agent does not declare are accepted, as Pacemaker accepts them.
func (m MetaData) Validate(params map[string]string) error {
	var missing []string
	for _, p := range m.Parameters {
		if p.Required && params[p.Name] == "" {
			missing = append(missing, strconv.Quote(p.Name))
		}
	}
	agent := m.Name
	if agent == "" {
		agent = "agent"
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%s: required parameter %s is not set", agent, missing[0])
	}
	return fmt.Errorf("%s: required parameters %s are not set", agent, strings.Join(missing, ", "))
}

type metaDataParser struct {
	d *xml.Decoder
}

// lineError names the line the decoder has reached: just past the start
// tag of the element being read.
func (p *metaDataParser) lineError(format string, args ...any) error {
	line, _ := p.d.InputPos()
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
}

// next returns the next start element inside the current element, or nil
// at its end.
func (p *metaDataParser) next() (*xml.StartElement, error) {
	for {
		tok, err := p.d.Token()
		if err != nil {
			return nil, p.syntaxError(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return &t, nil
		case xml.EndElement:
			return nil, nil
		}
	}
}

func (p *metaDataParser) syntaxError(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("line %d: %s", se.Line, se.Msg)
	}
	if err == io.EOF {
		return p.lineError("unexpected end of document")
	}
	return p.lineError("%v", err)
}

func (p *metaDataParser) parse() (MetaData, error) {
	var md MetaData
	var root *xml.StartElement
	for root == nil {
		tok, err := p.d.Token()
		if err == io.EOF {
			return md, errors.New("no resource-agent element")
		}
		if err != nil {
			return md, p.syntaxError(err)
		}
		if t, ok := tok.(xml.StartElement); ok {
			root = &t
		}
	}
	if root.Name.Local != "resource-agent" {
		return md, p.lineError("root element is <%s>, want <resource-agent>", root.Name.Local)
	}
	md.Name = attr(root, "name")
	md.Version = attr(root, "version")
	var desc descriptions
	for {
		el, err := p.next()
		if err != nil {
			return md, err
		}
		if el == nil {
			break
		}
		switch el.Name.Local {
		case "version":
			var v string
			if err := p.d.DecodeElement(&v, el); err != nil {
				return md, p.syntaxError(err)
			}
			if md.Version == "" {
				md.Version = strings.TrimSpace(v)
			}
		case "shortdesc", "longdesc":
			if err := desc.read(p, el); err != nil {
				return md, err
			}
		case "parameters":
			if err := p.parameters(&md); err != nil {
				return md, err
			}
		case "actions":
			if err := p.actions(&md); err != nil {
				return md, err
			}
		default:
			if err := p.d.Skip(); err != nil {
				return md, p.syntaxError(err)
			}
		}
	}
	md.ShortDesc, md.LongDesc = desc.short.text, desc.long.text
	// Anything after the root must still be well-formed, so truncated or
	// concatenated output is not taken for a whole document.
	for {
		tok, err := p.d.Token()
		if err == io.EOF {
			return md, nil
		}
		if err != nil {
			return md, p.syntaxError(err)
		}
		if _, ok := tok.(xml.StartElement); ok {
			return md, p.lineError("a second root element after </resource-agent>")
		}
	}
}

func (p *metaDataParser) parameters(md *MetaData) error {
	seen := map[string]bool{}
	for {
		el, err := p.next()
		if err != nil || el == nil {
			return err
		}
		if el.Name.Local != "parameter" {
			if err := p.d.Skip(); err != nil {
				return p.syntaxError(err)
			}
			continue
		}
		param, err := p.parameter(el)
		if err != nil {
			return err
		}
		if seen[param.Name] {
			return p.lineError("parameter %q declared twice", param.Name)
		}
		seen[param.Name] = true
		md.Parameters = append(md.Parameters, param)
	}
}

func (p *metaDataParser) parameter(el *xml.StartElement) (Parameter, error) {
	param := Parameter{Name: strings.TrimSpace(attr(el, "name"))}
	if param.Name == "" {
		return param, p.lineError("parameter without a name")
	}
	var err error
	if param.Required, err = p.flag(el, "required", param.Name); err != nil {
		return param, err
	}
	if param.Unique, err = p.flag(el, "unique", param.Name); err != nil {
		return param, err
	}
	if param.Reloadable, err = p.flag(el, "reloadable", param.Name); err != nil {
		return param, err
	}
	var desc descriptions
	for {
		child, err := p.next()
		if err != nil {
			return param, err
		}
		if child == nil {
			break
		}
		switch child.Name.Local {
		case "shortdesc", "longdesc":
			if err := desc.read(p, child); err != nil {
				return param, err
			}
			continue
		case "content":
			param.Type = attr(child, "type")
			param.Default, param.HasDefault = lookupAttr(child, "default")
		}
		if err := p.d.Skip(); err != nil {
			return param, p.syntaxError(err)
		}
	}
	param.ShortDesc, param.LongDesc = desc.short.text, desc.long.text
	return param, nil
}

func (p *metaDataParser) actions(md *MetaData) error {
	for {
		el, err := p.next()
		if err != nil || el == nil {
			return err
		}
		if el.Name.Local == "action" {
			a, err := p.action(el)
			if err != nil {
				return err
			}
			md.Actions = append(md.Actions, a)
		}
		if err := p.d.Skip(); err != nil {
			return p.syntaxError(err)
		}
	}
}

func (p *metaDataParser) action(el *xml.StartElement) (ActionSpec, error) {
	a := ActionSpec{Name: strings.TrimSpace(attr(el, "name")), Role: attr(el, "role")}
	if a.Name == "" {
		return a, p.lineError("action without a name")
	}
	var err error
	if a.Timeout, err = p.duration(el, "timeout", a.Name); err != nil {
		return a, err
	}
	if a.Interval, err = p.duration(el, "interval", a.Name); err != nil {
		return a, err
	}
	if s := strings.TrimSpace(attr(el, "depth")); s != "" {
		a.Depth, err = strconv.Atoi(s)
		if err != nil || a.Depth < 0 {
			return a, p.lineError("action %s: depth %q is not a non-negative integer", a.Name, s)
		}
	}
	return a, nil
}

func (p *metaDataParser) flag(el *xml.StartElement, name, param string) (bool, error) {
	s := attr(el, name)
	v, ok := parseFlag(s)
	if !ok {
		return false, p.lineError("parameter %q: %s=%q is not a boolean", param, name, s)
	}
	return v, nil
}

func (p *metaDataParser) duration(el *xml.StartElement, name, action string) (time.Duration, error) {
	s := attr(el, name)
	d, err := parseDuration(s)
	if err != nil {
		return 0, p.lineError("action %s: %s: %v", action, name, err)
	}
	return d, nil
}

// descriptions keeps the best shortdesc and longdesc seen: English wins,
// otherwise the first one.
type descriptions struct {
	short, long description
}

type description struct {
	text    string
	english bool
	set     bool
}

func (ds *descriptions) read(p *metaDataParser, el *xml.StartElement) error {
	var text string
	if err := p.d.DecodeElement(&text, el); err != nil {
		return p.syntaxError(err)
	}
	d := &ds.short
	if el.Name.Local == "longdesc" {
		d = &ds.long
	}
	lang := attr(el, "lang")
	english := lang == "" || lang == "en" || strings.HasPrefix(lang, "en-") || strings.HasPrefix(lang, "en_")
	if !d.set || (english && !d.english) {
		*d = description{text: strings.TrimSpace(text), english: english, set: true}
	}
	return nil
}

func attr(el *xml.StartElement, name string) string {
	v, _ := lookupAttr(el, name)
	return v
}

func lookupAttr(el *xml.StartElement, name string) (string, bool) {
	for _, a := range el.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

// parseFlag reads the booleans Pacemaker accepts (crm_is_true and its
// opposite); an absent attribute is false.
func parseFlag(s string) (v, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "no", "n", "off":
		return false, true
	case "1", "true", "yes", "y", "on":
		return true, true
	}
	return false, false
}

// parseDuration reads a timeout or interval the way Pacemaker reads them
// in meta-data and operations: a non-negative integer with an optional unit
// (ms, msec, us, usec, s, sec, m, min, h, hr; seconds when there is none),
// or an ISO 8601 duration like PT20S. The empty string is zero.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if s[0] == 'P' || s[0] == 'p' {
		return parseISODuration(s)
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("%q is not a duration", truncate(s))
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range", truncate(s))
	}
	unit, ok := durationUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
	if !ok {
		return 0, fmt.Errorf("%q has an unknown unit (want ms, s, min or h)", truncate(s))
	}
	return scale(n, unit, s)
}

var durationUnits = map[string]time.Duration{
	"": time.Second, "s": time.Second, "sec": time.Second,
	"ms": time.Millisecond, "msec": time.Millisecond,
	"us": time.Microsecond, "usec": time.Microsecond,
	"m": time.Minute, "min": time.Minute,
	"h": time.Hour, "hr": time.Hour,
}

// parseISODuration reads PnDTnHnMnS (weeks, years and months are not
// fixed lengths, so they are refused).
func parseISODuration(s string) (time.Duration, error) {
	rest := strings.ToUpper(s[1:])
	var total time.Duration
	inTime := false
	seen := false
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, fmt.Errorf("%q is not an ISO 8601 duration", truncate(s))
			}
			inTime = true
			rest = rest[1:]
			continue
		}
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return 0, fmt.Errorf("%q is not an ISO 8601 duration", truncate(s))
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is out of range", truncate(s))
		}
		var unit time.Duration
		switch {
		case rest[i] == 'D' && !inTime:
			unit = 24 * time.Hour
		case rest[i] == 'H' && inTime:
			unit = time.Hour
		case rest[i] == 'M' && inTime:
			unit = time.Minute
		case rest[i] == 'S' && inTime:
			unit = time.Second
		default:
			return 0, fmt.Errorf("%q: only days, hours, minutes and seconds are supported", truncate(s))
		}
		d, err := scale(n, unit, s)
		if err != nil {
			return 0, err
		}
		if total > math.MaxInt64-d {
			return 0, fmt.Errorf("%q is out of range", truncate(s))
		}
		total += d
		seen = true
		rest = rest[i+1:]
	}
	if !seen {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration", truncate(s))
	}
	return total, nil
}

func scale(n int64, unit time.Duration, s string) (time.Duration, error) {
	if n > int64(math.MaxInt64/unit) {
		return 0, fmt.Errorf("%q is out of range", truncate(s))
	}
	return time.Duration(n) * unit, nil
}

// truncate keeps error messages about hostile input short.
func truncate(s string) string {
	const limit = 40
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// charsetReader accepts the single-byte encodings old agents declare;
// encoding/xml reads only UTF-8 itself.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1":
		return &latin1Reader{r: input}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", truncate(charset))
}

// latin1Reader turns ISO-8859-1 bytes into UTF-8: each byte is the code
// point of the same value.
type latin1Reader struct {
	r       io.Reader
	pending []byte
}

func (l *latin1Reader) Read(b []byte) (int, error) {
	if len(l.pending) == 0 {
		buf := make([]byte, max(1, len(b)/2))
		n, err := l.r.Read(buf)
		for _, c := range buf[:n] {
			l.pending = utf8.AppendRune(l.pending, rune(c))
		}
		if n == 0 {
			return 0, err
		}
	}
	n := copy(b, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}
