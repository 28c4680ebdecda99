package cmap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hakit/hakit/node/env"
)

func TestOpRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{0xab}, MaxValue)
	for _, op := range []Op{
		{Kind: Get, Key: "a", Client: 1, ReqID: 1},
		{Kind: Set, Key: "nodes/1/attr", Value: []byte("v"), Client: 2, ReqID: 7},
		{Kind: Set, Key: "empty", Client: 2, ReqID: 8},
		{Kind: Delete, Key: strings.Repeat("k", MaxKey), Client: 3, ReqID: 1 << 60},
		{Kind: CAS, Key: "a", Expect: []byte("old"), Value: []byte("new"), Client: 4, ReqID: 9},
		{Kind: CAS, Key: "a", ExpectAbsent: true, Value: []byte("new"), Client: 4, ReqID: 10},
		{Kind: Set, Key: "big", Value: big, Client: 1, ReqID: 2},
	} {
		b := EncodeOp(op)
		got, err := DecodeOp(b)
		if err != nil {
			t.Fatalf("DecodeOp(EncodeOp(%v %q)): %v", op.Kind, op.Key, err)
		}
		if !reflect.DeepEqual(got, op) {
			t.Fatalf("round trip of %+v gave %+v", op, got)
		}
		if !bytes.Equal(EncodeOp(got), b) {
			t.Fatalf("re-encoding %v differs", op.Kind)
		}
	}
}

func TestDecodeOpRefuses(t *testing.T) {
	valid := EncodeOp(Op{Kind: Set, Key: "k", Value: []byte("v"), Client: 1, ReqID: 1})
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(valid)) }
	// Offsets in the encoding: tag 0, kind 1, flags 2, client 3-6, req 7-14,
	// key length 15-16, key 17, value length 18-21.
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrBadOp},
		{"wrong tag", mut(func(b []byte) []byte { b[0] = tagStatus; return b }), ErrBadOp},
		{"kind zero", mut(func(b []byte) []byte { b[1] = 0; return b }), ErrBadOp},
		{"kind unknown", mut(func(b []byte) []byte { b[1] = 9; return b }), ErrBadOp},
		{"unknown flag", mut(func(b []byte) []byte { b[2] = 2; return b }), ErrBadOp},
		{"expect absent on a set", mut(func(b []byte) []byte { b[2] = 1; return b }), ErrBadOp},
		{"no client", mut(func(b []byte) []byte { clear(b[3:7]); return b }), ErrBadOp},
		{"no request id", mut(func(b []byte) []byte { clear(b[7:15]); return b }), ErrBadOp},
		{"truncated", valid[:len(valid)-1], ErrBadOp},
		{"trailing byte", append(bytes.Clone(valid), 0), ErrBadOp},
		{"empty key", EncodeOp(Op{Kind: Get, Client: 1, ReqID: 1}), ErrBadKey},
		{"NUL in key", EncodeOp(Op{Kind: Get, Key: "a\x00b", Client: 1, ReqID: 1}), ErrBadKey},
		{"key too long", EncodeOp(Op{Kind: Get, Key: strings.Repeat("k", MaxKey+1), Client: 1, ReqID: 1}), ErrTooLarge},
		{"value too long", EncodeOp(Op{Kind: Set, Key: "k", Value: make([]byte, MaxValue+1), Client: 1, ReqID: 1}), ErrTooLarge},
		{"huge value length", mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[18:], 1<<31); return b }), ErrTooLarge},
		{"value on a get", EncodeOp(Op{Kind: Get, Key: "k", Value: []byte("v"), Client: 1, ReqID: 1}), ErrBadOp},
		{"expect on a set", EncodeOp(Op{Kind: Set, Key: "k", Expect: []byte("v"), Client: 1, ReqID: 1}), ErrBadOp},
		{"absent and a value", EncodeOp(Op{Kind: CAS, Key: "k", Expect: []byte("v"), ExpectAbsent: true, Client: 1, ReqID: 1}), ErrBadOp},
		{"over MaxMessage", EncodeOp(Op{Kind: CAS, Key: "k", Expect: make([]byte, MaxValue), Value: make([]byte, MaxValue), Client: 1, ReqID: 1}), ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeOp(tc.b); !errors.Is(err, tc.want) {
				t.Fatalf("DecodeOp = %v, want %v", err, tc.want)
			}
		})
	}
}

