package agents

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// sampleMetaData is a small agent description written for these tests, in
// the shape resource-agents and Pacemaker agents print.
const sampleMetaData = `<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="Sample" version="2.1">
<version>1.1</version>
<longdesc lang="de">Eine Beispielbeschreibung.</longdesc>
<longdesc lang="en">
A sample agent that manages nothing.
</longdesc>
<shortdesc lang="en">Sample agent</shortdesc>
<parameters>
<parameter name="address" required="1" unique="1">
<longdesc lang="en">The address to manage.</longdesc>
<shortdesc lang="en">Address</shortdesc>
<content type="string"/>
</parameter>
<parameter name="port" reloadable="true">
<shortdesc lang="en">Port</shortdesc>
<content type="integer" default="8080"/>
</parameter>
<parameter name="label" required="0" unique="0">
<content type="string" default=""/>
</parameter>
<parameter name="mode" required="yes">
<content type="select" default="fast">
<option value="fast"/><option value="safe"/>
</content>
</parameter>
</parameters>
<actions>
<action name="start" timeout="20s"/>
<action name="stop" timeout="2min"/>
<action name="monitor" timeout="20" interval="10s" depth="0"/>
<action name="monitor" timeout="30s" interval="11s" depth="10" role="Promoted"/>
<action name="meta-data" timeout="5s"/>
<action name="validate-all" timeout="PT1M30S"/>
</actions>
<special tag="heartbeat"><version>2.0</version></special>
</resource-agent>
`

func TestParseMetaData(t *testing.T) {
	md, err := ParseMetaData([]byte(sampleMetaData))
	if err != nil {
		t.Fatal(err)
	}
	want := MetaData{
		Name:      "Sample",
		Version:   "2.1",
		ShortDesc: "Sample agent",
		LongDesc:  "A sample agent that manages nothing.",
		Parameters: []Parameter{
			{Name: "address", Required: true, Unique: true, Type: "string", ShortDesc: "Address", LongDesc: "The address to manage."},
			{Name: "port", Reloadable: true, Type: "integer", Default: "8080", HasDefault: true, ShortDesc: "Port"},
			{Name: "label", Type: "string", HasDefault: true},
			{Name: "mode", Required: true, Type: "select", Default: "fast", HasDefault: true},
		},
		Actions: []ActionSpec{
			{Name: "start", Timeout: 20 * time.Second},
			{Name: "stop", Timeout: 2 * time.Minute},
			{Name: "monitor", Timeout: 20 * time.Second, Interval: 10 * time.Second},
			{Name: "monitor", Timeout: 30 * time.Second, Interval: 11 * time.Second, Depth: 10, Role: "Promoted"},
			{Name: "meta-data", Timeout: 5 * time.Second},
			{Name: "validate-all", Timeout: 90 * time.Second},
		},
	}
	if !reflect.DeepEqual(md, want) {
		t.Errorf("got\n%+v\nwant\n%+v", md, want)
	}
}

func TestParseMetaDataDetails(t *testing.T) {
	tests := []struct {
		name  string
		xml   string
		check func(t *testing.T, md MetaData)
	}{
		{"version element when no attribute", `<resource-agent name="a"><version> 0.9 </version></resource-agent>`,
			func(t *testing.T, md MetaData) {
				if md.Version != "0.9" {
					t.Errorf("Version = %q", md.Version)
				}
			}},
		{"first description when none is English", `<resource-agent name="a"><shortdesc lang="fr">un</shortdesc><shortdesc lang="de">eins</shortdesc></resource-agent>`,
			func(t *testing.T, md MetaData) {
				if md.ShortDesc != "un" {
					t.Errorf("ShortDesc = %q", md.ShortDesc)
				}
			}},
		{"entities and CDATA", `<resource-agent name="a"><shortdesc>a &lt;b&gt; &amp; <![CDATA[<c>]]></shortdesc></resource-agent>`,
			func(t *testing.T, md MetaData) {
				if md.ShortDesc != "a <b> & <c>" {
					t.Errorf("ShortDesc = %q", md.ShortDesc)
				}
			}},
		{"ISO-8859-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><resource-agent name=\"caf\xe9\"/>",
			func(t *testing.T, md MetaData) {
				if md.Name != "café" {
					t.Errorf("Name = %q", md.Name)
				}
			}},
		{"unknown elements skipped", `<resource-agent name="a"><future x="1"><parameter name="not-a-param"/></future><parameters><weird/><parameter name="p"><deprecated/><content type="string"/></parameter></parameters><actions><notes/><action name="start"/></actions></resource-agent>`,
			func(t *testing.T, md MetaData) {
				if len(md.Parameters) != 1 || md.Parameters[0].Name != "p" || len(md.Actions) != 1 || md.Actions[0].Timeout != 0 {
					t.Errorf("got %+v", md)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, err := ParseMetaData([]byte(tt.xml))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, md)
		})
	}
}

