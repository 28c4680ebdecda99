package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hakit/hakit/node/api"
	"github.com/hakit/hakit/node/runtime"
)

// benchSummary is what hactl bench prints (--json prints it whole).
type benchSummary struct {
	Run      uint64  `json:"run"`
	Size     int     `json:"size"`
	Seconds  float64 `json:"seconds"`
	Senders  int     `json:"senders"`
	Inflight int     `json:"inflight"`
	// Messages is how many distinct messages the senders queued; Complete
	// whether every node delivered all of them, once, with no gap, and
	// OrderAgrees whether every node's order hash is the same.
	Messages    uint64 `json:"messages"`
	Complete    bool   `json:"complete"`
	OrderAgrees bool   `json:"order_agrees"`
	// Elapsed runs from the first send to the last delivery anywhere;
	// MsgsPerSec and MBPerSec are distinct messages (and their payload
	// bytes, 1 MB = 10^6 bytes) ordered per second over it.
	Elapsed    float64 `json:"elapsed_seconds"`
	MsgsPerSec float64 `json:"msgs_per_sec"`
	MBPerSec   float64 `json:"mb_per_sec"`
	// Latency from send to delivery over every delivery at every node, ns.
	LatencyP50 int64 `json:"latency_p50"`
	LatencyP99 int64 `json:"latency_p99"`
	LatencyMax int64 `json:"latency_max"`
	// Configurations sums the ring configurations delivered during the run.
	Configurations uint64            `json:"configurations"`
	Problems       []string          `json:"problems,omitempty"`
	Nodes          []api.BenchReport `json:"nodes"`
}

