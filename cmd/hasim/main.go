// Command hasim runs hakit's deterministic simulation scenarios: the node
// code, several nodes in one process, on a virtual clock and a simulated
// network, reproducible from a seed.
//
//	hasim list
//	hasim run SCENARIO [--seed N] [--trace FILE]
//	hasim sweep SCENARIO|all --seeds N [--from S] [--jobs J] [--check-determinism]
//
// Exit status: 0 when every run passed, 1 when an invariant was violated,
// 2 for bad usage (unknown scenario, bad flag).
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hakit/hakit/scenarios"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errFailed means a run violated an invariant: exit status 1, and the
// report has already been printed.
var errFailed = errors.New("invariant violated")

func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errFailed):
		return 1
	default:
		fmt.Fprintf(stderr, "hasim: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return 2
	}
}

func newRoot(out io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "hasim",
		Short:         "Run hakit's deterministic simulation scenarios",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q (want list, run or sweep)", args[0])
			}
			return errors.New("missing command (want list, run or sweep; hasim --help explains)")
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about a command",
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return fmt.Errorf("no help for %q (want list, run or sweep)", strings.Join(args, " "))
			}
			return target.Help()
		},
	})
	root.AddCommand(listCmd(out), runCmd(out), sweepCmd(out))
	return root
}

func listCmd(out io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the scenarios",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			for _, s := range scenarios.All() {
				fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Summary)
			}
			return tw.Flush()
		},
	}
}

func scenarioArg(cmd *cobra.Command, args []string, allowAll bool) ([]string, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%s takes one scenario name (see hasim list)", cmd.Name())
	}
	if allowAll && args[0] == "all" {
		return scenarios.Names(), nil
	}
	if scenarios.Lookup(args[0]) == nil {
		return nil, fmt.Errorf("unknown scenario %q (have: %s)", args[0], strings.Join(scenarios.Names(), ", "))
	}
	return args, nil
}

func runCmd(out io.Writer) *cobra.Command {
	var seed uint64
	var tracePath string
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Run one scenario with one seed and print its verdict and trace hash",
		RunE: func(cmd *cobra.Command, args []string) error {
			names, err := scenarioArg(cmd, args, false)
			if err != nil {
				return err
			}
			var opts scenarios.Options
			var trace *traceFile
			if tracePath != "" {
				var err error
				if trace, err = createTrace(tracePath); err != nil {
					return err
				}
				opts.Trace = trace
			}
			start := time.Now()
			res, err := scenarios.Execute(names[0], seed, opts)
			if err != nil {
				return err
			}
			wall := time.Since(start)
			if trace != nil {
				if err := trace.Close(); err != nil {
					return err
				}
			}
			printResult(out, res, wall)
			if !res.Passed() {
				return errFailed
			}
			return nil
		},
	}
	cmd.Flags().Uint64Var(&seed, "seed", 1, "root seed (decimal or 0x hex); the whole run derives from it")
	cmd.Flags().StringVar(&tracePath, "trace", "", "write the event trace to this file")
	return cmd
}

// traceFile is a buffered trace output that remembers its first error, so
// a full disk is reported instead of leaving a silently short trace.
type traceFile struct {
	f   *os.File
	buf *bufio.Writer
	err error
}

func createTrace(path string) (*traceFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &traceFile{f: f, buf: bufio.NewWriterSize(f, 1<<16)}, nil
}

func (t *traceFile) Write(b []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	n, err := t.buf.Write(b)
	t.err = err
	return n, err
}

func (t *traceFile) Close() error {
	if t.err == nil {
		t.err = t.buf.Flush()
	}
	if err := t.f.Close(); t.err == nil {
		t.err = err
	}
	if t.err != nil {
		return fmt.Errorf("writing trace %s: %w", t.f.Name(), t.err)
	}
	return nil
}

func printResult(out io.Writer, res scenarios.Result, wall time.Duration) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\t%s\n", res.Scenario)
	fmt.Fprintf(tw, "seed\t%d\n", res.Seed)
	fmt.Fprintf(tw, "virtual time\t%v\n", res.VirtualTime)
	fmt.Fprintf(tw, "events\t%d\n", res.Steps)
	fmt.Fprintf(tw, "trace\t%s (%d lines)\n", res.TraceHash, res.TraceLines)
	for _, f := range res.Figures {
		fmt.Fprintf(tw, "figure\t%s = %.6g %s\n", f.Name, f.Value, f.Unit)
	}
	fmt.Fprintf(tw, "wall time\t%v (%.0fx real time)\n", wall.Round(time.Millisecond), res.VirtualTime.Seconds()/wall.Seconds())
	fmt.Fprintf(tw, "verdict\t%s\n", res.Verdict())
	tw.Flush()
	for _, v := range res.Violations {
		fmt.Fprintf(out, "violation: %s\n", v)
	}
	if !res.Passed() {
		fmt.Fprintf(out, "replay: %s\n", res.Replay())
	}
}