func FuzzDecodeOp(f *testing.F) {
	for _, op := range []Op{
		{Kind: Get, Key: "a", Client: 1, ReqID: 1},
		{Kind: Set, Key: "a", Value: []byte("value"), Client: 2, ReqID: 2},
		{Kind: Delete, Key: "x/y", Client: 3, ReqID: 3},
		{Kind: CAS, Key: "a", Expect: []byte("1"), Value: []byte("2"), Client: 1, ReqID: 4},
		{Kind: CAS, Key: "a", ExpectAbsent: true, Value: []byte("2"), Client: 1, ReqID: 5},
	} {
		f.Add(EncodeOp(op))
	}
	f.Add([]byte{})
	f.Add([]byte{tagOp})
	f.Add([]byte{tagOp, byte(Set), 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff})
	f.Add(encodeStatus(RingID{Seq: 1, Rep: 1}, status{}))
	f.Add(encodeStatus(RingID{Seq: 1, Rep: 1}, status{Epoch: 1, Revision: 4, Known: 1}))
	f.Add(encodeStatus(RingID{Seq: 9, Rep: 1}, status{Epoch: 5, Revision: 2, Known: 8, Digest: digestOf(nil)}))
	badKnown := encodeStatus(RingID{Seq: 1, Rep: 1}, status{Epoch: 5})
	binary.BigEndian.PutUint64(badKnown[1+ringIDLen+16:], 4) // known below epoch
	f.Add(badKnown)
	f.Add(encodeQuorum(RingID{Seq: 1, Rep: 1}, true))
	f.Add(encodeChunk(RingID{Seq: 1, Rep: 1}, 0, 1, encodeSnapshot(1, 1, map[string][]byte{"a": []byte("b")}, 8)))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Whatever arrives, applying it must not panic, and a replica that
		// refuses it reports an error without changing state.
		s := New(1)
		s.Configuration(RingID{Seq: 1, Rep: 1}, []env.NodeID{1})
		s.SetQuorate(true)
		for _, m := range s.Ready().Broadcast {
			if err := s.Apply(1, m); err != nil {
				t.Fatal(err)
			}
		}
		before := s.Digest()
		if err := s.Apply(1, b); err != nil && s.Digest() != before {
			t.Fatalf("a refused message changed the store")
		}
		_, _, _ = decodeSnapshot(b)

		// A protocol message that decodes is in canonical form too.
		if m, err := decodeRingMsg(b); err == nil {
			var re []byte
			switch m.tag {
			case tagStatus:
				re = encodeStatus(m.ring, m.status)
				if m.status.Known < m.status.Epoch {
					t.Fatalf("decoded a status knowing epoch %d below its epoch %d", m.status.Known, m.status.Epoch)
				}
			case tagChunk:
				re = encodeChunk(m.ring, m.index, m.total, m.data)
			case tagAck:
				re = encodeAck(m.ring, m.applied)
			case tagQuorum:
				re = encodeQuorum(m.ring, m.quorate)
			}
			if !bytes.Equal(re, b) {
				t.Fatalf("not canonical: %x re-encodes as %x", b, re)
			}
		}

		op, err := DecodeOp(b)
		if err != nil {
			return
		}
		// Whatever decodes is a valid operation in canonical form, within
		// the limits.
		if err := op.validate(); err != nil {
			t.Fatalf("decoded an invalid op %+v: %v", op, err)
		}
		if !bytes.Equal(EncodeOp(op), b) {
			t.Fatalf("not canonical: %x re-encodes as %x", b, EncodeOp(op))
		}
		if len(op.Key) > MaxKey || len(op.Value) > MaxValue || len(op.Expect) > MaxValue {
			t.Fatalf("limits exceeded: %d %d %d", len(op.Key), len(op.Value), len(op.Expect))
		}
	})
}

