package env

import (
	"testing"
	"time"
)

func TestDeriveRandIsAFunctionOfRootAndLabel(t *testing.T) {
	draw := func(root uint64, label string) [4]uint64 {
		r := DeriveRand(root, label)
		return [4]uint64{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()}
	}
	if draw(7, "net/private") != draw(7, "net/private") {
		t.Error("same root and label gave different streams")
	}
	distinct := map[[4]uint64]string{}
	for _, c := range []struct {
		root  uint64
		label string
	}{{7, "net/private"}, {8, "net/private"}, {7, "net/public"}, {7, "node/1/totem"}, {7, "node/2/totem"}, {0, ""}} {
		d := draw(c.root, c.label)
		if prev, dup := distinct[d]; dup {
			t.Errorf("root %d label %q draws the same stream as %s", c.root, c.label, prev)
		}
		distinct[d] = c.label
	}
}

func TestMonoString(t *testing.T) {
	for _, c := range []struct {
		m    Mono
		want string
	}{
		{0, "0.000000000"},
		{Mono(1500 * time.Millisecond), "1.500000000"},
		{Mono(-time.Millisecond), "-0.001000000"},
		{Mono(3*time.Second + 7), "3.000000007"},
	} {
		if got := c.m.String(); got != c.want {
			t.Errorf("Mono(%d).String() = %q, want %q", int64(c.m), got, c.want)
		}
	}
	if got := Mono(5).Add(time.Second).Sub(Mono(5)); got != time.Second {
		t.Errorf("Add/Sub round trip = %v", got)
	}
}
