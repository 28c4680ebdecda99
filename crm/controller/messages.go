package controller

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hakit/hakit/node/env"
)

// The controllers of a partition talk only through their process group,
// so every member sees every message in the same order (virtual
// synchrony): each applies the same sequence to its copy of the CIB, and
// the copies stay identical without a second round of agreement.
type msgKind string

const (
	// kindJoin: after a membership change every member announces its CIB
	// (configuration and versions) and its own node's status; once all
	// announcements of the configuration are in, the members agree.
	kindJoin msgKind = "join"
	// kindConfig replaces the configuration section (hactl configure).
	kindConfig msgKind = "config"
	// kindExec is the DC handing one action of a transition to a node.
	kindExec msgKind = "exec"
	// kindResult is a node reporting how an operation ended.
	kindResult msgKind = "result"
	// kindAttr sets or deletes a node attribute (attrd's job).
	kindAttr msgKind = "attr"
	// kindFenced reports a node fenced: it is down, its resources with it.
	kindFenced msgKind = "fenced"
	// kindQuorum is the DC announcing that the partition gained or lost
	// quorum: every member applies the DC's view at the same point of the
	// stream (their own views change at slightly different moments).
	kindQuorum msgKind = "quorum"
	// kindIdle is the DC saying its transition is complete and nothing
	// is pending: the other members then know the partition is idle
	// (hactl -w waits for it on any node).
	kindIdle msgKind = "idle"
	// kindCleanup forgets a resource's history and fail counts on a node
	// (or all nodes), as crm_resource --cleanup: the DC probes it again.
	kindCleanup msgKind = "cleanup"
)

// message is the one wire shape; Kind says which fields matter. JSON keeps
// it readable in traces; maps in it are encoded sorted, so encoding is
// deterministic.
type message struct {
	Kind msgKind    `json:"k"`
	From env.NodeID `json:"from"`
	// Ring is the membership the join belongs to.
	Ring uint64 `json:"ring,omitempty"`
	// CIB is a whole CIB (join: with this node's own node_state only;
	// config: without status).
	CIB string `json:"cib,omitempty"`
	// Request numbers a config change per sender, so the sender can tell
	// its caller how it went.
	Request uint64 `json:"req,omitempty"`
	// Quorate is the sender's view of quorum (join, quorum).
	Quorate bool `json:"q,omitempty"`

	// exec and result
	Transition int           `json:"tr,omitempty"`
	Action     int           `json:"act,omitempty"`
	Node       env.NodeID    `json:"node,omitempty"` // who runs it, whom an attribute or a fencing is about
	Resource   string        `json:"rsc,omitempty"`
	Primitive  string        `json:"prim,omitempty"`
	Task       string        `json:"task,omitempty"`
	Interval   time.Duration `json:"iv,omitempty"`
	RC         int           `json:"rc,omitempty"`
	ExpectedRC int           `json:"erc,omitempty"`
	OpStatus   int           `json:"st,omitempty"`
	Call       int64         `json:"call,omitempty"`
	ExitReason string        `json:"why,omitempty"`
	Recurring  bool          `json:"rec,omitempty"` // a recurring monitor's change of result
	// At is when the executing node got the result, in epoch seconds of
	// its wall clock: carried so that every member records the same time
	// (last-failure, for failure-timeout).
	At int64 `json:"at,omitempty"`

	// attr
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
	// Delete removes the attribute (Value is ignored).
	Delete bool `json:"del,omitempty"`
}

func (m message) encode() []byte {
	b, err := json.Marshal(m)
	if err != nil {
		// Every field is a plain value: Marshal cannot fail on it.
		panic(fmt.Sprintf("controller: encoding a message: %v", err))
	}
	return b
}

// decodeMessage reads a message from the group; anything malformed is an
// error (the caller drops and counts it, never panics).
func decodeMessage(b []byte) (message, error) {
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return message{}, fmt.Errorf("controller message: %w", err)
	}
	switch m.Kind {
	case kindJoin, kindConfig:
		if m.CIB == "" {
			return message{}, fmt.Errorf("controller message %s from node %d: no CIB", m.Kind, m.From)
		}
	case kindExec, kindResult:
		if m.Node == 0 || m.Task == "" || m.Resource == "" {
			return message{}, fmt.Errorf("controller message %s from node %d: no node, task or resource", m.Kind, m.From)
		}
		// A resource action names its primitive and an instance of it.
		if m.Task != "fence" && (m.Primitive == "" || m.Resource != m.Primitive && !strings.HasPrefix(m.Resource, m.Primitive+":")) {
			return message{}, fmt.Errorf("controller message %s from node %d: resource %q is not an instance of primitive %q", m.Kind, m.From, m.Resource, m.Primitive)
		}
	case kindAttr:
		if m.Node == 0 || m.Name == "" {
			return message{}, fmt.Errorf("controller message attr from node %d: no node or name", m.From)
		}
	case kindFenced:
		if m.Node == 0 {
			return message{}, fmt.Errorf("controller message fenced from node %d: no node", m.From)
		}
	case kindQuorum, kindIdle:
	case kindCleanup:
		if m.Resource == "" {
			return message{}, fmt.Errorf("controller message cleanup from node %d: no resource", m.From)
		}
	default:
		return message{}, fmt.Errorf("controller message from node %d: unknown kind %q", m.From, m.Kind)
	}
	if m.From == 0 {
		return message{}, fmt.Errorf("controller message %s: no sender", m.Kind)
	}
	return m, nil
}
