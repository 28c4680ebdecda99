package agents

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseHostMap(t *testing.T) {
	type e = HostMapEntry
	tests := []struct {
		name string
		in   string
		want HostMap
		err  string // a substring of the error; empty when none is expected
	}{
		{"empty", "", nil, ""},
		{"only separators", " ;\t, ;", nil, ""},
		{"the lab's map", "vm-node1:ns-node1;vm-node2:ns-node2",
			HostMap{{"vm-node1", "ns-node1"}, {"vm-node2", "ns-node2"}}, ""},
		{"spaces", "a:1 b:2\tc:3", HostMap{{"a", "1"}, {"b", "2"}, {"c", "3"}}, ""},
		{"commas between pairs", "a:x,b:y", HostMap{{"a", "x"}, {"b", "y"}}, ""},
		{"equals sign", "a=1;b=2", HostMap{{"a", "1"}, {"b", "2"}}, ""},
		{"trailing and doubled separators", ";;a:1;;b:2;", HostMap{{"a", "1"}, {"b", "2"}}, ""},
		// Pacemaker's documented example: node2 is behind ports 2 and 3.
		{"comma continues a value", "node1:1;node2:2,3", HostMap{{"node1", "1"}, {"node2", "2,3"}}, ""},
		{"comma continues twice", "n:1,2,3;m:4", HostMap{{"n", "1,2,3"}, {"m", "4"}}, ""},
		{"absolute paths", "n1:/run/netns/a;n2:/proc/42/ns/net",
			HostMap{{"n1", "/run/netns/a"}, {"n2", "/proc/42/ns/net"}}, ""},
		{"escaped separators", `a\;b:x\ y;c:1\,2`, HostMap{{"a;b", "x y"}, {"c", "1,2"}}, ""},
		{"escaped colon", `host\:8:p\:1`, HostMap{{"host:8", "p:1"}}, ""},
		{"escaped backslash", `a\\:b`, HostMap{{`a\`, "b"}}, ""},
		{"exact repeat kept once", "a:1;A:1;b:2", HostMap{{"a", "1"}, {"b", "2"}}, ""},
		{"newlines separate", "a:1\nb:2\r\n", HostMap{{"a", "1"}, {"b", "2"}}, ""},

		{"bare word", "a:1;b", nil, `"b" is not a node:value pair`},
		{"bare word first", "b,a:1", nil, `"b" is not a node:value pair`},
		{"bare word after comma and space", "a:1, 2", nil, `"2" is not`},
		{"bare word after two commas", "a:1,,2", nil, `"2" is not`},
		{"empty node", ":x", nil, "lacks a node name"},
		{"empty value", "a:", nil, "lacks a node name or a value"},
		{"two colons", "a:b:c", nil, "more than one"},
		{"colon and equals", "a=b:c", nil, "more than one"},
		{"lone backslash", `a:b\`, nil, "lone backslash"},
		{"conflicting repeat", "a:1;A:2", nil, `mapped twice, to "1" and to "2"`},
		{"conflict made by a continuation", "a:1,2;a:1", nil, "mapped twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHostMap(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseHostMap(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHostMap(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseHostMap(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			checkHostMapRoundTrip(t, got)
		})
	}
}

func TestHostMapLookup(t *testing.T) {
	m, err := ParseHostMap("vm-node1:ns-node1;VM-Node2:ns-node2")
	if err != nil {
		t.Fatal(err)
	}
	for node, want := range map[string]string{"vm-node1": "ns-node1", "VM-NODE1": "ns-node1", "vm-node2": "ns-node2"} {
		if got, ok := m.Lookup(node); !ok || got != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", node, got, ok, want)
		}
	}
	if got, ok := m.Lookup("vm-node3"); ok {
		t.Errorf("Lookup(vm-node3) = %q, want not found", got)
	}
	if got := strings.Join(m.Nodes(), " "); got != "vm-node1 VM-Node2" {
		t.Errorf("Nodes() = %q", got)
	}
}

// checkHostMapRoundTrip checks the invariants of a parsed map: no empty
// names or values, no node twice, and String parses back to the same map.
func checkHostMapRoundTrip(t *testing.T, m HostMap) {
	t.Helper()
	for i, e := range m {
		if e.Node == "" || e.Value == "" {
			t.Fatalf("entry %d is %#v: empty node or value", i, e)
		}
		for _, f := range m[:i] {
			if strings.EqualFold(f.Node, e.Node) {
				t.Fatalf("node %q appears twice", e.Node)
			}
		}
	}
	s := m.String()
	back, err := ParseHostMap(s)
	if err != nil {
		t.Fatalf("String() = %q does not parse: %v", s, err)
	}
	if len(back) != len(m) || (len(m) > 0 && !reflect.DeepEqual(back, m)) {
		t.Fatalf("String() = %q parses to %#v, want %#v", s, back, m)
	}
}

// FuzzParseHostMap: whatever the input, the parser does not panic, and a
// map it accepts has the invariants above. Seeds are in
// testdata/fuzz/FuzzParseHostMap as well as here.
func FuzzParseHostMap(f *testing.F) {
	for _, s := range []string{
		"", "vm-node1:ns-node1;vm-node2:ns-node2", "a:1 b:2,c:3", "node1:1;node2:2,3",
		`a\;b:x\ y`, `a:b\`, "a:b:c", "a:1;A:2", ":x", "a,b:1", "n1:/run/netns/a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseHostMap(s)
		if err != nil {
			if m != nil {
				t.Fatalf("ParseHostMap(%q) returned a map with its error", s)
			}
			return
		}
		checkHostMapRoundTrip(t, m)
	})
}
