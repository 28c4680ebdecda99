package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that no input panics Parse, that every failure is a
// positioned *Error or *UnsupportedError, and that every success is a
// Config that validates again and yields sane derived values. The seed
// corpus (testdata files and broken variants of them) runs in plain
// `go test`.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.conf")
	if err != nil || len(files) == 0 {
		f.Fatalf("no testdata: %v", err)
	}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
		f.Add(src[:len(src)/2])                                    // cut mid-file: unclosed sections
		f.Add(bytes.Replace(src, []byte("}"), nil, 1))             // one brace missing
		f.Add(bytes.Replace(src, []byte("{"), []byte("{ {"), 1))   // junk after a brace
		f.Add(bytes.ReplaceAll(src, []byte(": "), []byte(":")))    // no space after colons
		f.Add(bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n"))) // CRLF line ends
		f.Add(bytes.ReplaceAll(src, []byte("\t"), []byte("  ")))
		f.Add(bytes.ReplaceAll(src, []byte("nodeid: 2"), []byte("nodeid: 1")))
		f.Add(bytes.ReplaceAll(src, []byte("ring0_addr"), []byte("ring9_addr")))
	}
	f.Add([]byte(""))
	f.Add([]byte("}"))
	f.Add([]byte("{"))
	f.Add([]byte(":"))
	f.Add([]byte("totem {\n\ttoken: 4294967295\n\ttoken_coefficient: 4294967295\n}\n"))
	f.Add([]byte(strings.Repeat("a {\n", 1000)))
	f.Add([]byte("\ufeff" + base))
	f.Add([]byte(insert(base, 3, "\ttoken: "+strings.Repeat("9", 300))))
	f.Add([]byte(insert(base, 9, "\t\tring00_addr: 10.0.0.9")))
	f.Add([]byte(insert(base, 18, "\tauto_tie_breaker: 1", "\tauto_tie_breaker_node: 7 2")))
	f.Add([]byte(base + "nodelist {\n}\n"))
	f.Add([]byte(insert(base, 3, "\ttoken: 30", "\ttoken_retransmits_before_loss_const: 0")))
	f.Add([]byte(insert(base, 3, "\tinterface {", "\t\tknet_pong_count: 255", "\t}", "\ttoken: 30")))

	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse("fuzz.conf", src)
		if err != nil {
			var list Errors
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not a non-empty Errors: %T %v", err, err)
			}
			for _, e := range list {
				var pe *Error
				var ue *UnsupportedError
				if !errors.As(e, &pe) && !errors.As(e, &ue) {
					t.Fatalf("error %T is neither *Error nor *UnsupportedError: %v", e, e)
				}
				if !strings.HasPrefix(e.Error(), "fuzz.conf") {
					t.Fatalf("error does not name the file: %v", e)
				}
				// Only a problem with no place in the file may lack a line.
				if pe != nil && pe.Line == 0 && !noLine(pe.Msg) || ue != nil && ue.Line == 0 {
					t.Fatalf("error does not name a line: %v", e)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed config does not validate: %v", err)
		}
		for _, w := range c.Warnings {
			if !strings.HasPrefix(w, "fuzz.conf") {
				t.Fatalf("warning does not name the file: %q", w)
			}
		}
		tok := c.EffectiveToken()
		if tok < c.Totem.Token || c.Totem.Token < 30*time.Millisecond {
			t.Fatalf("EffectiveToken %v, token %v", tok, c.Totem.Token)
		}
		if c.EffectiveConsensus() < c.Totem.Join {
			t.Fatalf("consensus %v < join %v", c.EffectiveConsensus(), c.Totem.Join)
		}
		if c.EffectiveTokenRetransmit() < 30*time.Millisecond || c.EffectiveHold() <= 0 {
			t.Fatalf("retransmit %v hold %v", c.EffectiveTokenRetransmit(), c.EffectiveHold())
		}
		links := c.Links()
		if len(links) < 1 || len(links) > MaxLinks || links[0] != 0 {
			t.Fatalf("links %v", links)
		}
		for _, l := range links {
			iv, to, pc := c.KnetPingTimers(l)
			if iv < time.Millisecond || to < time.Millisecond || pc < 1 {
				t.Fatalf("link %d timers %v %v %d", l, iv, to, pc)
			}
		}
		if c.ExpectedVotes() == 0 {
			t.Fatal("ExpectedVotes is 0")
		}
		for i := range c.Nodes {
			n := &c.Nodes[i]
			if n.ID == 0 || len(n.Addrs) != len(links) {
				t.Fatalf("node %+v", n)
			}
			if got, ok := c.NodeByID(n.ID); !ok || got != n {
				t.Fatalf("NodeByID(%d)", n.ID)
			}
			if n.Name != "" {
				if got, ok := c.NodeByName(n.Name); !ok || got != n {
					t.Fatalf("NodeByName(%q)", n.Name)
				}
			}
		}
	})
}

// noLine reports whether msg is one of the errors that belong to no line:
// a section missing altogether, or the input as a whole.
func noLine(msg string) bool {
	for _, p := range []string{"missing nodelist", "totem.version is required", "quorum.provider is required", "too many errors", "bytes is larger than"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
