package cmap

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hakit/hakit/node/env"
)

// WatchEvent is one change to a watched key, in apply order. A state
// transfer (see the package documentation) reports each key it changed.
type WatchEvent struct {
	WatchID  uint64
	Key      string
	Value    []byte // the new value; nil when Deleted
	Deleted  bool
	Revision uint64 // the store's revision after the change
}

// Ready is what the store hands the driver after an input: the results of
// this node's requests, watch events, and messages to send through the
// agreed stream (each with ring.Send, in order). Pass it back to Advance
// once carried out.
type Ready struct {
	// PersistEpoch, when set, is an epoch this node has just taken part in
	// (see the package documentation): it must be durable before any of
	// Broadcast is sent and any of Results is handed out, since those may
	// acknowledge or report operations of that epoch. Write it (with
	// Disk.WriteFileAtomic) and give the last value written to NewRestarted
	// when the node starts again. A node that cannot write it must stop
	// taking part (send nothing more) rather than go on without it.
	PersistEpoch *uint64
	// SyncFailed, when set, says why this configuration's state transfer
	// has just failed (ErrBadSnapshot, ErrStateMissing): the configuration
	// stays read-only, refusing operations with ErrSyncing, until the next
	// one. It is for the log; Status.SyncError keeps it meanwhile.
	SyncFailed error

	Results   []Result
	Events    []WatchEvent
	Broadcast [][]byte

	gen  uint64 // which configuration's queue Broadcast came from
	nOut int    // how many of Broadcast came from that queue
	ack  uint64 // the acknowledgement Broadcast ends with, or 0
}

// Empty reports whether rd carries nothing.
func (rd Ready) Empty() bool {
	return len(rd.Results) == 0 && len(rd.Events) == 0 && len(rd.Broadcast) == 0 && rd.PersistEpoch == nil && rd.SyncFailed == nil
}

// Stats counts what the store ignored or refused on the agreed stream.
type Stats struct {
	Malformed     uint64 // payloads that did not decode (every replica drops them alike)
	StaleRing     uint64 // protocol messages of another ring (queued in one, delivered in the next)
	NotMember     uint64 // protocol messages from a node outside the configuration
	Transfers     uint64 // state transfers completed
	SyncFailures  uint64 // transfers refused (bad snapshot, newest state missing); the ring stays read-only
	MissingState  uint64 // of SyncFailures: a member took part in a newer epoch than any state present
	Divergent     uint64 // members announcing equal (epoch, revision) with different digests
	LostResults   uint64 // own requests failed by a configuration change or loss of quorum
	EventsPending int    // watch events not yet handed out
}

// Status is the store's view, for status displays and scenarios.
type Status struct {
	Ring     RingID
	Members  []env.NodeID
	Quorate  bool // this node's votequorum view (SetQuorate)
	Synced   bool // the configuration's state transfer is over
	Writable bool // synced and every member announced quorum: operations are applied
	// SyncError says why the configuration's transfer failed (it is then
	// read-only until the next one); empty otherwise.
	SyncError string
	// Epoch is the replica's: the ring sequence of the newest writable
	// configuration in its history. KnownEpoch, what this node announces,
	// is the higher of Epoch and the newest epoch it took part in (kept on
	// disk): above Epoch after a restart, until the node copies that
	// epoch's state from a member that holds it.
	Epoch      uint64
	KnownEpoch uint64
	Revision   uint64
	Keys       int
	Bytes      int // counted against MaxStoreBytes
	Pending    int
}

type pendingReq struct {
	applied bool   // applied, waiting for the other members' acknowledgements
	index   uint64 // its position among the ring's operations
	res     Result
}

type watch struct {
	id     uint64
	prefix string
}

