package link

import (
	"slices"
	"testing"

	"github.com/hakit/hakit/node/env"
)

// Pings carry the sender's reachable peers; the receiver keeps each peer's
// latest view, and the connectivity version moves exactly when a view (its
// own or a peer's) changes.
func TestPingsCarryReachability(t *testing.T) {
	s := newSolo(t, Config{Self: 1, Peers: []env.NodeID{2, 3}, Links: []LinkConfig{lc(0, 1)}})
	if _, ok := s.m.PeerReach(2); ok {
		t.Fatal("a view of peer 2 before it said anything")
	}
	for _, o := range s.pings {
		if r := o.Msg.(Ping).Reach; len(r) != 0 {
			t.Fatalf("first pings claim to reach %v with every link down", r)
		}
	}
	v0 := s.m.ConnectivityVersion()
	step := func(from env.NodeID, reach ...env.NodeID) {
		t.Helper()
		if err := s.m.Step(s.now, 0, from, Ping{Seq: 1, Reach: reach}); err != nil {
			t.Fatal(err)
		}
		s.collect()
	}
	step(2, 1)
	if r, ok := s.m.PeerReach(2); !ok || !slices.Equal(r, []env.NodeID{1}) {
		t.Fatalf("PeerReach(2) = %v, %v", r, ok)
	}
	v1 := s.m.ConnectivityVersion()
	if v1 == v0 {
		t.Error("a new view of peer 2 did not move the version")
	}
	step(2, 1)
	if s.m.ConnectivityVersion() != v1 {
		t.Error("the same view again moved the version")
	}
	step(2, 1, 3)
	if s.m.ConnectivityVersion() == v1 {
		t.Error("peer 2's changed view did not move the version")
	}

	// Our own view: bring the link to peer 2 up; the next pings say so.
	v2 := s.m.ConnectivityVersion()
	for range lc(0, 1).PongCount {
		i := slices.IndexFunc(s.pings, func(o Outbound) bool { return o.To == 2 })
		if i < 0 {
			t.Fatal("no ping to peer 2")
		}
		p := s.pings[i].Msg.(Ping)
		s.pings = slices.Delete(s.pings, i, i+1)
		if err := s.m.Step(s.now, 0, 2, p.Pong()); err != nil {
			t.Fatal(err)
		}
		s.collect()
		s.advance(s.now.Add(lc(0, 1).PingInterval))
	}
	if !slices.Equal(s.m.Reachable(), []env.NodeID{2}) {
		t.Fatalf("Reachable = %v after peer 2's pongs", s.m.Reachable())
	}
	if s.m.ConnectivityVersion() == v2 {
		t.Error("our own view changed without moving the version")
	}
	s.pings = nil
	s.advance(s.now.Add(lc(0, 1).PingInterval))
	for _, o := range s.pings {
		if r := o.Msg.(Ping).Reach; !slices.Equal(r, []env.NodeID{2}) {
			t.Errorf("ping to %d carries %v, want [2]", o.To, r)
		}
	}
}
