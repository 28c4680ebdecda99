package link

import (
	"slices"
	"testing"

	"github.com/hakit/hakit/node/env"
)

// ownRow returns the row node 1 puts in a ping.
func ownRow(t *testing.T, o Outbound) Row {
	t.Helper()
	for _, r := range o.Msg.(Ping).Rows {
		if r.Origin == 1 {
			return r
		}
	}
	t.Fatalf("ping to %d without the sender's own row", o.To)
	return Row{}
}

// Pings spread versioned connectivity rows: the receiver keeps the newest
// version of each origin's row whoever relayed it, ignores older ones (a
// reordered ping), takes a restarted node's rows over its old ones, and
// the connectivity version moves exactly when a row's content changes.
func TestPingsSpreadConnectivityRows(t *testing.T) {
	s := newSolo(t, Config{Self: 1, Peers: []env.NodeID{2, 3}, Links: []LinkConfig{lc(0, 1)}, Epoch: 5})
	if _, ok := s.m.PeerReach(2); ok {
		t.Fatal("a view of peer 2 before it said anything")
	}
	for _, o := range s.pings {
		if r := ownRow(t, o); len(r.Reach) != 0 || r.Epoch != 5 {
			t.Fatalf("first pings carry %+v with every link down", r)
		}
	}
	step := func(from env.NodeID, rows ...Row) {
		t.Helper()
		if err := s.m.Step(s.now, 0, from, Ping{Seq: 1, Rows: rows}); err != nil {
			t.Fatal(err)
		}
		s.collect()
	}
	reach := func(peer env.NodeID) []env.NodeID {
		r, _ := s.m.PeerReach(peer)
		return r
	}
	v0 := s.m.ConnectivityVersion()
	// Peer 2 relays peer 3's row along with its own.
	step(2, Row{Origin: 2, Epoch: 1, Seq: 4, Reach: []env.NodeID{1, 3}}, Row{Origin: 3, Epoch: 1, Seq: 7, Reach: []env.NodeID{2}})
	if !slices.Equal(reach(2), []env.NodeID{1, 3}) || !slices.Equal(reach(3), []env.NodeID{2}) {
		t.Fatalf("rows after the relay: 2=%v 3=%v", reach(2), reach(3))
	}
	v1 := s.m.ConnectivityVersion()
	if v1 == v0 {
		t.Error("new rows did not move the version")
	}
	step(2, Row{Origin: 2, Epoch: 1, Seq: 4, Reach: []env.NodeID{1, 3}})
	step(2, Row{Origin: 3, Epoch: 1, Seq: 6, Reach: []env.NodeID{1, 2}}) // older: a reordered ping
	if s.m.ConnectivityVersion() != v1 || !slices.Equal(reach(3), []env.NodeID{2}) {
		t.Errorf("the same or an older row changed things: 3=%v", reach(3))
	}
	step(2, Row{Origin: 3, Epoch: 2, Seq: 1, Reach: []env.NodeID{1, 2}}) // peer 3 restarted
	if !slices.Equal(reach(3), []env.NodeID{1, 2}) || s.m.ConnectivityVersion() == v1 {
		t.Errorf("a restarted peer's row did not supersede its old one: 3=%v", reach(3))
	}
	step(2, Row{Origin: 1, Epoch: 99, Seq: 99}, Row{Origin: 9, Epoch: 1, Seq: 1})
	if _, ok := s.m.PeerReach(9); ok {
		t.Error("a row of a node outside the nodelist was kept")
	}

	// Our own row: bring the link to peer 2 up; the next pings carry a new
	// version saying so, and the rows we learnt.
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
	if !slices.Equal(s.m.Reachable(), []env.NodeID{2}) || s.m.ConnectivityVersion() == v2 {
		t.Fatalf("Reachable = %v after peer 2's pongs, version moved: %v", s.m.Reachable(), s.m.ConnectivityVersion() != v2)
	}
	s.pings = nil
	s.advance(s.now.Add(lc(0, 1).PingInterval))
	for _, o := range s.pings {
		rows := o.Msg.(Ping).Rows
		if r := ownRow(t, o); !slices.Equal(r.Reach, []env.NodeID{2}) || r.Seq == 0 || len(rows) != 3 {
			t.Errorf("ping to %d carries %+v; want our new row [2] and the rows of 2 and 3", o.To, rows)
		}
	}
}
