package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hakit/hakit/crm/sched/schedtest"
)

// BenchmarkSimulateVsCrmSimulate times hactl simulate and Pacemaker's
// crm_simulate on the same large CIB (schedtest.Large(1000, 32, 500, 1):
// 1000 primitives on 32 nodes, 500 constraints, 16 MB of XML), each
// reading the file and computing the transition, so that one run of
//
//	go test -bench SimulateVsCrmSimulate -run '^$' -timeout 0 ./cmd/hactl
//
// gives the times side by side:
//
//   - hactl: hactl simulate --format json, in-process, output discarded;
//   - crm_simulate-R: crm_simulate -R -x FILE -Q, Pacemaker's scheduler
//     alone (what hactl simulate does);
//   - crm_simulate: crm_simulate -S -x FILE -Q, which also executes the
//     transition against a copy of the CIB, diffing the whole 16 MB
//     document after each of its ~1750 actions. That takes about 70
//     minutes (see README.md), so it runs only without a test timeout
//     (-timeout 0) or with one of two hours or more.
func BenchmarkSimulateVsCrmSimulate(b *testing.B) {
	data, err := schedtest.Large(1000, 32, 500, 1).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	f := filepath.Join(b.TempDir(), "large.xml")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run("hactl", func(b *testing.B) {
		for b.Loop() {
			var errOut bytes.Buffer
			if code := run([]string{"simulate", "--cib", f, "--format", "json"}, io.Discard, &errOut); code != 0 {
				b.Fatalf("hactl simulate: exit %d: %s", code, errOut.String())
			}
		}
	})
	crm := func(b *testing.B, args ...string) {
		path, err := exec.LookPath("crm_simulate")
		if err != nil {
			b.Skip("crm_simulate is not installed (Debian: apt install pacemaker-cli-utils)")
		}
		for b.Loop() {
			if out, err := exec.Command(path, args...).CombinedOutput(); err != nil {
				b.Fatalf("crm_simulate %q: %v\n%s", args, err, out)
			}
		}
	}
	b.Run("crm_simulate-R", func(b *testing.B) { crm(b, "-R", "-x", f, "-Q") })
	b.Run("crm_simulate", func(b *testing.B) {
		if t := testTimeout(); t != 0 && t < 2*time.Hour {
			b.Skipf("crm_simulate -S takes about 70 minutes on this CIB; the test timeout (%v) would kill the run: use -timeout 0", t)
		}
		crm(b, "-S", "-x", f, "-Q")
	})
}

// testTimeout is go test's -timeout (0: none), which a benchmark cannot
// otherwise see, and which panics the whole binary when exceeded.
func testTimeout() time.Duration {
	if fl := flag.Lookup("test.timeout"); fl != nil {
		if g, ok := fl.Value.(flag.Getter); ok {
			if d, ok := g.Get().(time.Duration); ok {
				return d
			}
		}
	}
	return 0
}
