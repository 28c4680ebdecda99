package totem

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/hakit/hakit/node/env"
)

// State is Totem SRP's membership state.
type State uint8

const (
	StateGather State = iota
	StateCommit
	StateRecovery
	StateOperational
)

func (s State) String() string {
	return [...]string{"gather", "commit", "recovery", "operational"}[s]
}

// EventKind says what an Event carries.
type EventKind uint8

const (
	// EventDeliver is an application message in agreed order.
	EventDeliver EventKind = iota
	// EventTransitional is extended virtual synchrony's transitional
	// configuration: the members of the old ring that moved on together.
	// Every old-ring message is delivered before it; every new-ring message
	// after the regular configuration that follows it.
	EventTransitional
	// EventRegular is a new ring's configuration.
	EventRegular
)

func (k EventKind) String() string {
	return [...]string{"deliver", "transitional", "regular"}[k]
}

// Event is one item of the ordered output stream.
type Event struct {
	Kind EventKind
	Ring RingID
	// For EventDeliver: the original sender and the message. The payload is
	// shared with the ring's buffers: read it, copy it, never change it.
	Sender  env.NodeID
	Seq     uint64
	Payload []byte
	// For configurations: the members (sorted), and who joined and left
	// relative to the previous configuration this node delivered.
	Members, Joined, Left []env.NodeID
}

// Outbound is a message to send. To is a node, or Broadcast for every
// other node of the nodelist.
type Outbound struct {
	To  env.NodeID
	Msg Message
}

// Broadcast as Outbound.To sends to every other node of the nodelist.
const Broadcast env.NodeID = 0

// Persistent is the state that must survive a restart.
type Persistent struct {
	// RingSeq is the highest ring sequence this node has taken part in;
	// rings it forms later get higher ones.
	RingSeq uint64
}

// Ready is a batch of work for the driver. Persist (if set) must be durable
// before any of Messages is sent, since the messages may carry the ring
// sequence it records; Events go to the application in order.
type Ready struct {
	Persist  *Persistent
	Messages []Outbound
	Events   []Event
}

// Empty reports whether there is nothing to do.
func (rd Ready) Empty() bool {
	return rd.Persist == nil && len(rd.Messages) == 0 && len(rd.Events) == 0
}

// Stats counts what a ring did.
type Stats struct {
	TokensReceived, DuplicateTokens, TokenRetransmits, TokenLosses           uint64
	MessagesSent, MessagesDelivered, RetransmitsSent, RetransmitsRequested   uint64
	Gathers, ConsensusTimeouts, RingsFormed, FailedToReceive, PausesDetected uint64
	Ignored                                                                  uint64
}

// ErrBackpressure is returned by Send when the send queue is full.
var ErrBackpressure = errors.New("totem: send queue full")

// ErrTooLarge is returned by Send for a payload above MaxPayload.
var ErrTooLarge = errors.New("totem: message larger than MaxPayload")

// Ring is one node's view of the totem single-ring protocol (Amir et al.,
// "The Totem single-ring ordering and membership protocol", TOCS 1995, as
// Corosync implements it). It is a pure state machine: the caller feeds it
// messages (Step), application sends (Send) and the passing of time (Tick),
// and carries out what Ready returns. See doc.go for the loop.
type Ring struct {
	cfg   Config
	log   *slog.Logger
	state State
	stats Stats

	highestRingSeq uint64

	// The ring this node is in: operational, being recovered into, or (in
	// gather and commit) the last one it was in.
	ring      RingID
	members   []env.NodeID
	installed bool // its regular configuration was delivered
	cur       *ringLog

	// The last installed ring while a new one is formed: its messages are
	// recovered and delivered before the transitional configuration.
	oldRing    RingID
	oldMembers []env.NodeID
	old        *ringLog

	queue [][]byte

	// Token state in the current ring.
	lastTokenSeq      uint64
	lastSent          Message
	lastSentTo        env.NodeID
	sentLastRotation  int
	backlogContrib    uint32
	aruHistory        [3]uint64 // incoming aru at this node's last visits
	visits            int
	seqAtLastVisit    uint64
	unchanged         int
	holding           *Token
	holdCancelPending bool
	missing           map[uint64]int // seq -> rotations it has been missing

	// Membership.
	procs, failed []env.NodeID
	agreed        map[env.NodeID]bool
	commit        *CommitToken
	// Recovery.
	recoveryQueue []*Mcast
	recoveryHigh  uint64
	transMembers  []env.NodeID
	pendingSeen   bool
	pendingSeq    uint64

	// excluded are the nodes this node must not form a ring with: not
	// fully connected to it (SetExcluded).
	excluded []env.NodeID

	// Deadlines; zero means unset. excludeAt is when a member that is
	// excluded stops being tolerated in the current ring.
	tokenLossAt, retransmitAt, holdUntil, joinAt, consensusAt, mergeAt, excludeAt env.Mono
	lastInput                                                                     env.Mono
	lastPauseAt                                                                   env.Mono
	pauseExcused                                                                  bool

	ready Ready
}

