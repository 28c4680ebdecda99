package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hakit/hakit/crm/cib"
	"github.com/hakit/hakit/crm/sched"
)

var update = flag.Bool("update", false, "rewrite testdata/simulate/*.xml from reference.crm")

// The reference setup (DESIGN.md §1) in four situations an admin reasons
// about. The XML files are committed so that crm_simulate -S -x can be run
// on exactly what the tests feed hactl; TestReferenceCIBs keeps them equal
// to what reference.crm and the status below produce.
type situation struct {
	file string
	// node1Up: vm-node1 is a cluster member; when false it left cleanly
	// (its transient attributes went with it).
	node1Up bool
	// pingd1 is vm-node1's pingd attribute ("" when it has none);
	// vm-node2's is 1000.
	pingd1 string
	// runningOnNode2: vip and httpd run on vm-node2 and the ping clone on
	// both, with the probes and monitors a settled cluster has recorded.
	runningOnNode2 bool
}

var situations = []situation{
	{file: "a-both-up.xml", node1Up: true, pingd1: "1000"},
	{file: "b-node1-down.xml"},
	{file: "c-node1-no-gateway.xml", node1Up: true, pingd1: "0"},
	{file: "d-running-on-node2.xml", node1Up: true, pingd1: "1000", runningOnNode2: true},
}

// buildReferenceCIB makes a situation's CIB the way an admin would: hactl
// configure from the .crm file, then the nodes and the status section
// (which the crm shell does not write: the cluster does).
func buildReferenceCIB(t *testing.T, s situation) []byte {
	t.Helper()
	f := filepath.Join(t.TempDir(), "cib.xml")
	var out, errOut bytes.Buffer
	if code := run([]string{"configure", "--cib", f, "-f", filepath.Join("testdata", "simulate", "reference.crm")}, &out, &errOut); code != 0 {
		t.Fatalf("configure: exit %d: %s", code, errOut.String())
	}
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cib.Parse(f, data)
	if err != nil {
		t.Fatal(err)
	}
	c.Extra.Attrs = append(c.Extra.Attrs, cib.Attr{Name: "have-quorum", Value: "1"})
	c.Config.Nodes = []cib.Node{{ID: "1", Uname: "vm-node1"}, {ID: "2", Uname: "vm-node2"}}
	c.Status = &cib.Status{}
	if s.node1Up {
		n1 := memberState("1", "vm-node1", s.pingd1)
		n2 := memberState("2", "vm-node2", "1000")
		if s.runningOnNode2 {
			n1.LRM = &cib.LRM{ID: "1", Resources: []cib.LRMResource{
				history("vm-node1", "vip", "heartbeat", "IPaddr2", probe("vip", 3, 7)),
				history("vm-node1", "httpd", "heartbeat", "apache", probe("httpd", 4, 8)),
				history("vm-node1", "ping-gateway", "pacemaker", "ping", start("ping-gateway", 6, 11), monitor("ping-gateway", 7, 12)),
			}}
			n2.LRM = &cib.LRM{ID: "2", Resources: []cib.LRMResource{
				history("vm-node2", "vip", "heartbeat", "IPaddr2", start("vip", 9, 14), monitor("vip", 10, 15)),
				history("vm-node2", "httpd", "heartbeat", "apache", start("httpd", 11, 16)),
				history("vm-node2", "ping-gateway", "pacemaker", "ping", start("ping-gateway", 5, 11), monitor("ping-gateway", 8, 12)),
			}}
		}
		c.Status.NodeStates = []cib.NodeState{n1, n2}
	} else {
		c.Status.NodeStates = []cib.NodeState{
			{ID: "1", Uname: "vm-node1", InCCM: "false", Crmd: "offline", Join: "down", Expected: "down"},
			memberState("2", "vm-node2", "1000"),
		}
	}
	xml, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return xml
}

func memberState(id, uname, pingd string) cib.NodeState {
	ns := cib.NodeState{ID: id, Uname: uname, InCCM: "true", Crmd: "online", Join: "member", Expected: "member"}
	if pingd != "" {
		ns.Transient = &cib.TransientAttributes{ID: id, Sets: []cib.NVSet{{ID: "status-" + id,
			Pairs: []cib.NVPair{{ID: "status-" + id + "-pingd", Name: "pingd", Value: pingd}}}}}
	}
	return ns
}

