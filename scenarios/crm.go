package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hakit/hakit/crm/cib"
	"github.com/hakit/hakit/crm/crmsh"
	"github.com/hakit/hakit/crm/sched"
	"github.com/hakit/hakit/node"
	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/sim"
)

// ReferenceCRM is the reference setup's configuration (DESIGN.md §1, from
// the seed pages): no fencing, quorum ignored, a vip preferring vm-node1,
// apache with it and after it, a ping clone whose pingd rule keeps the vip
// off a node without its gateway, stickiness 100.
const ReferenceCRM = `property stonith-enabled=false
property no-quorum-policy=ignore
primitive vip ocf:heartbeat:IPaddr2 params ip=192.168.122.100 cidr_netmask=24 nic=bond1 op monitor interval=10s timeout=20s
primitive httpd ocf:heartbeat:apache params configfile=/etc/apache2/apache2.conf statusurl=http://localhost/server-status op monitor interval=10s timeout=20s
colocation httpd-with-vip inf: httpd vip
order httpd-after-vip mandatory: vip httpd
location preferred-node vip 100: vm-node1
primitive ping-gateway ocf:pacemaker:ping params host_list=192.168.122.1 multiplier=1000 op monitor interval=10s timeout=20s
clone cloned-ping-gateway ping-gateway
location vip-needs-gateway vip rule -inf: not_defined pingd or pingd lte 0
rsc_defaults resource-stickiness=100
`

// FencedCRM is the reference configuration made safe: fencing on, with the
// simulated power switch.
var FencedCRM = strings.Replace(ReferenceCRM, "property stonith-enabled=false",
	"property stonith-enabled=true\nprimitive fence-switch stonith:fence_sim", 1)

const referenceVIP = "192.168.122.100"

// CRMCluster runs whole nodes, the messaging layer and the resource
// manager, on bonded simulated hosts with simulated agents, and watches
// the ground truth: where the vip is configured and apache runs.
type CRMCluster struct {
	*RingCluster
	CRMs   []*node.CRM
	Agents *Agents
	// Safe says the configuration promises never two primaries: a dual
	// primary is then a violation, otherwise only reported.
	Safe bool

	r *Run
	// dualSince is when the current dual-primary episode began (-1: none);
	// Dual lists the episodes.
	dualSince time.Duration
	Dual      []DualPrimary
	// versions are the highest CIB version each host's incarnation had.
	versions []cibVersion
	// failCounts are, per observing host, the fail counts its CIB showed
	// last, each with the incarnations it was seen under.
	failCounts []map[string]failCountSeen
}

type failCountSeen struct {
	count                 cib.Score
	observer, victimBoots uint64
}

// DualPrimary is one stretch of time with the vip or apache on two hosts.
type DualPrimary struct {
	From, To time.Duration
	What     string
}

type cibVersion struct {
	incarnation           uint64
	admin, epoch, updates int64
}

// NewCRMCluster starts full nodes on names with crmText as the initial
// configuration on every disk.
func NewCRMCluster(r *Run, names []string, crmText string, safe bool) *CRMCluster {
	base, err := crmsh.ApplyText(crmsh.Empty(), crmText)
	if err != nil {
		panic(fmt.Sprintf("scenario configuration: %v", err))
	}
	data, err := base.Marshal()
	if err != nil {
		panic(err)
	}
	rc := NewRingCluster(r, names, ReferenceConf(names, "", ""))
	c := &CRMCluster{RingCluster: rc, CRMs: make([]*node.CRM, len(names)), Agents: NewAgents(r.W), Safe: safe,
		r: r, dualSince: -1, versions: make([]cibVersion, len(names)), failCounts: make([]map[string]failCountSeen, len(names))}
	for _, h := range rc.Hosts {
		if err := h.Disk().WriteFileAtomic(node.CIBFile, data); err != nil {
			panic(err)
		}
	}
	names2 := node.NodeNames(rc.Conf)
	rc.OnMember = func(i int, e env.Env, m *node.Member) {
		crm, err := node.StartCRM(e, m, node.CRMConfig{Names: names2, Executor: c.Agents.For(rc.Hosts[i], e)})
		if err != nil {
			r.Violationf("%s: resource manager: %v", rc.Hosts[i].Name(), err)
			return
		}
		c.CRMs[i] = crm
	}
	c.Agents.OnBoot = func(h *sim.Host) {
		for i, x := range rc.Hosts {
			if x == h && !c.Procs[i].Alive() {
				c.Procs[i].Restart()
			}
		}
	}
	c.watch()
	return c
}