// ringLog is the receive buffer of one ring.
type ringLog struct {
	msgs      map[uint64]*Mcast
	aru       uint64 // all received up to
	high      uint64 // highest received
	delivered uint64 // highest delivered (or skipped, for encapsulated ones)
	collected uint64 // everything up to here was discarded as received by all
}

func newLog() *ringLog { return &ringLog{msgs: map[uint64]*Mcast{}} }

// store adds m and reports whether it was new.
func (l *ringLog) store(m *Mcast) bool {
	if m.Seq <= l.collected || l.msgs[m.Seq] != nil {
		return false
	}
	l.msgs[m.Seq] = m
	l.high = max(l.high, m.Seq)
	for l.msgs[l.aru+1] != nil {
		l.aru++
	}
	return true
}

// New returns a ring for cfg that starts gathering at now. st is the
// persisted state of the previous run (zero on first start).
func New(cfg Config, st Persistent, now env.Mono) (*Ring, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.Nodes = slices.Clone(cfg.Nodes)
	slices.Sort(cfg.Nodes)
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The boot ring is a ring of one that only this node could have formed
	// (its own id, a sequence above any it has used), so a restarted node
	// never claims the old-ring messages of the ring it was in before.
	seq := st.RingSeq + 4
	r := &Ring{
		cfg: cfg, log: log,
		highestRingSeq: seq,
		ring:           RingID{Seq: seq, Rep: cfg.Self},
		members:        []env.NodeID{cfg.Self},
		installed:      true,
		cur:            newLog(),
		old:            newLog(),
		missing:        map[uint64]int{},
		lastInput:      now,
	}
	r.persist()
	r.enterGather(now, "start")
	return r, nil
}

// State returns the membership state.
func (r *Ring) State() State { return r.state }

// RingID returns the current ring's id.
func (r *Ring) RingID() RingID { return r.ring }

// Members returns the current ring's members.
func (r *Ring) Members() []env.NodeID { return slices.Clone(r.members) }

// Stats returns the counters.
func (r *Ring) Stats() Stats { return r.stats }

// QueueLen returns how many messages wait for the token.
func (r *Ring) QueueLen() int { return len(r.queue) }

// Ready returns the pending batch; call Advance with it once carried out.
func (r *Ring) Ready() Ready { return r.ready }

// Advance discards the batch returned by Ready.
func (r *Ring) Advance(rd Ready) {
	if len(rd.Messages) == len(r.ready.Messages) && len(rd.Events) == len(r.ready.Events) {
		r.ready = Ready{}
		return
	}
	r.ready.Messages = r.ready.Messages[len(rd.Messages):]
	r.ready.Events = r.ready.Events[len(rd.Events):]
	if rd.Persist != nil {
		r.ready.Persist = nil
	}
}

// Send queues an application message for ordered delivery to the ring.
func (r *Ring) Send(now env.Mono, payload []byte) error {
	if len(payload) > MaxPayload {
		return ErrTooLarge
	}
	if len(r.queue) >= r.cfg.SendQueueMax {
		return ErrBackpressure
	}
	r.queue = append(r.queue, slices.Clone(payload))
	if r.state == StateOperational {
		switch {
		case r.holding != nil:
			r.releaseHold(now)
		case r.unchanged >= r.cfg.SeqnoUnchangedConst && !r.holdCancelPending && len(r.members) > 1:
			// The ring is idle, so the token is probably held: ask for it.
			r.holdCancelPending = true
			r.send(r.ring.Rep, &HoldCancel{Ring: r.ring})
		}
	}
	return nil
}

// Step handles one message received from node from (the transport has
// authenticated from).
func (r *Ring) Step(now env.Mono, from env.NodeID, m Message) error {
	if from == r.cfg.Self || !slices.Contains(r.cfg.Nodes, from) {
		r.stats.Ignored++
		return fmt.Errorf("totem: message from %d, not a peer in the nodelist", from)
	}
	r.lastInput = now
	switch m := m.(type) {
	case *Token:
		r.handleToken(now, from, m)
	case *Mcast:
		r.handleMcast(now, from, m)
	case *Join:
		if m.Sender != from {
			r.stats.Ignored++
			return fmt.Errorf("totem: join claims sender %d but came from %d", m.Sender, from)
		}
		r.handleJoin(now, m)
	case *CommitToken:
		r.handleCommit(now, m)
	case *MergeDetect:
		r.handleMergeDetect(now, from, m)
	case *HoldCancel:
		if m.Ring == r.ring && r.holding != nil {
			r.releaseHold(now)
		}
	default:
		return fmt.Errorf("totem: unknown message %T", m)
	}
	return nil
}

// NextDeadline returns the earliest pending deadline.
func (r *Ring) NextDeadline() (env.Mono, bool) {
	var next env.Mono
	for _, d := range []env.Mono{r.tokenLossAt, r.retransmitAt, r.holdUntil, r.joinAt, r.consensusAt, r.mergeAt, r.excludeAt} {
		if d != 0 && (next == 0 || d < next) {
			next = d
		}
	}
	return next, next != 0
}

