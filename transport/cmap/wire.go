package cmap

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	"github.com/hakit/hakit/node/env"
)

// RingID names a totem ring, as totem.RingID does (the driver copies it
// from the configuration event). The store tags its own protocol messages
// with it: totem keeps a node's send queue across configuration changes,
// so a message queued in one ring may be delivered in the next, and only
// the ring id tells a stale status, acknowledgement or quorum marker from a
// current one. The sequence of a writable configuration's ring is also the
// store's epoch (see the package documentation).
type RingID struct {
	Seq uint64
	Rep env.NodeID
}

func (r RingID) String() string { return fmt.Sprintf("%d/%d", r.Rep, r.Seq) }

// The store's own messages, each after its tag byte and the ring id
// (seq u64, rep u32):
//
//	status  epoch u64 | revision u64 | known u64 | digest [32]   (every member, on each configuration)
//	chunk   index u16 | total u16 | snapshot bytes                 (the sync source, when some member lags)
//	ack     applied u64                                            (the ring's operations this member applied)
//	quorum  quorate u8                                             (this member's votequorum view)
//
// A status's known epoch is never below its epoch: one that is does not
// decode (every replica drops it alike).
const (
	ringIDLen = 12
	statusLen = 1 + ringIDLen + 8 + 8 + 8 + sha256.Size
	ackLen    = 1 + ringIDLen + 8
	quorumLen = 1 + ringIDLen + 1
	// chunkData is the snapshot bytes one chunk carries.
	chunkData = 48 << 10
	// maxChunks bounds a transfer: the largest snapshot fits.
	maxChunks = (snapshotHeader+MaxStoreBytes+chunkData-1)/chunkData + 1
)

// status is what each member announces on a configuration change: its
// replica's (epoch, revision, digest), and Known, the newest epoch this
// node knows it took part in (at least Epoch; above it when the node
// restarted and lost the state of a writable configuration it was a
// member of, whose epoch it kept on disk).
type status struct {
	Epoch, Revision uint64
	Known           uint64
	Digest          [sha256.Size]byte
}

func appendRing(b []byte, tag byte, r RingID) []byte {
	b = append(b, tag)
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	return binary.BigEndian.AppendUint32(b, uint32(r.Rep))
}

func encodeStatus(r RingID, st status) []byte {
	b := appendRing(make([]byte, 0, statusLen), tagStatus, r)
	b = binary.BigEndian.AppendUint64(b, st.Epoch)
	b = binary.BigEndian.AppendUint64(b, st.Revision)
	b = binary.BigEndian.AppendUint64(b, st.Known)
	return append(b, st.Digest[:]...)
}

func encodeChunk(r RingID, index, total int, data []byte) []byte {
	b := appendRing(make([]byte, 0, 1+ringIDLen+4+len(data)), tagChunk, r)
	b = binary.BigEndian.AppendUint16(b, uint16(index))
	b = binary.BigEndian.AppendUint16(b, uint16(total))
	return append(b, data...)
}

func encodeAck(r RingID, applied uint64) []byte {
	return binary.BigEndian.AppendUint64(appendRing(make([]byte, 0, ackLen), tagAck, r), applied)
}

func encodeQuorum(r RingID, q bool) []byte {
	b := appendRing(make([]byte, 0, quorumLen), tagQuorum, r)
	if q {
		return append(b, 1)
	}
	return append(b, 0)
}

// ringMsg is a decoded protocol message (not an operation).
type ringMsg struct {
	tag     byte
	ring    RingID
	status  status
	index   int
	total   int
	data    []byte // chunk: shared with the payload
	applied uint64
	quorate bool
}