func TestRingMessagesRoundTrip(t *testing.T) {
	r := RingID{Seq: 42, Rep: 3}
	st := status{Epoch: 5, Revision: 9, Known: 7, Digest: [32]byte{1, 2, 3}}
	for _, tc := range []struct {
		b    []byte
		want ringMsg
	}{
		{encodeStatus(r, st), ringMsg{tag: tagStatus, ring: r, status: st}},
		{encodeAck(r, 77), ringMsg{tag: tagAck, ring: r, applied: 77}},
		{encodeQuorum(r, true), ringMsg{tag: tagQuorum, ring: r, quorate: true}},
		{encodeQuorum(r, false), ringMsg{tag: tagQuorum, ring: r}},
		{encodeChunk(r, 1, 3, []byte("abc")), ringMsg{tag: tagChunk, ring: r, index: 1, total: 3, data: []byte("abc")}},
	} {
		got, err := decodeRingMsg(tc.b)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("decodeRingMsg(%x) = %+v, %v; want %+v", tc.b, got, err, tc.want)
		}
		if _, err := decodeRingMsg(append(bytes.Clone(tc.b), 0)); err == nil && tc.want.tag != tagChunk {
			t.Fatalf("trailing byte accepted in %x", tc.b)
		}
		if _, err := decodeRingMsg(tc.b[:len(tc.b)-1]); err == nil && tc.want.tag != tagChunk {
			t.Fatalf("truncation accepted in %x", tc.b)
		}
	}
	if b := encodeStatus(r, st); len(b) != statusLen || binary.BigEndian.Uint64(b[1+ringIDLen+16:]) != 7 {
		t.Fatalf("status encoding %x: known epoch not after the revision", b)
	}
	for _, bad := range [][]byte{
		encodeStatus(r, status{Epoch: 5, Revision: 9, Known: 4}), // known below epoch
		encodeChunk(r, 3, 3, nil),                                // index beyond total
		encodeChunk(r, 0, 0, nil),                                // no chunks
		encodeChunk(r, 0, maxChunks+1, nil),                      // too many
		encodeChunk(r, 0, 1, make([]byte, chunkData+1)),          // too big
		append(encodeQuorum(r, true)[:quorumLen-1], 2),           // bad flag
	} {
		if _, err := decodeRingMsg(bad); err == nil {
			t.Fatalf("decodeRingMsg accepted %x", bad[:min(len(bad), 32)])
		}
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	data := map[string][]byte{"a": []byte("1"), "b": {}, "c/d": bytes.Repeat([]byte("x"), 1000)}
	size := 0
	for k, v := range data {
		size += EntryOverhead + len(k) + len(v)
	}
	b := encodeSnapshot(3, 17, data, size)
	if len(b) != snapshotHeader+size {
		t.Fatalf("snapshot of %d bytes, want %d", len(b), snapshotHeader+size)
	}
	snap, sum, err := decodeSnapshot(b)
	if err != nil {
		t.Fatal(err)
	}
	if snap.epoch != 3 || snap.revision != 17 || snap.size != size || !reflect.DeepEqual(snap.data, data) {
		t.Fatalf("decoded epoch %d revision %d size %d, %d keys", snap.epoch, snap.revision, snap.size, len(snap.data))
	}
	if sum != digestOf(data) {
		t.Fatal("snapshot digest differs from digestOf")
	}
	// Out-of-order keys, a truncated entry and a lying count are refused.
	swapped := encodeSnapshot(3, 17, map[string][]byte{"a": nil}, 7)
	swapped = appendEntry(swapped, "0", nil)
	binary.BigEndian.PutUint32(swapped[16:], 2)
	for _, bad := range [][]byte{swapped, b[:len(b)-1], append(bytes.Clone(b), 0)} {
		if _, _, err := decodeSnapshot(bad); err == nil {
			t.Fatalf("decodeSnapshot accepted %x", bad[:min(len(bad), 40)])
		}
	}
	lying := bytes.Clone(b)
	binary.BigEndian.PutUint32(lying[16:], 1<<30)
	if _, _, err := decodeSnapshot(lying); err == nil {
		t.Fatal("decodeSnapshot accepted a count of 2^30")
	}
}
