package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hakit/hakit/node/api"
	"github.com/hakit/hakit/node/runtime"
)

const debianDummy = "/usr/lib/ocf/resource.d/heartbeat/Dummy"

func (c *cluster) crm(i int, cmd string, args map[string]string) (api.CRMStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var st api.CRMStatus
	err := runtime.CallAPI(ctx, c.socket(i), runtime.Request{Cmd: cmd, Args: args}, &st)
	return st, err
}

// runsDummy reports whether node i's Dummy state file exists: the ground
// truth of where the agent has started it (each node has its own
// HA_RSCTMP, as separate machines would).
func runsDummy(rsctmp string, i int) bool {
	_, err := os.Stat(filepath.Join(rsctmp, fmt.Sprintf("n%d", i+1), "Dummy-web.state"))
	return err == nil
}

// TestRealProcessesFailover runs two hanodes on loopback with Debian's
// ocf:heartbeat:Dummy (package resource-agents): the resource starts on
// one node; kill -9 of that node's hanode makes the other start it, and
// hactl status shows it there. The figures are logged, not asserted.
func TestRealProcessesFailover(t *testing.T) {
	if _, err := os.Stat(debianDummy); err != nil {
		t.Skipf("%s is missing: install the Debian package resource-agents to run this test", debianDummy)
	}
	rsctmp := t.TempDir()
	c := startClusterWith(t, 2, clusterOpts{env: func(i int) []string {
		dir := filepath.Join(rsctmp, fmt.Sprintf("n%d", i+1))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return []string{"HA_RSCTMP=" + dir}
	}})
	formed := c.await("ring of 2", 60*time.Second, func() bool { return c.ringOf(0, 1) })
	t.Logf("figure: ring of 2 formed %v after start", formed.Round(time.Millisecond))
	c.await("resource managers agree", 60*time.Second, func() bool {
		st, err := c.crm(0, "crm-status", nil)
		return err == nil && st.Settled && st.DC != ""
	})
	// Two nodes, no fencing device here: quorum ignored and fencing off, as
	// in the reference setup (the test is about the resource manager).
	conf := "property stonith-enabled=false\nproperty no-quorum-policy=ignore\n" +
		"primitive web ocf:heartbeat:Dummy op monitor interval=2s timeout=20s\n"
	if _, err := c.crm(0, "crm-configure", map[string]string{"crm": conf}); err != nil {
		t.Fatalf("configure: %v", err)
	}
	started := c.await("web running on one node", 60*time.Second, func() bool { return runsDummy(rsctmp, 0) != runsDummy(rsctmp, 1) })
	t.Logf("figure: web started %v after the configuration", started.Round(time.Millisecond))
	active, other := 0, 1
	if runsDummy(rsctmp, 1) {
		active, other = 1, 0
	}
	c.await("the cluster idle", 60*time.Second, func() bool {
		st, err := c.crm(other, "crm-status", nil)
		return err == nil && st.Idle
	})

	c.procs[active].Process.Kill()
	c.procs[active].Wait()
	// The killed node's Dummy keeps its state file (nothing stopped it),
	// as a real resource would keep running: only the survivor matters.
	took := c.await("web started on the survivor", 60*time.Second, func() bool {
		st, err := c.crm(other, "crm-status", nil)
		return err == nil && runsDummy(rsctmp, other) && st.Idle && len(st.Members) == 1
	})
	t.Logf("figure: kill -9 of n%d's hanode → web running on n%d after %v (token 1000 ms, consensus 1200 ms)",
		active+1, other+1, took.Round(time.Millisecond))

	hactl := filepath.Join(c.dir, "hactl")
	if out, err := exec.Command("go", "build", "-o", hactl, "../hactl").CombinedOutput(); err != nil {
		t.Fatalf("building hactl: %v\n%s", err, out)
	}
	out, err := exec.Command(hactl, "--socket", c.socket(other), "status").CombinedOutput()
	if err != nil {
		t.Fatalf("hactl status: %v\n%s", err, out)
	}
	want := fmt.Sprintf("web\t(ocf:heartbeat:Dummy):\t Started n%d", other+1)
	if !strings.Contains(string(out), want) {
		t.Fatalf("hactl status does not say %q:\n%s", want, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("* n%d (web): detection", active+1)) {
		t.Errorf("hactl status shows no failover budget for n%d:\n%s", active+1, out)
	}
	t.Logf("hactl status on n%d:\n%s", other+1, out)
}
