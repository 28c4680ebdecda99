package scenarios

import (
	"fmt"
	"slices"
	"time"

	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/transport/totem"
)

func init() {
	register(Scenario{Name: "token-loss", Summary: "2-3 members under load: scattered token drops are retransmitted with no membership change; all tokens of one member lost: token loss declared within the token timeout; one member silent on totem, or paused 1.5x the token: the others re-form within the bound; one ring and full delivery after each", Run: runTokenLoss})
}

// runTokenLoss loses the token in the ways totem is built to survive, one
// phase after another, each starting from a steady ring of all members and
// ending with every member delivering a final message from each:
//
//  1. scattered drops: tokens are dropped at random, but never more than
//     token_retransmits_before_loss_const-1 within one token timeout, so
//     the sender's token retransmission always brings the token round
//     before anyone's token timer expires. No membership change is allowed,
//     and everything sent meanwhile is delivered everywhere.
//  2. token black hole: every token one member sends vanishes, for token +
//     consensus + 1 s. Every member must declare the token lost within
//     the token timeout (+200 ms) of the first lost token. What follows
//     need not be a membership: the victim still sends joins, so every
//     gathering takes it back in and every ring so formed stalls at it
//     again (only the victim itself may install one, when it is the last
//     member of the ring and so sees the first token with nothing left
//     pending). Totem promises safety here, which the cluster checks at
//     every event, and one ring once the tokens flow again.
//  3. silent member: everything totem one member sends vanishes (tokens,
//     joins, commit tokens, messages) while its links still answer pings,
//     so the link layer sees no fault and only totem's consensus timeout
//     can exclude it. The others must deliver a membership without it
//     within token + consensus + 200 ms of its first lost token.
//  4. pause: one member is stopped (SIGSTOP) for 1.5x the token timeout.
//     The others must deliver a new membership within token + consensus +
//     200 ms of the pause (two members: consensus + 200 ms of the resume,
//     see pause), and the frozen member must notice its pause.
func runTokenLoss(r *Run) {
	opts := r.W.Rand("options")
	n := 2 + opts.IntN(2)
	names := nodeNames(n)
	c := NewRingCluster(r, names, ReferenceConf(names, "", ""))
	if !c.formed() {
		return
	}
	tl := &tokenLoss{r: r, c: c, n: n, tok: c.Conf.EffectiveToken(), cons: c.Conf.EffectiveConsensus()}
	for range n {
		tl.delivered = append(tl.delivered, map[string]bool{})
	}
	c.OnDeliver = func(i int, _ totem.RingID, _ env.NodeID, payload []byte) { tl.delivered[i][string(payload)] = true }
	tl.startLoad(200 * time.Millisecond)
	// Steady before the first phase: a ring formed while links were still
	// coming up may re-form once.
	c.finalDelivery(5 * time.Second)
	faults := r.W.Rand("faults")
	if !tl.scattered(r.W.Rand("drops"), between(faults, 10*time.Second, 15*time.Second)) {
		return
	}
	if !tl.blackHole(faults.IntN(n)) {
		return
	}
	if !tl.silent(faults.IntN(n)) {
		return
	}
	tl.pause(faults.IntN(n))
}

type tokenLoss struct {
	r *Run
	c *RingCluster
	n int
	// tok and cons are the effective token and consensus timeouts.
	tok, cons time.Duration
	// recording collects what the load sends while set.
	recording bool
	recorded  []string
	// delivered[i] holds every application message member i delivered.
	delivered []map[string]bool
}

// startLoad has every live member send a message every interval, as
// RingCluster.load does, recording what it sends while t.recording is set.
func (t *tokenLoss) startLoad(every time.Duration) {
	var tick func()
	tick = func() {
		for i := range t.c.Hosts {
			if !t.c.live(i) {
				continue
			}
			if msg := t.c.Send(i); msg != "" && t.recording && t.c.sent[msg] {
				t.recorded = append(t.recorded, msg)
			}
		}
		t.r.W.After(every, "", tick)
	}
	t.r.W.After(every, "", tick)
}

// ringSums adds up one ring statistic over every member.
func (t *tokenLoss) ringSums(f func(totem.Stats) uint64) uint64 {
	var sum uint64
	for _, m := range t.c.Members {
		if m != nil {
			sum += f(m.Ring().Stats())
		}
	}
	return sum
}

