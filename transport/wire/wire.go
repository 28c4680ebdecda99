// Package wire is the outer frame of every datagram hakit nodes exchange:
// versioned, authenticated and encrypted with a key derived from the
// cluster's shared authkey, with a replay window per sender. A frame that
// is malformed, truncated, oversized, forged, tampered with, replayed or
// from an earlier boot of its sender is dropped and counted, never a panic.
//
// Layout (big-endian), 24-byte header then AES-256-GCM ciphertext and tag:
//
//	0  magic "hK"          2 bytes
//	2  version (1)         1 byte
//	3  flags (0)           1 byte, reserved
//	4  sender node id      4 bytes
//	8  sender boot epoch   8 bytes
//	16 sequence number     8 bytes
//	24 ciphertext || tag   payload + 16 bytes
//
// The whole header is authenticated as additional data. Each (sender,
// epoch) has its own key, HKDF-SHA256(authkey, info = sender || epoch), and
// the nonce is the sequence number, so a nonce is never reused as long as a
// node never reuses an epoch; NextEpoch makes epochs strictly increase
// across restarts even when the node's disk was wiped. A receiver keeps,
// per sender, the highest epoch it has authenticated and a sliding window of
// the last WindowSize sequence numbers: older epochs and repeated or too-old
// sequence numbers are replays.
//
// Codec is pure state (no clock, no I/O): the node owns it on its loop.
package wire

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hakit/hakit/node/env"
)

const (
	magic0, magic1 = 'h', 'K'
	// Version is the wire version this package speaks. A receiver drops
	// other versions (and counts them) rather than guessing.
	Version   = 1
	headerLen = 24
	tagLen    = 16
	// Overhead is what a frame adds to its payload.
	Overhead = headerLen + tagLen
	// MaxPayload is the largest payload that fits one datagram.
	MaxPayload = env.MaxFrameSize - Overhead
	// WindowSize is how far behind the highest sequence number seen a
	// frame may arrive (reordering) and still be accepted once.
	WindowSize = 1024

	// KeyLenMin and KeyLenMax bound an authkey, as corosync-keygen's
	// 1024..4096 bits and a bit of slack below for hand-made test keys.
	KeyLenMin = 32
	KeyLenMax = 4096
	// KeyLen is the length GenerateKey writes (2048 bits, corosync-keygen's
	// default).
	KeyLen = 256
)

// Errors Open returns; every one is a reason to drop and count the frame.
var (
	ErrTruncated      = errors.New("frame shorter than header and tag")
	ErrOversized      = errors.New("frame larger than env.MaxFrameSize")
	ErrBadMagic       = errors.New("not a hakit frame")
	ErrVersion        = errors.New("unsupported wire version")
	ErrSenderMismatch = errors.New("sender id does not match the transport's source")
	ErrAuth           = errors.New("authentication failed (wrong key or tampered)")
	ErrStaleEpoch     = errors.New("frame from an earlier boot of its sender")
	ErrReplay         = errors.New("replayed sequence number")
	ErrTooOld         = errors.New("sequence number behind the replay window")
)

// Stats counts frames by outcome.
type Stats struct {
	Sealed, Opened                                           uint64
	Truncated, Oversized, BadMagic, BadVersion               uint64
	SenderMismatch, AuthFailed, StaleEpoch, Replayed, TooOld uint64
}

// Dropped is the total of frames refused.
func (s Stats) Dropped() uint64 {
	return s.Truncated + s.Oversized + s.BadMagic + s.BadVersion + s.SenderMismatch + s.AuthFailed + s.StaleEpoch + s.Replayed + s.TooOld
}

// GenerateKey returns a new authkey of KeyLen bytes read from r (the
// caller passes crypto/rand.Reader: key generation is the one place hakit
// wants the OS's randomness).
func GenerateKey(r io.Reader) ([]byte, error) {
	key := make([]byte, KeyLen)
	if _, err := io.ReadFull(r, key); err != nil {
		return nil, fmt.Errorf("generating authkey: %w", err)
	}
	return key, nil
}

