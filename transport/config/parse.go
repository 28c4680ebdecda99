package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Parse parses corosync.conf text into a validated Config; name is used in
// error messages ("corosync.conf:12: ..."). On failure the error is an
// Errors listing the problems found (the first 50), each an *Error or
// *UnsupportedError. Inputs over 1 MiB are refused unread.
func Parse(name string, src []byte) (*Config, error) {
	if len(src) > maxInputSize {
		return nil, Errors{&Error{name, 0, fmt.Sprintf("%d bytes is larger than the %d a corosync.conf may have", len(src), maxInputSize)}}
	}
	root, err := parseSyntax(name, src)
	if err != nil {
		return nil, Errors{err}
	}
	d := &decoder{file: name, cfg: defaultConfig(name), topLines: map[string]int{}}
	d.walk(root, topSpec, "", d.cfg.lines)
	// Corosync picks the address family order from the transport when
	// ip_version is absent: IPv4 only for multicast udp, else IPv6 first.
	if d.cfg.Totem.Transport == "udp" && d.cfg.lines["totem.ip_version"] == 0 {
		d.cfg.Totem.IPVersion = "ipv4"
	}
	// Validation reads what decoding stored; after a decoding error it
	// would mostly repeat that error in other words, so it waits.
	if len(d.errs) == 0 {
		d.errs = d.cfg.validate()
	}
	if len(d.errs) > 0 {
		return nil, capErrors(name, d.errs)
	}
	d.warns = append(d.warns, d.cfg.lint()...)
	slices.SortStableFunc(d.warns, func(a, b warning) int { return a.line - b.line })
	for _, w := range d.warns[:min(len(d.warns), maxWarnings)] {
		d.cfg.Warnings = append(d.cfg.Warnings, w.format(name))
	}
	if n := len(d.warns) - maxWarnings; n > 0 {
		d.cfg.Warnings = append(d.cfg.Warnings, fmt.Sprintf("%s: %d more warnings not shown", name, n))
	}
	return d.cfg, nil
}

type warning struct {
	line int
	msg  string
}

func (w warning) format(file string) string {
	if w.line > 0 {
		return fmt.Sprintf("%s:%d: %s", file, w.line, w.msg)
	}
	return fmt.Sprintf("%s: %s", file, w.msg)
}

type decoder struct {
	file     string
	cfg      *Config
	errs     []error
	warns    []warning
	topLines map[string]int // top-level section -> line of its first occurrence

	iface *Interface // the interface { } block being decoded
	node  *Node      // the node { } block being decoded
}

func (d *decoder) errorf(line int, format string, args ...any) {
	d.errs = append(d.errs, &Error{d.file, line, fmt.Sprintf(format, args...)})
}

func (d *decoder) unsupported(line int, option, reason string) {
	d.errs = append(d.errs, &UnsupportedError{d.file, line, option, reason})
}

func (d *decoder) warnf(line int, format string, args ...any) {
	d.warns = append(d.warns, warning{line, fmt.Sprintf(format, args...)})
}

// spec describes what one kind of section may contain.
type spec struct {
	path        string // for messages: "totem", "totem.interface", ...
	keys        map[string]func(*decoder, *item)
	sections    map[string]func(*decoder, *item)
	unsupported map[string]string // key or section name -> why hakit lacks it
	// dynamic handles keys that are families rather than names (ringN_addr);
	// dynamicNames lists them for suggestions.
	dynamic      func(*decoder, *item) bool
	dynamicNames []string
}

// walk dispatches the children of sec by s. lines records the line each
// key was set on, under prefix; a key set twice keeps its last value, as in
// Corosync (its cmap overwrites), with a warning.
func (d *decoder) walk(sec *item, s *spec, prefix string, lines map[string]int) {
	for _, it := range sec.children {
		if len(d.errs) > maxErrors {
			return // capErrors reports the rest as "too many"
		}
		where := s.path
		if where == "" {
			where = "the top level"
		}
		if reason, ok := s.unsupported[it.name]; ok {
			if !it.section && offValue(it) {
				continue
			}
			d.unsupported(it.line, join(s.path, it.name), reason)
			continue
		}
		if it.section {
			if h, ok := s.sections[it.name]; ok {
				h(d, it)
				continue
			}
			if _, ok := s.keys[it.name]; ok {
				d.errorf(it.line, "%s is a key, not a section: write %s: value", it.name, it.name)
				continue
			}
			d.errorf(it.line, "unknown section %s in %s%s", clip(it.name), where, d.hint(it.name, s, true))
			continue
		}
		if h, ok := s.keys[it.name]; ok {
			d.record(lines, prefix+it.name, it, where)
			h(d, it)
			continue
		}
		if s.dynamic != nil && s.dynamic(d, it) {
			continue
		}
		if _, ok := s.sections[it.name]; ok {
			d.errorf(it.line, "%s is a section, not a key: write %s { ... }", it.name, it.name)
			continue
		}
		d.errorf(it.line, "unknown key %s in %s%s", clip(it.name), where, d.hint(it.name, s, false))
	}
}

func (d *decoder) record(lines map[string]int, key string, it *item, where string) {
	if first, ok := lines[key]; ok {
		d.warnf(it.line, "%s is set again in %s (first on line %d); the last value wins, as in Corosync", it.name, where, first)
	}
	lines[key] = it.line
}

// offValue reports whether an unsupported option is set to the value that
// turns it off, which is the same as leaving it out and so is accepted.
func offValue(it *item) bool {
	switch it.name {
	case "heartbeat_failures_allowed", "allow_downscale", "expected_votes_tracking":
		return it.value == "0"
	case "knet_compression_model":
		return it.value == "none"
	}
	return false
}

