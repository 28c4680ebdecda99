package cib

import (
	"fmt"
	"os"
	"reflect"
	"testing"
)

type historyWant struct {
	state       RscState
	role        Role
	last        string // id of Last, "" for nil
	lastFailure string
	pending     string
}

func opID(op *LRMOp) string {
	if op == nil {
		return ""
	}
	return op.ID
}

func checkHistory(t *testing.T, h History, want historyWant) {
	t.Helper()
	got := historyWant{h.State, h.Role, opID(h.Last), opID(h.LastFailure), opID(h.Pending)}
	if got != want {
		t.Errorf("History = %+v\n          want %+v", got, want)
	}
}

// TestHistoryFromTestdata reads states the way crm_simulate showed them for
// the same files (Pacemaker 2.1.5): in failed-history.xml httpd and db are
// "FAILED vm-node1", app is "Starting vm-node1", db is also active on
// vm-node2 (its probe found it running), stateful is "FAILED Promoted
// vm-node2", and vip runs only on vm-node2.
func TestHistoryFromTestdata(t *testing.T) {
	files := map[string]*CIB{}
	for _, f := range []string{"failed-history.xml", "reference.xml", "drbd.xml"} {
		files[f] = mustParse(t, f, readTestdata(t, f))
	}
	tests := []struct {
		file, node, rsc string
		want            historyWant
	}{
		{"failed-history.xml", "vm-node1", "vip", historyWant{StateStopped, RoleStopped, "vip_last_0", "vip_last_failure_0", ""}},
		{"failed-history.xml", "vm-node1", "httpd", historyWant{StateFailed, RoleStarted, "httpd_last_failure_0", "httpd_last_failure_0", ""}},
		{"failed-history.xml", "vm-node1", "db", historyWant{StateFailed, RoleStarted, "db_last_failure_0", "db_last_failure_0", ""}},
		{"failed-history.xml", "vm-node1", "app", historyWant{StateStarted, RoleStarted, "", "", "app_last_0"}},
		{"failed-history.xml", "vm-node1", "stateful", historyWant{StateUnknown, RoleUnknown, "", "", ""}},
		{"failed-history.xml", "vm-node2", "vip", historyWant{StateStarted, RoleStarted, "vip_monitor_10000", "", ""}},
		{"failed-history.xml", "vm-node2", "httpd", historyWant{StateStopped, RoleStopped, "httpd_last_0", "", ""}},
		{"failed-history.xml", "vm-node2", "db", historyWant{StateStarted, RoleStarted, "db_last_0", "", ""}},
		{"failed-history.xml", "2", "stateful", historyWant{StateFailed, RolePromoted, "stateful_last_0", "stateful_last_0", ""}},
		{"failed-history.xml", "vm-node3", "vip", historyWant{}},
		{"reference.xml", "vm-node1", "vip", historyWant{StateStarted, RoleStarted, "vip_monitor_10000", "", ""}},
		{"reference.xml", "vm-node2", "vip", historyWant{StateStopped, RoleStopped, "vip_last_0", "", ""}},
		{"reference.xml", "vm-node2", "ping-gateway", historyWant{StateStarted, RoleStarted, "ping-gateway_monitor_10000", "", ""}},
		{"drbd.xml", "alpha", "drbd-r0", historyWant{StatePromoted, RolePromoted, "drbd-r0_monitor_29000", "", ""}},
		{"drbd.xml", "beta", "drbd-r0", historyWant{StateStarted, RoleStarted, "drbd-r0_monitor_31000", "", ""}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/%s", tt.file, tt.node, tt.rsc), func(t *testing.T) {
			checkHistory(t, files[tt.file].History(tt.node, tt.rsc), tt.want)
		})
	}
}

// op builds an lrm_rsc_op; key is the expected rc in its transition key
// (-1 for none).
func op(id, operation string, call, rc, status int, intervalMS int64, key int) LRMOp {
	o := LRMOp{ID: id, Operation: operation, CallID: call, RCCode: rc, OpStatus: status, IntervalMS: intervalMS}
	if key >= 0 {
		o.TransitionKey = fmt.Sprintf("1:1:%d:uuid", key)
	}
	return o
}

