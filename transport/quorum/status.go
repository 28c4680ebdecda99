package quorum

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/hakit/hakit/node/env"
)

// Status is one node's view of quorum, the content of a quorum notification
// and of corosync-quorumtool -s.
type Status struct {
	Node    env.NodeID
	Quorate bool
	// Quorum is the number of votes needed: ExpectedVotes/2+1, or 1 while
	// two_node is active.
	Quorum uint32
	// ExpectedVotes is the value quorum is computed from: the highest of
	// this node's expected_votes, the members' and the votes present.
	ExpectedVotes uint32
	// HighestExpected is the highest expected_votes among the quorate
	// members (all members when none is quorate), before votes present are
	// taken into account.
	HighestExpected uint32
	// TotalVotes counts Self and every member whose NodeInfo has arrived.
	TotalVotes uint32
	// Members is the current regular configuration, sorted, including
	// members whose votes are not yet known.
	Members []env.NodeID

	TwoNode          bool // two_node is configured and in effect (at most 2 members)
	WaitForAll       bool // wait_for_all is in effect
	WaitForAllStatus bool // waiting to see all expected votes at once (since start or since quorum was lost)
	LastManStanding  bool
	AutoTieBreaker   bool
}

// Equal reports whether s and o are the same state.
func (s Status) Equal(o Status) bool {
	// DeepEqual on the rest keeps a field added later from being ignored.
	a, b := s, o
	a.Members, b.Members = nil, nil
	return slices.Equal(s.Members, o.Members) && reflect.DeepEqual(a, b)
}

func (s Status) clone() Status {
	s.Members = slices.Clone(s.Members)
	return s
}

// String renders s like the votequorum part of corosync-quorumtool -s, one
// fact per line, so traces and tests can compare it as text.
func (s Status) String() string {
	var b strings.Builder
	yes := func(v bool) string {
		if v {
			return "Yes"
		}
		return "No"
	}
	fmt.Fprintf(&b, "Nodes:            %d\n", len(s.Members))
	fmt.Fprintf(&b, "Node ID:          %d\n", s.Node)
	fmt.Fprintf(&b, "Quorate:          %s\n", yes(s.Quorate))
	fmt.Fprintf(&b, "Expected votes:   %d\n", s.ExpectedVotes)
	fmt.Fprintf(&b, "Highest expected: %d\n", s.HighestExpected)
	fmt.Fprintf(&b, "Total votes:      %d\n", s.TotalVotes)
	if s.Quorate {
		fmt.Fprintf(&b, "Quorum:           %d\n", s.Quorum)
	} else {
		fmt.Fprintf(&b, "Quorum:           %d Activity blocked\n", s.Quorum)
	}
	var flags []string
	if s.TwoNode {
		flags = append(flags, "2Node")
	}
	if s.Quorate {
		flags = append(flags, "Quorate")
	}
	if s.WaitForAll {
		flags = append(flags, "WaitForAll")
	}
	if s.WaitForAllStatus {
		flags = append(flags, "WaitingForAll")
	}
	if s.LastManStanding {
		flags = append(flags, "LastManStanding")
	}
	if s.AutoTieBreaker {
		flags = append(flags, "AutoTieBreaker")
	}
	fmt.Fprintf(&b, "Flags:            %s\n", strings.Join(flags, " "))
	ids := make([]string, len(s.Members))
	for i, m := range s.Members {
		ids[i] = fmt.Sprint(m)
	}
	fmt.Fprintf(&b, "Members:          %s\n", strings.Join(ids, " "))
	return b.String()
}
