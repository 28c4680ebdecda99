// Package scenarios holds hakit's named simulation scenarios: topology,
// configuration, fault schedule (fixed or drawn from the seed) and the
// invariants checked against the world's ground truth. It is the only
// package that knows both the simulator and the node code; hasim runs what
// is registered here.
//
// A scenario is a function of its seed: Run builds a fresh world from the
// seed, runs it, and returns the verdict with the trace hash. A failing run
// is reproduced exactly by the command Result.Replay prints.
package scenarios

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hakit/hakit/sim"
	"github.com/hakit/hakit/transport/totem"
)

// Scenario is one named simulation.
type Scenario struct {
	Name    string
	Summary string
	// Run builds the world in r, runs it and reports violations and
	// figures through r. It must draw every choice from r's streams.
	Run func(r *Run)
}

var registry []Scenario

func register(s Scenario) {
	if Lookup(s.Name) != nil {
		panic("scenarios: duplicate " + s.Name)
	}
	registry = append(registry, s)
	slices.SortFunc(registry, func(a, b Scenario) int { return strings.Compare(a.Name, b.Name) })
}

// All returns every scenario, sorted by name.
func All() []Scenario { return slices.Clone(registry) }

// Lookup returns the named scenario, or nil.
func Lookup(name string) *Scenario {
	for i := range registry {
		if registry[i].Name == name {
			return &registry[i]
		}
	}
	return nil
}

// Names returns every scenario name, sorted.
func Names() []string {
	var names []string
	for _, s := range registry {
		names = append(names, s.Name)
	}
	return names
}

// Options change how a run is observed, never what happens in it.
type Options struct {
	// Trace, if set, receives the full event trace.
	Trace io.Writer
}

// Run is the state of one scenario run: the world and what was found.
type Run struct {
	Scenario       string
	Seed           uint64
	W              *sim.World
	violations     []string
	violationCount int
	figures        []Figure
}

// Figure is a measured quantity a scenario reports (a failover time, a
// loss rate).
type Figure struct {
	Name  string
	Value float64
	Unit  string
}

// Violationf records an invariant violation at the current virtual time.
// A run keeps the first maxViolations in full and counts the rest: one bug
// tends to break an invariant at every event after it.
func (r *Run) Violationf(format string, args ...any) {
	r.violationCount++
	if len(r.violations) < maxViolations {
		r.violations = append(r.violations, fmt.Sprintf("t=%v: ", r.W.Now())+fmt.Sprintf(format, args...))
	}
}

const maxViolations = 10

// Figure records a measured quantity.
func (r *Run) Figure(name string, value float64, unit string) {
	r.figures = append(r.figures, Figure{name, value, unit})
}

// Result is the outcome of one run.
type Result struct {
	Scenario    string
	Seed        uint64
	VirtualTime time.Duration
	Steps       uint64
	TraceLines  uint64
	TraceHash   string
	Violations  []string
	Figures     []Figure
}

// Passed reports whether no invariant was violated.
func (res Result) Passed() bool { return len(res.Violations) == 0 }

// Verdict is "pass" or "FAIL".
func (res Result) Verdict() string {
	if res.Passed() {
		return "pass"
	}
	return "FAIL"
}

// Replay is the command that reproduces the run, from the repository root.
func (res Result) Replay() string {
	tags := ""
	if totem.PlantedBug != "" {
		tags = "-tags hakit_plantbug "
	}
	return fmt.Sprintf("go run %s./cmd/hasim run %s --seed %d", tags, res.Scenario, res.Seed)
}

// Execute runs the named scenario with seed. It fails only for an unknown
// name; a scenario that panics is reported as a violation with its replay
// command, since a panic in the node or the world is a finding too.
func Execute(name string, seed uint64, opts Options) (res Result, err error) {
	s := Lookup(name)
	if s == nil {
		return Result{}, fmt.Errorf("unknown scenario %q (have: %s)", name, strings.Join(Names(), ", "))
	}
	var simOpts []sim.Option
	if opts.Trace != nil {
		simOpts = append(simOpts, sim.WithTraceWriter(opts.Trace))
	}
	r := &Run{Scenario: name, Seed: seed, W: sim.New(seed, simOpts...)}
	func() {
		defer func() {
			if p := recover(); p != nil {
				r.Violationf("panic: %v", p)
			}
		}()
		s.Run(r)
	}()
	if extra := r.violationCount - len(r.violations); extra > 0 {
		r.violations = append(r.violations, fmt.Sprintf("... and %d more violations", extra))
	}
	return Result{
		Scenario:    name,
		Seed:        seed,
		VirtualTime: r.W.Now(),
		Steps:       r.W.Steps(),
		TraceLines:  r.W.Trace().Lines(),
		TraceHash:   r.W.Trace().Hash(),
		Violations:  r.violations,
		Figures:     r.figures,
	}, nil
}

// Summary aggregates one figure over many runs.
type Summary struct {
	Name, Unit       string
	N                int
	Min, Median, Max float64
}

// Summarize gives min/median/max of each figure across results, in the
// order figures first appear.
func Summarize(results []Result) []Summary {
	values := map[string][]float64{}
	var order []string
	units := map[string]string{}
	for _, res := range results {
		for _, f := range res.Figures {
			if _, ok := values[f.Name]; !ok {
				order = append(order, f.Name)
				units[f.Name] = f.Unit
			}
			values[f.Name] = append(values[f.Name], f.Value)
		}
	}
	var out []Summary
	for _, name := range order {
		v := values[name]
		sort.Float64s(v)
		out = append(out, Summary{Name: name, Unit: units[name], N: len(v), Min: v[0], Median: v[len(v)/2], Max: v[len(v)-1]})
	}
	return out
}
