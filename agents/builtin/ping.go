package builtin

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/hakit/hakit/agents"
)

// Ping is ocf:pacemaker:ping: it counts the hosts of host_list that answer
// ICMP echo and sets the node attribute name (default pingd) to
// multiplier × that count, for location rules such as
// `rule -inf: not_defined pingd or pingd lte 0`.
//
// Parameters: host_list (required, whitespace-separated addresses or
// names), multiplier (default 1), name (default pingd), attempts (default
// 3), timeout (seconds, default 2; the suffixes ms, s, m and h are read as
// the script reads them), failure_score (a monitor whose score is below it
// fails), pidfile (the state file; default <RunDir>/ping-<name>, or
// ping-<resource> for a globally unique clone), dampen (accepted and
// ignored: the node's attribute manager applies the value at once).
//
// Unlike the script it pings with its own ICMP sockets rather than
// fping/ping: an unprivileged ICMP datagram socket where
// net.ipv4.ping_group_range admits the process's group, a raw socket
// otherwise (which needs root or CAP_NET_RAW). Each attempt sends one echo
// request to every host not yet answered and waits up to timeout for the
// replies; a host is reachable when any attempt is answered, so one host
// costs at most attempts × timeout, and all hosts of a family are pinged
// together. The wait ends early, with the hosts counted so far, when the
// operation's deadline is near. Not supported: use_fping, options, debug.
//
// Attributes: start and monitor return Attributes[name] = the score; stop
// returns Attributes[name] = "" to delete it (attrd_updater -D).
type Ping struct {
	opts Options
}

func pingMeta(runDir string) metaData {
	return metaData{
		name: "ping", version: "1.0",
		shortDesc: "Node connectivity (hakit built-in)",
		longDesc: "On every monitor, counts the hosts of host_list that answer ICMP echo and sets " +
			"the node attribute 'name' to multiplier times that count, so location rules can keep " +
			"resources away from nodes that lost their uplink.",
		params: []metaParam{
			{name: "pidfile", typ: "string", def: runDir + "/ping-${OCF_RESKEY_name}", hasDef: true,
				shortDesc: "State file", longDesc: "File whose existence means the resource runs."},
			{name: "dampen", typ: "integer", def: "5s", hasDef: true, reloadable: true,
				shortDesc: "Dampening interval",
				longDesc:  "Accepted for compatibility and ignored: the node's attribute manager applies each value at once."},
			{name: "name", typ: "string", def: "pingd", hasDef: true,
				shortDesc: "Attribute name", longDesc: "Name of the node attribute to set."},
			p("multiplier", "integer", "1", "Value multiplier", "The number of reachable hosts is multiplied by this."),
			{name: "host_list", typ: "string", required: true,
				shortDesc: "Host list", longDesc: "Whitespace-separated list of addresses or host names to ping."},
			{name: "attempts", typ: "integer", def: "3", hasDef: true, reloadable: true,
				shortDesc: "Number of ping attempts per host", longDesc: "How many echo requests a host gets before it counts as unreachable."},
			{name: "timeout", typ: "integer", def: "2", hasDef: true, reloadable: true,
				shortDesc: "Ping timeout in seconds", longDesc: "How long each attempt waits for the replies, in seconds (ms, m and h suffixes are accepted)."},
			np("failure_score", "integer", "Failure score",
				"When set, a monitor fails if the attribute's value is below this score."),
		},
		actions: []metaAction{
			{name: "start", timeout: "60s"},
			{name: "stop", timeout: "20s"},
			{name: "monitor", timeout: "60s", interval: "10s", depth: "0"},
			{name: "meta-data", timeout: "5s"},
			{name: "validate-all", timeout: "30s"},
			{name: "reload-agent", timeout: "20s"},
		},
	}
}

// MetaData implements ocf.Builtin.
func (pg *Ping) MetaData() string { return pingMeta(pg.opts.withDefaults().RunDir).render() }

