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

// Response is one answer line: a JSON value or an error message. A
// streaming call (a watch) answers with any number of lines marked More
// before its last one.
type Response struct {
	OK     bool            `json:"ok"`
	Error  string          `json:"error,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	More   bool            `json:"more,omitempty"`
}

// Handler answers a call; it runs on the node's loop, so it may read the
// node's state directly. It answers with c.Reply, now or from a later loop
// event (a replicated write completes after agreement), and may stream
// items with c.Stream before that.
type Handler func(c *Call)

// Call is one request being answered. Reply, Stream and OnClose must be
// called on the node's loop.
type Call struct {
	Request
	out chan Response
	// overflow is closed when a stream fell callBuffer items behind.
	overflow chan struct{}
	mu       sync.Mutex
	// streaming is set by the first Stream: the call then has no deadline.
	streaming bool
	// done: no more answers (replied, or the stream overflowed); over: the
	// call has ended for good (client gone, overflow) and OnClose
	// functions run at once.
	done, over bool
	onClose    []func()
}

// callBuffer bounds the answers queued for one call: a watcher that does
// not read is cut off rather than buffered without limit.
const callBuffer = 1024

// Reply gives the call its final answer; later Replies and Streams are
// ignored.
func (c *Call) Reply(v any, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	c.done = true
	select {
	case c.out <- response(v, err, false):
	default:
		// The buffer is full of unread stream items: the client is told
		// it fell behind instead.
		c.overflowLocked()
	}
}

// Stream sends one item ahead of the final answer. It reports false once
// the client has gone or fallen callBuffer items behind; the call is then
// over and its OnClose functions have run.
func (c *Call) Stream(v any) bool {
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return false
	}
	c.streaming = true
	select {
	case c.out <- response(v, nil, true):
		c.mu.Unlock()
		return true
	default:
	}
	c.done = true
	c.overflowLocked()
	fs := c.endLocked()
	c.mu.Unlock()
	for _, f := range fs {
		f()
	}
	return false
}

// OnClose registers f to run on the loop when the call ends before its
// final answer: the client hangs up (a watch ends that way) or falls
// behind. On a call already ended, f runs at once.
func (c *Call) OnClose(f func()) {
	c.mu.Lock()
	if c.over {
		c.mu.Unlock()
		f()
		return
	}
	c.onClose = append(c.onClose, f)
	c.mu.Unlock()
}

func (c *Call) overflowLocked() {
	select {
	case <-c.overflow:
	default:
		close(c.overflow)
	}
}

// endLocked marks the call over and hands back its OnClose functions.
func (c *Call) endLocked() []func() {
	c.done, c.over = true, true
	f := c.onClose
	c.onClose = nil
	return f
}

func (c *Call) isStreaming() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streaming
}

// abandon ends the call from the connection's side and hands back what
// must run on the loop.
func (c *Call) abandon() []func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endLocked()
}

func response(v any, err error, more bool) Response {
	if err != nil {
		return Response{Error: err.Error()}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return Response{Error: err.Error()}
	}
	return Response{OK: true, Result: b, More: more}
}

// APIServer serves the local API on a unix socket (mode 0600, so only the
// node's user, root, may talk to it): one JSON request per line, one JSON
// response per line (several for a stream). Each request is handed to the
// node's loop and answered from there.
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

// callTimeout bounds the wait for a non-streaming answer.
const callTimeout = 10 * time.Second

func (s *APIServer) serve(c net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	// The reader runs apart from the writer so that a client hanging up in
	// the middle of a stream is noticed at once; stop releases it when
	// serve ends first.
	lines := make(chan []byte, 16)
	gone := make(chan struct{})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(gone)
		sc := bufio.NewScanner(c)
		sc.Buffer(make([]byte, 4096), maxRequest)
		for sc.Scan() {
			select {
			case lines <- append([]byte(nil), sc.Bytes()...):
			case <-stop:
				return
			}
		}
	}()
	enc := json.NewEncoder(c)
	for {
		var line []byte
		select {
		case line = <-lines:
		case <-gone:
			return
		}
		var req Request
		if err := json.Unmarshal(line, &req); err != nil {
			if enc.Encode(Response{Error: "bad request: " + err.Error()}) != nil {
				return
			}
			continue
		}
		if !s.answer(enc, req, gone) {
			return
		}
	}
}

// answer runs one call and writes its answers; false means the connection
// is finished.
func (s *APIServer) answer(enc *json.Encoder, req Request, gone <-chan struct{}) bool {
	call := &Call{Request: req, out: make(chan Response, callBuffer), overflow: make(chan struct{})}
	s.loop.Post(func() { s.handler(call) })
	deadline := time.NewTimer(callTimeout)
	defer deadline.Stop()
	abandon := func() {
		if fs := call.abandon(); len(fs) > 0 {
			s.loop.Post(func() {
				for _, f := range fs {
					f()
				}
			})
		}
	}
	for {
		select {
		case r := <-call.out:
			if err := enc.Encode(r); err != nil {
				abandon()
				return false
			}
			if !r.More {
				return true
			}
		case <-call.overflow:
			// Whatever was queued goes out, then the reason the stream
			// ended.
			for {
				select {
				case r := <-call.out:
					if r.More && enc.Encode(r) != nil {
						return false
					}
					continue
				default:
				}
				break
			}
			abandon()
			return enc.Encode(Response{Error: fmt.Sprintf("stream ended: the client fell %d items behind", callBuffer)}) == nil
		case <-gone:
			abandon()
			return false
		case <-deadline.C:
			if call.isStreaming() {
				continue
			}
			abandon()
			return enc.Encode(Response{Error: "the node did not answer within 10 s (its loop is busy or stopped); the outcome of a write is unknown"}) == nil
		}
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
	return StreamAPI(ctx, path, req, func(json.RawMessage) error {
		return fmt.Errorf("hanode answered %q with a stream", req.Cmd)
	}, out)
}

// StreamAPI sends one request and hands each streamed item to each, until
// the final answer (returned through out, if non-nil), an error from each,
// or ctx ends (then it returns ctx.Err()).
func StreamAPI(ctx context.Context, path string, req Request, each func(json.RawMessage) error, out any) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("cannot reach hanode at %s: %w", path, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return err
	}
	dec := json.NewDecoder(bufio.NewReader(c))
	for {
		var resp Response
		if err := dec.Decode(&resp); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("reading the answer from %s: %w", path, err)
		}
		if !resp.OK {
			return errors.New(resp.Error)
		}
		if !resp.More {
			if out != nil {
				return json.Unmarshal(resp.Result, out)
			}
			return nil
		}
		if err := each(resp.Result); err != nil {
			return err
		}
	}
}
