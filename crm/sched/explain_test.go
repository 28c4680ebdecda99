package sched

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hakit/hakit/crm/cib"
)

// explainCheck compares Explain with Schedule on one CIB: every primitive
// instance's explained score is the scheduler's, the contributions combine
// to it, and the explained placement is Schedule's. It returns "" when
// they agree.
func explainCheck(c *cib.CIB) string {
	in := Input{CIB: c}
	res, err := Schedule(in)
	if err != nil {
		return "" // nothing to explain; Explain must fail the same way
	}
	final := map[string]string{}
	for _, x := range res.Final {
		final[x.ID] = x.Node
	}
	pl, cur := res.Placement(c), res.CurrentPlacement(c)
	seen := map[string]bool{}
	check := func(id string) string {
		e, err := Explain(in, id, "")
		if err != nil {
			return fmt.Sprintf("Explain(%s): %v", id, err)
		}
		if rp, ok := pl.Resources[id]; ok {
			if !slices.Equal(e.Placed, rp.Nodes) {
				return fmt.Sprintf("%s: explained placement %v, Schedule's %v", id, e.Placed, rp.Nodes)
			}
			if !slices.Equal(e.Current, cur.Resources[id].Nodes) {
				return fmt.Sprintf("%s: explained current placement %v, Schedule's %v", id, e.Current, cur.Resources[id].Nodes)
			}
		}
		for _, ie := range e.Instances {
			seen[ie.ID] = true
			if ie.Node != final[ie.ID] {
				return fmt.Sprintf("%s: explained on %q, Schedule places it on %q", ie.ID, ie.Node, final[ie.ID])
			}
			scores := res.Scores[ie.ID]
			if len(ie.Nodes) != len(res.Nodes) {
				return fmt.Sprintf("%s: %d nodes explained, %d in the cluster", ie.ID, len(ie.Nodes), len(res.Nodes))
			}
			for _, ns := range ie.Nodes {
				want, considered := scores[ns.Node]
				if ns.Score != want || ns.Considered != considered {
					return fmt.Sprintf("%s on %s: explained score %s (considered %v), Schedule's %s (%v)",
						ie.ID, ns.Node, ns.Score, ns.Considered, want, considered)
				}
				if got, in := ns.Total(); got != want || in != considered {
					return fmt.Sprintf("%s on %s: the contributions make %s (considered %v), the score is %s (%v): %+v",
						ie.ID, ns.Node, got, in, want, considered, ns.Contributions)
				}
				for _, x := range ns.Contributions {
					if x.Detail == "" {
						return fmt.Sprintf("%s on %s: a %s contribution without words", ie.ID, ns.Node, x.Cause)
					}
				}
			}
			if ie.Decision.Detail == "" {
				return fmt.Sprintf("%s: no decision explained", ie.ID)
			}
		}
		return ""
	}
	for _, r := range c.Config.Resources {
		if msg := check(r.ResourceID()); msg != "" {
			return msg
		}
	}
	// Orphans (active, no longer configured) and clone instances asked by
	// their own ids.
	ids := make([]string, 0, len(res.Scores))
	for id := range res.Scores {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if !seen[id] || strings.HasSuffix(id, ":0") {
			if msg := check(id); msg != "" {
				return msg
			}
		}
	}
	return ""
}

func TestPropertyExplainAgreesWithSchedule(t *testing.T) {
	schedProperties(t, "explained scores and placement are the scheduler's", func(gc *genCase) string {
		return explainCheck(gc.CIB)
	})
}

// Explain must be a pure function of its input, like Schedule.
func TestExplainDeterministic(t *testing.T) {
	for seed := int64(1); seed <= 20; seed++ {
		c := genCaseForSeed(seed).CIB
		for _, r := range c.Config.Resources {
			a, errA := Explain(Input{CIB: c}, r.ResourceID(), "")
			b, errB := Explain(Input{CIB: c}, r.ResourceID(), "")
			if !reflect.DeepEqual(a, b) || (errA == nil) != (errB == nil) {
				t.Fatalf("seed %d, %s: two runs, two explanations", seed, r.ResourceID())
			}
		}
	}
}