// Tick fires every deadline that has passed. If the node itself did not
// run for a long time (a paused process: now is far beyond the earliest
// deadline), its timers are stale: it shifts them by the pause and says so
// instead of declaring the token lost on evidence it slept through.
func (r *Ring) Tick(now env.Mono) {
	next, ok := r.NextDeadline()
	if !ok || now < next {
		return
	}
	// One pause is excused per token period: a loop that is late at every
	// tick must still lose the token, or a dead ring would never reform.
	if late := now.Sub(next); late > r.cfg.Token/2 && (!r.pauseExcused || now.Sub(r.lastPauseAt) > r.cfg.Token+late) {
		r.pauseExcused, r.lastPauseAt = true, now
		r.stats.PausesDetected++
		r.log.Warn("process was not scheduled; not acting on stale timers", "late", late, "state", r.state)
		r.shiftDeadlines(late)
		r.lastInput = now
		return
	}
	r.lastInput = now
	if r.holdUntil != 0 && now >= r.holdUntil {
		r.holdUntil = 0
		r.releaseHold(now)
	}
	if r.retransmitAt != 0 && now >= r.retransmitAt {
		r.retransmitAt = now.Add(r.cfg.TokenRetransmit)
		if r.lastSent != nil {
			r.stats.TokenRetransmits++
			r.send(r.lastSentTo, r.lastSent)
		}
	}
	if r.tokenLossAt != 0 && now >= r.tokenLossAt {
		r.stats.TokenLosses++
		r.log.Info("a processor failed, forming new configuration: token timed out",
			"token", r.cfg.Token, "consensus", r.cfg.Consensus, "state", r.state, "ring", r.ring)
		r.enterGather(now, "token lost")
	}
	if r.joinAt != 0 && now >= r.joinAt {
		r.joinAt = now.Add(r.cfg.Join)
		r.sendJoin()
	}
	if r.consensusAt != 0 && now >= r.consensusAt {
		r.onConsensusTimeout(now)
	}
	if r.mergeAt != 0 && now >= r.mergeAt {
		r.mergeAt = now.Add(r.cfg.Merge)
		r.sendMergeDetect()
	}
	if r.excludeAt != 0 && now >= r.excludeAt {
		r.excludeAt = 0
		if bad := r.excludedMembers(); r.state == StateOperational && len(bad) > 0 {
			r.enterGather(now, fmt.Sprintf("no direct link to members %v for a token timeout", bad))
		}
	}
}

// SetExcluded tells the ring which nodes it must not form a ring with
// because they are not fully connected to this node (see Partition). In
// gather they are declared failed at once, and their joins, merge
// announcements and messages are ignored, so a node that reaches only
// some of the others cannot keep pulling them into new gatherings. A
// member of the current ring that stays excluded for Token makes the ring
// re-form without it: a link that drops for less (a short pause) changes
// nothing, as in Corosync.
func (r *Ring) SetExcluded(now env.Mono, nodes []env.NodeID) {
	var ex []env.NodeID
	for _, n := range nodes {
		if n != r.cfg.Self && slices.Contains(r.cfg.Nodes, n) {
			ex, _ = addSorted(ex, n)
		}
	}
	if slices.Equal(ex, r.excluded) {
		return
	}
	r.log.Info("connectivity changed", "excluded", ex, "was", r.excluded)
	was := r.excluded
	r.excluded = ex
	switch r.state {
	case StateGather:
		// The failed set only grows within a round, which is what makes
		// a round end; a node that became reachable again starts a new
		// round without it, or a node whose links came up at start would
		// stay failed until Consensus expires.
		changed := false
		for _, n := range ex {
			var ok bool
			r.failed, ok = addSorted(r.failed, n)
			changed = changed || ok
		}
		for _, n := range setMinus(was, ex) {
			if i := slices.Index(r.failed, n); i >= 0 {
				r.failed = slices.Delete(r.failed, i, i+1)
				r.procs, _ = addSorted(r.procs, n)
				changed = true
			}
		}
		if changed {
			r.agreed = map[env.NodeID]bool{r.cfg.Self: true}
			r.consensusAt = now.Add(r.cfg.Consensus)
			// Agreement comes from the joins the others send back, never
			// from this node alone (see enterGather).
			r.sendJoin()
		}
	case StateOperational:
		r.armExclusion(now)
	}
}

// Excluded returns the nodes set by SetExcluded.
func (r *Ring) Excluded() []env.NodeID { return slices.Clone(r.excluded) }

func (r *Ring) excludedMembers() []env.NodeID {
	var out []env.NodeID
	for _, n := range r.members {
		if slices.Contains(r.excluded, n) {
			out = append(out, n)
		}
	}
	return out
}

func (r *Ring) armExclusion(now env.Mono) {
	switch {
	case len(r.excludedMembers()) == 0:
		r.excludeAt = 0
	case r.excludeAt == 0:
		r.excludeAt = now.Add(r.cfg.Token)
	}
}

