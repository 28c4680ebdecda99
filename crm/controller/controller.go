// Package controller is one node's resource manager, the jobs of
// Pacemaker's controller, CIB manager and attribute manager in one pure
// state machine: it agrees on the CIB with the other members of its
// partition, elects the DC, and, on the DC, turns the scheduler's action
// graph into operations for the nodes (the transition engine); on every
// node it runs the operations it is given and reports their results.
//
// It never touches the network, a clock or a process. The node feeds it
// the process group's membership changes and deliveries, its executor's
// results and the time, and carries out what Ready returns: messages to
// multicast to the group, operations to execute, the configuration to
// persist. Every member applies the same ordered deliveries to the same
// state, so every copy of the CIB stays the same.
package controller

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hakit/hakit/crm/cib"
	"github.com/hakit/hakit/crm/sched"
	"github.com/hakit/hakit/node/env"
)

// Config is what a controller is built with.
type Config struct {
	// Self is this node.
	Self env.NodeID
	// Names maps node ids to the names the CIB uses (a node's uname: the
	// nodelist's name, or its ring0 address's host name).
	Names map[env.NodeID]string
	// CIB is the configuration loaded from disk; nil starts empty. Its
	// status section, if any, is ignored: status is rebuilt from the
	// members.
	CIB *cib.CIB
	// DefaultTimeout bounds operations without a timeout of their own
	// (Pacemaker's default: 20s).
	DefaultTimeout time.Duration
	// StartupWait is how long a freshly started node waits for all the
	// nodes in Names before it schedules anything as DC of a smaller
	// partition (Pacemaker's dc-deadtime, 20s, which the CIB property
	// overrides): two nodes booting apart must not both start the
	// service before they see each other.
	StartupWait time.Duration
	// Log receives the controller's decisions; nil discards them.
	Log *slog.Logger
	// Now is the wall clock (the Env's Clock.Now): failure times, and
	// their expiry after failure-timeout. Nil: failures never expire.
	Now func() time.Time
}

// ExecRequest asks the node's executor to run one operation.
type ExecRequest struct {
	// Call is unique per controller; the result carries it back.
	Call      int64
	Resource  string // instance id, "web" or "ping:1"
	Primitive string // configured id
	Class     string
	Provider  string
	Type      string
	// Action is start, stop, monitor, promote, demote; for a fence
	// device, "reboot" or "off" (stonith-action) with the victim in
	// Params["port"].
	Action   string
	Interval time.Duration
	Timeout  time.Duration
	Params   map[string]string
	Meta     map[string]string
}

// ExecStatus says how an operation ended apart from its exit code,
// numbered as Pacemaker's executor numbers them (PCMK_EXEC_*).
type ExecStatus int

const (
	ExecDone         ExecStatus = 0
	ExecCancelled    ExecStatus = 1
	ExecTimedOut     ExecStatus = 2
	ExecError        ExecStatus = 4
	ExecNotInstalled ExecStatus = 7
)

// ExecResult is the executor's answer to an ExecRequest.
type ExecResult struct {
	Call       int64
	RC         int
	Status     ExecStatus
	ExitReason string
	// Attributes are node attributes the agent sets for its node (ping's
	// pingd); an empty value deletes one.
	Attributes map[string]string
	// Duration is how long the agent ran (for the failover budget).
	Duration time.Duration
}

// Ready is what the node must carry out, in order: persist, then send,
// then execute.
type Ready struct {
	// Persist, when not nil, is the configuration to write atomically.
	Persist []byte
	// Messages are multicast to the controllers' process group.
	Messages [][]byte
	// Exec are operations to start on this node.
	Exec []ExecRequest
	// ConfigDone reports local configuration requests decided: the
	// request number and nil or the reason it was refused.
	ConfigDone []ConfigOutcome
}

// ConfigOutcome is how a configuration change this node proposed ended.
type ConfigOutcome struct {
	Request uint64
	Err     error
}

// Stats count what the controller dropped or did.
type Stats struct {
	Malformed   uint64 // deliveries that did not decode
	Stale       uint64 // joins of an older membership, results of a node no longer a member, ...
	Transitions uint64 // transitions started by this node as DC
	Actions     uint64 // actions dispatched by this node as DC
	Failures    uint64 // operation results that were failures
}

// Controller is one node's resource manager.
type Controller struct {
	cfg  Config
	log  *slog.Logger
	self string // this node's name

	// cib is the partition's agreed CIB once settled; before that, this
	// node's own copy.
	cib     *cib.CIB
	ring    uint64
	members []env.NodeID
	quorate bool
	// joins holds the announcements of the current membership, by sender,
	// and joinQuorate each sender's view of quorum.
	joins       map[env.NodeID]*cib.CIB
	joinQuorate map[env.NodeID]bool
	settled     bool
	// held are results, attributes and fencings delivered while the
	// members were still agreeing: applied, in order, once they agree
	// (dropping them could lose a start and run a resource twice).
	held []message
	dc   env.NodeID

	// inflight are the dispatched actions without a result, the same on
	// every member (dispatches and results are deliveries).
	inflight map[actionKey]message
	// transition is the DC's current action graph.
	transition *transition
	trCount    int
	// replan asks the DC for a new transition once nothing is in flight.
	replan bool
	// unsent counts the DC's dispatches not yet delivered back to it: they
	// are in flight too, though no member has recorded them yet, and a
	// plan made before they land would not know what they start.
	unsent int
	// idleSent: the DC announced the partition idle and nothing changed
	// since; dcIdle: a member heard that announcement and nothing changed
	// since.
	idleSent bool
	dcIdle   bool

	// delayed are fencing actions waiting out their delay.
	delayed []delayedFence
	// expiry is when, on the DC, the earliest counted failure expires.
	expiry    env.Mono
	hasExpiry bool
	// failureStart is the driver's estimate of when the failure behind
	// the next membership change began; runs are failovers in progress,
	// failovers the finished ones (newest last, at most maxFailovers).
	failureStart env.Mono
	runs         []*failoverRun
	failovers    []Failover

	// startedAt is this node's first membership; everFull records that a
	// membership held every node (the startup wait is over).
	startedAt env.Mono
	started   bool
	everFull  bool

	// Local execution.
	now      env.Mono
	call     int64
	running  map[int64]*localOp
	monitors map[string]*recurring // by resource + interval

	requests uint64
	mine     map[uint64]bool // config requests this node sent, not yet delivered

	out   Ready
	stats Stats
}

// actionKey names a dispatched action: transitions are numbered per DC,
// so the membership (ring) it was dispatched in is part of its name.
type actionKey struct {
	ring               uint64
	transition, action int
}

// transition is the DC's view of one action graph.
type transition struct {
	id      int
	actions []sched.Action
	state   map[int]actionState
	aborted bool
}

type actionState int

