package runtime

import (
	"context"
	"errors"
	"io/fs"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hakit/hakit/node/env"
)

// startLoop runs a loop inside the current synctest bubble and returns a
// function that stops it and waits for Run to return.
func startLoop(t *testing.T) (*Loop, func()) {
	t.Helper()
	loop := NewLoop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	return loop, func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	}
}

func TestTimersFireOnTheLoopAtTheirDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		loop, stop := startLoop(t)
		defer stop()
		clock := NewClock(loop)

		var fired []env.Mono
		onLoop := func() { fired = append(fired, clock.Mono()) }
		// Armed out of order: they must fire in deadline order.
		loop.Post(func() {
			clock.AfterFunc(3*time.Second, onLoop)
			clock.AfterFunc(1*time.Second, onLoop)
			clock.AfterFunc(2*time.Second, onLoop)
		})
		time.Sleep(5 * time.Second)
		synctest.Wait()

		want := []env.Mono{env.Mono(time.Second), env.Mono(2 * time.Second), env.Mono(3 * time.Second)}
		if len(fired) != len(want) {
			t.Fatalf("fired %v, want %v", fired, want)
		}
		for i := range want {
			if fired[i] != want[i] {
				t.Errorf("timer %d fired at %v, want %v", i, fired[i], want[i])
			}
		}
	})
}

func TestStopReportsWhetherItPreventedTheCallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		loop, stop := startLoop(t)
		defer stop()
		clock := NewClock(loop)

		ran := map[string]bool{}
		var early, late env.Timer
		loop.Post(func() {
			early = clock.AfterFunc(time.Second, func() { ran["early"] = true })
			late = clock.AfterFunc(time.Second, func() { ran["late"] = true })
		})
		synctest.Wait()

		results := make(chan [2]bool, 1)
		loop.Post(func() { results <- [2]bool{early.Stop(), early.Stop()} })
		got := <-results
		if !got[0] || got[1] {
			t.Errorf("Stop before expiry = %v, then %v; want true, then false", got[0], got[1])
		}

		time.Sleep(2 * time.Second)
		synctest.Wait()
		loop.Post(func() { results <- [2]bool{late.Stop(), false} })
		if got := <-results; got[0] {
			t.Error("Stop after the callback ran returned true")
		}
		if ran["early"] || !ran["late"] {
			t.Errorf("ran = %v, want only late", ran)
		}
	})
}

// A timer whose real deadline has passed but whose callback is still queued
// behind a busy event must still be stoppable: Stop and the callback are
// ordered by the loop, not by the OS timer.
func TestStopWinsOverAnExpiredButQueuedTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		loop, stop := startLoop(t)
		defer stop()
		clock := NewClock(loop)

		ran := false
		stopped := make(chan bool, 1)
		loop.Post(func() {
			tm := clock.AfterFunc(time.Millisecond, func() { ran = true })
			time.Sleep(10 * time.Millisecond) // the event outlives the timer
			synctest.Wait()                   // its fire() is now posted
			stopped <- tm.Stop()
		})
		if !<-stopped {
			t.Error("Stop on a queued, unrun timer returned false")
		}
		synctest.Wait()
		if ran {
			t.Error("callback ran after Stop returned true")
		}
	})
}

func TestPostFromManyGoroutinesRunsEachOnceAndSerially(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		loop, stop := startLoop(t)
		defer stop()

		const posters, each = 8, 500
		count := 0 // unsynchronised on purpose: -race fails if two events overlap
		perPoster := make([][]int, posters)
		var wg sync.WaitGroup
		for p := range posters {
			wg.Go(func() {
				for i := range each {
					loop.Post(func() { count++; perPoster[p] = append(perPoster[p], i) })
				}
			})
		}
		wg.Wait()
		synctest.Wait()
		if count != posters*each {
			t.Fatalf("ran %d events, want %d", count, posters*each)
		}
		for p, seq := range perPoster {
			for i, v := range seq {
				if v != i {
					t.Fatalf("poster %d: event %d ran as %d-th; posts from one goroutine must keep their order", p, v, i)
				}
			}
		}
	})
}

func TestMonoDoesNotFollowWallClockAndStartsAtZero(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := NewClock(NewLoop())
		if m := clock.Mono(); m != 0 {
			t.Errorf("Mono at start = %v, want 0", m)
		}
		time.Sleep(1500 * time.Millisecond)
		if m := clock.Mono(); m != env.Mono(1500*time.Millisecond) {
			t.Errorf("Mono after 1.5s = %v", m)
		}
	})
}

func TestPostAfterRunReturnsIsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		loop, stop := startLoop(t)
		stop()
		ran := false
		loop.Post(func() { ran = true })
		synctest.Wait()
		if ran {
			t.Error("function posted to a stopped loop ran")
		}
	})
}

func TestRunTwiceIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		loop, stop := startLoop(t)
		defer stop()
		synctest.Wait()
		if err := loop.Run(context.Background()); err == nil {
			t.Error("a second Run was accepted")
		}
		if err := (&Loop{}).Run(context.Background()); err == nil {
			t.Error("Run on a zero Loop was accepted")
		}
	})
}

func TestDirDisk(t *testing.T) {
	d, err := NewDirDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadFile("cib.xml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: %v, want fs.ErrNotExist", err)
	}
	if err := d.WriteFileAtomic("cib.xml", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteFileAtomic("cib.xml", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.ReadFile("cib.xml"); string(got) != "v2" {
		t.Errorf("after two atomic writes: %q", got)
	}
	if err := d.WriteFile("log", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := d.Sync("log"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", ".", "..", "../x", "a/b", ".tmp-x"} {
		if err := d.WriteFileAtomic(bad, nil); err == nil {
			t.Errorf("WriteFileAtomic(%q) accepted a name outside the flat namespace", bad)
		}
	}
}
