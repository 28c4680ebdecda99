// Package env is the contract between a hakit node and the world it runs in.
//
// A node never touches the operating system directly: it gets a Clock, a
// Transport, a Disk, labelled random streams and a Buggify switch through an
// Env. The production adapters (node/runtime, transport/udp, agents/ocf)
// implement them with real time, sockets and files; the simulator (sim)
// implements them from one seed, so the same node code runs unchanged in both
// and a simulated run replays byte for byte.
//
// Every node runs on one event loop. Timer callbacks, received frames, agent
// results and API requests are events handled to completion, one at a time;
// every method of the interfaces below is called from that loop, and every
// callback they take is run on it. This package is a leaf: standard library
// only, so sim can implement it without importing any protocol.
package env

import (
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
)

// Mono is a reading of a node's monotonic clock: nanoseconds since the node
// started. It never goes backwards, but it may jump forwards, by as much as a
// pause of the whole process (SIGSTOP, a frozen VM); protocols that must not
// act on stale timers compare successive readings to notice such jumps.
type Mono int64

// Add returns m moved forward by d.
func (m Mono) Add(d time.Duration) Mono { return m + Mono(d) }

// Sub returns the duration m - o.
func (m Mono) Sub(o Mono) time.Duration { return time.Duration(m - o) }

// String renders m as seconds since node start with nanosecond precision, a
// form that is stable across platforms and so safe to put in traces.
func (m Mono) String() string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s%d.%09d", sign, int64(m)/1e9, int64(m)%1e9)
}

// Clock gives a node its two notions of time.
type Clock interface {
	// Now is wall time: CIB timestamps, date rules, log lines. It may be
	// skewed or stepped (the simulator does both); never use it for timeouts.
	Now() time.Time
	// Mono is the monotonic reading all timeouts and round-trip times use.
	Mono() Mono
	// AfterFunc runs f on the node's event loop once d has passed on the
	// monotonic clock. A negative or zero d runs f as soon as possible, but
	// never from inside AfterFunc itself.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop prevents the callback from running. It reports whether it did so:
	// false means the callback already ran or the timer was already stopped.
	// Because Stop and the callback both run on the event loop, a true result
	// is a guarantee, not a race.
	Stop() bool
}

// NodeID names a cluster member, like Corosync's nodeid. Zero is not a valid
// node.
type NodeID uint32

// LinkID names one of a node's links (ring0_addr is link 0, ring1_addr link
// 1, ...), like a knet link number.
type LinkID uint8

// MaxLinks is the number of links a node may have, as in knet.
const MaxLinks = 8

// MaxFrameSize bounds one datagram: the most one UDP datagram carries over
// IPv4 (65535 - 8 - 20). Larger frames are refused by Send and Broadcast
// rather than fragmented: the messaging layer packs its own.
const MaxFrameSize = 65507

// ErrFrameTooLarge is returned by Send and Broadcast for frames above
// MaxFrameSize.
var ErrFrameTooLarge = errors.New("frame larger than env.MaxFrameSize")

// ErrUnknownLink is returned for a LinkID the node does not have.
var ErrUnknownLink = errors.New("unknown link")

// ErrUnknownNode is returned by Send for a destination not reachable by
// name on any link (not in the nodelist).
var ErrUnknownNode = errors.New("unknown node")

// Receiver gets each datagram that reaches the node. link and from say where
// it came from (the transport knows the sender from its address, not from
// anything inside the frame, which is untrusted); at is the monotonic time of
// arrival, stamped as close to the wire as the transport can. The frame is
// the receiver's to keep.
type Receiver func(link LinkID, from NodeID, frame []byte, at Mono)

// Transport sends unreliable datagrams: frames may be lost, duplicated,
// reordered or delayed, never corrupted undetected (the wire layer above
// authenticates them anyway).
type Transport interface {
	// Links lists the node's links in ascending order.
	Links() []LinkID
	// Send queues one frame to one node on one link. A nil error says only
	// that the frame was accepted, not that it will arrive. The frame may be
	// reused by the caller once Send returns.
	Send(link LinkID, to NodeID, frame []byte) error
	// Broadcast sends one frame to every other node on the link.
	Broadcast(link LinkID, frame []byte) error
	// SetReceiver installs the function called, on the event loop, for each
	// frame that arrives. Frames arriving before it is set are dropped.
	SetReceiver(r Receiver)
}

// Disk is the node's durable storage: a flat namespace of small files whose
// names CheckDiskName accepts.
type Disk interface {
	// ReadFile returns the file's current contents, including writes not yet
	// synced. A missing file gives an error matching fs.ErrNotExist.
	ReadFile(name string) ([]byte, error)
	// WriteFile replaces the file's contents without syncing: a crash before
	// Sync may lose the write (the simulator always loses it).
	WriteFile(name string, data []byte) error
	// Sync makes the last WriteFile of the file durable.
	Sync(name string) error
	// WriteFileAtomic replaces the file durably and atomically (temporary
	// file, fsync, rename): after a crash the old or the new contents are
	// there in full, never a mix. When it returns nil the new contents are
	// durable.
	WriteFileAtomic(name string, data []byte) error
}

// CheckDiskName accepts the names a Disk stores: one path element, not
// "." or "..", and not starting with ".tmp-" (reserved for atomic writes).
// Every Disk, real or simulated, applies the same rule, so a name that
// works in the simulator works in production.
func CheckDiskName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") || strings.HasPrefix(name, ".tmp-") {
		return fmt.Errorf("disk: invalid file name %q (a flat name is required)", name)
	}
	return nil
}

// Loop accepts events for a node's event loop from outside it: results of
// asynchronous work (an agent finishing) and requests from local clients.
type Loop interface {
	// Post queues f to run on the loop after the events already queued. It
	// is the only method of the Env that may be called from any goroutine.
	Post(f func())
}

// Buggify reports whether a rare branch should be taken at the named site
// (FoundationDB's BUGGIFY): shrink a buffer, delay a message, take the slow
// path. Sites are string constants like "totem/delay-token-forward". It is
// always false in production; in the simulator a site is activated once per
// run with probability 1/4 and then fires with probability 1/4. A site may
// change timing and choose among correct behaviours, never semantics.
type Buggify func(site string) bool

// Never is the production Buggify.
func Never(string) bool { return false }

// Env is everything a node gets from its world.
type Env struct {
	// Node is this member's id.
	Node NodeID
	// Clock, Transport, Disk and Loop are described above.
	Clock     Clock
	Transport Transport
	Disk      Disk
	Loop      Loop
	// Rand returns the random stream with the given label ("totem",
	// "election", ...). Each label has its own stream, so a component's
	// draws do not shift when another component draws more or less; asking
	// twice for a label returns a fresh stream from the same seed.
	Rand func(label string) *rand.Rand
	// Buggify is Never in production.
	Buggify Buggify
	// Log is the node's logger. In the simulator its records go into the
	// world's trace, stamped with virtual time.
	Log *slog.Logger
}

// DeriveRand returns a PCG stream determined by the root seed and the label
// alone. Labels are slash-separated paths ("node/2/totem", "net/private") so
// that adding a node or a network segment never changes another stream.
func DeriveRand(root uint64, label string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(label))
	s1 := splitmix64(root ^ h.Sum64())
	s2 := splitmix64(s1 ^ 0x9e3779b97f4a7c15)
	return rand.New(rand.NewPCG(s1, s2))
}

// splitmix64 spreads nearby seeds (7 and 8) into unrelated PCG states.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
