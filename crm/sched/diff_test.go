package sched

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hakit/hakit/crm/cib"
)

// The differential test: hakit's scheduler against Pacemaker's, on CIBs
// drawn by gen_test.go, with crm_simulate as the oracle (oracle_test.go).

var (
	diffN    = flag.Int("diff.n", 300, "number of generated CIBs TestDifferential compares (50 with -short)")
	diffSeed = flag.Int64("diff.seed", 20260301, "seed of TestDifferential's first case; case i uses seed+i")
	diffKeep = flag.String("diff.keep", "", "directory to write every mismatching case to (CIB, crm_simulate's output, hakit's placement and result, the diff)")
	diffV    = flag.Bool("diff.v", false, "print every mismatch in full, not only the first few")
	// Until every class of mismatch is fixed or listed in DEVIATIONS.md,
	// the normal run guards the match rate against regressions; -diff.strict
	// fails on any unexcused mismatch.
	diffStrict = flag.Bool("diff.strict", false, "fail on every unexcused mismatch, not only when the match rate falls below -diff.min")
	diffMin    = flag.Float64("diff.min", 0.85, "the lowest match rate (matched / compared) the test accepts without -diff.strict")
)

// deviation is a known difference from Pacemaker, decided on and explained
// in crm/DEVIATIONS.md: a mismatch it applies to is counted under its
// name instead of failing the test.
type deviation struct {
	name    string
	applies func(c *cib.CIB, hakit, oracle Placement) bool
}

// knownDeviations are tried in order; the first that applies excuses a
// mismatch. Each entry must also be listed, with its reason, in
// crm/DEVIATIONS.md.
var knownDeviations = []deviation{}

const (
	// diffShown is how many unexcused mismatches are printed in full
	// without -diff.v; the rest are listed by seed.
	diffShown = 5
	// diffScheduleTimeout bounds one Schedule call, so that a scheduler that
	// loops names its seed instead of hanging the test.
	diffScheduleTimeout = 20 * time.Second
)

// diffOutcome is one case's verdict.
type diffOutcome struct {
	gc        *genCase
	oracle    *oracleResult
	oracleErr error
	result    *Result
	schedErr  error
	hakit     Placement
	diff      []string // the differences, resource by resource, then nodes
	kinds     []string // what differs: primitive, group-member, clone, promoted, node-state, ...
	excuse    string   // the known deviation explaining the difference
}

func (o *diffOutcome) matched() bool {
	return o.oracleErr == nil && o.schedErr == nil && len(o.diff) == 0
}

// class names an unexcused mismatch by what differs, for the summary.
func (o *diffOutcome) class() string {
	if o.schedErr != nil {
		return "schedule-error"
	}
	return strings.Join(o.kinds, "+")
}

// features are the case's generator features plus what the oracle
// reported about it.
func (o *diffOutcome) features() []string {
	fs := slices.Clone(o.gc.Features)
	if o.oracle != nil && o.oracle.Terminated {
		fs = append(fs, "oracle:transition-terminated")
	}
	return fs
}

func diffReplay(seed int64) string {
	return fmt.Sprintf("go test ./crm/sched -run '^TestDifferential$' -v -args -diff.seed=%d -diff.n=1 -diff.v", seed)
}

