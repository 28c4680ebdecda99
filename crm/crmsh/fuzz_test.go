package crmsh

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics; what it accepts and Apply accepts, Show
// prints back to the same digest; what Parse rejects is an *Error whose
// position lies in the input.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.crm")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{
		"location l vip rule -inf: not_defined pingd or pingd lte 0",
		"primitive p Dummy params a=\"x \\\" y\" b='c d' \\\n op monitor interval=10s",
		"primitive a Dummy\nprimitive b Dummy\ngroup g a b\nclone c g meta interleave=true",
		"primitive a Dummy\nprimitive b Dummy\nprimitive c Dummy\norder o inf: a ( b c ) symmetrical=false\ncolocation x -inf: [ a b ] c",
		"property $id=x a= b=\"\"\nrsc_defaults resource-stickiness=100\nop_defaults timeout=20s",
		"location l vip 100 : n1", "order o a:promote b", "erase", "delete x", "show", "#c\n\\", "a \"", "'",
	} {
		f.Add(s)
	}
	for seed := range uint64(20) {
		f.Add(genConfig(seed))
	}
	f.Fuzz(func(t *testing.T, src string) {
		cmds, err := Parse(src)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || e.Line < 1 || e.Col < 1 {
				t.Fatalf("Parse error %#v", err)
			}
			return
		}
		c, err := Apply(Empty(), cmds)
		if err != nil {
			return
		}
		if err := roundTrip(Show(c)); err != nil {
			t.Fatal(err)
		}
	})
}
