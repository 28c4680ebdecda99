package cpg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hakit/hakit/node/env"
)

func TestRoundTrip(t *testing.T) {
	for _, m := range []Message{
		{Kind: MsgJoin, PID: 7, Group: "g"},
		{Kind: MsgLeave, PID: 1<<32 - 1, Group: strings.Repeat("x", MaxGroupName), Reason: ReasonLeave},
		{Kind: MsgLeave, PID: 0, Group: "g", Reason: ReasonProcDown},
		{Kind: MsgMcast, PID: 3, Group: "g"},
		{Kind: MsgMcast, PID: 3, Group: "g", Payload: []byte("hello")},
		{Kind: MsgExchange, Ring: RingID{Seq: 8, Rep: 2}, Index: 0, Total: 1},
		{Kind: MsgExchange, Ring: RingID{Seq: 8, Rep: 2}, Index: 1, Total: 3,
			Entries: []Entry{{"a", 1}, {"a", 2}, {"b", 0}}},
	} {
		b := m.Encode()
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%+v: %v", m, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("decoded %+v, want %+v", got, m)
		}
	}
}

func TestExchangeChunks(t *testing.T) {
	var entries []Entry
	for i := range MaxMemberships {
		entries = append(entries, Entry{strings.Repeat("g", MaxGroupName-4) + string(rune('a'+i/1000)) + string(rune('a'+i/100%10)) + string(rune('a'+i/10%10)) + string(rune('a'+i%10)), 1})
	}
	chunks := encodeExchange(RingID{Seq: 4, Rep: 1}, entries)
	if len(chunks) < 2 || len(chunks) > maxChunks {
		t.Fatalf("%d chunks (max %d)", len(chunks), maxChunks)
	}
	var got []Entry
	for i, c := range chunks {
		if len(c) > MaxMessage {
			t.Fatalf("chunk %d: %d bytes", i, len(c))
		}
		m, err := Decode(c)
		if err != nil || m.Index != i || m.Total != len(chunks) {
			t.Fatalf("chunk %d: %+v %v", i, m.Index, err)
		}
		got = append(got, m.Entries...)
	}
	if !reflect.DeepEqual(got, entries) {
		t.Fatal("entries differ after chunking")
	}
}

func TestDecodeRejects(t *testing.T) {
	join := Message{Kind: MsgJoin, PID: 1, Group: "g"}.Encode()
	ex := func(index, total int, entries ...Entry) []byte {
		return Message{Kind: MsgExchange, Ring: RingID{Seq: 1, Rep: 1}, Index: index, Total: total, Entries: entries}.Encode()
	}
	countAt := 1 + 8 + 4 + 2 + 2
	manyEntries := ex(0, 1)
	binary.BigEndian.PutUint16(manyEntries[countAt:], 60000)
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"unknown tag", []byte{9, 0, 0, 0, 1, 1, 'g'}, ErrMalformed},
		{"truncated", join[:len(join)-1], ErrMalformed},
		{"trailing", append(join, 0), ErrMalformed},
		{"empty group", Message{Kind: MsgJoin, PID: 1}.Encode(), ErrMalformed},
		{"NUL in group", Message{Kind: MsgJoin, PID: 1, Group: "a\x00b"}.Encode(), ErrMalformed},
		{"leave reason join", Message{Kind: MsgLeave, PID: 1, Group: "g", Reason: ReasonJoin}.Encode(), ErrMalformed},
		{"leave reason nodedown", Message{Kind: MsgLeave, PID: 1, Group: "g", Reason: ReasonNodeDown}.Encode(), ErrMalformed},
		{"too large", append(Message{Kind: MsgMcast, PID: 1, Group: "g"}.Encode(), make([]byte, MaxMessage)...), ErrTooLarge},
		{"no chunks", ex(0, 0), ErrMalformed},
		{"index past total", ex(2, 2), ErrMalformed},
		{"too many chunks", ex(0, maxChunks+1), ErrMalformed},
		{"entries out of order", ex(0, 1, Entry{"b", 1}, Entry{"a", 1}), ErrMalformed},
		{"duplicate entry", ex(0, 1, Entry{"a", 1}, Entry{"a", 1}), ErrMalformed},
		{"pids out of order", ex(0, 1, Entry{"a", 2}, Entry{"a", 1}), ErrMalformed},
		{"count beyond the bytes", manyEntries, ErrMalformed},
		{"entry truncated", ex(0, 1, Entry{"a", 1})[:countAt+2+3], ErrMalformed},
	} {
		if _, err := Decode(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: %x decodes with %v, want %v", tc.name, tc.b, err, tc.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range []Message{
		{Kind: MsgJoin, PID: 1, Group: "g"},
		{Kind: MsgLeave, PID: 2, Group: "group", Reason: ReasonLeave},
		{Kind: MsgLeave, PID: 2, Group: "group", Reason: ReasonProcDown},
		{Kind: MsgMcast, PID: 3, Group: "g", Payload: []byte("payload")},
		{Kind: MsgExchange, Ring: RingID{Seq: 4, Rep: 1}, Total: 1},
		{Kind: MsgExchange, Ring: RingID{Seq: 4, Rep: 1}, Total: 1, Entries: []Entry{{"a", 1}, {"b", 2}}},
		{Kind: MsgExchange, Ring: RingID{Seq: 4, Rep: 1}, Index: 1, Total: 2, Entries: []Entry{{"c", 1}}},
	} {
		f.Add(m.Encode())
	}
	f.Add([]byte{})
	f.Add([]byte{byte(MsgJoin)})
	f.Add([]byte{byte(MsgMcast), 0, 0, 0, 1, 0xff})
	f.Add([]byte{byte(MsgExchange), 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Whatever arrives, applying it must not panic, and a message
		// refused as malformed changes nothing.
		s := New(1)
		ring := RingID{Seq: 4, Rep: 1}
		s.Configuration(ring, []env.NodeID{1, 2})
		join, _ := s.Join(5, "a")
		for _, m := range append(s.Ready().Broadcast, join) {
			if err := s.Apply(1, m); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Apply(2, encodeExchange(ring, nil)[0]); err != nil || !s.Status().Synced {
			t.Fatalf("no exchange: %v %+v", err, s.Status())
		}
		before := tableString(s.Groups())
		if err := s.Apply(2, b); err != nil && tableString(s.Groups()) != before {
			t.Fatal("a refused message changed the table")
		}
		m, err := Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes is canonical: it re-encodes to the same bytes.
		if !bytes.Equal(m.Encode(), b) {
			t.Fatalf("not canonical: %x re-encodes as %x", b, m.Encode())
		}
		if m.Kind != MsgExchange && !validGroup(m.Group) || len(m.Entries) > len(b) {
			t.Fatalf("decoded an invalid message %+v", m)
		}
	})
}
