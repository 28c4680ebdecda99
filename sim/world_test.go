package sim

import (
	"errors"
	"io/fs"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/hakit/hakit/node/env"
)

// Whatever order events are scheduled in, they run by (time, scheduling
// order): the property that makes a run a function of its seed.
func TestEventsRunInTimeThenSchedulingOrder(t *testing.T) {
	params := gopter.DefaultTestParametersWithSeed(1)
	params.MinSuccessfulTests = 300
	properties := gopter.NewProperties(params)
	properties.Property("pop order is (at, seq)", prop.ForAll(
		func(delays []int64) bool {
			w := New(0)
			type ran struct {
				at  time.Duration
				idx int
			}
			var order []ran
			for i, d := range delays {
				w.After(time.Duration(d), "", func() { order = append(order, ran{w.Now(), i}) })
			}
			w.RunFor(time.Hour)
			if len(order) != len(delays) {
				return false
			}
			for i := 1; i < len(order); i++ {
				prev, cur := order[i-1], order[i]
				if cur.at < prev.at || (cur.at == prev.at && cur.idx < prev.idx) {
					return false
				}
				if cur.at != time.Duration(delays[cur.idx]) {
					return false
				}
			}
			return true
		},
		gen.SliceOf(gen.Int64Range(0, 20)), // few distinct times: many ties
	))
	properties.TestingRun(t)
}

// Measured over 100,000 frames, each fault rate matches its configuration
// within five standard deviations. The draws are seeded, so the counts are
// exact for a given seed: the test is deterministic, and the tolerance is
// there so that changing the seed keeps it passing.
func TestSegmentFaultRatesMatchConfiguration(t *testing.T) {
	const frames = 100_000
	base := fixedLAN()
	for _, c := range []struct {
		name  string
		cfg   func(*SegmentConfig)
		rate  float64
		count func(s *stream) float64
	}{
		{"loss", func(c *SegmentConfig) { c.Loss = 0.1 }, 0.1, func(s *stream) float64 {
			return 1 - float64(len(uniqueSeqs(s)))/float64(s.sent)
		}},
		{"duplication", func(c *SegmentConfig) { c.Duplicate = 0.05 }, 0.05, func(s *stream) float64 {
			return float64(len(s.arrivals)-len(uniqueSeqs(s))) / float64(s.sent)
		}},
		{"reordering", func(c *SegmentConfig) { c.Reorder = 0.02; c.ReorderDelay = 5 * time.Millisecond }, 0.02, func(s *stream) float64 {
			late, highest := 0, uint64(0)
			for _, a := range s.arrivals {
				if a.seq < highest {
					late++
				}
				highest = max(highest, a.seq)
			}
			return float64(late) / float64(s.sent)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, seed := range []uint64{1, 2} {
				w := New(seed)
				cfg := base
				c.cfg(&cfg)
				lan := w.AddSwitch("lan", cfg)
				a, b := w.AddHost("a"), w.AddHost("b")
				a.BindNode(1)
				b.BindNode(2)
				a.AttachLink(0, a.AddNIC("eth0", lan))
				b.AttachLink(0, b.AddNIC("eth0", lan))
				s := startStream(w, a, b, 0, time.Millisecond)
				w.RunUntil(frames * time.Millisecond)
				w.RunFor(time.Second) // drain; the sender keeps going, so count what was due
				got := c.count(s)
				sigma := math.Sqrt(c.rate * (1 - c.rate) / float64(s.sent))
				if math.Abs(got-c.rate) > 5*sigma {
					t.Errorf("seed %d: measured %s rate %.5f over %d frames, configured %.3f (5σ = %.5f)", seed, c.name, got, s.sent, c.rate, 5*sigma)
				}
				t.Logf("seed %d: %s %.5f (configured %.3f) over %d frames", seed, c.name, got, c.rate, s.sent)
			}
		})
	}
}

func uniqueSeqs(s *stream) map[uint64]bool {
	seen := map[uint64]bool{}
	for _, a := range s.arrivals {
		seen[a.seq] = true
	}
	return seen
}

