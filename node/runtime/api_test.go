package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func runLoop(t *testing.T) *Loop {
	loop, stop := startLoop(t)
	t.Cleanup(stop)
	return loop
}

func TestAPIRoundTripOnTheLoop(t *testing.T) {
	loop := runLoop(t)
	counter := 0 // touched only on the loop
	path := filepath.Join(t.TempDir(), "hanode.sock")
	srv, err := ServeAPI(path, loop, func(c *Call) {
		counter++
		if c.Cmd == "fail" {
			c.Reply(nil, errors.New("asked to fail"))
			return
		}
		if c.Cmd == "later" {
			// An answer from a later loop event, as a replicated write gives.
			n := counter
			loop.Post(func() { c.Reply(map[string]any{"cmd": "later", "n": n}, nil) })
			return
		}
		c.Reply(map[string]any{"cmd": c.Cmd, "n": counter}, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ccancel()
	var out struct {
		Cmd string
		N   int
	}
	for i := 1; i <= 3; i++ {
		if err := CallAPI(cctx, path, Request{Cmd: "status"}, &out); err != nil || out.Cmd != "status" || out.N != i {
			t.Fatalf("call %d: %+v, %v", i, out, err)
		}
	}
	if err := CallAPI(cctx, path, Request{Cmd: "later"}, &out); err != nil || out.Cmd != "later" || out.N != 4 {
		t.Errorf("deferred answer: %+v, %v", out, err)
	}
	if err := CallAPI(cctx, path, Request{Cmd: "fail"}, nil); err == nil || err.Error() != "asked to fail" {
		t.Errorf("error not passed through: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := CallAPI(cctx, path, Request{Cmd: "status"}, nil); err == nil {
		t.Error("the API still answers after Close")
	}
}

// A stream delivers its items in order, and a client hanging up runs the
// call's OnClose on the loop (a watch is cancelled).
func TestAPIStreamAndHangUp(t *testing.T) {
	loop := runLoop(t)
	path := filepath.Join(t.TempDir(), "hanode.sock")
	closed := make(chan struct{}, 2)
	srv, err := ServeAPI(path, loop, func(c *Call) {
		for i := range 3 {
			c.Stream(i)
		}
		if c.Cmd == "finite" {
			c.Reply("end", nil)
			return
		}
		c.OnClose(func() { closed <- struct{}{} })
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got []int
	var end string
	collect := func(raw json.RawMessage) error {
		var i int
		if err := json.Unmarshal(raw, &i); err != nil {
			return err
		}
		got = append(got, i)
		return nil
	}
	if err := StreamAPI(ctx, path, Request{Cmd: "finite"}, collect, &end); err != nil || end != "end" || len(got) != 3 || got[2] != 2 {
		t.Fatalf("finite stream: %v, %q, %v", got, end, err)
	}
	got = nil
	stopAfterThree := errors.New("enough")
	err = StreamAPI(ctx, path, Request{Cmd: "endless"}, func(raw json.RawMessage) error {
		if err := collect(raw); err != nil || len(got) == 3 {
			return stopAfterThree
		}
		return nil
	}, nil)
	if !errors.Is(err, stopAfterThree) {
		t.Fatalf("endless stream: %v", err)
	}
	select {
	case <-closed:
	case <-ctx.Done():
		t.Fatal("hanging up did not run the call's OnClose")
	}
	if err := CallAPI(ctx, path, Request{Cmd: "endless"}, nil); err == nil {
		t.Error("CallAPI accepted a streamed answer")
	}
}
