package cpg

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/hakit/hakit/node/env"
)

// Limits.
const (
	// MaxGroupName bounds a group name, as Corosync's CPG_MAX_NAME_LENGTH.
	MaxGroupName = 128
	// MaxMessage bounds every encoded message: below totem's MaxPayload
	// (60 KiB) with room for the driver's service byte.
	MaxMessage = 56 << 10
	// MaxMemberships bounds this node's (process, group) pairs that are
	// joined, joining or leaving, so that its exchange announcement stays
	// within maxChunks messages.
	MaxMemberships = 4096
)

// Errors. Join, Leave and Mcast return them without sending anything;
// Apply returns ErrMalformed (or ErrTooLarge) for a payload every replica
// drops alike.
var (
	ErrBadGroup      = errors.New("cpg: bad group name (empty, over 128 bytes, or containing NUL)")
	ErrAlreadyJoined = errors.New("cpg: the process is already joined to the group, or its join is pending")
	ErrNotJoined     = errors.New("cpg: the process is not joined to the group")
	ErrTooLarge      = errors.New("cpg: message too large")
	ErrTooMany       = errors.New("cpg: too many memberships on this node")
	ErrMalformed     = errors.New("cpg: malformed message")
)

// RingID names a totem ring, as totem.RingID does (the driver copies it
// from the configuration event). Exchange messages carry it: totem keeps a
// node's send queue across configuration changes, so one queued in a ring
// may be delivered in the next, and only the ring id tells it is stale.
type RingID struct {
	Seq uint64
	Rep env.NodeID
}

func (r RingID) String() string { return fmt.Sprintf("%d/%d", r.Rep, r.Seq) }

// MsgKind is a message's leading tag byte.
type MsgKind uint8

// Message kinds.
const (
	MsgJoin MsgKind = iota + 1
	MsgLeave
	MsgMcast
	MsgExchange
)

// Message is one decoded message of the service. Join, leave and mcast
// name the sender's process; their node is the totem sender, so a node
// cannot speak for another. An exchange is one chunk of a node's
// announcement of its memberships in one configuration.
type Message struct {
	Kind MsgKind

	// MsgJoin, MsgLeave, MsgMcast.
	PID     uint32
	Group   string
	Reason  Reason // MsgLeave: ReasonLeave or ReasonProcDown
	Payload []byte // MsgMcast

	// MsgExchange.
	Ring         RingID
	Index, Total int     // this chunk's place in the announcement
	Entries      []Entry // strictly ascending by (Group, PID)
}

// Entry is one membership of the announcing node.
type Entry struct {
	Group string
	PID   uint32
}

func (e Entry) compare(o Entry) int {
	if c := strings.Compare(e.Group, o.Group); c != 0 {
		return c
	}
	return cmp.Compare(e.PID, o.PID)
}

// The encodings, big-endian, each after its tag byte:
//
//	join      pid u32 | name len u8 | name
//	leave     pid u32 | reason u8 (2 leave, 5 procdown) | name len u8 | name
//	mcast     pid u32 | name len u8 | name | payload (the rest)
//	exchange  ring seq u64 | ring rep u32 | index u16 | total u16 |
//	          count u16 | count × (name len u8 | name | pid u32)
const (
	opHeader       = 1 + 4 + 1             // tag, pid, name length
	exchangeHeader = 1 + 8 + 4 + 2 + 2 + 2 // tag, ring, index, total, count
	minEntry       = 1 + 1 + 4
	maxEntry       = 1 + MaxGroupName + 4
	// maxChunks bounds an announcement: the largest one fits.
	maxChunks = (MaxMemberships*maxEntry)/(MaxMessage-exchangeHeader) + 1
)

func validGroup(g string) bool {
	return g != "" && len(g) <= MaxGroupName && !strings.ContainsRune(g, 0)
}

func encodeOp(kind MsgKind, pid uint32, group string, reason Reason, payload []byte) []byte {
	b := make([]byte, 0, opHeader+1+len(group)+len(payload))
	b = append(b, byte(kind))
	b = binary.BigEndian.AppendUint32(b, pid)
	if kind == MsgLeave {
		b = append(b, byte(reason))
	}
	b = append(b, byte(len(group)))
	b = append(b, group...)
	return append(b, payload...)
}

// Encode returns m's encoding. It does not validate; Decode does.
func (m Message) Encode() []byte {
	if m.Kind != MsgExchange {
		return encodeOp(m.Kind, m.PID, m.Group, m.Reason, m.Payload)
	}
	b := []byte{byte(MsgExchange)}
	b = binary.BigEndian.AppendUint64(b, m.Ring.Seq)
	b = binary.BigEndian.AppendUint32(b, uint32(m.Ring.Rep))
	b = binary.BigEndian.AppendUint16(b, uint16(m.Index))
	b = binary.BigEndian.AppendUint16(b, uint16(m.Total))
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Entries)))
	for _, e := range m.Entries {
		b = append(b, byte(len(e.Group)))
		b = append(b, e.Group...)
		b = binary.BigEndian.AppendUint32(b, e.PID)
	}
	return b
}

