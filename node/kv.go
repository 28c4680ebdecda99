package node

import (
	"github.com/hakit/hakit/transport/cmap"
)

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

// kvReady carries out one of the store's Ready batches.
func (m *Member) kvReady() {
	rd := m.kv.Ready()
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
