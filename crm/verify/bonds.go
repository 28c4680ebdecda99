package verify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Bond is one Linux bond's link monitoring, which decides how long a NIC
// failure loses frames. It is the operating system's configuration, not
// the cluster's, so the admin supplies it: from a Debian interfaces file
// (ParseInterfaces) or a --bond flag (ParseBondFlag).
type Bond struct {
	Name string
	// Mode is the bonding mode's name ("active-backup", "balance-rr",
	// ...; numbers are translated), "" when not written: the kernel then
	// uses balance-rr.
	Mode string
	// Miimon is the MII polling interval; 0 turns MII monitoring off.
	// Downdelay and Updelay are the MII delays, ArpInterval the ARP
	// monitor's interval (not modelled: its timing depends on the
	// targets' answers).
	Miimon, Downdelay, Updelay, ArpInterval time.Duration
	// MiimonDefault says Miimon was not written and holds the bonding
	// driver's default: 100 ms when ARP monitoring is off.
	MiimonDefault bool
	Slaves        []string
	// DowndelayLine is the line of bond-downdelay, 0 when not written:
	// where the fix goes if the token is to stay.
	DowndelayLine int
	// File and Line are the bond's first iface stanza; Flag is the --bond
	// argument instead, when it came from one.
	File string
	Line int
	Flag string
}

// Source names where the bond was defined, for messages.
func (b *Bond) Source() string {
	switch {
	case b.Flag != "":
		return "--bond " + clip(b.Flag)
	case b.Line > 0:
		return fmt.Sprintf("%s:%d", b.File, b.Line)
	}
	return b.File
}

// defaultMiimon is the bonding driver's miimon when neither miimon nor
// arp_interval is given (Documentation/networking/bonding.rst); before
// Linux 4.19 it was 0, no monitoring at all.
const defaultMiimon = 100 * time.Millisecond

// maxMs bounds a delay: the kernel keeps them in an int of milliseconds.
const maxMs = 1<<31 - 1

// modes are the bonding modes by number, as bond-mode accepts either.
var modes = []string{"balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"}

func parseMode(s string) (string, error) {
	for i, m := range modes {
		if s == m || s == strconv.Itoa(i) {
			return m, nil
		}
	}
	return "", fmt.Errorf("bond mode %s is not one of %s (or 0-6)", quote(s), strings.Join(modes, ", "))
}

func parseMs(key, s string) (time.Duration, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > maxMs {
		return 0, fmt.Errorf("%s %s is not a whole number of milliseconds", key, quote(s))
	}
	return time.Duration(n) * time.Millisecond, nil
}

// Error is a problem at one line of an interfaces file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Limits on what one interfaces file can cost: real ones are a few
// kilobytes.
const (
	maxInput  = 1 << 20
	maxErrors = 20
	maxEcho   = 64
)

// ParseInterfaces reads the bonds from a Debian ifupdown interfaces file
// (interfaces(5), with ifenslave's bond options; name is used in
// messages). A bond is an iface stanza with bond options or slaves; the
// options of several stanzas for one interface (inet and inet6) add up.
// Options may be written bond-miimon or bond_miimon, as ifupdown hands
// both to ifenslave as IF_BOND_MIIMON. Stanzas of slaves (bond-master)
// and everything else are skipped, and source/source-directory lines are
// not followed: pass those files as well. The error, if any, lists every
// problem (the first 20), each an *Error naming file and line.
func ParseInterfaces(name string, data []byte) ([]Bond, error) {
	if len(data) > maxInput {
		return nil, &Error{name, 1, fmt.Sprintf("%d bytes is larger than the %d an interfaces file may have", len(data), maxInput)}
	}
	p := &ifParser{file: name, byName: map[string]*ifStanza{}}
	p.run(string(data))
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	var bonds []Bond
	for _, st := range p.order {
		if b, ok := st.result(); ok {
			bonds = append(bonds, b)
		}
	}
	return bonds, nil
}

// ifStanza gathers the options of every iface stanza for one interface.
type ifStanza struct {
	bond   Bond
	seen   map[string]int // option (normalised) -> line it was given on
	master bool           // a slave: its bond options describe its master
	isBond bool
}

func (st *ifStanza) result() (Bond, bool) {
	if !st.isBond || st.master {
		return Bond{}, false
	}
	b := st.bond
	if _, ok := st.seen["bond-miimon"]; !ok && b.ArpInterval == 0 {
		b.Miimon, b.MiimonDefault = defaultMiimon, true
	}
	return b, true
}

type ifParser struct {
	file   string
	errs   []error
	cur    *ifStanza // the iface stanza options belong to; nil in other stanzas
	inAny  bool      // a stanza has begun, so an option line is not misplaced
	byName map[string]*ifStanza
	order  []*ifStanza
}

func (p *ifParser) errorf(line int, format string, args ...any) {
	switch {
	case len(p.errs) > maxErrors:
	case len(p.errs) == maxErrors:
		p.errs = append(p.errs, &Error{p.file, line, "too many errors; the rest are not shown"})
	default:
		p.errs = append(p.errs, &Error{p.file, line, fmt.Sprintf(format, args...)})
	}
}