func history(node, rsc, provider, agent string, ops ...cib.LRMOp) cib.LRMResource {
	for i := range ops {
		ops[i].OnNode = node
	}
	return cib.LRMResource{ID: rsc, Class: "ocf", Provider: provider, Type: agent, Ops: ops}
}

// referenceUUID stands for the DC's id in transition keys; any fixed value
// does, since nothing compares it with a live controller.
const referenceUUID = "0b5c7d2e-4f61-4a8e-9c3d-2e7f1a6b8d90"

// opDigests are the op-digest values Pacemaker 2.1.5 records for the
// reference parameters (as crm_simulate -S -x a-both-up.xml -O out.xml
// writes them). A real status section always has them; without one,
// Pacemaker cannot tell whether the parameters changed since the start and
// restarts the resource, so situation (d) would not be settled.
var opDigests = map[string]string{
	"vip_start_0":                "315c6a0c95cca324db2f0cb410ac9209",
	"vip_monitor_0":              "315c6a0c95cca324db2f0cb410ac9209",
	"vip_monitor_10000":          "5b5d7d93ff04493011741e0654b7f0f3",
	"httpd_start_0":              "494ebc6939ddea021b19df2efe3570a6",
	"httpd_monitor_0":            "494ebc6939ddea021b19df2efe3570a6",
	"ping-gateway_start_0":       "32ad251231c1a515c66550617e1d0e38",
	"ping-gateway_monitor_10000": "e1611ba52fa55f0071717421b7237cf5",
}

func lrmOp(id, rsc, task string, intervalMS int64, action, callID, rc, targetRC int) cib.LRMOp {
	key := fmt.Sprintf("%d:1:%d:%s", action, targetRC, referenceUUID)
	opKey := fmt.Sprintf("%s_%s_%d", rsc, task, intervalMS)
	return cib.LRMOp{ID: id, OperationKey: opKey, Operation: task,
		CallID: callID, RCCode: rc, IntervalMS: intervalMS, LastRCChange: 1772532890,
		TransitionKey: key, TransitionMagic: fmt.Sprintf("0:%d;%s", rc, key),
		Extra: cib.Extra{Attrs: []cib.Attr{{Name: "op-digest", Value: opDigests[opKey]}}}}
}

// probe found rsc not running, as expected.
func probe(rsc string, action, callID int) cib.LRMOp {
	return lrmOp(rsc+"_last_0", rsc, "monitor", 0, action, callID, cib.RCNotRunning, cib.RCNotRunning)
}

func start(rsc string, action, callID int) cib.LRMOp {
	return lrmOp(rsc+"_last_0", rsc, "start", 0, action, callID, cib.RCOK, cib.RCOK)
}

// monitor is the 10 s recurring monitor the reference config sets up.
func monitor(rsc string, action, callID int) cib.LRMOp {
	return lrmOp(rsc+"_monitor_10000", rsc, "monitor", 10000, action, callID, cib.RCOK, cib.RCOK)
}

func TestReferenceCIBs(t *testing.T) {
	for _, s := range situations {
		got := buildReferenceCIB(t, s)
		path := filepath.Join("testdata", "simulate", s.file)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date with reference.crm or this test; regenerate it: go test ./cmd/hactl -run TestReferenceCIBs -update", path)
		}
	}
}

// simulateJSON runs hactl simulate on file and decodes its JSON.
func simulateJSON(t *testing.T, file string) simJSON {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run([]string{"simulate", "--cib", file, "--format", "json"}, &out, &errOut); code != 0 {
		t.Fatalf("simulate %s: exit %d: %s", file, code, errOut.String())
	}
	var got simJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("simulate %s: %v\n%s", file, err, out.String())
	}
	return got
}