const (
	actionWaiting actionState = iota
	actionDispatched
	actionDone
)

// localOp is an operation this node's executor is running.
type localOp struct {
	exec       message // the dispatch it answers (Recurring for a monitor's later runs)
	expectedRC int
	recurring  *recurring
	// first marks a recurring monitor's first run: its result answers
	// the dispatch, whatever it is.
	first bool
}

// recurring is a monitor this node repeats on its own clock, reporting
// only changes of its result, as Pacemaker's executor does.
type recurring struct {
	exec    message
	req     ExecRequest
	next    env.Mono
	lastRC  int
	running bool
	stopped bool
}

// New builds a controller.
func New(cfg Config) (*Controller, error) {
	name, ok := cfg.Names[cfg.Self]
	if !ok || name == "" {
		return nil, fmt.Errorf("controller: node %d has no name", cfg.Self)
	}
	if cfg.DefaultTimeout <= 0 {
		cfg.DefaultTimeout = 20 * time.Second
	}
	if cfg.StartupWait <= 0 {
		cfg.StartupWait = 20 * time.Second
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, log: log, self: name, inflight: map[actionKey]message{},
		running: map[int64]*localOp{}, monitors: map[string]*recurring{}, mine: map[uint64]bool{}}
	if cfg.CIB != nil {
		c.cib = cfg.CIB.Clone()
	} else {
		c.cib = emptyCIB()
	}
	c.cib.Status = &cib.Status{}
	return c, nil
}

func emptyCIB() *cib.CIB {
	return &cib.CIB{ValidateWith: "pacemaker-3.9"}
}

// CIB returns the current CIB; the caller must not change it.
func (c *Controller) CIB() *cib.CIB { return c.cib }

// DC returns the partition's DC (0 until the members agree).
func (c *Controller) DC() env.NodeID {
	if !c.settled {
		return 0
	}
	return c.dc
}

// Members returns the current membership of the group.
func (c *Controller) Members() []env.NodeID { return slices.Clone(c.members) }

// Quorate reports the partition's quorum as the CIB records it (the DC's
// view).
func (c *Controller) Quorate() bool { return rootAttr(c.cib, "have-quorum") == "1" }

// Settled reports whether the members of the current membership agree on
// the CIB.
func (c *Controller) Settled() bool { return c.settled }

// Idle reports whether the partition has nothing left to do as far as
// this node knows: settled, no action in flight, and, on the DC, no
// transition running or pending (only the DC plans).
func (c *Controller) Idle() bool {
	if !c.settled || len(c.inflight) > 0 {
		return false
	}
	if c.dc != c.cfg.Self {
		return c.dcIdle
	}
	return c.dcDone()
}

// dcDone reports, on the DC, that nothing is planned or running.
func (c *Controller) dcDone() bool {
	return !c.replan && len(c.inflight) == 0 && c.unsent == 0 && c.startupWait() == 0 && (c.transition == nil || c.transitionDone())
}

// Stats returns the counters.
func (c *Controller) Stats() Stats { return c.stats }

// Ready returns what the node must do; Advance acknowledges it.
func (c *Controller) Ready() Ready { return c.out }

// Advance clears what Ready returned.
func (c *Controller) Advance() { c.out = Ready{} }

func (c *Controller) send(m message) {
	m.From = c.cfg.Self
	c.out.Messages = append(c.out.Messages, m.encode())
}

func (c *Controller) name(id env.NodeID) string {
	if n, ok := c.cfg.Names[id]; ok {
		return n
	}
	return strconv.FormatUint(uint64(id), 10)
}

func (c *Controller) idOf(name string) env.NodeID {
	for id, n := range c.cfg.Names {
		if n == name {
			return id
		}
	}
	return 0
}

// Membership is the process group's new membership (the nodes whose
// controller is in the group), with ring numbering it and whether the
// partition has quorum. Every member then announces its CIB; nothing is
// scheduled until all announcements are in.
func (c *Controller) Membership(now env.Mono, ring uint64, members []env.NodeID, quorate bool) {
	c.now = now
	if !c.started {
		c.started, c.startedAt = true, now
	}
	c.ring = ring
	prev := c.members
	c.members = slices.Sorted(slices.Values(members))
	c.trackFailovers(now, prev)
	if len(c.members) >= len(c.cfg.Names) {
		c.everFull = true
	}
	c.quorate = quorate
	c.joins = map[env.NodeID]*cib.CIB{}
	c.joinQuorate = map[env.NodeID]bool{}
	c.settled = false
	c.held = nil
	c.transition = nil
	c.replan = false
	c.idleSent, c.dcIdle = false, false
	c.unsent = 0
	// A fencing still waiting out its delay is void once its victim is a
	// member again: it came back (rebooted, or the partition healed before
	// anything of it was started elsewhere), and shooting it now would
	// only take down a node the new membership counts on.
	c.delayed = slices.DeleteFunc(c.delayed, func(f delayedFence) bool {
		if id := c.idOf(f.m.Resource); id != 0 && slices.Contains(members, id) {
			// Reported, so that every member forgets the action.
			c.reportLocal(f.m, cib.RCErrGeneric, ExecCancelled, "the victim is a member again")
			return true
		}
		return false
	})
	// Actions of nodes that left will never report: forget them, but
	// record what they may have started as pending in the node's
	// history: the resource may be active there, so with fencing it
	// starts elsewhere only after the node is fenced.
	for _, k := range slices.SortedFunc(maps.Keys(c.inflight), compareKeys) {
		m := c.inflight[k]
		if slices.Contains(c.members, m.Node) {
			continue
		}
		delete(c.inflight, k)
		if t := sched.Task(m.Task); t == sched.TaskStart || t == sched.TaskPromote {
			c.recordPending(m)
		}
	}
	if !slices.Contains(c.members, c.cfg.Self) {
		return
	}
	c.send(message{Kind: kindJoin, Ring: ring, CIB: c.joinCIB(), Quorate: quorate})
}

// QuorumChanged tells the controller this node's quorum state changed
// without a change of the members. Only the DC's view counts: it
// announces it, and every member applies it in order.
func (c *Controller) QuorumChanged(quorate bool) {
	c.quorate = quorate
	if c.settled && c.dc == c.cfg.Self {
		c.send(message{Kind: kindQuorum, Quorate: quorate})
	}
}

func (c *Controller) onQuorum(m message) {
	if m.From != c.dc {
		c.stats.Stale++
		return
	}
	if have := rootAttr(c.cib, "have-quorum"); have == boolString(m.Quorate) {
		return
	}
	setRootAttr(c.cib, "have-quorum", boolString(m.Quorate))
	c.changed(fmt.Sprintf("quorum %s", map[bool]string{true: "gained", false: "lost"}[m.Quorate]))
}

