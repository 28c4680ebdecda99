// Package verify checks a cluster's configuration as a whole, the way
// crm_verify checks a CIB, and adds the findings crm_verify cannot make
// because they need more than the CIB: the unsafe setups users copy from
// guides (no fencing, no-quorum-policy=ignore; DESIGN.md §1 is one) and a
// totem token too short to ride out a bond's failover, which needs
// corosync.conf and the hosts' bond settings.
//
//	bonds, err := verify.ParseInterfaces("/etc/network/interfaces", data)
//	findings := verify.Verify(verify.Input{CIB: c, Corosync: conf, Bonds: bonds})
//
// Verify is a pure function of its input: the caller reads the files.
// Each Finding has a stable ID, the place it is about (file and line, and
// the XPath for the CIB) and a hint saying how to fix it.
package verify

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hakit/hakit/crm/cib"
	"github.com/hakit/hakit/transport/config"
)

// The IDs of findings. Tools match on these, never on messages.
const (
	// IDValidation: a problem cib.Validate found (its errors and warnings).
	IDValidation = "cib-validation"
	// IDFencingDisabled: stonith-enabled (or fencing-enabled) is false.
	IDFencingDisabled = "fencing-disabled"
	// IDNoFenceDevice: fencing is enabled but no stonith-class resource
	// exists. An error, as in crm_verify: no resource would start.
	IDNoFenceDevice = "no-fence-device"
	// IDQuorumIgnored: no-quorum-policy=ignore.
	IDQuorumIgnored = "no-quorum-policy-ignore"
	// IDCorosyncConf: a warning from corosync.conf's own checks.
	IDCorosyncConf = "corosync-conf"
	// IDBondToken: a bond's failover can outlast the totem token.
	IDBondToken = "bond-failover-token"
	// IDBondKnetLink: a bond's failover outlasts knet's ping timeout.
	IDBondKnetLink = "bond-failover-knet-link"
	// IDBondUnmonitored: a bond watches its slaves neither by MII nor by
	// ARP, so it never fails over.
	IDBondUnmonitored = "bond-no-link-monitoring"
)

// Input is what Verify checks. Only CIB is required.
type Input struct {
	CIB *cib.CIB
	// Corosync is the parsed corosync.conf. Without it the bonds are
	// checked against Corosync 3's default timing, for the number of
	// nodes the CIB lists.
	Corosync *config.Config
	// Bonds are the hosts' bonds. Every bond is taken to carry every
	// totem link, as config.CheckBondTiming does.
	Bonds []Bond
}

// Finding is one problem.
type Finding struct {
	ID       string
	Severity cib.Severity
	// File and Line are the place to change: the CIB, corosync.conf or
	// an interfaces file. Line is 0 when there is no such line (a
	// default that is not written, a --bond flag); File is "" for a
	// --bond flag and for a CIB built in code.
	File string
	Line int
	// Path is the XPath of the CIB element, for findings about the CIB.
	Path string
	Msg  string
	// Hint says how to fix it.
	Hint string
}

// String is crm_verify's "warning: ..." form, with the place first and
// the ID last: "warning: cib.xml:4: /cib/...: message [fencing-disabled]".
func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(f.Severity.String())
	b.WriteString(": ")
	if f.File != "" {
		b.WriteString(f.File)
		if f.Line > 0 {
			fmt.Fprintf(&b, ":%d", f.Line)
		}
		b.WriteString(": ")
	}
	if f.Path != "" {
		b.WriteString(f.Path)
		b.WriteString(": ")
	}
	b.WriteString(f.Msg)
	fmt.Fprintf(&b, " [%s]", f.ID)
	return b.String()
}

// Verify returns every finding about in: the CIB's validation problems
// first, in Validate's order, then fencing and quorum, then corosync.conf's
// warnings, then the bonds in the order given.
func Verify(in Input) []Finding {
	v := &verifier{in: in}
	if in.CIB != nil {
		v.validation()
		v.fencing()
		v.quorum()
	}
	v.corosync()
	v.bonds()
	return v.out
}

type verifier struct {
	in  Input
	out []Finding
}

