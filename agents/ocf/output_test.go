package ocf

import (
	"strings"
	"testing"
)

func TestTailBuffer(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{"fits", 10, []string{"abc", "def"}, "abcdef"},
		{"exactly full", 6, []string{"abc", "def"}, "abcdef"},
		{"drops the head", 4, []string{"abc", "def"}, "[... 2 bytes dropped]\ncdef"},
		{"one big write", 3, []string{"abcdefgh"}, "[... 5 bytes dropped]\nfgh"},
		{"big write after small", 3, []string{"xy", "abcdefgh"}, "[... 7 bytes dropped]\nfgh"},
		// "é" is two bytes; the tail never starts inside a character.
		{"character boundary", 3, []string{"aéé"}, "[... 3 bytes dropped]\né"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTailBuffer(tt.max)
			for _, w := range tt.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if got := b.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExitReasonWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"nothing", nil, ""},
		{"split across writes", []string{"ocf-exit", "-reason:disk ", "full\nother\n"}, "disk full"},
		{"last wins", []string{"ocf-exit-reason:a\nocf-exit-reason:b\n"}, "b"},
		{"empty reason counts", []string{"ocf-exit-reason:a\nocf-exit-reason:\n"}, ""},
		{"unterminated last line", []string{"x\nocf-exit-reason:tail"}, "tail"},
		{"runaway line is cut", []string{"ocf-exit-reason:" + strings.Repeat("z", 100000) + "\n"}, strings.Repeat("z", maxExitReason)},
		{"runaway line without the prefix", []string{strings.Repeat("q", 100000) + "ocf-exit-reason:no\n"}, ""},
		{"invalid UTF-8", []string{"ocf-exit-reason:bad \xff byte\n"}, "bad \uFFFD byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &exitReasonWriter{}
			for _, s := range tt.writes {
				if _, err := w.Write([]byte(s)); err != nil {
					t.Fatal(err)
				}
			}
			if got := w.Reason(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if len(w.line) > lineKeep {
				t.Errorf("kept %d bytes of a line, want at most %d", len(w.line), lineKeep)
			}
		})
	}
}

func TestCappedBuffer(t *testing.T) {
	c := &cappedBuffer{max: 5}
	c.Write([]byte("abc"))
	if c.overflow {
		t.Fatal("overflow after 3 of 5 bytes")
	}
	c.Write([]byte("def"))
	if !c.overflow || c.buf.String() != "abcde" {
		t.Errorf("overflow %v, kept %q; want true, abcde", c.overflow, c.buf.String())
	}
}
