package sim

import (
	"testing"
	"time"
)

// A cut on the active slave is seen at the next miimon poll (0-100 ms later)
// and acted on after downdelay (200 ms): frames sent in between are lost,
// so the window is 200-300 ms, then traffic flows over the backup. The cut
// instant is swept across the poll period; the seed moves the poll phase.
func TestBondCutOnActiveSlaveLosesFramesForDowndelayPlusAtMostOnePoll(t *testing.T) {
	const every = time.Millisecond
	for _, side := range []string{"sender", "receiver"} {
		for seed := uint64(1); seed <= 3; seed++ {
			for offset := time.Duration(0); offset < 100*time.Millisecond; offset += 7 * time.Millisecond {
				w, a, b := bondedPair(seed, DefaultBond())
				s := startStream(w, a, b, 0, every)
				cutHost := map[string]*Host{"sender": a, "receiver": b}[side]
				cutAt := time.Second + offset
				w.RunUntil(cutAt)
				cutHost.NIC("eth0").CutCable()
				w.RunFor(time.Second)

				window := s.firstSentAfter(t, cutAt) - cutAt
				if window < 200*time.Millisecond || window > 300*time.Millisecond+every {
					t.Errorf("seed %d, %s cut at %v: frames lost for %v, want 200-300 ms", seed, side, cutAt, window)
				}
				if got := cutHost.Bond("bond0").Active(); got != cutHost.NIC("eth1") {
					t.Errorf("seed %d: active slave after failover is %v, want eth1", seed, got)
				}
				last := s.arrivals[len(s.arrivals)-1]
				if w.Now()-last.sentAt > 2*every {
					t.Errorf("seed %d: traffic stopped after failover (last frame sent at %v, now %v)", seed, last.sentAt, w.Now())
				}
			}
		}
	}
}

// Without a primary, active-backup never switches back: the restored slave
// becomes the backup and not a single frame is lost on restore.
func TestBondRestoredSlaveIsNotUsedAgainWithoutPrimary(t *testing.T) {
	w, a, b := bondedPair(7, DefaultBond())
	s := startStream(w, a, b, 0, time.Millisecond)
	bond, eth0, eth1 := a.Bond("bond0"), a.NIC("eth0"), a.NIC("eth1")
	w.RunUntil(time.Second)
	eth0.CutCable()
	w.RunFor(time.Second)
	restoreAt := w.Now()
	eth0.RestoreCable()
	for w.Now() < restoreAt+10*time.Second {
		w.RunFor(time.Millisecond)
		if bond.Active() != eth1 {
			t.Fatalf("bond switched back to %v %v after restore", bond.Active(), w.Now()-restoreAt)
		}
	}
	if lost := lostAfter(s, restoreAt); lost != 0 {
		t.Errorf("%d frames lost after the restore; a restore must not disturb the active slave", lost)
	}
}

// With a primary (primary_reselect=always) the bond returns to it, but only
// once updelay has confirmed its carrier: 200-300 ms after the restore.
func TestBondReturnsToPrimaryOnlyAfterUpdelay(t *testing.T) {
	cfg := DefaultBond()
	cfg.Primary = "eth0"
	for offset := time.Duration(0); offset < 100*time.Millisecond; offset += 13 * time.Millisecond {
		w, a, _ := bondedPair(3, cfg)
		bond, eth0 := a.Bond("bond0"), a.NIC("eth0")
		w.RunUntil(time.Second)
		eth0.CutCable()
		w.RunFor(time.Second + offset)
		restoreAt := w.Now()
		eth0.RestoreCable()
		for bond.Active() != eth0 && w.Now() < restoreAt+time.Second {
			w.RunFor(time.Millisecond)
		}
		took := w.Now() - restoreAt
		if took < 200*time.Millisecond || took > 300*time.Millisecond {
			t.Errorf("restore at %v: back on the primary after %v, want 200-300 ms", restoreAt, took)
		}
	}
}

