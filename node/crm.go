package node

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"slices"
	"strconv"
	"time"

	"github.com/hakit/hakit/agents"
	"github.com/hakit/hakit/crm/cib"
	"github.com/hakit/hakit/crm/controller"
	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/transport/config"
	"github.com/hakit/hakit/transport/cpg"
	"github.com/hakit/hakit/transport/quorum"
)

// CIBFile is where a node keeps its CIB (configuration only: the status
// section is rebuilt from the members when they join).
const CIBFile = "cib.xml"

// crmGroup is the process group the resource managers talk in, as
// Pacemaker's controllers use the "crmd" CPG group.
const crmGroup = "crmd"

// CRMConfig is what the resource manager needs besides its Member.
type CRMConfig struct {
	// Names maps node ids to the names the CIB uses (NodeNames).
	Names map[env.NodeID]string
	// Executor runs the agents: agents/ocf in production, the world's
	// simulated agents in hasim.
	Executor agents.Executor
	// DefaultTimeout bounds operations without a timeout of their own
	// (0: Pacemaker's 20s).
	DefaultTimeout time.Duration
}

// NodeNames names the nodes as Pacemaker does: the nodelist's name, else
// its ring0 address, else "node<id>".
func NodeNames(c *config.Config) map[env.NodeID]string {
	out := map[env.NodeID]string{}
	for _, n := range c.Nodes {
		name := n.Name
		if name == "" {
			name = n.Addrs[0]
		}
		if name == "" {
			name = "node" + strconv.FormatUint(uint64(n.ID), 10)
		}
		out[env.NodeID(n.ID)] = name
	}
	return out
}

// CRM is one node's resource manager: it drives crm/controller on the
// node's loop, feeding it the "crmd" process group's membership changes
// and messages, the quorum state and the executor's results, and carrying
// out what it returns (persist the CIB, multicast, run operations).
type CRM struct {
	e    env.Env
	m    *Member
	cfg  CRMConfig
	ctl  *controller.Controller
	pid  uint32
	exec agents.Executor

	timer      env.Timer
	timerAt    env.Mono
	processing bool
	stopped    bool

	// waiting are the callbacks of this node's configuration changes, by
	// request number.
	waiting map[uint64]func(error)
	// settleWaiters are called once the partition is idle.
	settleWaiters []func()
	stats         CRMStats
}

// CRMStats counts what the driver could not carry out.
type CRMStats struct {
	Malformed   uint64 // group messages the controller refused
	SendErrors  uint64 // multicasts the group refused
	PersistErrs uint64
}

// StartCRM starts the resource manager on m: it loads the CIB from the
// Disk (a CIB that does not parse stops the start, naming the file and
// line), joins the "crmd" group, and follows quorum.
func StartCRM(e env.Env, m *Member, cfg CRMConfig) (*CRM, error) {
	if cfg.Executor == nil {
		return nil, errors.New("crm: no executor")
	}
	var base *cib.CIB
	switch b, err := e.Disk.ReadFile(CIBFile); {
	case err == nil:
		if base, err = cib.Parse(CIBFile, b); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, fmt.Errorf("reading %s: %w", CIBFile, err)
	}
	ctl, err := controller.New(controller.Config{Self: e.Node, Names: cfg.Names, CIB: base,
		DefaultTimeout: cfg.DefaultTimeout, Log: e.Log, Now: e.Clock.Now})
	if err != nil {
		return nil, err
	}
	c := &CRM{e: e, m: m, cfg: cfg, ctl: ctl, exec: cfg.Executor, waiting: map[uint64]func(error){}}
	c.pid = m.CPGOpen(c.onGroupEvent)
	if err := m.CPGJoin(c.pid, crmGroup); err != nil {
		m.CPGClose(c.pid)
		return nil, fmt.Errorf("joining the %s group: %w", crmGroup, err)
	}
	m.WatchQuorum(func(s quorum.Status) {
		if c.stopped {
			return
		}
		c.ctl.QuorumChanged(s.Quorate)
		c.process()
	})
	return c, nil
}

// Name is this node's name in the CIB.
func (c *CRM) Name() string { return c.cfg.Names[c.e.Node] }

// NameOf names node id as the CIB does.
func (c *CRM) NameOf(id env.NodeID) string {
	if n, ok := c.cfg.Names[id]; ok {
		return n
	}
	return strconv.FormatUint(uint64(id), 10)
}

// Cleanup forgets a resource's failures on node ("" for all), as
// crm_resource --cleanup.
func (c *CRM) Cleanup(resource, node string) error {
	if err := c.ctl.Cleanup(resource, node); err != nil {
		return err
	}
	c.process()
	return nil
}

// Controller returns the resource manager's state machine, for status.
func (c *CRM) Controller() *controller.Controller { return c.ctl }

// Stats returns the driver's counters.
func (c *CRM) Stats() CRMStats { return c.stats }