func (v *verifier) add(f Finding) { v.out = append(v.out, f) }

func (v *verifier) validation() {
	for _, p := range v.in.CIB.Validate() {
		// fencing and quorum below say the same, each with its fix.
		if p.ID == cib.ProblemSplitBrain {
			continue
		}
		v.add(Finding{ID: IDValidation, Severity: p.Severity, File: p.File, Line: p.Line, Path: p.Path, Msg: p.Msg})
	}
}

// property finds the first of names that is set, reading the sets in
// Pacemaker's order. ok is false when crm_config cannot be read (a bad set
// score, a date rule): Validate reports that, and a guess at the value
// would only add a wrong finding.
func (v *verifier) property(names ...string) (pair *cib.NVPair, path string, ok bool) {
	for _, name := range names {
		p, path, err := v.in.CIB.PropertyPair(name, cib.RuleInput{})
		if err != nil {
			return nil, "", false
		}
		if p != nil {
			return p, path, true
		}
	}
	return nil, "", true
}

// nodes is the cluster's size: corosync.conf's nodelist when given (the
// cluster layer decides membership), else the CIB's member nodes; 0 when
// neither says.
func (v *verifier) nodes() int {
	if v.in.Corosync != nil {
		return len(v.in.Corosync.Nodes)
	}
	n := 0
	for _, node := range v.in.CIB.Config.Nodes {
		if node.Type == "" || node.Type == "member" {
			n++
		}
	}
	return n
}

func (v *verifier) twoNode() bool { return v.in.Corosync != nil && v.in.Corosync.Quorum.TwoNode }

func (v *verifier) quorumIgnored() bool {
	p, _, _ := v.property("no-quorum-policy")
	return p != nil && p.Value == "ignore"
}

// fencingPair is the property that turns fencing on or off, and whether
// it is on. Pacemaker 3 reads fencing-enabled before its old name,
// stonith-enabled; an unreadable value keeps the default, as in Validate.
func (v *verifier) fencingPair() (p *cib.NVPair, path string, on, ok bool) {
	p, path, ok = v.property("fencing-enabled", "stonith-enabled")
	on = true
	if p != nil {
		if b, err := cib.ParseBool(p.Value); err == nil {
			on = b
		}
	}
	return p, path, on, ok
}

const fenceDevice = "configure a fence device per node (for example primitive fence-vm-node1 stonith:fence_ipmilan params ip=... pcmk_host_list=vm-node1, or SBD with a watchdog)"

func (v *verifier) fencing() {
	c := v.in.CIB
	p, path, on, ok := v.fencingPair()
	if !ok {
		return
	}
	n := v.nodes()
	if !on {
		msg := fmt.Sprintf("fencing is disabled (%s=%s): ", p.Name, p.Value)
		if n == 2 {
			msg += "when the two nodes lose sight of each other, or one hangs, neither can make sure the other is down, and each takes over what the other ran"
		} else {
			msg += "a node that stops answering (a partition, a hang, a stop that failed) is assumed down, never made down, so what it ran can run twice"
		}
		switch {
		case v.quorumIgnored():
			msg += "; with no-quorum-policy=ignore as well, every side of a partition runs every resource (split brain)"
		case n == 2 && v.twoNode():
			msg += "; two_node: 1 keeps both halves of a split quorate, so quorum stops neither"
		}
		hint := fenceDevice + " and set " + p.Name + "=true"
		if n == 2 {
			hint += "; with two nodes also set pcmk_delay_max (or priority-fencing-delay) so that a split does not make them fence each other at once"
		}
		v.add(Finding{ID: IDFencingDisabled, Severity: cib.SevWarning, File: c.File(), Line: p.Line(), Path: path, Msg: msg, Hint: hint})
		return
	}
	if hasFenceDevice(c) {
		return
	}
	f := Finding{ID: IDNoFenceDevice, Severity: cib.SevError, File: c.File(), Path: "/cib/configuration/resources",
		Msg:  `fencing is enabled (the default) but no fence device (a stonith-class resource) is configured: Pacemaker, like hakit, starts no resource until there is one ("Resource start-up disabled since no STONITH resources have been defined")`,
		Hint: fenceDevice + "; only where nothing the cluster runs is harmed by running twice, set stonith-enabled=false instead",
	}
	if p != nil {
		f.Hint = fenceDevice + "; only where nothing the cluster runs is harmed by running twice, set " + p.Name + "=false instead"
		f.Line, f.Path = p.Line(), path
		f.Msg = fmt.Sprintf("fencing is enabled (%s=%s) but no fence device (a stonith-class resource) is configured: Pacemaker, like hakit, starts no resource until there is one (\"Resource start-up disabled since no STONITH resources have been defined\")", p.Name, p.Value)
	}
	v.add(f)
}

