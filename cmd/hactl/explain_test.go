package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hakit/hakit/crm/sched"
)

func explainRun(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(append([]string{"explain"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func fixture(name string) string { return filepath.Join("testdata", "simulate", name) }

// The reference setup's four situations, asked what an admin asks.
func TestExplainReferenceSetup(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		args       []string
		want       []string // lines (or parts of lines) of the output
		notWant    []string
	}{
		{
			name: "vip cannot run on vm-node1 because of the pingd rule",
			file: "c-node1-no-gateway.xml",
			args: []string{"vip"},
			want: []string{
				"vip is stopped and will start on vm-node2\n",
				"  decision: vm-node2 has the highest score, 0\n",
				"  vm-node1: score -INFINITY: location vip-needs-gateway: rule vip-needs-gateway-rule (score -INFINITY) matched on vm-node1 (pingd=0)\n",
				"  vm-node2: score 0\n",
				"(location vip-needs-gateway: rule vip-needs-gateway-rule (score -INFINITY) did not match on vm-node2 (pingd=1000): not applied)",
			},
		},
		{
			name: "httpd follows vip to vm-node2",
			file: "c-node1-no-gateway.xml",
			args: []string{"httpd"},
			want: []string{
				"httpd is stopped and will start on vm-node2\n",
				"  vm-node1: score -INFINITY: colocation httpd-with-vip: INFINITY with vip, which is placed on vm-node2, not vm-node1\n",
				"(colocation httpd-with-vip: INFINITY with vip, which is placed on vm-node2)",
			},
		},
		{
			name: "stickiness and httpd keep vip on vm-node2 against the location preference",
			file: "d-running-on-node2.xml",
			args: []string{"vip"},
			want: []string{
				"vip runs on vm-node2 (and will stay there)\n",
				"  vm-node1: score 100 = 100 location preferred-node (score 100 on vm-node1)\n",
				"  vm-node2: score 200 = 100 stickiness (resource-stickiness 100: it runs on vm-node2 now) + 100 colocation-follower httpd-with-vip (httpd follows vip and prefers vm-node2 with 100)\n",
				"  decision: vm-node2 has the highest score, 200\n",
			},
		},
		{
			name:    "one node asked",
			file:    "b-node1-down.xml",
			args:    []string{"vip", "vm-node1"},
			want:    []string{"vip is stopped and will start on vm-node2\n", "  vm-node1 (offline: cannot run resources): score -INFINITY: location vip-needs-gateway: rule vip-needs-gateway-rule (score -INFINITY) matched on vm-node1 (pingd not defined)"},
			notWant: []string{"  vm-node2:"},
		},
		{
			name: "a clone and its instances",
			file: "a-both-up.xml",
			args: []string{"cloned-ping-gateway"},
			want: []string{
				"cloned-ping-gateway (clone) is stopped and will start on vm-node1, vm-node2\n",
				"  ping-gateway:0: starts on vm-node2\n",
				"    decision: vm-node2 has the highest score, 0, tied with vm-node1; chosen because fewer resources placed on it so far (0 against 2)\n",
				"  ping-gateway:1: starts on vm-node1\n",
				"    vm-node2: score -INFINITY: clone: clone-node-max 1: vm-node2 already has as many instances of cloned-ping-gateway\n",
			},
		},
		{
			name: "a clone's child stands for the clone",
			file: "d-running-on-node2.xml",
			args: []string{"ping-gateway"},
			want: []string{"cloned-ping-gateway (clone; ping-gateway stands for it) runs on vm-node1, vm-node2 (and will stay there)\n"},
		},
		{
			name: "a clone instance by its id",
			file: "d-running-on-node2.xml",
			args: []string{"ping-gateway:1", "vm-node2"},
			want: []string{
				"ping-gateway:1 (clone instance) runs on vm-node2 (and will stay there)\n",
				"  vm-node2: score 100 = 100 stickiness (resource-stickiness 100: it runs on vm-node2 now)\n",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := explainRun(append([]string{"--cib", fixture(tc.file)}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}

// The JSON is the explanation as data: the placement is simulate's, and
// each node's contributions add up to its score.
func TestExplainJSON(t *testing.T) {
	files := []string{"a-both-up.xml", "b-node1-down.xml", "c-node1-no-gateway.xml", "d-running-on-node2.xml"}
	for _, file := range files {
		var out, errOut bytes.Buffer
		if code := run([]string{"simulate", "--cib", fixture(file), "--format", "json"}, &out, &errOut); code != 0 {
			t.Fatalf("%s: simulate: exit %d: %s", file, code, errOut.String())
		}
		var sim simJSON
		if err := json.Unmarshal(out.Bytes(), &sim); err != nil {
			t.Fatal(err)
		}
		for _, rsc := range []string{"vip", "httpd", "cloned-ping-gateway"} {
			code, js, errOut := explainRun("--cib", fixture(file), rsc, "--format", "json")
			if code != 0 {
				t.Fatalf("%s %s: exit %d: %s", file, rsc, code, errOut)
			}
			var e sched.Explanation
			if err := json.Unmarshal([]byte(js), &e); err != nil {
				t.Fatalf("%s %s: %v", file, rsc, err)
			}
			if want := sim.Resources[rsc].Nodes; !slices.Equal(e.Placed, want) {
				t.Errorf("%s %s: explain places it on %v, simulate on %v", file, rsc, e.Placed, want)
			}
			if want := sim.Current.Resources[rsc].Nodes; !slices.Equal(e.Current, want) {
				t.Errorf("%s %s: explain says it runs on %v, simulate on %v", file, rsc, e.Current, want)
			}
			for _, ie := range e.Instances {
				for _, ns := range ie.Nodes {
					if w, in := ns.Total(); w != ns.Score || in != ns.Considered {
						t.Errorf("%s %s on %s: contributions make %s, the score is %s", file, ie.ID, ns.Node, w, ns.Score)
					}
				}
			}
		}
	}
	_, js, _ := explainRun("--cib", fixture("c-node1-no-gateway.xml"), "vip", "vm-node1", "--format", "json")
	var e sched.Explanation
	if err := json.Unmarshal([]byte(js), &e); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range e.Instances[0].Nodes[0].Contributions {
		if c.ID == "vip-needs-gateway" && c.Rule == "vip-needs-gateway-rule" && c.RuleMatched != nil && *c.RuleMatched && c.Score == -1_000_000 {
			found = true
		}
	}
	if !found || len(e.Instances[0].Nodes) != 1 {
		t.Errorf("the JSON for vip on vm-node1 does not name the matched rule vip-needs-gateway:\n%s", js)
	}
}

func TestExplainErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no resource", []string{"--cib", fixture("a-both-up.xml"), "nope"}, 1, `resource "nope" does not exist`},
		{"no node", []string{"--cib", fixture("a-both-up.xml"), "vip", "vm-node9"}, 1, `node "vm-node9" does not exist in the CIB (nodes: vm-node1, vm-node2)`},
		{"no --cib and no cluster", []string{"--socket", "/nonexistent/hanode.sock", "vip"}, 1, "give --cib FILE.xml"},
		{"no resource named", []string{"--cib", fixture("a-both-up.xml")}, 2, "accepts between 1 and 2 arg(s)"},
		{"too many", []string{"--cib", fixture("a-both-up.xml"), "vip", "vm-node1", "x"}, 2, "accepts between 1 and 2 arg(s)"},
		{"bad format", []string{"--cib", fixture("a-both-up.xml"), "vip", "--format", "yaml"}, 2, `unknown --format "yaml"`},
		{"missing file", []string{"--cib", filepath.Join(t.TempDir(), "none.xml"), "vip"}, 1, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := explainRun(tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.want)
			}
		})
	}
}
