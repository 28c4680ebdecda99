// Package evscheck checks what group-communication members deliver against
// the guarantees of totem with extended virtual synchrony, over every
// incarnation of every member, one event at a time:
//
//   - no member delivers a message twice, or a message nobody sent;
//   - within a regular configuration every member delivers one total order
//     (a member that has not caught up has delivered a prefix of it);
//   - every member that delivers a regular configuration agrees on its
//     member list;
//   - members that move together from one configuration to the next (same
//     old ring, same new ring, same transitional configuration) delivered
//     exactly the same messages in the old one.
//
// It is generic over the ring id so that the totem tests and the scenarios
// share it without importing each other.
package evscheck

import (
	"fmt"
	"slices"
)

// Checker holds the invariants' state across members.
type Checker[R comparable, N comparable] struct {
	sent    func(payload string) bool
	report  func(violation string)
	canon   map[R][]string
	members map[R][]N
	moves   map[string][]string
}

// New returns a checker. sent says whether a payload was ever sent; report
// receives each violation.
func New[R comparable, N comparable](sent func(string) bool, report func(string)) *Checker[R, N] {
	return &Checker[R, N]{sent: sent, report: report, canon: map[R][]string{}, members: map[R][]N{}, moves: map[string][]string{}}
}

// Member is one incarnation of one member: a restart is a new Member.
type Member[R comparable, N comparable] struct {
	c      *Checker[R, N]
	name   string
	seen   map[string]bool
	ring   *R
	inRing []string
	events int
}

// Member starts following a new incarnation.
func (c *Checker[R, N]) Member(name string) *Member[R, N] {
	return &Member[R, N]{c: c, name: name, seen: map[string]bool{}}
}

// Events counts what the incarnation delivered (messages and
// configurations), for callers that bound churn.
func (m *Member[R, N]) Events() int { return m.events }

// Regular records a regular configuration.
func (m *Member[R, N]) Regular(ring R, members []N) {
	m.events++
	c := m.c
	if prev, ok := c.members[ring]; ok && !slices.Equal(prev, members) {
		c.report(fmt.Sprintf("membership disagreement: ring %v is %v at one member and %v at %s", ring, prev, members, m.name))
	}
	c.members[ring] = slices.Clone(members)
	m.ring, m.inRing = &ring, nil
}

// Transitional records the transitional configuration into ring newRing.
func (m *Member[R, N]) Transitional(newRing R, members []N) {
	m.events++
	c := m.c
	if m.ring != nil {
		key := fmt.Sprintf("%v -> %v via %v", *m.ring, newRing, members)
		if first, ok := c.moves[key]; !ok {
			c.moves[key] = m.inRing
		} else if !slices.Equal(first, m.inRing) {
			c.report(fmt.Sprintf("virtual synchrony: members moving %s delivered %v and %v (%s) in the old ring", key, first, m.inRing, m.name))
		}
	}
	m.ring, m.inRing = nil, nil
}

// Deliver records an application message.
func (m *Member[R, N]) Deliver(payload string) {
	m.events++
	c := m.c
	if m.seen[payload] {
		c.report(fmt.Sprintf("%s delivered %q twice", m.name, payload))
	}
	if !c.sent(payload) {
		c.report(fmt.Sprintf("%s delivered %q, which nobody sent", m.name, payload))
	}
	m.seen[payload] = true
	if m.ring == nil {
		return
	}
	k := len(m.inRing)
	m.inRing = append(m.inRing, payload)
	canon := c.canon[*m.ring]
	if k < len(canon) && canon[k] != payload {
		c.report(fmt.Sprintf("total order: in ring %v, %s delivered %q as message %d, another member %q", *m.ring, m.name, payload, k, canon[k]))
	}
	if k == len(canon) {
		c.canon[*m.ring] = append(canon, payload)
	}
}

// Moved reports whether some members moved from one ring into newRing with
// the given transitional membership (its rendering, fmt.Sprint of the
// member slice).
func (c *Checker[R, N]) Moved(newRing R, members string) bool {
	suffix := fmt.Sprintf("-> %v via %s", newRing, members)
	for k := range c.moves {
		if len(k) >= len(suffix) && k[len(k)-len(suffix):] == suffix {
			return true
		}
	}
	return false
}
