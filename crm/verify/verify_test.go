package verify

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hakit/hakit/crm/cib"
	"github.com/hakit/hakit/transport/config"
)

// cibXML wraps crm_config, nodes and resources sections in a CIB. The
// crm_config starts on line 3, so a property's line is 3 + its index
// among the lines of props.
func cibXML(props, nodes, resources string) string {
	return `<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
<configuration>
<crm_config>` + props + `</crm_config>
<nodes>` + nodes + `</nodes>
<resources>` + resources + `</resources>
<constraints/>
</configuration>
</cib>
`
}

func bootstrap(pairs ...string) string {
	var b strings.Builder
	b.WriteString(`<cluster_property_set id="cib-bootstrap-options">`)
	for _, p := range pairs {
		name, value, _ := strings.Cut(p, "=")
		fmt.Fprintf(&b, "\n<nvpair id=\"opt-%s\" name=\"%s\" value=\"%s\"/>", name, name, value)
	}
	b.WriteString("\n</cluster_property_set>")
	return b.String()
}

const (
	twoNodes   = `<node id="1" uname="vm-node1"/><node id="2" uname="vm-node2"/>`
	threeNodes = twoNodes + `<node id="3" uname="vm-node3"/><node id="4" uname="gw" type="ping"/>`
	vip        = `<primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2"/>`
	fence      = `<primitive id="fence1" class="stonith" type="fence_ipmilan"/>`
)

func parseCIB(t *testing.T, src string) *cib.CIB {
	t.Helper()
	c, err := cib.Parse("cib.xml", []byte(src))
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	return c
}

// want is one expected finding: its id, severity and line, and words its
// message and hint must contain.
type want struct {
	id   string
	sev  cib.Severity
	line int
	msg  []string
	hint []string
}

func check(t *testing.T, got []Finding, wants []want) {
	t.Helper()
	var text strings.Builder
	for _, f := range got {
		fmt.Fprintf(&text, "  %s\n    hint: %s\n", f, f.Hint)
	}
	if len(got) != len(wants) {
		t.Fatalf("%d findings, want %d:\n%s", len(got), len(wants), text.String())
	}
	for i, w := range wants {
		f := got[i]
		if f.ID != w.id || f.Severity != w.sev || f.Line != w.line {
			t.Errorf("finding %d: %s %s line %d, want %s %s line %d:\n%s", i, f.ID, f.Severity, f.Line, w.id, w.sev, w.line, text.String())
		}
		for _, m := range w.msg {
			if !strings.Contains(f.Msg, m) {
				t.Errorf("finding %d (%s): message %q lacks %q", i, f.ID, f.Msg, m)
			}
		}
		for _, h := range w.hint {
			if !strings.Contains(f.Hint, h) {
				t.Errorf("finding %d (%s): hint %q lacks %q", i, f.ID, f.Hint, h)
			}
		}
		// Validate's and corosync.conf's own messages say what to do.
		if f.Msg == "" || (f.ID != IDValidation && f.ID != IDCorosyncConf && f.Hint == "") {
			t.Errorf("finding %d (%s): no message or no hint", i, f.ID)
		}
	}
}

