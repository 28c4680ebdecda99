package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// BondTiming is one Linux bond's MII monitoring, as
// /sys/class/net/NAME/bonding/{miimon,downdelay,updelay} show it (whole
// milliseconds there).
type BondTiming struct {
	Name                       string
	Miimon, Downdelay, Updelay time.Duration
}

// FailoverWindow is the longest a cable cut on the bond's active slave
// loses frames: the kernel sees the carrier go at its next poll, up to
// Miimon after the cut, and gives the slave up Downdelay later, counted in
// whole polls (it rounds downdelay down to a multiple of miimon). The
// backup slave is active from the next instant, and its gratuitous ARP
// turns the switches at once. Updelay does not lengthen a failover: it
// delays taking back a slave whose carrier returned, and the kernel skips
// it when no slave is up. Zero when Miimon is zero: without MII monitoring
// the bond does not notice a lost carrier at all (ARP monitoring, if
// configured, has its own timing, not read here).
func (b BondTiming) FailoverWindow() time.Duration {
	if b.Miimon <= 0 {
		return 0
	}
	return b.Miimon + max(b.Downdelay, 0)/b.Miimon*b.Miimon
}

// CheckBondTiming returns warnings, in corosync.conf's warning format
// ("file:line: ..."), for every bond whose worst-case failover (see
// BondTiming.FailoverWindow) the messaging layer configured by c would not
// ride out. The corosync.conf cannot know which interfaces its links use,
// so each bond is taken to carry every link: the case of one ring over one
// bond, and of any setup whose other links are down. With links on
// separate bonds, knet routes around a failover once its ping timeout
// marks the link down, and the token warning is pessimistic; the link
// warning holds either way. Bonds without MII monitoring are skipped.
//
// Two things go wrong when a failover outlasts the timers. Let W be the
// failover window, T the effective token timeout, R the token retransmit
// interval and H the hold (both derived from T unless set), I and P a
// link's knet ping interval and timeout and K its pong count.
//
// The link: every ping sent while frames are lost is lost, and the last
// pong before the cut answered a ping up to one interval earlier, so a
// failover can leave a link without pongs for up to
//
//	S = I * (1 + ceil(W/I))
//
// and knet declares the link down when S > P. It is up again K pongs
// after the failover ends, at most W + K*I after the cut, and in between
// it carries nothing. Corosync's derived timers (I = T/4 and P = T/2 at
// the default knet_pong_count of 2) meet S <= P exactly when I >= W, which
// the defaults do (I = 750 ms against W = 300 ms for miimon 100 and
// downdelay 200), with no room to spare: a failover that swallows a ping
// leaves the link's fate to jitter. That is the defaults' own margin, and
// only a longer S warns.
//
// The token: totem outlives an outage O only if the token comes round
// within T of a member's last sight of it. The token sent into the
// outage is lost and retransmitted every R, so it arrives at most R after
// the outage ends; before the outage, an idle ring's representative may
// have held it for H. The token survives if
//
//	T > O + R + H,  O = W, or W + K*I when knet takes the link down
//
// With the derived R = T/(c+0.2) and H = 0.8 R (c =
// token_retransmits_before_loss_const, 4) that is T > 1.75 W once the
// link stays up, which with derived ping timers needs T >= 4 W anyway; a
// shorter token leaves the link going down and the outage too long. For
// the reference bonds the smallest safe token is therefore 1200 ms: the
// default 3000 ms passes, the pre-3.1 default of 1000 ms does not (pings
// every 250 ms: a failover can swallow two), and 150 ms fails both checks
// (the bond-flap scenario shows what follows). The token warning suggests
// the smallest token that passes both.
func CheckBondTiming(c *Config, bonds []BondTiming) []string {
	var out []string
	file := c.fileName()
	for _, w := range BondWarnings(c, bonds) {
		out = append(out, warning{w.Line, w.Msg + w.sep + w.Hint}.format(file))
	}
	return out
}

