package cib

import (
	"bytes"
	"context"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
)

// This file checks exports against Pacemaker itself when its tools are
// installed: what hakit writes must be a CIB Pacemaker accepts.

func pacemakerTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not found: install Debian's pacemaker-cli-utils (apt-get install pacemaker-cli-utils) to check exported CIBs against Pacemaker", name)
	}
	return path
}

// crmVerify runs crm_verify on data. It returns Pacemaker's output and
// whether it found errors; warnings (a deprecated form, no quorum) are not
// errors. crm_verify exits 78 for both, so the verdict is read from its
// last line.
func crmVerify(t *testing.T, tool string, data []byte) (string, bool) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "cib.xml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// A timeout, because some inputs make crm_verify loop forever (see
	// the version warning in Validate).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, tool, "--xml-file", file).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("crm_verify did not finish in 30s on:\n%s", numbered(data))
	}
	text := string(out)
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("running crm_verify: %v", err)
		}
	}
	return text, err != nil && (strings.Contains(text, "Errors found") || strings.Contains(text, "error"))
}

// verifiable lists the test CIBs written for Pacemaker's schema
// (future.xml deliberately is not).
var verifiable = []string{"reference.xml", "reference-reformatted.xml", "drbd.xml", "legacy-master.xml", "failed-history.xml", "kept-verbatim.xml"}

// TestCrmVerifyAcceptsExports: every test CIB, imported and exported,
// passes crm_verify as the original does.
func TestCrmVerifyAcceptsExports(t *testing.T) {
	tool := pacemakerTool(t, "crm_verify")
	for _, name := range verifiable {
		t.Run(name, func(t *testing.T) {
			data := readTestdata(t, name)
			if out, bad := crmVerify(t, tool, data); bad {
				t.Fatalf("crm_verify rejects the original:\n%s", out)
			}
			export := mustMarshal(t, mustParse(t, name, data))
			if out, bad := crmVerify(t, tool, export); bad {
				t.Errorf("crm_verify rejects the export:\n%s\n%s", out, export)
			} else if out != "" {
				t.Logf("crm_verify: %s", strings.TrimSpace(out))
			}
		})
	}
}

// TestCrmSimulateSeesTheSameCluster: Pacemaker reads the same cluster
// state (nodes, resources, roles, failures) from an export as from the
// original, so the status section survives too.
func TestCrmSimulateSeesTheSameCluster(t *testing.T) {
	tool := pacemakerTool(t, "crm_simulate")
	dir := t.TempDir()
	show := func(name string, data []byte) string {
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tool, "--xml-file", file).CombinedOutput()
		if err != nil {
			t.Fatalf("crm_simulate %s: %v\n%s", name, err, out)
		}
		return string(out)
	}
	for _, name := range []string{"reference.xml", "drbd.xml", "failed-history.xml", "legacy-master.xml"} {
		data := readTestdata(t, name)
		orig := show("orig-"+name, data)
		exp := show("export-"+name, mustMarshal(t, mustParse(t, name, data)))
		if orig != exp {
			t.Errorf("%s: crm_simulate sees a different cluster in the export:\n--- original\n%s\n--- export\n%s", name, orig, exp)
		}
	}
}

// TestCrmVerifyAcceptsGeneratedCIBs: generated CIBs that hakit's Validate
// accepts are accepted by Pacemaker too.
func TestCrmVerifyAcceptsGeneratedCIBs(t *testing.T) {
	tool := pacemakerTool(t, "crm_verify")
	n := 25
	if testing.Short() {
		n = 5
	}
	p := gopter.DefaultGenParameters()
	p.Rng = rand.New(rand.NewSource(propertySeed))
	for i := range n {
		c := genCIB(true)(p).Result.(*CIB)
		if errs := c.Validate().Errors(); len(errs) > 0 {
			t.Fatalf("CIB %d fails Validate: %v", i, errs)
		}
		data := mustMarshal(t, c)
		if out, bad := crmVerify(t, tool, data); bad {
			t.Errorf("crm_verify rejects generated CIB %d:\n%s\n%s", i, out, numbered(data))
		}
	}
}

func numbered(data []byte) string {
	var b strings.Builder
	for i, l := range bytes.Split(data, []byte("\n")) {
		b.WriteString(strings.Repeat(" ", 4-len(itoa(i+1))) + itoa(i+1) + " " + string(l) + "\n")
	}
	return b.String()
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
