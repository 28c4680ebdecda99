package wire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/hakit/hakit/node/env"
)

var testKey = bytes.Repeat([]byte{0x5a}, KeyLen)

func pair(t testing.TB) (a, b *Codec) {
	t.Helper()
	a, err := NewCodec(testKey, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	b, err = NewCodec(testKey, 2, 200)
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestSealOpenRoundTrip(t *testing.T) {
	a, b := pair(t)
	for _, msg := range [][]byte{nil, []byte("token"), bytes.Repeat([]byte{7}, MaxPayload)} {
		frame, err := a.Seal(msg)
		if err != nil {
			t.Fatal(err)
		}
		if len(frame) != len(msg)+Overhead || len(frame) > env.MaxFrameSize {
			t.Errorf("frame of %d bytes for a %d-byte payload", len(frame), len(msg))
		}
		got, err := b.Open(1, frame)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("Open: %v (len %d)", err, len(got))
		}
	}
	if _, err := a.Seal(make([]byte, MaxPayload+1)); err == nil {
		t.Error("sealed a payload larger than MaxPayload")
	}
}

func TestEveryBadFrameIsDroppedAndCountedByReason(t *testing.T) {
	a, b := pair(t)
	good, _ := a.Seal([]byte("hello"))
	// fresh is sealed but never delivered, so its tampered copies reach
	// the authentication check instead of the (cheaper) replay check.
	fresh, _ := a.Seal([]byte("hello again"))
	flip := func(i int, mask byte) []byte { f := bytes.Clone(fresh); f[i] ^= mask; return f }
	other, _ := NewCodec(bytes.Repeat([]byte{1}, KeyLen), 1, 100)
	other.Seal(nil)
	wrongKey, _ := other.Seal([]byte("hello"))

	if _, err := b.Open(1, good); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		from  env.NodeID
		frame []byte
		want  error
	}{
		{"replay", 1, good, ErrReplay},
		{"empty", 1, nil, ErrBadMagic},
		{"truncated header", 1, good[:10], ErrTruncated},
		{"truncated tag", 1, fresh[:len(fresh)-1], ErrAuth},
		{"oversized", 1, make([]byte, env.MaxFrameSize+1), ErrOversized},
		{"bad magic", 1, flip(0, 1), ErrBadMagic},
		{"bad version", 1, flip(2, 1), ErrVersion},
		{"flags tampered", 1, flip(3, 1), ErrAuth},
		{"sender tampered", 3, flip(7, 2), ErrAuth}, // node 3's id in the header, from node 3
		{"sender mismatch", 3, good, ErrSenderMismatch},
		{"seq tampered", 1, flip(23, 1), ErrAuth},
		{"ciphertext tampered", 1, flip(headerLen, 1), ErrAuth},
		{"tag tampered", 1, flip(len(fresh)-1, 1), ErrAuth},
		{"wrong key", 1, wrongKey, ErrAuth},
		{"own frame reflected", 2, func() []byte { f, _ := b.Seal(nil); return f }(), ErrSenderMismatch},
	} {
		before := b.Stats().Dropped()
		if _, err := b.Open(c.from, c.frame); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if b.Stats().Dropped() != before+1 {
			t.Errorf("%s: not counted", c.name)
		}
	}
	s := b.Stats()
	if s.Opened != 1 || s.Replayed != 1 || s.AuthFailed != 7 || s.SenderMismatch != 2 {
		t.Errorf("stats %+v", s)
	}
}

// After a restart the sender uses a higher epoch: its new frames are
// accepted (sequence numbers start again at 1) and every frame of the old
// boot becomes a replay.
func TestRestartedSenderAndStaleEpoch(t *testing.T) {
	a, b := pair(t)
	old, _ := a.Seal([]byte("old"))
	unseen, _ := a.Seal([]byte("old, never delivered"))
	if _, err := b.Open(1, old); err != nil {
		t.Fatal(err)
	}
	a2, _ := NewCodec(testKey, 1, NextEpoch(a.Epoch(), 0))
	fresh, _ := a2.Seal([]byte("new"))
	if got, err := b.Open(1, fresh); err != nil || string(got) != "new" {
		t.Fatalf("frame from the new boot: %q, %v", got, err)
	}
	if _, err := b.Open(1, unseen); !errors.Is(err, ErrStaleEpoch) {
		t.Errorf("frame from the previous boot: %v, want ErrStaleEpoch", err)
	}
	// A forged frame claiming a future epoch must not move the epoch.
	forged := bytes.Clone(fresh)
	forged[15]++ // epoch+1, tag now wrong
	if _, err := b.Open(1, forged); !errors.Is(err, ErrAuth) {
		t.Fatalf("forged epoch: %v", err)
	}
	next, _ := a2.Seal([]byte("still here"))
	if _, err := b.Open(1, next); err != nil {
		t.Errorf("the forged epoch shifted the receiver: %v", err)
	}
}