// scattered drops tokens at random for d: each token frame with
// probability p (10-30 %), but at most token_retransmits_before_loss_const
// - 1 in any token timeout. A lost token costs one token retransmit
// interval R = token/(const+0.2); a member's token timer, started when it
// last had the token, also covers at most one hold (0.8 R) of an idle
// representative, so with const = 4 the worst gap is 3R + 0.8R = 0.9
// token: the retransmissions always win.
func (t *tokenLoss) scattered(rng interface{ Float64() float64 }, d time.Duration) bool {
	r, c := t.r, t.c
	p := 0.1 + 0.2*rng.Float64()
	budget := max(c.Conf.Totem.TokenRetransmitsBeforeLossConst-1, 0)
	var recent []time.Duration
	dropped := 0
	retransmits := t.ringSums(func(s totem.Stats) uint64 { return s.TokenRetransmits })
	start := r.W.Now()
	t.recording, t.recorded = true, nil
	c.DropTotem = func(host int, to env.NodeID, m totem.Message) bool {
		if _, ok := m.(*totem.Token); !ok {
			return false
		}
		now := r.W.Now()
		recent = slices.DeleteFunc(recent, func(at time.Duration) bool { return now-at >= t.tok })
		if len(recent) >= budget || rng.Float64() >= p {
			return false
		}
		recent = append(recent, now)
		dropped++
		return true
	}
	r.W.RunFor(d)
	c.DropTotem = nil
	t.recording = false
	phase := slices.Clone(t.recorded)
	r.Figure("drop_probability", p, "")
	r.Figure("tokens_dropped", float64(dropped), "")
	if k := c.regularsSince(start); k != 0 {
		r.Violationf("scattered token drops (%d in %v, at most %d per token timeout %v) changed the membership %d times", dropped, d, budget, t.tok, k)
		return false
	}
	if dropped == 0 {
		r.Violationf("no token dropped in %v with p=%.2f", d, p)
	}
	// Everything sent during the phase reaches every member in the ring it
	// was sent in; the backlog built up while the token was missing drains
	// once it circulates freely.
	missing := func() []string {
		var out []string
		for _, msg := range phase {
			for i := range t.delivered {
				if !t.delivered[i][msg] {
					out = append(out, fmt.Sprintf("%s at %s", msg, c.Hosts[i].Name()))
					break
				}
			}
		}
		return out
	}
	if _, ok := c.Await(5*time.Second, func() bool { return len(missing()) == 0 }); !ok {
		m := missing()
		r.Violationf("%d of the %d messages sent during the token drops not delivered everywhere 5 s later, e.g. %v", len(m), len(phase), m[:min(len(m), 3)])
		return false
	}
	r.W.RunFor(t.tok)
	r.Figure("token_retransmits", float64(t.ringSums(func(s totem.Stats) uint64 { return s.TokenRetransmits })-retransmits), "")
	if k := c.regularsSince(start); k != 0 {
		r.Violationf("membership changed %d times after the scattered token drops", k)
		return false
	}
	return true
}

// firstRegular returns when host i first delivered, at or after from, a
// regular configuration satisfying ok.
func (t *tokenLoss) firstRegular(i int, from time.Duration, ok func(ConfigSeen) bool) (time.Duration, bool) {
	for _, s := range t.c.RegularAt[i] {
		if s.At >= from && ok(s) {
			return s.At, true
		}
	}
	return 0, false
}

// others returns every member index but v.
func (t *tokenLoss) others(v int) []int {
	var out []int
	for i := range t.n {
		if i != v {
			out = append(out, i)
		}
	}
	return out
}

// heal waits for one ring of all once a fault is lifted, reports how long
// it took as figure, and checks final delivery.
func (t *tokenLoss) heal(figure string) bool {
	took, ok := t.c.Await(30*time.Second, func() bool { return t.c.OneRing(t.c.All()...) })
	if !ok {
		t.r.Violationf("%s: no ring of all %d members within 30 s", figure, t.n)
		return false
	}
	t.r.Figure(figure, ms(took), "ms")
	before := t.r.violationCount
	t.c.finalDelivery(5 * time.Second)
	return t.r.violationCount == before
}

// blackHole drops every token member v sends, for token + consensus + 1 s.
func (t *tokenLoss) blackHole(v int) bool {
	r, c := t.r, t.c
	base := make([]uint64, t.n)
	gathered := make([]time.Duration, t.n)
	for i, m := range c.Members {
		base[i], gathered[i] = m.Ring().Stats().Gathers, -1
	}
	first := time.Duration(-1)
	c.DropTotem = func(host int, to env.NodeID, m totem.Message) bool {
		if _, ok := m.(*totem.Token); !ok || host != v {
			return false
		}
		if first < 0 {
			first = r.W.Now()
		}
		return true
	}
	start := r.W.Now()
	c.Await(t.tok+t.cons+time.Second, func() bool {
		for i, m := range c.Members {
			if gathered[i] < 0 && m.Ring().Stats().Gathers > base[i] {
				gathered[i] = r.W.Now()
			}
		}
		return false
	})
	c.DropTotem = nil
	r.Figure("blackhole_configurations", float64(c.regularsSince(start)), "")
	if first < 0 {
		r.Violationf("%s sent no token in %v", c.Hosts[v].Name(), r.W.Now()-start)
		return false
	}
	bound := t.tok + 200*time.Millisecond
	var detect time.Duration
	for i := range t.n {
		if gathered[i] < 0 || gathered[i]-first > bound {
			r.Violationf("every token %s sends is lost from %v: %s did not declare the token lost within token+200ms = %v (gathering since %v)",
				c.Hosts[v].Name(), first, c.Hosts[i].Name(), bound, gathered[i])
			continue
		}
		detect = max(detect, gathered[i]-first)
	}
	r.Figure(fmt.Sprintf("blackhole_detect_ms_%dnodes", t.n), ms(detect), "ms")
	return t.heal("blackhole_heal_ms")
}

