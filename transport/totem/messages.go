package totem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/hakit/hakit/node/env"
)

// Limits that bound every message a peer can make us allocate.
const (
	// MaxNodes is Corosync's PROCESSOR_COUNT_MAX.
	MaxNodes = 384
	// MaxRTR bounds the retransmission requests a token carries.
	MaxRTR = 256
	// MaxPayload is the largest application message, leaving room in one
	// wire frame for the totem header. Larger messages are refused by Send.
	MaxPayload = 60 << 10
)

// RingID names a ring configuration: the representative that formed it and
// a sequence number that rises with every new ring (by 4, as Corosync's).
type RingID struct {
	Seq uint64
	Rep env.NodeID
}

func (r RingID) String() string { return fmt.Sprintf("%d/%d", r.Rep, r.Seq) }

// Less orders ring ids by sequence, then representative.
func (r RingID) Less(o RingID) bool { return r.Seq < o.Seq || (r.Seq == o.Seq && r.Rep < o.Rep) }

// Message is one of the totem messages below.
type Message interface{ kind() byte }

// Token is the ORF token: whoever holds it may send; it carries the ring's
// ordering state around the ring.
type Token struct {
	Ring RingID
	// TokenSeq rises by one per hop, so a retransmitted token is told from
	// a new one.
	TokenSeq uint64
	// Seq is the highest message sequence number assigned in the ring.
	Seq uint64
	// ARU (all received up to) and ARUAddr implement Totem's aru: the lowest
	// contiguous receipt seen this rotation, and who reported it.
	ARU     uint64
	ARUAddr env.NodeID
	// FCC counts messages sent during the last rotation, for window_size.
	FCC uint32
	// Backlog sums the nodes' queued messages.
	Backlog uint32
	// RTR lists sequence numbers some node is missing.
	RTR []uint64
	// Pending lists members still sending old-ring messages in recovery.
	Pending []env.NodeID
}

// Mcast is one ordered message. In recovery, an old ring's message travels
// encapsulated in a new-ring Mcast (Encap set, OldRing/OldSeq naming it).
type Mcast struct {
	Ring    RingID
	Seq     uint64
	Sender  env.NodeID
	Encap   bool
	OldRing RingID
	OldSeq  uint64
	// OldSender is the original sender of an encapsulated message.
	OldSender env.NodeID
	Payload   []byte
}

// Join is a gathering node's view: whom it wants in the ring and whom it
// considers failed.
type Join struct {
	Sender  env.NodeID
	RingSeq uint64 // the highest ring sequence the sender has known
	Procs   []env.NodeID
	Failed  []env.NodeID
}

// CommitToken forms a new ring: the representative sends it round twice,
// first to collect each member's old-ring state, then to start recovery.
type CommitToken struct {
	Ring     RingID
	Members  []env.NodeID
	Entries  []CommitEntry // Entries[i] is Members[i]'s
	Rotation uint8         // 1 or 2
	Hop      uint32        // position of the next receiver, for duplicates
}

// CommitEntry is a member's state in its old ring.
type CommitEntry struct {
	Filled    bool
	OldRing   RingID
	ARU       uint64 // all received up to, in the old ring
	HighSeq   uint64 // the highest old-ring sequence number it holds
	Delivered uint64 // the highest old-ring message it delivered
}

// MergeDetect is a representative's announcement of its ring.
type MergeDetect struct{ Ring RingID }

// HoldCancel asks the holder of an idle ring's token to pass it on now.
type HoldCancel struct{ Ring RingID }

const (
	kindToken byte = iota + 1
	kindMcast
	kindJoin
	kindCommit
	kindMerge
	kindHoldCancel
)

func (*Token) kind() byte       { return kindToken }
func (*Mcast) kind() byte       { return kindMcast }
func (*Join) kind() byte        { return kindJoin }
func (*CommitToken) kind() byte { return kindCommit }
func (*MergeDetect) kind() byte { return kindMerge }
func (*HoldCancel) kind() byte  { return kindHoldCancel }

// codecVersion is the first byte of every totem message.
const codecVersion = 1

