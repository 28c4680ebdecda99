package link

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/hakit/hakit/node/env"
)

func TestEncodeDecode(t *testing.T) {
	for _, m := range []Message{
		Ping{}, Ping{Seq: 1, SentAt: 2}, Ping{Seq: 3, SentAt: 4, Rows: []Row{{Origin: 1, Epoch: 9, Seq: 2, Reach: []env.NodeID{2, 7, 1 << 31}}, {Origin: 7, Epoch: 1, Seq: 1<<40 + 1}}},
		Pong{Seq: ^uint64(0), SentAt: -1}, Pong{Seq: 1 << 40, SentAt: env.Mono(1) << 62},
	} {
		b := Encode(m)
		if b[0] != codecVersion {
			t.Fatalf("Encode(%v) = %x", m, b)
		}
		got, err := Decode(b)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("Decode(Encode(%v)) = %v, %v", m, got, err)
		}
	}
	if !bytes.Equal(Encode(&Ping{Seq: 3, SentAt: 4}), Encode(Ping{Seq: 3, SentAt: 4})) {
		t.Fatal("pointer and value encode differently")
	}
	want := []byte{2, 2, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 3}
	if got := Encode(Pong{Seq: 0x102, SentAt: 3}); !bytes.Equal(got, want) {
		t.Fatalf("layout %x, want %x (version, kind, big-endian seq and time)", got, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	good := Encode(Ping{Seq: 5, SentAt: 6})
	pong := Encode(Pong{Seq: 5, SentAt: 6})
	reach := Encode(Ping{Seq: 5, SentAt: 6, Rows: []Row{{Origin: 1, Reach: []env.NodeID{2, 3}}}})
	twoRows := Encode(Ping{Seq: 5, SentAt: 6, Rows: []Row{{Origin: 1}, {Origin: 2}}})
	hdr := MessageSize + 2 + 4 + 8 + 8 + 2 // up to the first row's ids
	for name, b := range map[string][]byte{
		"empty":          nil,
		"short":          good[:MessageSize-1],
		"no count":       good[:MessageSize],
		"rows unsorted":  append(append(append([]byte{}, twoRows[:MessageSize+2]...), twoRows[MessageSize+2+22:]...), twoRows[MessageSize+2:MessageSize+2+22]...),
		"trailing":       append(append([]byte{}, good...), 0),
		"pong trailing":  append(append([]byte{}, pong...), 0),
		"version 1":      append([]byte{1}, good[1:]...),
		"version 3":      append([]byte{3}, good[1:]...),
		"kind 0":         append([]byte{2, 0}, good[2:]...),
		"kind 3":         append([]byte{2, 3}, good[2:]...),
		"reach short":    reach[:len(reach)-1],
		"reach unsorted": append(append([]byte{}, reach[:hdr]...), 0, 0, 0, 3, 0, 0, 0, 2),
		"reach repeated": append(append([]byte{}, reach[:hdr]...), 0, 0, 0, 3, 0, 0, 0, 3),
		"rows too many":  append(append([]byte{}, good[:MessageSize]...), 0xff, 0xff),
	} {
		if m, err := Decode(b); err == nil || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Decode(%x) = %v, %v; want ErrMalformed", name, b, m, err)
		}
	}
}

// FuzzDecode: Decode never panics, and whatever it accepts re-encodes to
// the same bytes (one encoding per message, nothing unchecked).
func FuzzDecode(f *testing.F) {
	f.Add(Encode(Ping{Seq: 1, SentAt: 1_000_000}))
	f.Add(Encode(Pong{Seq: 42, SentAt: -7}))
	f.Add(Encode(Pong{Seq: ^uint64(0), SentAt: env.Mono(^uint64(0) >> 1)}))
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{1, 1})
	f.Add(Encode(Ping{Seq: 9, SentAt: 9, Rows: []Row{{Origin: 1, Epoch: 3, Seq: 4, Reach: []env.NodeID{2, 300}}, {Origin: 2, Reach: []env.NodeID{1}}}}))
	f.Add([]byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{2, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(append(Encode(Ping{}), 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if m != nil || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode(%x) = %v, %v", b, m, err)
			}
			return
		}
		if got := Encode(m); !bytes.Equal(got, b) {
			t.Fatalf("Decode(%x) = %v, which encodes as %x", b, m, got)
		}
	})
}
