package controller

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hakit/hakit/crm/cib"
	"github.com/hakit/hakit/crm/crmsh"
	"github.com/hakit/hakit/crm/sched"
	"github.com/hakit/hakit/node/env"
)

// cluster drives a few controllers the way hanode does, with an ordered
// bus for the process group (every member gets every message, in one
// order) and an executor that acts on a ground truth: which node runs
// which resource. What the controllers believe is checked against it.
type cluster struct {
	t       testing.TB
	names   map[env.NodeID]string
	ctl     map[env.NodeID]*Controller
	up      []env.NodeID
	ring    uint64
	quorum  func(up int) bool
	bus     []delivery
	execs   []pendingExec
	now     env.Mono
	running map[string]map[string]bool // primitive → nodes it runs on (the truth)
	// failures injected: "start web n1" makes that operation fail; a
	// monitor fails when the resource stopped running behind the
	// cluster's back (crash).
	fail    map[string]bool
	fenced  []string
	persist map[env.NodeID][]byte
	// part numbers each node's partition: only nodes with the same number
	// see each other (all 0: no partition).
	part map[env.NodeID]int
}

type delivery struct {
	from    env.NodeID
	payload []byte
}

type pendingExec struct {
	node env.NodeID
	req  ExecRequest
}

func newCluster(t testing.TB, n int, conf string) *cluster {
	t.Helper()
	base, err := crmsh.ApplyText(crmsh.Empty(), conf)
	if err != nil {
		t.Fatalf("configuration: %v", err)
	}
	cl := &cluster{t: t, names: map[env.NodeID]string{}, ctl: map[env.NodeID]*Controller{},
		running: map[string]map[string]bool{}, fail: map[string]bool{}, persist: map[env.NodeID][]byte{},
		quorum: func(int) bool { return true }}
	for i := 1; i <= n; i++ {
		cl.names[env.NodeID(i)] = fmt.Sprintf("vm-node%d", i)
	}
	for i := 1; i <= n; i++ {
		id := env.NodeID(i)
		c, err := New(Config{Self: id, Names: cl.names, CIB: base, Now: cl.wall})
		if err != nil {
			t.Fatal(err)
		}
		cl.ctl[id] = c
		cl.up = append(cl.up, id)
	}
	cl.membership()
	return cl
}

// wall is the cluster's wall clock: a fixed epoch plus the virtual time.
func (cl *cluster) wall() time.Time { return time.Unix(1_700_000_000, 0).Add(time.Duration(cl.now)) }

// membership tells every running controller the current membership: the
// running nodes of its partition.
func (cl *cluster) membership() {
	cl.ring++
	for _, id := range cl.up {
		peers := cl.peers(id)
		cl.ctl[id].Membership(cl.now, cl.ring, peers, cl.quorum(len(peers)))
	}
}

func (cl *cluster) peers(id env.NodeID) []env.NodeID {
	var out []env.NodeID
	for _, o := range cl.up {
		if cl.part[o] == cl.part[id] {
			out = append(out, o)
		}
	}
	return out
}

// partition splits the running nodes into the given sides.
func (cl *cluster) partition(sides ...[]env.NodeID) {
	cl.part = map[env.NodeID]int{}
	for i, side := range sides {
		for _, id := range side {
			cl.part[id] = i
		}
	}
	cl.membership()
}

// crash kills a node: its controller is gone, its messages not yet
// delivered are lost, and what it ran keeps running only if fencing does
// not come (the truth keeps it until then: a crashed host in this model
// is a hung one, the worst case).
func (cl *cluster) crash(id env.NodeID) {
	cl.up = slices.DeleteFunc(cl.up, func(x env.NodeID) bool { return x == id })
	cl.bus = slices.DeleteFunc(cl.bus, func(d delivery) bool { return d.from == id })
	cl.execs = slices.DeleteFunc(cl.execs, func(p pendingExec) bool { return p.node == id })
	cl.membership()
}

