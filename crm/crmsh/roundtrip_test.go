package crmsh

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
)

// genConfig writes a random valid configuration as crm shell commands.
func genConfig(seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	var b strings.Builder
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	values := []string{"1", "x y", `say "hi"`, "", "a\\b", "#hash", "it's", "/etc/x.conf", "http://h/p?q=1", "(", "[x]", "k=v", "tab\there"}
	names := []string{"ip", "nic", "config file", "fake", "state", "op", "meta", "description", "params"}
	pairs := func(n int) string {
		var ps []string
		for range n {
			ps = append(ps, quoteValue(pick(names...))+"="+quoteValue(pick(values...)))
		}
		return strings.Join(ps, " ")
	}
	var top []string // top-level resource ids
	var free []string
	nprims := 1 + r.IntN(6)
	for i := range nprims {
		id := fmt.Sprintf("p%d", i)
		fmt.Fprintf(&b, "primitive %s %s", id, pick("ocf:heartbeat:Dummy", "Dummy", "ocf:pacemaker:Stateful", "ocf:Dummy"))
		if r.IntN(4) == 0 {
			fmt.Fprintf(&b, " description=%s", quoteValue(pick(values...)))
		}
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, " params %s", pairs(1+r.IntN(3)))
		}
		if r.IntN(3) == 0 {
			fmt.Fprintf(&b, " meta target-role=%s resource-stickiness=%d", pick("Started", "Stopped"), r.IntN(200))
		}
		if r.IntN(5) == 0 {
			fmt.Fprintf(&b, " utilization cpu=%d", r.IntN(8))
		}
		ops := []string{"monitor interval=10s", "monitor interval=1min timeout=20s", "start timeout=60s", "stop timeout=60s on-fail=block", "monitor interval=30s OCF_CHECK_LEVEL=10 start-delay=5s"}
		r.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
		for _, op := range ops[:r.IntN(4)] {
			fmt.Fprintf(&b, " \\\n  op %s", op)
		}
		b.WriteString("\n")
		free = append(free, id)
	}
	// groups and clones
	var groups []string
	for g := 0; len(free) > 1 && r.IntN(2) == 0; g++ {
		n := 1 + r.IntN(len(free)-1)
		fmt.Fprintf(&b, "group g%d %s", g, strings.Join(free[:n], " "))
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, " meta target-role=Started")
		}
		b.WriteString("\n")
		groups = append(groups, fmt.Sprintf("g%d", g))
		free = free[n:]
	}
	free = append(groups, free...)
	for i, id := range free {
		if r.IntN(3) == 0 {
			fmt.Fprintf(&b, "clone c%d %s meta interleave=%s\n", i, id, pick("true", "false"))
			id = fmt.Sprintf("c%d", i)
		}
		top = append(top, id)
	}
	scores := []string{"inf", "-inf", "100", "-50", "0", "INFINITY", "+inf"}
	for i := range r.IntN(4) {
		rsc := top[r.IntN(len(top))]
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, "location l%d %s %s: node%d\n", i, rsc, pick(scores...), r.IntN(3))
			continue
		}
		fmt.Fprintf(&b, "location l%d %s", i, rsc)
		for range 1 + r.IntN(2) {
			fmt.Fprintf(&b, " rule %s:", pick(append(scores, "pingd")...))
			join := pick("and", "or")
			for k := range 1 + r.IntN(3) {
				if k > 0 {
					b.WriteString(" " + join)
				}
				switch r.IntN(4) {
				case 0:
					fmt.Fprintf(&b, " %s %s", pick("defined", "not_defined"), pick("pingd", "#uname", "site"))
				case 1:
					fmt.Fprintf(&b, " #uname eq node%d", r.IntN(3))
				case 2:
					fmt.Fprintf(&b, " pingd %s %d", pick("lt", "gt", "lte", "gte", "eq", "ne"), r.IntN(2000))
				default:
					fmt.Fprintf(&b, " %s %s:%s %s", pick("kernel", "site"), pick("version", "string"), pick("lt", "eq"), exprWord(pick("5.10", "a:b", "and", "x y")))
				}
			}
		}
		b.WriteString("\n")
	}
	if len(top) >= 2 {
		for i := range r.IntN(3) {
			a, c := r.IntN(len(top)), r.IntN(len(top))
			if a == c {
				continue
			}
			fmt.Fprintf(&b, "colocation co%d %s: %s %s\n", i, pick(scores...), top[a], top[c])
		}
		for i := range r.IntN(3) {
			a := r.IntN(len(top) - 1)
			c := a + 1 + r.IntN(len(top)-a-1)
			fmt.Fprintf(&b, "order o%d %s %s %s%s\n", i, pick("", "Mandatory:", "Optional:", "inf:", "0:", "Serialize:", "100:"),
				top[a], top[c], pick("", " symmetrical=false"))
		}
		if len(top) >= 3 && r.IntN(2) == 0 {
			fmt.Fprintf(&b, "order os %s ( %s %s )\n", top[0], top[1], top[2])
			fmt.Fprintf(&b, "colocation cs inf: [ %s %s ] %s\n", top[2], top[1], top[0])
		}
	}
	for range r.IntN(3) {
		fmt.Fprintf(&b, "%s %s\n", pick("property", "property cib-bootstrap-options:", "property extra:", "rsc_defaults", "op_defaults", "op_defaults $id=od"), pairs(1+r.IntN(2)))
	}
	if r.IntN(4) == 0 {
		fmt.Fprintf(&b, "delete %s\n", top[r.IntN(len(top))])
	}
	return b.String()
}

func roundTrip(src string) error {
	c, err := ApplyText(Empty(), src)
	if err != nil {
		return fmt.Errorf("apply generated config: %w\n%s", err, src)
	}
	shown := Show(c)
	again, err := ApplyText(Empty(), shown)
	if err != nil {
		return fmt.Errorf("apply Show output: %w\n%s", err, shown)
	}
	d1, err1 := c.Digest()
	d2, err2 := again.Digest()
	if err1 != nil || err2 != nil || d1 != d2 {
		x1, _ := c.Marshal()
		x2, _ := again.Marshal()
		return fmt.Errorf("digest changed:\n%s\n--- shown ---\n%s\n--- before ---\n%s\n--- after ---\n%s", src, shown, x1, x2)
	}
	if s := Show(again); s != shown {
		return fmt.Errorf("Show not stable:\n%s\n---\n%s", shown, s)
	}
	return nil
}

func TestRoundTripProperty(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 500
	params.Rng.Seed(1)
	props := gopter.NewProperties(params)
	props.Property("Apply(Parse(Show(c))) has c's digest", prop.ForAll(func(seed uint64) (bool, error) {
		if err := roundTrip(genConfig(seed)); err != nil {
			return false, err
		}
		return true, nil
	}, gen.UInt64()))
	props.TestingRun(t)
}