// encodeExchange cuts an announcement (sorted entries) into chunks that
// each fit MaxMessage; an empty announcement is one empty chunk.
func encodeExchange(ring RingID, entries []Entry) [][]byte {
	var chunks [][]Entry
	start, size := 0, exchangeHeader
	for i, e := range entries {
		if n := 1 + len(e.Group) + 4; size+n > MaxMessage {
			chunks = append(chunks, entries[start:i])
			start, size = i, exchangeHeader
		}
		size += 1 + len(e.Group) + 4
	}
	chunks = append(chunks, entries[start:])
	out := make([][]byte, len(chunks))
	for i, c := range chunks {
		out[i] = Message{Kind: MsgExchange, Ring: ring, Index: i, Total: len(chunks), Entries: c}.Encode()
	}
	return out
}

// Decode decodes one message. It refuses anything that is not the
// canonical encoding of a valid message (so Encode gives back the same
// bytes), checking every length before it allocates. The result shares no
// memory with b; an empty payload decodes as nil.
func Decode(b []byte) (Message, error) {
	if len(b) > MaxMessage {
		return Message{}, ErrTooLarge
	}
	r := reader{b: b}
	m := Message{Kind: MsgKind(r.u8())}
	switch m.Kind {
	case MsgJoin, MsgLeave, MsgMcast:
		m.PID = r.u32()
		if m.Kind == MsgLeave {
			m.Reason = Reason(r.u8())
			if r.err == nil && m.Reason != ReasonLeave && m.Reason != ReasonProcDown {
				return Message{}, fmt.Errorf("%w: leave reason %d", ErrMalformed, m.Reason)
			}
		}
		m.Group = r.group()
		if m.Kind == MsgMcast && r.err == nil && r.off < len(b) {
			m.Payload = bytes.Clone(r.take(len(b) - r.off))
		}
	case MsgExchange:
		m.Ring.Seq = r.u64()
		m.Ring.Rep = env.NodeID(r.u32())
		m.Index, m.Total = int(r.u16()), int(r.u16())
		n := int(r.u16())
		if r.err == nil && (m.Total == 0 || m.Total > maxChunks || m.Index >= m.Total) {
			return Message{}, fmt.Errorf("%w: chunk %d of %d", ErrMalformed, m.Index, m.Total)
		}
		if r.err == nil && n > (len(b)-r.off)/minEntry {
			return Message{}, fmt.Errorf("%w: %d entries in %d bytes", ErrMalformed, n, len(b)-r.off)
		}
		if n > 0 {
			m.Entries = make([]Entry, 0, n)
		}
		for i := range n {
			e := Entry{Group: r.group(), PID: r.u32()}
			if r.err != nil {
				break
			}
			if i > 0 && m.Entries[i-1].compare(e) >= 0 {
				return Message{}, fmt.Errorf("%w: entries out of order at %q/%d", ErrMalformed, e.Group, e.PID)
			}
			m.Entries = append(m.Entries, e)
		}
	default:
		return Message{}, fmt.Errorf("%w: unknown tag %d", ErrMalformed, m.Kind)
	}
	if r.err != nil {
		return Message{}, r.err
	}
	if r.off != len(b) {
		return Message{}, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(b)-r.off)
	}
	return m, nil
}

// reader decodes big-endian fields; the first error sticks and every later
// read returns zero.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b)-r.off < n {
		r.err = fmt.Errorf("%w: truncated", ErrMalformed)
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

// fixed reads n bytes, zeros once an error stuck.
func (r *reader) fixed(n int) []byte {
	if s := r.take(n); s != nil {
		return s
	}
	return make([]byte, n)
}

func (r *reader) u8() byte    { return r.fixed(1)[0] }
func (r *reader) u16() uint16 { return binary.BigEndian.Uint16(r.fixed(2)) }
func (r *reader) u32() uint32 { return binary.BigEndian.Uint32(r.fixed(4)) }
func (r *reader) u64() uint64 { return binary.BigEndian.Uint64(r.fixed(8)) }

// group reads a length-prefixed group name and checks it.
func (r *reader) group() string {
	g := string(r.take(int(r.u8())))
	if r.err == nil && !validGroup(g) {
		r.err = fmt.Errorf("%w: group name %q", ErrMalformed, g)
	}
	return g
}