// Store is one replica of the key-value store, plus this node's client
// side. It is a pure state machine: see the package documentation for the
// loop that drives it.
type Store struct {
	self env.NodeID

	// The replicated state.
	data     map[string][]byte
	size     int
	revision uint64
	epoch    uint64

	// known is the newest epoch this node took part in: the one it read
	// from disk at start (NewRestarted) or one it started by becoming
	// writable. persisted is how much of it the driver has made durable
	// (Ready.PersistEpoch).
	known, persisted uint64

	// This node's requests.
	quorate bool
	nextReq uint64
	pending map[uint64]*pendingReq
	waiting []uint64 // applied requests awaiting acknowledgements, in apply order

	// The current configuration.
	inRing        bool
	ring          RingID
	members       []env.NodeID
	statuses      map[env.NodeID]status
	src           env.NodeID // the sync source, once every status is in
	srcStatus     status
	transfer      bool // some member lags: src sends its snapshot
	chunks        [][]byte
	chunkTotal    int
	deferred      []deferredOp // operations delivered before the configuration settled
	deferredBytes int
	synced        bool
	syncFailed    bool
	syncErr       error // why syncFailed
	syncNote      error // syncErr, until a Ready hands it out
	markers       map[env.NodeID]bool
	writable      bool
	wasWritable   bool
	ringOps       uint64 // operations decided in this configuration
	acked         map[env.NodeID]uint64
	ackNeed       uint64 // latest operation of another member that needs this node's ack
	ackSent       uint64
	markerSent    int8 // -1: none in this configuration; 0 or 1: the quorate flag sent

	// Outputs.
	results []Result
	events  []WatchEvent
	out     [][]byte
	gen     uint64

	watches   []watch
	nextWatch uint64
	stats     Stats

	// Test knobs, never set outside this package's tests.
	testLocalGets bool // Submit answers Gets from the local replica (not linearizable)
	testNoAcks    bool // results are released at apply, without acknowledgements
}

// New returns an empty replica for node self, on a node that never took
// part in a writable configuration: NewRestarted(self, 0).
func New(self env.NodeID) *Store { return NewRestarted(self, 0) }

// NewRestarted returns an empty replica for node self that remembers
// lastEpoch, the last Ready.PersistEpoch this node made durable before it
// (re)started, 0 if none. The replica holds nothing, at epoch zero, and
// refuses operations until its first Configuration and SetQuorate(true);
// every status it announces says it took part in lastEpoch, so no
// configuration of which it is a member becomes writable before a member
// holding that epoch's state is present (see the package documentation).
func NewRestarted(self env.NodeID, lastEpoch uint64) *Store {
	return &Store{
		self:       self,
		data:       map[string][]byte{},
		known:      lastEpoch,
		persisted:  lastEpoch,
		pending:    map[uint64]*pendingReq{},
		markerSent: -1,
	}
}

// ---- client side -----------------------------------------------------------

// Submit validates op and returns the message to send through the agreed
// stream, or an error without sending: ErrNotQuorate (this node is not
// quorate: writes and linearizable reads are refused), ErrBadKey,
// ErrTooLarge, ErrBadOp, ErrTooManyPending. It assigns a ReqID when op has
// none (use SubmitReq to learn it) and remembers the request: its Result
// comes out of Ready once the operation is applied and every member of the
// configuration has acknowledged it, or it fails with ErrUnknownOutcome at
// the next configuration change or with ErrNotQuorate (matching
// ErrUnknownOutcome too) when quorum is lost.
func (s *Store) Submit(op Op) ([]byte, error) {
	_, b, err := s.SubmitReq(op)
	return b, err
}

// SubmitReq is Submit, also returning the request id. A caller-chosen
// ReqID must exceed every id this store used before, so that a late
// delivery of an abandoned request can never be taken for a new one.
func (s *Store) SubmitReq(op Op) (uint64, []byte, error) {
	if op.Client == 0 {
		op.Client = s.self
	}
	if op.Client != s.self {
		return 0, nil, fmt.Errorf("%w: client %d is not this node (%d)", ErrBadOp, op.Client, s.self)
	}
	if err := op.validate(); err != nil {
		return 0, nil, err
	}
	if op.ReqID != 0 && op.ReqID <= s.nextReq {
		return 0, nil, fmt.Errorf("%w: request id %d not above %d", ErrBadOp, op.ReqID, s.nextReq)
	}
	if s.testLocalGets && op.Kind == Get {
		id := s.assign(op.ReqID)
		v, ok := s.data[op.Key]
		s.results = append(s.results, Result{ReqID: id, OK: ok, Found: ok, Value: bytes.Clone(v), Revision: s.revision})
		return id, nil, nil
	}
	if !s.quorate {
		return 0, nil, ErrNotQuorate
	}
	if len(s.pending) >= MaxPending {
		return 0, nil, ErrTooManyPending
	}
	if op.ReqID == 0 {
		op.ReqID = s.nextReq + 1
	}
	b := EncodeOp(op)
	if len(b) > MaxMessage {
		return 0, nil, ErrTooLarge
	}
	s.assign(op.ReqID)
	s.pending[op.ReqID] = &pendingReq{}
	return op.ReqID, b, nil
}