func compareKeys(a, b actionKey) int {
	return cmp.Or(cmp.Compare(a.ring, b.ring), cmp.Compare(a.transition, b.transition), cmp.Compare(a.action, b.action))
}

// recordPending writes an operation in flight into its node's history,
// as Pacemaker's record-pending does: a pending start counts as active.
func (c *Controller) recordPending(m message) {
	a := sched.Action{ID: m.Action, Resource: m.Resource, Primitive: m.Primitive, Task: sched.Task(m.Task),
		Node: c.name(m.Node), Interval: m.Interval}
	sched.Record(c.cib, strconv.FormatUint(uint64(m.Node), 10), a,
		sched.Outcome{OpStatus: cib.OpPending, Call: -1, Transition: m.Transition})
}

// joinCIB is this node's announcement: its CIB, status included (its own
// node's state is what only it knows for sure; the rest is what it knew of
// the others).
func (c *Controller) joinCIB() string {
	// Only what agree reads: this node's own state, and what it knew of
	// the nodes outside the new membership. Each member announces its own
	// state, so shipping the rest would only make every member decode
	// the whole status once per peer (at 200 resources on 8 nodes, most
	// of a failover's CPU).
	x := *c.cib
	x.Status = &cib.Status{}
	own := c.cib
	if len(c.running) > 0 {
		// What this node is running now is pending in its history, so a
		// new DC that did not dispatch it does not start it elsewhere.
		own = c.cib.Clone()
		for _, call := range slices.Sorted(maps.Keys(c.running)) {
			if op := c.running[call]; op.recurring == nil {
				// Only starts and promotes: a pending record replaces the
				// last one, and a resource stopping must still show active.
				if t := sched.Task(op.exec.Task); t == sched.TaskStart || t == sched.TaskPromote {
					m := op.exec
					m.Node = c.cfg.Self
					a := sched.Action{ID: m.Action, Resource: m.Resource, Primitive: m.Primitive, Task: t, Node: c.self}
					sched.Record(own, strconv.FormatUint(uint64(c.cfg.Self), 10), a,
						sched.Outcome{OpStatus: cib.OpPending, Call: -1, Transition: m.Transition})
				}
			}
		}
	}
	for _, ns := range own.Status.NodeStates {
		if id := c.idOf(ns.Uname); id == c.cfg.Self || !slices.Contains(c.members, id) {
			x.Status.NodeStates = append(x.Status.NodeStates, ns)
		}
	}
	b, err := x.Marshal()
	if err != nil {
		c.log.Error("controller: cannot encode the CIB for the join", "err", err)
		return ""
	}
	return string(b)
}

// Deliver applies one message delivered by the process group from node
// from. A malformed or misattributed message is dropped and counted.
func (c *Controller) Deliver(now env.Mono, from env.NodeID, payload []byte) error {
	c.now = now
	m, err := decodeMessage(payload)
	if err == nil && m.From != from {
		err = fmt.Errorf("controller message %s claims node %d but came from node %d", m.Kind, m.From, from)
	}
	if err != nil {
		c.stats.Malformed++
		return err
	}
	c.apply(m)
	c.drive()
	return nil
}

func (c *Controller) apply(m message) {
	if c.settled {
		c.observeFailovers(m)
	}
	switch m.Kind {
	case kindJoin:
		c.onJoin(m)
		return
	case kindConfig:
		c.onConfig(m)
		return
	case kindExec:
		c.onExec(m)
		return
	}
	if !c.settled {
		c.held = append(c.held, m)
		return
	}
	switch m.Kind {
	case kindResult:
		c.onResult(m)
	case kindAttr:
		c.onAttr(m)
	case kindFenced:
		c.onFenced(m)
	case kindQuorum:
		c.onQuorum(m)
	case kindIdle:
		c.dcIdle = m.From == c.dc && m.Ring == c.ring
	case kindCleanup:
		c.onCleanup(m)
	}
}

func (c *Controller) onJoin(m message) {
	if m.Ring != c.ring || !slices.Contains(c.members, m.From) || c.settled {
		c.stats.Stale++
		return
	}
	in, err := cib.Parse(fmt.Sprintf("join from node %d", m.From), []byte(m.CIB))
	if err != nil {
		c.stats.Malformed++
		c.log.Warn("controller: unreadable CIB in a join; the node counts as announcing an empty one", "node", m.From, "err", err)
		in = emptyCIB()
	}
	c.joins[m.From] = in
	c.joinQuorate[m.From] = m.Quorate
	if len(c.joins) < len(c.members) {
		return
	}
	c.agree()
}

// agree merges the announcements, the same way on every member: the
// CIB with the highest (admin_epoch, epoch, num_updates) wins (ties go to
// the lowest node id), as when Pacemaker's DC syncs the CIB; each member's
// own node_state is taken from its own announcement; nodes outside the
// membership keep the state the winner knew of them, marked down (what
// they ran may still run: the scheduler decides, fencing first if on).
func (c *Controller) agree() {
	var win env.NodeID
	for _, id := range c.members {
		j := c.joins[id]
		if win == 0 || newer(j, c.joins[win]) {
			win = id
		}
	}
	merged := c.joins[win].Clone()
	prev := c.cib
	merged.Status = &cib.Status{}
	if w := c.joins[win].Status; w != nil {
		for _, ns := range w.NodeStates {
			if id := c.idOf(ns.Uname); id != 0 && !slices.Contains(c.members, id) {
				ns.InCCM, ns.Crmd, ns.Join = "false", "offline", "down"
				merged.Status.NodeStates = append(merged.Status.NodeStates, ns)
			}
		}
	}
	for _, id := range c.members {
		name := c.name(id)
		ns := cib.NodeState{ID: strconv.FormatUint(uint64(id), 10), Uname: name}
		if own := c.joins[id].NodeState(name); own != nil {
			ns = *own
		}
		ns.InCCM, ns.Crmd, ns.Join, ns.Expected = "true", "online", "member", "member"
		merged.Status.NodeStates = append(merged.Status.NodeStates, ns)
	}
	slices.SortFunc(merged.Status.NodeStates, func(a, b cib.NodeState) int { return cmp.Compare(a.Uname, b.Uname) })
	configChanged := c.ensureNodes(merged)
	c.dc = c.members[0]
	// The DC's view of quorum is the partition's, so that every copy of
	// the CIB says the same.
	setRootAttr(merged, "have-quorum", boolString(c.joinQuorate[c.dc]))
	setRootAttr(merged, "dc-uuid", strconv.FormatUint(uint64(c.dc), 10))
	if !sameConfig(prev, merged) || configChanged {
		c.persist(merged)
	}
	c.cib = merged
	c.settled = true
	c.replan = true
	c.log.Info("controller: members agree", "ring", c.ring, "members", c.members, "dc", c.dc,
		"version", version(c.cib), "from", win)
	held := c.held
	c.held = nil
	for _, m := range held {
		c.apply(m)
	}
	if c.dc == c.cfg.Self && c.quorate != c.joinQuorate[c.dc] {
		c.QuorumChanged(c.quorate) // it changed while the members agreed
	}
}