// TestDifferential compares, for each generated CIB, the placement after
// the transition as Schedule computes it with what crm_simulate says.
// Every case is one seed, so a mismatch replays alone with the command
// its failure prints. A mismatch fails the test unless a known deviation
// explains it; -v shows the summary.
func TestDifferential(t *testing.T) {
	tool, err := exec.LookPath("crm_simulate")
	if err != nil {
		t.Skip("crm_simulate not in PATH: install Debian's pacemaker-cli-utils to compare the scheduler with Pacemaker's")
	}
	n := *diffN
	if testing.Short() && !diffFlagSet("diff.n") {
		n = 50
	}
	if n <= 0 {
		t.Fatalf("-diff.n=%d: need at least one case", n)
	}
	dir := t.TempDir()
	outcomes := make([]*diffOutcome, n)
	next := make(chan int)
	var wg sync.WaitGroup
	// Half the cores: `go test ./...` runs this next to the real-process
	// tests of cmd/hanode, whose timing a saturated machine would disturb.
	for range min(max(1, runtime.NumCPU()/2), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				outcomes[i] = diffCase(t.Context(), tool, dir, *diffSeed+int64(i))
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	diffReport(t, outcomes)
}

// diffFlagSet reports whether the flag was given on the command line.
func diffFlagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// diffCase draws the case for seed and compares the two schedulers on it.
func diffCase(ctx context.Context, tool, dir string, seed int64) *diffOutcome {
	o := &diffOutcome{gc: genCaseForSeed(seed)}
	c := o.gc.CIB
	o.oracle, o.oracleErr = runOracle(ctx, tool, dir, c)
	if o.oracleErr != nil {
		return o
	}
	before, err := c.Marshal()
	if err != nil {
		o.oracleErr = err
		return o
	}
	o.result, o.schedErr = diffSchedule(c)
	if o.schedErr == nil {
		if after, err := c.Marshal(); err != nil || !bytes.Equal(before, after) {
			o.schedErr = errors.New("Schedule modified the CIB it was given")
		}
	}
	if o.schedErr != nil {
		return o
	}
	o.hakit = o.result.Placement(c)
	o.diff, o.kinds = diffPlacement(c, o.hakit, o.oracle.Placement)
	if len(o.diff) > 0 {
		for _, d := range knownDeviations {
			if d.applies(c, o.hakit, o.oracle.Placement) {
				o.excuse = d.name
				break
			}
		}
	}
	return o
}

// diffSchedule runs Schedule, turning a panic or a hang into an error.
func diffSchedule(c *cib.CIB) (*Result, error) {
	type answer struct {
		res *Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- answer{nil, fmt.Errorf("Schedule panicked: %v\n%s", p, debug.Stack())}
			}
		}()
		res, err := Schedule(Input{CIB: c})
		if err == nil && res == nil {
			err = errors.New("Schedule returned neither a result nor an error")
		}
		done <- answer{res, err}
	}()
	timer := time.NewTimer(diffScheduleTimeout)
	defer timer.Stop()
	select {
	case a := <-done:
		return a.res, a.err
	case <-timer.C:
		return nil, fmt.Errorf("Schedule did not return within %v", diffScheduleTimeout)
	}
}

// diffKinds names each placement key's kind of resource, as the summary
// classifies mismatches.
func diffKinds(c *cib.CIB) map[string]string {
	kinds := map[string]string{}
	for _, r := range c.Config.Resources {
		switch r := r.(type) {
		case *cib.Primitive:
			kinds[r.ID] = "primitive"
			if r.Class == "stonith" {
				kinds[r.ID] = "stonith"
			}
		case *cib.Group:
			for _, m := range r.Children {
				kinds[m.ResourceID()] = "group-member"
			}
		case *cib.Clone:
			kind := "clone"
			if _, ok := r.Child.(*cib.Group); ok {
				kind = "cloned-group"
			}
			if r.Promotable() {
				kind = "promotable-" + kind
			}
			kinds[r.ID] = kind
		}
	}
	return kinds
}