func (s *Store) assign(id uint64) uint64 {
	if id == 0 {
		id = s.nextReq + 1
	}
	s.nextReq = id
	return id
}

// Forget drops a pending request without a result, for a caller whose
// send failed (the ring refused the message): nothing will answer it.
func (s *Store) Forget(reqID uint64) bool {
	if _, ok := s.pending[reqID]; !ok {
		return false
	}
	delete(s.pending, reqID)
	s.waiting = slices.DeleteFunc(s.waiting, func(id uint64) bool { return id == reqID })
	return true
}

// SetQuorate tells the store this node's votequorum view; call it after
// every Configuration (once the quorum core has seen the membership) and on
// every change. Each member announces its view through the agreed stream,
// and a configuration applies operations only while every member's latest
// announcement says quorate, so all replicas agree on which operations
// took effect whatever the timing of the local calls. Losing quorum fails
// this node's pending requests with an error matching both ErrNotQuorate
// and ErrUnknownOutcome: ones already ordered may still take effect.
func (s *Store) SetQuorate(q bool) {
	was := s.quorate
	s.quorate = q
	if s.inRing {
		want := int8(0)
		if q {
			want = 1
		}
		if s.markerSent != want {
			s.markerSent = want
			s.out = append(s.out, encodeQuorum(s.ring, q))
		}
	}
	if was && !q {
		s.failPending(errLostQuorum)
	}
}

// GetLocal reads this replica, whatever the quorum: a stale read.
func (s *Store) GetLocal(key string) ([]byte, bool) {
	v, ok := s.data[key]
	return bytes.Clone(v), ok
}

// Watch reports every later change to keys starting with prefix as
// WatchEvents in Ready, in apply order, and returns the watch's id.
func (s *Store) Watch(prefix string) uint64 {
	s.nextWatch++
	s.watches = append(s.watches, watch{id: s.nextWatch, prefix: prefix})
	return s.nextWatch
}

// Unwatch ends a watch; events already queued stay queued.
func (s *Store) Unwatch(id uint64) bool {
	n := len(s.watches)
	s.watches = slices.DeleteFunc(s.watches, func(w watch) bool { return w.id == id })
	return len(s.watches) != n
}

// ---- the agreed stream -----------------------------------------------------

// Configuration installs a regular configuration: ring is its id and
// members its members (this node included). Call it for every regular
// configuration, after the old ring's last delivery and before the new
// ring's first one. Ring sequences must grow along this node's
// configurations, across restarts too (as totem's do: it persists them):
// the store names its epochs by them.
//
// Every request of this node still pending fails with ErrUnknownOutcome:
// one sent in the old ring may have been delivered to the members that
// went another way even if not to this one (extended virtual synchrony
// only promises agreement inside a transitional configuration), one
// applied here may be missing on the side that stays quorate (it was not
// yet acknowledged by every member), and one still in totem's send queue
// may yet be delivered in the new ring. Then the store starts the
// configuration's state transfer by queuing its status.
func (s *Store) Configuration(ring RingID, members []env.NodeID) {
	s.failPending(ErrUnknownOutcome)
	ms := slices.Clone(members)
	slices.Sort(ms)
	s.inRing, s.ring, s.members = true, ring, slices.Compact(ms)
	s.statuses = map[env.NodeID]status{}
	s.src, s.srcStatus, s.transfer, s.chunks, s.chunkTotal = 0, status{}, false, nil, 0
	s.synced, s.syncFailed, s.syncErr, s.syncNote = false, false, nil, nil
	s.deferred, s.deferredBytes = nil, 0
	s.markers = map[env.NodeID]bool{}
	s.writable, s.wasWritable = false, false
	s.ringOps, s.acked, s.ackNeed, s.ackSent = 0, map[env.NodeID]uint64{}, 0, 0
	s.markerSent = -1
	s.out = nil
	s.gen++
	s.out = append(s.out, encodeStatus(ring, s.status()))
}