func (r *Ring) shiftDeadlines(d time.Duration) {
	for _, p := range []*env.Mono{&r.tokenLossAt, &r.retransmitAt, &r.holdUntil, &r.joinAt, &r.consensusAt, &r.mergeAt, &r.excludeAt} {
		if *p != 0 {
			*p = p.Add(d)
		}
	}
}

func (r *Ring) send(to env.NodeID, m Message) {
	r.ready.Messages = append(r.ready.Messages, Outbound{To: to, Msg: m})
}

// sendToMembers sends m to every other member of the current ring.
func (r *Ring) sendToMembers(m Message) {
	for _, n := range r.members {
		if n != r.cfg.Self {
			r.send(n, m)
		}
	}
}

func (r *Ring) emit(e Event) { r.ready.Events = append(r.ready.Events, e) }

func (r *Ring) persist() {
	r.ready.Persist = &Persistent{RingSeq: r.highestRingSeq}
}

func (r *Ring) isRep() bool { return len(r.members) > 0 && r.members[0] == r.cfg.Self }

// successor is the next member after self in ring order.
func (r *Ring) successor(members []env.NodeID) env.NodeID {
	i := slices.Index(members, r.cfg.Self)
	return members[(i+1)%len(members)]
}

// ---- Operational: the token and ordered messages ------------------------

func (r *Ring) handleToken(now env.Mono, from env.NodeID, t *Token) {
	if t.Ring != r.ring || (r.state != StateOperational && r.state != StateRecovery) {
		r.stats.Ignored++
		return
	}
	if t.TokenSeq <= r.lastTokenSeq {
		r.stats.DuplicateTokens++
		return
	}
	r.processToken(now, cloneToken(t))
}

func cloneToken(t *Token) *Token {
	c := *t
	c.RTR = slices.Clone(t.RTR)
	c.Pending = slices.Clone(t.Pending)
	return &c
}

// processToken is one visit of the token: retransmit what others miss,
// request what we miss, send new messages within flow control, update the
// aru, collect garbage, deliver, then pass the token on (or hold it).
func (r *Ring) processToken(now env.Mono, tok *Token) {
	r.lastTokenSeq = tok.TokenSeq
	r.stats.TokensReceived++
	r.lastSent, r.retransmitAt = nil, 0
	r.tokenLossAt = now.Add(r.cfg.Token)
	r.holdCancelPending = false

	// Retransmit what others asked for and we have.
	keep := tok.RTR[:0]
	for _, s := range tok.RTR {
		if m := r.cur.msgs[s]; m != nil {
			r.sendToMembers(m)
			r.stats.RetransmitsSent++
		} else {
			keep = append(keep, s)
		}
	}
	tok.RTR = keep
	// Ask for what we miss; give up on a message missing for
	// fail_recv_const rotations (Corosync's FAILED TO RECEIVE).
	for s := r.cur.aru + 1; s <= tok.Seq; s++ {
		if r.cur.msgs[s] != nil {
			delete(r.missing, s)
			continue
		}
		r.missing[s]++
		if r.missing[s] > r.cfg.FailRecvConst {
			r.stats.FailedToReceive++
			r.log.Warn("FAILED TO RECEIVE", "seq", s, "ring", r.ring)
			r.enterGather(now, "failed to receive")
			return
		}
		if len(tok.RTR) < MaxRTR && !slices.Contains(tok.RTR, s) {
			tok.RTR = append(tok.RTR, s)
			r.stats.RetransmitsRequested++
		}
	}

	// Send within flow control: at most max_messages per visit and
	// window_size per rotation, and never so far ahead of the slowest member
	// that its retransmission buffer would grow without bound.
	fcc := max(int(tok.FCC)-r.sentLastRotation, 0)
	allowed := min(r.cfg.MaxMessages, r.cfg.WindowSize-fcc)
	if ahead := tok.Seq - min(tok.ARU, tok.Seq); ahead >= uint64(4*r.cfg.WindowSize) {
		allowed = 0
	}
	sent := 0
	for ; sent < allowed; sent++ {
		var m *Mcast
		switch {
		case r.state == StateRecovery && len(r.recoveryQueue) > 0:
			m, r.recoveryQueue = r.recoveryQueue[0], r.recoveryQueue[1:]
		case r.state == StateOperational && len(r.queue) > 0:
			m = &Mcast{Sender: r.cfg.Self, Payload: r.queue[0]}
			r.queue[0] = nil
			r.queue = r.queue[1:]
			r.stats.MessagesSent++
		}
		if m == nil {
			break
		}
		tok.Seq++
		m.Ring, m.Seq = r.ring, tok.Seq
		r.cur.store(m)
		r.sendToMembers(m)
	}
	tok.FCC = uint32(fcc + sent)
	r.sentLastRotation = sent
	tok.Backlog = tok.Backlog - min(tok.Backlog, r.backlogContrib) + uint32(len(r.queue))
	r.backlogContrib = uint32(len(r.queue))

	// Totem's aru rule: lower it to ours, or raise it if we set it last.
	if r.cur.aru < tok.ARU || tok.ARUAddr == r.cfg.Self || tok.ARUAddr == 0 {
		tok.ARU = r.cur.aru
		tok.ARUAddr = r.cfg.Self
		if tok.ARU == tok.Seq {
			tok.ARUAddr = 0
		}
	}

	r.collectGarbage(tok.ARU)
	if r.state == StateOperational {
		r.deliverContiguous()
	}

	if r.state == StateRecovery {
		if len(r.recoveryQueue) == 0 {
			tok.Pending = slices.DeleteFunc(tok.Pending, func(n env.NodeID) bool { return n == r.cfg.Self })
		}
		// Every member has sent all it had to recover once a token shows
		// nobody pending; those messages are numbered at most that token's
		// Seq. When we hold everything up to it, we hold the union of the
		// group's old-ring messages and can install the new ring.
		if len(tok.Pending) == 0 && !r.pendingSeen {
			r.pendingSeen, r.pendingSeq = true, tok.Seq
		}
		if r.pendingSeen && r.cur.aru >= r.pendingSeq {
			r.forwardToken(now, tok)
			r.enterOperational(now)
			return
		}
	}

	if tok.Seq == r.seqAtLastVisit {
		r.unchanged++
	} else {
		r.unchanged = 0
	}
	r.seqAtLastVisit = tok.Seq
	if r.state == StateOperational && r.isRep() && r.unchanged >= r.cfg.SeqnoUnchangedConst &&
		len(r.queue) == 0 && len(tok.RTR) == 0 {
		r.holding, r.holdUntil = tok, now.Add(r.cfg.Hold)
		return
	}
	r.forwardToken(now, tok)
}

