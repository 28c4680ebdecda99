package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestAPIRoundTripOnTheLoop(t *testing.T) {
	loop := NewLoop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go loop.Run(ctx)
	counter := 0 // touched only on the loop
	path := filepath.Join(t.TempDir(), "hanode.sock")
	srv, err := ServeAPI(path, loop, func(r Request) (any, error) {
		counter++
		if r.Cmd == "fail" {
			return nil, errors.New("asked to fail")
		}
		return map[string]any{"cmd": r.Cmd, "n": counter}, nil
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