// flatExplain is an explanation as lines a test can search:
// "ID@NODE cause id op score: detail", "ID decision cause: detail",
// "ID withdrawn cause id: detail", "ID ignored ...", "ID@NODE state".
func flatExplain(e *Explanation) []string {
	var out []string
	scores := func(prefix string, nodes []NodeScore) {
		for _, ns := range nodes {
			if !ns.CanRun {
				out = append(out, fmt.Sprintf("%s@%s %s", prefix, ns.Node, ns.State))
			}
			for _, c := range ns.Contributions {
				out = append(out, fmt.Sprintf("%s@%s %s %s %s %s: %s", prefix, ns.Node, c.Cause, c.ID, c.Op, c.Score, c.Detail))
			}
		}
	}
	scores(e.Resource, e.CloneScores)
	for _, ie := range e.Instances {
		out = append(out, fmt.Sprintf("%s decision %s: %s", ie.ID, ie.Decision.Cause, ie.Decision.Detail))
		for _, w := range ie.Withdrawn {
			out = append(out, fmt.Sprintf("%s withdrawn %s %s: %s", ie.ID, w.Cause, w.ID, w.Detail))
		}
		for _, w := range ie.Ignored {
			out = append(out, fmt.Sprintf("%s ignored %s %s: %s", ie.ID, w.Cause, w.ID, w.Detail))
		}
		scores(ie.ID, ie.Nodes)
	}
	return out
}

