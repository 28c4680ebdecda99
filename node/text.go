package node

import (
	"fmt"
	"strings"

	"github.com/hakit/hakit/transport/link"
)

// Text renders a status the way an admin reads Corosync's: the ring, then
// the links per peer (corosync-cfgtool -s), then quorum
// (corosync-quorumtool -s).
func (s Status) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Node ID:          %d\n", s.Node)
	fmt.Fprintf(&b, "Ring ID:          %v\n", s.Ring)
	fmt.Fprintf(&b, "Ring state:       %v\n", s.State)
	fmt.Fprintf(&b, "Members:          %v\n", s.Members)
	if s.Pauses > 0 {
		fmt.Fprintf(&b, "Pauses detected:  %d (this process was not scheduled for longer than half a timeout; see the log)\n", s.Pauses)
	}
	b.WriteString("\nLinks:\n")
	b.WriteString(link.FormatStatus(s.Node, s.Links))
	b.WriteString("\nQuorum:\n")
	b.WriteString(s.Quorum.String())
	return b.String()
}