func (r *Ring) forwardToken(now env.Mono, tok *Token) {
	tok.TokenSeq++
	next := r.successor(r.members)
	if next == r.cfg.Self {
		// A ring of one: the token comes straight back. Hold it until
		// there is something to send, so an idle single node does not spin.
		r.lastTokenSeq = tok.TokenSeq - 1
		r.holding = tok
		if len(r.queue) > 0 || len(r.recoveryQueue) > 0 || r.state == StateRecovery {
			r.holdUntil = now
		} else {
			r.holdUntil = now.Add(r.cfg.Hold)
		}
		return
	}
	r.lastTokenSeq = tok.TokenSeq
	r.lastSent, r.lastSentTo = tok, next
	r.retransmitAt = now.Add(r.cfg.TokenRetransmit)
	r.send(next, tok)
}

func (r *Ring) releaseHold(now env.Mono) {
	tok := r.holding
	if tok == nil {
		return
	}
	r.holding, r.holdUntil = nil, 0
	if r.successor(r.members) == r.cfg.Self {
		tok.TokenSeq++
		r.processToken(now, tok)
		return
	}
	// The token-loss timer keeps running from the token's arrival, not its
	// release: holding must not add to the time a failure takes to notice.
	r.forwardToken(now, tok)
}

// collectGarbage discards messages every member has received: those at or
// below the lowest aru the token showed on this node's last three visits
// (the aru can be raised within a rotation by the node that lowered it, so
// one reading may run ahead of a member that was visited earlier).
func (r *Ring) collectGarbage(aru uint64) {
	r.aruHistory[r.visits%len(r.aruHistory)] = aru
	r.visits++
	if r.visits < len(r.aruHistory) {
		return
	}
	safe := min(r.aruHistory[0], r.aruHistory[1], r.aruHistory[2], r.cur.delivered)
	for s := r.cur.collected + 1; s <= safe; s++ {
		delete(r.cur.msgs, s)
		delete(r.missing, s)
	}
	r.cur.collected = max(r.cur.collected, safe)
}

func (r *Ring) deliverContiguous() {
	for {
		m := r.cur.msgs[r.cur.delivered+1]
		if m == nil {
			return
		}
		r.cur.delivered++
		if !m.Encap {
			r.deliver(m)
		}
	}
}

func (r *Ring) deliver(m *Mcast) {
	r.stats.MessagesDelivered++
	r.emit(Event{Kind: EventDeliver, Ring: m.Ring, Sender: m.Sender, Seq: m.Seq, Payload: m.Payload})
}

func (r *Ring) handleMcast(now env.Mono, from env.NodeID, m *Mcast) {
	switch {
	case m.Ring == r.ring:
		if !r.cur.store(m) {
			return
		}
		if m.Encap && m.OldRing == r.oldRing && r.state == StateRecovery {
			r.old.store(&Mcast{Ring: m.OldRing, Seq: m.OldSeq, Sender: m.OldSender, Payload: m.Payload})
		}
		if r.state == StateOperational {
			if PlantedBug != "" && m.Seq > r.cur.delivered+1 && !m.Encap {
				r.deliver(m) // the planted bug: see plantedbug_on.go
			}
			r.deliverContiguous()
		}
	case r.state == StateRecovery && m.Ring == r.oldRing && !m.Encap:
		r.old.store(m) // a straggler of the ring being recovered
	case r.state == StateOperational && !slices.Contains(r.members, from) && !slices.Contains(r.excluded, from) && r.ring.Less(m.Ring):
		r.enterGather(now, fmt.Sprintf("message of foreign ring %v from %d", m.Ring, from))
	default:
		r.stats.Ignored++
	}
}