type pingConfig struct {
	hosts        []string
	multiplier   int
	name         string
	attempts     int
	timeout      time.Duration
	failureScore *int
	state        string
	stateDefault bool
}

var pingTimeoutRE = regexp.MustCompile(`^([0-9]+)\s*(ms|msec|s|sec|m|min|h|hr)?$`)

// parsePingTimeout reads timeout as the script does (whole seconds, with
// optional units), keeping milliseconds; below one second it gives 5s and
// above 1000s 300s, as the script does.
func parsePingTimeout(v string) (time.Duration, error) {
	if v == "" {
		return 2 * time.Second, nil
	}
	m := pingTimeoutRE.FindStringSubmatch(v)
	if m == nil {
		return 0, fmt.Errorf("invalid timeout [%s]", v)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > 1e9 {
		return 0, fmt.Errorf("invalid timeout [%s]", v)
	}
	d := time.Duration(n) * time.Second
	switch m[2] {
	case "ms", "msec":
		d = time.Duration(n) * time.Millisecond
	case "m", "min":
		d = time.Duration(n) * time.Minute
	case "h", "hr":
		d = time.Duration(n) * time.Hour
	}
	switch {
	case d < time.Millisecond:
		d = 5 * time.Second
	case d > 1000*time.Second:
		d = 300 * time.Second
	}
	return d, nil
}

func (pg *Ping) config(op agents.Op) (pingConfig, error) {
	c := pingConfig{name: param(op, "name", "pingd")}
	c.state = param(op, "pidfile", "")
	if c.state == "" {
		c.stateDefault = true
		suffix := c.name
		if isTrue(op.Meta["globally-unique"]) || isTrue(op.Meta["globally_unique"]) {
			suffix = op.Resource
		}
		c.state = filepath.Join(pg.opts.withDefaults().RunDir, "ping-"+suffix)
	}
	c.hosts = strings.Fields(op.Params["host_list"])
	if len(c.hosts) == 0 {
		return c, errors.New("Empty host_list. Please specify some nodes to ping")
	}
	var err error
	if c.multiplier, err = intParam(op, "multiplier", 1); err != nil {
		return c, err
	}
	if c.attempts, err = intParam(op, "attempts", 3); err != nil || c.attempts < 1 {
		return c, fmt.Errorf("invalid attempts [%s]: want a positive integer", op.Params["attempts"])
	}
	if c.timeout, err = parsePingTimeout(param(op, "timeout", "")); err != nil {
		return c, err
	}
	if v := param(op, "failure_score", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return c, fmt.Errorf("invalid failure_score [%s]: not an integer", v)
		}
		c.failureScore = &n
	}
	return c, nil
}

// Run implements ocf.Builtin.
func (pg *Ping) Run(ctx context.Context, op agents.Op) agents.Result {
	var r result
	switch op.Action {
	case "meta-data":
		return metaDataResult(pg.MetaData())
	case "start", "stop", "monitor", "validate-all", "reload-agent":
	default:
		return unimplemented(op)
	}
	c, cfgErr := pg.config(op)
	switch op.Action {
	case "stop":
		if err := os.Remove(c.state); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return r.fail(agents.RCErrGeneric, "cannot remove state file: %v", err)
		}
		res := r.done(agents.RCOK)
		res.Attributes = map[string]string{c.name: ""}
		return res
	case "reload-agent":
		return r.done(agents.RCOK)
	}
	if cfgErr != nil {
		return r.fail(agents.RCErrConfigured, "%v", cfgErr)
	}
	switch op.Action {
	case "validate-all":
		if op.CheckLevel >= 10 {
			dir := filepath.Dir(c.state)
			if c.stateDefault {
				_ = ensureDir(dir)
			}
			if err := dirWritable(dir); err != nil {
				return r.fail(agents.RCErrArgs, "Invalid location for 'state': %s is not writable: %v", dir, err)
			}
		}
		return r.done(agents.RCOK)
	case "monitor":
		if _, err := os.Stat(c.state); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return r.notRunning(op, "state file %s not found", c.state)
			}
			return r.fail(agents.RCErrGeneric, "cannot read state file: %v", err)
		}
	case "start":
		if c.stateDefault {
			if err := ensureDir(filepath.Dir(c.state)); err != nil {
				return r.fail(agents.RCErrGeneric, "cannot create state directory: %v", err)
			}
		}
		f, err := os.OpenFile(c.state, os.O_WRONLY|os.O_CREATE, 0o644)
		if err == nil {
			err = f.Close()
		}
		if err != nil {
			return r.fail(agents.RCErrGeneric, "cannot create state file: %v", err)
		}
	}
	return pg.update(ctx, op, c, &r)
}