func decodeRingMsg(b []byte) (ringMsg, error) {
	if len(b) > MaxMessage {
		return ringMsg{}, ErrTooLarge
	}
	r := reader{b: b}
	m := ringMsg{tag: r.u8()}
	m.ring.Seq = r.u64()
	m.ring.Rep = env.NodeID(r.u32())
	switch m.tag {
	case tagStatus:
		m.status.Epoch = r.u64()
		m.status.Revision = r.u64()
		m.status.Known = r.u64()
		copy(m.status.Digest[:], r.take(sha256.Size))
		if r.err == nil && m.status.Known < m.status.Epoch {
			return ringMsg{}, fmt.Errorf("%w: status with known epoch %d below its epoch %d", ErrBadOp, m.status.Known, m.status.Epoch)
		}
	case tagChunk:
		m.index, m.total = int(r.u16()), int(r.u16())
		m.data = r.take(len(b) - r.off)
		if r.err == nil && (m.total == 0 || m.total > maxChunks || m.index >= m.total || len(m.data) > chunkData) {
			return ringMsg{}, fmt.Errorf("%w: chunk %d of %d with %d bytes", ErrBadOp, m.index, m.total, len(m.data))
		}
	case tagAck:
		m.applied = r.u64()
	case tagQuorum:
		switch q := r.u8(); q {
		case 0, 1:
			m.quorate = q == 1
		default:
			return ringMsg{}, fmt.Errorf("%w: quorum flag %d", ErrBadOp, q)
		}
	default:
		return ringMsg{}, fmt.Errorf("%w: unknown tag %d", ErrBadOp, m.tag)
	}
	if r.err != nil {
		return ringMsg{}, r.err
	}
	if r.off != len(b) {
		return ringMsg{}, fmt.Errorf("%w: %d trailing bytes", ErrBadOp, len(b)-r.off)
	}
	return m, nil
}

// The snapshot a sync source sends, cut into chunks:
//
//	epoch u64 | revision u64 | count u32 | count × (key len u16 | key | value len u32 | value)
//
// with keys strictly ascending. The digest covers the entries only.
const snapshotHeader = 8 + 8 + 4

const digestDomain = "hakit cmap digest v1\x00"

type snapshot struct {
	epoch, revision uint64
	data            map[string][]byte
	size            int
}

func appendEntry(b []byte, k string, v []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(k)))
	b = append(b, k...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

func encodeSnapshot(epoch, revision uint64, data map[string][]byte, size int) []byte {
	b := make([]byte, 0, snapshotHeader+size)
	b = binary.BigEndian.AppendUint64(b, epoch)
	b = binary.BigEndian.AppendUint64(b, revision)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	for _, k := range slices.Sorted(maps.Keys(data)) {
		b = appendEntry(b, k, data[k])
	}
	return b
}

// decodeSnapshot checks a snapshot as strictly as DecodeOp checks an
// operation and returns it with the digest of its entries.
func decodeSnapshot(b []byte) (snapshot, [sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	if len(b) > snapshotHeader+MaxStoreBytes {
		return snapshot{}, sum, ErrTooLarge
	}
	r := reader{b: b}
	s := snapshot{epoch: r.u64(), revision: r.u64()}
	n := int(r.u32())
	if r.err != nil {
		return snapshot{}, sum, r.err
	}
	if n > (len(b)-snapshotHeader)/(EntryOverhead+1) {
		return snapshot{}, sum, fmt.Errorf("%w: %d entries in %d bytes", ErrBadOp, n, len(b))
	}
	s.data = make(map[string][]byte, n)
	prev := ""
	for i := range n {
		k := string(r.bytes(int(r.u16()), MaxKey))
		v := r.clone(int(r.u32()), MaxValue)
		if r.err != nil {
			return snapshot{}, sum, r.err
		}
		if !validKey(k) || (i > 0 && k <= prev) {
			return snapshot{}, sum, fmt.Errorf("%w: snapshot key %q out of order or invalid", ErrBadOp, k)
		}
		prev = k
		if v == nil {
			v = []byte{} // as put stores it
		}
		s.data[k] = v
		s.size += EntryOverhead + len(k) + len(v)
	}
	if r.off != len(b) {
		return snapshot{}, sum, fmt.Errorf("%w: %d trailing snapshot bytes", ErrBadOp, len(b)-r.off)
	}
	h := sha256.New()
	h.Write([]byte(digestDomain))
	h.Write(b[snapshotHeader:])
	h.Sum(sum[:0])
	return s, sum, nil
}

// digestOf hashes the entries of data in key order, as the snapshot
// encodes them.
func digestOf(data map[string][]byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(digestDomain))
	var buf []byte
	for _, k := range slices.Sorted(maps.Keys(data)) {
		buf = appendEntry(buf[:0], k, data[k])
		h.Write(buf)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// splitChunks cuts a snapshot into chunk-sized pieces (at least one).
func splitChunks(b []byte) [][]byte {
	var out [][]byte
	for len(b) > chunkData {
		out = append(out, b[:chunkData])
		b = b[chunkData:]
	}
	return append(out, b)
}

func concatChunks(chunks [][]byte) []byte {
	return bytes.Join(chunks, nil)
}
