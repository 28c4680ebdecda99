package verify

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const msec = time.Millisecond

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// brief renders the parts of bonds a test compares.
func brief(bonds []Bond) string {
	var b strings.Builder
	for _, x := range bonds {
		fmt.Fprintf(&b, "%s@%d mode=%s miimon=%v default=%v down=%v@%d up=%v arp=%v slaves=%v\n",
			x.Name, x.Line, x.Mode, x.Miimon, x.MiimonDefault, x.Downdelay, x.DowndelayLine, x.Updelay, x.ArpInterval, x.Slaves)
	}
	return b.String()
}

func TestParseInterfaces(t *testing.T) {
	for _, tc := range []struct {
		file string
		want string
	}{
		{"reference-underscores", "" +
			"bond0@9 mode=active-backup miimon=100ms default=false down=200ms@14 up=200ms arp=0s slaves=[eth0 eth1]\n" +
			"bond1@19 mode=active-backup miimon=100ms default=false down=200ms@25 up=200ms arp=0s slaves=[eth2 eth3]\n"},
		// eth0 names its master, so its bond-mode is not a bond of its
		// own; bond1's two stanzas add up.
		{"reference-hyphens", "" +
			"bond0@15 mode=active-backup miimon=100ms default=false down=200ms@21 up=200ms arp=0s slaves=[eth0 eth1]\n" +
			"bond1@24 mode=active-backup miimon=100ms default=false down=200ms@31 up=200ms arp=0s slaves=[eth2 eth3]\n"},
		{"defaults", "" +
			"bond0@3 mode= miimon=100ms default=true down=0s@0 up=0s arp=0s slaves=[eth0 eth1]\n" +
			"bond1@5 mode= miimon=0s default=false down=0s@0 up=0s arp=200ms slaves=[eth2 eth3]\n" +
			"bond2@9 mode=broadcast miimon=100ms default=true down=0s@0 up=0s arp=0s slaves=[eth4 eth5]\n"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			name := filepath.Join("testdata", "interfaces", tc.file)
			bonds, err := ParseInterfaces(name, readFile(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if got := brief(bonds); got != tc.want {
				t.Errorf("got\n%swant\n%s", got, tc.want)
			}
			for _, b := range bonds {
				if b.File != name || b.Source() != fmt.Sprintf("%s:%d", name, b.Line) {
					t.Errorf("%s: file %q, source %q", b.Name, b.File, b.Source())
				}
			}
		})
	}
}

func TestParseInterfacesErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // one per error, in order
	}{
		{"option before any stanza", "bond-miimon 100\niface bond0 inet manual\n", []string{`if:1: option "bond-miimon" outside a stanza`}},
		{"short iface line", "iface bond0\n  bond-miimon 100\n", []string{"if:1: iface needs a name, an address family and a method"}},
		{"not a number", "iface bond0 inet manual\n  bond-miimon 100ms\n  bond-downdelay -5\n",
			[]string{`if:2: bond-miimon "100ms" is not a whole number of milliseconds`, `if:3: bond-downdelay "-5" is not a whole number`}},
		{"too large", "iface bond0 inet manual\n  bond-updelay 99999999999\n", []string{`if:2: bond-updelay "99999999999" is not a whole number`}},
		{"two values", "iface bond0 inet manual\n  bond_miimon 100 200\n", []string{"if:2: bond-miimon takes one value, not 2"}},
		{"unknown mode", "iface bond0 inet manual\n  bond-mode 7\n", []string{`if:2: bond mode "7" is not one of balance-rr, active-backup`}},
		// bond_miimon and bond-miimon are one option to ifenslave.
		{"given twice", "iface bond0 inet manual\n  bond-miimon 100\niface bond0 inet6 manual\n  bond_miimon 50\n",
			[]string{`if:4: bond-miimon for "bond0" already given at line 2`}},
		{"continued line keeps its first number", "iface bond0 inet manual\n  bond-miimon \\\n  abc\n", []string{`if:2: bond-miimon "abc"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseInterfaces("if", []byte(tc.src))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			got := strings.Split(err.Error(), "\n")
			if len(got) != len(tc.want) {
				t.Fatalf("errors %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("error %d: %q, want it to start with %q", i, got[i], w)
				}
			}
		})
	}

	// Many errors: the first 20 and a note, not one per line of input.
	_, err := ParseInterfaces("if", []byte(strings.Repeat("bond-miimon 1\n", 1000)))
	if n := strings.Count(err.Error(), "\n") + 1; n != maxErrors+1 || !strings.Contains(err.Error(), "too many errors") {
		t.Errorf("%d error lines for 1000 bad lines:\n%v", n, err)
	}
	if _, err := ParseInterfaces("if", make([]byte, maxInput+1)); err == nil {
		t.Error("an input over the size limit was read")
	}
}

func TestParseBondFlag(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "bond0:miimon=100,downdelay=200", want: "bond0@0 mode= miimon=100ms default=false down=200ms@0 up=0s arp=0s slaves=[]\n"},
		{in: "bond1:mode=1,miimon=100ms,downdelay=200ms,updelay=200", want: "bond1@0 mode=active-backup miimon=100ms default=false down=200ms@0 up=200ms arp=0s slaves=[]\n"},
		{in: "bond2:miimon=0, arp-interval=200", want: "bond2@0 mode= miimon=0s default=false down=0s@0 up=0s arp=200ms slaves=[]\n"},
		{in: "bond0", err: "want NAME:miimon=MS"},
		{in: ":miimon=100", err: "want NAME:miimon=MS"},
		{in: "bond0:downdelay=200", err: "give miimon=MS"},
		{in: "bond0:miimon=100,miimon=50", err: "miimon given twice"},
		{in: "bond0:miimon=fast", err: `miimon "fast" is not a whole number`},
		{in: "bond0:miimon=100,delay=5", err: `unknown key "delay"`},
		{in: "bond0:miimon", err: `"miimon" is not KEY=VALUE`},
	} {
		b, err := ParseBondFlag(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.in, err)
		default:
			if got := brief([]Bond{b}); got != tc.want {
				t.Errorf("%q: %s want %s", tc.in, got, tc.want)
			}
			if b.Source() != "--bond "+tc.in {
				t.Errorf("%q: source %q", tc.in, b.Source())
			}
		}
	}
}

var positioned = regexp.MustCompile(`^fuzz:([0-9]+): `)

// FuzzParseInterfaces checks that no input panics ParseInterfaces, that
// every error names the file and a line of the input, and that every bond
// read is one the kernel could have: a known mode, delays in range, a
// line inside the file. What it reads, written back as an interfaces file,
// reads the same. The seed corpus (the testdata files and broken variants)
// runs in plain `go test`.
func FuzzParseInterfaces(f *testing.F) {
	files, err := filepath.Glob("testdata/interfaces/*")
	if err != nil || len(files) == 0 {
		f.Fatalf("no testdata: %v", err)
	}
	for _, name := range files {
		src := readFile(f, name)
		f.Add(src)
		f.Add(src[:len(src)/2])                                         // cut mid-stanza
		f.Add(bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n")))      // CRLF
		f.Add(bytes.ReplaceAll(src, []byte("\n  "), []byte(" \\\n  "))) // every option continued
		f.Add(bytes.ReplaceAll(src, []byte("iface"), []byte("#iface"))) // options with no stanza
		f.Add(bytes.ReplaceAll(src, []byte("100"), []byte("1e2")))
		f.Add(bytes.ReplaceAll(src, []byte("_"), []byte("-")))
	}
	f.Add([]byte(""))
	f.Add([]byte("\\"))
	f.Add([]byte("iface \\\n"))
	f.Add([]byte("auto bond0\n  bond-miimon 100\n"))
	f.Add([]byte("iface bond0 inet manual\n bond-miimon 4294967296\n"))
	f.Add([]byte("iface bond0 inet manual\n bond-master bond0\n bond-slaves bond0\n"))
	f.Add([]byte("iface b\x00 inet manual\n bond-mode 802.3ad\n bond-downdelay 2147483647\n"))

	f.Fuzz(func(t *testing.T, src []byte) {
		bonds, err := ParseInterfaces("fuzz", src)
		lines := bytes.Count(src, []byte("\n")) + 1
		if err != nil {
			for _, msg := range strings.Split(err.Error(), "\n") {
				m := positioned.FindStringSubmatch(msg)
				if m == nil {
					t.Fatalf("error without file and line: %q", msg)
				}
				if n := atoi(m[1]); n < 1 || n > lines {
					t.Fatalf("error at line %d of %d: %q", n, lines, msg)
				}
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is not an *Error: %T", err)
			}
			return
		}
		for _, b := range bonds {
			if b.Line < 1 || b.Line > lines || b.Name == "" || b.File != "fuzz" {
				t.Fatalf("bond %+v: bad name or place (%d lines)", b, lines)
			}
			for _, d := range []time.Duration{b.Miimon, b.Downdelay, b.Updelay, b.ArpInterval} {
				if d < 0 || d > maxMs*msec || d%msec != 0 {
					t.Fatalf("bond %+v: delay %v out of range", b, d)
				}
			}
			if b.Mode != "" {
				if _, err := parseMode(b.Mode); err != nil {
					t.Fatalf("bond %+v: %v", b, err)
				}
			}
		}
		if bytes.Contains(render(bonds), []byte("\\\n")) {
			return // a name ending in a backslash would continue the line
		}
		again, err := ParseInterfaces("fuzz", render(bonds))
		if err != nil {
			t.Fatalf("rendered bonds do not parse: %v\n%s", err, render(bonds))
		}
		if a, b := brief(strip(bonds)), brief(strip(again)); a != b {
			t.Fatalf("rendered bonds read differently:\n%s\n%s", a, b)
		}
	})
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
		if n > 1<<30 {
			return -1
		}
	}
	return n
}

// render writes bonds as an interfaces file, every setting explicit.
func render(bonds []Bond) []byte {
	var b bytes.Buffer
	for _, x := range bonds {
		fmt.Fprintf(&b, "iface %s inet manual\n", x.Name)
		if x.Mode != "" {
			fmt.Fprintf(&b, "  bond-mode %s\n", x.Mode)
		}
		if !x.MiimonDefault {
			fmt.Fprintf(&b, "  bond-miimon %d\n", x.Miimon/msec)
		}
		fmt.Fprintf(&b, "  bond-downdelay %d\n  bond-updelay %d\n", x.Downdelay/msec, x.Updelay/msec)
		if x.ArpInterval > 0 {
			fmt.Fprintf(&b, "  bond-arp-interval %d\n", x.ArpInterval/msec)
		}
		fmt.Fprintf(&b, "  bond-slaves %s\n", strings.Join(x.Slaves, " "))
	}
	return b.Bytes()
}

// strip keeps what render carries over: not the places.
func strip(bonds []Bond) []Bond {
	out := make([]Bond, len(bonds))
	for i, b := range bonds {
		b.Line, b.DowndelayLine, b.File = 0, 0, ""
		if len(b.Slaves) == 0 {
			b.Slaves = nil
		}
		out[i] = b
	}
	return out
}