// TestSimulateReferencePlacements checks the placements an admin expects
// of the reference setup, which crm_simulate -S -x (Pacemaker 2.1.5)
// computes for the same files.
func TestSimulateReferencePlacements(t *testing.T) {
	both := []string{"vm-node1", "vm-node2"}
	for _, c := range []struct {
		file                 string
		service, ping, nodes []string
		offline              string
	}{
		// Nothing runs yet: vm-node1's 100 wins, ping runs everywhere.
		{"a-both-up.xml", []string{"vm-node1"}, both, both, ""},
		{"b-node1-down.xml", []string{"vm-node2"}, []string{"vm-node2"}, both, "vm-node1"},
		// pingd=0 bans vip (and httpd with it) from vm-node1.
		{"c-node1-no-gateway.xml", []string{"vm-node2"}, both, both, ""},
		// Running on vm-node2, vip scores 200 there (its stickiness, plus
		// httpd's pulled in through the colocation) against the 100 of
		// preferred-node: it stays, and httpd with it.
		{"d-running-on-node2.xml", []string{"vm-node2"}, both, both, ""},
	} {
		t.Run(c.file, func(t *testing.T) {
			got := simulateJSON(t, filepath.Join("testdata", "simulate", c.file))
			for _, rsc := range []string{"vip", "httpd"} {
				if p := got.Resources[rsc]; p.State != "started" || !slices.Equal(p.Nodes, c.service) {
					t.Errorf("%s: %+v; want started on %v", rsc, p, c.service)
				}
			}
			if p := got.Resources["cloned-ping-gateway"]; p.State != "started" || !slices.Equal(p.Nodes, c.ping) {
				t.Errorf("cloned-ping-gateway: %+v; want started on %v", p, c.ping)
			}
			for _, n := range c.nodes {
				want := sched.NodeOnline
				if n == c.offline {
					want = sched.NodeOffline
				}
				if got.Nodes[n] != want {
					t.Errorf("node %s: %q; want %q", n, got.Nodes[n], want)
				}
			}
			if c.file == "d-running-on-node2.xml" && len(got.Actions) != 0 {
				t.Errorf("a settled cluster needs no actions; got %+v", got.Actions)
			}
		})
	}
}

// badCIB writes the reference CIB (situation a) with edit applied to a
// temporary file.
func badCIB(t *testing.T, edit func(string) string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "simulate", "a-both-up.xml"))
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "bad.xml")
	if err := os.WriteFile(f, []byte(edit(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// lineOf is the 1-based line of the first occurrence of s in file.
func lineOf(t *testing.T, file, s string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), s)
	if i < 0 {
		t.Fatalf("%s: no %q", file, s)
	}
	return strings.Count(string(data[:i]), "\n") + 1
}

func TestSimulateBadInput(t *testing.T) {
	addConstraint := func(xml string) func(string) string {
		return func(s string) string {
			return strings.Replace(s, "</constraints>", xml+"\n    </constraints>", 1)
		}
	}
	for _, c := range []struct {
		name string
		edit func(string) string
		// mark locates the line the message must name ("" for none).
		mark string
		want []string
	}{
		{"malformed XML", func(s string) string {
			return strings.Replace(s, `<rsc_location id="preferred-node"`, `<rsc_location id="preferred-node" <`, 1)
		}, `<rsc_location id="preferred-node"`, nil},
		{"unknown resource", addConstraint(`      <rsc_location id="nosuch-pref" rsc="nosuch" score="50" node="vm-node2"/>`),
			`nosuch-pref`, []string{"nosuch"}},
		{"cyclic mandatory order", addConstraint(`      <rsc_order id="vip-after-httpd" kind="Mandatory" first="httpd" then="vip"/>`),
			`<rsc_order id="httpd-after-vip"`, []string{"cycle", "httpd-after-vip", "vip-after-httpd"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := badCIB(t, c.edit)
			var out, errOut bytes.Buffer
			code := run([]string{"simulate", "--cib", f}, &out, &errOut)
			where := fmt.Sprintf("%s:%d", f, lineOf(t, f, c.mark))
			if code != 1 || !strings.Contains(errOut.String(), where) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and a message naming %s", code, errOut.String(), where)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr does not mention %q:\n%s", w, errOut.String())
				}
			}
			if out.Len() != 0 {
				t.Errorf("printed a simulation of an invalid CIB:\n%s", out.String())
			}
		})
	}
}

func TestSimulateUsage(t *testing.T) {
	ref := filepath.Join("testdata", "simulate", "a-both-up.xml")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"simulate"}, 2, "--cib"},
		{[]string{"simulate", "--cib", ref, "--format", "yaml"}, 2, "yaml"},
		{[]string{"simulate", "--cib", ref, "extra"}, 2, "extra"},
		{[]string{"simulate", "--cib", filepath.Join(t.TempDir(), "none.xml")}, 1, "none.xml"},
	} {
		var out, errOut bytes.Buffer
		if code := run(c.args, &out, &errOut); code != c.code || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, errOut.String(), c.code, c.want)
		}
	}
}

