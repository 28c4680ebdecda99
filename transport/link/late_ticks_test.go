package link

import (
	"testing"
	"time"

	"github.com/hakit/hakit/node/env"
)

// upPeer returns a manager whose only link to peer 2 is up.
func upPeer(t *testing.T, backoff int) (*Manager, env.Mono) {
	cfg := Config{Self: 1, Peers: []env.NodeID{2}, Links: []LinkConfig{{ID: 0, PingInterval: 750 * time.Millisecond, PingTimeout: 1500 * time.Millisecond, PongCount: 1}}, TimeoutBackoff: backoff}
	m, err := New(cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	now := env.Mono(0)
	rd := m.Ready()
	m.Advance(rd)
	for _, o := range rd.Messages {
		if p, ok := o.Msg.(Ping); ok {
			m.Step(now+1e6, 0, 2, p.Pong())
		}
	}
	m.Advance(m.Ready())
	if !m.Status()[0].Links[0].Up {
		t.Fatal("not up")
	}
	return m, now + 1e6
}

// The peer dies and our loop runs every tick a little late (more than
// PingTimeout/2): that is a slow loop, not one pause, and the link must go
// down. Found by review: each late tick used to restart the window.
func TestLinkGoesDownWhenEveryTickIsLate(t *testing.T) {
	m, now := upPeer(t, 0)
	for i := 0; i < 1000; i++ {
		next, _ := m.NextDeadline()
		now = max(now, next).Add(800 * time.Millisecond)
		m.Tick(now)
		m.Advance(m.Ready())
	}
	st := m.Status()[0].Links[0]
	t.Logf("after %v of silence: up=%v pauses=%d", time.Duration(now), st.Up, m.Stats().PausesDetected)
	if st.Up {
		t.Fatalf("dead peer's link still up after %v without a pong", time.Duration(now))
	}
}
