package node

import (
	"strconv"

	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/transport/cmap"
)

// kvEpochFile keeps the newest epoch of the key-value store this node took
// part in (cmap's Ready.PersistEpoch). The store's contents live in memory
// only; the epoch tells the other members, after a restart, that this node
// was in a writable configuration whose state it lost, so that no
// configuration becomes writable on an older state (see package cmap).
// Removing it on every node, all of them stopped, is how an operator
// accepts the loss of a state no node holds any more: the store then
// starts empty.
const kvEpochFile = "cmap-epoch"

// newKV starts this node's replica of the key-value store, empty, from the
// epoch on disk.
func newKV(e env.Env) (*cmap.Store, error) {
	last, err := readUint(e.Disk, kvEpochFile)
	if err != nil {
		return nil, err
	}
	if last != 0 {
		e.Log.Info("key-value store starts empty; it took part in an epoch before", "epoch", last)
	}
	return cmap.NewRestarted(e.Node, last), nil
}

// KV submits a key-value operation: a linearizable Get, Set, Delete or
// CAS. done is called on the loop with its result once every member of
// the configuration holds it, or with an error (cmap's ErrNotQuorate,
// ErrSyncing, ErrStoreFull: it did not happen; ErrUnknownOutcome: it may
// have). An error returned here means the operation was refused before it
// was sent (not quorate, bad key, too large, too many pending, or the
// ring's send queue is full) and done is never called.
func (m *Member) KV(op cmap.Op, done func(cmap.Result)) error {
	if m.stopped {
		return errMemberStopped
	}
	id, msg, err := m.kv.SubmitReq(op)
	if err != nil {
		return err
	}
	if err := m.ring.Send(m.e.Clock.Mono(), append([]byte{svcKV}, msg...)); err != nil {
		m.kv.Forget(id)
		return err
	}
	m.kvWaiting[id] = done
	m.process()
	return nil
}

// KVLocal reads this node's replica whatever the quorum: a possibly stale
// read, the one a non-quorate node can still serve.
func (m *Member) KVLocal(key string) ([]byte, bool) { return m.kv.GetLocal(key) }

// KVKeys lists this node's replica's keys under prefix, in order.
func (m *Member) KVKeys(prefix string) []string { return m.kv.Keys(prefix) }

// KVStatus returns the store's view (configuration, sync, writability).
func (m *Member) KVStatus() cmap.Status { return m.kv.Status() }

// KVStats returns what the store dropped or refused on the stream.
func (m *Member) KVStats() cmap.Stats { return m.kv.Stats() }

// KVWatch calls f on the loop for every later change to a key under
// prefix, in the order every replica applies them, until cancel is called.
func (m *Member) KVWatch(prefix string, f func(cmap.WatchEvent)) (cancel func()) {
	id := m.kv.Watch(prefix)
	m.kvWatches[id] = f
	return func() {
		m.kv.Unwatch(id)
		delete(m.kvWatches, id)
	}
}

// kvReady carries out one of the store's Ready batches: the epoch to
// persist first, before anything it sends or reports. When that write
// fails the member stops.
func (m *Member) kvReady() {
	rd := m.kv.Ready()
	if rd.PersistEpoch != nil {
		if err := m.e.Disk.WriteFileAtomic(kvEpochFile, []byte(strconv.FormatUint(*rd.PersistEpoch, 10))); err != nil {
			// Acknowledging operations of an epoch we could not record
			// would let a restart lose them: stop instead.
			m.e.Log.Error("cannot persist the key-value store's epoch; stopping", "err", err)
			m.Stop()
			return
		}
	}
	if rd.SyncFailed != nil {
		st := m.kv.Status()
		m.e.Log.Warn("key-value store read-only until the next configuration", "ring", st.Ring, "members", st.Members, "err", rd.SyncFailed)
	}
	now := m.e.Clock.Mono()
	for _, b := range rd.Broadcast {
		if err := m.ring.Send(now, append([]byte{svcKV}, b...)); err != nil {
			// The store's protocol messages (status, acks, markers) are
			// bounded by configuration changes; a full queue here means
			// the ring is not moving, and the next configuration restarts
			// the exchange.
			m.e.Log.Warn("cannot queue a key-value protocol message", "err", err)
		}
	}
	for _, r := range rd.Results {
		if done, ok := m.kvWaiting[r.ReqID]; ok {
			delete(m.kvWaiting, r.ReqID)
			if done != nil {
				done(r)
			}
		}
	}
	for _, ev := range rd.Events {
		if f, ok := m.kvWatches[ev.WatchID]; ok {
			f(ev)
		}
	}
	m.kv.Advance(rd)
}