// update pings the hosts and reports the score.
func (pg *Ping) update(ctx context.Context, op agents.Op, c pingConfig, r *result) agents.Result {
	up, err := pingHosts(ctx, c.hosts, c.attempts, c.timeout, r)
	if err != nil {
		rc := agents.RCErrGeneric
		if permErr(err) {
			rc = agents.RCErrPerm
		}
		return r.fail(rc, "cannot ping: %v", err)
	}
	score := up * c.multiplier
	r.logf("INFO: %d of %d hosts reachable; %s = %d", up, len(c.hosts), c.name, score)
	var res agents.Result
	if c.failureScore != nil && score < *c.failureScore {
		res = r.fail(agents.RCErrGeneric, "%s is less than failure_score(%d)", c.name, *c.failureScore)
	} else {
		res = r.done(agents.RCOK)
	}
	res.Attributes = map[string]string{c.name: strconv.Itoa(score)}
	return res
}

// pingTarget is one host of host_list, resolved.
type pingTarget struct {
	host  string
	addr  netip.Addr
	alive bool
}

// pingHosts returns how many hosts answered. Hosts that do not resolve, or
// that cannot be sent to (no route), count as unreachable and are logged;
// an error means no ICMP socket could be opened.
func pingHosts(ctx context.Context, hosts []string, attempts int, timeout time.Duration, r *result) (int, error) {
	var v4, v6 []*pingTarget
	for _, h := range hosts {
		addr, err := netip.ParseAddr(h)
		if err != nil {
			addrs, lerr := net.DefaultResolver.LookupNetIP(ctx, "ip", h)
			if lerr != nil || len(addrs) == 0 {
				r.logf("WARNING: %s is inactive: cannot resolve: %v", h, lerr)
				continue
			}
			addr = addrs[0]
		}
		addr = addr.Unmap()
		t := &pingTarget{host: h, addr: addr}
		if addr.Is4() {
			v4 = append(v4, t)
		} else {
			v6 = append(v6, t)
		}
	}
	up := 0
	for _, group := range [][]*pingTarget{v4, v6} {
		if len(group) == 0 {
			continue
		}
		if err := pingFamily(ctx, group, attempts, timeout, r); err != nil {
			return 0, err
		}
		for _, t := range group {
			if t.alive {
				up++
			} else {
				r.logf("WARNING: %s is inactive", t.host)
			}
		}
	}
	return up, nil
}

// icmpConn is an ICMP socket of one family.
type icmpConn struct {
	c     *icmp.PacketConn
	v6    bool
	dgram bool // unprivileged datagram socket: the kernel owns the echo ID
}

func listenICMP(v6 bool) (icmpConn, error) {
	dgram, raw, addr := "udp4", "ip4:icmp", "0.0.0.0"
	if v6 {
		dgram, raw, addr = "udp6", "ip6:ipv6-icmp", "::"
	}
	c, err := icmp.ListenPacket(dgram, addr)
	if err == nil {
		return icmpConn{c: c, v6: v6, dgram: true}, nil
	}
	c, rerr := icmp.ListenPacket(raw, addr)
	if rerr != nil {
		return icmpConn{}, fmt.Errorf("ICMP datagram socket: %v; raw socket: %w", err, rerr)
	}
	return icmpConn{c: c, v6: v6}, nil
}