// fakeResult is what the scheduler should answer for situation (b) with
// vip and httpd running on the departed vm-node1 a moment ago, written by
// hand so that the printers are tested without the scheduler: a move,
// probes, starts, monitors and a clone instance lost with its node.
func fakeResult() *sched.Result {
	n1off := sched.Node{Name: "vm-node1", ID: "1", State: sched.NodeOffline}
	n2 := sched.Node{Name: "vm-node2", ID: "2", State: sched.NodeOnline}
	in := func(id, prim, clone, node string) sched.Instance {
		return sched.Instance{ID: id, Primitive: prim, Clone: clone, Node: node, Role: cib.RoleStarted}
	}
	return &sched.Result{
		Nodes:      []sched.Node{n1off, n2},
		FinalNodes: []sched.Node{n1off, n2},
		Current: []sched.Instance{in("httpd", "httpd", "", "vm-node1"), in("ping-gateway:0", "ping-gateway", "cloned-ping-gateway", "vm-node2"),
			{ID: "vip", Primitive: "vip", Node: "vm-node1", Role: cib.RoleStarted, Failed: true}},
		Final: []sched.Instance{in("httpd", "httpd", "", "vm-node2"), in("ping-gateway:0", "ping-gateway", "cloned-ping-gateway", "vm-node2"),
			in("vip", "vip", "", "vm-node2")},
		Actions: []sched.Action{
			{ID: 1, Resource: "vm-node1", Task: sched.TaskFence, Node: "vm-node1"},
			{ID: 2, Resource: "httpd", Primitive: "httpd", Task: sched.TaskStop, Node: "vm-node1", After: []int{1}},
			{ID: 3, Resource: "vip", Primitive: "vip", Task: sched.TaskStop, Node: "vm-node1", After: []int{2}},
			{ID: 4, Resource: "vip", Primitive: "vip", Task: sched.TaskStart, Node: "vm-node2", After: []int{3}},
			{ID: 5, Resource: "vip", Primitive: "vip", Task: sched.TaskMonitor, Node: "vm-node2", Interval: 10 * time.Second, After: []int{4}},
			{ID: 6, Resource: "httpd", Primitive: "httpd", Task: sched.TaskStart, Node: "vm-node2", After: []int{4}},
		},
		Warnings: []string{"vm-node1 is offline"},
	}
}

func TestPrintSimulation(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "simulate", "b-node1-down.xml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cib.Parse("b.xml", data)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printSimulation(&out, c, fakeResult())
	want := "Current cluster status:\n" +
		"  * Node List:\n" +
		"    * Online: [ vm-node2 ]\n" +
		"    * OFFLINE: [ vm-node1 ]\n" +
		"\n" +
		"  * Full List of Resources:\n" +
		"    * vip\t(ocf:heartbeat:IPaddr2):\t FAILED vm-node1\n" +
		"    * httpd\t(ocf:heartbeat:apache):\t Started vm-node1\n" +
		"    * Clone Set: cloned-ping-gateway [ping-gateway]:\n" +
		"      * Started: [ vm-node2 ]\n" +
		"      * Stopped: [ vm-node1 ]\n" +
		"\n" +
		"Transition Summary:\n" +
		"  * Recover    vip     ( vm-node1 -> vm-node2 )\n" +
		"  * Move       httpd   ( vm-node1 -> vm-node2 )\n" +
		"\n" +
		"Executing Cluster Transition:\n" +
		"  * Fencing vm-node1 (reboot)\n" +
		"  * Resource action: httpd           stop on vm-node1\n" +
		"  * Resource action: vip             stop on vm-node1\n" +
		"  * Resource action: vip             start on vm-node2\n" +
		"  * Resource action: vip             monitor=10000 on vm-node2\n" +
		"  * Resource action: httpd           start on vm-node2\n" +
		"\n" +
		"Revised Cluster Status:\n" +
		"  * Node List:\n" +
		"    * Online: [ vm-node2 ]\n" +
		"    * OFFLINE: [ vm-node1 ]\n" +
		"\n" +
		"  * Full List of Resources:\n" +
		"    * vip\t(ocf:heartbeat:IPaddr2):\t Started vm-node2\n" +
		"    * httpd\t(ocf:heartbeat:apache):\t Started vm-node2\n" +
		"    * Clone Set: cloned-ping-gateway [ping-gateway]:\n" +
		"      * Started: [ vm-node2 ]\n" +
		"      * Stopped: [ vm-node1 ]\n" +
		"\n" +
		"Warnings:\n" +
		"  * vm-node1 is offline\n"
	if out.String() != want {
		t.Errorf("text output:\n%s\nwant:\n%s", out.String(), want)
	}

	b, err := json.Marshal(simulationJSON(c, fakeResult()))
	if err != nil {
		t.Fatal(err)
	}
	// Decode into plain maps: the shape is the contract, not the Go types.
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	check := func(path string, gotV, wantV any) {
		t.Helper()
		g, _ := json.Marshal(gotV)
		w, _ := json.Marshal(wantV)
		if string(g) != string(w) {
			t.Errorf("%s: %s; want %s", path, g, w)
		}
	}
	res := got["resources"].(map[string]any)
	check("resources.vip", res["vip"], map[string]any{"state": "started", "nodes": []string{"vm-node2"}})
	check("resources.cloned-ping-gateway", res["cloned-ping-gateway"], map[string]any{"state": "started", "nodes": []string{"vm-node2"}})
	check("nodes", got["nodes"], map[string]string{"vm-node1": "offline", "vm-node2": "online"})
	check("current.resources.httpd", got["current"].(map[string]any)["resources"].(map[string]any)["httpd"],
		map[string]any{"state": "started", "nodes": []string{"vm-node1"}})
	actions := got["actions"].([]any)
	check("actions[0]", actions[0], map[string]any{"id": 1, "resource": "vm-node1", "action": "fence", "node": "vm-node1", "after": []int{}})
	check("actions[4]", actions[4], map[string]any{"id": 5, "resource": "vip", "action": "monitor", "node": "vm-node2", "interval_ms": 10000, "after": []int{4}})
	check("warnings", got["warnings"], []string{"vm-node1 is offline"})
}