// watch checks the invariants every 10 ms of world time.
func (c *CRMCluster) watch() {
	c.r.W.After(10*time.Millisecond, "crm-check", func() {
		c.check()
		c.watch()
	})
}

func (c *CRMCluster) check() {
	w := c.r.W
	what := ""
	if hs := w.HostsWithAddress(referenceVIP); len(hs) > 1 {
		what = "vip on " + strings.Join(hs, " and ")
	} else if hs := w.HostsRunning("apache"); len(hs) > 1 {
		what = "apache on " + strings.Join(hs, " and ")
	}
	switch {
	case what != "" && c.dualSince < 0:
		c.dualSince = w.Now()
		c.Dual = append(c.Dual, DualPrimary{From: w.Now(), To: -1, What: what})
		if c.Safe {
			c.r.Violationf("dual primary: %s", what)
		}
	case what == "" && c.dualSince >= 0:
		c.Dual[len(c.Dual)-1].To = w.Now()
		c.dualSince = -1
	}
	for i, crm := range c.CRMs {
		if crm == nil || !c.live(i) {
			continue
		}
		x := crm.Controller().CIB()
		v := &c.versions[i]
		inc := c.Procs[i].Incarnation()
		if v.incarnation != inc {
			// A restarted node starts from its disk: only the
			// configuration's version must not go back.
			if v.incarnation != 0 && (x.AdminEpoch < v.admin || x.AdminEpoch == v.admin && x.Epoch < v.epoch) {
				c.r.Violationf("%s: configuration version went back from %d.%d to %d.%d across a restart", c.Hosts[i].Name(), v.admin, v.epoch, x.AdminEpoch, x.Epoch)
			}
			*v = cibVersion{incarnation: inc, admin: x.AdminEpoch, epoch: x.Epoch, updates: x.NumUpdates}
			continue
		}
		if cmpVersion(x.AdminEpoch, x.Epoch, x.NumUpdates, v.admin, v.epoch, v.updates) < 0 {
			c.r.Violationf("%s: CIB version went back from %d.%d.%d to %d.%d.%d", c.Hosts[i].Name(), v.admin, v.epoch, v.updates, x.AdminEpoch, x.Epoch, x.NumUpdates)
		}
		v.admin, v.epoch, v.updates = x.AdminEpoch, x.Epoch, x.NumUpdates
		c.checkFailCounts(i, x)
	}
}

// checkFailCounts: a fail count never goes down while the node it is
// about runs the same incarnation (only a cleanup, which these scenarios
// do not use, or the node's fencing or restart, which loses its state,
// may reset it).
func (c *CRMCluster) checkFailCounts(i int, x *cib.CIB) {
	if c.failCounts[i] == nil {
		c.failCounts[i] = map[string]failCountSeen{}
	}
	seen := c.failCounts[i]
	obs := c.Procs[i].Incarnation()
	for _, ns := range x.Status.NodeStates {
		if ns.Transient == nil {
			continue
		}
		h := c.r.W.Host(ns.Uname)
		if h == nil {
			continue
		}
		boots := c.Procs[hostIndexOf(c.Hosts, h)].Incarnation()
		for name, value := range ns.Transient.Attrs() {
			if !strings.HasPrefix(name, "fail-count-") {
				continue
			}
			n, err := cib.ParseScore(value)
			if err != nil {
				c.r.Violationf("%s: %s on %s is %q, not a score", c.Hosts[i].Name(), name, ns.Uname, value)
				continue
			}
			key := ns.Uname + "/" + name
			if prev, ok := seen[key]; ok && prev.observer == obs && prev.victimBoots == boots && n < prev.count {
				c.r.Violationf("%s: %s on %s went back from %v to %v", c.Hosts[i].Name(), name, ns.Uname, prev.count, n)
			}
			seen[key] = failCountSeen{count: n, observer: obs, victimBoots: boots}
		}
	}
}

func hostIndexOf(hosts []*sim.Host, h *sim.Host) int {
	for i, x := range hosts {
		if x == h {
			return i
		}
	}
	return -1
}

