package cmap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/hakit/hakit/node/env"
)

// Limits. An operation travels as one totem message, so an encoded
// operation must also fit MaxMessage: a CAS whose Value and Expect are both
// near MaxValue does not, and Submit refuses it with ErrTooLarge.
const (
	MaxKey   = 1 << 10  // bytes in a key
	MaxValue = 32 << 10 // bytes in a value or in a CAS's expected value
	// MaxMessage bounds every message the store sends: below totem's
	// MaxPayload (60 KiB) with room for the driver's service byte and any
	// framing a caller adds.
	MaxMessage = 56 << 10
	// MaxStoreBytes bounds the store's contents, counted as the encoded
	// snapshot counts them: EntryOverhead plus key and value per entry. A
	// write that would exceed it is refused with ErrStoreFull, the same way
	// on every replica.
	MaxStoreBytes = 1 << 20
	// EntryOverhead is what one entry costs beyond its key and value.
	EntryOverhead = 6
	// MaxPending bounds the requests of this node awaiting their result.
	MaxPending = 4096
)

// Errors. Submit returns ErrNotQuorate, ErrTooLarge, ErrBadKey, ErrBadOp
// and ErrTooManyPending without sending anything. A Result carries
// ErrNotQuorate, ErrSyncing or ErrStoreFull when every replica refused the
// operation (a definite outcome: it did not happen), and ErrUnknownOutcome
// when this node can no longer learn whether it happened.
var (
	ErrNotQuorate     = errors.New("cmap: not quorate")
	ErrTooLarge       = errors.New("cmap: operation too large")
	ErrBadKey         = errors.New("cmap: bad key (empty, over 1 KiB, or containing NUL)")
	ErrBadOp          = errors.New("cmap: malformed operation")
	ErrTooManyPending = errors.New("cmap: too many pending requests")
	ErrSyncing        = errors.New("cmap: replicas are synchronising after a configuration change")
	ErrStoreFull      = errors.New("cmap: store would exceed MaxStoreBytes")
	ErrUnknownOutcome = errors.New("cmap: outcome unknown (the configuration changed before it was known)")
	// ErrBadSnapshot and ErrStateMissing say why a configuration's state
	// transfer failed (Ready.SyncFailed, Status.SyncError); the
	// configuration then refuses operations with ErrSyncing until the next
	// one. ErrStateMissing: a member took part in a writable configuration
	// whose state no member present holds (it restarted and lost it); the
	// refusals match it too.
	ErrBadSnapshot  = errors.New("cmap: the sync source's snapshot does not match its status")
	ErrStateMissing = errors.New("cmap: no member present holds the newest state")
	errStateMissing = fmt.Errorf("%w: %w", ErrSyncing, ErrStateMissing)
	// errLostQuorum fails pending requests when quorum is lost: they may
	// still take effect, so it matches both ErrNotQuorate and
	// ErrUnknownOutcome.
	errLostQuorum = fmt.Errorf("%w: %w", ErrNotQuorate, ErrUnknownOutcome)
)

// OpKind says what an Op does.
type OpKind uint8

// Operation kinds. A Get through Submit is a linearizable read: it is
// ordered with the writes; GetLocal is the stale, local one.
const (
	Get OpKind = iota + 1
	Set
	Delete
	CAS
)

func (k OpKind) String() string {
	switch k {
	case Get:
		return "get"
	case Set:
		return "set"
	case Delete:
		return "delete"
	case CAS:
		return "cas"
	}
	return fmt.Sprintf("OpKind(%d)", uint8(k))
}

// Op is one client request.
type Op struct {
	Kind  OpKind
	Key   string
	Value []byte // Set, CAS: the new value
	// CAS: the value the key must hold, or ExpectAbsent: the key must not
	// exist (Expect is then empty).
	Expect       []byte
	ExpectAbsent bool
	// Client is the node that submitted the operation (Submit sets it) and
	// ReqID its number there (Submit assigns one if zero).
	Client env.NodeID
	ReqID  uint64
}

// Result is the outcome of one of this node's requests.
//
// Found and Value describe the key before the operation: for Get its
// value, for Set and Delete the value replaced or removed, for CAS the
// value compared. OK is true for a Get or Delete that found the key, for
// every Set, and for a CAS that matched. Revision is the store's revision
// after the operation (the count of mutations in its history). Err is set
// when the operation was refused or its outcome is unknown; the other
// fields are then meaningless.
type Result struct {
	ReqID    uint64
	OK       bool
	Value    []byte
	Found    bool
	Revision uint64
	Err      error
}

// validKey reports whether k can be a key.
func validKey(k string) bool {
	return k != "" && len(k) <= MaxKey && !strings.ContainsRune(k, 0)
}

