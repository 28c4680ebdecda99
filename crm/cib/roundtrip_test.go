package cib

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t testing.TB, name string, data []byte) *CIB {
	t.Helper()
	c, err := Parse(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustMarshal(t testing.TB, c *CIB) []byte {
	t.Helper()
	out, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustDigest(t testing.TB, c *CIB) string {
	t.Helper()
	d, err := c.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func testdataFiles(t testing.TB) []string {
	files, err := filepath.Glob("testdata/*.xml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	return files
}

// TestReferenceExportIsByteIdentical: the reference setup is stored in
// exactly the layout Marshal writes, so importing and exporting it changes
// nothing at all.
func TestReferenceExportIsByteIdentical(t *testing.T) {
	data := readTestdata(t, "reference.xml")
	out := mustMarshal(t, mustParse(t, "reference.xml", data))
	if !bytes.Equal(out, data) {
		t.Errorf("export differs from testdata/reference.xml:\n%s", firstDiff(string(data), string(out)))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n-%s\n+%s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(al), len(bl))
}

// TestRoundTripKeepsEverything: for every test CIB, the export holds the
// same elements with the same attributes and text as the input (only
// layout and sibling order between different kinds may change), exporting
// the export again is byte-identical, and the digest is unchanged.
func TestRoundTripKeepsEverything(t *testing.T) {
	for _, file := range testdataFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data := readTestdata(t, filepath.Base(file))
			c := mustParse(t, file, data)
			out := mustMarshal(t, c)
			in, err := parseTree(file, data)
			if err != nil {
				t.Fatal(err)
			}
			back, err := parseTree("export", out)
			if err != nil {
				t.Fatalf("export does not parse: %v\n%s", err, out)
			}
			if d := multisetDiff(elementMultiset(in), elementMultiset(back)); d != "" {
				t.Errorf("export is not the input rearranged:\n%s", d)
			}
			c2 := mustParse(t, "export", out)
			if out2 := mustMarshal(t, c2); !bytes.Equal(out, out2) {
				t.Errorf("second export differs:\n%s", firstDiff(string(out), string(out2)))
			}
			if a, b := mustDigest(t, c), mustDigest(t, c2); a != b {
				t.Errorf("digest changed across a round trip: %s then %s", a, b)
			}
			if a, b := c.Validate().Error(), c2.Validate().Error(); stripLines(a) != stripLines(b) {
				t.Errorf("validation changed across a round trip:\n%s\nthen\n%s", a, b)
			}
		})
	}
}

// elementMultiset describes each element by its ancestry, name, sorted
// attributes and direct text: equal multisets mean the same content,
// whatever the layout and the order of attributes.
func elementMultiset(r *Raw) []string {
	var out []string
	var walk func(r *Raw, up string)
	walk = func(r *Raw, up string) {
		if r.Name == "" {
			return
		}
		var b strings.Builder
		b.WriteString(up + "/" + r.Name)
		for _, a := range sortedAttrs(r.Attrs) {
			fmt.Fprintf(&b, " %s=%q", a.Name, a.Value)
		}
		for _, c := range r.Children {
			if c.Name == "" {
				fmt.Fprintf(&b, " text=%q", c.Text)
			}
		}
		out = append(out, b.String())
		for _, c := range r.Children {
			walk(c, up+"/"+r.Name)
		}
	}
	walk(r, "")
	slices.Sort(out)
	return out
}

func multisetDiff(a, b []string) string {
	var d []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || i < len(a) && a[i] < b[j]:
			d = append(d, "lost:  "+a[i])
			i++
		case i >= len(a) || b[j] < a[i]:
			d = append(d, "added: "+b[j])
			j++
		default:
			i, j = i+1, j+1
		}
	}
	// Optional empty sections may be added or dropped.
	d = slices.DeleteFunc(d, func(s string) bool {
		for _, ok := range []string{"/cib/configuration/crm_config", "/cib/configuration/nodes", "/cib/configuration/resources",
			"/cib/configuration/constraints", "/cib/configuration/op_defaults", "/cib/configuration/rsc_defaults"} {
			if strings.HasSuffix(s, " "+ok) {
				return true
			}
		}
		return false
	})
	return strings.Join(d, "\n")
}