func sweepCmd(out io.Writer) *cobra.Command {
	var seeds, from uint64
	var jobs int
	var checkDeterminism bool
	cmd := &cobra.Command{
		Use:   "sweep SCENARIO|all",
		Short: "Run a scenario over a range of seeds in parallel and summarise",
		RunE: func(cmd *cobra.Command, args []string) error {
			names, err := scenarioArg(cmd, args, true)
			if err != nil {
				return err
			}
			if seeds == 0 || seeds > maxSweepSeeds {
				return fmt.Errorf("--seeds must be between 1 and %d", maxSweepSeeds)
			}
			if from > math.MaxUint64-seeds+1 {
				return fmt.Errorf("--from %d with --seeds %d runs past the largest seed", from, seeds)
			}
			if jobs < 1 {
				return errors.New("--jobs must be at least 1")
			}
			passed, failed := 0, 0
			for _, name := range names {
				p := sweep(out, name, from, seeds, jobs, checkDeterminism)
				passed += p
				failed += int(seeds) - p
			}
			fmt.Fprintf(out, "sweep: %d passed, %d failed\n", passed, failed)
			if failed > 0 {
				return errFailed
			}
			return nil
		},
	}
	cmd.Flags().Uint64Var(&seeds, "seeds", 100, "number of seeds")
	cmd.Flags().Uint64Var(&from, "from", 1, "first seed")
	cmd.Flags().IntVar(&jobs, "jobs", runtime.NumCPU(), "parallel runs")
	cmd.Flags().BoolVar(&checkDeterminism, "check-determinism", false, "run every seed twice and compare trace hashes")
	return cmd
}

// maxSweepSeeds bounds one sweep: results are kept in memory for the
// summary.
const maxSweepSeeds = 10_000_000

// sweep runs seeds [from, from+n) of one scenario on jobs workers. Each run
// is a pure function of its seed, so the parallelism changes only the wall
// time; results are reported in seed order.
func sweep(out io.Writer, name string, from, n uint64, jobs int, checkDeterminism bool) (passed int) {
	results := make([]scenarios.Result, n)
	nondeterministic := make([]string, n)
	next := make(chan uint64)
	var wg sync.WaitGroup
	start := time.Now()
	for range jobs {
		wg.Go(func() {
			for i := range next {
				res, _ := scenarios.Execute(name, from+i, scenarios.Options{})
				if checkDeterminism {
					if again, _ := scenarios.Execute(name, from+i, scenarios.Options{}); again.TraceHash != res.TraceHash {
						nondeterministic[i] = fmt.Sprintf("seed %d: trace %s then %s", from+i, res.TraceHash, again.TraceHash)
					}
				}
				results[i] = res
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	wall := time.Since(start)

	virtual := time.Duration(0)
	for i, res := range results {
		virtual += res.VirtualTime
		if res.Passed() && nondeterministic[i] == "" {
			passed++
			continue
		}
		for _, v := range res.Violations {
			fmt.Fprintf(out, "%s seed %d: violation: %s\n", name, res.Seed, v)
		}
		if nondeterministic[i] != "" {
			fmt.Fprintf(out, "%s %s: NON-DETERMINISTIC\n", name, nondeterministic[i])
		}
		fmt.Fprintf(out, "%s seed %d: FAIL; replay: %s\n", name, res.Seed, res.Replay())
	}
	fmt.Fprintf(out, "%s: %d seeds (%d..%d): %d passed, %d failed; %v virtual in %v wall (%.0fx)\n",
		name, n, from, from+n-1, passed, int(n)-passed, virtual.Round(time.Second), wall.Round(time.Millisecond), virtual.Seconds()/wall.Seconds())
	for _, s := range scenarios.Summarize(results) {
		fmt.Fprintf(out, "  %-32s min %-10.4g median %-10.4g max %-10.4g %s (n=%d)\n", s.Name, s.Min, s.Median, s.Max, s.Unit, s.N)
	}
	return passed
}
