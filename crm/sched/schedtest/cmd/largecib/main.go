// Command largecib writes schedtest.Large's CIB to stdout, for running
// crm_simulate (or hactl simulate) by hand on what the benchmarks use:
//
//	go run ./crm/sched/schedtest/cmd/largecib -primitives 1000 -nodes 32 -constraints 500 -seed 1 > big.xml
//	crm_simulate -S -x big.xml -Q
//
// It imports no "os": it lives under crm/, where the determinism guard
// (internal/detguard) keeps the OS out, and it needs none. A bad flag
// value exits 2 through the flag package; a stray argument or a failure to
// write panics (also exit 2), since without os there is no other way out.
package main

import (
	"flag"
	"fmt"

	"github.com/hakit/hakit/crm/sched/schedtest"
)

// count is a flag.Value for a count that must be at least min, so that a
// bad value is refused while flags are parsed, with the usage message.
type count struct {
	n, min int
}

func (c *count) String() string { return fmt.Sprint(c.n) }

func (c *count) Set(s string) error {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		return fmt.Errorf("not a number: %q", s)
	}
	if n < c.min {
		return fmt.Errorf("must be at least %d", c.min)
	}
	c.n = n
	return nil
}

func main() {
	primitives, nodes, constraints := &count{n: 1000}, &count{n: 32, min: 1}, &count{n: 500}
	flag.Var(primitives, "primitives", "how many primitives (Dummy resources, some in groups and clones)")
	flag.Var(nodes, "nodes", "how many nodes, all online")
	flag.Var(constraints, "constraints", "how many location, colocation and order constraints")
	seed := flag.Uint64("seed", 1, "the seed every choice is drawn from")
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		panic(fmt.Sprintf("largecib: unexpected argument %q: it takes flags only", flag.Arg(0)))
	}
	out, err := schedtest.Large(primitives.n, nodes.n, constraints.n, *seed).Marshal()
	if err != nil {
		// The generator builds only what the model can encode.
		panic(err)
	}
	if _, err := fmt.Print(string(out)); err != nil {
		panic(err)
	}
}