// TestHistoryRules covers each rule of CIB.History on hand-made histories.
func TestHistoryRules(t *testing.T) {
	const none = -1
	start := op("start", "start", 3, 0, 0, 0, 0)
	promote := op("promote", "promote", 4, 0, 0, 0, 0)
	tests := []struct {
		name string
		ops  []LRMOp
		want historyWant
	}{
		{"nothing", nil, historyWant{}},
		{"start then monitor", []LRMOp{start, op("mon", "monitor", 4, 0, 0, 10000, 0)},
			historyWant{StateStarted, RoleStarted, "mon", "", ""}},
		{"history out of document order", []LRMOp{op("stop", "stop", 9, 0, 0, 0, 0), start},
			historyWant{StateStopped, RoleStopped, "stop", "", ""}},
		{"promoted", []LRMOp{start, promote, op("mon", "monitor", 5, 8, 0, 9000, 8)},
			historyWant{StatePromoted, RolePromoted, "mon", "", ""}},
		{"demoted", []LRMOp{start, promote, op("demote", "demote", 6, 0, 0, 0, 0), op("mon", "monitor", 7, 0, 0, 10000, 0)},
			historyWant{StateStarted, RoleUnpromoted, "mon", "", ""}},
		{"promoted but monitor expected unpromoted", []LRMOp{start, promote, op("mon", "monitor", 5, 8, 0, 10000, 0)},
			historyWant{StatePromoted, RolePromoted, "mon", "mon", ""}},
		{"monitor finds it gone", []LRMOp{start, op("mon", "monitor", 4, 7, 0, 10000, 0)},
			historyWant{StateFailed, RoleStarted, "mon", "mon", ""}},
		{"monitor for the Stopped role", []LRMOp{op("mon", "monitor", 4, 7, 0, 10000, 7)},
			historyWant{StateStopped, RoleStopped, "mon", "", ""}},
		{"probe finds it stopped", []LRMOp{op("probe", "monitor", 2, 7, 0, 0, 7)},
			historyWant{StateStopped, RoleStopped, "probe", "", ""}},
		{"probe finds it promoted", []LRMOp{op("probe", "monitor", 2, 8, 0, 0, 7)},
			historyWant{StatePromoted, RolePromoted, "probe", "", ""}},
		{"probe finds it failed promoted", []LRMOp{op("probe", "monitor", 2, 9, 0, 0, 7)},
			historyWant{StateFailed, RolePromoted, "probe", "probe", ""}},
		{"probe: agent not installed is masked", []LRMOp{op("probe", "monitor", 2, 1, OpNotInstalled, 0, 7)},
			historyWant{StateStopped, RoleStopped, "probe", "", ""}},
		{"probe error", []LRMOp{op("probe", "monitor", 2, 1, 0, 0, 7)},
			historyWant{StateFailed, RoleStarted, "probe", "probe", ""}},
		{"start timed out", []LRMOp{op("start", "start", 3, 1, OpTimeout, 0, 0)},
			historyWant{StateFailed, RoleStarted, "start", "start", ""}},
		{"start with an unknown rc", []LRMOp{op("start", "start", 3, 42, 0, 0, 0)},
			historyWant{StateFailed, RoleStarted, "start", "start", ""}},
		{"degraded counts as running", []LRMOp{op("start", "start", 3, 190, 0, 0, 0)},
			historyWant{StateStarted, RoleStarted, "start", "", ""}},
		{"failed stop of a promoted instance", []LRMOp{start, promote, op("stop", "stop", 6, 1, 0, 0, 0)},
			historyWant{StateFailed, RolePromoted, "stop", "stop", ""}},
		{"failed promote", []LRMOp{start, op("promote", "promote", 4, 1, 0, 0, 0)},
			historyWant{StateFailed, RolePromoted, "promote", "promote", ""}},
		{"failure then stop", []LRMOp{op("start", "start", 3, 1, 0, 0, 0), op("stop", "stop", 4, 0, 0, 0, 0)},
			historyWant{StateStopped, RoleStopped, "stop", "start", ""}},
		{"stop of something not running", []LRMOp{op("stop", "stop", 4, 7, 0, 0, 0)},
			historyWant{StateStopped, RoleStopped, "stop", "", ""}},
		{"cancelled and notify are skipped", []LRMOp{start, op("mon", "monitor", 4, 0, OpCancelled, 10000, 0), op("n", "notify", 5, 1, 0, 0, none)},
			historyWant{StateStarted, RoleStarted, "start", "", ""}},
		{"migrated away", []LRMOp{start, op("mt", "migrate_to", 4, 0, 0, 0, 0)},
			historyWant{StateStarted, RoleStarted, "mt", "", ""}},
		{"migrated in", []LRMOp{op("mf", "migrate_from", 4, 0, 0, 0, 0)},
			historyWant{StateStarted, RoleStarted, "mf", "", ""}},
		{"pending promote", []LRMOp{start, op("p", "promote", -1, 193, OpPending, 0, 0)},
			historyWant{StatePromoted, RolePromoted, "start", "", "p"}},
		{"pending stop changes nothing yet", []LRMOp{start, op("p", "stop", -1, 193, OpPending, 0, 0)},
			historyWant{StateStarted, RoleStarted, "start", "", "p"}},
		{"no transition key", []LRMOp{op("start", "start", 3, 0, 0, 0, none), op("mon", "monitor", 4, 8, 0, 10000, none)},
			historyWant{StatePromoted, RolePromoted, "mon", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &CIB{Status: &Status{NodeStates: []NodeState{{ID: "1", Uname: "n1",
				LRM: &LRM{Resources: []LRMResource{{ID: "r", Ops: tt.ops}}}}}}}
			checkHistory(t, c.History("n1", "r"), tt.want)
		})
	}
}