// ---- Membership: gather, commit, recovery --------------------------------

func (r *Ring) enterGather(now env.Mono, reason string) {
	if r.state == StateOperational {
		r.procs = slices.Clone(r.members)
		r.failed = nil
	}
	for _, n := range r.excluded {
		r.failed, _ = addSorted(r.failed, n)
	}
	if !slices.Contains(r.procs, r.cfg.Self) {
		r.procs = insertSorted(r.procs, r.cfg.Self)
	}
	r.state = StateGather
	r.stats.Gathers++
	r.log.Info("entering GATHER state", "reason", reason, "ring", r.ring)
	r.agreed = map[env.NodeID]bool{r.cfg.Self: true}
	r.commit = nil
	r.holding, r.holdUntil, r.retransmitAt, r.tokenLossAt, r.mergeAt, r.excludeAt = nil, 0, 0, 0, 0, 0
	r.lastSent = nil
	r.joinAt = now.Add(r.cfg.Join)
	r.consensusAt = now.Add(r.cfg.Consensus)
	// Consensus comes from joins received (or, for a node alone, from the
	// consensus timeout), never from our own view alone: a node that formed
	// a ring by itself the moment it began gathering would do so again at
	// every join it hears.
	r.sendJoin()
}

func (r *Ring) sendJoin() {
	r.send(Broadcast, &Join{Sender: r.cfg.Self, RingSeq: r.highestRingSeq, Procs: slices.Clone(r.procs), Failed: slices.Clone(r.failed)})
}

func (r *Ring) handleJoin(now env.Mono, j *Join) {
	from := j.Sender
	if slices.Contains(r.excluded, from) {
		r.stats.Ignored++
		return
	}
	if r.state != StateGather && slices.Contains(j.Failed, r.cfg.Self) {
		// The sender has given up on us for its current round, so leaving
		// our ring for it cannot end in a ring with it; its ring and ours
		// find each other later by merge detection, in a fresh round.
		r.stats.Ignored++
		return
	}
	switch r.state {
	case StateCommit, StateRecovery:
		// Only a member of the ring being formed can stop its formation,
		// and only with a join at least as new as that ring; anyone else
		// merges with it once it is operational.
		newRing, members := r.ring, r.members
		if r.state == StateCommit {
			newRing, members = r.commit.Ring, r.commit.Members
		}
		if !slices.Contains(members, from) || j.RingSeq < newRing.Seq {
			r.stats.Ignored++
			return
		}
		r.enterGather(now, fmt.Sprintf("join from %d while forming ring %v", from, newRing))
	case StateOperational:
		// A view of our ring (its candidates among our members, only
		// non-members failed) is a leftover of the gathering that formed
		// it.
		if subset(setMinus(j.Procs, j.Failed), r.members) && !slices.ContainsFunc(j.Failed, func(n env.NodeID) bool { return slices.Contains(r.members, n) }) && j.RingSeq <= r.ring.Seq {
			r.stats.Ignored++
			return
		}
		r.enterGather(now, fmt.Sprintf("join from %d", from))
	}
	r.highestRingSeq = max(r.highestRingSeq, j.RingSeq)
	switch {
	case slices.Equal(j.Procs, r.procs) && slices.Equal(j.Failed, r.failed):
		r.agreed[from] = true
		r.checkConsensus(now)
	case subset(j.Procs, r.procs) && subset(j.Failed, r.failed):
		// The sender knows less than we do; our joins will bring it up
		// to date, and its next join counts.
	case slices.Contains(r.failed, from):
		r.stats.Ignored++
	default:
		for _, p := range j.Procs {
			if slices.Contains(r.cfg.Nodes, p) {
				r.procs, _ = addSorted(r.procs, p)
			}
		}
		if slices.Contains(j.Failed, r.cfg.Self) {
			// It gave up on us, so we cannot agree with it: give up on it.
			r.failed, _ = addSorted(r.failed, from)
		} else {
			for _, f := range j.Failed {
				if slices.Contains(r.cfg.Nodes, f) {
					r.failed, _ = addSorted(r.failed, f)
				}
			}
		}
		// New sets start a new round, with a full consensus period: a
		// timer about to expire would otherwise declare failed every node
		// that has not yet answered the new sets.
		r.agreed = map[env.NodeID]bool{r.cfg.Self: true}
		r.consensusAt = now.Add(r.cfg.Consensus)
		r.sendJoin()
		r.checkConsensus(now)
	}
}

// subset reports whether every element of a is in b.
func subset(a, b []env.NodeID) bool {
	for _, n := range a {
		if !slices.Contains(b, n) {
			return false
		}
	}
	return true
}

