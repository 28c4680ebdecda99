package scenarios

import (
	"bytes"
	"testing"

	"github.com/hakit/hakit/node/env"
)

func TestHeartbeatFrameRoundTripAndRejects(t *testing.T) {
	f := hbFrame{kind: hbPong, seq: 42, sentAt: env.Mono(123456789)}
	got, err := decodeHB(f.encode())
	if err != nil || got != f {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	good := f.encode()
	for name, frame := range map[string][]byte{
		"empty":       nil,
		"truncated":   good[:len(good)-1],
		"extended":    append(append([]byte{}, good...), 0),
		"bad magic":   append([]byte{'X'}, good[1:]...),
		"bad version": append(append([]byte{}, good[:2]...), append([]byte{9}, good[3:]...)...),
		"bad kind":    append(append([]byte{}, good[:3]...), append([]byte{7}, good[4:]...)...),
	} {
		if _, err := decodeHB(frame); err == nil {
			t.Errorf("%s frame accepted", name)
		}
	}
}

// FuzzDecodeHeartbeat: any input is rejected or round-trips exactly; never
// a panic. Its seed corpus runs in every go test.
func FuzzDecodeHeartbeat(f *testing.F) {
	f.Add(hbFrame{kind: hbPing, seq: 1, sentAt: 5}.encode())
	f.Add(hbFrame{kind: hbPong, seq: ^uint64(0), sentAt: -1}.encode())
	f.Add([]byte("HB"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeHB(b)
		if err != nil {
			return
		}
		if !bytes.Equal(fr.encode(), b) {
			t.Errorf("decoded %x to %+v, which encodes to %x", b, fr, fr.encode())
		}
	})
}