func cmpVersion(a1, e1, n1, a2, e2, n2 int64) int {
	for _, d := range [][2]int64{{a1, a2}, {e1, e2}, {n1, n2}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// liveCRM reports whether host i runs a resource manager.
func (c *CRMCluster) liveCRM(i int) bool { return c.live(i) && c.CRMs[i] != nil }

// Converged reports whether the live nodes form one partition that is
// idle, agrees on the CIB, and whose resources run (in the ground truth)
// exactly where the scheduler places them for that CIB.
func (c *CRMCluster) Converged() bool {
	var live []int
	for i := range c.Hosts {
		if c.liveCRM(i) {
			live = append(live, i)
		}
	}
	if len(live) == 0 || !c.OneRing(live...) {
		return false
	}
	var dc env.NodeID
	var first *cib.CIB
	for k, i := range live {
		ctl := c.CRMs[i].Controller()
		if !ctl.Settled() || !ctl.Idle() {
			return false
		}
		if k == 0 {
			dc, first = ctl.DC(), ctl.CIB()
		} else if ctl.DC() != dc || !sameVersion(ctl.CIB(), first) {
			return false
		}
	}
	want, ok := c.Placement(first)
	return ok && want == c.Truth()
}

func sameVersion(a, b *cib.CIB) bool {
	return a.AdminEpoch == b.AdminEpoch && a.Epoch == b.Epoch && a.NumUpdates == b.NumUpdates
}

// Placement renders where the scheduler places vip and httpd for x, in
// the form Truth uses; ok is false while it still has actions to run.
func (c *CRMCluster) Placement(x *cib.CIB) (string, bool) {
	res, err := sched.Schedule(sched.Input{CIB: x})
	if err != nil {
		c.r.Violationf("the scheduler refused the agreed CIB: %v", err)
		return "", false
	}
	for _, a := range res.Actions {
		if a.Task != sched.TaskMonitor || a.Interval == 0 {
			return "", false
		}
	}
	p := res.Placement(x)
	return fmt.Sprintf("vip@%s httpd@%s", strings.Join(p.Resources["vip"].Nodes, ","), strings.Join(p.Resources["httpd"].Nodes, ",")), true
}

// Truth renders where the vip is configured and apache runs.
func (c *CRMCluster) Truth() string {
	return fmt.Sprintf("vip@%s httpd@%s", strings.Join(c.r.W.HostsWithAddress(referenceVIP), ","), strings.Join(c.r.W.HostsRunning("apache"), ","))
}

// AwaitConverged runs until Converged or limit; it reports a violation,
// naming what differs, when the limit passes.
func (c *CRMCluster) AwaitConverged(limit time.Duration, after string) (time.Duration, bool) {
	took, ok := c.Await(limit, c.Converged)
	if !ok {
		c.r.Violationf("not converged %v after %s: truth %s; %s", limit, after, c.Truth(), c.describe())
	}
	return took, ok
}

func (c *CRMCluster) describe() string {
	var parts []string
	for i, crm := range c.CRMs {
		if !c.liveCRM(i) {
			parts = append(parts, c.Hosts[i].Name()+" down")
			continue
		}
		ctl := crm.Controller()
		want, _ := c.Placement(ctl.CIB())
		parts = append(parts, fmt.Sprintf("%s: dc=%d settled=%v idle=%v version=%d.%d.%d plan=%q",
			c.Hosts[i].Name(), ctl.DC(), ctl.Settled(), ctl.Idle(), ctl.CIB().AdminEpoch, ctl.CIB().Epoch, ctl.CIB().NumUpdates, want))
	}
	return strings.Join(parts, "; ")
}

// runsVIPAndApache reports whether host runs both the vip and apache.
func (c *CRMCluster) runsVIPAndApache(host string) bool {
	return slices.Contains(c.r.W.HostsWithAddress(referenceVIP), host) && slices.Contains(c.r.W.HostsRunning("apache"), host)
}

// Configure changes the configuration through host i's resource manager
// with crm shell text, and runs until the change is applied or refused.
func (c *CRMCluster) Configure(i int, change func(x *cib.CIB) error) error {
	if !c.liveCRM(i) {
		return fmt.Errorf("%s is down", c.Hosts[i].Name())
	}
	next := c.CRMs[i].Controller().CIB().Clone()
	if err := change(next); err != nil {
		return err
	}
	var outcome error
	done := false
	c.CRMs[i].Configure(next, func(err error) { outcome, done = err, true })
	if _, ok := c.Await(30*time.Second, func() bool { return done }); !ok {
		return fmt.Errorf("configuration change through %s not decided in 30 s", c.Hosts[i].Name())
	}
	return outcome
}

// crmText applies crm shell configure commands to a CIB.
func crmText(text string) func(x *cib.CIB) error {
	return func(x *cib.CIB) error {
		next, err := crmsh.ApplyText(x, text)
		if err != nil {
			return err
		}
		*x = *next
		return nil
	}
}
