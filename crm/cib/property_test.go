package cib

import (
	"bytes"
	"math/rand"
	"testing"

	"github.com/leanovate/gopter/prop"
)

// roundTrip checks the properties every CIB must have, logging what broke.
func roundTrip(t *testing.T, c *CIB, r *rand.Rand) bool {
	m1, err := c.Marshal()
	if err != nil {
		t.Logf("Marshal: %v", err)
		return false
	}
	c2, err := Parse("gen", m1)
	if err != nil {
		t.Logf("Parse(Marshal(x)): %v\n%s", err, m1)
		return false
	}
	m2, err := c2.Marshal()
	if err != nil || !bytes.Equal(m1, m2) {
		t.Logf("Marshal(Parse(Marshal(x))) != Marshal(x) (%v):\n%s", err, firstDiff(string(m1), string(m2)))
		return false
	}
	d1, err1 := c.Digest()
	d2, err2 := c2.Digest()
	if err1 != nil || err2 != nil || d1 != d2 {
		t.Logf("digest changed across a round trip: %s %v, %s %v", d1, err1, d2, err2)
		return false
	}
	if m3, err := c.Clone().Marshal(); err != nil || !bytes.Equal(m1, m3) {
		t.Logf("Clone exports differently (%v)", err)
		return false
	}
	_ = c2.Validate() // must not panic, whatever the CIB

	// Layout never changes the digest.
	tree, err := parseTree("gen", m1)
	if err != nil {
		t.Logf("parseTree: %v", err)
		return false
	}
	re := reformat(r, tree)
	c3, err := Parse("reformatted", re)
	if err != nil {
		t.Logf("reformatted CIB does not parse: %v\n%s", err, re)
		return false
	}
	if d3, err := c3.Digest(); err != nil || d3 != d1 {
		t.Logf("reformatting changed the digest (%v):\n%s", err, re)
		return false
	}

	// Any change to a configuration attribute or text changes it.
	cfg := firstNamed(tree, "configuration")
	var spots []*Raw
	var walk func(x *Raw)
	walk = func(x *Raw) {
		if len(x.Attrs) > 0 || x.Name == "" {
			spots = append(spots, x)
		}
		for _, ch := range x.Children {
			walk(ch)
		}
	}
	walk(cfg)
	if len(spots) > 0 {
		x := spots[r.Intn(len(spots))]
		if x.Name == "" {
			x.Text += "x"
		} else {
			x.Attrs[r.Intn(len(x.Attrs))].Value += "x"
		}
		var buf bytes.Buffer
		writePretty(&buf, tree, 0)
		c4, err := Parse("mutated", buf.Bytes())
		if err != nil {
			t.Logf("mutated CIB does not parse: %v", err)
			return false
		}
		if d4, err := c4.Digest(); err != nil || d4 == d1 {
			t.Logf("a changed value kept the digest (%v):\n%s", err, buf.Bytes())
			return false
		}
	}
	return true
}

// TestPropertyRoundTrip: for generated CIBs full of what the model does
// not understand, Marshal(Parse(Marshal(x))) == Marshal(x), the digest
// survives the round trip and any re-layout, a changed value changes it,
// and Clone exports identically.
func TestPropertyRoundTrip(t *testing.T) {
	props := properties(t, 400)
	r := rand.New(rand.NewSource(propertySeed))
	props.Property("wild CIBs round-trip", prop.ForAll(func(c *CIB) bool {
		return roundTrip(t, c, r)
	}, genCIB(false)))
	props.TestingRun(t)
}

// TestPropertyValidCIBs: generated CIBs that keep to what Pacemaker
// accepts round-trip too and have no validation errors.
func TestPropertyValidCIBs(t *testing.T) {
	props := properties(t, 200)
	r := rand.New(rand.NewSource(propertySeed + 1))
	props.Property("valid CIBs validate and round-trip", prop.ForAll(func(c *CIB) bool {
		if errs := c.Validate().Errors(); len(errs) > 0 {
			m, _ := c.Marshal()
			t.Logf("generated CIB has errors:\n%v\n%s", errs, m)
			return false
		}
		return roundTrip(t, c, r)
	}, genCIB(true)))
	props.TestingRun(t)
}