func TestPartitionsAndBlocks(t *testing.T) {
	w := New(1)
	lan := w.AddSwitch("lan", fixedLAN())
	hosts := map[string]*Host{}
	for i, name := range []string{"a", "b", "c"} {
		h := w.AddHost(name)
		h.BindNode(env.NodeID(i + 1))
		h.AttachLink(0, h.AddNIC("eth0", lan))
		hosts[name] = h
	}
	got := map[string]int{} // "from->to" -> frames
	for _, h := range hosts {
		w.StartProcess(h, "node", func(e env.Env) {
			e.Transport.SetReceiver(func(_ env.LinkID, from env.NodeID, _ []byte, _ env.Mono) {
				got[w.HostOf(from).Name()+"->"+h.Name()]++
			})
			var tick func()
			tick = func() {
				e.Transport.Broadcast(0, []byte("hb"))
				e.Clock.AfterFunc(10*time.Millisecond, tick)
			}
			tick()
		})
	}
	phase := func(d time.Duration) map[string]int {
		clear(got)
		w.RunFor(d)
		return map[string]int(clonedCounts(got))
	}
	whole := phase(time.Second)
	w.Partition([]string{"a"}, []string{"b", "c"})
	split := phase(time.Second)
	w.Heal()
	w.Block("a", "b")
	oneWay := phase(time.Second)
	w.Heal()
	healed := phase(time.Second)

	// The history answers for any past instant; at the instant of a change
	// both rules count, so the path is open if either allowed it.
	const second = time.Second
	for _, c := range []struct {
		at   time.Duration
		from string
		to   string
		want bool
	}{
		{second / 2, "a", "b", true},
		{second, "a", "b", true}, // the partition's own instant
		{second + 1, "a", "b", false},
		{second + 1, "b", "c", true},
		{2*second + 1, "a", "b", false}, // the one-way block
		{2*second + 1, "b", "a", true},
		{3*second + 1, "a", "b", true},
	} {
		if got := w.ReachableAt(c.from, c.to, c.at); got != c.want {
			t.Errorf("ReachableAt(%s, %s, %v) = %v, want %v", c.from, c.to, c.at, got, c.want)
		}
	}

	for _, c := range []struct {
		name   string
		counts map[string]int
		cut    []string
	}{
		{"whole", whole, nil},
		{"a | b,c", split, []string{"a->b", "a->c", "b->a", "c->a"}},
		{"a -/-> b", oneWay, []string{"a->b"}},
		{"healed", healed, nil},
	} {
		for _, pair := range []string{"a->b", "a->c", "b->a", "b->c", "c->a", "c->b"} {
			isCut := strings.Contains(strings.Join(c.cut, " "), pair)
			n := c.counts[pair]
			if isCut && n > 1 { // one frame may have been in flight at the cut
				t.Errorf("%s: %d frames crossed %s", c.name, n, pair)
			}
			if !isCut && n < 99 {
				t.Errorf("%s: only %d frames crossed %s in a second at 100/s", c.name, n, pair)
			}
		}
	}
}

func clonedCounts(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestProcessCrashPauseResumeRestart(t *testing.T) {
	w := New(1)
	h := w.AddHost("a")
	var fired []string
	var monoAtStart []env.Mono
	p := w.StartProcess(h, "node", func(e env.Env) {
		monoAtStart = append(monoAtStart, e.Clock.Mono())
		for _, d := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
			e.Clock.AfterFunc(d, func() { fired = append(fired, d.String()+"@"+e.Clock.Mono().String()) })
		}
	})
	w.RunUntil(500 * time.Millisecond)
	p.Pause()
	w.RunUntil(2500 * time.Millisecond)
	if len(fired) != 0 {
		t.Fatalf("timers fired while paused: %v", fired)
	}
	p.Resume()
	w.RunFor(0)
	// Both timers that came due during the pause run at resume, late, in
	// deadline order, and the monotonic clock shows the jump.
	if want := []string{"1s@2.500000000", "2s@2.500000000"}; strings.Join(fired, " ") != strings.Join(want, " ") {
		t.Errorf("after resume: %v, want %v", fired, want)
	}
	p.Crash()
	w.RunUntil(10 * time.Second)
	if len(fired) != 2 {
		t.Errorf("a crashed process's timer fired: %v", fired)
	}
	p.Restart()
	w.RunFor(time.Second + 1)
	if len(monoAtStart) != 2 || monoAtStart[1] != 0 {
		t.Errorf("Mono at the start of each incarnation = %v, want 0 each time", monoAtStart)
	}
	if len(fired) != 3 || fired[2] != "1s@1.000000000" {
		t.Errorf("new incarnation's timers: %v", fired)
	}
}

func TestTimerStop(t *testing.T) {
	w := New(1)
	h := w.AddHost("a")
	ran := false
	var stops [2]bool
	w.StartProcess(h, "node", func(e env.Env) {
		tm := e.Clock.AfterFunc(time.Second, func() { ran = true })
		e.Clock.AfterFunc(500*time.Millisecond, func() { stops[0], stops[1] = tm.Stop(), tm.Stop() })
	})
	w.RunFor(2 * time.Second)
	if ran || !stops[0] || stops[1] {
		t.Errorf("ran=%v, Stop()=%v then %v; want false, true, false", ran, stops[0], stops[1])
	}
}