func TestParseMetaDataErrors(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want string // substring of the error
	}{
		{"empty", ``, "no resource-agent element"},
		{"not XML", `this is not xml`, "no resource-agent element"},
		{"wrong root", "<?xml version=\"1.0\"?>\n<agent/>", "line 2: root element is <agent>"},
		{"unclosed", "<resource-agent name=\"a\">\n<parameters>\n", "line 3"},
		{"mismatched tag", "<resource-agent>\n<shortdesc>x</longdesc>\n</resource-agent>", "line 2"},
		{"parameter without name", "<resource-agent>\n<parameters>\n<parameter required=\"1\"/>\n</parameters></resource-agent>", "line 3: parameter without a name"},
		{"duplicate parameter", "<resource-agent><parameters>\n<parameter name=\"ip\"/>\n<parameter name=\"ip\"/>\n</parameters></resource-agent>", `line 3: parameter "ip" declared twice`},
		{"bad flag", "<resource-agent><parameters>\n\n<parameter name=\"ip\" required=\"maybe\"/></parameters></resource-agent>", `line 3: parameter "ip": required="maybe" is not a boolean`},
		{"action without name", "<resource-agent><actions>\n<action timeout=\"20s\"/></actions></resource-agent>", "line 2: action without a name"},
		{"bad timeout", "<resource-agent><actions>\n<action name=\"start\" timeout=\"soon\"/></actions></resource-agent>", `line 2: action start: timeout: "soon" is not a duration`},
		{"bad unit", "<resource-agent><actions><action name=\"start\" interval=\"10 parsecs\"/></actions></resource-agent>", "unknown unit"},
		{"negative", "<resource-agent><actions><action name=\"start\" timeout=\"-5s\"/></actions></resource-agent>", "is not a duration"},
		{"overflow", "<resource-agent><actions><action name=\"start\" timeout=\"99999999999999999h\"/></actions></resource-agent>", "out of range"},
		{"bad depth", "<resource-agent><actions><action name=\"monitor\" depth=\"deep\"/></actions></resource-agent>", `depth "deep"`},
		{"two roots", "<resource-agent/>\n<resource-agent/>", "line 2: a second root element"},
		{"unknown charset", `<?xml version="1.0" encoding="EBCDIC"?><resource-agent/>`, "EBCDIC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMetaData([]byte(tt.xml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true},
		{"0", 0, true},
		{"20", 20 * time.Second, true},
		{" 20s ", 20 * time.Second, true},
		{"20sec", 20 * time.Second, true},
		{"1500ms", 1500 * time.Millisecond, true},
		{"250msec", 250 * time.Millisecond, true},
		{"7us", 7 * time.Microsecond, true},
		{"2m", 2 * time.Minute, true},
		{"2min", 2 * time.Minute, true},
		{"1h", time.Hour, true},
		{"1hr", time.Hour, true},
		{"10S", 10 * time.Second, true},
		{"PT20S", 20 * time.Second, true},
		{"P1DT1H", 25 * time.Hour, true},
		{"pt1m", time.Minute, true},
		{"P", 0, false},
		{"PT", 0, false},
		{"P1Y", 0, false},
		{"PT1H1D", 0, false},
		{"PTT1S", 0, false},
		{"1.5s", 0, false},
		{"s", 0, false},
		{"-1", 0, false},
		{"10 days", 0, false},
		{"9223372036854775807h", 0, false},
		{"99999999999999999999", 0, false},
		{"PT9223372036854775807H", 0, false},
		{"P100000DT9223372036S", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseDuration(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("parseDuration(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestDefaultsAndValidate(t *testing.T) {
	md, err := ParseMetaData([]byte(sampleMetaData))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := md.Defaults(), map[string]string{"port": "8080", "label": "", "mode": "fast"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Defaults() = %v, want %v", got, want)
	}
	tests := []struct {
		name   string
		params map[string]string
		want   string // "" for valid
	}{
		{"all required set", map[string]string{"address": "192.0.2.1", "mode": "safe"}, ""},
		{"extra parameters are fine", map[string]string{"address": "192.0.2.1", "mode": "safe", "unknown": "x"}, ""},
		{"one missing", map[string]string{"mode": "safe"}, `Sample: required parameter "address" is not set`},
		{"empty counts as missing", map[string]string{"address": "", "mode": "safe"}, `Sample: required parameter "address" is not set`},
		{"defaults do not satisfy required", md.Defaults(), `Sample: required parameter "address" is not set`},
		{"two missing, in declaration order", nil, `Sample: required parameters "address", "mode" are not set`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := md.Validate(tt.params)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzParseMetaData checks that no input makes the parser panic, and that
// whatever it accepts is usable: Defaults and Validate agree with the
// parameters.
func FuzzParseMetaData(f *testing.F) {
	f.Add([]byte(sampleMetaData))
	f.Add([]byte(`<resource-agent name="x"><parameters><parameter name="a" required="1"><content default="d"/></parameter></parameters></resource-agent>`))
	f.Add([]byte(`<resource-agent><actions><action name="monitor" timeout="PT1M" interval="10s" depth="10"/></actions></resource-agent>`))
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"latin1\"?><resource-agent name=\"\xe9\"/>"))
	f.Add([]byte(`<resource-agent><parameters><parameter name="a"/><parameter name="a"/></parameters></resource-agent>`))
	f.Add([]byte(`<resource-agent`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		md, err := ParseMetaData(data)
		if err != nil {
			if md.Name != "" || md.Parameters != nil || md.Actions != nil {
				t.Errorf("a failed parse returned data: %+v", md)
			}
			return
		}
		defaults := md.Defaults()
		all := map[string]string{}
		for _, p := range md.Parameters {
			if p.Name == "" {
				t.Error("a parameter without a name was accepted")
			}
			if d, ok := defaults[p.Name]; ok != p.HasDefault || d != p.Default {
				t.Errorf("Defaults()[%q] = %q, %v; parameter says %q, %v", p.Name, d, ok, p.Default, p.HasDefault)
			}
			all[p.Name] = "set"
		}
		if err := md.Validate(all); err != nil {
			t.Errorf("Validate with every parameter set: %v", err)
		}
		for _, a := range md.Actions {
			if a.Name == "" || a.Timeout < 0 || a.Interval < 0 || a.Depth < 0 {
				t.Errorf("bad action accepted: %+v", a)
			}
		}
	})
}