// Encode renders a message for the wire.
func Encode(m Message) []byte {
	b := []byte{codecVersion, m.kind()}
	switch m := m.(type) {
	case *Token:
		b = putRing(b, m.Ring)
		b = binary.BigEndian.AppendUint64(b, m.TokenSeq)
		b = binary.BigEndian.AppendUint64(b, m.Seq)
		b = binary.BigEndian.AppendUint64(b, m.ARU)
		b = binary.BigEndian.AppendUint32(b, uint32(m.ARUAddr))
		b = binary.BigEndian.AppendUint32(b, m.FCC)
		b = binary.BigEndian.AppendUint32(b, m.Backlog)
		b = binary.BigEndian.AppendUint16(b, uint16(len(m.RTR)))
		for _, s := range m.RTR {
			b = binary.BigEndian.AppendUint64(b, s)
		}
		b = putNodes(b, m.Pending)
	case *Mcast:
		b = putRing(b, m.Ring)
		b = binary.BigEndian.AppendUint64(b, m.Seq)
		b = binary.BigEndian.AppendUint32(b, uint32(m.Sender))
		if m.Encap {
			b = append(b, 1)
			b = putRing(b, m.OldRing)
			b = binary.BigEndian.AppendUint64(b, m.OldSeq)
			b = binary.BigEndian.AppendUint32(b, uint32(m.OldSender))
		} else {
			b = append(b, 0)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(m.Payload)))
		b = append(b, m.Payload...)
	case *Join:
		b = binary.BigEndian.AppendUint32(b, uint32(m.Sender))
		b = binary.BigEndian.AppendUint64(b, m.RingSeq)
		b = putNodes(b, m.Procs)
		b = putNodes(b, m.Failed)
	case *CommitToken:
		b = putRing(b, m.Ring)
		b = append(b, m.Rotation)
		b = binary.BigEndian.AppendUint32(b, m.Hop)
		b = putNodes(b, m.Members)
		for _, e := range m.Entries {
			if e.Filled {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
			b = putRing(b, e.OldRing)
			b = binary.BigEndian.AppendUint64(b, e.ARU)
			b = binary.BigEndian.AppendUint64(b, e.HighSeq)
			b = binary.BigEndian.AppendUint64(b, e.Delivered)
		}
	case *MergeDetect:
		b = putRing(b, m.Ring)
	case *HoldCancel:
		b = putRing(b, m.Ring)
	}
	return b
}

func putRing(b []byte, r RingID) []byte {
	b = binary.BigEndian.AppendUint64(b, r.Seq)
	return binary.BigEndian.AppendUint32(b, uint32(r.Rep))
}

func putNodes(b []byte, ns []env.NodeID) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(ns)))
	for _, n := range ns {
		b = binary.BigEndian.AppendUint32(b, uint32(n))
	}
	return b
}

// ErrMalformed wraps every decoding failure.
var ErrMalformed = errors.New("malformed totem message")

// Decode parses a message. Every length is bounded before anything is
// allocated, and a message must be consumed exactly; any violation is an
// ErrMalformed, never a panic.
func Decode(b []byte) (Message, error) {
	d := decoder{b: b}
	if d.u8() != codecVersion {
		return nil, fmt.Errorf("%w: version", ErrMalformed)
	}
	var m Message
	switch k := d.u8(); k {
	case kindToken:
		t := &Token{Ring: d.ring(), TokenSeq: d.u64(), Seq: d.u64(), ARU: d.u64(), ARUAddr: env.NodeID(d.u32()), FCC: d.u32(), Backlog: d.u32()}
		n := d.count(MaxRTR, 8)
		for range n {
			t.RTR = append(t.RTR, d.u64())
		}
		t.Pending = d.nodes()
		m = t
	case kindMcast:
		mc := &Mcast{Ring: d.ring(), Seq: d.u64(), Sender: env.NodeID(d.u32())}
		switch d.u8() {
		case 0:
		case 1:
			mc.Encap, mc.OldRing, mc.OldSeq, mc.OldSender = true, d.ring(), d.u64(), env.NodeID(d.u32())
		default:
			d.fail("encapsulation flag")
		}
		n := int(d.u32())
		if n > MaxPayload {
			d.fail("payload length")
		}
		mc.Payload = slices.Clone(d.bytes(n))
		m = mc
	case kindJoin:
		m = &Join{Sender: env.NodeID(d.u32()), RingSeq: d.u64(), Procs: d.nodes(), Failed: d.nodes()}
	case kindCommit:
		c := &CommitToken{Ring: d.ring(), Rotation: d.u8(), Hop: d.u32(), Members: d.nodes()}
		for range c.Members {
			var e CommitEntry
			switch d.u8() {
			case 0:
			case 1:
				e.Filled = true
			default:
				d.fail("entry flag")
			}
			e.OldRing, e.ARU, e.HighSeq, e.Delivered = d.ring(), d.u64(), d.u64(), d.u64()
			c.Entries = append(c.Entries, e)
		}
		if c.Rotation != 1 && c.Rotation != 2 {
			d.fail("rotation")
		}
		m = c
	case kindMerge:
		m = &MergeDetect{Ring: d.ring()}
	case kindHoldCancel:
		m = &HoldCancel{Ring: d.ring()}
	default:
		return nil, fmt.Errorf("%w: kind %d", ErrMalformed, k)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	return m, nil
}

// decoder reads big-endian fields; after the first error every read
// returns zero, so callers check d.err once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	d.b = nil
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil || n < 0 || len(d.b) < n {
		d.fail("truncated")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u8() byte {
	if v := d.bytes(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if v := d.bytes(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if v := d.bytes(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) ring() RingID { return RingID{Seq: d.u64(), Rep: env.NodeID(d.u32())} }

// count reads a 16-bit element count and checks it against the limit and
// the bytes left, so a forged count cannot make us allocate.
func (d *decoder) count(limit, elemSize int) int {
	v := d.bytes(2)
	if v == nil {
		return 0
	}
	n := int(binary.BigEndian.Uint16(v))
	if n > limit || n*elemSize > len(d.b) {
		d.fail("count")
		return 0
	}
	return n
}

func (d *decoder) nodes() []env.NodeID {
	n := d.count(MaxNodes, 4)
	if n == 0 {
		return nil
	}
	out := make([]env.NodeID, n)
	for i := range out {
		out[i] = env.NodeID(d.u32())
	}
	return out
}