// BondWarning is one finding of BondWarnings: CheckBondTiming's text, in
// parts, for tools that print the fix apart from the problem (hactl
// configure verify).
type BondWarning struct {
	Bond string
	// Link is false for the token check and true for the knet link
	// check (see CheckBondTiming).
	Link bool
	// Line is the corosync.conf line to change: the token's for the token
	// check, the first affected link's interface block for the link
	// check; 0 when the value is a default the file does not write.
	Line int
	// Window is the bond's failover window, Token the effective token.
	Window, Token time.Duration
	// MinToken is the smallest token that passes both checks; 0 when no
	// token Corosync accepts does.
	MinToken  time.Duration
	Msg, Hint string

	sep string // what joins Msg and Hint in CheckBondTiming's text
}

// BondWarnings is CheckBondTiming with each warning as a BondWarning, in
// the same order: per bond, the token check, then the link check. A bond
// whose failover the timers ride out gives none.
func BondWarnings(c *Config, bonds []BondTiming) []BondWarning {
	var out []BondWarning
	tokenLine := c.at("totem.token", "totem.token_coefficient")
	for _, b := range bonds {
		w := b.FailoverWindow()
		if w <= 0 {
			continue
		}
		bt := checkBond(c, w)
		if bt.tokenOK && len(bt.downLinks) == 0 {
			continue
		}
		minTok, minOK := minBondToken(c, w)
		if !minOK {
			minTok = 0
		}
		down := fmtBond(w - b.Miimon)
		if w-b.Miimon != b.Downdelay {
			down = fmt.Sprintf("%s, rounded down to %s", fmtBond(b.Downdelay), down)
		}
		what := fmt.Sprintf("bond %s fails over in up to %s (miimon %s + downdelay %s)", b.Name, fmtBond(w), fmtBond(b.Miimon), down)
		if !bt.tokenOK {
			silenced := fmtBond(bt.outage)
			if bt.outage > w {
				silenced = fmt.Sprintf("%s (the failover, then %d pings of %s until knet has the link up again)", silenced, bt.outagePongs, fmtBond(bt.outageInterval))
			}
			msg := fmt.Sprintf("%s; if totem's links all use it, a failover silences totem for up to %s, and the token (effective %s) must outlast that plus one token retransmit (%s) and one hold (%s), %s in all, or a failover can cost the token and change the membership",
				what, silenced, fmtBond(bt.token), fmtBond(bt.retransmit), fmtBond(bt.hold), fmtBond(bt.outage+bt.retransmit+bt.hold))
			hint, sep := "lower the bond's downdelay", " or "
			if minOK {
				hint, sep = fmt.Sprintf("raise token to at least %s or lower the bond's downdelay", fmtBond(minTok)), ": "
			}
			out = append(out, BondWarning{Bond: b.Name, Line: tokenLine, Window: w, Token: bt.token, MinToken: minTok, Msg: msg, Hint: hint, sep: sep})
		}
		if len(bt.downLinks) > 0 {
			var links []string
			line := 0
			for _, l := range bt.downLinks {
				links = append(links, fmt.Sprintf("link %d (ping every %s, timeout %s: up to %s without a pong)", l.link, fmtBond(l.interval), fmtBond(l.timeout), fmtBond(l.silence)))
				if line == 0 {
					line = c.Interface(l.link).Line
				}
			}
			if line == 0 {
				line = tokenLine
			}
			out = append(out, BondWarning{
				Bond: b.Name, Link: true, Line: line, Window: w, Token: bt.token, MinToken: minTok,
				Msg: fmt.Sprintf("%s, longer than knet's ping timeout allows: it would mark %s down during a failover, and a link that is down carries nothing until %d pongs bring it back",
					what, strings.Join(links, ", "), bt.pongs),
				Hint: "raise knet_ping_interval and knet_ping_timeout until the timeout exceeds that silence (or token, from which both derive), or lower the bond's downdelay",
				sep:  "; ",
			})
		}
	}
	return out
}