// Unsynced writes survive a process crash (the kernel has them) and vanish
// with a power loss; synced and atomic writes survive both.
func TestDiskKeepsWhatWasSynced(t *testing.T) {
	w := New(1)
	h := w.AddHost("a")
	var d env.Disk
	p := w.StartProcess(h, "node", func(e env.Env) {
		d = e.Disk
		must(t, d.WriteFileAtomic("atomic", []byte("A")))
		must(t, d.WriteFile("synced", []byte("S")))
		must(t, d.Sync("synced"))
		must(t, d.WriteFile("cached", []byte("C")))
		must(t, d.WriteFile("synced", []byte("S2"))) // newer, unsynced
	})
	w.RunFor(time.Millisecond)
	read := func(name string) string {
		b, err := d.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			return "<missing>"
		}
		must(t, err)
		return string(b)
	}
	p.Crash()
	if got := read("cached") + " " + read("synced"); got != "C S2" {
		t.Errorf("after a process crash: %q, want the page cache intact", got)
	}
	h.PowerOff()
	h.PowerOn()
	if got := read("atomic") + " " + read("synced") + " " + read("cached"); got != "A S <missing>" {
		t.Errorf("after a power loss: %q, want %q", got, "A S <missing>")
	}
	for _, bad := range []string{"../escape", "cib/cib.xml", ".tmp-x", "", "."} {
		if err := d.WriteFile(bad, nil); err == nil {
			t.Errorf("WriteFile(%q): a name outside the flat namespace was accepted", bad)
		}
		if _, err := d.ReadFile(bad); err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadFile(%q): want a name error, got %v", bad, err)
		}
	}
}

func TestPowerOffClearsGroundTruth(t *testing.T) {
	w := New(1)
	a, b := w.AddHost("a"), w.AddHost("b")
	must(t, a.AddAddress("bond1", "192.168.122.100/24"))
	must(t, a.StartService("apache2"))
	must(t, b.AddAddress("bond1", "192.168.122.100/24"))
	if err := a.AddAddress("bond1", "192.168.122.100/24"); err == nil {
		t.Error("configuring an address twice on one host succeeded")
	}
	if got := w.HostsWithAddress("192.168.122.100/24"); len(got) != 2 {
		t.Errorf("HostsWithAddress = %v, want both (the dual-primary the invariant must see)", got)
	}
	a.PowerOff()
	if got := w.HostsWithAddress("192.168.122.100/24"); len(got) != 1 || got[0] != "b" {
		t.Errorf("after powering a off: %v", got)
	}
	if len(w.HostsRunning("apache2")) != 0 {
		t.Error("a service survived a power loss")
	}
	if a.StartService("x") == nil {
		t.Error("started a service on a powered-off host")
	}
}

// The same seed gives the same trace; another seed, another trace.
func TestTraceHashIsAFunctionOfTheSeed(t *testing.T) {
	run := func(seed uint64) string {
		cfg := DefaultBond()
		w, a, b := bondedPair(seed, cfg)
		lan := w.switches[0]
		jittery := lan.Config()
		jittery.LatencyMean = time.Millisecond
		jittery.Loss = 0.05
		lan.SetConfig(jittery)
		startStream(w, a, b, 0, 10*time.Millisecond)
		w.After(time.Second+time.Duration(w.Rand("faults").IntN(1000))*time.Millisecond, "cut a/eth0", a.NIC("eth0").CutCable)
		w.RunFor(5 * time.Second)
		return w.Trace().Hash()
	}
	if run(7) != run(7) {
		t.Error("seed 7 gave two different traces")
	}
	if run(7) == run(8) {
		t.Error("seeds 7 and 8 gave the same trace")
	}
}

func TestBuggifyActivatesSitesOncePerRun(t *testing.T) {
	count := func(on bool) (activeSites, fires int) {
		w := New(42, WithBuggify(on))
		for i := range 200 {
			site := "site-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
			hits := 0
			buggify := w.buggifyFor("proc/test/")
			for range 100 {
				if buggify(site) {
					hits++
				}
			}
			if hits > 0 {
				activeSites++
			}
			fires += hits
		}
		return
	}
	if sites, fires := count(false); sites != 0 || fires != 0 {
		t.Errorf("buggify off fired %d times", fires)
	}
	sites, fires := count(true)
	// 200 sites at P=1/4: about 50 active; each fires about 25 of 100 times.
	if sites < 25 || sites > 75 || fires < sites*15 || fires > sites*35 {
		t.Errorf("buggify on: %d active sites, %d fires", sites, fires)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