func TestVerifyCIB(t *testing.T) {
	warn, errSev := cib.SevWarning, cib.SevError
	for _, tc := range []struct {
		name string
		cib  string
		want []want
	}{
		{
			// DESIGN.md §1: both unsafe settings, each on its own line and
			// with its own fix, in place of Validate's one split-brain
			// warning.
			name: "the reference setup's properties",
			cib:  cibXML(bootstrap("stonith-enabled=false", "no-quorum-policy=ignore"), twoNodes, vip),
			want: []want{
				{IDFencingDisabled, warn, 4, []string{"stonith-enabled=false", "the two nodes", "split brain"}, []string{"fence device", "stonith-enabled=true", "pcmk_delay_max"}},
				{IDQuorumIgnored, warn, 5, []string{"no-quorum-policy=ignore", "without fencing", "split brain"}, []string{"remove it", "two_node: 1"}},
			},
		},
		{
			name: "fencing disabled, quorum kept, three nodes",
			cib:  cibXML(bootstrap("stonith-enabled=0"), threeNodes, vip),
			want: []want{{IDFencingDisabled, warn, 4, []string{"stonith-enabled=0", "assumed down, never made down"}, []string{"set stonith-enabled=true"}}},
		},
		{
			name: "Pacemaker 3's name",
			cib:  cibXML(bootstrap("fencing-enabled=false"), twoNodes, vip),
			want: []want{{IDFencingDisabled, warn, 4, []string{"fencing-enabled=false"}, []string{"set fencing-enabled=true"}}},
		},
		{
			// As in Validate, the new name is read first.
			name: "fencing-enabled wins over stonith-enabled",
			cib:  cibXML(bootstrap("stonith-enabled=false", "fencing-enabled=true"), twoNodes, fence+vip),
		},
		{
			// crm_verify: "Resource start-up disabled since no STONITH
			// resources have been defined", an error.
			name: "fencing on by default, no device",
			cib:  cibXML("", twoNodes, vip),
			want: []want{{IDNoFenceDevice, errSev, 0, []string{"enabled (the default)", "starts no resource"}, []string{"fence device", "stonith-enabled=false"}}},
		},
		{
			name: "fencing on explicitly, no device",
			cib:  cibXML(bootstrap("stonith-enabled=true"), twoNodes, vip),
			want: []want{{IDNoFenceDevice, errSev, 4, []string{"stonith-enabled=true"}, nil}},
		},
		{
			name: "a fence device",
			cib:  cibXML(bootstrap("stonith-enabled=true", "no-quorum-policy=stop"), twoNodes, fence+vip),
		},
		{
			name: "a cloned fence device",
			cib:  cibXML("", twoNodes, vip+`<clone id="fence-clone">`+fence+`</clone>`),
		},
		{
			name: "a fence device from a template",
			cib:  cibXML("", twoNodes, `<template id="fence-tpl" class="stonith" type="fence_ipmilan"/><primitive id="fence1" template="fence-tpl"/>`+vip),
		},
		{
			name: "quorum ignored with fencing, two nodes",
			cib:  cibXML(bootstrap("no-quorum-policy=ignore"), twoNodes, fence),
			want: []want{{IDQuorumIgnored, warn, 4, []string{"fences the other", "race"}, []string{"two_node: 1"}}},
		},
		{
			name: "quorum ignored with fencing, three nodes",
			cib:  cibXML(bootstrap("no-quorum-policy=ignore"), threeNodes, fence),
			want: []want{{IDQuorumIgnored, warn, 4, []string{"a minority fences the majority"}, []string{"remove it"}}},
		},
		{
			// The set crm_attribute writes is read first, whatever the
			// document order.
			name: "cib-bootstrap-options first",
			cib: cibXML(`<cluster_property_set id="other">
<nvpair id="o-q" name="no-quorum-policy" value="stop"/>
</cluster_property_set>`+bootstrap("no-quorum-policy=ignore"), twoNodes, fence),
			want: []want{{IDQuorumIgnored, warn, 6, nil, nil}},
		},
		{
			// A guess at what the set says would only add a wrong finding.
			name: "crm_config hakit cannot read: only Validate speaks",
			cib: cibXML(`<cluster_property_set id="cib-bootstrap-options">
<rule id="r"><date_expression id="d" operation="gt" start="2020-01-01"/></rule>
<nvpair id="o-s" name="stonith-enabled" value="false"/>
</cluster_property_set>`, twoNodes, vip),
			want: []want{{IDValidation, warn, 4, []string{"date rules"}, nil}},
		},
		{
			name: "validation problems come first, with their lines",
			cib:  strings.Replace(cibXML(bootstrap("stonith-enabled=false"), twoNodes, vip), "<constraints/>", `<constraints><rsc_location id="l" rsc="nosuch" score="10" node="vm-node1"/></constraints>`, 1),
			want: []want{
				{IDValidation, errSev, 8, []string{`no resource has id "nosuch"`}, nil},
				{IDFencingDisabled, warn, 4, nil, nil},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Verify(Input{CIB: parseCIB(t, tc.cib)})
			check(t, got, tc.want)
			for _, f := range got {
				if f.File != "cib.xml" {
					t.Errorf("%s: file %q, want cib.xml", f.ID, f.File)
				}
				if f.ID == IDFencingDisabled && !strings.HasPrefix(f.Path, "/cib/configuration/crm_config/cluster_property_set[@id='cib-bootstrap-options']/nvpair[@id='opt-") {
					t.Errorf("%s: path %q", f.ID, f.Path)
				}
			}
		})
	}
}

