package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func hasim(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

var traceRE = regexp.MustCompile(`trace\s+([0-9a-f]{64}) `)

func TestRunTwiceSameHashOtherSeedOtherHash(t *testing.T) {
	hash := func(seed string) string {
		code, out, errOut := hasim(t, "run", "bond-failover", "--seed", seed)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		for _, want := range []string{`seed\s+\d+`, `virtual time\s+\S+s`, `events\s+\d+`, `verdict\s+pass`} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("output lacks %s:\n%s", want, out)
			}
		}
		m := traceRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no trace hash in:\n%s", out)
		}
		return m[1]
	}
	if a, b := hash("7"), hash("7"); a != b {
		t.Errorf("seed 7 twice: %s then %s", a, b)
	}
	if hash("7") == hash("0x8") {
		t.Error("seeds 7 and 8 gave the same trace")
	}
}

func TestTraceFileHashesToThePrintedHash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.txt")
	code, out, _ := hasim(t, "run", "heartbeat", "--seed", "3", "--trace", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("world seed 3")) || !bytes.Contains(data, []byte("recv link=")) {
		t.Errorf("trace file lacks the expected events:\n%.400s", data)
	}
	sum := sha256.Sum256(data)
	if m := traceRE.FindStringSubmatch(out); m == nil || m[1] != hex.EncodeToString(sum[:]) {
		t.Errorf("printed trace hash %v is not the SHA-256 of the trace file (%x)", m, sum)
	}
}

func TestTraceWriteErrorIsReported(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	code, _, errOut := hasim(t, "run", "heartbeat", "--seed", "1", "--trace", "/dev/full")
	if code != 2 || !strings.Contains(errOut, "writing trace") {
		t.Errorf("trace to /dev/full: exit %d, stderr %q", code, errOut)
	}
}

func TestBadUsageIsOneLineAndExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"run", "no-such-scenario"},
		{"run", "heartbeat", "--seed", "banana"},
		{"run", "heartbeat", "--no-such-flag"},
		{"sweep", "no-such-scenario", "--seeds", "3"},
		{"sweep", "heartbeat", "--seeds", "0"},
		{"run"},
		{"frobnicate"},
		{},
		{"help", "frobnicate"},
		{"completion", "bash"},
		{"sweep", "heartbeat", "--seeds", "18446744073709551615"},
		{"sweep", "heartbeat", "--seeds", "2", "--from", "18446744073709551615"},
	} {
		code, out, errOut := hasim(t, args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		if lines := strings.Count(errOut, "\n"); lines != 1 || !strings.HasPrefix(errOut, "hasim: ") {
			t.Errorf("%v: stderr is not one line starting with 'hasim: ': %q", args, errOut)
		}
		if out != "" {
			t.Errorf("%v: printed to stdout on a usage error: %q", args, out)
		}
	}
}

func TestListAndSweep(t *testing.T) {
	code, out, _ := hasim(t, "list")
	if code != 0 || !strings.Contains(out, "bond-failover") || !strings.Contains(out, "swarm") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	code, out, _ = hasim(t, "sweep", "partition", "--seeds", "6", "--from", "10", "--jobs", "3", "--check-determinism")
	if code != 0 || !strings.Contains(out, "6 seeds (10..15): 6 passed, 0 failed") || !strings.Contains(out, "detection_ms_max") ||
		!strings.HasSuffix(out, "sweep: 6 passed, 0 failed\n") {
		t.Errorf("sweep: exit %d\n%s", code, out)
	}
}