// hasFenceDevice reports whether any resource, at any depth, is a fence
// device: a stonith-class primitive, or a primitive made from a
// stonith-class template.
func hasFenceDevice(c *cib.CIB) bool {
	templates := map[string]bool{}
	for _, r := range c.Config.Resources {
		if raw, ok := r.(*cib.RawResource); ok && raw.Raw != nil && raw.Raw.Name == "template" {
			if class, _ := raw.Raw.Attr("class"); class == "stonith" {
				templates[raw.Raw.ID()] = true
			}
		}
	}
	var walk func([]cib.Resource) bool
	walk = func(rs []cib.Resource) bool {
		for _, r := range rs {
			switch r := r.(type) {
			case *cib.Primitive:
				if r.Class == "stonith" || templates[r.Template] {
					return true
				}
			case *cib.Group:
				if walk(r.Children) {
					return true
				}
			case *cib.Clone:
				if r.Child != nil && walk([]cib.Resource{r.Child}) {
					return true
				}
			}
		}
		return false
	}
	return walk(c.Config.Resources)
}

func (v *verifier) quorum() {
	p, path, _ := v.property("no-quorum-policy")
	if p == nil || p.Value != "ignore" {
		return
	}
	_, _, fencing, _ := v.fencingPair()
	n := v.nodes()
	msg := "no-quorum-policy=ignore: a partition without quorum carries on as if it had it"
	switch {
	case v.twoNode():
		// Both halves of a split keep quorum then, so what happens in a
		// split is fencing's business, not this setting's.
		msg += "; with two_node: 1 a node that loses its peer stays quorate anyway, so ignore changes only what a node booting alone does: it starts everything, which wait_for_all is there to prevent"
	case !fencing:
		msg += ", and without fencing that means every side of a split runs every resource (split brain)"
	case n == 2:
		msg += ": in a split each node fences the other and the faster one wins the race, not the one that should"
	default:
		msg += ": in a split a minority fences the majority's nodes and takes over what they ran"
	}
	hint := "remove it (the default, stop, stops the resources of a partition without quorum)"
	if n == 2 && !v.twoNode() {
		hint += "; for two nodes set two_node: 1 in corosync.conf's quorum section instead, which keeps the survivor quorate and holds a node booting alone back until it has seen its peer"
	}
	v.add(Finding{ID: IDQuorumIgnored, Severity: cib.SevWarning, File: v.in.CIB.File(), Line: p.Line(), Path: path, Msg: msg, Hint: hint})
}

// corosync passes on corosync.conf's own warnings ("file:line: msg").
func (v *verifier) corosync() {
	c := v.in.Corosync
	if c == nil {
		return
	}
	for _, w := range c.Warnings {
		f := Finding{ID: IDCorosyncConf, Severity: cib.SevWarning, File: c.File(), Msg: w}
		if rest, ok := strings.CutPrefix(w, c.File()+":"); ok {
			f.Msg = strings.TrimPrefix(rest, " ")
			if num, msg, ok := strings.Cut(rest, ": "); ok {
				if line, err := strconv.Atoi(num); err == nil {
					f.Line, f.Msg = line, msg
				}
			}
		}
		v.add(f)
	}
}

