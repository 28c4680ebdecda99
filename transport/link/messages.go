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
// also carries the sender's view of connectivity: the peers it has at
// least one link up to, so that every node learns who reaches whom and
// membership can settle on fully connected nodes (see package totem's
// Partition).
type Ping struct {
	Seq    uint64
	SentAt env.Mono // the sender's clock; only the sender interprets it
	Reach  []env.NodeID
}

// Pong echoes a Ping's Seq and SentAt back to its sender.
type Pong struct {
	Seq    uint64
	SentAt env.Mono
}

func (Ping) isLinkMessage() {}
func (Pong) isLinkMessage() {}

// Wire layout, big-endian: version, kind, Seq (8 bytes), SentAt (8 bytes);
// a Ping then has a count (2 bytes) and that many node ids (4 bytes each),
// strictly ascending.
const (
	codecVersion byte = 2
	kindPing     byte = 1
	kindPong     byte = 2
	// MessageSize is the encoded size of a Pong and of a Ping reaching no
	// one.
	MessageSize = 2 + 8 + 8
	// MaxReach bounds a Ping's Reach (totem's node limit).
	MaxReach = 384
)

// ErrMalformed is wrapped by every Decode error.
var ErrMalformed = errors.New("link: malformed message")

// Encode renders m for the wire. It panics on a nil or foreign Message,
// which only a programming error can produce.
func Encode(m Message) []byte {
	var kind byte
	var seq uint64
	var sent env.Mono
	var reach []env.NodeID
	switch m := m.(type) {
	case Ping:
		kind, seq, sent, reach = kindPing, m.Seq, m.SentAt, m.Reach
	case *Ping:
		kind, seq, sent, reach = kindPing, m.Seq, m.SentAt, m.Reach
	case Pong:
		kind, seq, sent = kindPong, m.Seq, m.SentAt
	case *Pong:
		kind, seq, sent = kindPong, m.Seq, m.SentAt
	default:
		panic(fmt.Sprintf("link: Encode of %T", m))
	}
	b := make([]byte, 0, MessageSize+2+4*len(reach))
	b = append(b, codecVersion, kind)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = binary.BigEndian.AppendUint64(b, uint64(sent))
	if kind == kindPing {
		b = binary.BigEndian.AppendUint16(b, uint16(len(reach)))
		for _, n := range reach {
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
	case kindPing:
		if len(rest) < 2 {
			return nil, fmt.Errorf("%w: ping without its reach count", ErrMalformed)
		}
		n := int(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
		if n > MaxReach || len(rest) != 4*n {
			return nil, fmt.Errorf("%w: ping reach of %d nodes in %d bytes", ErrMalformed, n, len(rest))
		}
		var reach []env.NodeID
		for i := range n {
			id := env.NodeID(binary.BigEndian.Uint32(rest[4*i:]))
			if i > 0 && id <= reach[i-1] {
				return nil, fmt.Errorf("%w: ping reach not strictly ascending", ErrMalformed)
			}
			reach = append(reach, id)
		}
		return Ping{Seq: seq, SentAt: sent, Reach: reach}, nil
	case kindPong:
		if len(rest) != 0 {
			return nil, fmt.Errorf("%w: %d trailing bytes after a pong", ErrMalformed, len(rest))
		}
		return Pong{Seq: seq, SentAt: sent}, nil
	}
	return nil, fmt.Errorf("%w: unknown kind %d", ErrMalformed, b[1])
}

// Pong is the answer to p.
func (p Ping) Pong() Pong { return Pong{Seq: p.Seq, SentAt: p.SentAt} }
