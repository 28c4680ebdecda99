package evscheck

import (
	"strings"
	"testing"
)

func TestCheckerCatchesEachViolation(t *testing.T) {
	sent := map[string]bool{"a": true, "b": true, "c": true}
	for _, c := range []struct {
		name string
		play func(ch *Checker[int, int])
		want string
	}{
		{"clean", func(ch *Checker[int, int]) {
			p, q := ch.Member("p"), ch.Member("q")
			p.Regular(1, []int{1, 2})
			q.Regular(1, []int{1, 2})
			p.Deliver("a")
			q.Deliver("a")
			p.Deliver("b")
			p.Transitional(2, []int{1, 2})
			q.Deliver("b")
			q.Transitional(2, []int{1, 2})
		}, ""},
		{"twice", func(ch *Checker[int, int]) {
			p := ch.Member("p")
			p.Deliver("a")
			p.Deliver("a")
		}, "twice"},
		{"unsent", func(ch *Checker[int, int]) { ch.Member("p").Deliver("zzz") }, "nobody sent"},
		{"order", func(ch *Checker[int, int]) {
			p, q := ch.Member("p"), ch.Member("q")
			p.Regular(1, []int{1, 2})
			q.Regular(1, []int{1, 2})
			p.Deliver("a")
			q.Deliver("b")
		}, "total order"},
		{"membership", func(ch *Checker[int, int]) {
			ch.Member("p").Regular(1, []int{1, 2})
			ch.Member("q").Regular(1, []int{1, 3})
		}, "membership disagreement"},
		{"virtual synchrony", func(ch *Checker[int, int]) {
			p, q := ch.Member("p"), ch.Member("q")
			p.Regular(1, []int{1, 2})
			q.Regular(1, []int{1, 2})
			p.Deliver("a")
			p.Transitional(2, []int{1, 2})
			q.Transitional(2, []int{1, 2})
		}, "virtual synchrony"},
	} {
		var got []string
		ch := New[int, int](func(p string) bool { return sent[p] }, func(v string) { got = append(got, v) })
		c.play(ch)
		switch {
		case c.want == "" && len(got) > 0:
			t.Errorf("%s: unexpected %v", c.name, got)
		case c.want != "" && (len(got) == 0 || !strings.Contains(got[0], c.want)):
			t.Errorf("%s: got %v, want a %q violation", c.name, got, c.want)
		}
	}
}
