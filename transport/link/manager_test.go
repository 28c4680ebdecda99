package link

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hakit/hakit/node/env"
)

// solo drives one Manager (node 1) against a scripted peer 2: the test
// decides which pings get answered, and when.
type solo struct {
	t       *testing.T
	m       *Manager
	now     env.Mono
	pings   []Outbound // sent, not yet answered by the script
	pongs   []Outbound // our answers to the peer's pings
	changes []Change
}

func newSolo(t *testing.T, cfg Config) *solo {
	t.Helper()
	if cfg.Self == 0 {
		cfg.Self, cfg.Peers = 1, []env.NodeID{2}
	}
	m, err := New(cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := &solo{t: t, m: m}
	s.collect()
	return s
}

func (s *solo) collect() {
	rd := s.m.Ready()
	for _, o := range rd.Messages {
		if _, ok := o.Msg.(Ping); ok {
			s.pings = append(s.pings, o)
		} else {
			s.pongs = append(s.pongs, o)
		}
	}
	s.changes = append(s.changes, rd.Changes...)
	s.m.Advance(rd)
}

// advance ticks at every deadline up to t, on time.
func (s *solo) advance(t env.Mono) {
	for {
		d, ok := s.m.NextDeadline()
		if !ok || d > t {
			break
		}
		s.now = d
		s.m.Tick(d)
		if next, ok := s.m.NextDeadline(); ok && next <= d {
			s.t.Fatalf("Tick(%v) left NextDeadline at %v", d, next)
		}
		s.collect()
	}
	s.now = t
}

// answer echoes the newest unanswered ping on link, arriving at s.now.
func (s *solo) answer(link env.LinkID) {
	s.t.Helper()
	for i := len(s.pings) - 1; i >= 0; i-- {
		if o := s.pings[i]; o.Link == link {
			p := o.Msg.(Ping)
			s.pings = slices.Delete(s.pings, i, i+1)
			if err := s.m.Step(s.now, link, o.To, p.Pong()); err != nil {
				s.t.Fatal(err)
			}
			s.collect()
			return
		}
	}
	s.t.Fatalf("no ping to answer on link %d", link)
}

func (s *solo) link(id env.LinkID) LinkStatus {
	for _, l := range s.m.Status()[0].Links {
		if l.ID == id {
			return l
		}
	}
	s.t.Fatalf("no link %d", id)
	return LinkStatus{}
}

func TestValidate(t *testing.T) {
	good := func() Config {
		return Config{Self: 1, Peers: []env.NodeID{2, 3}, Links: []LinkConfig{lc(0, 1), lc(1, 2)}}
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" means valid
	}{
		{"good", func(*Config) {}, ""},
		{"no peers is fine", func(c *Config) { c.Peers = nil }, ""},
		{"zero self", func(c *Config) { c.Self = 0 }, "Self"},
		{"self in peers", func(c *Config) { c.Peers = append(c.Peers, 1) }, "Peers[2] is Self"},
		{"zero peer", func(c *Config) { c.Peers[0] = 0 }, "Peers[0]"},
		{"repeated peer", func(c *Config) { c.Peers[1] = 2 }, "Peers[1] repeats"},
		{"no links", func(c *Config) { c.Links = nil }, "Links is empty"},
		{"too many links", func(c *Config) {
			c.Links = nil
			for i := range env.MaxLinks + 1 {
				c.Links = append(c.Links, lc(env.LinkID(i), 0))
			}
		}, "env.MaxLinks"},
		{"repeated link", func(c *Config) { c.Links[1].ID = 0 }, "Links[1] (link 0): ID repeats"},
		{"priority", func(c *Config) { c.Links[0].Priority = 256 }, "Priority 256"},
		{"negative priority", func(c *Config) { c.Links[0].Priority = -1 }, "Priority -1"},
		{"interval", func(c *Config) { c.Links[1].PingInterval = 0 }, "Links[1] (link 1): PingInterval must be positive"},
		{"timeout", func(c *Config) { c.Links[0].PingTimeout = -time.Second }, "PingTimeout must be positive"},
		{"timeout not above interval", func(c *Config) { c.Links[0].PingTimeout = c.Links[0].PingInterval }, "PingTimeout 100ms must exceed PingInterval 100ms"},
		{"pong count", func(c *Config) { c.Links[0].PongCount = 0 }, "PongCount must be at least 1"},
		{"mode", func(c *Config) { c.Mode = 7 }, "Mode 7"},
		{"backoff", func(c *Config) { c.TimeoutBackoff = -1 }, "TimeoutBackoff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.change(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
			if _, err := New(c, 0); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

func TestKnetTimers(t *testing.T) {
	// corosync-pacemaker-facts §1.3: token 3000 ms, pong_count 2 gives
	// 750/1500; three nodes (token 3650) give 912/1825.
	for _, tc := range []struct {
		token  time.Duration
		iv, to time.Duration
	}{
		{3000 * time.Millisecond, 750 * time.Millisecond, 1500 * time.Millisecond},
		{3650 * time.Millisecond, 912500 * time.Microsecond, 1825 * time.Millisecond},
	} {
		iv, to := KnetTimers(tc.token, 2)
		if iv != tc.iv || to != tc.to {
			t.Errorf("KnetTimers(%v, 2) = %v, %v; want %v, %v", tc.token, iv, to, tc.iv, tc.to)
		}
	}
}

func TestNewSendsFirstPings(t *testing.T) {
	m, err := New(Config{Self: 2, Peers: []env.NodeID{3, 1}, Links: []LinkConfig{lc(1, 0), lc(0, 0)}}, ms(5))
	if err != nil {
		t.Fatal(err)
	}
	rd := m.Ready()
	var got []Outbound
	for _, o := range rd.Messages {
		got = append(got, Outbound{o.Link, o.To, nil})
	}
	want := []Outbound{{0, 1, nil}, {0, 3, nil}, {1, 1, nil}, {1, 3, nil}}
	if !slices.Equal(got, want) {
		t.Fatalf("first pings %v, want %v (sorted by link, then peer)", got, want)
	}
	if len(rd.Changes) != 0 || m.Reachable() != nil || m.Route(1) != nil {
		t.Fatal("links must start down")
	}
	m.Advance(rd)
	if !m.Ready().Empty() {
		t.Fatal("Advance did not consume Ready")
	}
	if d, ok := m.NextDeadline(); !ok || d != ms(105) {
		t.Fatalf("next deadline %v %v, want the next ping round at 105ms", d, ok)
	}
	lone, _ := New(Config{Self: 1, Links: []LinkConfig{lc(0, 0)}}, 0)
	if _, ok := lone.NextDeadline(); ok || !lone.Ready().Empty() {
		t.Fatal("a node without peers has nothing to ping")
	}
}

// TestUpAfterPongCount runs two real managers: a link comes up exactly at
// the PongCount-th pong, not one earlier.
func TestUpAfterPongCount(t *testing.T) {
	for _, pc := range []int{1, 2, 3, 5} {
		l := lc(0, 0)
		l.PongCount = pc
		l.PingTimeout = 1500 * time.Millisecond // not the limit here
		c := newCluster(t, 2, 1, []LinkConfig{l}, Passive, 0)
		// Pings every 100ms from 0, 5ms each way: the pc-th pong arrives
		// at (pc-1)*100+10 ms.
		upAt := ms((pc-1)*100 + 10)
		c.runUntil(upAt - 1)
		if c.up(1, 2, 0) {
			t.Errorf("PongCount %d: up before %v, pongs %d", pc, upAt, c.m[1].Status()[0].Links[0].PongsReceived)
		}
		c.runUntil(upAt)
		ls := c.m[1].Status()[0].Links[0]
		if !ls.Up || ls.PongsReceived != uint64(pc) || ls.LastChange != upAt {
			t.Errorf("PongCount %d: status at %v = %+v, want up after exactly %d pongs", pc, upAt, ls, pc)
		}
	}
}

// TestDownAfterPingTimeout cuts the only link: it goes down exactly
// PingTimeout after the last pong that got through.
func TestDownAfterPingTimeout(t *testing.T) {
	for _, timeout := range []time.Duration{150 * time.Millisecond, 250 * time.Millisecond, 777 * time.Millisecond} {
		l := lc(0, 0)
		l.PingTimeout = timeout
		c := newCluster(t, 2, 1, []LinkConfig{l}, Passive, 0)
		c.runFor(time.Second)
		if !c.up(1, 2, 0) {
			t.Fatalf("timeout %v: link not up", timeout)
		}
		c.cut(0, 0)
		c.runFor(3 * time.Second)
		last := c.pongAt[pathKey{1, 2, 0}]
		var downs []Change
		for _, ch := range c.changes {
			if ch.Node == 1 && !ch.Up {
				downs = append(downs, ch.Change)
			}
		}
		if len(downs) != 1 || downs[0].At != last.Add(timeout) {
			t.Errorf("timeout %v: downs %+v, want one at %v (last pong %v + timeout)", timeout, downs, last.Add(timeout), last)
		}
		if st := c.m[1].Stats(); st.LinkDowns != 1 || st.LinkUps != 1 {
			t.Errorf("timeout %v: stats %+v", timeout, st)
		}
	}
}

// TestRouting plays link cuts and restores against both modes. Passive
// must pick the highest priority, break ties by lowest id, fail over and
// fail back (knet recomputes its choice on every link change).
func TestRouting(t *testing.T) {
	type step struct {
		op      string // "cut N", "restore N", "" (just wait)
		passive []env.LinkID
		active  []env.LinkID
	}
	steps := []step{
		{"", []env.LinkID{1}, []env.LinkID{0, 1, 2}},
		{"cut 1", []env.LinkID{2}, []env.LinkID{0, 2}},
		{"cut 2", []env.LinkID{0}, []env.LinkID{0}},
		{"restore 2", []env.LinkID{2}, []env.LinkID{0, 2}},
		{"restore 1", []env.LinkID{1}, []env.LinkID{0, 1, 2}},
		{"cut 0", []env.LinkID{1}, []env.LinkID{1, 2}},
		{"cut 1", []env.LinkID{2}, []env.LinkID{2}},
		{"cut 2", nil, nil},
		{"restore 0", []env.LinkID{0}, []env.LinkID{0}},
	}
	for _, mode := range []Mode{Passive, Active} {
		t.Run(mode.String(), func(t *testing.T) {
			// Priorities 10, 20, 20: links 1 and 2 tie.
			c := newCluster(t, 2, 2, []LinkConfig{lc(0, 10), lc(1, 20), lc(2, 20)}, mode, 0)
			for i, s := range steps {
				var n int
				switch {
				case strings.HasPrefix(s.op, "cut "):
					n = int(s.op[4] - '0')
					c.cut(0, env.LinkID(n))
				case strings.HasPrefix(s.op, "restore "):
					n = int(s.op[8] - '0')
					c.restore(0, env.LinkID(n))
				}
				c.runFor(time.Second)
				want := s.passive
				if mode == Active {
					want = s.active
				}
				for _, node := range c.nodes {
					if got := c.m[node].Route(3 - node); !slices.Equal(got, want) {
						t.Fatalf("step %d (%q): node %d routes %v, want %v\n%s", i, s.op, node, got, want, c.trace())
					}
					if reach := len(c.m[node].Reachable()) == 1; reach != (want != nil) {
						t.Fatalf("step %d: node %d Reachable %v disagrees with route %v", i, node, c.m[node].Reachable(), want)
					}
				}
			}
			if c.m[1].Route(99) != nil || c.m[1].Route(1) != nil {
				t.Error("routes to unknown nodes or to self must be nil")
			}
		})
	}
}

func TestPingIsAnswered(t *testing.T) {
	s := newSolo(t, Config{Links: []LinkConfig{lc(0, 0), lc(3, 0)}})
	if err := s.m.Step(ms(1), 3, 2, Ping{Seq: 77, SentAt: -5}); err != nil {
		t.Fatal(err)
	}
	if err := s.m.Step(ms(1), 0, 2, &Ping{Seq: 78, SentAt: 9}); err != nil {
		t.Fatal(err)
	}
	s.collect()
	want := []Outbound{{3, 2, Pong{77, -5}}, {0, 2, Pong{78, 9}}}
	if !slices.Equal(s.pongs, want) {
		t.Fatalf("answers %v, want %v", s.pongs, want)
	}
	if s.m.Stats().PingsAnswered != 2 || s.link(0).Up {
		t.Fatal("a ping is answered, and is no evidence that our link works")
	}
}

// TestIgnoredPongs feeds one bad pong per case after a ping round; none
// may count towards the link, and each is counted where it belongs.
func TestIgnoredPongs(t *testing.T) {
	tests := []struct {
		name    string
		feed    func(s *solo, p Ping) error
		wantErr error
		stat    func(Stats) uint64
	}{
		{"unknown seq", func(s *solo, p Ping) error { return s.m.Step(ms(1), 0, 2, Pong{Seq: p.Seq + 1000, SentAt: p.SentAt}) }, nil,
			func(st Stats) uint64 { return st.UnknownPongs }},
		{"wrong SentAt", func(s *solo, p Ping) error { return s.m.Step(ms(1), 0, 2, Pong{Seq: p.Seq, SentAt: p.SentAt + 1}) }, nil,
			func(st Stats) uint64 { return st.UnknownPongs }},
		{"other link's ping", func(s *solo, p Ping) error { return s.m.Step(ms(1), 1, 2, p.Pong()) }, nil,
			func(st Stats) uint64 { return st.UnknownPongs }},
		{"unknown peer", func(s *solo, p Ping) error { return s.m.Step(ms(1), 0, 9, p.Pong()) }, ErrUnknownPeer,
			func(st Stats) uint64 { return st.UnknownPeer }},
		{"from self", func(s *solo, p Ping) error { return s.m.Step(ms(1), 0, 1, p.Pong()) }, ErrUnknownPeer,
			func(st Stats) uint64 { return st.UnknownPeer }},
		{"unknown link", func(s *solo, p Ping) error { return s.m.Step(ms(1), 5, 2, p.Pong()) }, ErrUnknownLink,
			func(st Stats) uint64 { return st.UnknownLink }},
		{"late", func(s *solo, p Ping) error { return s.m.Step(p.SentAt.Add(251*time.Millisecond), 0, 2, p.Pong()) }, nil,
			func(st Stats) uint64 { return st.LatePongs }},
		{"nil", func(s *solo, p Ping) error { return s.m.Step(ms(1), 0, 2, nil) }, ErrMalformed,
			func(st Stats) uint64 { return st.Malformed }},
		{"nil pointer", func(s *solo, p Ping) error { return s.m.Step(ms(1), 0, 2, (*Pong)(nil)) }, ErrMalformed,
			func(st Stats) uint64 { return st.Malformed }},
		{"undecodable", func(s *solo, p Ping) error { return s.m.Receive(ms(1), 0, 2, []byte{1, 2, 3}) }, ErrMalformed,
			func(st Stats) uint64 { return st.Malformed }},
		{"duplicate", func(s *solo, p Ping) error {
			if err := s.m.Step(ms(1), 0, 2, p.Pong()); err != nil {
				return err
			}
			return s.m.Step(ms(2), 0, 2, p.Pong())
		}, nil, func(st Stats) uint64 { return st.UnknownPongs }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := lc(0, 0)
			l.PongCount = 2
			s := newSolo(t, Config{Links: []LinkConfig{l, lc(1, 0)}})
			p := s.pings[0].Msg.(Ping)
			err := tc.feed(s, p)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			st := s.m.Stats()
			if tc.stat(st) != 1 {
				t.Errorf("counter is %d, want 1: %+v", tc.stat(st), st)
			}
			valid := uint64(0)
			if tc.name == "duplicate" {
				valid = 1
			}
			if st.PongsReceived != valid || s.link(0).PongsReceived != valid || s.link(0).Up {
				t.Errorf("the bad pong counted: %+v %+v", st, s.link(0))
			}
			if len(s.pongs) != 0 || len(s.changes) != 0 {
				t.Errorf("the bad pong produced output: %v %v", s.pongs, s.changes)
			}
		})
	}
}

// TestRunRestartsAfterGap: the pongs that bring a link up must be
// consecutive, with no PingTimeout of silence between them, and a link
// that went down needs the full PongCount again.
func TestRunRestartsAfterGap(t *testing.T) {
	l := lc(0, 0)
	l.PongCount = 3
	s := newSolo(t, Config{Links: []LinkConfig{l}})
	s.now = ms(10)
	s.answer(0) // ping 0
	s.advance(ms(110))
	s.answer(0) // ping 100: two of three
	s.advance(ms(400))
	if st := s.m.Stats(); st.CountResets != 1 || s.link(0).Up {
		t.Fatalf("a 290ms gap (timeout 250ms) must restart the count: %+v", st)
	}
	for i, at := range []int{410, 510, 610} {
		s.advance(ms(at))
		s.answer(0)
		if up := s.link(0).Up; up != (i == 2) {
			t.Fatalf("after pong %d of the new run: up=%v", i+1, up)
		}
	}
	// Down, then back: again three pongs.
	s.advance(ms(2000))
	if s.link(0).Up || s.link(0).Downs != 1 {
		t.Fatalf("link not down after silence: %+v", s.link(0))
	}
	for i, at := range []int{2010, 2110, 2210} {
		s.advance(ms(at))
		s.answer(0)
		if up := s.link(0).Up; up != (i == 2) {
			t.Fatalf("coming back, after pong %d: up=%v", i+1, up)
		}
	}
	want := []Change{{2, 0, true, ms(610)}, {2, 0, false, ms(860)}, {2, 0, true, ms(2210)}}
	if !slices.Equal(s.changes, want) {
		t.Fatalf("changes %v, want %v", s.changes, want)
	}
}

func TestRTT(t *testing.T) {
	s := newSolo(t, Config{Links: []LinkConfig{lc(0, 0)}})
	s.now = ms(7)
	s.answer(0)
	s.advance(ms(100)) // ping at 100
	s.now = ms(100) + 1234567
	s.answer(0)
	if got := s.link(0).RTT; got != 1234567 {
		t.Fatalf("RTT %v, want 1.234567ms", got)
	}
	c := newCluster(t, 2, 1, []LinkConfig{lc(0, 0), lc(1, 0)}, Active, 0)
	c.latency[1] = 40 * time.Millisecond
	c.runFor(time.Second)
	for _, l := range c.m[1].Status()[0].Links {
		want := 2 * c.latency[l.ID]
		if l.RTT != want {
			t.Errorf("link %d: RTT %v, want %v", l.ID, l.RTT, want)
		}
	}
}

// TestPauseRule: a Tick later than PingTimeout/2 past its deadline means
// the node did not run; it must not declare links down on that evidence.
func TestPauseRule(t *testing.T) {
	tests := []struct {
		name       string
		ticks      []int // ms; the pong arrives at 10ms
		wantDownAt int   // -1: still up after the last tick
		wantPauses uint64
	}{
		{"on time", []int{100, 200, 260}, 260, 0},
		{"late but not paused", []int{100, 200, 300}, 300, 0},          // 100ms late <= 125ms
		{"paused", []int{100, 330}, -1, 1},                             // 230ms late
		{"paused then silent", []int{100, 330, 430, 530, 580}, 580, 1}, // window restarts at 330
		{"paused, just short", []int{100, 330, 430, 530, 579}, -1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := lc(0, 0)
			l.PongCount = 1
			s := newSolo(t, Config{Links: []LinkConfig{l}})
			s.now = ms(10)
			s.answer(0)
			for _, at := range tc.ticks {
				s.now = ms(at)
				s.m.Tick(s.now)
				s.collect()
			}
			ls := s.link(0)
			if tc.wantDownAt < 0 {
				if !ls.Up {
					t.Fatalf("link went down at %v", ls.LastChange)
				}
			} else if ls.Up || ls.LastChange != ms(tc.wantDownAt) {
				t.Fatalf("status %+v, want down at %dms", ls, tc.wantDownAt)
			}
			if got := s.m.Stats().PausesDetected; got != tc.wantPauses {
				t.Fatalf("PausesDetected %d, want %d", got, tc.wantPauses)
			}
		})
	}
}

// TestBackoff: with knet's backoff a link's timeout starts at 10× and
// falls by one per second; without it the plain timeout applies.
func TestBackoff(t *testing.T) {
	run := func(backoff int, pongAt env.Mono) (downAt env.Mono) {
		l := lc(0, 0)
		l.PongCount = 1
		s := newSolo(t, Config{Links: []LinkConfig{l}, TimeoutBackoff: backoff})
		s.advance(pongAt - ms(10))
		s.now = pongAt
		s.answer(0)
		s.advance(pongAt.Add(30 * time.Second))
		if len(s.changes) != 2 || s.changes[1].Up {
			t.Fatalf("backoff %d: changes %v", backoff, s.changes)
		}
		return s.changes[1].At
	}
	for _, tc := range []struct {
		backoff int
		pongAt  env.Mono
		want    env.Mono
	}{
		{0, ms(10), ms(260)},
		{1, ms(10), ms(260)},
		// The factor is 10 until 1s, 9 until 2s, 8 until 3s: 10ms + 8×250ms
		// is the first instant past the stretched window.
		{10, ms(10), ms(2010)},
		// From 2.01s the factor is 8 until 3s, then 7: 2.01+7×0.25 = 3.76.
		{10, ms(2010), ms(3760)},
		// After nine seconds the factor is 1 again.
		{10, ms(20010), ms(20260)},
	} {
		if got := run(tc.backoff, tc.pongAt); got != tc.want {
			t.Errorf("backoff %d, pong at %v: down at %v, want %v", tc.backoff, tc.pongAt, got, tc.want)
		}
	}
}

// TestExpiryMatchesDefinition checks the closed form of expiry against
// its definition: the first instant t with t >= since + timeout*factor(t).
func TestExpiryMatchesDefinition(t *testing.T) {
	for _, b := range []int{0, 2, 3, 10} {
		m := &Manager{cfg: Config{TimeoutBackoff: b}, links: []linkState{{cfg: LinkConfig{PingTimeout: 230 * time.Millisecond}}}}
		for from := 0; from <= 3000; from += 370 {
			for since := 0; since <= 12000; since += 290 {
				p := &path{since: ms(since), backoffFrom: ms(from)}
				got := m.expiry(p, 0)
				var want env.Mono
				for t := ms(0); ; t += env.Mono(time.Millisecond) {
					if t >= p.since.Add(m.timeout(p, 0, t)) {
						want = t
						break
					}
				}
				if got != want {
					t.Fatalf("backoff %d, from %v, since %v: expiry %v, want %v", b, ms(from), ms(since), got, want)
				}
			}
		}
	}
}

func TestOutstandingBounded(t *testing.T) {
	s := newSolo(t, Config{Links: []LinkConfig{lc(0, 0)}})
	first := s.pings[0].Msg.(Ping)
	s.advance(ms(100 * 40))
	p := &s.m.paths[0][0]
	if len(p.outstanding) != MaxOutstanding || s.m.Stats().Evicted != 41-MaxOutstanding {
		t.Fatalf("outstanding %d, evicted %d", len(p.outstanding), s.m.Stats().Evicted)
	}
	if err := s.m.Step(s.now, 0, 2, first.Pong()); err != nil {
		t.Fatal(err)
	}
	if st := s.m.Stats(); st.UnknownPongs != 1 || st.PongsReceived != 0 {
		t.Fatalf("a pong for an evicted ping counted: %+v", st)
	}
}

func TestStatusRendering(t *testing.T) {
	c := newCluster(t, 3, 1, []LinkConfig{lc(0, 0), lc(1, 0)}, Passive, 0)
	c.cut(3, 1)
	c.runFor(time.Second)
	st := c.m[1].Status()
	if len(st) != 2 || st[0].Peer != 2 || st[1].Peer != 3 {
		t.Fatalf("status not sorted by peer: %+v", st)
	}
	if got := st[1].String(); !strings.HasPrefix(got, "nodeid 3: link 0 connected (rtt 10ms), link 1 disconnected") {
		t.Errorf("PeerStatus.String() = %q", got)
	}
	want := "Local node ID 1, transport knet\n" +
		"LINK ID 0\n\tstatus:\n\t\tnodeid:  1:\tlocalhost\n\t\tnodeid:  2:\tconnected\n\t\tnodeid:  3:\tconnected\n" +
		"LINK ID 1\n\tstatus:\n\t\tnodeid:  1:\tlocalhost\n\t\tnodeid:  2:\tconnected\n\t\tnodeid:  3:\tdisconnected\n"
	if got := FormatStatus(1, st); got != want {
		t.Errorf("FormatStatus:\n%s\nwant:\n%s", got, want)
	}
	if got := c.m[1].Reachable(); !slices.Equal(got, []env.NodeID{2, 3}) {
		t.Errorf("Reachable %v", got)
	}
}