// Apply takes one message delivered by the agreed stream: every replica,
// the sender's included, gets the same messages in the same order. It
// returns an error only for a payload that does not decode; every replica
// drops that one alike.
func (s *Store) Apply(sender env.NodeID, payload []byte) error {
	if len(payload) == 0 {
		s.stats.Malformed++
		return fmt.Errorf("%w: empty message", ErrBadOp)
	}
	if payload[0] == tagOp {
		op, err := DecodeOp(payload)
		if err == nil && op.Client != sender {
			err = fmt.Errorf("%w: node %d sent a request of node %d", ErrBadOp, sender, op.Client)
		}
		if err != nil {
			s.stats.Malformed++
			return err
		}
		s.applyOp(sender, op)
		return nil
	}
	m, err := decodeRingMsg(payload)
	if err != nil {
		s.stats.Malformed++
		return err
	}
	if !s.inRing || m.ring != s.ring {
		s.stats.StaleRing++
		return nil
	}
	if !s.isMember(sender) {
		s.stats.NotMember++
		return nil
	}
	switch m.tag {
	case tagStatus:
		s.onStatus(sender, m.status)
	case tagChunk:
		s.onChunk(sender, m)
	case tagAck:
		if sender != s.self && m.applied > s.acked[sender] {
			s.acked[sender] = m.applied
			s.release()
		}
	case tagQuorum:
		s.markers[sender] = m.quorate
		s.updateWritable()
	}
	return nil
}

// applyOp holds back an operation delivered while the configuration is
// still settling (the transfer is not over or some member's first quorum
// marker is not in) and decides it when it settles, so that a request
// sent around a configuration change is not refused for being early. The
// buffer is bounded; beyond it, operations are refused with ErrSyncing.
// Every replica buffers and decides the same operations at the same point.
func (s *Store) applyOp(sender env.NodeID, op Op) {
	if s.inRing && !s.settled() {
		size := len(op.Key) + len(op.Value) + len(op.Expect)
		if len(s.deferred) < maxDeferred && s.deferredBytes+size <= maxDeferredBytes {
			s.deferred = append(s.deferred, deferredOp{sender: sender, op: op})
			s.deferredBytes += size
			return
		}
	}
	s.decide(sender, op)
}

const (
	maxDeferred      = 1024
	maxDeferredBytes = 4 << 20
)

type deferredOp struct {
	sender env.NodeID
	op     Op
}

// settled reports whether the configuration's state transfer is over and
// every member has announced its quorum view at least once: from then on
// each operation is decided as it is delivered.
func (s *Store) settled() bool {
	return (s.synced || s.syncFailed) && len(s.markers) == len(s.members)
}

// flushDeferred decides the held-back operations once settled.
func (s *Store) flushDeferred() {
	if !s.settled() || len(s.deferred) == 0 {
		return
	}
	ops := s.deferred
	s.deferred, s.deferredBytes = nil, 0
	for _, d := range ops {
		s.decide(d.sender, d.op)
	}
}

// decide applies or refuses one operation and routes its result.
func (s *Store) decide(sender env.NodeID, op Op) {
	var res Result
	switch {
	case !s.inRing:
		res.Err = ErrNotQuorate
	case errors.Is(s.syncErr, ErrStateMissing):
		res.Err = errStateMissing
	case !s.synced || s.syncFailed:
		res.Err = ErrSyncing
	case !s.writable:
		res.Err = ErrNotQuorate
	default:
		res = s.exec(op)
	}
	res.ReqID, res.Revision = op.ReqID, s.revision
	// A refusal is the same on every replica that delivers the operation,
	// so it is final at once. Anything else was observed or changed state
	// that the side staying quorate must also hold: it needs every
	// member's acknowledgement first.
	needsAck := res.Err == nil && !s.testNoAcks
	s.ringOps++
	idx := s.ringOps
	if sender != s.self {
		if needsAck {
			s.ackNeed = idx
		}
		return
	}
	p := s.pending[op.ReqID]
	if p == nil {
		return // abandoned, or failed by a configuration change before delivery
	}
	if !needsAck || s.acksCover(idx) {
		s.finish(op.ReqID, res)
		return
	}
	p.applied, p.index, p.res = true, idx, res
	s.waiting = append(s.waiting, op.ReqID)
}