// CheckKey validates an authkey's length.
func CheckKey(authkey []byte) error {
	if len(authkey) < KeyLenMin || len(authkey) > KeyLenMax {
		return fmt.Errorf("authkey is %d bytes, want %d to %d", len(authkey), KeyLenMin, KeyLenMax)
	}
	return nil
}

// NextEpoch picks this boot's epoch: above the one persisted from the last
// boot, and at least the wall clock in seconds, so that a node whose disk
// was wiped still starts above any epoch it used before (unless its clock
// went back too).
func NextEpoch(persisted uint64, wallUnixSeconds int64) uint64 {
	return max(persisted+1, uint64(max(wallUnixSeconds, 0)))
}

// Codec seals this node's frames and opens its peers'.
type Codec struct {
	authkey []byte
	self    env.NodeID
	epoch   uint64
	seq     uint64
	sealer  cipher.AEAD
	peers   map[env.NodeID]*peerState
	stats   Stats
}

type peerState struct {
	epoch   uint64
	aead    cipher.AEAD
	highest uint64
	window  [WindowSize / 64]uint64 // bit i: highest-i was accepted
}

// NewCodec returns a codec for node self in boot epoch. The epoch must
// never have been used by self before with this authkey (see NextEpoch).
func NewCodec(authkey []byte, self env.NodeID, epoch uint64) (*Codec, error) {
	if err := CheckKey(authkey); err != nil {
		return nil, err
	}
	if self == 0 || epoch == 0 {
		return nil, fmt.Errorf("wire: node id and epoch must be non-zero (node %d, epoch %d)", self, epoch)
	}
	c := &Codec{authkey: append([]byte(nil), authkey...), self: self, epoch: epoch, peers: map[env.NodeID]*peerState{}}
	aead, err := c.deriveAEAD(self, epoch)
	if err != nil {
		return nil, err
	}
	c.sealer = aead
	return c, nil
}

// Epoch returns this node's boot epoch.
func (c *Codec) Epoch() uint64 { return c.epoch }

// Stats returns the frame counters.
func (c *Codec) Stats() Stats { return c.stats }