// corosyncConf renders a corosync.conf for n nodes on links 0 and 1 with
// extra lines in the totem section (from line 4 on) and in quorum.
func corosyncConf(t *testing.T, n int, totem, quorum string) *config.Config {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "totem {\n\tversion: 2\n\tcluster_name: hakit\n%s", totem)
	b.WriteString("\tinterface {\n\t\tlinknumber: 0\n\t}\n\tinterface {\n\t\tlinknumber: 1\n\t}\n}\nnodelist {\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "\tnode {\n\t\tname: vm-node%d\n\t\tnodeid: %d\n\t\tring0_addr: 10.0.0.%d\n\t\tring1_addr: 192.168.122.%d\n\t}\n", i, i, i, i+10)
	}
	fmt.Fprintf(&b, "}\nquorum {\n\tprovider: corosync_votequorum\n%s}\n", quorum)
	c, err := config.Parse("corosync.conf", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVerifyBonds(t *testing.T) {
	reference := Bond{Name: "bond0", Mode: "active-backup", Miimon: 100 * msec, Downdelay: 200 * msec, Updelay: 200 * msec, File: "interfaces", Line: 9, DowndelayLine: 14}
	with := func(b Bond, f func(*Bond)) Bond { f(&b); return b }
	warn := cib.SevWarning
	for _, tc := range []struct {
		name     string
		corosync *config.Config
		bonds    []Bond
		want     []want
		file     string // of the bond findings
	}{
		{name: "reference bond, Corosync 3's token", corosync: corosyncConf(t, 2, "", ""), bonds: []Bond{reference}},
		{
			// The pre-3.1 default: longer than the 300 ms failover, but
			// pings every 250 ms mean knet drops the links, and the token
			// does not outlast that.
			name:     "reference bond, token 1000",
			corosync: corosyncConf(t, 2, "\ttoken: 1000\n", ""),
			bonds:    []Bond{reference},
			file:     "corosync.conf",
			want: []want{
				{IDBondToken, warn, 4, []string{"bond bond0 (interfaces:9) fails over in up to 300 ms", "effective 1000 ms", "change the membership"},
					[]string{"raise token to at least 1200 ms", "bond-downdelay (interfaces:14)"}},
				{IDBondKnetLink, warn, 5, []string{"link 0 (ping every 250 ms, timeout 500 ms"}, []string{"knet_ping_timeout", "bond-downdelay (interfaces:14)"}},
			},
		},
		{
			name:     "no downdelay, token 1000",
			corosync: corosyncConf(t, 2, "\ttoken: 1000\n", ""),
			bonds:    []Bond{with(reference, func(b *Bond) { b.Downdelay, b.DowndelayLine = 0, 0 })},
		},
		{
			// The failover alone is longer than the token.
			name:     "downdelay 1000, token 1000",
			corosync: corosyncConf(t, 2, "\ttoken: 1000\n", ""),
			bonds:    []Bond{with(reference, func(b *Bond) { b.Downdelay = 1000 * msec })},
			file:     "corosync.conf",
			want: []want{
				{IDBondToken, warn, 4, []string{"fails over in up to 1100 ms (miimon 100 ms + downdelay 1000 ms), and the token (effective 1000 ms) is not longer", "before the bond recovers"}, []string{"raise token to at least"}},
				{IDBondKnetLink, warn, 5, nil, nil},
			},
		},
		{
			// token_coefficient: three nodes at token 1000 run 1650 ms.
			name:     "three nodes, token 1000",
			corosync: corosyncConf(t, 3, "\ttoken: 1000\n", ""),
			bonds:    []Bond{reference},
		},
		{
			name:  "no corosync.conf: Corosync 3's defaults, pointed at the bond",
			bonds: []Bond{{Name: "bond0", Miimon: 100 * msec, Downdelay: 5000 * msec, Flag: "bond0:miimon=100,downdelay=5000"}},
			file:  "",
			want: []want{
				{IDBondToken, warn, 0, []string{"bond bond0 (--bond bond0:miimon=100,downdelay=5000) fails over in up to 5100 ms", "no corosync.conf given: Corosync 3's default token, 3000 ms for 2 nodes"}, []string{"the bond's downdelay (--bond"}},
				{IDBondKnetLink, warn, 0, nil, nil},
			},
		},
		{
			name:     "downdelay rounded down to whole polls",
			corosync: corosyncConf(t, 2, "\ttoken: 150\n", ""),
			bonds:    []Bond{with(reference, func(b *Bond) { b.Downdelay = 250 * msec })},
			file:     "corosync.conf",
			want: []want{
				{IDCorosyncConf, warn, 4, []string{"token 150 ms is below 1000 ms"}, nil},
				{IDBondToken, warn, 4, []string{"(miimon 100 ms + downdelay 250 ms, rounded down to 200 ms)", "is not longer"}, nil},
				{IDBondKnetLink, warn, 5, nil, nil},
			},
		},
		{
			name:  "no monitoring at all",
			bonds: []Bond{{Name: "bond0", File: "interfaces", Line: 3}},
			file:  "interfaces",
			want:  []want{{IDBondUnmonitored, warn, 3, []string{"never notices a dead slave"}, []string{"bond-miimon 100"}}},
		},
		{
			name:  "ARP monitoring, broadcast mode: nothing to check",
			bonds: []Bond{{Name: "bond0", ArpInterval: 200 * msec}, {Name: "bond1", Mode: "broadcast", Miimon: 100 * msec, Downdelay: 9000 * msec}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Verify(Input{Corosync: tc.corosync, Bonds: tc.bonds})
			check(t, got, tc.want)
			for _, f := range got {
				if f.ID != IDCorosyncConf && f.File != tc.file {
					t.Errorf("%s: file %q, want %q", f.ID, f.File, tc.file)
				}
			}
		})
	}
}

// The CIB's node count decides the default token when no corosync.conf
// is given, and corosync.conf's two_node changes what the quorum finding
// says.
func TestVerifyCombined(t *testing.T) {
	c := parseCIB(t, cibXML(bootstrap("stonith-enabled=false", "no-quorum-policy=ignore"), threeNodes, vip))
	long := Bond{Name: "bond0", Miimon: 100 * msec, Downdelay: 5000 * msec}
	got := Verify(Input{CIB: c, Bonds: []Bond{long}})
	if len(got) != 4 || !strings.Contains(got[2].Msg, "3650 ms for 3 nodes") {
		t.Errorf("3 nodes in the CIB: want the token for 3 nodes:\n%v", got)
	}

	c = parseCIB(t, cibXML(bootstrap("stonith-enabled=false", "no-quorum-policy=ignore"), "", vip))
	got = Verify(Input{CIB: c, Corosync: corosyncConf(t, 2, "", "\ttwo_node: 1\n")})
	check(t, got, []want{
		{IDFencingDisabled, cib.SevWarning, 4, []string{"the two nodes"}, []string{"pcmk_delay_max"}},
		{IDQuorumIgnored, cib.SevWarning, 5, []string{"with two_node: 1 a node that loses its peer stays quorate anyway", "wait_for_all"}, nil},
	})
	if strings.Contains(got[1].Hint, "two_node") {
		t.Errorf("two_node is set, yet the hint suggests it: %q", got[1].Hint)
	}
	c = parseCIB(t, cibXML(bootstrap("stonith-enabled=false"), "", vip))
	got = Verify(Input{CIB: c, Corosync: corosyncConf(t, 2, "", "\ttwo_node: 1\n")})
	check(t, got, []want{{IDFencingDisabled, cib.SevWarning, 4, []string{"two_node: 1 keeps both halves of a split quorate"}, nil}})
}

func TestFindingString(t *testing.T) {
	f := Finding{ID: IDFencingDisabled, Severity: cib.SevWarning, File: "cib.xml", Line: 4, Path: "/cib/x", Msg: "m", Hint: "h"}
	if got, want := f.String(), "warning: cib.xml:4: /cib/x: m [fencing-disabled]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	f = Finding{ID: IDBondToken, Severity: cib.SevError, Msg: "m"}
	if got, want := f.String(), "error: m [bond-failover-token]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