func (p *ifParser) run(src string) {
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		text := strings.TrimRight(lines[i], " \t\r")
		// interfaces(5): a line ending in a backslash goes on; comments
		// are whole lines only, so the check comes after joining.
		for strings.HasSuffix(text, "\\") && i+1 < len(lines) {
			i++
			text = strings.TrimSuffix(text, "\\") + " " + strings.TrimRight(lines[i], " \t\r")
		}
		text = strings.TrimSuffix(text, "\\")
		fields := strings.Fields(text)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		p.line(start, fields)
	}
}

func (p *ifParser) line(n int, f []string) {
	switch kw := f[0]; {
	case kw == "iface":
		p.inAny = true
		if len(f) < 4 {
			p.errorf(n, "iface needs a name, an address family and a method (iface bond0 inet static)")
			p.cur = nil
			return
		}
		st, ok := p.byName[f[1]]
		if !ok {
			st = &ifStanza{bond: Bond{Name: f[1], File: p.file, Line: n}, seen: map[string]int{}}
			p.byName[f[1]] = st
			p.order = append(p.order, st)
		}
		p.cur = st
	case kw == "mapping" || kw == "auto" || strings.HasPrefix(kw, "allow-") || kw == "source" ||
		kw == "source-directory" || kw == "rename" || kw == "no-auto-down" || kw == "no-scripts":
		p.inAny = true
		p.cur = nil
	case !p.inAny:
		p.errorf(n, "option %s outside a stanza (ifup refuses the file): start with iface NAME inet METHOD", quote(kw))
	case p.cur != nil:
		p.option(n, f)
	}
}

func (p *ifParser) option(n int, f []string) {
	st := p.cur
	key := strings.ReplaceAll(f[0], "_", "-")
	switch key {
	case "slaves", "bond-members":
		key = "bond-slaves"
	case "bond-mode", "bond-miimon", "bond-downdelay", "bond-updelay", "bond-arp-interval", "bond-slaves", "bond-master":
	default:
		return
	}
	if prev, dup := st.seen[key]; dup {
		p.errorf(n, "%s for %s already given at line %d", key, quote(st.bond.Name), prev)
		return
	}
	st.seen[key] = n
	args := f[1:]
	if key == "bond-slaves" {
		st.isBond = true
		for _, s := range args {
			if s != "none" {
				st.bond.Slaves = append(st.bond.Slaves, s)
			}
		}
		return
	}
	if key == "bond-master" {
		st.master = true
		return
	}
	st.isBond = true
	if len(args) != 1 {
		p.errorf(n, "%s takes one value, not %d", key, len(args))
		return
	}
	var err error
	b := &st.bond
	switch key {
	case "bond-mode":
		b.Mode, err = parseMode(args[0])
	case "bond-miimon":
		b.Miimon, err = parseMs(key, args[0])
	case "bond-downdelay":
		b.Downdelay, err = parseMs(key, args[0])
		b.DowndelayLine = n
	case "bond-updelay":
		b.Updelay, err = parseMs(key, args[0])
	case "bond-arp-interval":
		b.ArpInterval, err = parseMs(key, args[0])
	}
	if err != nil {
		p.errorf(n, "%v", err)
	}
}

// ParseBondFlag reads a --bond value: NAME:miimon=MS[,downdelay=MS]
// [,updelay=MS][,mode=MODE], delays in whole milliseconds (an "ms"
// suffix is allowed). miimon is required: the flag is for the values the
// running bond has (/sys/class/net/NAME/bonding/), not for guessing them.
func ParseBondFlag(s string) (Bond, error) {
	name, opts, ok := strings.Cut(s, ":")
	if !ok || name == "" || opts == "" {
		return Bond{}, fmt.Errorf("--bond %s: want NAME:miimon=MS,downdelay=MS[,updelay=MS][,mode=MODE]", quote(s))
	}
	b := Bond{Name: name, Flag: s}
	seen := map[string]bool{}
	for _, kv := range strings.Split(opts, ",") {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.ReplaceAll(strings.TrimSpace(k), "-", "_")
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			return Bond{}, fmt.Errorf("--bond %s: %s is not KEY=VALUE", quote(s), quote(kv))
		}
		if seen[k] {
			return Bond{}, fmt.Errorf("--bond %s: %s given twice", quote(s), k)
		}
		seen[k] = true
		var err error
		switch k {
		case "miimon":
			b.Miimon, err = parseMs(k, strings.TrimSuffix(v, "ms"))
		case "downdelay":
			b.Downdelay, err = parseMs(k, strings.TrimSuffix(v, "ms"))
		case "updelay":
			b.Updelay, err = parseMs(k, strings.TrimSuffix(v, "ms"))
		case "arp_interval":
			b.ArpInterval, err = parseMs(k, strings.TrimSuffix(v, "ms"))
		case "mode":
			b.Mode, err = parseMode(v)
		default:
			err = fmt.Errorf("unknown key %s: use miimon, downdelay, updelay, arp_interval or mode", quote(k))
		}
		if err != nil {
			return Bond{}, fmt.Errorf("--bond %s: %w", quote(s), err)
		}
	}
	if !seen["miimon"] {
		return Bond{}, fmt.Errorf("--bond %s: give miimon=MS (0 if the bond has no MII monitoring)", quote(s))
	}
	return b, nil
}

// clip shortens s for quoting, so that a message never echoes an
// unbounded piece of the input.
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

func quote(s string) string { return strconv.Quote(clip(s)) }