// When every slave is down there is nothing to protect by waiting: the first
// slave whose carrier returns is used at the next poll, updelay or not.
func TestBondWithNoActiveSlaveSkipsUpdelay(t *testing.T) {
	w, a, b := bondedPair(5, DefaultBond())
	s := startStream(w, a, b, 0, time.Millisecond)
	bond := a.Bond("bond0")
	w.RunUntil(time.Second)
	a.NIC("eth0").CutCable()
	a.NIC("eth1").CutCable()
	w.RunFor(time.Second)
	if bond.Active() != nil {
		t.Fatalf("both slaves cut, yet active slave is %v", bond.Active())
	}
	restoreAt := w.Now()
	a.NIC("eth1").RestoreCable()
	w.RunFor(time.Second)
	if gap := s.firstSentAfter(t, restoreAt) - restoreAt; gap > 100*time.Millisecond+time.Millisecond {
		t.Errorf("traffic resumed %v after the restore, want within one miimon poll", gap)
	}
}

// A carrier blip shorter than downdelay is absorbed: no failover, and only
// the frames sent during the blip itself are lost.
func TestBondAbsorbsBlipShorterThanDowndelay(t *testing.T) {
	w, a, b := bondedPair(11, DefaultBond())
	s := startStream(w, a, b, 0, time.Millisecond)
	bond, eth0 := a.Bond("bond0"), a.NIC("eth0")
	w.RunUntil(time.Second)
	eth0.CutCable()
	w.RunFor(50 * time.Millisecond)
	eth0.RestoreCable()
	w.RunFor(time.Second)
	if bond.Active() != eth0 {
		t.Errorf("a 50 ms blip moved the bond to %v", bond.Active())
	}
	if lost := lostAfter(s, time.Second); lost < 49 || lost > 51 {
		t.Errorf("lost %d frames in a 50 ms blip at 1 frame/ms", lost)
	}
}

func TestBondFailoverWindowFormula(t *testing.T) {
	for _, c := range []struct {
		cfg  BondConfig
		want time.Duration
	}{
		{DefaultBond(), 300 * time.Millisecond},
		{BondConfig{Miimon: 100 * time.Millisecond, Downdelay: 250 * time.Millisecond}, 300 * time.Millisecond}, // rounded down, as Linux does
		{BondConfig{Miimon: 1000 * time.Millisecond, Downdelay: 3000 * time.Millisecond}, 4 * time.Second},
	} {
		if got := c.cfg.FailoverWindow(); got != c.want {
			t.Errorf("%+v: FailoverWindow = %v, want %v", c.cfg, got, c.want)
		}
	}
}

// lostAfter counts frames sent after t that never arrived.
func lostAfter(s *stream, t time.Duration) int {
	seen := map[uint64]bool{}
	var first, last uint64
	for _, a := range s.arrivals {
		if a.sentAt < t {
			continue
		}
		seen[a.seq] = true
		if first == 0 || a.seq < first {
			first = a.seq
		}
		last = max(last, a.seq)
	}
	lost := 0
	for _, a := range s.arrivals {
		if a.sentAt < t && a.seq+1 > first {
			first = a.seq + 1
		}
	}
	for seq := first; seq <= last; seq++ {
		if !seen[seq] {
			lost++
		}
	}
	return lost
}

// The reviewer's case: the backup's carrier comes back while the active
// slave is failing. When the active is declared down, the backup is still
// counting its updelay; Linux makes it active at once ("N ms earlier")
// rather than leaving the bond with no active slave. The outage stays
// within the 200-300 ms of a plain failover, whatever the updelay.
func TestBondTakesSlaveStillInUpdelayWhenActiveDies(t *testing.T) {
	for _, updelay := range []time.Duration{200 * time.Millisecond, 2 * time.Second} {
		cfg := DefaultBond()
		cfg.Updelay = updelay
		for seed := uint64(1); seed <= 5; seed++ {
			w, a, b := bondedPair(seed, cfg)
			s := startStream(w, a, b, 0, time.Millisecond)
			w.RunUntil(5 * time.Second) // past the boot-time updelay of the backup
			a.NIC("eth1").CutCable()
			w.RunFor(time.Second)
			cutAt := w.Now()
			a.NIC("eth0").CutCable()
			w.RunFor(150 * time.Millisecond)
			a.NIC("eth1").RestoreCable()
			w.RunFor(3 * time.Second)
			if outage := s.firstSentAfter(t, cutAt) - cutAt; outage > 300*time.Millisecond+time.Millisecond {
				t.Errorf("updelay %v, seed %d: outage %v, want at most 300 ms", updelay, seed, outage)
			}
		}
	}
}
