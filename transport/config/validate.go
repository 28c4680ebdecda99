package config

import (
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// maxMs is the largest duration Corosync can hold: its timers are uint32
// milliseconds.
const maxMs = time.Duration(math.MaxUint32) * time.Millisecond

// Validate checks the cross-field rules Corosync enforces at start-up (and
// a few it only logs about, where hakit refuses instead). Parse runs it; a
// Config built in code should run it before use. Errors name the line the
// offending value came from when the Config was parsed.
func (c *Config) Validate() error {
	errs := c.validate()
	if len(errs) == 0 {
		return nil
	}
	return capErrors(c.fileName(), errs)
}

type checker struct {
	c    *Config
	errs []error
}

func (c *Config) validate() []error {
	v := &checker{c: c}
	v.totem()
	v.interfaces()
	v.nodes()
	v.quorum()
	v.logging()
	return v.errs
}

// File is the name Parse was given: what every warning and error starts
// with. It is "" for a Config built in code.
func (c *Config) File() string { return c.file }

func (c *Config) fileName() string {
	if c.file == "" {
		return "config"
	}
	return c.file
}

// at returns the line the first listed key path was set on, falling back
// to the next; 0 if none was.
func (c *Config) at(paths ...string) int {
	for _, p := range paths {
		if l := c.lines[p]; l > 0 {
			return l
		}
	}
	return 0
}

func (v *checker) errorf(line int, format string, args ...any) {
	v.errs = append(v.errs, &Error{v.c.fileName(), line, fmt.Sprintf(format, args...)})
}

func (v *checker) unsupported(line int, option, reason string) {
	v.errs = append(v.errs, &UnsupportedError{v.c.fileName(), line, option, reason})
}

func fmtMs(d time.Duration) string {
	if d%time.Millisecond == 0 {
		return fmt.Sprintf("%d ms", d/time.Millisecond)
	}
	return d.String()
}

func (v *checker) totem() {
	c, t := v.c, &v.c.Totem
	if t.Version != 2 {
		if l := c.at("totem.version"); l > 0 {
			v.errorf(l, "totem.version: want 2 (the only version Corosync reads), got %d", t.Version)
		} else {
			v.errorf(c.at("totem"), "totem.version is required: add version: 2 to the totem section")
		}
	}
	if !slices.Contains([]string{"knet", "udp", "udpu"}, t.Transport) {
		v.errorf(c.at("totem.transport"), "totem.transport: want knet, udp or udpu, got %q", t.Transport)
	}
	switch t.LinkMode {
	case "passive", "active":
	case "rr":
		v.unsupported(c.at("totem.link_mode"), "totem.link_mode: rr", "round-robin is not supported; use passive or active")
	default:
		v.errorf(c.at("totem.link_mode"), "totem.link_mode: want passive or active, got %q", t.LinkMode)
	}
	if !slices.Contains([]string{"ipv4", "ipv6", "ipv4-6", "ipv6-4"}, t.IPVersion) {
		v.errorf(c.at("totem.ip_version"), "totem.ip_version: want ipv4, ipv6, ipv4-6 or ipv6-4, got %q", t.IPVersion)
	}
	switch {
	case t.CryptoCipher == "none":
		v.unsupported(c.at("totem.crypto_cipher"), "totem.crypto_cipher: none", "hakit always encrypts cluster traffic")
	case !slices.Contains([]string{"aes256", "aes192", "aes128"}, t.CryptoCipher):
		v.errorf(c.at("totem.crypto_cipher"), "totem.crypto_cipher: want aes256, aes192 or aes128, got %q", t.CryptoCipher)
	}
	switch {
	case t.CryptoHash == "none":
		v.unsupported(c.at("totem.crypto_hash"), "totem.crypto_hash: none", "hakit always authenticates cluster traffic")
	case !slices.Contains([]string{"md5", "sha1", "sha256", "sha384", "sha512"}, t.CryptoHash):
		v.errorf(c.at("totem.crypto_hash"), "totem.crypto_hash: want sha256, sha384, sha512, sha1 or md5, got %q", t.CryptoHash)
	}
	if t.KeyFile == "" {
		v.errorf(c.at("totem.keyfile"), "totem.keyfile is empty")
	}

	// Lower bounds are Corosync's (totem_volatile_config_validate): three
	// 10 ms kernel ticks, less for hold. A zero optional value means
	// "derived" and is checked below through the Effective methods.
	durs := []struct {
		key      string
		d        time.Duration
		min      time.Duration
		optional bool
	}{
		{"token", t.Token, minTimeout, false},
		{"token_coefficient", t.TokenCoefficient, 0, false},
		{"token_retransmit", t.TokenRetransmit, minTimeout, true},
		{"hold", t.Hold, minHold, true},
		{"join", t.Join, minTimeout, false},
		{"send_join", t.SendJoin, 0, false},
		{"consensus", t.Consensus, minTimeout, true},
		{"merge", t.Merge, minTimeout, false},
		{"downcheck", t.Downcheck, minTimeout, false},
	}
	ok := true
	for _, x := range durs {
		if x.optional && x.d == 0 {
			continue
		}
		if x.d < x.min || x.d > maxMs {
			v.errorf(c.at("totem."+x.key), "totem.%s %s is out of range: want %s..%s", x.key, fmtMs(x.d), fmtMs(x.min), fmtMs(maxMs))
			ok = false
		}
	}
	counts := []struct {
		key string
		n   int
	}{
		{"token_retransmits_before_loss_const", t.TokenRetransmitsBeforeLossConst},
		{"fail_recv_const", t.FailRecvConst},
		{"seqno_unchanged_const", t.SeqnoUnchangedConst},
		{"max_messages", t.MaxMessages},
		{"window_size", t.WindowSize},
		{"miss_count_const", t.MissCountConst},
	}
	for _, x := range counts {
		if x.n < 1 || int64(x.n) > math.MaxUint32 {
			v.errorf(c.at("totem."+x.key), "totem.%s %d is out of range: want 1..%d", x.key, x.n, uint32(math.MaxUint32))
			ok = false
		}
	}
	if t.TokenWarning < 0 || t.TokenWarning > 100 {
		v.errorf(c.at("totem.token_warning"), "totem.token_warning %d is out of range: want 0..100 (percent)", t.TokenWarning)
	}
	if !ok || len(c.Nodes) > MaxNodes {
		return // the derived values below would be meaningless or overflow
	}
	tok := c.EffectiveToken()
	if tok > maxMs {
		v.errorf(c.at("totem.token_coefficient", "totem.token"), "effective token %s (token + (nodes-2)*token_coefficient) exceeds %s", fmtMs(tok), fmtMs(maxMs))
		return
	}
	if t.TokenRetransmit == 0 && c.EffectiveTokenRetransmit() < minTimeout {
		v.errorf(c.at("totem.token", "totem.token_retransmits_before_loss_const"),
			"effective token %s with token_retransmits_before_loss_const %d gives a token retransmit of %s, below the %s minimum: raise token or lower the retransmit count",
			fmtMs(tok), t.TokenRetransmitsBeforeLossConst, c.EffectiveTokenRetransmit(), fmtMs(minTimeout))
	}
	if cons := c.EffectiveConsensus(); cons < t.Join {
		// A derived consensus is too short because of token.
		v.errorf(c.at("totem.consensus", "totem.join", "totem.token", "totem.token_coefficient"),
			"consensus %s may not be less than join %s", fmtMs(cons), fmtMs(t.Join))
	}
}

func (v *checker) interfaces() {
	c := v.c
	links := c.Links()
	seen := map[int]int{}
	for _, ifc := range c.Totem.Interfaces {
		at := func(key string) int {
			if l := ifc.keyLines[key]; l > 0 {
				return l
			}
			return ifc.Line
		}
		if ifc.LinkNumber < 0 || ifc.LinkNumber >= MaxLinks {
			v.errorf(at("linknumber"), "interface linknumber %d is out of range 0..%d", ifc.LinkNumber, MaxLinks-1)
			continue
		}
		if first, dup := seen[ifc.LinkNumber]; dup {
			v.errorf(ifc.Line, "a second interface block for linknumber %d (the first is on line %d)", ifc.LinkNumber, first)
			continue
		}
		seen[ifc.LinkNumber] = ifc.Line
		// Corosync fails this case as "Not all nodes have the same number
		// of links"; say which link is the odd one.
		if len(links) > 0 && !slices.Contains(links, ifc.LinkNumber) {
			v.errorf(ifc.Line, "interface linknumber %d has no ring%d_addr in the nodelist (links in use: %v)", ifc.LinkNumber, ifc.LinkNumber, links)
		}
		if ifc.Priority < 0 || ifc.Priority > 255 {
			v.errorf(at("knet_link_priority"), "knet_link_priority %d is out of range 0..255", ifc.Priority)
		}
		if ifc.PongCount < 0 || ifc.PongCount > 255 {
			// libknet takes the pong count as a uint8.
			v.errorf(at("knet_pong_count"), "knet_pong_count %d is out of range 0..255", ifc.PongCount)
			continue
		}
		if ifc.PingPrecision < 0 || int64(ifc.PingPrecision) > math.MaxUint32 {
			v.errorf(at("knet_ping_precision"), "knet_ping_precision %d is out of range", ifc.PingPrecision)
		}
		if ifc.MCastPort < 0 || ifc.MCastPort > math.MaxUint16 {
			v.errorf(at("mcastport"), "mcastport %d is out of range 1..65535", ifc.MCastPort)
		}
		if ifc.PingInterval < 0 || ifc.PingInterval > maxMs || ifc.PingTimeout < 0 || ifc.PingTimeout > maxMs {
			v.errorf(ifc.Line, "knet ping interval/timeout out of range 0..%s", fmtMs(maxMs))
		}
	}
	if len(v.errs) > 0 || len(c.Nodes) == 0 {
		return
	}
	// libknet rejects a zero interval or timeout; Corosync would log the
	// failure and run the link with stale timers.
	for _, l := range links {
		iv, to, _ := c.KnetPingTimers(l)
		if iv < time.Millisecond || to < time.Millisecond {
			line := c.Interface(l).Line
			if line == 0 {
				line = c.at("totem.token", "totem.token_coefficient")
			}
			v.errorf(line, "link %d: knet ping interval %s / timeout %s would be under 1 ms: raise token or lower knet_pong_count", l, iv, to)
		}
	}
}

func (v *checker) nodes() {
	c := v.c
	if len(c.Nodes) == 0 {
		if l := c.at("nodelist"); l > 0 {
			v.errorf(l, "nodelist has no node { } blocks")
		} else {
			v.errorf(0, "missing nodelist { } section: hakit needs every node listed with nodeid, name and ringN_addr")
		}
		return
	}
	if len(c.Nodes) > MaxNodes {
		v.errorf(c.at("nodelist"), "%d nodes: at most %d are supported", len(c.Nodes), MaxNodes)
		return
	}
	first := &c.Nodes[0]
	firstLinks := slices.Sorted(maps.Keys(first.Addrs))
	ids := map[uint32]*Node{}
	names := map[string]*Node{}
	type addrUse struct {
		n    *Node
		addr netip.Addr
		ok   bool
	}
	perLink := map[int][]addrUse{}
	for i := range c.Nodes {
		n := &c.Nodes[i]
		at := n.keyOr
		if n.ID == 0 {
			v.errorf(n.Line, "node %s has no nodeid: every node needs one (> 0)", n.label())
		} else if other, dup := ids[n.ID]; dup {
			v.errorf(at("nodeid"), "nodeid %d is used twice: by node %s (line %d) and node %s", n.ID, other.label(), other.Line, n.label())
		} else {
			ids[n.ID] = n
		}
		if n.Name != "" {
			if other, dup := names[n.Name]; dup {
				v.errorf(at("name"), "node name %s is used twice (lines %d and %d)", n.Name, other.Line, n.Line)
			} else {
				names[n.Name] = n
			}
		}
		links := slices.Sorted(maps.Keys(n.Addrs))
		for _, l := range links {
			if l < 0 || l >= MaxLinks {
				v.errorf(n.Line, "node %s: link %d is out of range 0..%d", n.label(), l, MaxLinks-1)
			}
		}
		if _, ok := n.Addrs[0]; !ok {
			v.errorf(n.Line, "node %s has no ring0_addr: link 0 is required", n.label())
		} else if !slices.Equal(links, firstLinks) {
			v.errorf(n.Line, "node %s has links %v but node %s (line %d) has %v: every node must have the same set of ringN_addr links",
				n.label(), links, first.label(), first.Line, firstLinks)
		}
		if len(c.Links()) > 1 && n.Name == "" {
			// Corosync: "for a multi-link configuration, all nodes must
			// have a 'name' attribute".
			v.errorf(n.Line, "node %s has no name: with more than one link every node needs one", n.label())
		}
		for _, l := range links {
			a, err := netip.ParseAddr(n.Addrs[l])
			perLink[l] = append(perLink[l], addrUse{n, a, err == nil})
			if err != nil {
				if cerr := checkAddr(n.Addrs[l]); cerr != nil {
					v.errorf(at(fmt.Sprintf("ring%d_addr", l)), "ring%d_addr: %v", l, cerr)
				}
				continue
			}
			switch {
			case c.Totem.IPVersion == "ipv4" && !a.Unmap().Is4():
				v.errorf(at(fmt.Sprintf("ring%d_addr", l)), "ring%d_addr %s is not IPv4, but ip_version is ipv4", l, a)
			case c.Totem.IPVersion == "ipv6" && !a.Is6():
				v.errorf(at(fmt.Sprintf("ring%d_addr", l)), "ring%d_addr %s is not IPv6, but ip_version is ipv6", l, a)
			}
		}
	}
	for _, l := range slices.Sorted(maps.Keys(perLink)) {
		uses := perLink[l]
		byAddr := map[string]*Node{}
		var fam *addrUse
		for i := range uses {
			u := &uses[i]
			key := u.n.Addrs[l]
			if u.ok {
				key = u.addr.Unmap().WithZone("").String()
			}
			if other, dup := byAddr[key]; dup {
				v.errorf(u.n.keyOr(fmt.Sprintf("ring%d_addr", l)), "ring%d_addr %s is used by two nodes (%s, line %d, and %s)", l, u.n.Addrs[l], other.label(), other.Line, u.n.label())
			} else {
				byAddr[key] = u.n
			}
			if !u.ok {
				continue
			}
			if fam == nil {
				fam = u
			} else if fam.addr.Unmap().Is4() != u.addr.Unmap().Is4() {
				v.errorf(u.n.keyOr(fmt.Sprintf("ring%d_addr", l)), "link %d mixes address families: %s (node %s) and %s (node %s)",
					l, fam.n.Addrs[l], fam.n.label(), u.n.Addrs[l], u.n.label())
			}
		}
	}
	if sum := c.nodeVotes(); sum > math.MaxUint32 {
		v.errorf(c.at("nodelist"), "the nodes' quorum_votes add up to %d, more than %d", sum, uint32(math.MaxUint32))
	} else if sum == 0 {
		v.errorf(c.at("nodelist"), "no node has a vote (every quorum_votes is 0): the cluster could never be quorate")
	}
}

func (n *Node) label() string {
	if n.Name != "" {
		return n.Name
	}
	if n.ID != 0 {
		return fmt.Sprintf("%d", n.ID)
	}
	if n.Line > 0 {
		return fmt.Sprintf("at line %d", n.Line)
	}
	return "(unnamed)"
}

func (n *Node) keyOr(key string) int {
	if l := n.keyLines[key]; l > 0 {
		return l
	}
	return n.Line
}

func (v *checker) quorum() {
	c, q := v.c, &v.c.Quorum
	switch q.Provider {
	case VotequorumProvider:
	case "":
		// Without a provider Corosync runs with no quorum at all (always
		// quorate); hakit always runs votequorum, so silently adding it
		// would change what a partition does.
		v.errorf(c.at("quorum"), "quorum.provider is required: hakit always runs votequorum; add provider: %s to the quorum section", VotequorumProvider)
	default:
		v.errorf(c.at("quorum.provider"), "quorum.provider: hakit implements only %s, got %q", VotequorumProvider, q.Provider)
	}
	if q.LastManStandingWindow < 0 || q.LastManStandingWindow > maxMs {
		v.errorf(c.at("quorum.last_man_standing_window"), "last_man_standing_window %s is out of range", q.LastManStandingWindow)
	}
	if q.AutoTieBreakerNode != "" {
		if mode, ids, err := parseTieBreaker(q.AutoTieBreakerNode); err != nil {
			v.errorf(c.at("quorum.auto_tie_breaker_node"), "auto_tie_breaker_node: %v", err)
		} else if q.AutoTieBreaker && mode == "list" && len(c.missingNodes(ids)) == len(ids) {
			// votequorum would never break a tie; hakit's quorum refuses
			// to start.
			v.errorf(c.at("quorum.auto_tie_breaker_node"), "auto_tie_breaker_node: none of the node ids %s is in the nodelist", clip(q.AutoTieBreakerNode))
		}
	}
	// votequorum logs these at CRIT and carries on with a feature
	// switched off ("please fix your corosync.conf"); a cluster that
	// quietly lacks the tie breaker or two_node its operator configured
	// decides splits differently than planned, so hakit refuses.
	if q.TwoNode && q.AutoTieBreaker {
		v.errorf(c.at("quorum.auto_tie_breaker", "quorum.two_node"),
			"two_node and auto_tie_breaker are not compatible (two_node settles a split by a fence race, auto_tie_breaker by node id); votequorum would disable two_node: remove one")
	}
	if q.LastManStanding {
		// votequorum switches last_man_standing off, with a warning, as
		// soon as it sees a node with more than one vote.
		for i := range c.Nodes {
			if n := &c.Nodes[i]; n.QuorumVotes > 1 {
				v.errorf(n.keyOr("quorum_votes"), "last_man_standing needs quorum_votes of at most 1 on every node, but node %s has %d (votequorum would switch last_man_standing off)", n.label(), n.QuorumVotes)
			}
		}
	}
	if q.AutoTieBreaker && c.nodeVotes()%2 == 1 && !c.WaitForAll() {
		if q.LastManStanding {
			v.errorf(c.at("quorum.auto_tie_breaker"), "auto_tie_breaker with last_man_standing needs wait_for_all: 1 when the nodes' votes add up to an odd number (votequorum refuses to start)")
		} else {
			v.errorf(c.at("quorum.auto_tie_breaker"), "auto_tie_breaker needs wait_for_all: 1 when the nodes' votes add up to an odd number, or an isolated majority-minus-the-tie-breaker could become quorate on reboot (votequorum would disable auto_tie_breaker)")
		}
	}
}

// missingNodes returns the ids that are not in the nodelist.
func (c *Config) missingNodes(ids []uint32) []uint32 {
	have := make(map[uint32]bool, len(c.Nodes))
	for i := range c.Nodes {
		have[c.Nodes[i].ID] = true
	}
	var missing []uint32
	for _, id := range ids {
		if !have[id] {
			missing = append(missing, id)
		}
	}
	return missing
}

func (v *checker) logging() {
	c, l := v.c, &v.c.Logging
	if l.ToLogfile && l.Logfile == "" {
		v.errorf(c.at("logging.to_logfile", "logging.to_file"), "to_logfile is on but no logfile is set")
	}
}

// lint returns the warnings about values that are valid but likely wrong.
func (c *Config) lint() []warning {
	var ws []warning
	add := func(line int, format string, args ...any) {
		ws = append(ws, warning{line, fmt.Sprintf(format, args...)})
	}
	t, q := &c.Totem, &c.Quorum
	if t.Transport == "udp" || t.Transport == "udpu" {
		add(c.at("totem.transport"), "transport %s is accepted, but hakit always uses its own authenticated, encrypted UDP links (knet-style, one per ringN_addr)", t.Transport)
	}
	if t.Token < time.Second {
		add(c.at("totem.token"), "token %s is below 1000 ms: expect frequent false failovers under load (a busy or paused node misses the token)", fmtMs(t.Token))
	}
	if t.Consensus > 0 {
		if want := mulDiv(c.EffectiveToken(), 6, 5); t.Consensus < want {
			add(c.at("totem.consensus"), "consensus %s is less than 1.2 * effective token (%s); corosync.conf(5) gives that as the minimum, though Corosync does not enforce it",
				fmtMs(t.Consensus), fmtMs(want))
		}
	}
	for _, ifc := range t.Interfaces {
		if (ifc.PingInterval == 0) != (ifc.PingTimeout == 0) {
			add(ifc.Line, "link %d sets only one of knet_ping_interval and knet_ping_timeout; they are a pair, and the other is derived from the token", ifc.LinkNumber)
		}
		if iv, to, _ := c.KnetPingTimers(ifc.LinkNumber); to <= iv {
			add(ifc.Line, "link %d: knet ping timeout %s is not longer than the ping interval %s, so one lost ping marks the link down", ifc.LinkNumber, to, iv)
		}
	}
	if q.TwoNode && len(c.Nodes) > 2 {
		add(c.at("quorum.two_node"), "two_node: 1 with %d nodes: votequorum switches two_node off when more than two nodes are members", len(c.Nodes))
	}
	if q.ExpectedVotes > 0 && uint64(q.ExpectedVotes) < c.nodeVotes() {
		add(c.at("quorum.expected_votes"), "expected_votes %d is below the nodes' total of %d votes; votequorum raises it once more votes are present", q.ExpectedVotes, c.nodeVotes())
	}
	if !q.AutoTieBreaker && c.at("quorum.auto_tie_breaker_node") > 0 {
		add(c.at("quorum.auto_tie_breaker_node"), "auto_tie_breaker_node is meaningless while auto_tie_breaker is 0")
	}
	if mode, ids, _ := parseTieBreaker(q.AutoTieBreakerNode); q.AutoTieBreaker && mode == "list" {
		if missing := c.missingNodes(ids); len(missing) > 0 {
			add(c.at("quorum.auto_tie_breaker_node"), "auto_tie_breaker_node lists node ids not in the nodelist: %s", clip(strings.Trim(fmt.Sprint(missing), "[]")))
		}
	}
	return ws
}