// exec applies a valid operation to the map.
func (s *Store) exec(op Op) Result {
	old, found := s.data[op.Key]
	res := Result{Found: found, Value: bytes.Clone(old)}
	switch op.Kind {
	case Get:
		res.OK = found
	case Set:
		if !s.fits(op.Key, old, found, op.Value) {
			return Result{Err: ErrStoreFull}
		}
		s.put(op.Key, old, found, op.Value)
		res.OK = true
	case Delete:
		if found {
			delete(s.data, op.Key)
			s.size -= EntryOverhead + len(op.Key) + len(old)
			s.revision++
			s.notify(op.Key, nil, true)
		}
		res.OK = found
	case CAS:
		match := !found && op.ExpectAbsent || found && !op.ExpectAbsent && bytes.Equal(old, op.Expect)
		if match {
			if !s.fits(op.Key, old, found, op.Value) {
				return Result{Err: ErrStoreFull}
			}
			s.put(op.Key, old, found, op.Value)
		}
		res.OK = match
	}
	return res
}

func (s *Store) fits(key string, old []byte, found bool, v []byte) bool {
	size := s.size + len(v)
	if found {
		size -= len(old)
	} else {
		size += EntryOverhead + len(key)
	}
	return size <= MaxStoreBytes
}

func (s *Store) put(key string, old []byte, found bool, v []byte) {
	v = bytes.Clone(v)
	if v == nil {
		v = []byte{}
	}
	if found {
		s.size -= len(old)
	} else {
		s.size += EntryOverhead + len(key)
	}
	s.size += len(v)
	s.data[key] = v
	s.revision++
	s.notify(key, v, false)
}

func (s *Store) notify(key string, v []byte, deleted bool) {
	for _, w := range s.watches {
		if strings.HasPrefix(key, w.prefix) {
			s.events = append(s.events, WatchEvent{WatchID: w.id, Key: key, Value: bytes.Clone(v), Deleted: deleted, Revision: s.revision})
		}
	}
}

// ---- state transfer --------------------------------------------------------

func (s *Store) status() status {
	return status{Epoch: s.epoch, Revision: s.revision, Known: max(s.epoch, s.known), Digest: digestOf(s.data)}
}

// less orders statuses for choosing the sync source: epoch first, then
// revision.
func (a status) less(b status) bool {
	return a.Epoch < b.Epoch || a.Epoch == b.Epoch && a.Revision < b.Revision
}

func (s *Store) onStatus(sender env.NodeID, st status) {
	if _, dup := s.statuses[sender]; dup || s.src != 0 {
		return
	}
	s.statuses[sender] = st
	if len(s.statuses) < len(s.members) {
		return
	}
	// Every member's status is in, at the same point of the stream on
	// every replica: choose the source, the member with the highest
	// (epoch, revision), the lowest id among equals.
	var need uint64
	for _, m := range s.members {
		st := s.statuses[m]
		if s.src == 0 || s.srcStatus.less(st) {
			s.src, s.srcStatus = m, st
		}
		need = max(need, st.Known)
	}
	// A member took part in a writable configuration whose state nobody
	// here holds (it restarted and lost it): the source's state may lack
	// operations acknowledged then. Stay read-only until a member holding
	// that epoch's state is present.
	if need > s.srcStatus.Epoch {
		s.stats.MissingState++
		s.failSync(fmt.Errorf("%w: a member took part in epoch %d, the newest state present (node %d's) is of epoch %d",
			ErrStateMissing, need, s.src, s.srcStatus.Epoch))
		return
	}
	for _, m := range s.members {
		st := s.statuses[m]
		if st.Revision != s.srcStatus.Revision || st.Digest != s.srcStatus.Digest {
			s.transfer = true
			if st.Epoch == s.srcStatus.Epoch && st.Revision == s.srcStatus.Revision {
				s.stats.Divergent++
			}
		}
	}
	if !s.transfer {
		s.finishSync()
		return
	}
	if s.src == s.self {
		// Nothing has changed since this node's status: operations are
		// refused until the transfer ends.
		chunks := splitChunks(encodeSnapshot(s.epoch, s.revision, s.data, s.size))
		for i, c := range chunks {
			s.out = append(s.out, encodeChunk(s.ring, i, len(chunks), c))
		}
	}
}