func TestFailCount(t *testing.T) {
	c := mustParse(t, "failed-history.xml", readTestdata(t, "failed-history.xml"))
	tests := []struct {
		node, rsc string
		count     Score
		last      int64
	}{
		{"vm-node1", "vip", Infinity, 1772533000},
		{"vm-node1", "httpd", 1, 1772533100},
		{"vm-node1", "db", Infinity, 1772533200},
		{"vm-node1", "app", 0, 0},
		{"vm-node2", "stateful", 3, 1772533300}, // fail-count-stateful:1#promote_0 + the old-style fail-count-stateful; not statefulness
		{"vm-node3", "vip", 0, 0},
	}
	for _, tt := range tests {
		count, last, err := c.FailCount(tt.node, tt.rsc)
		if err != nil || count != tt.count || last != tt.last {
			t.Errorf("FailCount(%s, %s) = %v, %d, %v; want %v, %d", tt.node, tt.rsc, count, last, err, tt.count, tt.last)
		}
	}
	c.NodeState("vm-node1").Transient.Sets[0].Pairs[0].Value = "lots"
	if _, _, err := c.FailCount("vm-node1", "vip"); err == nil ||
		err.Error() != `node "vm-node1": transient attribute fail-count-vip#start_0: "lots" is not an integer or [+-]INFINITY` {
		t.Errorf("bad fail count error: %v", err)
	}
}

func TestNodeStateMembership(t *testing.T) {
	tests := []struct {
		ns                  NodeState
		member, ctl, online bool
	}{
		{NodeState{InCCM: "true", Crmd: "online", Join: "member"}, true, true, true},
		{NodeState{InCCM: "1772530000", Crmd: "1772530001", Join: "member"}, true, true, true},
		{NodeState{InCCM: "true", Crmd: "offline", Join: "member"}, true, false, false},
		{NodeState{InCCM: "0", Crmd: "0", Join: "down"}, false, false, false},
		{NodeState{InCCM: "false", Crmd: "online", Join: "member"}, false, true, false},
		{NodeState{InCCM: "true", Crmd: "online", Join: "pending"}, true, true, false},
	}
	for _, tt := range tests {
		if m, c, o := tt.ns.InMembership(), tt.ns.ControllerOnline(), tt.ns.Online(); m != tt.member || c != tt.ctl || o != tt.online {
			t.Errorf("%+v: member %v controller %v online %v", tt.ns, m, c, o)
		}
	}
}

// Histories must agree with History for every resource on every node.
func TestHistoriesMatchesHistory(t *testing.T) {
	for _, name := range []string{"testdata/failed-history.xml", "testdata/drbd.xml", "testdata/reference.xml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse(name, data)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status == nil {
			continue
		}
		for _, ns := range c.Status.NodeStates {
			all := c.Histories(ns.Uname)
			if ns.LRM == nil {
				continue
			}
			for _, r := range ns.LRM.Resources {
				if got, want := all[r.ID], c.History(ns.Uname, r.ID); !reflect.DeepEqual(got, want) {
					t.Errorf("%s %s %s: Histories %+v, History %+v", name, ns.Uname, r.ID, got, want)
				}
			}
		}
	}
}