func TestNextEpoch(t *testing.T) {
	for _, c := range []struct {
		persisted uint64
		wall      int64
		want      uint64
	}{
		{0, 1_700_000_000, 1_700_000_000},
		{1_700_000_000, 1_700_000_000, 1_700_000_001}, // two boots in one second
		{5, -1, 6}, // clock before 1970: still above the last
		{1_800_000_000, 1_700_000_000, 1_800_000_001}, // clock went back: the disk wins
	} {
		if got := NextEpoch(c.persisted, c.wall); got != c.want {
			t.Errorf("NextEpoch(%d, %d) = %d, want %d", c.persisted, c.wall, got, c.want)
		}
	}
}

func TestKeyChecks(t *testing.T) {
	if _, err := NewCodec(make([]byte, KeyLenMin-1), 1, 1); err == nil {
		t.Error("accepted a short key")
	}
	if _, err := NewCodec(testKey, 0, 1); err == nil {
		t.Error("accepted node id 0")
	}
	k, err := GenerateKey(bytes.NewReader(bytes.Repeat([]byte{9}, KeyLen)))
	if err != nil || len(k) != KeyLen {
		t.Errorf("GenerateKey: %d bytes, %v", len(k), err)
	}
	if _, err := GenerateKey(bytes.NewReader(nil)); err == nil {
		t.Error("GenerateKey from an empty reader succeeded")
	}
}

// The replay window against a plain model: a frame is accepted iff its
// sequence number was never accepted and is within WindowSize of the
// highest accepted one, for any order of delivery with duplicates.
func TestReplayWindowMatchesModel(t *testing.T) {
	params := gopter.DefaultTestParametersWithSeed(3)
	params.MinSuccessfulTests = 200
	props := gopter.NewProperties(params)
	props.Property("window == model", prop.ForAll(
		func(deliveries []uint64) bool {
			a, b := pair(t)
			var frames [][]byte
			for range 3000 {
				f, _ := a.Seal(nil)
				frames = append(frames, f)
			}
			accepted := map[uint64]bool{}
			var highest uint64
			for _, d := range deliveries {
				seq := d%uint64(len(frames)) + 1
				want := !accepted[seq] && (seq > highest || highest-seq < WindowSize)
				_, err := b.Open(1, frames[seq-1])
				if (err == nil) != want {
					t.Logf("seq %d highest %d: err %v, model accept=%v", seq, highest, err, want)
					return false
				}
				if want {
					accepted[seq] = true
					highest = max(highest, seq)
				}
			}
			return true
		},
		gen.SliceOf(gen.UInt64Range(0, 2999)),
	))
	props.TestingRun(t)
}

// FuzzOpen: no input panics, and whatever is not a frame sealed by the peer
// is rejected (the fuzzer cannot forge a tag).
func FuzzOpen(f *testing.F) {
	a, _ := pair(f)
	good, _ := a.Seal([]byte("seed"))
	f.Add(good)
	f.Add(good[:headerLen])
	f.Add([]byte("hK\x01"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, frame []byte) {
		_, b := pair(t)
		payload, err := b.Open(1, frame)
		if err == nil && !bytes.Equal(frame, good) {
			t.Errorf("accepted a frame the peer never sealed: %x -> %q", frame, payload)
		}
	})
}

func BenchmarkSealOpen256(b *testing.B) {
	a, r := pair(b)
	msg := make([]byte, 256)
	b.SetBytes(256)
	for b.Loop() {
		f, _ := a.Seal(msg)
		if _, err := r.Open(1, f); err != nil {
			b.Fatal(err)
		}
	}
}