func (s *Store) onChunk(sender env.NodeID, m ringMsg) {
	if !s.transfer || s.synced || s.syncFailed || sender != s.src {
		return
	}
	if m.index != len(s.chunks) || (m.index > 0 && m.total != s.chunkTotal) {
		s.failSync(fmt.Errorf("%w: chunk %d of %d out of sequence", ErrBadSnapshot, m.index, m.total))
		return
	}
	s.chunks, s.chunkTotal = append(s.chunks, bytes.Clone(m.data)), m.total
	if len(s.chunks) < m.total {
		return
	}
	// Every replica decodes and checks the snapshot, the source's own
	// included, so all of them agree on whether the transfer succeeded.
	snap, sum, err := decodeSnapshot(concatChunks(s.chunks))
	s.chunks = nil
	if err == nil && (snap.epoch != s.srcStatus.Epoch || snap.revision != s.srcStatus.Revision || sum != s.srcStatus.Digest) {
		err = fmt.Errorf("epoch %d, revision %d or digest differs from the source's status", snap.epoch, snap.revision)
	}
	if err != nil {
		s.failSync(fmt.Errorf("%w: node %d's: %w", ErrBadSnapshot, s.src, err))
		return
	}
	s.install(snap)
	s.stats.Transfers++
	s.finishSync()
}

func (s *Store) failSync(err error) {
	s.syncFailed, s.chunks, s.syncErr, s.syncNote = true, nil, err, err
	s.stats.SyncFailures++
	s.flushDeferred()
}

// install replaces the map with a snapshot, reporting each changed key to
// the watches.
func (s *Store) install(snap snapshot) {
	old := s.data
	s.data, s.size, s.revision, s.epoch = snap.data, snap.size, snap.revision, snap.epoch
	if len(s.watches) == 0 {
		return
	}
	keys := slices.Sorted(maps.Keys(old))
	for _, k := range slices.Sorted(maps.Keys(snap.data)) {
		if _, ok := old[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		ov, oldOK := old[k]
		nv, newOK := snap.data[k]
		if oldOK != newOK || !bytes.Equal(ov, nv) {
			s.notify(k, nv, !newOK)
		}
	}
}

func (s *Store) finishSync() {
	s.synced = true
	s.epoch = s.srcStatus.Epoch // the members' contents are equal; only the epoch may differ
	s.updateWritable()
}

// updateWritable recomputes whether the configuration applies operations:
// the transfer is over and every member's latest quorum marker says
// quorate. The first time a configuration becomes writable, every replica
// of it starts a new epoch, named by the ring's sequence (every replica
// has the same epoch after the transfer, so all compute the same one), and
// this node must make it durable before it acknowledges or reports
// anything of it (Ready.PersistEpoch).
func (s *Store) updateWritable() {
	w := s.synced && !s.syncFailed
	for _, m := range s.members {
		w = w && s.markers[m]
	}
	if w && !s.wasWritable {
		s.wasWritable = true
		// Ring sequences grow along every node's configurations, so this
		// is above the epoch already; the max only guards against a driver
		// that breaks that rule.
		s.epoch = max(s.ring.Seq, s.epoch+1)
		s.known = max(s.known, s.epoch)
	}
	s.writable = w
	s.flushDeferred()
}

// ---- results ---------------------------------------------------------------

func (s *Store) acksCover(idx uint64) bool {
	if s.testNoAcks {
		return true
	}
	for _, m := range s.members {
		if m != s.self && s.acked[m] < idx {
			return false
		}
	}
	return true
}

// release hands out the applied requests every member has acknowledged.
func (s *Store) release() {
	for len(s.waiting) > 0 {
		p := s.pending[s.waiting[0]]
		if p == nil || !p.applied {
			s.waiting = s.waiting[1:]
			continue
		}
		if !s.acksCover(p.index) {
			return
		}
		id := s.waiting[0]
		s.waiting = s.waiting[1:]
		s.finish(id, p.res)
	}
}

func (s *Store) finish(id uint64, res Result) {
	delete(s.pending, id)
	s.results = append(s.results, res)
}

func (s *Store) failPending(err error) {
	ids := make([]uint64, 0, len(s.pending))
	for id := range s.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		s.finish(id, Result{ReqID: id, Err: err, Revision: s.revision})
		s.stats.LostResults++
	}
	s.waiting = nil
}