// hint suggests a near-miss name in the same section, or names the section
// a misplaced key belongs to.
func (d *decoder) hint(name string, s *spec, section bool) string {
	var cands []string
	if section {
		cands = mapKeys(s.sections)
	} else {
		cands = mapKeys(s.keys)
	}
	for k := range s.unsupported {
		cands = append(cands, k)
	}
	if !section {
		cands = append(cands, s.dynamicNames...)
	}
	if best := suggest(name, cands); best != "" {
		return " (did you mean " + best + "?)"
	}
	for _, other := range allSpecs {
		if other == s {
			continue
		}
		if _, ok := other.keys[name]; ok && !section {
			return " (" + name + " belongs in " + other.path + ")"
		}
		if _, ok := other.sections[name]; ok && section {
			return " (" + name + " belongs in " + other.path + ")"
		}
	}
	return ""
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// ---- value helpers ------------------------------------------------------

// uintVal parses an unsigned decimal like Corosync's safe_atoq: optional
// '+', digits, nothing else, within [0, max].
func (d *decoder) uintVal(it *item, max uint64, unit string) (uint64, bool) {
	v, err := strconv.ParseUint(strings.TrimPrefix(it.value, "+"), 10, 64)
	if err != nil || v > max {
		hint := ""
		if strings.Contains(it.value, "#") {
			hint = " (corosync.conf has no trailing comments: '#' only starts a comment at the beginning of a line)"
		}
		d.errorf(it.line, "%s: want an integer in 0..%d%s, got %s%s", it.name, max, unit, quote(it.value), hint)
		return 0, false
	}
	return v, true
}

func ms(v uint64) time.Duration { return time.Duration(v) * time.Millisecond }

// msKey stores a uint32 millisecond value.
func msKey(field func(*Totem) *time.Duration) func(*decoder, *item) {
	return func(d *decoder, it *item) {
		if v, ok := d.uintVal(it, math.MaxUint32, " (milliseconds)"); ok {
			*field(&d.cfg.Totem) = ms(v)
		}
	}
}

// msDefaultKey stores a millisecond value for which Corosync reads 0 as
// "use the default" (allow_zero_value = 0 in totemconfig.c).
func msDefaultKey(field func(*Totem) *time.Duration, def time.Duration) func(*decoder, *item) {
	return func(d *decoder, it *item) {
		v, ok := d.uintVal(it, math.MaxUint32, " (milliseconds)")
		if !ok {
			return
		}
		if v == 0 {
			d.warnf(it.line, "%s: 0 means the default (%v), as in Corosync", it.name, def)
			*field(&d.cfg.Totem) = def
			return
		}
		*field(&d.cfg.Totem) = ms(v)
	}
}

// countDefaultKey is msDefaultKey for counts.
func countDefaultKey(field func(*Totem) *int, def int) func(*decoder, *item) {
	return func(d *decoder, it *item) {
		v, ok := d.uintVal(it, math.MaxUint32, "")
		if !ok {
			return
		}
		if v == 0 {
			d.warnf(it.line, "%s: 0 means the default (%d), as in Corosync", it.name, def)
			v = uint64(def)
		}
		*field(&d.cfg.Totem) = int(v)
	}
}

// enum checks a value against the exact strings Corosync compares with
// (strcmp: case-sensitive).
func (d *decoder) enum(it *item, allowed ...string) (string, bool) {
	if slices.Contains(allowed, it.value) {
		return it.value, true
	}
	hint := ""
	for _, a := range allowed {
		if strings.EqualFold(a, it.value) {
			hint = " (values are case-sensitive)"
		}
	}
	if hint == "" && strings.Contains(it.value, "#") {
		hint = " (corosync.conf has no trailing comments)"
	}
	d.errorf(it.line, "%s: want one of %s, got %s%s", it.name, strings.Join(allowed, ", "), quote(it.value), hint)
	return "", false
}

// yesNo is the boolean form totem uses ("yes"/"no" only).
func (d *decoder) yesNo(it *item) (bool, bool) {
	v, ok := d.enum(it, "yes", "no")
	return v == "yes", ok
}

// onOff is the boolean form logging uses for destinations.
func (d *decoder) onOff(it *item) (bool, bool) {
	v, ok := d.enum(it, "yes", "no", "on", "off")
	return v == "yes" || v == "on", ok
}

// zeroOne is the boolean form votequorum uses. Corosync stores these as
// uint8 and treats any non-zero value as true; hakit accepts only 0 and 1
// so that "two_node: yes" (a Corosync parse error too) gets a clear message.
func (d *decoder) zeroOne(it *item) (bool, bool) {
	switch it.value {
	case "0":
		return false, true
	case "1":
		return true, true
	}
	d.errorf(it.line, "%s: want 0 or 1, got %s", it.name, quote(it.value))
	return false, false
}

// text stores a free-form value, warning about the two ways corosync.conf
// syntax surprises people: quotes and trailing comments are both kept.
func (d *decoder) text(it *item) (string, bool) {
	if it.value == "" {
		d.errorf(it.line, "%s: empty value", it.name)
		return "", false
	}
	if len(it.value) >= 2 && (it.value[0] == '"' && it.value[len(it.value)-1] == '"' || it.value[0] == '\'' && it.value[len(it.value)-1] == '\'') {
		d.warnf(it.line, "%s: the quotes are part of the value %s (corosync.conf has no quoting)", it.name, clip(it.value))
	}
	if strings.Contains(it.value, " #") || strings.Contains(it.value, "\t#") {
		d.warnf(it.line, "%s: %s includes the '#' and what follows (corosync.conf has no trailing comments)", it.name, quote(it.value))
	}
	return it.value, true
}
