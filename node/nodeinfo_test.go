package node

import (
	"bytes"
	"testing"

	"github.com/hakit/hakit/transport/quorum"
)

// FuzzDecodeNodeInfo: any input is rejected or round-trips; never a panic.
func FuzzDecodeNodeInfo(f *testing.F) {
	f.Add(encodeNodeInfo(quorum.NodeInfo{Node: 2, Votes: 1, ExpectedVotes: 3, Flags: 5}))
	f.Add([]byte{})
	f.Add(make([]byte, nodeInfoLen+1))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := decodeNodeInfo(b)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeNodeInfo(info), b) {
			t.Errorf("%x decodes to %+v, which encodes differently", b, info)
		}
	})
}