func stripLines(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if _, rest, ok := strings.Cut(l, ": "); ok {
			l = rest
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// TestDigestIgnoresLayout: reference-reformatted.xml is reference.xml's
// configuration with other indentation, attribute order, quotes, character
// references, comments and no status section.
func TestDigestIgnoresLayout(t *testing.T) {
	a := mustParse(t, "reference.xml", readTestdata(t, "reference.xml"))
	b := mustParse(t, "reference-reformatted.xml", readTestdata(t, "reference-reformatted.xml"))
	if da, db := mustDigest(t, a), mustDigest(t, b); da != db {
		ca, _ := a.Marshal()
		cb, _ := b.Marshal()
		t.Errorf("digests differ: %s and %s\n%s", da, db, firstDiff(string(ca), string(cb)))
	}
	crlf := bytes.ReplaceAll(readTestdata(t, "reference.xml"), []byte("\n"), []byte("\r\n"))
	if d := mustDigest(t, mustParse(t, "crlf", crlf)); d != mustDigest(t, a) {
		t.Error("CRLF line ends changed the digest")
	}
}

// TestDigestSeesChanges: each edit Pacemaker would notice changes the
// digest; editing the status section or the version does not.
func TestDigestSeesChanges(t *testing.T) {
	base := readTestdata(t, "reference.xml")
	want := mustDigest(t, mustParse(t, "base", base))
	tests := []struct {
		name, from, to string
		changes        bool
	}{
		{"a parameter", `value="192.168.122.100"`, `value="192.168.122.101"`, true},
		{"an id", `id="vip-monitor-10s"`, `id="vip-monitor-ten"`, true},
		{"a score", `score="100"`, `score="101"`, true},
		{"INFINITY spelled +INFINITY", `score="INFINITY"`, `score="+INFINITY"`, true},
		{"a boolean-op", `boolean-op="or"`, `boolean-op="and"`, true},
		{"an added attribute", `<rsc_colocation id="httpd-with-vip"`, `<rsc_colocation rsc-role="Started" id="httpd-with-vip"`, true},
		{"resource order", "<primitive id=\"vip\"", "<primitive id=\"vip0\"", true},
		{"the epoch", `epoch="14"`, `epoch="15"`, false},
		{"the status", `name="pingd" value="1000"`, `name="pingd" value="0"`, false},
		{"cib-last-written", `Tue Mar  3 10:15:02 2026`, `Wed Mar  4 10:15:02 2026`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !bytes.Contains(base, []byte(tt.from)) {
				t.Fatalf("%q not in reference.xml", tt.from)
			}
			edited := bytes.Replace(base, []byte(tt.from), []byte(tt.to), 1)
			c, err := Parse("edited", edited)
			if err != nil {
				t.Fatal(err)
			}
			if got := mustDigest(t, c) != want; got != tt.changes {
				t.Errorf("digest changed = %v, want %v", got, tt.changes)
			}
		})
	}
	// Swapping two resources is a change: Pacemaker places resources in
	// document order when scores tie.
	c := mustParse(t, "base", base)
	rs := c.Config.Resources
	rs[0], rs[1] = rs[1], rs[0]
	if mustDigest(t, c) == want {
		t.Error("reordering resources did not change the digest")
	}
}

// TestLegacyMasterIsKept: a CIB written with <master> is exported with
// <master>, and the clone reads as promotable either way.
func TestLegacyMasterIsKept(t *testing.T) {
	c := mustParse(t, "legacy-master.xml", readTestdata(t, "legacy-master.xml"))
	out := string(mustMarshal(t, c))
	if !strings.Contains(out, `<master id="ms-pgsql">`) || strings.Contains(out, "<clone") {
		t.Errorf("export lost the <master> element:\n%s", out)
	}
	r, _ := c.Resource("ms-pgsql")
	if cl, ok := r.(*Clone); !ok || !cl.Master || !cl.Promotable() {
		t.Fatalf("ms-pgsql = %#v", r)
	}
	d := mustParse(t, "drbd.xml", readTestdata(t, "drbd.xml"))
	r, _ = d.Resource("drbd-r0-clone")
	if cl := r.(*Clone); cl.Master || !cl.Promotable() {
		t.Errorf("drbd-r0-clone: Master %v Promotable %v", cl.Master, cl.Promotable())
	}
}

// TestEmptyValueIsNotAbsent: value="" sets a name to the empty string, a
// pair without value sets nothing; both survive export.
func TestEmptyValueIsNotAbsent(t *testing.T) {
	c := mustParse(t, "future.xml", readTestdata(t, "future.xml"))
	pairs := c.Config.CRMConfig[0].Pairs
	if !pairs[0].HasValue() || pairs[0].Value != "" {
		t.Errorf("opts-a: HasValue %v Value %q", pairs[0].HasValue(), pairs[0].Value)
	}
	if pairs[1].HasValue() {
		t.Error("opts-b has no value attribute but HasValue is true")
	}
	vals, err := Values(c.Config.CRMConfig, RuleInput{})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := vals["a"]; !ok || v != "" {
		t.Errorf("a = %q, %v", v, ok)
	}
	if _, ok := vals["b"]; ok {
		t.Error("b is set")
	}
	if vals["c"] != "tab\tnewline\nquote\"amp&lt<" {
		t.Errorf("c = %q", vals["c"])
	}
	out := string(mustMarshal(t, c))
	for _, want := range []string{`<nvpair id="opts-a" name="a" value="" comment=`, `<nvpair id="opts-b" name="b"/>`} {
		if !strings.Contains(out, want) {
			t.Errorf("export lacks %s", want)
		}
	}
}

// TestMarshalRefusesUnstableModels: a model built in code that could not
// be read back as itself is an error, never a silently different file.
func TestMarshalRefusesUnstableModels(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *CIB)
		want string
	}{
		{"control character", func(c *CIB) { c.Config.Nodes[0].Uname = "a\x00b" },
			"/cib/configuration/nodes/node[@id='1']: attribute uname: character U+0000 cannot appear in XML"},
		{"invalid UTF-8", func(c *CIB) { c.Config.Nodes[0].Uname = "\xff" },
			"/cib/configuration/nodes/node[@id='1']: attribute uname: not valid UTF-8"},
		{"bad attribute name", func(c *CIB) { c.Config.Nodes[0].Extra.Attrs = []Attr{{"1x", "v"}} },
			`/cib/configuration/nodes/node[@id='1']: "1x" is not an XML attribute name`},
		{"duplicate attribute", func(c *CIB) { c.Config.Nodes[0].Extra.Attrs = []Attr{{"x", "1"}, {"x", "2"}} },
			"/cib/configuration/nodes/node[@id='1']: attribute x appears twice"},
		{"modelled child in Extra", func(c *CIB) {
			c.Config.Nodes[0].Extra.Children = []*Raw{{Name: "instance_attributes"}}
		}, "/cib/configuration/nodes/node[@id='1']: Extra holds a <instance_attributes>, which the model represents; use the typed field"},
		{"raw resource of a modelled kind", func(c *CIB) {
			c.Config.Resources = append(c.Config.Resources, &RawResource{Raw: &Raw{Name: "primitive"}})
		}, "/cib/configuration/resources: a RawResource named <primitive>, which the model represents; use the typed value"},
		{"raw resource in a group", func(c *CIB) {
			c.Config.Resources = append(c.Config.Resources, &Group{ID: "g", Children: []Resource{&RawResource{Raw: &Raw{Name: "bundle"}}}})
		}, "/cib/configuration/resources/group[@id='g']: a RawResource inside a group or clone; keep unknown members in its Extra.Children"},
		{"nil resource", func(c *CIB) { c.Config.Resources = append(c.Config.Resources, nil) },
			"/cib/configuration/resources: resource of type <nil> cannot be written"},
		{"whitespace text node", func(c *CIB) {
			c.Config.Extra.Children = []*Raw{{Name: "x", Children: []*Raw{{Text: "  "}}}}
		}, "/cib/configuration/x: a text node holds only whitespace, which XML parsing drops"},
		{"bad numeric Extra", func(c *CIB) {
			op := &c.Status.NodeStates[0].LRM.Resources[0].Ops[0]
			op.ExecTimeMS = 0
			op.Extra.Attrs = append(op.Extra.Attrs, Attr{"exec-time", "soon"})
		}, `/cib/status/node_state[@id='1']/lrm/lrm_resources/lrm_resource[@id='vip']/lrm_rsc_op[@id='vip_last_0']: attribute exec-time: "soon" is not an integer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, "reference.xml", readTestdata(t, "reference.xml"))
			tt.edit(c)
			_, err := c.Marshal()
			if err == nil || err.Error() != tt.want {
				t.Errorf("Marshal error\n got: %v\nwant: %s", err, tt.want)
			}
		})
	}
}

// TestCloneIsDeep: editing a clone leaves the original untouched, and an
// unedited clone exports identically.
func TestCloneIsDeep(t *testing.T) {
	orig := mustParse(t, "drbd.xml", readTestdata(t, "drbd.xml"))
	before := mustMarshal(t, orig)
	cp := orig.Clone()
	if !bytes.Equal(mustMarshal(t, cp), before) {
		t.Fatal("clone exports differently")
	}
	cp.Config.Nodes[0].InstanceAttrs[0].Pairs[0].Value = "r9"
	cp.Config.Resources[0].(*Clone).Child.(*Primitive).Ops[0].Interval = "1s"
	cp.Config.Constraints[3].(*Location).Rules[0].Conditions[0].(*Expression).Value = "r9"
	cp.Status.NodeStates[0].LRM.Resources[0].Ops[0].RCCode = 1
	cp.Extra.Attrs[0].Value = "x"
	if after := mustMarshal(t, orig); !bytes.Equal(after, before) {
		t.Errorf("editing the clone changed the original:\n%s", firstDiff(string(before), string(after)))
	}
	if got := cp.Validate(); len(got.Errors()) != 0 {
		t.Errorf("clone does not validate: %v", got)
	}
	// Line numbers travel with the copy, so its problems still point into
	// the file.
	cp.Config.Resources[0].(*Clone).Child.(*Primitive).Ops[0].Interval = "often"
	if got := cp.Validate().Errors(); len(got) != 1 || got[0].Line != 40 {
		t.Errorf("problems %v, want one at line 40", got)
	}
}