// diffPlacement lists where hakit's placement h and crm_simulate's o
// differ, resource by resource and then node by node, with the kinds of
// what differs. Nil and empty node lists are the same.
func diffPlacement(c *cib.CIB, h, o Placement) (lines, kinds []string) {
	kindOf := diffKinds(c)
	seen := map[string]bool{}
	addKind := func(k string) {
		if !seen[k] {
			seen[k] = true
			kinds = append(kinds, k)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(diffKeys(h.Resources, o.Resources))) {
		hp, inH := h.Resources[key]
		op, inO := o.Resources[key]
		if inH == inO && hp.State == op.State && slices.Equal(hp.Nodes, op.Nodes) && slices.Equal(hp.Promoted, op.Promoted) {
			continue
		}
		kind := cmp.Or(kindOf[key], "unknown")
		if inH && inO && hp.State == op.State && slices.Equal(hp.Nodes, op.Nodes) {
			kind = "promoted"
		}
		addKind(kind)
		lines = append(lines, fmt.Sprintf("%s %s: hakit %s; crm_simulate %s", kind, key, diffShow(hp, inH), diffShow(op, inO)))
	}
	for _, name := range slices.Sorted(maps.Keys(diffKeys(h.Nodes, o.Nodes))) {
		hs, inH := h.Nodes[name]
		ostate, inO := o.Nodes[name]
		if inH == inO && hs == ostate {
			continue
		}
		addKind("node-state")
		lines = append(lines, fmt.Sprintf("node %s: hakit %s; crm_simulate %s", name, cmp.Or(string(hs), "absent"), cmp.Or(string(ostate), "absent")))
	}
	slices.Sort(kinds)
	return lines, kinds
}

func diffKeys[V any](a, b map[string]V) map[string]bool {
	u := map[string]bool{}
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

func diffShow(rp RscPlacement, present bool) string {
	switch {
	case !present:
		return "absent"
	case len(rp.Nodes) == 0:
		return rp.State
	}
	s := rp.State + " on " + strings.Join(rp.Nodes, " ")
	if len(rp.Promoted) > 0 {
		s += " (promoted on " + strings.Join(rp.Promoted, " ") + ")"
	}
	return s
}

// diffReport fails the test for what is neither matched nor excused and
// logs the summary. Everything is reported in case order, so the output
// depends only on the seeds.
func diffReport(t *testing.T, outcomes []*diffOutcome) {
	t.Helper()
	var (
		matched, compared int
		oracleFailures    int
		crashed           []int64
		failures          []*diffOutcome
		excused           = map[string]int{}
		classes           = map[string]int{}
		featAll           = map[string]int{}
		featBad           = map[string]int{}
	)
	for _, o := range outcomes {
		if *diffKeep != "" && !o.matched() && !errors.Is(o.oracleErr, errOracleCrashed) {
			if err := diffKeepCase(*diffKeep, o); err != nil {
				t.Errorf("-diff.keep: %v", err)
			}
		}
		switch {
		case errors.Is(o.oracleErr, errOracleCrashed):
			// Pacemaker's bug, not ours: nothing to compare against.
			crashed = append(crashed, o.gc.Seed)
			continue
		case o.oracleErr != nil:
			if oracleFailures++; *diffV || oracleFailures <= diffShown {
				t.Errorf("seed %d: crm_simulate could not be used as the oracle (a generator or harness bug): %v\nreplay: %s",
					o.gc.Seed, o.oracleErr, diffReplay(o.gc.Seed))
			}
			continue
		}
		compared++
		for _, f := range o.features() {
			featAll[f]++
		}
		switch {
		case o.matched():
			matched++
		case o.excuse != "":
			excused[o.excuse]++
		default:
			failures = append(failures, o)
			classes[o.class()]++
			for _, f := range o.features() {
				featBad[f]++
			}
		}
	}
	report := t.Error
	if !*diffStrict {
		report = t.Log
	}
	var hidden []string
	for i, o := range failures {
		if *diffV || i < diffShown {
			report(diffFailure(o, *diffV && len(outcomes) == 1))
		} else {
			hidden = append(hidden, fmt.Sprint(o.gc.Seed))
		}
	}
	if len(hidden) > 0 {
		if len(hidden) > 30 {
			hidden = append(hidden[:30], "...")
		}
		report(fmt.Sprintf("%d more unexcused mismatches (seeds %s); -diff.v prints them all, -diff.keep DIR writes them out",
			len(failures)-diffShown, strings.Join(hidden, " ")))
	}
	if compared > 0 && !*diffStrict {
		if rate := float64(matched+sumCounts(excused)) / float64(compared); rate < *diffMin {
			t.Errorf("match rate %.1f%% is below -diff.min=%.1f%%: a regression against crm_simulate", 100*rate, 100**diffMin)
		}
	}

	if oracleFailures > diffShown && !*diffV {
		t.Errorf("crm_simulate failed on %d more cases; -diff.v prints them all", oracleFailures-diffShown)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "%d cases from seed %d: %d compared", len(outcomes), *diffSeed, compared)
	if oracleFailures > 0 {
		fmt.Fprintf(&b, ", %d where crm_simulate failed", oracleFailures)
	}
	if len(crashed) > 0 {
		fmt.Fprintf(&b, ", %d skipped because crm_simulate crashed (seeds %v)", len(crashed), crashed)
	}
	rate := 0.0
	if compared > 0 {
		rate = 100 * float64(matched) / float64(compared)
	}
	fmt.Fprintf(&b, "\nmatched %d of %d (%.1f%%); known deviations %d; unexcused mismatches %d\n",
		matched, compared, rate, compared-matched-len(failures), len(failures))
	if len(excused) > 0 {
		b.WriteString("known deviations:\n")
		for _, name := range slices.Sorted(maps.Keys(excused)) {
			fmt.Fprintf(&b, "  %-40s %d\n", name, excused[name])
		}
	}
	if len(classes) > 0 {
		b.WriteString("unexcused mismatches by what differs:\n")
		for _, name := range diffByCount(classes) {
			fmt.Fprintf(&b, "  %-40s %d\n", name, classes[name])
		}
		// A feature whose cases mismatch much more often than the average
		// case points at what to look at first.
		fmt.Fprintf(&b, "features by mismatch rate (overall %.0f%%), among %d unexcused mismatches:\n",
			100*float64(len(failures))/float64(compared), len(failures))
		feats := slices.Collect(maps.Keys(featBad))
		slices.SortFunc(feats, func(x, y string) int {
			rx := float64(featBad[x]) / float64(featAll[x])
			ry := float64(featBad[y]) / float64(featAll[y])
			return cmp.Or(cmp.Compare(ry, rx), cmp.Compare(featBad[y], featBad[x]), cmp.Compare(x, y))
		})
		for _, f := range feats {
			fmt.Fprintf(&b, "  %-40s %3.0f%% (%d of %d cases)\n", f, 100*float64(featBad[f])/float64(featAll[f]), featBad[f], featAll[f])
		}
	}
	t.Log(b.String())
}

// diffByCount sorts names by count, highest first, then by name.
func diffByCount(m map[string]int) []string {
	names := slices.Collect(maps.Keys(m))
	slices.SortFunc(names, func(x, y string) int { return cmp.Or(cmp.Compare(m[y], m[x]), cmp.Compare(x, y)) })
	return names
}

// diffFailure describes one unexcused mismatch: the seed, what differs,
// and how to replay it; withCIB adds the CIB itself.
func diffFailure(o *diffOutcome, withCIB bool) string {
	var b strings.Builder
	if o.schedErr != nil {
		fmt.Fprintf(&b, "seed %d: Schedule failed on a valid CIB: %v\n", o.gc.Seed, o.schedErr)
	} else {
		fmt.Fprintf(&b, "seed %d: hakit and crm_simulate place resources differently:\n", o.gc.Seed)
		for _, l := range o.diff {
			b.WriteString("  " + l + "\n")
		}
	}
	fmt.Fprintf(&b, "features: %s\n", strings.Join(o.features(), " "))
	if len(o.oracle.Actions) > 0 {
		acts := make([]string, len(o.oracle.Actions))
		for i, a := range o.oracle.Actions {
			acts[i] = a.String()
		}
		fmt.Fprintf(&b, "crm_simulate's transition: %s\n", strings.Join(acts, "; "))
	}
	if withCIB {
		if data, err := o.gc.CIB.Marshal(); err == nil {
			fmt.Fprintf(&b, "CIB:\n%s", data)
		}
	}
	fmt.Fprintf(&b, "replay: %s", diffReplay(o.gc.Seed))
	return b.String()
}

// diffKeepCase writes one case's files into dir, named after its seed.
func diffKeepCase(dir string, o *diffOutcome) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	base := filepath.Join(dir, fmt.Sprintf("seed-%d", o.gc.Seed))
	files := map[string][]byte{}
	data, err := o.gc.CIB.Marshal()
	if err != nil {
		return err
	}
	files[".cib.xml"] = data
	var report strings.Builder
	switch {
	case o.oracleErr != nil:
		fmt.Fprintf(&report, "crm_simulate failed: %v\n", o.oracleErr)
	case o.excuse != "":
		fmt.Fprintf(&report, "known deviation: %s\n", o.excuse)
	}
	if o.oracle != nil {
		files[".crm_simulate.xml"] = o.oracle.Output
		if files[".crm_simulate.json"], err = json.MarshalIndent(o.oracle.Placement, "", "  "); err != nil {
			return err
		}
		if o.schedErr == nil {
			if files[".hakit.json"], err = json.MarshalIndent(o.hakit, "", "  "); err != nil {
				return err
			}
			if files[".hakit-result.json"], err = json.MarshalIndent(o.result, "", "  "); err != nil {
				return err
			}
		}
		report.WriteString(diffFailure(o, false) + "\n")
	}
	files[".diff.txt"] = []byte(report.String())
	for _, suffix := range slices.Sorted(maps.Keys(files)) {
		if err := os.WriteFile(base+suffix, files[suffix], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// TestDiffPlacement checks the comparison the differential test rests on:
// what counts as equal, and how a difference is named.
func TestDiffPlacement(t *testing.T) {
	c := &cib.CIB{Config: cib.Configuration{Resources: []cib.Resource{
		&cib.Primitive{ID: "p", Class: "ocf", Provider: "pacemaker", Type: "Dummy"},
		&cib.Primitive{ID: "off", Class: "ocf", Provider: "pacemaker", Type: "Dummy"},
		&cib.Group{ID: "g", Children: []cib.Resource{&cib.Primitive{ID: "g-a"}, &cib.Primitive{ID: "g-b"}}},
		&cib.Clone{ID: "ms", Master: true, Child: &cib.Primitive{ID: "ms-p"}},
	}}}
	base := func() Placement {
		return Placement{
			Nodes: map[string]NodeState{"n1": NodeOnline, "n2": NodeStandby},
			Resources: map[string]RscPlacement{
				"p":   wantStarted("n1"),
				"g-a": wantStarted("n1"),
				"g-b": wantStarted("n1"),
				"ms":  wantPromoted(wantStarted("n1", "n2"), "n1"),
				"off": wantStopped(),
			},
		}
	}
	tests := []struct {
		name  string
		edit  func(p *Placement)
		lines []string
		kinds []string
	}{
		{name: "same", edit: func(*Placement) {}},
		{
			name: "nil and empty lists are equal",
			edit: func(p *Placement) {
				p.Resources["p"] = RscPlacement{State: "started", Nodes: []string{"n1"}, Promoted: []string{}}
				p.Resources["off"] = RscPlacement{State: "stopped"}
			},
		},
		{
			name:  "stopped against started",
			edit:  func(p *Placement) { p.Resources["p"] = wantStopped() },
			lines: []string{"primitive p: hakit stopped; crm_simulate started on n1"},
			kinds: []string{"primitive"},
		},
		{
			name:  "only the promoted instance differs",
			edit:  func(p *Placement) { p.Resources["ms"] = wantPromoted(wantStarted("n1", "n2"), "n2") },
			lines: []string{"promoted ms: hakit started on n1 n2 (promoted on n2); crm_simulate started on n1 n2 (promoted on n1)"},
			kinds: []string{"promoted"},
		},
		{
			name: "group member and node state",
			edit: func(p *Placement) {
				p.Resources["g-b"] = wantStarted("n2")
				p.Nodes["n2"] = NodeOnline
			},
			lines: []string{"group-member g-b: hakit started on n2; crm_simulate started on n1", "node n2: hakit online; crm_simulate standby"},
			kinds: []string{"group-member", "node-state"},
		},
		{
			name: "a key on one side only",
			edit: func(p *Placement) {
				p.Resources["x"] = wantStarted("n1")
				delete(p.Nodes, "n1")
			},
			lines: []string{"unknown x: hakit started on n1; crm_simulate absent", "node n1: hakit absent; crm_simulate online"},
			kinds: []string{"node-state", "unknown"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := base()
			tc.edit(&h)
			lines, kinds := diffPlacement(c, h, base())
			if !slices.Equal(lines, tc.lines) || !slices.Equal(kinds, tc.kinds) {
				t.Errorf("got\n  %q %q\nwant\n  %q %q", lines, kinds, tc.lines, tc.kinds)
			}
		})
	}
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
