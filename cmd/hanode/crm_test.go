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
	hactl := filepath.Join(c.dir, "hactl")
	if out, err := exec.Command("go", "build", "-o", hactl, "../hactl").CombinedOutput(); err != nil {
		t.Fatalf("building hactl: %v\n%s", err, out)
	}
	run := func(i int, args ...string) (string, error) {
		out, err := exec.Command(hactl, append([]string{"--socket", c.socket(i)}, args...)...).CombinedOutput()
		return string(out), err
	}
	// Two nodes, no fencing device here: quorum ignored and fencing off, as
	// in the reference setup (the test is about the resource manager).
	crmFile := filepath.Join(c.dir, "web.crm")
	conf := "property stonith-enabled=false\nproperty no-quorum-policy=ignore\n" +
		"primitive web ocf:heartbeat:Dummy op monitor interval=2s timeout=20s\n"
	if err := os.WriteFile(crmFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	configured := time.Now()
	if out, err := run(0, "configure", "-w", "-f", crmFile); err != nil {
		t.Fatalf("hactl configure -w: %v\n%s", err, out)
	}
	t.Logf("figure: hactl configure -w returned %v after it was run (the cluster settled)", time.Since(configured).Round(time.Millisecond))
	// A change that does not validate is refused, naming the problem, and
	// changes nothing.
	before, _ := run(1, "cib", "export")
	if out, err := run(1, "configure", "colocation c inf: web nosuch"); err == nil || !strings.Contains(out, "nosuch") {
		t.Fatalf("a colocation with an unknown resource: err %v\n%s", err, out)
	}
	if after, _ := run(1, "cib", "export"); cibVersion(after) != cibVersion(before) {
		t.Fatalf("a refused change moved the CIB from %s to %s", cibVersion(before), cibVersion(after))
	}
	// -w returned: web already runs on exactly one node.
	if runsDummy(rsctmp, 0) == runsDummy(rsctmp, 1) {
		t.Fatalf("after configure -w, web runs on n1: %v, n2: %v", runsDummy(rsctmp, 0), runsDummy(rsctmp, 1))
	}
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

	if out, _ := run(other, "resource", "locate", "web"); !strings.Contains(out, fmt.Sprintf("running on: n%d", other+1)) {
		t.Fatalf("hactl resource locate web: %s", out)
	}
	out, err := run(other, "status")
	if err != nil {
		t.Fatalf("hactl status: %v\n%s", err, out)
	}
	want := fmt.Sprintf("web\t(ocf:heartbeat:Dummy):\t Started n%d", other+1)
	if !strings.Contains(out, want) {
		t.Fatalf("hactl status does not say %q:\n%s", want, out)
	}
	if !strings.Contains(out, fmt.Sprintf("* n%d (web): detection", active+1)) {
		t.Errorf("hactl status shows no failover budget for n%d:\n%s", active+1, out)
	}
	t.Logf("hactl status on n%d:\n%s", other+1, out)
}

// cibVersion reads admin_epoch.epoch.num_updates from a CIB's text.
func cibVersion(xml string) string {
	attr := func(name string) string {
		i := strings.Index(xml, " "+name+`="`)
		if i < 0 {
			return "?"
		}
		rest := xml[i+len(name)+3:]
		return rest[:strings.IndexByte(rest, '"')]
	}
	return attr("admin_epoch") + "." + attr("epoch") + "." + attr("num_updates")
}
