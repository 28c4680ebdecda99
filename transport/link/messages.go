package link

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hakit/hakit/node/env"
)

// Message is a Ping or a Pong (values or pointers).
type Message interface{ isLinkMessage() }

// Ping asks the peer to echo Seq and SentAt on the link it came in on. It
// also spreads the cluster's view of connectivity: the rows the sender
// knows, its own first, each saying which peers its origin has a link up
// to. Rows are versioned by their origin, so every node of a connected
// group ends up with the same, newest rows and computes the same fully
// connected groups (package totem's Partition), even of pairs it cannot
// hear directly.
type Ping struct {
	Seq    uint64
	SentAt env.Mono // the sender's clock; only the sender interprets it
	Rows   []Row
}

// Row is one node's view of its links: the peers it had at least one link
// up to when it made version (Epoch, Seq) of it. Epoch is the node's boot
// epoch, so a restarted node's rows supersede its old ones.
type Row struct {
	Origin     env.NodeID
	Epoch, Seq uint64
	Reach      []env.NodeID
}

// Newer reports whether r is a later version than o of the same origin's row.
func (r Row) Newer(o Row) bool {
	return r.Epoch > o.Epoch || (r.Epoch == o.Epoch && r.Seq > o.Seq)
}

// Pong echoes a Ping's Seq and SentAt back to its sender.
type Pong struct {
	Seq    uint64
	SentAt env.Mono
}

func (Ping) isLinkMessage() {}
func (Pong) isLinkMessage() {}

// Wire layout, big-endian: version, kind, Seq (8 bytes), SentAt (8 bytes);
// a Ping then has a row count (2 bytes) and the rows, strictly ascending by
// origin: origin (4), epoch (8), seq (8), count (2) and that many node ids
// (4 each), strictly ascending.
const (
	codecVersion byte = 2
	kindPing     byte = 1
	kindPong     byte = 2
	// MessageSize is the encoded size of a Pong; a Ping has at least two
	// more bytes (its row count).
	MessageSize = 2 + 8 + 8
	// MaxReach bounds the rows of a Ping and the ids of a row (totem's
	// node limit).
	MaxReach  = 384
	rowHeader = 4 + 8 + 8 + 2
)

// ErrMalformed is wrapped by every Decode error.
var ErrMalformed = errors.New("link: malformed message")

// Encode renders m for the wire. It panics on a nil or foreign Message,
// which only a programming error can produce.
func Encode(m Message) []byte {
	var kind byte
	var seq uint64
	var sent env.Mono
	var rows []Row
	switch m := m.(type) {
	case Ping:
		kind, seq, sent, rows = kindPing, m.Seq, m.SentAt, m.Rows
	case *Ping:
		kind, seq, sent, rows = kindPing, m.Seq, m.SentAt, m.Rows
	case Pong:
		kind, seq, sent = kindPong, m.Seq, m.SentAt
	case *Pong:
		kind, seq, sent = kindPong, m.Seq, m.SentAt
	default:
		panic(fmt.Sprintf("link: Encode of %T", m))
	}
	b := make([]byte, 0, MessageSize+len(rows)*(rowHeader+16))
	b = append(b, codecVersion, kind)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = binary.BigEndian.AppendUint64(b, uint64(sent))
	if kind == kindPong {
		return b
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(rows)))
	for _, r := range rows {
		b = binary.BigEndian.AppendUint32(b, uint32(r.Origin))
		b = binary.BigEndian.AppendUint64(b, r.Epoch)
		b = binary.BigEndian.AppendUint64(b, r.Seq)
		b = binary.BigEndian.AppendUint16(b, uint16(len(r.Reach)))
		for _, n := range r.Reach {
			b = binary.BigEndian.AppendUint32(b, uint32(n))
		}
	}
	return b
}

// Decode parses a message produced by Encode. It never panics, and it
// rejects anything that is not exactly one message, so that a frame cannot
// carry trailing bytes no one checks.
func Decode(b []byte) (Message, error) {
	if len(b) < MessageSize {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrMalformed, len(b), MessageSize)
	}
	if b[0] != codecVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrMalformed, b[0], codecVersion)
	}
	seq := binary.BigEndian.Uint64(b[2:10])
	sent := env.Mono(binary.BigEndian.Uint64(b[10:18]))
	rest := b[MessageSize:]
	switch b[1] {
	case kindPong:
		if len(rest) != 0 {
			return nil, fmt.Errorf("%w: %d trailing bytes after a pong", ErrMalformed, len(rest))
		}
		return Pong{Seq: seq, SentAt: sent}, nil
	case kindPing:
	default:
		return nil, fmt.Errorf("%w: unknown kind %d", ErrMalformed, b[1])
	}
	if len(rest) < 2 {
		return nil, fmt.Errorf("%w: ping without its row count", ErrMalformed)
	}
	n := int(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	if n > MaxReach || len(rest) < n*rowHeader {
		return nil, fmt.Errorf("%w: ping of %d rows in %d bytes", ErrMalformed, n, len(rest))
	}
	var rows []Row
	for i := range n {
		if len(rest) < rowHeader {
			return nil, fmt.Errorf("%w: row %d truncated", ErrMalformed, i)
		}
		r := Row{
			Origin: env.NodeID(binary.BigEndian.Uint32(rest)),
			Epoch:  binary.BigEndian.Uint64(rest[4:]),
			Seq:    binary.BigEndian.Uint64(rest[12:]),
		}
		k := int(binary.BigEndian.Uint16(rest[20:]))
		rest = rest[rowHeader:]
		if k > MaxReach || len(rest) < 4*k {
			return nil, fmt.Errorf("%w: row %d of %d ids in %d bytes", ErrMalformed, i, k, len(rest))
		}
		if i > 0 && r.Origin <= rows[i-1].Origin {
			return nil, fmt.Errorf("%w: rows not strictly ascending by origin", ErrMalformed)
		}
		for j := range k {
			id := env.NodeID(binary.BigEndian.Uint32(rest[4*j:]))
			if j > 0 && id <= r.Reach[j-1] {
				return nil, fmt.Errorf("%w: row %d's ids not strictly ascending", ErrMalformed, i)
			}
			r.Reach = append(r.Reach, id)
		}
		rest = rest[4*k:]
		rows = append(rows, r)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after a ping", ErrMalformed, len(rest))
	}
	return Ping{Seq: seq, SentAt: sent, Rows: rows}, nil
}

// Pong is the answer to p.
func (p Ping) Pong() Pong { return Pong{Seq: p.Seq, SentAt: p.SentAt} }