// timing is the corosync.conf the bonds are checked against: the one
// given, or Corosync 3's defaults for the CIB's node count.
func (v *verifier) timing() (*config.Config, string) {
	if v.in.Corosync != nil {
		return v.in.Corosync, ""
	}
	n := 2
	if v.in.CIB != nil {
		n = max(v.nodes(), 2)
	}
	c := &config.Config{Totem: config.DefaultTotem(), Nodes: make([]config.Node, n)}
	return c, fmt.Sprintf(" (no corosync.conf given: Corosync 3's default token, %d ms for %d nodes)", c.EffectiveToken().Milliseconds(), n)
}

func (v *verifier) bonds() {
	if len(v.in.Bonds) == 0 {
		return
	}
	conf, assumed := v.timing()
	for i := range v.in.Bonds {
		b := &v.in.Bonds[i]
		// In broadcast mode every frame goes out on every slave, so a
		// dead one loses nothing.
		if b.Mode == "broadcast" {
			continue
		}
		if b.Miimon == 0 {
			if b.ArpInterval == 0 {
				v.add(Finding{ID: IDBondUnmonitored, Severity: cib.SevWarning, File: b.File, Line: b.Line,
					Msg:  fmt.Sprintf("bond %s (%s) has miimon 0 and no ARP monitoring: it never notices a dead slave, so a NIC failure cuts it off until the NIC comes back", b.Name, b.Source()),
					Hint: "set bond-miimon 100 (and bond-downdelay/bond-updelay as multiples of it)",
				})
			}
			// ARP monitoring's failover depends on the targets' answers,
			// which a configuration does not tell.
			continue
		}
		timing := config.BondTiming{Name: b.Name, Miimon: b.Miimon, Downdelay: b.Downdelay, Updelay: b.Updelay}
		for _, w := range config.BondWarnings(conf, []config.BondTiming{timing}) {
			v.add(v.bondFinding(b, w, conf, assumed))
		}
	}
}

func (v *verifier) bondFinding(b *Bond, w config.BondWarning, conf *config.Config, assumed string) Finding {
	f := Finding{ID: IDBondToken, Severity: cib.SevWarning, File: conf.File(), Line: w.Line}
	if assumed != "" {
		// Nothing in corosync.conf to point at: point at the bond.
		f.File, f.Line = b.File, b.Line
	}
	src := b.Source()
	if b.MiimonDefault {
		src += ", miimon not set: the driver's 100 ms"
	}
	downdelay := fmt.Sprintf("the bond's downdelay (%s)", src)
	if b.DowndelayLine > 0 {
		downdelay = fmt.Sprintf("bond-downdelay (%s:%d)", b.File, b.DowndelayLine)
	}
	// config's message names the bond; the admin also needs to know
	// which definition it read.
	named := "bond " + b.Name + " "
	detailed := strings.Replace(w.Msg, named, fmt.Sprintf("bond %s (%s) ", b.Name, src), 1) + assumed
	if w.Link {
		f.ID = IDBondKnetLink
		f.Msg = detailed
		f.Hint = "raise knet_ping_interval and knet_ping_timeout in the totem interface block until the timeout exceeds that silence (or token, from which both derive), or lower " + downdelay
		return f
	}
	if w.Token <= w.Window {
		// The plain case, said plainly: the failover alone outlasts the
		// token, whatever the retransmits and knet do.
		down := ms(w.Window - b.Miimon)
		if w.Window-b.Miimon != b.Downdelay {
			down = fmt.Sprintf("%s, rounded down to %s", ms(b.Downdelay), down)
		}
		f.Msg = fmt.Sprintf("bond %s (%s) fails over in up to %s (miimon %s + downdelay %s), and the token (effective %s) is not longer%s: a NIC failure on it loses the token and changes the membership before the bond recovers",
			b.Name, src, ms(w.Window), ms(b.Miimon), down, ms(w.Token), assumed)
	} else {
		f.Msg = detailed
	}
	if w.MinToken > 0 {
		f.Hint = fmt.Sprintf("raise token to at least %s in corosync.conf's totem section, or lower %s", ms(w.MinToken), downdelay)
	} else {
		f.Hint = "lower " + downdelay
	}
	return f
}

func ms(d time.Duration) string {
	if d%time.Millisecond == 0 {
		return fmt.Sprintf("%d ms", d/time.Millisecond)
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
