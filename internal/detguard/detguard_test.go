package detguard

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCorePackagesAreDeterministic is the guard itself: it fails, naming
// file and line, on any banned use in the core packages.
func TestCorePackagesAreDeterministic(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	violations, err := CheckModule(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range violations {
		t.Errorf("%s", v)
	}
	if len(violations) > 0 {
		t.Logf("core code gets time, randomness, I/O and concurrency only through node/env (DESIGN.md §3); exempt adapters: %v", Adapters)
	}
}

var wantRE = regexp.MustCompile(`// want "((?:[^"\\]|\\.)*)"`)

// TestGuardCatchesEachBannedUse runs the checker on a file planted with one
// of each violation, marked `// want "..."`, and requires exactly those.
func TestGuardCatchesEachBannedUse(t *testing.T) {
	path := filepath.Join("testdata", "bad", "bad.go")
	got, err := CheckFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if m := wantRE.FindStringSubmatch(sc.Text()); m != nil {
			want[line] = strings.ReplaceAll(m[1], `\"`, `"`)
		}
	}
	seen := map[int]bool{}
	for _, v := range got {
		sub, ok := want[v.Pos.Line]
		if !ok {
			t.Errorf("unexpected violation %s", v)
			continue
		}
		if !strings.Contains(v.Reason, sub) {
			t.Errorf("line %d: reason %q does not mention %q", v.Pos.Line, v.Reason, sub)
		}
		if !strings.HasSuffix(v.Pos.Filename, "bad.go") || v.Pos.Line == 0 {
			t.Errorf("violation without file and line: %s", v)
		}
		seen[v.Pos.Line] = true
	}
	for line, sub := range want {
		if !seen[line] {
			t.Errorf("line %d: missed %q", line, sub)
		}
	}
}