func (c *CRM) onGroupEvent(ev cpg.Event) {
	if c.stopped || ev.Group != crmGroup && ev.Kind != cpg.EventTotem {
		return
	}
	now := c.e.Clock.Mono()
	switch ev.Kind {
	case cpg.EventConfChg:
		var nodes []env.NodeID
		for _, mb := range ev.Members {
			nodes = append(nodes, mb.Node)
		}
		nodes = slices.Compact(nodes)
		c.ctl.FailureStarted(c.m.FailureDetectedSince())
		c.ctl.Membership(now, roundID(ev.Ring, nodes), nodes, c.m.Quorum().Quorate)
	case cpg.EventDeliver:
		if err := c.ctl.Deliver(now, ev.Sender.Node, ev.Payload); err != nil {
			c.stats.Malformed++
			c.e.Log.Warn("crm: dropped a group message", "from", ev.Sender.Node, "err", err)
		}
	}
	c.process()
}

// roundID numbers one membership of the group the same way on every
// member: the totem ring it happened in and who is in it. Two changes in
// one ring with the same members (a process leaving and joining again)
// would share it; a node's resource manager only leaves with its node.
func roundID(r cpg.RingID, nodes []env.NodeID) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d:%v", r.Rep, r.Seq, nodes)
	return h.Sum64()
}

// process carries out what the controller returned until it returns
// nothing, then arms the timer for its next deadline.
func (c *CRM) process() {
	if c.processing || c.stopped {
		return
	}
	c.processing = true
	defer func() { c.processing = false }()
	for range 1000 {
		rd := c.ctl.Ready()
		if rd.Persist == nil && len(rd.Messages) == 0 && len(rd.Exec) == 0 && len(rd.ConfigDone) == 0 {
			break
		}
		c.ctl.Advance()
		if rd.Persist != nil {
			if err := c.e.Disk.WriteFileAtomic(CIBFile, rd.Persist); err != nil {
				c.stats.PersistErrs++
				c.e.Log.Error("crm: cannot persist the CIB", "file", CIBFile, "err", err)
			}
		}
		for _, msg := range rd.Messages {
			if err := c.m.CPGMcast(c.pid, crmGroup, msg); err != nil {
				c.stats.SendErrors++
				c.e.Log.Warn("crm: cannot multicast to the group", "err", err)
			}
		}
		for _, req := range rd.Exec {
			c.run(req)
		}
		for _, o := range rd.ConfigDone {
			if f, ok := c.waiting[o.Request]; ok {
				delete(c.waiting, o.Request)
				f(o.Err)
			}
		}
	}
	if c.ctl.Idle() && len(c.settleWaiters) > 0 {
		ws := c.settleWaiters
		c.settleWaiters = nil
		for _, f := range ws {
			f()
		}
	}
	c.arm()
}

// run hands one operation to the executor.
func (c *CRM) run(req controller.ExecRequest) {
	op := agents.Op{Call: req.Call, Resource: req.Resource,
		Agent:  agents.Agent{Class: req.Class, Provider: req.Provider, Type: req.Type},
		Action: req.Action, Interval: req.Interval, Timeout: req.Timeout, Params: req.Params, Meta: req.Meta}
	if d, ok := req.Params["depth"]; ok {
		op.CheckLevel, _ = strconv.Atoi(d)
	}
	c.exec.Exec(op, func(r agents.Result) {
		if c.stopped {
			return
		}
		c.ctl.ExecDone(c.e.Clock.Mono(), controller.ExecResult{Call: req.Call, RC: int(r.RC),
			Status: execStatus(r.Status), ExitReason: r.ExitReason, Attributes: r.Attributes, Duration: r.Duration})
		c.process()
	})
}

// execStatus numbers an agent's status as Pacemaker's executor does.
func execStatus(s agents.Status) controller.ExecStatus {
	switch s {
	case agents.StatusDone:
		return controller.ExecDone
	case agents.StatusTimedOut:
		return controller.ExecTimedOut
	case agents.StatusNotInstalled:
		return controller.ExecNotInstalled
	case agents.StatusCancelled:
		return controller.ExecCancelled
	}
	return controller.ExecError
}

func (c *CRM) arm() {
	at, ok := c.ctl.NextDeadline()
	if !ok {
		if c.timer != nil {
			c.timer.Stop()
			c.timer = nil
		}
		return
	}
	if c.timer != nil && c.timerAt == at {
		return
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	c.timerAt = at
	c.timer = c.e.Clock.AfterFunc(at.Sub(c.e.Clock.Mono()), func() {
		c.timer = nil
		if c.stopped {
			return
		}
		c.ctl.Tick(c.e.Clock.Mono())
		c.process()
	})
}

// Configure proposes a new configuration to the partition; done gets nil
// once every member applied it, or why it was refused (nothing changed).
func (c *CRM) Configure(next *cib.CIB, done func(error)) {
	req, err := c.ctl.ProposeConfig(next)
	if err != nil {
		done(err)
		return
	}
	c.waiting[req] = done
	c.process()
}

// SetAttribute sets (or with "" deletes) a transient node attribute.
func (c *CRM) SetAttribute(node, name, value string) error {
	if err := c.ctl.SetAttr(node, name, value); err != nil {
		return err
	}
	c.process()
	return nil
}

// WhenIdle calls f once the partition has nothing left to do.
func (c *CRM) WhenIdle(f func()) {
	if c.ctl.Idle() {
		f()
		return
	}
	c.settleWaiters = append(c.settleWaiters, f)
}

// Stop silences the resource manager: no more operations, messages or
// timers; results of operations still running are ignored.
func (c *CRM) Stop() {
	if c.stopped {
		return
	}
	c.stopped = true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.m.CPGClose(c.pid)
}