func (c *Codec) deriveAEAD(node env.NodeID, epoch uint64) (cipher.AEAD, error) {
	var info [4 + 8 + 16]byte
	binary.BigEndian.PutUint32(info[0:], uint32(node))
	binary.BigEndian.PutUint64(info[4:], epoch)
	copy(info[12:], "hakit/wire/v1/k")
	key, err := hkdf.Key(sha256.New, c.authkey, nil, string(info[:]), 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal wraps payload in a new frame. The payload is not retained.
func (c *Codec) Seal(payload []byte) ([]byte, error) {
	if len(payload) > MaxPayload {
		return nil, fmt.Errorf("wire: payload of %d bytes exceeds %d", len(payload), MaxPayload)
	}
	c.seq++
	frame := make([]byte, headerLen, headerLen+len(payload)+tagLen)
	frame[0], frame[1], frame[2], frame[3] = magic0, magic1, Version, 0
	binary.BigEndian.PutUint32(frame[4:], uint32(c.self))
	binary.BigEndian.PutUint64(frame[8:], c.epoch)
	binary.BigEndian.PutUint64(frame[16:], c.seq)
	frame = c.sealer.Seal(frame, nonce(c.seq), payload, frame[:headerLen])
	c.stats.Sealed++
	return frame, nil
}

func nonce(seq uint64) []byte {
	var n [12]byte
	binary.BigEndian.PutUint64(n[4:], seq)
	return n[:]
}

// Open authenticates a frame the transport received from node from and
// returns its payload (a new slice). Any error means: drop it; the reason is
// counted in Stats.
func (c *Codec) Open(from env.NodeID, frame []byte) ([]byte, error) {
	payload, err := c.open(from, frame)
	if err != nil {
		c.count(err)
		return nil, err
	}
	c.stats.Opened++
	return payload, nil
}

func (c *Codec) open(from env.NodeID, frame []byte) ([]byte, error) {
	switch {
	case len(frame) > env.MaxFrameSize:
		return nil, ErrOversized
	case len(frame) < 2 || frame[0] != magic0 || frame[1] != magic1:
		return nil, ErrBadMagic
	case len(frame) < 3 || frame[2] != Version:
		if len(frame) < 3 {
			return nil, ErrTruncated
		}
		return nil, ErrVersion
	case len(frame) < headerLen+tagLen:
		return nil, ErrTruncated
	}
	sender := env.NodeID(binary.BigEndian.Uint32(frame[4:]))
	epoch := binary.BigEndian.Uint64(frame[8:])
	seq := binary.BigEndian.Uint64(frame[16:])
	if sender != from || sender == c.self {
		return nil, ErrSenderMismatch
	}
	p := c.peers[sender]
	if p != nil && epoch < p.epoch {
		return nil, ErrStaleEpoch
	}
	if p != nil && epoch == p.epoch {
		if err := p.check(seq); err != nil {
			return nil, err
		}
	}
	var aead cipher.AEAD
	if p != nil && p.epoch == epoch {
		aead = p.aead
	} else {
		// A new epoch (or a first frame): derive without caching, since the
		// frame is not authenticated yet.
		var err error
		if aead, err = c.deriveAEAD(sender, epoch); err != nil {
			return nil, err
		}
	}
	payload, err := aead.Open(nil, nonce(seq), frame[headerLen:], frame[:headerLen])
	if err != nil {
		return nil, ErrAuth
	}
	// Only an authenticated frame may move the epoch or the window: a
	// forger must not be able to shift them.
	if p == nil || epoch > p.epoch {
		p = &peerState{epoch: epoch, aead: aead}
		c.peers[sender] = p
	}
	p.accept(seq)
	return payload, nil
}

func (p *peerState) check(seq uint64) error {
	switch {
	case seq > p.highest:
		return nil
	case p.highest-seq >= WindowSize:
		return ErrTooOld
	case p.bit(p.highest - seq):
		return ErrReplay
	}
	return nil
}

func (p *peerState) accept(seq uint64) {
	if seq > p.highest {
		shift := seq - p.highest
		p.shift(shift)
		p.highest = seq
	}
	d := p.highest - seq
	p.window[d/64] |= 1 << (d % 64)
}

func (p *peerState) bit(d uint64) bool { return p.window[d/64]&(1<<(d%64)) != 0 }

// shift moves the window forward by n: bit i becomes bit i+n.
func (p *peerState) shift(n uint64) {
	if n >= WindowSize {
		p.window = [WindowSize / 64]uint64{}
		return
	}
	words, bits := int(n/64), n%64
	for i := len(p.window) - 1; i >= 0; i-- {
		var v uint64
		if src := i - words; src >= 0 {
			v = p.window[src] << bits
			if bits > 0 && src-1 >= 0 {
				v |= p.window[src-1] >> (64 - bits)
			}
		}
		p.window[i] = v
	}
}

func (c *Codec) count(err error) {
	switch err {
	case ErrTruncated:
		c.stats.Truncated++
	case ErrOversized:
		c.stats.Oversized++
	case ErrBadMagic:
		c.stats.BadMagic++
	case ErrVersion:
		c.stats.BadVersion++
	case ErrSenderMismatch:
		c.stats.SenderMismatch++
	case ErrStaleEpoch:
		c.stats.StaleEpoch++
	case ErrReplay:
		c.stats.Replayed++
	case ErrTooOld:
		c.stats.TooOld++
	default:
		c.stats.AuthFailed++
	}
}