// powerOff is what a fence device does: the node and everything on it
// stop.
func (cl *cluster) powerOff(name string) {
	for _, nodes := range cl.running {
		delete(nodes, name)
	}
	for id, n := range cl.names {
		if n == name && slices.Contains(cl.up, id) {
			cl.crash(id)
		}
	}
	cl.fenced = append(cl.fenced, name)
}

// settle runs the cluster until nothing is left to deliver or execute,
// advancing the clock to recurring monitors only when asked.
func (cl *cluster) settle() {
	cl.t.Helper()
	for step := 0; cl.settleOne(); step++ {
		if step > 1000000 {
			cl.t.Fatal("the cluster does not settle")
		}
	}
}

// tick advances the clock by d, running what falls due.
func (cl *cluster) tick(d time.Duration) {
	end := cl.now.Add(d)
	for {
		next := end
		for _, id := range cl.up {
			if dl, ok := cl.ctl[id].NextDeadline(); ok && dl < next {
				next = dl
			}
		}
		cl.now = max(cl.now, next)
		for _, id := range cl.up {
			cl.ctl[id].Tick(cl.now)
		}
		cl.settle()
		if cl.now >= end {
			return
		}
	}
}

// execute is the test's executor and agents: the ground truth changes.
func (cl *cluster) execute(id env.NodeID, r ExecRequest) ExecResult {
	node := cl.names[id]
	res := ExecResult{Call: r.Call}
	if r.Class == "stonith" {
		if r.Action == "off" || r.Action == "reboot" {
			cl.powerOff(r.Params["port"])
		}
		return res
	}
	if cl.fail[r.Action+" "+r.Primitive+" "+node] {
		res.RC = cib.RCErrGeneric
		return res
	}
	on := cl.running[r.Primitive]
	if on == nil {
		on = map[string]bool{}
		cl.running[r.Primitive] = on
	}
	switch r.Action {
	case "start":
		on[node] = true
	case "stop":
		delete(on, node)
	case "monitor":
		if !on[node] {
			res.RC = cib.RCNotRunning
		}
	}
	if r.Type == "ping" && on[node] && !cl.fail["gateway "+node] {
		res.Attributes = map[string]string{"pingd": "1000"}
	} else if r.Type == "ping" && on[node] {
		res.Attributes = map[string]string{"pingd": "0"}
	}
	return res
}