func (r *Ring) commitMembers() []env.NodeID {
	if r.state == StateCommit && r.commit != nil {
		return r.commit.Members
	}
	return r.members
}

// candidates are the nodes a new ring would have.
func (r *Ring) candidates() []env.NodeID {
	var out []env.NodeID
	for _, p := range r.procs {
		if !slices.Contains(r.failed, p) {
			out = append(out, p)
		}
	}
	return out
}

func (r *Ring) checkConsensus(now env.Mono) {
	if r.state != StateGather {
		return
	}
	cands := r.candidates()
	for _, c := range cands {
		if !r.agreed[c] {
			return
		}
	}
	if cands[0] != r.cfg.Self {
		return // the representative will send the commit token
	}
	r.highestRingSeq += 4
	r.persist()
	c := &CommitToken{
		Ring:     RingID{Seq: r.highestRingSeq, Rep: r.cfg.Self},
		Members:  cands,
		Entries:  make([]CommitEntry, len(cands)),
		Rotation: 1,
	}
	r.log.Info("consensus reached; forming ring", "ring", c.Ring, "members", cands)
	r.enterCommit(now, c)
}

func (r *Ring) onConsensusTimeout(now env.Mono) {
	r.stats.ConsensusTimeouts++
	added := false
	for _, c := range r.candidates() {
		if !r.agreed[c] {
			r.failed, _ = addSorted(r.failed, c)
			added = true
		}
	}
	if !added {
		// Everyone agreed, yet no commit token came: its sender failed.
		// Gather again from the current candidates.
		r.log.Info("consensus timeout with agreement; commit token lost")
	} else {
		r.log.Info("consensus timeout; declaring silent processors failed", "failed", r.failed)
	}
	r.agreed = map[env.NodeID]bool{r.cfg.Self: true}
	r.consensusAt = now.Add(r.cfg.Consensus)
	r.sendJoin()
	r.checkConsensus(now)
}

// enterCommit fills this node's entry and passes the commit token on.
func (r *Ring) enterCommit(now env.Mono, c *CommitToken) {
	r.state = StateCommit
	r.commit = c
	r.highestRingSeq = max(r.highestRingSeq, c.Ring.Seq)
	r.persist()
	i := slices.Index(c.Members, r.cfg.Self)
	log := r.installedLog()
	c.Entries[i] = CommitEntry{Filled: true, OldRing: r.installedRing(), ARU: log.aru, HighSeq: log.high, Delivered: log.delivered}
	r.joinAt, r.consensusAt = 0, 0
	r.tokenLossAt = now.Add(r.cfg.Token)
	r.passCommit(now, c)
}

// installedRing is the last ring whose configuration this node delivered:
// the one whose messages it recovers.
func (r *Ring) installedRing() RingID {
	if r.installed {
		return r.ring
	}
	return r.oldRing
}

func (r *Ring) installedLog() *ringLog {
	if r.installed {
		return r.cur
	}
	return r.old
}

func (r *Ring) passCommit(now env.Mono, c *CommitToken) {
	next := r.successor(c.Members)
	if next == r.cfg.Self {
		// A ring of one needs no rotations.
		c.Rotation = 2
		r.enterRecovery(now, c)
		r.originateToken(now)
		return
	}
	c.Hop++
	out := *c
	out.Entries = slices.Clone(c.Entries)
	r.lastSent, r.lastSentTo = &out, next
	r.retransmitAt = now.Add(r.cfg.TokenRetransmit)
	r.send(next, &out)
}

func (r *Ring) handleCommit(now env.Mono, c *CommitToken) {
	i := slices.Index(c.Members, r.cfg.Self)
	if i < 0 || len(c.Entries) != len(c.Members) || !slices.IsSorted(c.Members) {
		r.stats.Ignored++
		return
	}
	switch {
	case c.Rotation == 1 && r.state == StateGather:
		if !slices.Equal(c.Members, r.candidates()) || c.Ring.Seq <= r.ring.Seq {
			r.stats.Ignored++
			return
		}
		r.enterCommit(now, c)
	case c.Rotation == 1 && r.state == StateCommit && i == 0 && c.Ring == r.commit.Ring:
		for _, e := range c.Entries {
			if !e.Filled {
				r.stats.Ignored++
				return
			}
		}
		c.Rotation = 2
		c.Hop = 0
		r.enterRecovery(now, c)
		r.passCommit(now, c)
	case c.Rotation == 2 && r.state == StateCommit && c.Ring == r.commit.Ring:
		r.enterRecovery(now, c)
		r.passCommit(now, c)
	case c.Rotation == 2 && r.state == StateRecovery && i == 0 && c.Ring == r.ring && r.lastTokenSeq == 0:
		r.lastSent, r.retransmitAt = nil, 0
		r.originateToken(now)
	default:
		r.stats.Ignored++
	}
}

