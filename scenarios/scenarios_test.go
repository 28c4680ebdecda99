package scenarios

import (
	"flag"
	"testing"
)

var seeds = flag.Int("seeds", 20, "seeds per scenario in TestScenarios")

// Every scenario passes on a range of seeds. hasim sweep runs many more.
func TestScenarios(t *testing.T) {
	for _, s := range All() {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			for seed := uint64(1); seed <= uint64(*seeds); seed++ {
				res, err := Execute(s.Name, seed, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if !res.Passed() {
					t.Errorf("seed %d: %v\nreplay: %s", seed, res.Violations, res.Replay())
				}
			}
		})
	}
}

// hasim run X --seed 7 twice gives the same trace hash; seed 8 another.
func TestSameSeedSameTraceOtherSeedOtherTrace(t *testing.T) {
	for _, s := range All() {
		a, _ := Execute(s.Name, 7, Options{})
		b, _ := Execute(s.Name, 7, Options{})
		c, _ := Execute(s.Name, 8, Options{})
		if a.TraceHash != b.TraceHash || a.Steps != b.Steps {
			t.Errorf("%s: seed 7 twice gave %s and %s", s.Name, a.TraceHash, b.TraceHash)
		}
		if a.TraceHash == c.TraceHash {
			t.Errorf("%s: seeds 7 and 8 gave the same trace %s", s.Name, a.TraceHash)
		}
	}
}

func TestUnknownScenario(t *testing.T) {
	if _, err := Execute("no-such", 1, Options{}); err == nil {
		t.Error("unknown scenario accepted")
	}
}

// Seeds that once failed, each with the bug it found; they must keep
// passing.
func TestFoundSeeds(t *testing.T) {
	for _, c := range []struct {
		scenario string
		seed     uint64
		bug      string
	}{
		{"crm-failback", 272, "the DC replanned while its own dispatch of a start was still undelivered: apache on both nodes"},
		{"crm-failback", 906, "the same race"},
		{"crm-swarm", 277, "the same race, the vip on both nodes"},
		{"crm-swarm", 590, "the same race"},
		{"crm-swarm", 548, "the DC fenced itself, and a fencing delayed past its victim's return shot it again"},
	} {
		res, err := Execute(c.scenario, c.seed, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Passed() {
			t.Errorf("%s seed %d (%s): %v\nreplay: %s", c.scenario, c.seed, c.bug, res.Violations, res.Replay())
		}
	}
}