func benchCmd(stdout, stderr io.Writer) *cobra.Command {
	var sockets []string
	var size, senders, inflight int
	var seconds float64
	var drain time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure ordered messages per second and latency across the nodes, like cpgbench",
		Long: `bench starts a load generator in every given node at once (each keeps its
ring send queue full of --size-byte messages for --seconds), waits for every
message to be delivered everywhere, and prints the ordered messages per second,
MB/s and the p50/p99/max latency from send to delivery (the nodes share one wall
clock only when they run on one machine). It checks that every node delivered
every message in the same total order, without gaps, and exits 1 if not.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if len(sockets) == 0 {
				sockets = []string{defaultSocket}
			}
			if senders == 0 || senders > len(sockets) {
				senders = len(sockets)
			}
			if size < 36 || seconds <= 0 || senders < 0 || inflight < 0 {
				return usageErr("bench needs --size of at least 36 bytes, positive --seconds, --senders and --inflight of 0 or more")
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			sum, err := runBench(ctx, sockets, size, seconds, senders, inflight, drain, stderr)
			if err != nil {
				return err
			}
			if asJSON {
				b, _ := json.MarshalIndent(sum, "", "  ")
				fmt.Fprintln(stdout, string(b))
			} else {
				printBench(stdout, sum)
			}
			if len(sum.Problems) > 0 {
				return fmt.Errorf("bench: %s", strings.Join(sum.Problems, "; "))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&sockets, "socket", nil, "a node's API socket; repeat it (or separate with commas) for every node (default "+defaultSocket+")")
	f.IntVar(&size, "size", 256, "message size in bytes (36 at least: the header)")
	f.Float64Var(&seconds, "seconds", 10, "how long every sender sends")
	f.IntVar(&senders, "senders", 0, "how many of the nodes send, the first ones given (default all; the others only record)")
	f.IntVar(&inflight, "inflight", 0, "bound each sender's own messages queued and not yet delivered back (default 0: fill the send queue until the ring refuses)")
	f.DurationVar(&drain, "drain", 30*time.Second, "how long to wait after the load for deliveries to stop")
	f.BoolVar(&asJSON, "json", false, "print the summary and every node's report as JSON")
	return cmd
}

const defaultSocket = "/run/hakit/hanode.sock"

func benchCall(ctx context.Context, socket, cmd string, args map[string]string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return runtime.CallAPI(ctx, socket, runtime.Request{Cmd: cmd, Args: args}, out)
}

// runBench starts the run on every node (the recorders first, then the
// senders at once), waits for the load and its deliveries, and sums up.
func runBench(ctx context.Context, sockets []string, size int, seconds float64, senders, inflight int, drain time.Duration, progress io.Writer) (benchSummary, error) {
	run := uint64(time.Now().UnixNano())
	args := map[string]string{"run": strconv.FormatUint(run, 10), "size": strconv.Itoa(size),
		"seconds": strconv.FormatFloat(seconds, 'f', -1, 64), "inflight": strconv.Itoa(inflight)}
	for _, s := range sockets[senders:] {
		recordOnly := maps.Clone(args)
		recordOnly["send"] = "false"
		if err := benchCall(ctx, s, "bench-start", recordOnly, nil); err != nil {
			return benchSummary{}, fmt.Errorf("%s: %w", s, err)
		}
	}
	errs := make([]error, senders)
	var wg sync.WaitGroup
	for i, s := range sockets[:senders] {
		wg.Go(func() {
			if err := benchCall(ctx, s, "bench-start", args, nil); err != nil {
				errs[i] = fmt.Errorf("%s: %w", s, err)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return benchSummary{}, err
		}
	}
	fmt.Fprintf(progress, "hactl bench: run %d: %d of %d nodes sending %d-byte messages for %gs\n", run, senders, len(sockets), size, seconds)
	select {
	case <-ctx.Done():
		return benchSummary{}, ctx.Err()
	case <-time.After(time.Duration(seconds * float64(time.Second))):
	}

	// Wait until no node sends, and every node delivered every message
	// queued or nothing moved for the drain time.
	var reports []api.BenchReport
	var lastTotal uint64
	moved := time.Now()
	for {
		reports = reports[:0]
		for _, s := range sockets {
			var r api.BenchReport
			if err := benchCall(ctx, s, "bench-report", nil, &r); err != nil {
				return benchSummary{}, fmt.Errorf("%s: %w", s, err)
			}
			reports = append(reports, r)
		}
		sending, sent, delivered, done := false, uint64(0), uint64(0), true
		for _, r := range reports {
			sending = sending || r.Sending
			sent += r.Sent
			delivered += r.Delivered
		}
		for _, r := range reports {
			done = done && r.Delivered >= sent
		}
		if !sending && done {
			break
		}
		if delivered != lastTotal || sending {
			lastTotal, moved = delivered, time.Now()
		} else if time.Since(moved) > drain {
			break
		}
		select {
		case <-ctx.Done():
			return benchSummary{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	sum := summarize(reports)
	sum.Seconds, sum.Senders, sum.Inflight, sum.Size = seconds, senders, inflight, size
	return sum, nil
}

// summarize adds up the nodes' reports and checks them against each other.
func summarize(reports []api.BenchReport) benchSummary {
	sum := benchSummary{Nodes: reports, Complete: true, OrderAgrees: true}
	if len(reports) == 0 {
		return sum
	}
	sum.Run = reports[0].Run
	problem := func(format string, args ...any) { sum.Problems = append(sum.Problems, fmt.Sprintf(format, args...)) }
	sentBy := map[uint32]uint64{}
	var first, last int64
	merged := map[int64]uint64{}
	var latMax int64
	for _, r := range reports {
		if r.Run != sum.Run {
			problem("node %d reports run %d, not %d (another bench started meanwhile?)", r.Node, r.Run, sum.Run)
		}
		if r.Sent > 0 {
			sentBy[r.Node] = r.Sent
			sum.Messages += r.Sent
			if first == 0 || r.FirstSend < first {
				first = r.FirstSend
			}
		}
		if r.SendErrors > 0 {
			problem("node %d: %d send errors (%s)", r.Node, r.SendErrors, r.LastError)
		}
		last = max(last, r.LastDelivery)
		for _, b := range r.Latency {
			merged[b.V] += b.N
		}
		latMax = max(latMax, r.LatencyMax)
		sum.Configurations += r.Configurations
	}
	for _, r := range reports {
		got := map[uint32]uint64{}
		for _, s := range r.Senders {
			got[s.Node] = s.Count
		}
		for _, n := range slices.Sorted(maps.Keys(sentBy)) {
			if got[n] != sentBy[n] {
				sum.Complete = false
				problem("node %d delivered %d of the %d messages node %d sent", r.Node, got[n], sentBy[n], n)
			}
		}
		if r.Delivered != sum.Messages {
			sum.Complete = false
			if len(got) > len(sentBy) {
				problem("node %d delivered messages from senders this bench did not start", r.Node)
			}
		}
		if r.Gaps+r.OutOfOrder+r.Mismatched > 0 {
			sum.Complete = false
			problem("node %d: %d sequence gaps, %d out of order, %d with a wrong sender", r.Node, r.Gaps, r.OutOfOrder, r.Mismatched)
		}
		if r.OrderHash != reports[0].OrderHash {
			sum.OrderAgrees = false
		}
	}
	if !sum.OrderAgrees {
		problem("the nodes' order hashes differ: they did not deliver the same messages in the same order")
	}
	if first > 0 && last > first {
		sum.Elapsed = float64(last-first) / 1e9
		sum.MsgsPerSec = float64(sum.Messages) / sum.Elapsed
		sum.MBPerSec = float64(sum.Messages) * float64(reports[0].Size) / 1e6 / sum.Elapsed
	}
	var hist []api.HistBucket
	for _, v := range slices.Sorted(maps.Keys(merged)) {
		hist = append(hist, api.HistBucket{V: v, N: merged[v]})
	}
	sum.LatencyP50, sum.LatencyP99, sum.LatencyMax = quantile(hist, 0.50, latMax), quantile(hist, 0.99, latMax), latMax
	return sum
}

// quantile reads a merged histogram the way hanode reads its own.
func quantile(h []api.HistBucket, q float64, maxV int64) int64 {
	var n uint64
	for _, b := range h {
		n += b.N
	}
	if n == 0 {
		return 0
	}
	rank := max(uint64(math.Ceil(q*float64(n))), 1)
	var seen uint64
	for _, b := range h {
		seen += b.N
		if seen >= rank {
			return min(b.V, maxV)
		}
	}
	return maxV
}

func ms(ns int64) string {
	return strconv.FormatFloat(float64(ns)/1e6, 'f', 2, 64) + "ms"
}

func printBench(w io.Writer, s benchSummary) {
	inflight := "until backpressure"
	if s.Inflight > 0 {
		inflight = fmt.Sprintf("at most %d in flight each", s.Inflight)
	}
	fmt.Fprintf(w, "bench run %d: %d-byte messages, %d sender(s) for %gs, %s\n\n", s.Run, s.Size, s.Senders, s.Seconds, inflight)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "node\tsent\tbackpressure\tdelivered\tmsgs/s\tMB/s\tp50\tp99\tmax\tgaps\tconfigs\torder hash\t")
	nodes := slices.Clone(s.Nodes)
	slices.SortFunc(nodes, func(a, b api.BenchReport) int { return cmp.Compare(a.Node, b.Node) })
	for _, r := range nodes {
		rate, mb := 0.0, 0.0
		if d := float64(r.LastDelivery-r.FirstDelivery) / 1e9; d > 0 {
			rate, mb = float64(r.Delivered)/d, float64(r.Bytes)/1e6/d
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%.0f\t%.2f\t%s\t%s\t%s\t%d\t%d\t%s\t\n", r.Node, r.Sent, r.Backpressure, r.Delivered, rate, mb,
			ms(r.LatencyP50), ms(r.LatencyP99), ms(r.LatencyMax), r.Gaps+r.OutOfOrder, r.Configurations, r.OrderHash)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nordered: %d distinct messages in %.2fs (first send to last delivery): %.0f msgs/s, %.2f MB/s\n",
		s.Messages, s.Elapsed, s.MsgsPerSec, s.MBPerSec)
	fmt.Fprintf(w, "latency, send to delivery over every node: p50 %s, p99 %s, max %s\n", ms(s.LatencyP50), ms(s.LatencyP99), ms(s.LatencyMax))
	switch {
	case s.Complete && s.OrderAgrees:
		fmt.Fprintf(w, "order: every node delivered all %d messages in the same order, without gaps (hash %s)\n", s.Messages, s.Nodes[0].OrderHash)
	default:
		for _, p := range s.Problems {
			fmt.Fprintf(w, "PROBLEM: %s\n", p)
		}
	}
	if s.Configurations > 0 {
		fmt.Fprintf(w, "note: %d ring configurations were delivered during the run (the membership changed)\n", s.Configurations)
	}
}