// ---- Ready -----------------------------------------------------------------

// HasReady reports whether Ready has anything.
func (s *Store) HasReady() bool {
	return len(s.results) > 0 || len(s.events) > 0 || len(s.out) > 0 || s.ackDue() || s.known > s.persisted || s.syncNote != nil
}

func (s *Store) ackDue() bool { return s.inRing && s.ackNeed > s.ackSent }

// Ready returns what the driver must carry out: make PersistEpoch durable
// first, then hand Results and Events to their users and send each
// Broadcast through the agreed stream, in order, then call Advance with
// it. Inputs between Ready and Advance are allowed; what they add comes
// with the next Ready.
func (s *Store) Ready() Ready {
	rd := Ready{
		SyncFailed: s.syncNote,
		Results:    slices.Clip(s.results),
		Events:     slices.Clip(s.events),
		Broadcast:  slices.Clone(s.out),
		gen:        s.gen,
		nOut:       len(s.out),
	}
	if s.known > s.persisted {
		e := s.known
		rd.PersistEpoch = &e
	}
	if s.ackDue() {
		// One acknowledgement covers every operation applied so far.
		rd.ack = s.ringOps
		rd.Broadcast = append(rd.Broadcast, encodeAck(s.ring, s.ringOps))
	}
	return rd
}

// Advance records that rd was carried out.
func (s *Store) Advance(rd Ready) {
	s.results = dropFront(s.results, len(rd.Results))
	s.events = dropFront(s.events, len(rd.Events))
	if rd.PersistEpoch != nil {
		s.persisted = max(s.persisted, *rd.PersistEpoch)
	}
	if rd.gen == s.gen {
		s.out = dropFront(s.out, rd.nOut)
		s.ackSent = max(s.ackSent, rd.ack)
		if rd.SyncFailed != nil {
			s.syncNote = nil
		}
	}
}

func dropFront[T any](s []T, n int) []T {
	if n >= len(s) {
		return nil
	}
	return s[n:]
}

// ---- inspection ------------------------------------------------------------

// Revision is the count of mutations in this replica's history.
func (s *Store) Revision() uint64 { return s.revision }

// Epoch is the ring sequence of the newest configuration that accepted
// writes in this replica's history (see the package documentation).
func (s *Store) Epoch() uint64 { return s.epoch }

// KnownEpoch is the higher of Epoch and the newest epoch this node took
// part in (the one it keeps on disk): above Epoch after a restart, until
// it copies that epoch's state.
func (s *Store) KnownEpoch() uint64 { return max(s.epoch, s.known) }

// Snapshot returns a copy of the replica's contents; walk it with
// SortedKeys, never in map order, where the order reaches an output.
func (s *Store) Snapshot() map[string][]byte {
	m := make(map[string][]byte, len(s.data))
	for k, v := range s.data {
		m[k] = bytes.Clone(v)
	}
	return m
}

// SortedKeys returns the keys of a snapshot in ascending order.
func SortedKeys(m map[string][]byte) []string { return slices.Sorted(maps.Keys(m)) }

// Keys returns the replica's keys starting with prefix, in ascending order.
func (s *Store) Keys(prefix string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(s.data)) {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// Digest is a SHA-256 over the contents in key order: replicas of one
// configuration, once synced, compare equal.
func (s *Store) Digest() [sha256.Size]byte { return digestOf(s.data) }

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	st := s.stats
	st.EventsPending = len(s.events)
	return st
}

// Status returns the store's view.
func (s *Store) Status() Status {
	var syncErr string
	if s.syncErr != nil {
		syncErr = s.syncErr.Error()
	}
	return Status{Ring: s.ring, Members: slices.Clone(s.members), Quorate: s.quorate, Synced: s.synced && !s.syncFailed,
		Writable: s.writable, SyncError: syncErr, Epoch: s.epoch, KnownEpoch: s.KnownEpoch(), Revision: s.revision,
		Keys: len(s.data), Bytes: s.size, Pending: len(s.pending)}
}

func (s *Store) isMember(id env.NodeID) bool {
	_, ok := slices.BinarySearch(s.members, id)
	return ok
}