// where is the truth: the nodes running each primitive.
func (cl *cluster) where(prim string) string {
	var out []string
	for n := range cl.running[prim] {
		out = append(out, n)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// agree checks that every running controller holds the same CIB and the
// same DC, and that the DC's CIB says what the truth is.
func (cl *cluster) agree() {
	cl.t.Helper()
	var first []byte
	for _, id := range cl.up {
		b, err := cl.ctl[id].CIB().Marshal()
		if err != nil {
			cl.t.Fatal(err)
		}
		if first == nil {
			first = b
		} else if string(b) != string(first) {
			cl.t.Fatalf("node %d's CIB differs from node %d's", id, cl.up[0])
		}
		if dc := cl.ctl[id].DC(); dc != cl.up[0] {
			cl.t.Fatalf("node %d sees DC %d, want %d", id, dc, cl.up[0])
		}
		if !cl.ctl[id].Idle() {
			cl.t.Fatalf("node %d is not idle after settling", id)
		}
	}
	res, err := sched.Schedule(sched.Input{CIB: cl.ctl[cl.up[0]].CIB(), Now: cl.wall().Unix()})
	if err != nil {
		cl.t.Fatal(err)
	}
	for _, a := range res.Actions {
		cl.t.Errorf("settled, yet the scheduler still wants %s %s on %s", a.Task, a.Resource, a.Node)
	}
}

const reference = `property stonith-enabled=false
property no-quorum-policy=ignore
primitive vip ocf:heartbeat:IPaddr2 params ip=192.168.122.100 cidr_netmask=24 nic=bond1 op monitor interval=10s
primitive httpd ocf:heartbeat:apache params configfile=/etc/apache2/apache2.conf op monitor interval=10s
colocation httpd-with-vip inf: httpd vip
order httpd-after-vip mandatory: vip httpd
location preferred-node vip 100: vm-node1
primitive ping-gateway ocf:pacemaker:ping params host_list=192.168.122.1 multiplier=1000 op monitor interval=10s
clone cloned-ping-gateway ping-gateway
location vip-needs-gateway vip rule -inf: not_defined pingd or pingd lte 0
rsc_defaults resource-stickiness=100
`

func TestReferenceStartsWhereItShould(t *testing.T) {
	cl := newCluster(t, 2, reference)
	cl.settle()
	cl.agree()
	if got := cl.where("vip") + " " + cl.where("httpd") + " " + cl.where("ping-gateway"); got != "vm-node1 vm-node1 vm-node1,vm-node2" {
		t.Fatalf("vip, httpd, ping run on %q", got)
	}
	if cl.persist[1] == nil {
		t.Errorf("the configuration (nodes added) was not persisted")
	}
}

func TestNodeCrashFailsOver(t *testing.T) {
	cl := newCluster(t, 2, reference)
	cl.settle()
	cl.crash(1)
	// Without fencing the crashed node's resources are thought gone with
	// it (that is the reference configuration's risk); they start on the
	// survivor.
	cl.settle()
	cl.agree()
	if got := cl.where("vip"); !strings.Contains(got, "vm-node2") {
		t.Fatalf("vip runs on %q after node 1 crashed", got)
	}
	if dc := cl.ctl[2].DC(); dc != 2 {
		t.Fatalf("DC %d after node 1 crashed, want 2", dc)
	}
	fo := cl.ctl[2].Failovers()
	if len(fo) != 1 || fo[0].Node != "vm-node1" || strings.Join(fo[0].Resources, ",") != "httpd,vip" || fo[0].Fencing != -1 {
		t.Fatalf("failovers %+v, want vm-node1's httpd and vip, without fencing", fo)
	}
}

func TestFencingComesBeforeRecovery(t *testing.T) {
	conf := strings.Replace(reference, "property stonith-enabled=false", "property stonith-enabled=true\nprimitive fence-sim stonith:fence_sim", 1)
	cl := newCluster(t, 3, conf)
	cl.settle()
	cl.agree()
	if cl.where("vip") != "vm-node1" {
		t.Fatalf("vip runs on %q", cl.where("vip"))
	}
	// Node 1 hangs: gone from the membership but still running vip until
	// fenced. vip must not start elsewhere before that.
	cl.crash(1)
	for i := 0; i < 10000 && (len(cl.bus) > 0 || len(cl.execs) > 0); i++ {
		cl.settleOne()
		if len(cl.fenced) == 0 && strings.Count(cl.where("vip"), "vm-node") > 1 {
			t.Fatalf("vip started on %q before node 1 was fenced", cl.where("vip"))
		}
	}
	cl.settle()
	cl.agree()
	if !slices.Equal(cl.fenced, []string{"vm-node1"}) {
		t.Fatalf("fenced %v, want [vm-node1]", cl.fenced)
	}
	if got := cl.where("vip"); got != "vm-node2" && got != "vm-node3" {
		t.Fatalf("vip runs on %q after fencing", got)
	}
	if fo := cl.ctl[2].Failovers(); len(fo) != 1 || fo[0].Fencing < 0 {
		t.Fatalf("failovers %+v, want one with fencing", fo)
	}
}

// settleOne collects what the controllers want done and delivers one
// message or completes one operation; it reports whether there was any.
func (cl *cluster) settleOne() bool {
	cl.t.Helper()
	for _, id := range cl.up {
		c := cl.ctl[id]
		rd := c.Ready()
		c.Advance()
		if rd.Persist != nil {
			cl.persist[id] = rd.Persist
		}
		for _, m := range rd.Messages {
			cl.bus = append(cl.bus, delivery{id, m})
		}
		for _, r := range rd.Exec {
			cl.execs = append(cl.execs, pendingExec{id, r})
		}
	}
	switch {
	case len(cl.bus) > 0:
		d := cl.bus[0]
		cl.bus = cl.bus[1:]
		for _, id := range cl.peers(d.from) {
			if err := cl.ctl[id].Deliver(cl.now, d.from, d.payload); err != nil {
				cl.t.Fatalf("node %d: delivery from %d: %v", id, d.from, err)
			}
		}
	case len(cl.execs) > 0:
		p := cl.execs[0]
		cl.execs = cl.execs[1:]
		cl.ctl[p.node].ExecDone(cl.now, cl.execute(p.node, p.req))
	default:
		return false
	}
	return true
}

func TestMonitorFailureRestartsThenMoves(t *testing.T) {
	conf := strings.Replace(reference, "rsc_defaults resource-stickiness=100", "rsc_defaults resource-stickiness=100 migration-threshold=2", 1)
	cl := newCluster(t, 2, conf)
	cl.settle()
	// httpd dies behind the cluster's back; the recurring monitor sees it.
	delete(cl.running["httpd"], "vm-node1")
	cl.tick(11 * time.Second)
	cl.agree()
	if got := cl.where("httpd"); got != "vm-node1" {
		t.Fatalf("after one failure httpd runs on %q, want restarted on vm-node1", got)
	}
	fc, _, err := cl.ctl[1].CIB().FailCount("vm-node1", "httpd")
	if err != nil || fc != 1 {
		t.Fatalf("fail count %v (%v), want 1", fc, err)
	}
	delete(cl.running["httpd"], "vm-node1")
	cl.tick(11 * time.Second)
	cl.agree()
	// migration-threshold=2 reached: httpd may not run on node 1, and it
	// takes vip with it (colocation).
	if got := cl.where("httpd") + " " + cl.where("vip"); got != "vm-node2 vm-node2" {
		t.Fatalf("after two failures httpd and vip run on %q, want vm-node2", got)
	}
}

func TestGatewayLossMovesVip(t *testing.T) {
	cl := newCluster(t, 2, reference)
	cl.settle()
	cl.fail["gateway vm-node1"] = true
	cl.tick(11 * time.Second)
	cl.agree()
	if got := cl.where("vip") + " " + cl.where("httpd"); got != "vm-node2 vm-node2" {
		t.Fatalf("after node 1 lost its gateway vip and httpd run on %q", got)
	}
}

func TestPartitionMergeNewestConfigurationWins(t *testing.T) {
	cl := newCluster(t, 2, reference)
	cl.settle()
	cl.crash(2)
	cl.settle()
	// A change on node 1 alone.
	next, err := crmsh.ApplyText(cl.ctl[1].CIB().Clone(), "location ban-vip vip -inf: vm-node1")
	if err != nil {
		t.Fatal(err)
	}
	req, err := cl.ctl[1].ProposeConfig(next)
	if err != nil {
		t.Fatal(err)
	}
	var outcome *ConfigOutcome
	for i := 0; i < 100 && outcome == nil; i++ {
		rd := cl.ctl[1].Ready()
		for _, o := range rd.ConfigDone {
			if o.Request == req {
				outcome = &o
			}
		}
		cl.settleOne()
	}
	cl.settle()
	if outcome == nil || outcome.Err != nil {
		t.Fatalf("configuration change: %+v", outcome)
	}
	epoch := cl.ctl[1].CIB().Epoch
	// Node 2 comes back with its older copy: node 1's wins.
	c, err := New(Config{Self: 2, Names: cl.names, CIB: cl.ctl[2].CIB()})
	if err != nil {
		t.Fatal(err)
	}
	cl.ctl[2] = c
	cl.up = []env.NodeID{1, 2}
	cl.membership()
	cl.settle()
	cl.agree()
	if got := cl.ctl[2].CIB().Epoch; got != epoch {
		t.Fatalf("node 2's epoch %d after the merge, want node 1's %d", got, epoch)
	}
	if got := cl.where("vip"); got != "vm-node2" {
		t.Fatalf("vip runs on %q, want vm-node2 (banned from node 1)", got)
	}
}

func TestRejectedConfigurationChangesNothing(t *testing.T) {
	cl := newCluster(t, 2, reference)
	cl.settle()
	before, _ := cl.ctl[1].CIB().Marshal()
	bad := cl.ctl[1].CIB().Clone()
	bad.Config.Constraints = append(bad.Config.Constraints, &cib.Colocation{ID: "c", Score: "INFINITY", Rsc: "vip", WithRsc: "nosuch"})
	if _, err := cl.ctl[1].ProposeConfig(bad); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("a colocation with an unknown resource was accepted (%v)", err)
	}
	cl.settle()
	after, _ := cl.ctl[1].CIB().Marshal()
	if string(before) != string(after) {
		t.Fatal("a rejected change altered the CIB")
	}
}

func TestMalformedDeliveriesAreDropped(t *testing.T) {
	cl := newCluster(t, 1, reference)
	cl.settle()
	c := cl.ctl[1]
	for _, p := range []string{"", "{", `{"k":"exec","from":1}`, `{"k":"nope","from":1}`, `{"k":"attr","from":2,"node":1,"name":"x"}`} {
		if err := c.Deliver(cl.now, 1, []byte(p)); err == nil {
			t.Errorf("%q was accepted", p)
		}
	}
	if got := c.Stats().Malformed; got != 5 {
		t.Errorf("Malformed = %d, want 5", got)
	}
	cl.agree()
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte(`{"k":"result","from":1,"node":1,"task":"start","rsc":"vip","prim":"vip","rc":1}`))
	f.Add([]byte(`{"k":"join","from":2,"ring":3,"cib":"<cib/>"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := decodeMessage(b); err == nil {
			if _, err := decodeMessage(m.encode()); err != nil {
				t.Fatalf("re-encoded message does not decode: %v", err)
			}
		}
	})
}

func TestQuorumLossStopsResources(t *testing.T) {
	conf := strings.Replace(reference, "property no-quorum-policy=ignore", "property no-quorum-policy=stop", 1)
	cl := newCluster(t, 3, conf)
	cl.quorum = func(up int) bool { return up >= 2 }
	cl.membership()
	cl.settle()
	cl.agree()
	if got := cl.where("vip"); got != "vm-node1" {
		t.Fatalf("vip runs on %q", got)
	}
	// Node 1 is cut off from both others: alone, without quorum, it stops
	// what it runs; the other two, quorate, start it.
	cl.partition([]env.NodeID{1}, []env.NodeID{2, 3})
	cl.settle()
	if got := cl.where("vip"); got != "vm-node2" && got != "vm-node3" {
		t.Fatalf("vip runs on %q after node 1 lost quorum", got)
	}
	// Quorum returns to node 1's side without a membership change (a
	// vote reconfigured): the DC's announcement restarts what it may run.
	cl.ctl[1].QuorumChanged(true)
	cl.settle()
	if got := cl.ctl[1].CIB(); rootAttr(got, "have-quorum") != "1" {
		t.Fatalf("have-quorum %q after the DC regained quorum", rootAttr(got, "have-quorum"))
	}
}

// A node that starts alone waits dc-deadtime for its peers before it
// starts anything: two nodes booting apart must not both run the vip.
func TestStartupWaitsForThePeers(t *testing.T) {
	cl := newCluster(t, 2, reference)
	// Start over with node 1 alone: node 2 never comes up.
	fresh, err := New(Config{Self: 1, Names: cl.names, CIB: cl.ctl[1].CIB()})
	if err != nil {
		t.Fatal(err)
	}
	cl.ctl[1], cl.up, cl.bus = fresh, []env.NodeID{1}, nil
	cl.membership()
	cl.settle()
	if got := cl.where("vip"); got != "" {
		t.Fatalf("vip started on %q before the startup wait ended", got)
	}
	cl.tick(19 * time.Second)
	if got := cl.where("vip"); got != "" {
		t.Fatalf("vip started on %q after 19 s of the 20 s wait", got)
	}
	cl.tick(2 * time.Second)
	if got := cl.where("vip"); got != "vm-node1" {
		t.Fatalf("vip runs on %q after the startup wait, want vm-node1", got)
	}
}

// In a two-node split with fencing, the node running the service shoots
// at once and the other waits PriorityFencingDelay: the race is decided
// for the service.
func TestFenceRaceFavoursTheActiveNode(t *testing.T) {
	conf := strings.Replace(reference, "property stonith-enabled=false", "property stonith-enabled=true\nprimitive fence-sim stonith:fence_sim", 1)
	cl := newCluster(t, 2, conf)
	cl.settle()
	cl.agree()
	active := cl.where("vip")
	cl.partition([]env.NodeID{1}, []env.NodeID{2})
	cl.settle()
	// Each side now holds a fencing of the other; the passive side's is
	// delayed. Run to just before the delay ends: only the active side
	// has shot.
	cl.tick(PriorityFencingDelay - time.Second)
	if len(cl.fenced) != 1 || cl.fenced[0] == active {
		t.Fatalf("fenced %v with the service on %s", cl.fenced, active)
	}
}

func TestCleanupForgetsFailures(t *testing.T) {
	conf := strings.Replace(reference, "rsc_defaults resource-stickiness=100", "rsc_defaults resource-stickiness=100 migration-threshold=1", 1)
	cl := newCluster(t, 2, conf)
	cl.settle()
	delete(cl.running["httpd"], "vm-node1")
	cl.tick(11 * time.Second)
	cl.agree()
	if got := cl.where("httpd"); got != "vm-node2" {
		t.Fatalf("after one failure with migration-threshold=1 httpd runs on %q", got)
	}
	if err := cl.ctl[2].Cleanup("httpd", ""); err != nil {
		t.Fatal(err)
	}
	cl.settle()
	cl.agree()
	if fc, _, err := cl.ctl[1].CIB().FailCount("vm-node1", "httpd"); err != nil || fc != 0 {
		t.Fatalf("fail count %v (%v) after cleanup, want 0", fc, err)
	}
	if err := cl.ctl[1].Cleanup("nosuch", ""); err == nil {
		t.Fatal("cleanup of an unknown resource was accepted")
	}
}

// A failure older than failure-timeout stops counting: the DC plans again
// when it expires, and the resource may return to its preferred node.
func TestFailureTimeoutLetsItBack(t *testing.T) {
	conf := strings.Replace(reference, "rsc_defaults resource-stickiness=100", "rsc_defaults resource-stickiness=0 migration-threshold=1 failure-timeout=60s", 1)
	cl := newCluster(t, 2, conf)
	cl.settle()
	delete(cl.running["httpd"], "vm-node1")
	cl.tick(11 * time.Second)
	cl.agree()
	if got := cl.where("httpd") + " " + cl.where("vip"); got != "vm-node2 vm-node2" {
		t.Fatalf("after the failure httpd and vip run on %q, want vm-node2", got)
	}
	cl.tick(40 * time.Second)
	if got := cl.where("vip"); got != "vm-node2" {
		t.Fatalf("vip back on %q before the failure expired", got)
	}
	cl.tick(30 * time.Second)
	cl.agree()
	if got := cl.where("httpd") + " " + cl.where("vip"); got != "vm-node1 vm-node1" {
		t.Fatalf("after failure-timeout httpd and vip run on %q, want back on vm-node1", got)
	}
}

// FuzzDeliver: whatever a member multicasts, a settled controller drops it
// or applies it; it never panics (a peer's bytes are input like any other).
func FuzzDeliver(f *testing.F) {
	f.Add([]byte(`{"k":"result","from":1,"node":1,"task":"start","rsc":"vip","prim":"vip","rc":1,"tr":1,"act":1}`))
	f.Add([]byte(`{"k":"exec","from":1,"node":1,"task":"fence","rsc":"vm-node9","tr":9,"act":1}`))
	f.Add([]byte(`{"k":"attr","from":1,"node":1,"name":"pingd","value":"-INFINITY"}`))
	f.Add([]byte(`{"k":"config","from":1,"cib":"<cib><configuration><resources><primitive id='x' class='ocf' type='Dummy'/></resources></configuration></cib>","req":1}`))
	f.Add([]byte(`{"k":"cleanup","from":1,"rsc":"httpd","node":7}`))
	f.Add([]byte(`{"k":"fenced","from":1,"node":2,"name":"vm-node2"}`))
	f.Add([]byte(`{"k":"join","from":1,"ring":1,"cib":"<cib"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cl := newCluster(t, 2, reference)
		cl.settle()
		_ = cl.ctl[1].Deliver(cl.now, 1, b)
		_ = cl.ctl[2].Deliver(cl.now, 1, b)
		cl.settle()
	})
}

// A start still running on a node that is lost may have taken effect:
// with fencing, the new plan starts the resource elsewhere only after the
// node is fenced (the start is recorded as pending there).
func TestLostStartWaitsForFencing(t *testing.T) {
	conf := strings.Replace(reference, "property stonith-enabled=false", "property stonith-enabled=true\nprimitive fence-sim stonith:fence_sim", 1)
	cl := newCluster(t, 3, conf)
	// Run until vip's start is handed to node 1, not executed.
	for i := 0; i < 100000; i++ {
		if slices.ContainsFunc(cl.execs, func(p pendingExec) bool { return p.node == 1 && p.req.Primitive == "vip" && p.req.Action == "start" }) {
			break
		}
		if len(cl.bus) == 0 && len(cl.execs) == 0 && i > 0 {
			for _, id := range cl.up {
				if len(cl.ctl[id].Ready().Messages) > 0 || len(cl.ctl[id].Ready().Exec) > 0 {
					goto step
				}
			}
			t.Fatal("vip's start never reached node 1")
		}
	step:
		// Deliver everything, execute everything but node 1's vip start.
		for _, id := range cl.up {
			c := cl.ctl[id]
			rd := c.Ready()
			c.Advance()
			for _, m := range rd.Messages {
				cl.bus = append(cl.bus, delivery{id, m})
			}
			for _, r := range rd.Exec {
				cl.execs = append(cl.execs, pendingExec{id, r})
			}
		}
		if len(cl.bus) > 0 {
			d := cl.bus[0]
			cl.bus = cl.bus[1:]
			for _, id := range cl.peers(d.from) {
				_ = cl.ctl[id].Deliver(cl.now, d.from, d.payload)
			}
			continue
		}
		if k := slices.IndexFunc(cl.execs, func(p pendingExec) bool {
			return !(p.node == 1 && p.req.Primitive == "vip" && p.req.Action == "start")
		}); k >= 0 {
			p := cl.execs[k]
			cl.execs = slices.Delete(cl.execs, k, k+1)
			cl.ctl[p.node].ExecDone(cl.now, cl.execute(p.node, p.req))
		}
	}
	cl.crash(1)
	for i := 0; i < 100000 && cl.ctl[2].transition == nil; i++ {
		cl.settleOne()
	}
	tr := cl.ctl[2].transition
	if tr == nil {
		t.Fatal("no transition after node 1 was lost")
	}
	fence := -1
	for _, a := range tr.actions {
		if a.Task == sched.TaskFence {
			fence = a.ID
		}
	}
	for _, a := range tr.actions {
		if a.Primitive == "vip" && a.Task == sched.TaskStart && !slices.Contains(a.After, fence) {
			t.Fatalf("vip starts on %s without waiting for node 1's fencing (fence action %d, after %v)", a.Node, fence, a.After)
		}
	}
}
