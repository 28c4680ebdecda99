package cib

import (
	"errors"
	"strings"
	"testing"
)

// TestParseErrors: every structural problem is one *Error naming the file,
// the line and, where there is one, the element.
func TestParseErrors(t *testing.T) {
	const st = `<cib><configuration/><status><node_state id="1"><lrm><lrm_resources><lrm_resource id="r">` + "\n"
	const end = `</lrm_resource></lrm_resources></lrm></node_state></status></cib>`
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "t.xml:1: malformed XML: no root element"},
		{"only whitespace", "  \n\t", "t.xml:1: malformed XML: no root element"},
		{"truncated", "<cib>\n<configuration", "t.xml:2: malformed XML: unexpected EOF"},
		{"unclosed", "<cib>\n<configuration>\n", "t.xml:2: malformed XML: <configuration> is never closed"},
		{"mismatched end", "<cib>\n<configuration>\n</cib>", "t.xml:3: malformed XML: </cib> closes <configuration> (line 2)"},
		{"second root", "<cib><configuration/></cib>\n<cib/>", "t.xml:2: malformed XML: a second root element <cib> after </cib>"},
		{"text before root", "hello <cib/>", "t.xml:1: malformed XML: text outside the root element"},
		{"text after root", "<cib/>\ntrailing", "t.xml:1: malformed XML: text outside the root element"},
		{"duplicate attribute", "<cib>\n<configuration a=\"1\" a=\"2\"/></cib>", "t.xml:2: <configuration>: attribute a appears twice"},
		{"not UTF-8", "<cib>\n\xff</cib>", "t.xml:2: input is not valid UTF-8"},
		{"HTML entity", "<cib><configuration>\n<x>&nbsp;</x></configuration></cib>", "t.xml:2: malformed XML: invalid character entity &nbsp;"},
		{"latin-1", `<?xml version="1.0" encoding="ISO-8859-1"?><cib/>`, "t.xml:1: the XML declaration names an encoding other than UTF-8; convert the file to UTF-8"},
		{"too deep", strings.Repeat("<a>", maxDepth+1), "t.xml:1: elements nest deeper than 256"},
		{"wrong root", "<pacemaker/>", "t.xml:1: /pacemaker: the root element is <pacemaker>, not <cib>"},
		{"bad epoch", `<cib epoch="x"><configuration/></cib>`, `t.xml:1: /cib: attribute epoch: "x" is not an integer`},
		{"negative epoch", `<cib epoch="-1"><configuration/></cib>`, "t.xml:1: /cib: attribute epoch: -1 is negative"},
		{"no configuration", "<cib>\n</cib>", "t.xml:1: /cib: no <configuration> section"},
		{"two configurations", "<cib><configuration/>\n<configuration/></cib>", "t.xml:2: /cib/configuration: a second <configuration> (the first is at line 1)"},
		{"two resources sections", "<cib><configuration><resources/>\n<resources/></configuration></cib>", "t.xml:2: /cib/configuration/resources: a second <resources>"},
		{"two status sections", "<cib><configuration/><status/>\n<status/></cib>", "t.xml:2: /cib/status: a second <status>"},
		{"text in a primitive", "<cib><configuration><resources>\n<primitive id=\"a\">text</primitive></resources></configuration></cib>",
			`t.xml:2: /cib/configuration/resources/primitive[@id='a']: unexpected text "text" inside <primitive>`},
		{"clone of two", "<cib><configuration><resources>\n<clone id=\"c\"><primitive id=\"a\"/>\n<primitive id=\"b\"/></clone></resources></configuration></cib>",
			"t.xml:3: /cib/configuration/resources/clone[@id='c']: a second resource <primitive> inside <clone> (a clone has exactly one)"},
		{"two operations", "<cib><configuration><resources><primitive id=\"a\"><operations/>\n<operations/></primitive></resources></configuration></cib>",
			"t.xml:2: /cib/configuration/resources/primitive[@id='a']/operations: a second <operations>"},
		{"set with two rules", "<cib><configuration><crm_config><cluster_property_set id=\"s\"><rule id=\"r1\"/>\n<rule id=\"r2\"/></cluster_property_set></crm_config></configuration></cib>",
			"t.xml:2: /cib/configuration/crm_config/cluster_property_set[@id='s']: more than one <rule> in a set (Pacemaker uses only the first)"},
		{"decorated resource_ref", "<cib><configuration><constraints><rsc_order id=\"o\"><resource_set id=\"s\">\n<resource_ref id=\"a\" role=\"x\"/></resource_set></rsc_order></constraints></configuration></cib>",
			"t.xml:2: /cib/configuration/constraints/rsc_order[@id='o']/resource_set[@id='s']/resource_ref: a <resource_ref> must have exactly one attribute, a non-empty id, and no content"},
		{"op without call-id", st + `<lrm_rsc_op id="op" operation="start" rc-code="0" op-status="0" interval="0"/>` + end,
			"t.xml:2: /cib/status/node_state[@id='1']/lrm/lrm_resources/lrm_resource[@id='r']/lrm_rsc_op[@id='op']: missing attribute call-id"},
		{"op with bad rc", st + `<lrm_rsc_op id="op" operation="start" call-id="4" rc-code="zero" op-status="0" interval="0"/>` + end,
			`t.xml:2: /cib/status/node_state[@id='1']/lrm/lrm_resources/lrm_resource[@id='r']/lrm_rsc_op[@id='op']: attribute rc-code: "zero" is not an integer`},
		{"two lrm", "<cib><configuration/><status><node_state id=\"1\"><lrm/>\n<lrm/></node_state></status></cib>",
			"t.xml:2: /cib/status/node_state[@id='1']/lrm: a second <lrm>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.xml", []byte(tt.in))
			if err == nil {
				t.Fatalf("parsed: %+v", c)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if c != nil {
				t.Error("a failed Parse returned a CIB")
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
}

// TestParseAccepts covers inputs that look odd but are valid: comments,
// an XML declaration, a byte order mark, CRLF line ends, CDATA, missing
// version attributes (they read as 0).
func TestParseAccepts(t *testing.T) {
	in := "\ufeff<?xml version=\"1.0\"?>\r\n<!-- hand written -->\r\n<cib>\r\n<configuration>\r\n" +
		"<!-- inside --><nodes><node id=\"1\" uname=\"n&#49;\"/></nodes>\r\n" +
		"</configuration></cib>\r\n<!-- after -->\r\n"
	c, err := Parse("t.xml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if c.Epoch != 0 || c.AdminEpoch != 0 || c.NumUpdates != 0 {
		t.Errorf("version %d.%d.%d, want 0.0.0", c.AdminEpoch, c.Epoch, c.NumUpdates)
	}
	if got := c.Config.Nodes[0].Uname; got != "n1" {
		t.Errorf("uname %q", got)
	}
	out, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `<cib epoch="0" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config/>
    <nodes>
      <node id="1" uname="n1"/>
    </nodes>
    <resources/>
    <constraints/>
  </configuration>
</cib>
`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}
