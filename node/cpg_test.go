package node_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hakit/hakit/transport/cpg"
)

// Process groups over the real member on the simulated network: both
// nodes' processes join one group, see each other join, get every
// multicast in the same order, and see a closed process leave.
func TestProcessGroupsOverTheRing(t *testing.T) {
	w, m, _ := pair(t, key)
	w.RunFor(10 * time.Second)
	logs := make([][]string, 2)
	pids := make([]uint32, 2)
	for i := range m {
		pids[i] = m[i].CPGOpen(func(ev cpg.Event) {
			switch ev.Kind {
			case cpg.EventConfChg:
				logs[i] = append(logs[i], fmt.Sprintf("conf %s members=%v joined=%v left=%v", ev.Group, ev.Members, ev.Joined, ev.Left))
			case cpg.EventDeliver:
				logs[i] = append(logs[i], fmt.Sprintf("msg %s from %v: %s", ev.Group, ev.Sender, ev.Payload))
			}
		})
		if err := m[i].CPGJoin(pids[i], "rm"); err != nil {
			t.Fatal(err)
		}
	}
	w.RunFor(time.Second)
	for k := range 3 {
		for i := range m {
			if err := m[i].CPGMcast(pids[i], "rm", fmt.Appendf(nil, "%d-%d", i+1, k)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := m[0].CPGMcast(pids[0], "other", []byte("x")); err == nil {
		t.Error("a multicast to a group the process did not join was sent")
	}
	w.RunFor(time.Second)
	m[1].CPGClose(pids[1])
	w.RunFor(time.Second)

	if got := m[0].CPGGroups()["rm"]; len(got) != 1 || got[0].Node != 1 {
		t.Errorf("group table after node 2's process closed: %v", got)
	}
	msgs := func(log []string) []string {
		return slices.DeleteFunc(slices.Clone(log), func(s string) bool { return s[:3] != "msg" })
	}
	if len(msgs(logs[0])) != 6 || !slices.Equal(msgs(logs[0]), msgs(logs[1])) {
		t.Errorf("deliveries differ:\n%q\n%q", msgs(logs[0]), msgs(logs[1]))
	}
	for i, log := range logs {
		if len(log) == 0 || log[0][:4] != "conf" {
			t.Errorf("node %d: first event %q, want the confchg that adds it", i+1, log)
		}
	}
	last := logs[0][len(logs[0])-1]
	if want := fmt.Sprintf("left=[{{2 %d} %v}]", pids[1], cpg.ReasonProcDown); !strings.Contains(last, want) {
		t.Errorf("node 1's last event %q, want node 2's process leaving with PROCDOWN (%s)", last, want)
	}
	if err := m[1].CPGJoin(pids[1], "rm"); err == nil {
		t.Error("a closed process could join")
	}
}