// validate checks an operation's shape: the checks DecodeOp makes, so
// that whatever Submit accepts every replica decodes.
func (op Op) validate() error {
	if op.Kind < Get || op.Kind > CAS {
		return fmt.Errorf("%w: kind %d", ErrBadOp, op.Kind)
	}
	if !validKey(op.Key) {
		return ErrBadKey
	}
	if len(op.Value) > MaxValue || len(op.Expect) > MaxValue {
		return ErrTooLarge
	}
	if op.Kind != Set && op.Kind != CAS && len(op.Value) > 0 {
		return fmt.Errorf("%w: a %s carries no value", ErrBadOp, op.Kind)
	}
	if op.Kind != CAS && (len(op.Expect) > 0 || op.ExpectAbsent) {
		return fmt.Errorf("%w: only a CAS carries an expectation", ErrBadOp)
	}
	if op.ExpectAbsent && len(op.Expect) > 0 {
		return fmt.Errorf("%w: a CAS expects either absence or a value", ErrBadOp)
	}
	return nil
}

// Message tags: the first byte of every message the store sends.
const (
	tagOp     byte = 1
	tagStatus byte = 2
	tagChunk  byte = 3
	tagAck    byte = 4
	tagQuorum byte = 5
)

const (
	opHeader       = 1 + 1 + 1 + 4 + 8 // tag, kind, flags, client, request id
	flagExpectAbs  = 1
	opFixedLengths = 2 + 4 + 4 // key, value and expect lengths
)

// EncodeOp encodes an operation as the message Submit sends:
//
//	tag=1 | kind u8 | flags u8 (1: ExpectAbsent) | client u32 | req u64 |
//	key len u16 | key | value len u32 | value | expect len u32 | expect
//
// big-endian. It does not validate; DecodeOp does.
func EncodeOp(op Op) []byte {
	b := make([]byte, 0, opHeader+opFixedLengths+len(op.Key)+len(op.Value)+len(op.Expect))
	var flags byte
	if op.ExpectAbsent {
		flags |= flagExpectAbs
	}
	b = append(b, tagOp, byte(op.Kind), flags)
	b = binary.BigEndian.AppendUint32(b, uint32(op.Client))
	b = binary.BigEndian.AppendUint64(b, op.ReqID)
	b = binary.BigEndian.AppendUint16(b, uint16(len(op.Key)))
	b = append(b, op.Key...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(op.Value)))
	b = append(b, op.Value...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(op.Expect)))
	return append(b, op.Expect...)
}

// DecodeOp decodes what EncodeOp produced. It refuses anything that is not
// the canonical encoding of a valid operation (so re-encoding a decoded
// operation gives back the same bytes), checking every length against the
// limits before it allocates. The result shares no memory with b; empty
// values decode as nil.
func DecodeOp(b []byte) (Op, error) {
	if len(b) > MaxMessage {
		return Op{}, ErrTooLarge
	}
	r := reader{b: b}
	if tag := r.u8(); tag != tagOp {
		return Op{}, fmt.Errorf("%w: tag %d is not an operation", ErrBadOp, tag)
	}
	var op Op
	op.Kind = OpKind(r.u8())
	flags := r.u8()
	op.Client = env.NodeID(r.u32())
	op.ReqID = r.u64()
	op.Key = string(r.bytes(int(r.u16()), MaxKey))
	op.Value = r.clone(int(r.u32()), MaxValue)
	op.Expect = r.clone(int(r.u32()), MaxValue)
	if r.err != nil {
		return Op{}, r.err
	}
	if r.off != len(b) {
		return Op{}, fmt.Errorf("%w: %d trailing bytes", ErrBadOp, len(b)-r.off)
	}
	if flags&^flagExpectAbs != 0 {
		return Op{}, fmt.Errorf("%w: unknown flags %#x", ErrBadOp, flags)
	}
	op.ExpectAbsent = flags&flagExpectAbs != 0
	if op.Client == 0 || op.ReqID == 0 {
		return Op{}, fmt.Errorf("%w: no client or request id", ErrBadOp)
	}
	if err := op.validate(); err != nil {
		return Op{}, err
	}
	return op, nil
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
	if n < 0 || len(r.b)-r.off < n {
		r.err = fmt.Errorf("%w: truncated", ErrBadOp)
		return nil
	}
	s := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return s
}

func (r *reader) u8() byte {
	if s := r.take(1); s != nil {
		return s[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if s := r.take(2); s != nil {
		return binary.BigEndian.Uint16(s)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if s := r.take(4); s != nil {
		return binary.BigEndian.Uint32(s)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if s := r.take(8); s != nil {
		return binary.BigEndian.Uint64(s)
	}
	return 0
}

// bytes returns n bytes (shared with the input), refusing n above limit.
func (r *reader) bytes(n, limit int) []byte {
	if r.err == nil && n > limit {
		r.err = fmt.Errorf("%w: length %d above %d", ErrTooLarge, n, limit)
	}
	return r.take(n)
}

// clone is bytes, copied; nil when empty.
func (r *reader) clone(n, limit int) []byte {
	s := r.bytes(n, limit)
	if len(s) == 0 {
		return nil
	}
	return bytes.Clone(s)
}