type bondCheck struct {
	token, retransmit, hold time.Duration
	// outage is how long totem can be cut off: the failover, or until
	// the first link knet took down has outagePongs pongs, outageInterval
	// apart, after it.
	outage, outageInterval time.Duration
	outagePongs            int
	tokenOK                bool
	pongs                  int
	downLinks              []linkSilence
}

type linkSilence struct {
	link                       int
	interval, timeout, silence time.Duration
}

// checkBond evaluates both checks of CheckBondTiming for a failover window
// w.
func checkBond(c *Config, w time.Duration) bondCheck {
	bc := bondCheck{token: c.EffectiveToken(), retransmit: c.EffectiveTokenRetransmit(), hold: c.EffectiveHold()}
	links := c.Links()
	if len(links) == 0 {
		links = []int{0}
	}
	// The route comes back when the first link is up again.
	outage := time.Duration(-1)
	for _, l := range links {
		iv, to, pongs := c.KnetPingTimers(l)
		o, oPongs := w, 0
		if iv > 0 {
			silence := iv * (1 + (w+iv-1)/iv)
			if silence > to {
				bc.downLinks = append(bc.downLinks, linkSilence{l, iv, to, silence})
				bc.pongs = max(bc.pongs, pongs)
				o, oPongs = w+time.Duration(pongs)*iv, pongs
			}
		}
		if outage < 0 || o < outage {
			outage, bc.outagePongs, bc.outageInterval = o, oPongs, iv
		}
	}
	bc.outage = outage
	bc.tokenOK = bc.token > outage+bc.retransmit+bc.hold
	return bc
}

// minBondToken finds the smallest token, in whole milliseconds, with
// which both checks pass for a failover window w, keeping every other
// setting; false if none up to the largest token Corosync takes does. The
// checks get easier as the token grows (every derived timer grows with
// it), so a binary search finds the boundary.
func minBondToken(c *Config, w time.Duration) (time.Duration, bool) {
	passes := func(token time.Duration) bool {
		cc := *c
		cc.Totem.Token = token
		bc := checkBond(&cc, w)
		return bc.tokenOK && len(bc.downLinks) == 0
	}
	lo, hi := c.Totem.Token/time.Millisecond, maxMs/time.Millisecond
	if !passes(hi * time.Millisecond) {
		return 0, false
	}
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		if passes(mid * time.Millisecond) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi * time.Millisecond, true
}

// ReadBondTimings reads every bond's MII timing from fsys, which is rooted
// at /sys/class/net (os.DirFS("/sys/class/net") in hanode; the entries
// there are symlinks, which os.DirFS follows). A bond is an entry with a
// bonding directory; its miimon, downdelay and updelay files hold whole
// milliseconds. Bonds come back sorted by name.
func ReadBondTimings(fsys fs.FS) ([]BondTiming, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	var bonds []BondTiming
	for _, e := range entries {
		dir := path.Join(e.Name(), "bonding")
		if st, err := fs.Stat(fsys, dir); err != nil || !st.IsDir() {
			continue // not a bond (bonding_masters is a plain file)
		}
		b := BondTiming{Name: e.Name()}
		for _, f := range []struct {
			name string
			d    *time.Duration
		}{{"miimon", &b.Miimon}, {"downdelay", &b.Downdelay}, {"updelay", &b.Updelay}} {
			*f.d, err = readMs(fsys, path.Join(dir, f.name))
			if err != nil {
				return nil, err
			}
		}
		bonds = append(bonds, b)
	}
	return bonds, nil
}

func readMs(fsys fs.FS, name string) (time.Duration, error) {
	data, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		// Older kernels lack some of these; absent means not in use.
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading bond timing: %w", err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a number of milliseconds", name, strings.TrimSpace(string(data)))
	}
	return time.Duration(v) * time.Millisecond, nil
}

// fmtBond formats a duration in milliseconds, to a tenth where it is not
// whole (derived timers rarely are).
func fmtBond(d time.Duration) string {
	if d%time.Millisecond == 0 {
		return fmt.Sprintf("%d ms", d/time.Millisecond)
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
