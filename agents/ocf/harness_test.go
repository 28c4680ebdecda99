package ocf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hakit/hakit/agents"
	"github.com/hakit/hakit/node/runtime"
)

// patience bounds every wait in these tests. It is generous on purpose:
// the tests assert what happens, never how fast, and a loaded machine
// must not fail them.
const patience = 2 * time.Minute

// trackingLoop is a real event loop that knows when it is running an
// event, so tests can check that results arrive on the loop.
type trackingLoop struct {
	inner  *runtime.Loop
	inLoop atomic.Bool
}

func (l *trackingLoop) Post(f func()) {
	l.inner.Post(func() {
		l.inLoop.Store(true)
		defer l.inLoop.Store(false)
		f()
	})
}

// harness runs a Runner on a real loop over a temporary OCF root and
// fence agent directory, so the host's agents never take part.
type harness struct {
	t          *testing.T
	loop       *trackingLoop
	r          *Runner
	root       string
	stonithDir string
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	loop := &trackingLoop{inner: runtime.NewLoop()}
	ctx, stop := context.WithCancel(context.Background())
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		_ = loop.inner.Run(ctx)
	}()
	cfg.Loop = loop
	if cfg.Root == "" {
		cfg.Root = t.TempDir()
	}
	if cfg.StonithDir == "" {
		cfg.StonithDir = t.TempDir()
	}
	h := &harness{t: t, loop: loop, r: New(cfg), root: cfg.Root, stonithDir: cfg.StonithDir}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		if err := h.r.Shutdown(sctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		stop()
		<-loopDone
	})
	return h
}

// onLoop runs f on the loop and waits for it.
func (h *harness) onLoop(f func()) {
	h.t.Helper()
	done := make(chan struct{})
	h.loop.Post(func() {
		defer close(done)
		f()
	})
	select {
	case <-done:
	case <-time.After(patience):
		h.t.Fatal("the loop did not run a posted function")
	}
}

// exec submits op on the loop, as the node does, and returns where its
// result will arrive. It fails the test if done is called from inside Exec
// or off the loop.
func (h *harness) exec(op agents.Op) <-chan agents.Result {
	ch := make(chan agents.Result, 1)
	h.onLoop(func() { h.execOnLoop(op, ch) })
	return ch
}

// execOnLoop is exec for code already running on the loop.
func (h *harness) execOnLoop(op agents.Op, ch chan agents.Result) {
	t := h.t
	inExec := true
	calls := 0
	h.r.Exec(op, func(res agents.Result) {
		calls++
		if inExec {
			t.Errorf("%s %s: done called from inside Exec", op.Resource, op.Action)
		}
		if !h.loop.inLoop.Load() {
			t.Errorf("%s %s: done called off the loop", op.Resource, op.Action)
		}
		if calls > 1 {
			t.Errorf("%s %s: done called %d times", op.Resource, op.Action, calls)
			return
		}
		ch <- res
	})
	inExec = false
}

func (h *harness) wait(ch <-chan agents.Result) agents.Result {
	h.t.Helper()
	select {
	case res := <-ch:
		return res
	case <-time.After(patience):
		h.t.Fatalf("no result after %v", patience)
		return agents.Result{}
	}
}

func (h *harness) run(op agents.Op) agents.Result {
	h.t.Helper()
	return h.wait(h.exec(op))
}

// script installs an OCF agent ocf:<provider>:<name> made of a shell body.
// Tests write every script before they run any, so no fork can inherit a
// script still open for writing (which would make exec fail with ETXTBSY).
func (h *harness) script(provider, name, body string) agents.Agent {
	h.t.Helper()
	writeScript(h.t, h.root, provider, name, "#!/bin/sh\n"+body+"\n", 0o755)
	return agents.Agent{Class: "ocf", Provider: provider, Type: name}
}

// fenceScript installs a fence agent stonith:<name> made of a shell body.
func (h *harness) fenceScript(name, body string) agents.Agent {
	h.t.Helper()
	writeExecutable(h.t, filepath.Join(h.stonithDir, name), "#!/bin/sh\n"+body+"\n", 0o755)
	return agents.Agent{Class: "stonith", Type: name}
}

func writeScript(t *testing.T, root, provider, name, text string, mode os.FileMode) string {
	t.Helper()
	dir := filepath.Join(root, "resource.d", provider)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return writeExecutable(t, filepath.Join(dir, name), text, mode)
}

func writeExecutable(t *testing.T, path, text string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// eventually polls cond until it holds or patience runs out.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not true after %v: %s", patience, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readPID reads a pid a script wrote, or 0 when the file is not there yet.
func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0 // written halfway
	}
	return pid
}

// processGone reports whether pid has exited. A killed orphan may linger
// as a zombie when the container's init does not reap it: that counts as
// gone.
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return false
	}
	fields := strings.Fields(string(b[i+1:]))
	return len(fields) > 0 && fields[0] == "Z"
}

// killAtEnd makes sure a process a test left running is gone afterwards.
func killAtEnd(t *testing.T, pid int) {
	t.Cleanup(func() {
		if pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

func op(a agents.Agent, resource, action string) agents.Op {
	return agents.Op{Resource: resource, Agent: a, Action: action, Timeout: patience}
}

// envOf parses `env` output into a map.
func envOf(output string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(output, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}