var explainCases = []struct {
	name  string
	conf  string
	world world
	rsc   string
	node  string
	// placed is the explained placement ("n1,n2"); want are substrings
	// each of which some line of flatExplain must contain.
	placed string
	want   []string
}{
	{
		name:   "a location rule bans the node without the gateway",
		conf:   pair + "primitive vip ocf:pacemaker:Dummy\nlocation pref vip 100: n1\nlocation gw vip rule -inf: not_defined pingd or pingd lte 0",
		world:  world{nodes: []string{"n1", "n2"}, attrs: map[string]map[string]string{"n1": {"pingd": "0"}, "n2": {"pingd": "1000"}}},
		rsc:    "vip",
		placed: "n2",
		want: []string{
			"vip@n1 location pref add 100: score 100 on n1",
			"vip@n1 location gw add -INFINITY: rule gw-rule (score -INFINITY) matched on n1 (pingd=0)",
			"vip@n2 location gw note 0: rule gw-rule (score -INFINITY) did not match on n2 (pingd=1000): not applied",
			"vip decision choice: n2 has the highest score, 0",
		},
	},
	{
		name:   "stickiness and a follower's preference keep it where it runs",
		conf:   pair + "primitive vip ocf:pacemaker:Dummy\nprimitive web ocf:pacemaker:Dummy\ncolocation web-with-vip inf: web vip\nlocation pref vip 100: n1\nrsc_defaults resource-stickiness=100",
		world:  world{nodes: []string{"n1", "n2"}, running: map[string][]string{"n2": {"vip", "web"}}},
		rsc:    "vip",
		placed: "n2",
		want: []string{
			"vip@n2 stickiness  add 100: resource-stickiness 100: it runs on n2 now",
			"vip@n2 colocation-follower web-with-vip add 100: web follows vip and prefers n2 with 100",
			"vip@n1 colocation-follower web-with-vip add 0: web follows vip and prefers n1 with 0",
			"vip decision choice: n2 has the highest score, 200",
		},
	},
	{
		name:   "the dependent of an INFINITY colocation goes where the primary is",
		conf:   pair + "primitive vip ocf:pacemaker:Dummy\nprimitive web ocf:pacemaker:Dummy\ncolocation web-with-vip inf: web vip\nlocation pref vip 100: n1",
		world:  world{nodes: []string{"n1", "n2"}},
		rsc:    "web",
		node:   "n2",
		placed: "n1",
		want: []string{
			"web@n2 colocation web-with-vip add -INFINITY: INFINITY with vip, which is placed on n1, not n2",
		},
	},
	{
		name:   "a standby node cannot run it whatever its score",
		conf:   pair + "primitive vip ocf:pacemaker:Dummy\nlocation l vip 100: n1",
		world:  world{nodes: []string{"n1", "n2"}, attrs: map[string]map[string]string{"n1": {"standby": "on"}}},
		rsc:    "vip",
		placed: "n2",
		want:   []string{"vip@n1 standby", "vip decision choice: n2 has the highest score, 0"},
	},
	{
		name:   "a fail count at migration-threshold bans the node",
		conf:   pair + "primitive vip ocf:pacemaker:Dummy meta migration-threshold=2\nlocation l vip 100: n1",
		world:  world{nodes: []string{"n1", "n2"}, attrs: map[string]map[string]string{"n1": {"fail-count-vip#monitor_10000": "2"}}, running: map[string][]string{"n1": {"vip=failed"}}},
		rsc:    "vip",
		placed: "n2",
		want:   []string{"vip@n1 fail-count  add -INFINITY: fail-count 2 on n1 reached migration-threshold 2"},
	},
	{
		name:   "target-role=Stopped, and the order that stops what follows",
		conf:   pair + "primitive vip ocf:pacemaker:Dummy meta target-role=Stopped\nprimitive web ocf:pacemaker:Dummy\norder o Mandatory: vip web",
		world:  world{nodes: []string{"n1", "n2"}, running: map[string][]string{"n1": {"vip", "web"}}},
		rsc:    "web",
		placed: "",
		want:   []string{"web withdrawn order o: start of web waits for start of vip, which will not happen"},
	},
	{
		name:   "target-role=Stopped bans every node",
		conf:   pair + "primitive vip ocf:pacemaker:Dummy meta target-role=Stopped",
		world:  world{nodes: []string{"n1", "n2"}},
		rsc:    "vip",
		placed: "",
		want: []string{
			"vip@n1 target-role  add -INFINITY: target-role=Stopped",
			"vip decision choice: no node can run it: every node's score is -INFINITY or the node cannot run resources",
		},
	},
	{
		name:   "an unmanaged resource stays where it is",
		conf:   pair + "primitive vip ocf:pacemaker:Dummy meta is-managed=false",
		world:  world{nodes: []string{"n1", "n2"}, attrs: map[string]map[string]string{"n1": {"standby": "on"}}, running: map[string][]string{"n1": {"vip"}}},
		rsc:    "vip",
		placed: "n1",
		want: []string{
			"vip@n2 unmanaged  add -INFINITY: vip runs on n1 and it is unmanaged (is-managed=false or maintenance=true): it is pinned there",
			"vip decision unmanaged: the cluster may not start or stop it (it is unmanaged (is-managed=false or maintenance=true)): it stays on n1",
		},
	},
	{
		name:   "a group's later member follows the first, the location goes to the first",
		conf:   pair + "primitive a ocf:pacemaker:Dummy\nprimitive b ocf:pacemaker:Dummy\ngroup g a b\nlocation l g 10: n2",
		world:  world{nodes: []string{"n1", "n2"}},
		rsc:    "g",
		placed: "n2",
		want: []string{
			"a@n2 location l add 10: score 10 on n2; set on group g",
			"b@n2 location l add 0: score 10 on n2; set on group g, where only the first member takes the score",
			"b@n1 group g add -INFINITY: follows a, the member before it, which is placed on n2, not n1",
			"a@n2 group g add 0: b, a member after it, prefers n2 with 0",
		},
	},
	{
		name:   "clone-max leaves an instance without a node",
		conf:   pair + "primitive p ocf:pacemaker:Dummy\nclone c p meta clone-max=2 clone-node-max=1",
		world:  world{nodes: []string{"n1", "n2", "n3"}, attrs: map[string]map[string]string{"n3": {"standby": "on"}}},
		rsc:    "c",
		placed: "n1,n2",
		want: []string{
			"p:1@n1 clone  set -INFINITY: clone-node-max 1: n1 already has as many instances of c",
			"p:0@n3 clone  set -INFINITY: instances of c go only to nodes that can run resources; n3 is standby",
		},
	},
	{
		name:   "a clone instance asked by its id",
		conf:   pair + "primitive p ocf:pacemaker:Dummy\nclone c p",
		world:  world{nodes: []string{"n1", "n2"}, running: map[string][]string{"n2": {"p"}}},
		rsc:    "p:0",
		placed: "n2",
		want:   []string{"p:0@n2 stickiness  add 1: resource-stickiness 1: it runs on n2 now"},
	},
	{
		name:   "no quorum with no-quorum-policy=stop",
		conf:   "property stonith-enabled=false\nprimitive vip ocf:pacemaker:Dummy",
		world:  world{nodes: []string{"n1", "n2"}, quorum: "0", running: map[string][]string{"n1": {"vip"}}},
		rsc:    "vip",
		placed: "",
		want:   []string{"vip decision quorum: the partition has no quorum and no-quorum-policy=stop: everything stops"},
	},
	{
		name:   "what was never probed on a pending node does not start",
		conf:   "property stonith-enabled=true\nproperty no-quorum-policy=ignore\nprimitive fence stonith:fence_dummy\nprimitive vip ocf:pacemaker:Dummy",
		world:  world{nodes: []string{"n1", "n2", "n3"}, state: map[string]string{"n2": "pending"}, running: map[string][]string{"n1": {"fence"}}},
		rsc:    "vip",
		placed: "",
		want:   []string{"vip withdrawn node : a start waits for probes on every node, and n2 (up, not yet joined) cannot run them", "vip@n2 pending"},
	},
	{
		name:   "a finite colocation that would leave nowhere to run is not applied",
		conf:   pair + "primitive a ocf:pacemaker:Dummy meta target-role=Stopped\nprimitive b ocf:pacemaker:Dummy\ncolocation c 50: b a\nlocation lb b 10: n2",
		world:  world{nodes: []string{"n1", "n2"}},
		rsc:    "b",
		placed: "n2",
		want:   []string{"b ignored colocation c: 50 with a (which is not placed anywhere) not applied: it would leave no node able to run b"},
	},
	{
		name:   "a finite colocation adds its score where the primary is",
		conf:   pair + "primitive a ocf:pacemaker:Dummy\nprimitive b ocf:pacemaker:Dummy\ncolocation c 50: b a\nlocation la a 10: n1\nlocation lb b 20: n2",
		world:  world{nodes: []string{"n1", "n2"}},
		rsc:    "b",
		placed: "n1",
		want: []string{
			"b@n1 colocation c add 50: 50 with a, which is placed on n1",
			"b@n2 colocation c note 0: 50 with a, which is placed on n1, not n2: no effect here",
		},
	},
}