// TestTransitionSummary covers the verbs the states and actions imply,
// on a promotable clone and the reference resources, and a clone whose
// instances the scheduler renumbered.
func TestTransitionSummary(t *testing.T) {
	c, err := cib.Parse("ms.xml", buildReferenceCIB(t, situations[0]))
	if err != nil {
		t.Fatal(err)
	}
	c.Config.Resources = append(c.Config.Resources, &cib.Clone{ID: "ms", Master: true,
		Child: &cib.Primitive{ID: "db", Class: "ocf", Provider: "pacemaker", Type: "Stateful"}})
	at := func(id, prim, clone, node string, role cib.Role) sched.Instance {
		return sched.Instance{ID: id, Primitive: prim, Clone: clone, Node: node, Role: role}
	}
	r := &sched.Result{
		Current: []sched.Instance{
			at("httpd", "httpd", "", "vm-node1", cib.RoleStarted),
			at("vip", "vip", "", "vm-node1", cib.RoleStarted),
			at("db:0", "db", "ms", "vm-node1", cib.RolePromoted),
			at("db:1", "db", "ms", "vm-node2", cib.RoleUnpromoted),
			at("ping-gateway:1", "ping-gateway", "cloned-ping-gateway", "vm-node2", cib.RoleStarted),
		},
		Final: []sched.Instance{
			at("vip", "vip", "", "vm-node1", cib.RoleStarted),
			at("db:0", "db", "ms", "vm-node1", cib.RoleUnpromoted),
			at("db:1", "db", "ms", "vm-node2", cib.RolePromoted),
			// Renumbered but not moved: no line for vm-node2.
			at("ping-gateway:0", "ping-gateway", "cloned-ping-gateway", "vm-node2", cib.RoleStarted),
			at("ping-gateway:1", "ping-gateway", "cloned-ping-gateway", "vm-node1", cib.RoleStarted),
		},
		Actions: []sched.Action{
			{ID: 1, Resource: "vip", Task: sched.TaskStop, Node: "vm-node1"},
			{ID: 2, Resource: "vip", Task: sched.TaskStart, Node: "vm-node1"},
		},
	}
	got := transitionSummary(c, r)
	want := []string{
		"Restart    vip              (                        vm-node1 )",
		"Stop       httpd            (                        vm-node1 )",
		"Start      ping-gateway:1   (                        vm-node1 )",
		"Demote     db:0             ( Promoted -> Unpromoted vm-node1 )",
		"Promote    db:1             ( Unpromoted -> Promoted vm-node2 )",
	}
	if !slices.Equal(got, want) {
		t.Errorf("summary:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
