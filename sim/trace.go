package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"strconv"
	"time"
)

// Trace is the record of a run: one line per event that matters (frames,
// faults, bond and process state changes, effects, node log records),
// hashed as it is written. Two runs with the same seed produce the same
// lines and so the same hash; the first differing line is where a
// non-determinism shows.
type Trace struct {
	sum   hash.Hash
	out   io.Writer
	err   error
	lines uint64
	buf   []byte
}

func newTrace() *Trace { return &Trace{sum: sha256.New()} }

// record renders "<seconds>.<ns> <who> <what> <detail>\n".
func (t *Trace) record(at time.Duration, who, what, detail string) {
	b := t.buf[:0]
	b = strconv.AppendInt(b, int64(at/time.Second), 10)
	b = append(b, '.')
	ns := int64(at % time.Second)
	for div := int64(1e8); div > 0; div /= 10 {
		b = append(b, byte('0'+ns/div%10))
	}
	b = append(b, ' ')
	b = append(b, who...)
	b = append(b, ' ')
	b = append(b, what...)
	if detail != "" {
		b = append(b, ' ')
		b = append(b, detail...)
	}
	b = append(b, '\n')
	t.buf = b
	t.sum.Write(b)
	t.lines++
	if t.out != nil && t.err == nil {
		_, t.err = t.out.Write(b)
	}
}

// Hash returns the hex SHA-256 of every line so far.
func (t *Trace) Hash() string { return hex.EncodeToString(t.sum.Sum(nil)) }

// Lines returns how many lines were recorded.
func (t *Trace) Lines() uint64 { return t.lines }

// Err returns the first error writing the trace out, if any.
func (t *Trace) Err() error { return t.err }