func TestExplain(t *testing.T) {
	for _, tc := range explainCases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.world.cib(t, tc.conf)
			e, err := Explain(Input{CIB: c}, tc.rsc, tc.node)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(e.Placed, ","); got != tc.placed {
				t.Errorf("placed on %q, want %q", got, tc.placed)
			}
			lines := flatExplain(e)
			for _, w := range tc.want {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, w) }) {
					t.Errorf("no line contains %q; the explanation:\n%s", w, strings.Join(lines, "\n"))
				}
			}
			if msg := explainCheck(c); msg != "" {
				t.Error(msg)
			}
			if testing.Verbose() {
				t.Log("\n" + strings.Join(lines, "\n"))
			}
		})
	}
}

func TestExplainErrors(t *testing.T) {
	c := world{nodes: []string{"n1", "n2"}}.cib(t, pair+"primitive vip ocf:pacemaker:Dummy")
	for _, tc := range []struct{ rsc, node, want string }{
		{"nope", "", `resource "nope" does not exist`},
		{"vip", "n9", `node "n9" does not exist in the CIB (nodes: n1, n2)`},
	} {
		_, err := Explain(Input{CIB: c}, tc.rsc, tc.node)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Explain(%q, %q): error %v, want one containing %q", tc.rsc, tc.node, err, tc.want)
		}
	}
	if _, err := Explain(Input{}, "vip", ""); err == nil {
		t.Error("Explain without a CIB: no error")
	}
}
