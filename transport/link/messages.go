package link

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hakit/hakit/node/env"
)

// Message is a Ping or a Pong (values or pointers).
type Message interface{ isLinkMessage() }

// Ping asks the peer to echo Seq and SentAt on the link it came in on.
type Ping struct {
	Seq    uint64
	SentAt env.Mono // the sender's clock; only the sender interprets it
}

// Pong echoes a Ping's fields back to its sender.
type Pong struct {
	Seq    uint64
	SentAt env.Mono
}

func (Ping) isLinkMessage() {}
func (Pong) isLinkMessage() {}

// Wire layout: version, kind, Seq (8 bytes), SentAt (8 bytes), big-endian.
const (
	codecVersion byte = 1
	kindPing     byte = 1
	kindPong     byte = 2
	// MessageSize is the exact encoded size of every message.
	MessageSize = 2 + 8 + 8
)

// ErrMalformed is wrapped by every Decode error.
var ErrMalformed = errors.New("link: malformed message")

// Encode renders m for the wire. It panics on a nil or foreign Message,
// which only a programming error can produce.
func Encode(m Message) []byte {
	var kind byte
	var seq uint64
	var sent env.Mono
	switch m := m.(type) {
	case Ping:
		kind, seq, sent = kindPing, m.Seq, m.SentAt
	case *Ping:
		kind, seq, sent = kindPing, m.Seq, m.SentAt
	case Pong:
		kind, seq, sent = kindPong, m.Seq, m.SentAt
	case *Pong:
		kind, seq, sent = kindPong, m.Seq, m.SentAt
	default:
		panic(fmt.Sprintf("link: Encode of %T", m))
	}
	b := make([]byte, 0, MessageSize)
	b = append(b, codecVersion, kind)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = binary.BigEndian.AppendUint64(b, uint64(sent))
	return b
}

// Decode parses a message produced by Encode. It never panics, and it
// rejects anything that is not exactly one message, so that a frame cannot
// carry trailing bytes no one checks.
func Decode(b []byte) (Message, error) {
	if len(b) != MessageSize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrMalformed, len(b), MessageSize)
	}
	if b[0] != codecVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrMalformed, b[0], codecVersion)
	}
	seq := binary.BigEndian.Uint64(b[2:10])
	sent := env.Mono(binary.BigEndian.Uint64(b[10:18]))
	switch b[1] {
	case kindPing:
		return Ping{Seq: seq, SentAt: sent}, nil
	case kindPong:
		return Pong{Seq: seq, SentAt: sent}, nil
	}
	return nil, fmt.Errorf("%w: unknown kind %d", ErrMalformed, b[1])
}
