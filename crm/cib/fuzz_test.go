package cib

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParse: no input panics Parse; every failure is an *Error naming the
// file and a line; every success exports, reads back to the same bytes,
// keeps its digest, copies, and validates without panicking. The seed
// corpus (the test CIBs and broken variants of them) runs in plain
// `go test`.
func FuzzParse(f *testing.F) {
	for _, file := range testdataFiles(f) {
		src := readTestdata(f, file[len("testdata/"):])
		f.Add(src)
		f.Add(src[:len(src)/2])                                             // cut mid-file
		f.Add(bytes.Replace(src, []byte("</resources>"), nil, 1))           // an unclosed section
		f.Add(bytes.Replace(src, []byte(`id="`), []byte(`id="x" id="`), 1)) // a duplicate attribute
		f.Add(bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n")))          // CRLF
		f.Add(bytes.Replace(src, []byte("<configuration>"), []byte("<configuration>text"), 1))
		f.Add(bytes.Replace(src, []byte(`call-id="`), []byte(`call-id="x`), 1))
		f.Add(bytes.Replace(src, []byte("<primitive "), []byte("<clone id=\"zz\"><primitive "), 1))
	}
	f.Add([]byte(""))
	f.Add([]byte("<cib/>"))
	f.Add([]byte("<cib><configuration/></cib>"))
	f.Add([]byte("<cib epoch='99999999999999999999'><configuration/></cib>"))
	f.Add([]byte("<cib><configuration><resources><x:y a:b='1'>t<![CDATA[<]]>u</x:y></resources></configuration></cib>"))
	f.Add([]byte("<cib><configuration><nodes><n>&#0;</n></nodes></configuration></cib>"))
	f.Add([]byte(strings.Repeat("<cib>", 300)))
	f.Add([]byte("<cib>\xff</cib>"))
	f.Add([]byte("<ϱ ϱ='ϱ'><configuration/></ϱ>"))
	f.Add([]byte("<cib><configuration><constraints><rsc_order id='o'><resource_set id='s'><resource_ref id='a'/></resource_set></rsc_order></constraints></configuration></cib>"))

	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse("fuzz.xml", src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if pe.File != "fuzz.xml" || pe.Line < 1 || !strings.HasPrefix(err.Error(), "fuzz.xml:") {
				t.Fatalf("error does not name the file and a line: %v", err)
			}
			return
		}
		_ = c.Validate()
		m1, err := c.Marshal()
		if err != nil {
			t.Fatalf("a parsed CIB does not export: %v", err)
		}
		c2, err := Parse("export", m1)
		if err != nil {
			t.Fatalf("the export does not parse: %v\n%s", err, m1)
		}
		m2, err := c2.Marshal()
		if err != nil || !bytes.Equal(m1, m2) {
			t.Fatalf("second export differs (%v):\n%s", err, firstDiff(string(m1), string(m2)))
		}
		d1, err1 := c.Digest()
		d2, err2 := c2.Digest()
		if err1 != nil || err2 != nil || d1 != d2 {
			t.Fatalf("digest changed: %s %v / %s %v", d1, err1, d2, err2)
		}
		if m3, err := c.Clone().Marshal(); err != nil || !bytes.Equal(m1, m3) {
			t.Fatalf("clone exports differently: %v", err)
		}
		for _, ns := range statusNodes(c) {
			if ns.LRM == nil {
				continue
			}
			for _, r := range ns.LRM.Resources {
				_ = c.History(ns.Uname, r.ID)
				_, _, _ = c.FailCount(ns.Uname, r.ID)
			}
		}
	})
}

func statusNodes(c *CIB) []NodeState {
	if c.Status == nil {
		return nil
	}
	return c.Status.NodeStates
}

// FuzzParseInterval: never panics; a success is non-negative and written
// back in milliseconds ("1500ms") parses to the same value when whole.
func FuzzParseInterval(f *testing.F) {
	for _, s := range []string{"0", "10", "10s", " 10 s ", "500ms", "1min", "2h", "1.5s", "PT10S", "P1DT2H", "PT0.5S",
		"P", "PT", "10x", "-1", "99999999999999999999h", "P1Y2M3W4DT5H6M7.8S", "P,5D", "PT1.2.3S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, _, err := ParseInterval(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseInterval(%q) = %v", s, d)
		}
		if d%time.Millisecond == 0 {
			ms := d.Milliseconds()
			back, _, err := ParseInterval(itoa64(ms) + "ms")
			if err != nil || back != d {
				t.Fatalf("%q: %v, but %dms reads as %v, %v", s, d, ms, back, err)
			}
		}
	})
}

func itoa64(v int64) string {
	if v < 10 {
		return string(rune('0' + v))
	}
	return itoa64(v/10) + string(rune('0'+v%10))
}

// FuzzParseScore: never panics; a success is in range and String parses
// back to it.
func FuzzParseScore(f *testing.F) {
	for _, s := range []string{"0", "-5", "+5", "INFINITY", "+INFINITY", "-INFINITY", "inf", "1e6", "99999999999999999999", "-", "", "red"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseScore(s)
		if err != nil {
			return
		}
		if v < -Infinity || v > Infinity {
			t.Fatalf("ParseScore(%q) = %d", s, v)
		}
		if back, err := ParseScore(v.String()); err != nil || back != v {
			t.Fatalf("%q: %v, String %q reads as %v, %v", s, v, v.String(), back, err)
		}
	})
}

// FuzzCompare: rule comparisons never panic or hang (Pacemaker's version
// comparison can hang; ours must not), and they are antisymmetric, so
// "lt" and "gt" never both hold.
func FuzzCompare(f *testing.F) {
	for _, p := range [][2]string{{"1", "2"}, {"5.10", "5.9"}, {"node-1", "node-1"}, {"5.10.0-rc1", "5.10"}, {"1e3", "999"},
		{"nan", "1"}, {"-0", "0"}, {" 7", "7x"}, {"inf", "-inf"}, {"1..2", "1.0.2"}, {"ABC", "abd"}} {
		f.Add(p[0], p[1], uint8(0))
	}
	f.Fuzz(func(t *testing.T, a, b string, typ uint8) {
		vt := valueType(typ % 4)
		x, y := compareAs(a, b, vt), compareAs(b, a, vt)
		if x != -y || x < -1 || x > 1 {
			t.Fatalf("compare(%q, %q, %d) = %d but compare(%q, %q) = %d", a, b, vt, x, b, a, y)
		}
	})
}