func (ic icmpConn) dst(a netip.Addr) net.Addr {
	if ic.dgram {
		return &net.UDPAddr{IP: a.AsSlice()}
	}
	return &net.IPAddr{IP: a.AsSlice()}
}

func peerAddr(a net.Addr) netip.Addr {
	var ip net.IP
	switch a := a.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.IPAddr:
		ip = a.IP
	}
	addr, _ := netip.AddrFromSlice(ip)
	return addr.Unmap()
}

// pingFamily pings the targets, all of one family, over one socket.
func pingFamily(ctx context.Context, targets []*pingTarget, attempts int, timeout time.Duration, r *result) error {
	ic, err := listenICMP(targets[0].addr.Is6())
	if err != nil {
		return err
	}
	defer ic.c.Close()
	kind := "raw"
	if ic.dgram {
		kind = "datagram"
	}
	r.logf("INFO: pinging %d host(s) over an ICMP %s socket", len(targets), kind)
	// A cancelled operation unblocks the read at once.
	stop := context.AfterFunc(ctx, func() { ic.c.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	var echoType, replyType icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	proto := 1
	if ic.v6 {
		echoType, replyType, proto = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply, 58
	}
	id := rand.IntN(0xffff) + 1
	seqs := map[int]*pingTarget{}
	seq := rand.IntN(0x8000)
	payload := []byte("hakit-ping")
	buf := make([]byte, 1500)

	// end is when the whole ping must stop: a little before the
	// operation's deadline, so the result is not lost to a timeout.
	var end time.Time
	if rem, ok := remaining(ctx); ok {
		margin := min(rem/10, time.Second)
		end = time.Now().Add(rem - margin)
	}

	for attempt := 0; attempt < attempts; attempt++ {
		var inflight []*pingTarget
		for _, t := range targets {
			if t.alive {
				continue
			}
			seq = (seq + 1) & 0xffff
			seqs[seq] = t
			msg := icmp.Message{Type: echoType, Body: &icmp.Echo{ID: id, Seq: seq, Data: payload}}
			b, err := msg.Marshal(nil)
			if err != nil {
				return err
			}
			if _, err := ic.c.WriteTo(b, ic.dst(t.addr)); err != nil {
				if attempt == 0 {
					r.logf("WARNING: %s: %v", t.host, err)
				}
				continue
			}
			inflight = append(inflight, t)
		}
		if len(inflight) == 0 {
			break // nothing could be sent: no route to any host left
		}
		deadline := time.Now().Add(timeout)
		if !end.IsZero() && end.Before(deadline) {
			deadline = end
		}
		if ctx.Err() != nil {
			return nil
		}
		ic.c.SetReadDeadline(deadline)
		for pending(inflight) && ctx.Err() == nil {
			n, peer, err := ic.c.ReadFrom(buf)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					break
				}
				if errors.Is(err, unix.EINTR) {
					continue
				}
				return err
			}
			m, err := icmp.ParseMessage(proto, buf[:n])
			if err != nil || m.Type != replyType {
				continue
			}
			echo, ok := m.Body.(*icmp.Echo)
			if !ok || (!ic.dgram && echo.ID != id) {
				continue
			}
			if t := seqs[echo.Seq]; t != nil && t.addr == peerAddr(peer) {
				t.alive = true
			}
		}
		if !pending(targets) || ctx.Err() != nil || (!end.IsZero() && !time.Now().Before(end)) {
			break
		}
	}
	return nil
}

func pending(ts []*pingTarget) bool {
	for _, t := range ts {
		if !t.alive {
			return true
		}
	}
	return false
}
