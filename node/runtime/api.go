package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/hakit/hakit/node/env"
)

// Request is one call on the local API: a command and its arguments.
type Request struct {
	Cmd  string            `json:"cmd"`
	Args map[string]string `json:"args,omitempty"`
}

// Response is the answer: a JSON value, or an error message.
type Response struct {
	OK     bool            `json:"ok"`
	Error  string          `json:"error,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
}

// Handler answers a request; it runs on the node's loop, so it may read
// the node's state directly.
type Handler func(Request) (any, error)

// APIServer serves the local API on a unix socket (mode 0600, so only the
// node's user, root, may talk to it): one JSON request per line, one JSON
// response per line. Each request is handed to the node's loop and
// answered from there.
type APIServer struct {
	ln      net.Listener
	loop    env.Loop
	handler Handler
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]bool
	closed  bool
}

// ServeAPI listens on path (replacing a stale socket) and serves until
// Close.
func ServeAPI(path string, loop env.Loop, h Handler) (*APIServer, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("api socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("api socket %s: %w", path, err)
	}
	s := &APIServer{ln: ln, loop: loop, handler: h, conns: map[net.Conn]bool{}}
	s.wg.Go(s.accept)
	return s, nil
}

func (s *APIServer) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Go(func() { s.serve(c) })
	}
}

// maxRequest bounds one request line: the API is small, and a client must
// not make the daemon buffer without limit.
const maxRequest = 64 << 10

func (s *APIServer) serve(c net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 4096), maxRequest)
	enc := json.NewEncoder(c)
	for sc.Scan() {
		var req Request
		var resp Response
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			resp.Error = "bad request: " + err.Error()
		} else {
			resp = s.call(req)
		}
		if err := enc.Encode(resp); err != nil {
			return
		}
	}
}

func (s *APIServer) call(req Request) Response {
	done := make(chan Response, 1)
	s.loop.Post(func() {
		v, err := s.handler(req)
		if err != nil {
			done <- Response{Error: err.Error()}
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			done <- Response{Error: err.Error()}
			return
		}
		done <- Response{OK: true, Result: b}
	})
	select {
	case r := <-done:
		return r
	case <-time.After(10 * time.Second):
		return Response{Error: "the node did not answer within 10 s (its loop is busy or stopped)"}
	}
}

// Close stops accepting, closes open connections and waits.
func (s *APIServer) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

// CallAPI sends one request to the API at path and decodes the result
// into out (if non-nil).
func CallAPI(ctx context.Context, path string, req Request, out any) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("cannot reach hanode at %s: %w", path, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return err
	}
	var resp Response
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&resp); err != nil {
		return fmt.Errorf("reading the answer from %s: %w", path, err)
	}
	if !resp.OK {
		return errors.New(resp.Error)
	}
	if out != nil {
		return json.Unmarshal(resp.Result, out)
	}
	return nil
}