// ensureNodes adds a node entry for every member missing from the
// configuration, as Pacemaker does when a node first joins; it reports
// whether it added any (the epoch then rises).
func (c *Controller) ensureNodes(x *cib.CIB) bool {
	added := false
	for _, id := range c.members {
		name := c.name(id)
		if slices.ContainsFunc(x.Config.Nodes, func(n cib.Node) bool { return n.Uname == name }) {
			continue
		}
		x.Config.Nodes = append(x.Config.Nodes, cib.Node{ID: strconv.FormatUint(uint64(id), 10), Uname: name})
		added = true
	}
	if added {
		x.Epoch++
		x.NumUpdates = 0
	}
	return added
}

func newer(a, b *cib.CIB) bool {
	return cmp.Or(cmp.Compare(a.AdminEpoch, b.AdminEpoch), cmp.Compare(a.Epoch, b.Epoch), cmp.Compare(a.NumUpdates, b.NumUpdates)) > 0
}

func version(x *cib.CIB) string {
	return fmt.Sprintf("%d.%d.%d", x.AdminEpoch, x.Epoch, x.NumUpdates)
}

func sameConfig(a, b *cib.CIB) bool {
	return a.AdminEpoch == b.AdminEpoch && a.Epoch == b.Epoch
}

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func rootAttr(x *cib.CIB, name string) string {
	for _, a := range x.Extra.Attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

func setRootAttr(x *cib.CIB, name, value string) {
	for i, a := range x.Extra.Attrs {
		if a.Name == name {
			x.Extra.Attrs[i].Value = value
			return
		}
	}
	x.Extra.Attrs = append(x.Extra.Attrs, cib.Attr{Name: name, Value: value})
}

func (c *Controller) persist(x *cib.CIB) {
	out := x.Clone()
	out.Status = nil
	b, err := out.Marshal()
	if err != nil {
		c.log.Error("controller: cannot encode the CIB to persist it", "err", err)
		return
	}
	c.out.Persist = b
}

// Failover is the budget of one recovery: the resources a lost node ran,
// running again elsewhere. Fencing is -1 when the node was not fenced.
type Failover struct {
	Node       string
	Resources  []string
	Detection  time.Duration // failure to the membership without the node
	Fencing    time.Duration // fence requested to done, delays included
	Scheduling time.Duration // membership (or fencing done) to the first start
	AgentStart time.Duration // first start issued to the last one done
	Total      time.Duration // failure to everything running again
}

const maxFailovers = 10

type failoverRun struct {
	node                 string
	resources            []string
	pending              map[string]bool
	lostAt, detectedAt   env.Mono
	fenceStart, fencedAt env.Mono
	firstStart           env.Mono
	fenced, startedFirst bool
}

// FailureStarted tells the controller when the failure behind the next
// membership change began, as the messaging layer estimates it (the last
// token seen); failover budgets count detection from it.
func (c *Controller) FailureStarted(at env.Mono) { c.failureStart = at }

// Failovers returns the budgets of the recent failovers, oldest first.
func (c *Controller) Failovers() []Failover { return slices.Clone(c.failovers) }

// trackFailovers starts a budget for every node that left running
// resources, and drops those of nodes that are back.
func (c *Controller) trackFailovers(now env.Mono, prev []env.NodeID) {
	c.runs = slices.DeleteFunc(c.runs, func(r *failoverRun) bool { return slices.Contains(c.members, c.idOf(r.node)) })
	lostAt := now
	if c.failureStart != 0 && c.failureStart < now {
		lostAt = c.failureStart
	}
	for _, id := range prev {
		if slices.Contains(c.members, id) {
			continue
		}
		name := c.name(id)
		var rs []string
		hist := c.cib.Histories(name)
		for _, rid := range slices.Sorted(maps.Keys(hist)) {
			h := hist[rid]
			if p := c.primitive(rid); p != nil && h.State.Active() && p.Class != "stonith" && !c.inClone(rid) {
				rs = append(rs, rid)
			}
		}
		if len(rs) == 0 {
			continue
		}
		run := &failoverRun{node: name, resources: rs, pending: map[string]bool{}, lostAt: lostAt, detectedAt: now}
		for _, r := range rs {
			run.pending[r] = true
		}
		c.runs = append(c.runs, run)
	}
}

// observeFailovers follows the deliveries that make up a failover.
func (c *Controller) observeFailovers(m message) {
	for _, run := range c.runs {
		switch {
		case m.Kind == kindExec && sched.Task(m.Task) == sched.TaskFence && m.Resource == run.node && !run.fenced:
			if run.fenceStart == 0 {
				run.fenceStart = c.now
			}
		case m.Kind == kindFenced && (m.Name == run.node || c.name(m.Node) == run.node):
			run.fenced, run.fencedAt = true, c.now
		case m.Kind == kindExec && m.Task == string(sched.TaskStart) && run.pending[m.Primitive] && c.name(m.Node) != run.node:
			if !run.startedFirst {
				run.startedFirst, run.firstStart = true, c.now
			}
		case m.Kind == kindResult && m.Task == string(sched.TaskStart) && run.pending[m.Primitive] && m.RC == cib.RCOK && m.OpStatus == 0:
			delete(run.pending, m.Primitive)
		}
	}
	c.runs = slices.DeleteFunc(c.runs, func(run *failoverRun) bool {
		if len(run.pending) > 0 || !run.startedFirst {
			return false
		}
		f := Failover{Node: run.node, Resources: run.resources, Detection: run.detectedAt.Sub(run.lostAt), Fencing: -1,
			AgentStart: c.now.Sub(run.firstStart), Total: c.now.Sub(run.lostAt)}
		ready := run.detectedAt
		if run.fenced {
			f.Fencing = run.fencedAt.Sub(max(run.fenceStart, run.detectedAt))
			ready = run.fencedAt
		}
		f.Scheduling = max(0, run.firstStart.Sub(ready))
		c.failovers = append(c.failovers, f)
		if len(c.failovers) > maxFailovers {
			c.failovers = c.failovers[1:]
		}
		c.log.Info("controller: failover done", "node", f.Node, "resources", strings.Join(f.Resources, ","),
			"detection_ms", f.Detection.Milliseconds(), "fencing_ms", f.Fencing.Milliseconds(),
			"scheduling_ms", f.Scheduling.Milliseconds(), "agent_start_ms", f.AgentStart.Milliseconds(),
			"total_ms", f.Total.Milliseconds())
		return true
	})
}

// ProposeConfig asks the partition to replace the configuration with
// next's (its status is ignored). It is checked here first, so a refusal
// costs no message; the change takes effect when delivered, in order with
// every other change, and every member checks it again against the CIB it
// then has. The returned request number comes back in Ready.ConfigDone.
func (c *Controller) ProposeConfig(next *cib.CIB) (uint64, error) {
	if !c.settled {
		return 0, fmt.Errorf("the cluster is not settled (membership changing); try again")
	}
	if err := next.Validate().Err(); err != nil {
		return 0, err
	}
	out := next.Clone()
	out.Status = nil
	b, err := out.Marshal()
	if err != nil {
		return 0, err
	}
	c.requests++
	c.mine[c.requests] = true
	c.send(message{Kind: kindConfig, CIB: string(b), Request: c.requests})
	return c.requests, nil
}

func (c *Controller) onConfig(m message) {
	mine := m.From == c.cfg.Self && c.mine[m.Request]
	delete(c.mine, m.Request)
	refuse := func(err error) {
		if mine {
			c.out.ConfigDone = append(c.out.ConfigDone, ConfigOutcome{Request: m.Request, Err: err})
		}
	}
	if !c.settled {
		refuse(fmt.Errorf("the membership changed before the change was applied; nothing was changed"))
		return
	}
	next, err := cib.Parse("configuration change", []byte(m.CIB))
	if err != nil {
		c.stats.Malformed++
		refuse(err)
		return
	}
	if err := next.Validate().Err(); err != nil {
		refuse(err)
		return
	}
	next.Status = c.cib.Status
	next.Extra = c.cib.Extra
	next.AdminEpoch = max(next.AdminEpoch, c.cib.AdminEpoch)
	next.Epoch = c.cib.Epoch + 1
	next.NumUpdates = 0
	c.cib = next
	c.persist(next)
	c.changed("configuration changed")
	refuse(nil)
}

// Cleanup asks the partition to forget resource's operation history and
// fail counts on node ("" for every node), as crm_resource --cleanup
// does; the DC then probes it again and places it afresh.
func (c *Controller) Cleanup(resource, node string) error {
	if r, _ := c.cib.Resource(resource); r == nil {
		return fmt.Errorf("no resource %q in the configuration", resource)
	}
	var id env.NodeID
	if node != "" {
		if id = c.idOf(node); id == 0 {
			return fmt.Errorf("no node named %q", node)
		}
	}
	c.send(message{Kind: kindCleanup, Resource: resource, Node: id})
	return nil
}

func (c *Controller) onCleanup(m message) {
	r, _ := c.cib.Resource(m.Resource)
	if r == nil {
		c.stats.Stale++
		return
	}
	// The primitives under the resource, by the ids the status uses.
	ids := map[string]bool{}
	for _, p := range cib.PrimitivesUnder(r) {
		ids[p.ID] = true
	}
	changed := false
	for i := range c.cib.Status.NodeStates {
		ns := &c.cib.Status.NodeStates[i]
		if m.Node != 0 && ns.Uname != c.name(m.Node) {
			continue
		}
		if ns.LRM != nil {
			n := len(ns.LRM.Resources)
			ns.LRM.Resources = slices.DeleteFunc(ns.LRM.Resources, func(x cib.LRMResource) bool {
				base, _, _ := strings.Cut(x.ID, ":")
				return ids[base]
			})
			changed = changed || n != len(ns.LRM.Resources)
		}
		if ns.Transient != nil {
			for j := range ns.Transient.Sets {
				set := &ns.Transient.Sets[j]
				n := len(set.Pairs)
				set.Pairs = slices.DeleteFunc(set.Pairs, func(p cib.NVPair) bool {
					for _, prefix := range []string{"fail-count-", "last-failure-"} {
						if rest, ok := strings.CutPrefix(p.Name, prefix); ok {
							base, _, _ := strings.Cut(rest, "#")
							base, _, _ = strings.Cut(base, ":")
							return ids[base]
						}
					}
					return false
				})
				changed = changed || n != len(set.Pairs)
			}
		}
	}
	if changed {
		c.cib.NumUpdates++
		c.changed("cleanup of " + m.Resource)
	}
}

// SetAttr asks the partition to set (or, with value "", delete) a
// transient node attribute, as attrd_updater does.
func (c *Controller) SetAttr(node, name, value string) error {
	id := c.idOf(node)
	if id == 0 {
		return fmt.Errorf("no node named %q", node)
	}
	c.send(message{Kind: kindAttr, Node: id, Name: name, Value: value, Delete: value == ""})
	return nil
}

func (c *Controller) onAttr(m message) {
	if setTransient(c.cib, c.name(m.Node), strconv.FormatUint(uint64(m.Node), 10), m.Name, m.Value, m.Delete) {
		c.cib.NumUpdates++
		c.changed("attribute " + m.Name + " on " + c.name(m.Node))
	}
}

// setTransient changes one transient attribute; it reports whether the
// value changed.
func setTransient(x *cib.CIB, name, id, attr, value string, del bool) bool {
	ns := x.NodeState(name)
	if ns == nil {
		x.Status.NodeStates = append(x.Status.NodeStates, cib.NodeState{ID: id, Uname: name})
		ns = &x.Status.NodeStates[len(x.Status.NodeStates)-1]
	}
	if ns.Transient == nil {
		ns.Transient = &cib.TransientAttributes{ID: ns.ID}
	}
	if len(ns.Transient.Sets) == 0 {
		ns.Transient.Sets = []cib.NVSet{{ID: "status-" + ns.ID}}
	}
	set := &ns.Transient.Sets[0]
	for i, p := range set.Pairs {
		if p.Name != attr {
			continue
		}
		if del {
			set.Pairs = slices.Delete(set.Pairs, i, i+1)
			return true
		}
		if p.Value == value {
			return false
		}
		set.Pairs[i].Value = value
		return true
	}
	if del {
		return false
	}
	set.Pairs = append(set.Pairs, cib.NVPair{ID: set.ID + "-" + attr, Name: attr, Value: value})
	return true
}

// changed records that the inputs of the scheduler changed: the DC's
// transition is aborted (what is in flight completes) and a new one is
// computed.
func (c *Controller) changed(why string) {
	if c.transition != nil && !c.transition.aborted && !c.transitionDone() {
		c.log.Info("controller: transition aborted", "transition", c.transition.id, "why", why)
		c.transition.aborted = true
	}
	c.replan = true
	// Every member runs changed at the same point of the stream: the
	// DC's earlier idle announcement no longer holds, and it makes a new
	// one once the change is carried out.
	c.idleSent, c.dcIdle = false, false
}

func (c *Controller) transitionDone() bool {
	for _, st := range c.transition.state {
		if st != actionDone {
			return false
		}
	}
	return true
}

// drive is the DC's transition engine: once nothing is in flight it
// replaces an aborted or finished transition with a new plan, and it
// dispatches every action whose predecessors have completed.
func (c *Controller) drive() {
	if !c.settled || c.dc != c.cfg.Self {
		return
	}
	if c.startupWait() > 0 {
		return
	}
	if c.replan && len(c.inflight) == 0 && c.unsent == 0 {
		c.replan = false
		c.plan()
	}
	defer func() {
		if !c.idleSent && c.dcDone() {
			c.idleSent = true
			c.send(message{Kind: kindIdle, Ring: c.ring})
		}
	}()
	t := c.transition
	if t == nil || t.aborted {
		return
	}
	for _, a := range t.actions {
		if t.state[a.ID] != actionWaiting {
			continue
		}
		ready := true
		for _, dep := range a.After {
			if t.state[dep] != actionDone {
				ready = false
				break
			}
		}
		if ready {
			c.dispatch(t, a)
		}
	}
}

// startupWait is how much longer a node that started recently waits for
// the missing nodes before it acts as DC (0: no more).
func (c *Controller) startupWait() time.Duration {
	if c.everFull || !c.started {
		return 0
	}
	wait := c.cfg.StartupWait
	if v, ok, err := c.cib.Property("dc-deadtime", cib.RuleInput{}); err == nil && ok {
		if d, _, err := cib.ParseInterval(v); err == nil {
			wait = d
		}
	}
	return max(0, c.startedAt.Add(wait).Sub(c.now))
}

// wallSeconds is the wall clock in epoch seconds, 0 without one.
func (c *Controller) wallSeconds() int64 {
	if c.cfg.Now == nil {
		return 0
	}
	return c.cfg.Now().Unix()
}

// nextExpiry finds when the earliest failure still counted expires
// (failure-timeout after its last-failure time), as a monotonic deadline;
// the DC plans again then, as Pacemaker rechecks at the expiry.
func (c *Controller) nextExpiry(wall int64) (env.Mono, bool) {
	best := int64(0)
	for _, p := range c.cib.Primitives() {
		meta, err := c.cib.Meta(p.ID, cib.RuleInput{})
		if err != nil {
			continue
		}
		ft, _, err := cib.ParseInterval(meta["failure-timeout"])
		if err != nil || ft <= 0 {
			continue
		}
		for _, ns := range c.cib.Status.NodeStates {
			fc, last, err := c.cib.FailCount(ns.Uname, sched.HistoryID(c.cib, p.ID, p.ID))
			if err != nil || fc <= 0 || last == 0 {
				continue
			}
			if at := last + int64(ft/time.Second); at > wall && (best == 0 || at < best) {
				best = at
			}
		}
	}
	if best == 0 {
		return 0, false
	}
	return c.now.Add(time.Duration(best-wall) * time.Second), true
}

func (c *Controller) plan() {
	wall := c.wallSeconds()
	c.expiry, c.hasExpiry = c.nextExpiry(wall)
	res, err := sched.Schedule(sched.Input{CIB: c.cib, Now: wall})
	if err != nil {
		c.log.Error("controller: the scheduler refused the CIB; nothing is done until it changes", "err", err)
		c.transition = nil
		return
	}
	c.trCount++
	t := &transition{id: c.trCount, actions: res.Actions, state: map[int]actionState{}}
	for _, a := range res.Actions {
		t.state[a.ID] = actionWaiting
	}
	c.transition = t
	if len(res.Actions) > 0 {
		c.idleSent = false
		c.stats.Transitions++
		c.log.Info("controller: transition", "transition", t.id, "actions", len(res.Actions))
		c.log.Debug("controller: transition actions", "transition", t.id, "actions", actionList(res.Actions))
	}
}

// actionList renders a transition's actions for the log only when the
// record is written (a large transition is a long line).
type actionList []sched.Action

func (l actionList) LogValue() slog.Value {
	var b strings.Builder
	for i, a := range l {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s %s", a.Task, a.Resource, a.Node)
	}
	return slog.StringValue(b.String())
}

func (c *Controller) dispatch(t *transition, a sched.Action) {
	t.state[a.ID] = actionDispatched
	c.stats.Actions++
	target := c.idOf(a.Node)
	if a.Task == sched.TaskFence {
		// The DC fences, with the first fence device configured; another
		// member does when the DC itself is the victim (a node that
		// shoots itself cannot report that it did).
		target = c.cfg.Self
		if a.Node == c.self {
			for _, id := range c.members {
				if id != c.cfg.Self {
					target = id
					break
				}
			}
		}
	}
	m := message{Kind: kindExec, Ring: c.ring, Transition: t.id, Action: a.ID, Node: target, Resource: a.Resource,
		Primitive: a.Primitive, Task: string(a.Task), Interval: a.Interval}
	c.unsent++
	c.send(m)
}

func (c *Controller) onExec(m message) {
	// A dispatch of an earlier membership is void: its DC planned on
	// facts the members have since replaced.
	if !c.settled || m.Ring != c.ring || m.From != c.dc || !slices.Contains(c.members, m.Node) {
		c.stats.Stale++
		return
	}
	if m.From == c.cfg.Self && c.unsent > 0 {
		c.unsent--
	}
	c.dcIdle = false
	c.inflight[actionKey{m.Ring, m.Transition, m.Action}] = m
	if m.Node != c.cfg.Self {
		return
	}
	c.execute(m)
}

// execute runs a dispatched action on this node.
func (c *Controller) execute(m message) {
	if sched.Task(m.Task) == sched.TaskFence {
		c.fence(m)
		return
	}
	p := c.primitive(m.Primitive)
	if p == nil {
		c.reportLocal(m, 5 /* not installed */, ExecError, "resource "+m.Primitive+" is not configured")
		return
	}
	// A stop, promote or demote ends the resource's recurring monitors
	// here: they would report the change as a failure.
	if m.Task != string(sched.TaskMonitor) {
		c.stopMonitors(sched.HistoryID(c.cib, m.Resource, m.Primitive))
	}
	req := c.request(p, m)
	op := &localOp{exec: m, expectedRC: expectedRC(m, c.cib)}
	if m.Task == string(sched.TaskMonitor) && m.Interval > 0 {
		key := monitorKey(req.Resource, m.Interval)
		if old := c.monitors[key]; old != nil {
			old.stopped = true
		}
		r := &recurring{exec: m, req: req, lastRC: -1, running: true}
		c.monitors[key] = r
		op.recurring, op.first = r, true
	}
	c.running[req.Call] = op
	c.out.Exec = append(c.out.Exec, req)
}

func monitorKey(rsc string, iv time.Duration) string { return rsc + "\x00" + iv.String() }

func (c *Controller) stopMonitors(rsc string) {
	for _, k := range slices.Sorted(maps.Keys(c.monitors)) {
		if r := c.monitors[k]; r.req.Resource == rsc {
			r.stopped = true
			delete(c.monitors, k)
		}
	}
}

// expectedRC is what the transition expects an action to return.
func expectedRC(m message, x *cib.CIB) int {
	if m.Task != string(sched.TaskMonitor) {
		return cib.RCOK
	}
	if m.Interval == 0 {
		return cib.RCNotRunning
	}
	if r, _ := x.Resource(m.Primitive); r != nil {
		if p, ok := r.(*cib.Primitive); ok {
			for _, op := range p.Ops {
				if op.Name == "monitor" && op.Role != "" && opInterval(op) == m.Interval {
					if role, err := cib.ParseRole(op.Role); err == nil && role == cib.RolePromoted {
						return cib.RCRunningPromoted
					}
				}
			}
		}
	}
	return cib.RCOK
}

func opInterval(op cib.Op) time.Duration {
	d, _, err := cib.ParseInterval(op.Interval)
	if err != nil {
		return 0
	}
	return d
}

func (c *Controller) primitive(id string) *cib.Primitive {
	r, _ := c.cib.Resource(id)
	p, _ := r.(*cib.Primitive)
	return p
}

// request builds the executor's operation from the configuration: the
// agent, its parameters, and the timeout of the matching op definition.
func (c *Controller) request(p *cib.Primitive, m message) ExecRequest {
	c.call++
	params, _ := cib.Values(p.InstanceAttrs, cib.RuleInput{})
	meta := map[string]string{}
	if mm, err := c.cib.Meta(p.ID, cib.RuleInput{}); err == nil {
		for k, v := range mm {
			meta[k] = v
		}
	}
	timeout := c.cfg.DefaultTimeout
	for _, op := range p.Ops {
		if op.Name == m.Task && opInterval(op) == m.Interval && op.Timeout != "" {
			if d, _, err := cib.ParseInterval(op.Timeout); err == nil && d > 0 {
				timeout = d
			}
		}
	}
	return ExecRequest{Call: c.call, Resource: sched.HistoryID(c.cib, m.Resource, m.Primitive), Primitive: m.Primitive, Class: p.Class, Provider: p.Provider,
		Type: p.Type, Action: m.Task, Interval: m.Interval, Timeout: timeout, Params: params, Meta: meta}
}

// PriorityFencingDelay is how long fencing waits before shooting a node
// that runs resources, in a cluster of two: in a split both nodes fence
// each other, and the one that runs the services shoots first and
// survives (Pacemaker's priority-fencing-delay, which is off by default
// there; here it is on). It is above a fence device's usual response
// time, so the race is decided before the delayed shot goes off.
const PriorityFencingDelay = 5 * time.Second

// fence runs the fence action with the first configured fence device,
// after the delays that settle fence races: the device's pcmk_delay_base
// plus a share of pcmk_delay_max drawn from the victim's name (the same
// on every run), and the priority delay for a victim that runs resources
// in a cluster of two.
func (c *Controller) fence(m message) {
	if delay := c.fenceDelay(m.Resource); delay > 0 {
		c.log.Info("controller: fencing delayed", "victim", m.Resource, "delay", delay)
		c.delayed = append(c.delayed, delayedFence{due: c.now.Add(delay), m: m})
		return
	}
	c.fenceNow(m)
}

type delayedFence struct {
	due env.Mono
	m   message
}

func (c *Controller) fenceDelay(victim string) time.Duration {
	var d time.Duration
	if dev := c.fenceDevice(); dev != nil {
		params, _ := cib.Values(dev.InstanceAttrs, cib.RuleInput{})
		base, _, _ := cib.ParseInterval(params["pcmk_delay_base"])
		d += base
		if most, _, err := cib.ParseInterval(params["pcmk_delay_max"]); err == nil && most > 0 {
			h := fnv.New64a()
			h.Write([]byte(c.self + "/" + victim))
			d += time.Duration(h.Sum64() % uint64(most))
		}
	}
	if len(c.cib.Config.Nodes) == 2 && c.runsResources(victim) {
		d += PriorityFencingDelay
	}
	return d
}

// runsResources reports whether the status says node runs any resource
// other than a fence device or a clone instance.
func (c *Controller) runsResources(node string) bool {
	for id, h := range c.cib.Histories(node) {
		if !h.State.Active() {
			continue
		}
		if p := c.primitive(id); p != nil && p.Class != "stonith" && !c.inClone(id) {
			return true
		}
	}
	return false
}

func (c *Controller) inClone(id string) bool {
	_, anc := c.cib.Resource(id)
	for _, r := range anc {
		if _, ok := r.(*cib.Clone); ok {
			return true
		}
	}
	return false
}

func (c *Controller) fenceDevice() *cib.Primitive {
	for _, p := range c.cib.Primitives() {
		if p.Class == "stonith" {
			return p
		}
	}
	return nil
}

func (c *Controller) fenceNow(m message) {
	dev := c.fenceDevice()
	if dev == nil {
		c.reportLocal(m, 5, ExecNotInstalled, "no fence device is configured")
		return
	}
	c.call++
	params, _ := cib.Values(dev.InstanceAttrs, cib.RuleInput{})
	if params == nil {
		params = map[string]string{}
	}
	params["port"] = m.Resource
	// stonith-action: reboot by default, as Pacemaker; "off" (or the
	// old "poweroff") keeps the victim down.
	action := "reboot"
	if v, ok, err := c.cib.Property("stonith-action", cib.RuleInput{}); err == nil && ok && v != "" {
		action = map[string]string{"poweroff": "off"}[v]
		if action == "" {
			action = v
		}
	}
	req := ExecRequest{Call: c.call, Resource: dev.ID, Primitive: dev.ID, Class: dev.Class, Provider: dev.Provider,
		Type: dev.Type, Action: action, Timeout: 60 * time.Second, Params: params}
	c.running[req.Call] = &localOp{exec: m, expectedRC: cib.RCOK}
	c.out.Exec = append(c.out.Exec, req)
}

// ExecDone hands the controller an operation's result from the executor.
func (c *Controller) ExecDone(now env.Mono, r ExecResult) {
	c.now = now
	op, ok := c.running[r.Call]
	if !ok {
		c.stats.Stale++
		return
	}
	delete(c.running, r.Call)
	for _, k := range slices.Sorted(maps.Keys(r.Attributes)) {
		v := r.Attributes[k]
		c.send(message{Kind: kindAttr, Node: c.cfg.Self, Name: k, Value: v, Delete: v == ""})
	}
	if rec := op.recurring; rec != nil {
		rec.running = false
		if !rec.stopped {
			rec.next = now.Add(rec.exec.Interval)
		}
		if !op.first && (rec.stopped || r.RC == rec.lastRC && r.Status == ExecDone) {
			return // unchanged, or no longer wanted: nothing to report
		}
		rec.lastRC = r.RC
	}
	if sched.Task(op.exec.Task) == sched.TaskFence {
		if r.Status == ExecDone && r.RC == cib.RCOK {
			c.send(message{Kind: kindFenced, Node: c.idOf(op.exec.Resource), Name: op.exec.Resource,
				Ring: op.exec.Ring, Transition: op.exec.Transition, Action: op.exec.Action})
			return
		}
	}
	m := op.exec
	m.Kind = kindResult
	m.RC, m.ExpectedRC, m.OpStatus, m.ExitReason, m.Call = r.RC, op.expectedRC, int(r.Status), r.ExitReason, r.Call
	m.At = c.wallSeconds()
	m.Recurring = op.recurring != nil && !op.first
	c.send(m)
}

func (c *Controller) reportLocal(m message, rc int, st ExecStatus, why string) {
	r := m
	r.Kind = kindResult
	r.RC, r.ExpectedRC, r.OpStatus, r.ExitReason = rc, expectedRC(m, c.cib), int(st), why
	c.send(r)
}

func (c *Controller) onResult(m message) {
	if sched.Task(m.Task) != sched.TaskFence && c.primitive(m.Primitive) == nil {
		// Not (or no longer) configured: nothing to record it against.
		c.stats.Stale++
		delete(c.inflight, actionKey{m.Ring, m.Transition, m.Action})
		c.markDone(actionKey{m.Ring, m.Transition, m.Action})
		return
	}
	key := actionKey{m.Ring, m.Transition, m.Action}
	_, planned := c.inflight[key]
	if !m.Recurring {
		delete(c.inflight, key)
	}
	if sched.Task(m.Task) == sched.TaskFence {
		// A fence that failed: the scheduler asks for it again.
		c.stats.Failures++
		c.markDone(key)
		c.changed("fencing of " + m.Resource + " failed")
		return
	}
	a := sched.Action{ID: m.Action, Resource: m.Resource, Primitive: m.Primitive, Task: sched.Task(m.Task),
		Node: c.name(m.Node), Interval: m.Interval}
	o := sched.Outcome{RC: m.RC, ExpectedRC: m.ExpectedRC, OpStatus: m.OpStatus, Call: int(m.Call),
		ExitReason: m.ExitReason, Transition: m.Transition, At: m.At}
	sched.Record(c.cib, strconv.FormatUint(uint64(m.Node), 10), a, o)
	c.cib.NumUpdates++
	failed := o.Failed() && !(a.Task == sched.TaskMonitor && a.Interval == 0)
	if failed {
		c.stats.Failures++
		c.countFailure(a, m)
	}
	if !m.Recurring {
		c.markDone(key)
	}
	if o.Failed() || m.Recurring || !planned {
		// A probe that found the resource running, any failure, or the
		// result of an operation of an earlier membership (its DC is
		// gone): the plan was made on other facts.
		c.changed(fmt.Sprintf("%s %s on %s returned %d (expected %d)", a.Task, a.Resource, a.Node, m.RC, m.ExpectedRC))
	}
}

// countFailure raises the resource's fail count on the node, as the
// controller does on a failed operation: a failed start counts as
// INFINITY (start-failure-is-fatal, the default).
func (c *Controller) countFailure(a sched.Action, m message) {
	name := fmt.Sprintf("fail-count-%s#%s_%d", sched.HistoryID(c.cib, a.Resource, a.Primitive), a.Task, a.Interval.Milliseconds())
	ns := c.cib.NodeState(a.Node)
	cur := cib.Score(0)
	if ns != nil && ns.Transient != nil {
		for _, set := range ns.Transient.Sets {
			for _, p := range set.Pairs {
				if p.Name == name {
					if v, err := cib.ParseScore(p.Value); err == nil {
						cur = v
					}
				}
			}
		}
	}
	next := cur.Add(1)
	if a.Task == sched.TaskStart {
		next = cib.Infinity
	}
	id := strconv.FormatUint(uint64(m.Node), 10)
	setTransient(c.cib, a.Node, id, name, next.String(), false)
	if m.At > 0 {
		setTransient(c.cib, a.Node, id, "last-failure-"+strings.TrimPrefix(name, "fail-count-"), strconv.FormatInt(m.At, 10), false)
	}
}

func (c *Controller) markDone(key actionKey) {
	if t := c.transition; t != nil && key.ring == c.ring && t.id == key.transition {
		if _, ok := t.state[key.action]; ok {
			t.state[key.action] = actionDone
		}
		if c.transitionDone() && !t.aborted {
			c.log.Info("controller: transition complete", "transition", t.id)
		}
	}
}

func (c *Controller) onFenced(m message) {
	delete(c.inflight, actionKey{m.Ring, m.Transition, m.Action})
	name := m.Name
	if name == "" {
		name = c.name(m.Node)
	}
	sched.RecordFenced(c.cib, name, strconv.FormatUint(uint64(m.Node), 10))
	c.cib.NumUpdates++
	c.markDone(actionKey{m.Ring, m.Transition, m.Action})
	c.log.Info("controller: node fenced", "node", name)
	c.changed("node " + name + " fenced")
}

// Tick runs the recurring monitors and the delayed fencing that are due.
func (c *Controller) Tick(now env.Mono) {
	c.now = now
	var wait []delayedFence
	for _, f := range c.delayed {
		if f.due <= now {
			c.fenceNow(f.m)
		} else {
			wait = append(wait, f)
		}
	}
	c.delayed = wait
	if c.hasExpiry && now >= c.expiry && c.settled && c.dc == c.cfg.Self {
		c.hasExpiry = false
		c.changed("a failure expired (failure-timeout)")
	}
	for _, k := range slices.Sorted(maps.Keys(c.monitors)) {
		r := c.monitors[k]
		if r.running || r.stopped || r.next == 0 || now < r.next {
			continue
		}
		c.call++
		req := r.req
		req.Call = c.call
		r.running = true
		c.running[req.Call] = &localOp{exec: r.exec, expectedRC: expectedRC(r.exec, c.cib), recurring: r}
		c.out.Exec = append(c.out.Exec, req)
	}
	c.drive()
}

// NextDeadline is when Tick must next be called.
func (c *Controller) NextDeadline() (env.Mono, bool) {
	var best env.Mono
	found := false
	if w := c.startupWait(); w > 0 && c.settled && c.dc == c.cfg.Self {
		best, found = c.now.Add(w), true
	}
	if c.hasExpiry && c.settled && c.dc == c.cfg.Self && (!found || c.expiry < best) {
		best, found = c.expiry, true
	}
	for _, f := range c.delayed {
		if !found || f.due < best {
			best, found = f.due, true
		}
	}
	for _, r := range c.monitors {
		if r.running || r.stopped || r.next == 0 {
			continue
		}
		if !found || r.next < best {
			best, found = r.next, true
		}
	}
	return best, found
}