// enterRecovery installs the new ring (not yet delivered) and queues this
// node's old-ring messages that some member of its old-ring group may
// lack, to be sent again, encapsulated, in the new ring.
func (r *Ring) enterRecovery(now env.Mono, c *CommitToken) {
	if r.installed {
		r.oldRing, r.oldMembers, r.old = r.ring, r.members, r.cur
	}
	r.ring, r.members, r.installed, r.cur = c.Ring, slices.Clone(c.Members), false, newLog()
	r.state = StateRecovery
	r.commit = c
	r.lastTokenSeq, r.sentLastRotation, r.backlogContrib, r.visits, r.unchanged, r.seqAtLastVisit = 0, 0, 0, 0, 0, 0
	r.missing = map[uint64]int{}
	r.pendingSeen, r.pendingSeq = false, 0

	low, high := uint64(0), uint64(0)
	first := true
	r.transMembers = nil
	for k, e := range c.Entries {
		if e.OldRing != r.oldRing {
			continue
		}
		r.transMembers = append(r.transMembers, c.Members[k])
		if first || e.ARU < low {
			low = e.ARU
		}
		high = max(high, e.HighSeq)
		first = false
	}
	r.recoveryHigh = high
	r.recoveryQueue = nil
	for s := low + 1; s <= high; s++ {
		if m := r.old.msgs[s]; m != nil {
			r.recoveryQueue = append(r.recoveryQueue, &Mcast{Sender: r.cfg.Self, Encap: true, OldRing: r.oldRing, OldSeq: s, OldSender: m.Sender, Payload: m.Payload})
		}
	}
	r.log.Info("entering RECOVERY state", "ring", r.ring, "members", r.members, "old_ring", r.oldRing,
		"low", low, "high", high, "to_resend", len(r.recoveryQueue))
	r.tokenLossAt = now.Add(r.cfg.Token)
}

// originateToken starts the new ring's first token at its representative.
func (r *Ring) originateToken(now env.Mono) {
	r.stats.RingsFormed++
	r.processToken(now, &Token{Ring: r.ring, TokenSeq: 1, Pending: slices.Clone(r.members)})
}

// enterOperational delivers what is left of the old ring, then the
// transitional and regular configurations, and starts the new ring.
//
// Old-ring messages are delivered in order up to the first one that no
// member of the transitional configuration holds, and not beyond: a later
// message may depend on the missing one (it may even come from the same
// sender), so delivering past the hole would break causal order. Every
// member of the group holds the same union, so they all stop at the same
// place; the missing message's sender is not among them.
func (r *Ring) enterOperational(now env.Mono) {
	for s := r.old.delivered + 1; s <= r.recoveryHigh; s++ {
		m := r.old.msgs[s]
		if m == nil {
			break
		}
		r.old.delivered = s
		r.deliver(m)
	}
	trans := r.transMembers
	r.emit(Event{Kind: EventTransitional, Ring: r.ring, Members: slices.Clone(trans), Left: setMinus(r.oldMembers, trans)})
	r.emit(Event{Kind: EventRegular, Ring: r.ring, Members: slices.Clone(r.members),
		Joined: setMinus(r.members, r.oldMembers), Left: setMinus(r.oldMembers, r.members)})
	r.log.Info("entering OPERATIONAL state", "ring", r.ring, "members", r.members, "transitional", trans)
	r.state = StateOperational
	r.installed = true
	r.old, r.oldRing, r.oldMembers = newLog(), RingID{}, nil
	r.recoveryQueue, r.transMembers = nil, nil
	r.procs, r.failed = slices.Clone(r.members), nil
	r.armExclusion(now)
	r.deliverContiguous()
	if len(r.cfg.Nodes) > len(r.members) && r.isRep() {
		r.mergeAt = now.Add(r.cfg.Merge)
	}
}

func (r *Ring) sendMergeDetect() {
	if r.state != StateOperational || !r.isRep() {
		r.mergeAt = 0
		return
	}
	for _, n := range r.cfg.Nodes {
		if !slices.Contains(r.members, n) && !slices.Contains(r.excluded, n) {
			r.send(n, &MergeDetect{Ring: r.ring})
		}
	}
}

func (r *Ring) handleMergeDetect(now env.Mono, from env.NodeID, m *MergeDetect) {
	if r.state != StateOperational || m.Ring == r.ring || slices.Contains(r.members, from) || slices.Contains(r.excluded, from) {
		r.stats.Ignored++
		return
	}
	r.enterGather(now, fmt.Sprintf("merge detect of ring %v from %d", m.Ring, from))
	r.procs, _ = addSorted(r.procs, from)
	r.sendJoin()
}

// ---- sorted node sets ------------------------------------------------------

func addSorted(s []env.NodeID, n env.NodeID) ([]env.NodeID, bool) {
	i, found := slices.BinarySearch(s, n)
	if found {
		return s, false
	}
	return slices.Insert(s, i, n), true
}

func insertSorted(s []env.NodeID, n env.NodeID) []env.NodeID {
	s, _ = addSorted(s, n)
	return s
}

func setMinus(a, b []env.NodeID) []env.NodeID {
	var out []env.NodeID
	for _, n := range a {
		if !slices.Contains(b, n) {
			out = append(out, n)
		}
	}
	return out
}