// silent drops everything totem member v sends, for token + consensus +
// 1 s; its links stay up.
func (t *tokenLoss) silent(v int) bool {
	r, c := t.r, t.c
	first := time.Duration(-1)
	c.DropTotem = func(host int, to env.NodeID, m totem.Message) bool {
		if host != v {
			return false
		}
		if _, ok := m.(*totem.Token); ok && first < 0 {
			first = r.W.Now()
		}
		return true
	}
	start := r.W.Now()
	r.W.RunFor(t.tok + t.cons + time.Second)
	c.DropTotem = nil
	if first < 0 {
		r.Violationf("%s sent no token in %v", c.Hosts[v].Name(), r.W.Now()-start)
		return false
	}
	vid := c.Hosts[v].Node()
	without := func(s ConfigSeen) bool { return !slices.Contains(s.Members, vid) }
	bound := t.tok + t.cons + 200*time.Millisecond
	var reform time.Duration
	for _, i := range t.others(v) {
		at, ok := t.firstRegular(i, start, without)
		if !ok || at-first > bound {
			r.Violationf("%s silent on totem from its first lost token at %v: %s delivered no membership without it within token+consensus+200ms = %v",
				c.Hosts[v].Name(), first, c.Hosts[i].Name(), bound)
			continue
		}
		reform = max(reform, at-first)
	}
	r.Figure(fmt.Sprintf("silent_reform_ms_%dnodes", t.n), ms(reform), "ms")
	if at, ok := t.firstRegular(v, start, func(s ConfigSeen) bool { return len(s.Members) == 1 }); ok {
		r.Figure("silent_alone_ms", ms(at-first), "ms")
	}
	return t.heal("silent_merge_ms")
}

// pause stops member v for 1.5 token timeouts.
func (t *tokenLoss) pause(v int) {
	r, c := t.r, t.c
	old := c.Members[v].Ring().RingID()
	pauses := c.Members[v].Status().Pauses
	start := r.W.Now()
	frozen := t.tok * 3 / 2
	c.Procs[v].Pause()
	r.W.RunFor(frozen)
	c.Procs[v].Resume()
	// Three or more: the others stop hearing the frozen member's pongs
	// after the knet ping timeout (token/2), exclude it, and form their
	// ring when the token timeout expires, well within token + consensus.
	// Two: the survivor, alone, waits for consensus before forming a ring
	// of one, and the frozen member is back before that (1.5 tokens <
	// token + consensus = 2.2 tokens); its links come up again, which
	// restarts the survivor's consensus round, so the bound runs from the
	// resume: consensus + 200 ms.
	bound, what := t.tok+t.cons+200*time.Millisecond, "token+consensus+200ms of the pause"
	if t.n == 2 {
		bound, what = frozen+t.cons+200*time.Millisecond, "consensus+200ms of the resume"
	}
	newRing := func(s ConfigSeen) bool { return s.Ring != old }
	r.W.RunUntil(start + bound)
	var reform time.Duration
	for _, i := range t.others(v) {
		at, ok := t.firstRegular(i, start, newRing)
		if !ok {
			r.Violationf("%s paused at %v for %v: %s delivered no new membership within %s (%v after the pause)",
				c.Hosts[v].Name(), start, frozen, c.Hosts[i].Name(), what, bound)
			continue
		}
		reform = max(reform, at-start)
	}
	r.Figure(fmt.Sprintf("pause_reform_ms_%dnodes", t.n), ms(reform), "ms")
	if !t.heal("pause_rejoin_ms") {
		return
	}
	// Checked once the resumed member has run what came due while it was
	// stopped.
	if got := c.Members[v].Status().Pauses; got == pauses {
		r.Violationf("%s paused for %v did not notice (Status().Pauses still %d)", c.Hosts[v].Name(), frozen, got)
	}
}
