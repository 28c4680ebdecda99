package ocf

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// exitReasonPrefix marks the line an agent writes to stderr to explain a
// failure (ocf_exit_reason in ocf-shellfuncs); the runner also passes it as
// OCF_EXIT_REASON_PREFIX, as Pacemaker does.
const exitReasonPrefix = "ocf-exit-reason:"

// maxExitReason bounds Result.ExitReason in characters: it is shown on one
// line of hactl status.
const maxExitReason = 128

// tailBuffer keeps the last max bytes written to it. The agent's stdout and
// stderr are copied in by two goroutines, hence the lock. The tail is kept,
// not the head, because an agent's last words explain how it ended.
type tailBuffer struct {
	mu      sync.Mutex
	max     int
	buf     []byte
	dropped int64
}

func newTailBuffer(max int) *tailBuffer {
	return &tailBuffer{max: max}
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if len(p) >= t.max {
		t.dropped += int64(len(t.buf) + len(p) - t.max)
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return n, nil
	}
	if over := len(t.buf) + len(p) - t.max; over > 0 {
		t.dropped += int64(over)
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

// String returns the tail, starting at a character boundary, with a first
// line saying how much was dropped when anything was.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dropped == 0 {
		return string(t.buf)
	}
	b := t.buf
	skip := 0
	for skip < len(b) && skip < utf8.UTFMax && !utf8.RuneStart(b[skip]) {
		skip++
	}
	return fmt.Sprintf("[... %d bytes dropped]\n%s", t.dropped+int64(skip), b[skip:])
}

// cappedBuffer keeps everything up to max bytes and notes whether more
// came: meta-data must be whole or not at all.
type cappedBuffer struct {
	max      int
	buf      bytes.Buffer
	overflow bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	room := c.max - c.buf.Len()
	if len(p) > room {
		c.overflow = true
		c.buf.Write(p[:max(room, 0)])
		return len(p), nil
	}
	c.buf.Write(p)
	return len(p), nil
}

// exitReasonWriter watches stderr for exit-reason lines and keeps the last
// one. Only the start of each line is kept, so a runaway line costs no
// memory.
type exitReasonWriter struct {
	line    []byte
	long    bool // the current line outgrew line's capacity
	reason  string
	hasLine bool
}

// lineKeep is how much of a line is kept: enough for the prefix and
// maxExitReason characters of any width after some padding.
const lineKeep = len(exitReasonPrefix) + 64 + maxExitReason*utf8.UTFMax

func (w *exitReasonWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if room := lineKeep - len(w.line); room > 0 {
			w.line = append(w.line, chunk[:min(room, len(chunk))]...)
		}
		w.hasLine = true
		if i < 0 {
			break
		}
		w.endLine()
		p = p[i+1:]
	}
	return n, nil
}

func (w *exitReasonWriter) endLine() {
	if w.hasLine {
		if r, ok := parseExitReason(string(w.line)); ok {
			w.reason = r
		}
	}
	w.line = w.line[:0]
	w.hasLine = false
}

// Reason returns the last exit reason, counting a final line without a
// newline.
func (w *exitReasonWriter) Reason() string {
	w.endLine()
	return w.reason
}

func parseExitReason(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, exitReasonPrefix)
	if !ok {
		return "", false
	}
	return shorten(strings.TrimSpace(rest), maxExitReason), true
}

// shorten cuts s to at most n characters, turning invalid UTF-8 and
// control characters into spaces or replacement characters so an exit
// reason prints on one line.
func shorten(s string, n int) string {
	var b strings.Builder
	count := 0
	for _, r := range s {
		if count == n {
			break
		}
		if r < ' ' || r == 0x7f {
			r = ' '
		}
		b.WriteRune(r)
		count++
	}
	return strings.TrimSpace(b.String())
}
