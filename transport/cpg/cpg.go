package cpg

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/hakit/hakit/node/env"
)

// Member is one process in a group: a node and a process id its caller
// chose. Members sort by node, then pid.
type Member struct {
	Node env.NodeID
	PID  uint32
}

func (m Member) compare(o Member) int {
	if c := cmp.Compare(m.Node, o.Node); c != 0 {
		return c
	}
	return cmp.Compare(m.PID, o.PID)
}

// Reason says why a member joined or left, with Corosync's values
// (CPG_REASON_NODEUP, 4, is not used: nodes coming up show as joins).
type Reason uint8

// Reasons.
const (
	ReasonJoin     Reason = 1 // the process joined, or its node merged with ours
	ReasonLeave    Reason = 2 // the process left
	ReasonNodeDown Reason = 3 // its node left the configuration
	ReasonProcDown Reason = 5 // the process ended (LeaveAll)
)

var reasonNames = [...]string{ReasonJoin: "join", ReasonLeave: "leave", ReasonNodeDown: "nodedown", ReasonProcDown: "procdown"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// Change is one member joining or leaving, and why.
type Change struct {
	Member
	Reason Reason
}

// EventKind says what an Event carries.
type EventKind uint8

// Event kinds.
const (
	// EventDeliver is a message multicast to the group (cpg_deliver_fn).
	EventDeliver EventKind = iota + 1
	// EventConfChg is a change of the group's membership (cpg_confchg_fn).
	EventConfChg
	// EventTotem is a new totem configuration, once the groups agree on
	// it, for every local process in some group (cpg_totem_confchg_fn).
	EventTotem
)

// Event is one callback for one local process, in agreed order. The
// slices and the payload are shared between the recipients of one
// change or message: read them, never change them.
type Event struct {
	Kind  EventKind
	To    uint32 // the local process it is for
	Group string // EventDeliver, EventConfChg

	// EventDeliver.
	Sender  Member
	Payload []byte

	// EventConfChg: the members after the change (sorted), and who joined
	// and left in it (sorted by member).
	Members      []Member
	Joined, Left []Change

	// Ring is the totem configuration the event belongs to (EventConfChg,
	// EventTotem): the members of a group see the same ring for the same
	// change, which lets them tell one round of a protocol from the next.
	Ring RingID
	// EventTotem.
	Nodes []env.NodeID
}

// Ready is what the service hands the driver after an input: messages to
// send through the agreed stream (each with ring.Send, in order) and the
// callbacks for local processes. Pass it back to Advance once carried out.
type Ready struct {
	Broadcast [][]byte
	Events    []Event

	exchange    RingID // the configuration whose announcement Broadcast starts with
	hasExchange bool
	nOut        int // how many of Broadcast came from the queue of re-sends
}

// Stats counts what the service dropped on the agreed stream.
type Stats struct {
	Malformed     uint64 // payloads that did not decode (every replica drops them alike)
	StaleRing     uint64 // exchange messages of another ring
	Outsider      uint64 // messages from a node outside the configuration, or before the first
	NotMember     uint64 // multicasts from a process not in the group when delivered
	Dropped       uint64 // operations held back past the bound, or still held at a configuration change
	Exchanges     uint64 // exchanges completed
	EventsPending int    // events not yet handed out
}

// Status is the service's view, for status displays and scenarios.
type Status struct {
	Ring        RingID
	Nodes       []env.NodeID
	Synced      bool // every member's announcement is in: operations are applied
	Groups      int
	Memberships int // (process, group) pairs, over all nodes
	Held        int // operations held back until the exchange ends
	Pending     int // this node's membership changes in flight
}

// key is one (local process, group) pair.
type key struct {
	pid   uint32
	group string
}

// intent is what this node wants for one of its (process, group) pairs;
// the table follows it through this node's own join and leave messages.
type intent struct {
	want     bool
	reason   Reason // for a leave: ReasonLeave or ReasonProcDown
	inflight int    // own join/leave messages not yet delivered
}

type heldOp struct {
	sender env.NodeID
	m      Message
}

// announcement collects one member's exchange chunks.
type announcement struct {
	entries     []Entry
	next, total int // next < 0: waiting for a first chunk
	done        bool
}

const (
	maxHeld      = 1024
	maxHeldBytes = 4 << 20
)

// Service is one node's replica of the group table, plus the side of its
// local processes. It is a pure state machine: see the package
// documentation for the loop that drives it.
type Service struct {
	self env.NodeID

	// The replicated state: every group's members, sorted, never empty.
	groups map[string][]Member

	// This node's processes.
	local         map[key]*intent
	retry         []key // pairs whose message the ring refused
	retryExchange bool

	// The current configuration.
	inRing       bool
	ring         RingID
	nodes        []env.NodeID
	synced       bool
	announce     map[env.NodeID]*announcement
	needExchange bool
	held         []heldOp
	heldBytes    int

	// Outputs.
	events []Event
	out    [][]byte // membership messages re-sent by reconcile
	stats  Stats
}

// New returns the service for node self, with no groups. It applies
// nothing until its first Configuration.
func New(self env.NodeID) *Service {
	return &Service{self: self, groups: map[string][]Member{}, local: map[key]*intent{}}
}

// ---- local processes -------------------------------------------------------

// Join validates a join of process pid to group and returns the message
// to send through the agreed stream. The table changes when the message is
// delivered: then every member, pid included, gets the confchg. Errors:
// ErrBadGroup, ErrAlreadyJoined (joined or joining), ErrTooMany.
func (s *Service) Join(pid uint32, group string) ([]byte, error) {
	if !validGroup(group) {
		return nil, ErrBadGroup
	}
	k := key{pid, group}
	it := s.local[k]
	if it != nil && it.want {
		return nil, ErrAlreadyJoined
	}
	if it == nil {
		if len(s.local) >= MaxMemberships {
			return nil, ErrTooMany
		}
		it = &intent{}
		s.local[k] = it
	}
	it.want = true
	it.inflight++
	return encodeOp(MsgJoin, pid, group, 0, nil), nil
}

// Leave validates a leave of process pid from group and returns the
// message to send. A pending join may be left: the process sees its join,
// then its leave. Errors: ErrBadGroup, ErrNotJoined.
func (s *Service) Leave(pid uint32, group string) ([]byte, error) {
	if !validGroup(group) {
		return nil, ErrBadGroup
	}
	it := s.local[key{pid, group}]
	if it == nil || !it.want {
		return nil, ErrNotJoined
	}
	it.want, it.reason = false, ReasonLeave
	it.inflight++
	return encodeOp(MsgLeave, pid, group, ReasonLeave, nil), nil
}

// LeaveAll returns the leaves, reason ReasonProcDown, of every group
// process pid is joined to or joining, in group order: the driver calls it
// when the process's connection closes.
func (s *Service) LeaveAll(pid uint32) [][]byte {
	var groups []string
	for k, it := range s.local {
		if k.pid == pid {
			it.reason = ReasonProcDown // re-sent leaves too: the process is gone
			if it.want {
				groups = append(groups, k.group)
			}
		}
	}
	slices.Sort(groups)
	out := make([][]byte, 0, len(groups))
	for _, g := range groups {
		it := s.local[key{pid, g}]
		it.want = false
		it.inflight++
		out = append(out, encodeOp(MsgLeave, pid, g, ReasonProcDown, nil))
	}
	return out
}

// Mcast validates a message from process pid to group and returns it to
// send. The process must be joined or joining (its message is ordered
// after its join). It is delivered to the members at the point of
// delivery, if pid is still one of them. Errors: ErrBadGroup,
// ErrNotJoined, ErrTooLarge.
func (s *Service) Mcast(pid uint32, group string, payload []byte) ([]byte, error) {
	if !validGroup(group) {
		return nil, ErrBadGroup
	}
	if it := s.local[key{pid, group}]; it == nil || !it.want {
		return nil, ErrNotJoined
	}
	if opHeader+len(group)+len(payload) > MaxMessage {
		return nil, ErrTooLarge
	}
	return encodeOp(MsgMcast, pid, group, 0, payload), nil
}

// Unsent takes back a message the ring refused to queue (a full send
// queue). A refused multicast is forgotten: the driver reports the error
// to its process. A join or leave stays wanted, and an exchange chunk
// restarts this node's announcement: both are sent again after the next
// delivery or configuration (not at once, which would spin while the
// queue is full).
func (s *Service) Unsent(msg []byte) {
	m, err := Decode(msg)
	if err != nil {
		return
	}
	switch m.Kind {
	case MsgJoin, MsgLeave:
		k := key{m.PID, m.Group}
		if it := s.local[k]; it != nil && it.inflight > 0 {
			it.inflight--
			s.retry = append(s.retry, k)
		}
	case MsgExchange:
		s.retryExchange = s.retryExchange || s.inRing && m.Ring == s.ring
	}
}

// flushRetries re-sends what the ring refused, once it moves again.
func (s *Service) flushRetries() {
	for _, k := range s.retry {
		s.reconcile(k)
	}
	s.retry = nil
	if s.retryExchange {
		s.retryExchange = false
		if a := s.announce[s.self]; !s.synced && (a == nil || !a.done) {
			s.needExchange = true
		}
	}
}

// reconcile sends what moves the table towards this node's wish for k,
// once nothing for k is in flight. The table holds what every replica
// applied; a join or leave that was dropped (held back past the bound, or
// at a configuration change before the exchange ended) is sent again.
func (s *Service) reconcile(k key) {
	it := s.local[k]
	if it == nil || it.inflight > 0 {
		return
	}
	switch in := s.isMember(k.group, Member{s.self, k.pid}); {
	case it.want == in:
		if !in {
			delete(s.local, k)
		}
		return
	case it.want:
		s.out = append(s.out, encodeOp(MsgJoin, k.pid, k.group, 0, nil))
	default:
		s.out = append(s.out, encodeOp(MsgLeave, k.pid, k.group, it.reason, nil))
	}
	it.inflight++
}

// settleOwn records that one of this node's joins or leaves was delivered,
// applied or dropped.
func (s *Service) settleOwn(k key) {
	it := s.local[k]
	switch {
	case it == nil:
		// Nobody here wants this membership (a message of an earlier
		// life of this node): make sure it goes.
		s.local[k] = &intent{reason: ReasonLeave}
	case it.inflight > 0:
		it.inflight--
	}
	s.reconcile(k)
}

// ---- the agreed stream -----------------------------------------------------

// Configuration installs a regular configuration: ring is its id and
// nodes its members (this node included). Call it for every regular
// configuration, after the old ring's last delivery and before the new
// ring's first one.
//
// Members on nodes that are gone leave their groups (ReasonNodeDown), in
// group then member order. Operations still held back (the previous
// exchange never ended) are dropped: the members that move on together
// dropped the same ones, and this node re-sends its own joins and leaves.
// Then the exchange starts: Ready's next Broadcast is this node's
// announcement.
func (s *Service) Configuration(ring RingID, nodes []env.NodeID) {
	s.flushRetries()
	held := s.held
	s.held, s.heldBytes = nil, 0
	s.stats.Dropped += uint64(len(held))
	for _, h := range held {
		s.drop(h.sender, h.m)
	}
	s.inRing, s.ring, s.synced = true, ring, false
	s.nodes = slices.Compact(slices.Sorted(slices.Values(nodes)))
	s.announce = map[env.NodeID]*announcement{}
	s.needExchange, s.retryExchange = true, false
	for _, g := range slices.Sorted(maps.Keys(s.groups)) {
		var kept []Member
		var left []Change
		for _, m := range s.groups[g] {
			if s.isNode(m.Node) {
				kept = append(kept, m)
			} else {
				left = append(left, Change{m, ReasonNodeDown})
			}
		}
		if len(left) > 0 {
			s.setGroup(g, kept)
			s.confChg(g, nil, left)
		}
	}
}

// Transitional applies a transitional configuration: nodes are the
// members of the old ring that move to the new one together with this
// node. A process on any other node has left, even if its node is back
// in the new ring (it failed or restarted in between: its process is not
// the one that was there), so its groups see it leave now and, if it is
// still there, join again when the new ring's exchange ends, as
// Corosync's CPG reports it.
func (s *Service) Transitional(nodes []env.NodeID) {
	for _, g := range slices.Sorted(maps.Keys(s.groups)) {
		var kept []Member
		var left []Change
		for _, m := range s.groups[g] {
			if slices.Contains(nodes, m.Node) {
				kept = append(kept, m)
			} else {
				left = append(left, Change{m, ReasonNodeDown})
			}
		}
		if len(left) > 0 {
			s.setGroup(g, kept)
			s.confChg(g, nil, left)
		}
	}
}

// Apply takes one message delivered by the agreed stream: every replica,
// the sender's included, gets the same messages in the same order. It
// returns an error only for a payload that does not decode; every replica
// drops that one alike.
func (s *Service) Apply(sender env.NodeID, payload []byte) error {
	s.flushRetries()
	m, err := Decode(payload)
	if err != nil {
		s.stats.Malformed++
		return err
	}
	if m.Kind == MsgExchange {
		switch {
		case !s.inRing || m.Ring != s.ring:
			s.stats.StaleRing++
		case !s.isNode(sender):
			s.stats.Outsider++
		default:
			s.onExchange(sender, m)
		}
		return nil
	}
	switch {
	case !s.inRing || !s.isNode(sender):
		s.stats.Outsider++
		s.drop(sender, m)
	case s.synced:
		s.applyOp(sender, m)
	case len(s.held) >= maxHeld || s.heldBytes+len(m.Group)+len(m.Payload) > maxHeldBytes:
		s.stats.Dropped++
		s.drop(sender, m)
	default:
		// Until every member's announcement is in, replicas that came
		// from different sides hold different tables: an operation
		// applied now could have different effects on each.
		s.held = append(s.held, heldOp{sender, m})
		s.heldBytes += len(m.Group) + len(m.Payload)
	}
	return nil
}

// drop discards an operation, re-sending it if it was one of this node's
// joins or leaves.
func (s *Service) drop(sender env.NodeID, m Message) {
	if sender == s.self && m.Kind != MsgMcast {
		s.settleOwn(key{m.PID, m.Group})
	}
}

func (s *Service) applyOp(sender env.NodeID, m Message) {
	mem := Member{sender, m.PID}
	switch m.Kind {
	case MsgJoin:
		if !s.isMember(m.Group, mem) {
			s.setGroup(m.Group, insertMember(s.groups[m.Group], mem))
			s.confChg(m.Group, []Change{{mem, ReasonJoin}}, nil)
		}
	case MsgLeave:
		if s.isMember(m.Group, mem) {
			s.setGroup(m.Group, slices.DeleteFunc(slices.Clone(s.groups[m.Group]), func(o Member) bool { return o == mem }))
			s.confChg(m.Group, nil, []Change{{mem, m.Reason}})
		}
	case MsgMcast:
		if !s.isMember(m.Group, mem) {
			s.stats.NotMember++
			return
		}
		for _, pid := range s.localPIDs(s.groups[m.Group]) {
			s.events = append(s.events, Event{Kind: EventDeliver, To: pid, Group: m.Group, Sender: mem, Payload: m.Payload})
		}
		return
	}
	if sender == s.self {
		s.settleOwn(key{m.PID, m.Group})
	}
}

// ---- the exchange ----------------------------------------------------------

func (s *Service) onExchange(sender env.NodeID, m Message) {
	if s.synced {
		return // a late re-send
	}
	a := s.announce[sender]
	if a == nil {
		a = &announcement{next: -1}
		s.announce[sender] = a
	}
	if a.done {
		return
	}
	if m.Index == 0 {
		// A first chunk restarts the announcement: the sender re-sends
		// all of it when the ring refused a chunk.
		a.entries, a.next, a.total = nil, 0, m.Total
	}
	if m.Index != a.next || m.Total != a.total {
		a.next = -1
		return
	}
	a.entries = append(a.entries, m.Entries...)
	a.next++
	if a.next < a.total {
		return
	}
	a.done = true
	for _, n := range s.nodes {
		if a := s.announce[n]; a == nil || !a.done {
			return
		}
	}
	s.finishExchange()
}

// finishExchange installs the table every member announced, at the same
// point of the stream on every replica: each node's memberships are what
// it announced, so all replicas now hold the same table. Local processes
// see one confchg per changed group (joins, and departures the exchange
// revealed as ReasonNodeDown), then the totem confchg, then the operations
// held back, in order.
func (s *Service) finishExchange() {
	next := map[string][]Member{}
	for _, n := range s.nodes {
		for _, e := range s.announce[n].entries {
			next[e.Group] = append(next[e.Group], Member{n, e.PID})
		}
	}
	names := slices.Collect(maps.Keys(s.groups))
	for g := range next {
		names = append(names, g)
	}
	slices.Sort(names)
	for _, g := range slices.Compact(names) {
		ms := slices.SortedFunc(slices.Values(next[g]), Member.compare)
		ms = slices.Compact(ms) // a node's chunks may repeat an entry
		joined, left := diff(s.groups[g], ms)
		if len(joined) > 0 || len(left) > 0 {
			s.setGroup(g, ms)
			s.confChg(g, joined, left)
		}
	}
	s.synced, s.announce = true, nil
	s.stats.Exchanges++
	var all []Member
	for _, ms := range s.groups {
		all = append(all, ms...)
	}
	for _, pid := range s.localPIDs(all) {
		s.events = append(s.events, Event{Kind: EventTotem, To: pid, Ring: s.ring, Nodes: s.nodes})
	}
	held := s.held
	s.held, s.heldBytes = nil, 0
	for _, h := range held {
		s.applyOp(h.sender, h.m)
	}
}

// diff compares two sorted member lists.
func diff(old, next []Member) (joined, left []Change) {
	i, j := 0, 0
	for i < len(old) || j < len(next) {
		switch {
		case j == len(next) || i < len(old) && old[i].compare(next[j]) < 0:
			left = append(left, Change{old[i], ReasonNodeDown})
			i++
		case i == len(old) || old[i].compare(next[j]) > 0:
			joined = append(joined, Change{next[j], ReasonJoin})
			j++
		default:
			i++
			j++
		}
	}
	return joined, left
}

// ownEntries returns this node's memberships, sorted by (group, pid).
func (s *Service) ownEntries() []Entry {
	var out []Entry
	for _, g := range slices.Sorted(maps.Keys(s.groups)) {
		for _, pid := range s.localPIDs(s.groups[g]) {
			out = append(out, Entry{g, pid})
		}
	}
	return out
}

// ---- the table -------------------------------------------------------------

func (s *Service) setGroup(g string, ms []Member) {
	if len(ms) == 0 {
		delete(s.groups, g)
		return
	}
	s.groups[g] = ms
}

func insertMember(ms []Member, m Member) []Member {
	i, _ := slices.BinarySearchFunc(ms, m, Member.compare)
	return slices.Insert(slices.Clone(ms), i, m)
}

func (s *Service) isMember(g string, m Member) bool {
	_, ok := slices.BinarySearchFunc(s.groups[g], m, Member.compare)
	return ok
}

func (s *Service) isNode(n env.NodeID) bool {
	_, ok := slices.BinarySearch(s.nodes, n)
	return ok
}

// localPIDs returns the distinct pids of this node's members among ms, in
// ascending order.
func (s *Service) localPIDs(ms []Member) []uint32 {
	var pids []uint32
	for _, m := range ms {
		if m.Node == s.self {
			pids = append(pids, m.PID)
		}
	}
	slices.Sort(pids)
	return slices.Compact(pids)
}

// confChg tells group g's local members, and local processes that just
// left it, about a change. The table already holds the new members.
func (s *Service) confChg(g string, joined, left []Change) {
	ms := s.groups[g]
	var gone []Member
	for _, c := range left {
		gone = append(gone, c.Member)
	}
	for _, pid := range s.localPIDs(append(slices.Clone(ms), gone...)) {
		s.events = append(s.events, Event{Kind: EventConfChg, To: pid, Group: g, Members: ms, Joined: joined, Left: left, Ring: s.ring})
	}
}

// ---- Ready -----------------------------------------------------------------

// HasReady reports whether Ready has anything.
func (s *Service) HasReady() bool {
	return len(s.events) > 0 || len(s.out) > 0 || s.needExchange
}

// Ready returns what the driver must carry out: send each Broadcast
// through the agreed stream, in order (handing any the ring refuses to
// Unsent), and pass each Event to its process, then call Advance with it.
// Inputs between Ready and Advance are allowed; what they add comes with
// the next Ready.
func (s *Service) Ready() Ready {
	rd := Ready{Events: slices.Clip(s.events), nOut: len(s.out)}
	if s.needExchange {
		// Built now, not at Configuration: this node's memberships cannot
		// change before its announcement is delivered, and a
		// configuration superseded before Ready costs nothing.
		rd.Broadcast = encodeExchange(s.ring, s.ownEntries())
		rd.exchange, rd.hasExchange = s.ring, true
	}
	rd.Broadcast = append(rd.Broadcast, s.out...)
	return rd
}

// Advance records that rd was carried out.
func (s *Service) Advance(rd Ready) {
	s.events = dropFront(s.events, len(rd.Events))
	s.out = dropFront(s.out, rd.nOut)
	if rd.hasExchange && rd.exchange == s.ring {
		s.needExchange = false
	}
}

func dropFront[T any](s []T, n int) []T {
	if n >= len(s) {
		return nil
	}
	return s[n:]
}

// ---- inspection ------------------------------------------------------------

// Groups returns a copy of the table; walk it in sorted key order where
// the order reaches an output.
func (s *Service) Groups() map[string][]Member {
	out := make(map[string][]Member, len(s.groups))
	for g, ms := range s.groups {
		out[g] = slices.Clone(ms)
	}
	return out
}

// Members returns group's members, sorted.
func (s *Service) Members(group string) []Member { return slices.Clone(s.groups[group]) }

// Stats returns the service's counters.
func (s *Service) Stats() Stats {
	st := s.stats
	st.EventsPending = len(s.events)
	return st
}

// Status returns the service's view.
func (s *Service) Status() Status {
	st := Status{Ring: s.ring, Nodes: slices.Clone(s.nodes), Synced: s.synced, Groups: len(s.groups), Held: len(s.held)}
	for _, ms := range s.groups {
		st.Memberships += len(ms)
	}
	for _, it := range s.local {
		st.Pending += it.inflight
	}
	return st
}
