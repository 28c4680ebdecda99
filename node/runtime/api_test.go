package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
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

// A client that pipelines a second request and hangs up in the middle of
// a stream is noticed (OnClose runs), and Close does not wait for it.
func TestAPIPipelinedHangUpAndClose(t *testing.T) {
	loop := runLoop(t)
	path := filepath.Join(t.TempDir(), "hanode.sock")
	closed := make(chan struct{}, 4)
	srv, err := ServeAPI(path, loop, func(c *Call) {
		c.Stream("first")
		c.OnClose(func() { closed <- struct{}{} })
	})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte(`{"cmd":"watch"}` + "\n" + `{"cmd":"second"}` + "\n"))
	buf := make([]byte, 256)
	if _, err := conn.Read(buf); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("hanging up after a pipelined request did not end the stream")
	}
	done := make(chan error, 1)
	go func() { done <- srv.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
}

// A handler that registers OnClose after the client is gone still gets it
// run; a stream that overflows ends with an error line and runs OnClose.
func TestAPILateOnCloseAndOverflow(t *testing.T) {
	loop := runLoop(t)
	path := filepath.Join(t.TempDir(), "hanode.sock")
	ran := make(chan string, 4)
	hold := make(chan struct{})
	srv, err := ServeAPI(path, loop, func(c *Call) {
		switch c.Cmd {
		case "late":
			<-hold // the client hangs up meanwhile
			time.Sleep(100 * time.Millisecond)
			c.OnClose(func() { ran <- "late" })
		case "flood":
			c.OnClose(func() { ran <- "flood" })
			for i := range 50_000 {
				if !c.Stream(i) {
					return
				}
			}
			c.Reply("all sent", nil)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte(`{"cmd":"late"}` + "\n"))
	conn.Close()
	time.Sleep(100 * time.Millisecond)
	close(hold)
	// A client that does not read while 50,000 items are streamed: the
	// socket buffer and then the call's buffer fill up.
	flood, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer flood.Close()
	flood.Write([]byte(`{"cmd":"flood"}` + "\n"))
	time.Sleep(500 * time.Millisecond)
	flood.SetDeadline(time.Now().Add(30 * time.Second))
	var last Response
	n := 0
	dec := json.NewDecoder(flood)
	for {
		last = Response{}
		if dec.Decode(&last) != nil || !last.More {
			break
		}
		n++
	}
	if last.OK || !strings.Contains(last.Error, "fell") || n >= 50_000 {
		t.Errorf("flood: %d items then %+v; want fewer than 50,000 and a fell-behind error", n, last)
	}
	got := map[string]bool{}
	for range 2 {
		select {
		case s := <-ran:
			got[s] = true
		case <-time.After(30 * time.Second):
			t.Fatalf("OnClose ran for %v only", got)
		}
	}
}
