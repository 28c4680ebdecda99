package builtin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hakit/hakit/agents"
)

// IPaddr2 is ocf:heartbeat:IPaddr2: a virtual IP address added to an
// interface with netlink, announced with gratuitous ARP.
//
// Parameters: ip (required, IPv4 or IPv6), cidr_netmask (a prefix length,
// or a dotted-quad mask for IPv4; alias netmask), nic (optional, may be
// nic:label), broadcast (an IPv4 address, "+" or "-"; default computed
// from the prefix), iflabel (alias label; the address label becomes
// nic:iflabel, at most 15 characters), arp_count (default 5) and
// arp_interval (milliseconds, default 200).
//
// Without nic, or without cidr_netmask, the interface and prefix come from
// the longest connected (scope link) route in the main table that contains
// ip, as the script's findif does; a 127.x address falls back to lo's
// local route. A start that finds none fails with ERR_GENERIC (this node
// cannot host the address); a nic that does not exist is ERR_CONFIGURED on
// start and validate-all, as in the script.
//
// Deviations from the script: when no route tells the interface (setting
// an interface down flushes its routes), stop and monitor look for the
// address itself on the interfaces (on nic only, when given), so a stop
// never leaves it configured; the script's stop then succeeds without
// removing anything. A stop removes the address whatever its label. The
// gratuitous ARPs (ARP requests announcing ip from the interface's MAC,
// to the Ethernet broadcast) are sent by the start itself before it
// returns, taking (arp_count-1)×arp_interval, not by a send_arp process in
// the background; none are sent on loopback or NOARP interfaces, and a
// failure to send is logged without failing the start.
// A monitor does not refresh ARP (arp_count_refresh). IPv6 addresses are
// added and removed, but no unsolicited neighbour advertisements are sent.
// Missing privileges show as ERR_PERM from the kernel's answer rather than
// from a root check. Not supported: clusterip_hash/unique_clone_address
// (load-shared clones), lvs_support, mac, network_namespace, noprefixroute,
// nodad, preferred_lft, flush_routes, run_arping (DAD before adding).
type IPaddr2 struct{}

var ipaddr2Meta = metaData{
	name: "IPaddr2", version: "1.0",
	shortDesc: "Manages a virtual IPv4 or IPv6 address (hakit built-in)",
	longDesc: "Adds a virtual IP address to a network interface with netlink, and announces it " +
		"with gratuitous ARP so neighbours update their caches. Without nic or cidr_netmask, " +
		"the interface and prefix length come from the connected route that contains the address.",
	params: []metaParam{
		{name: "ip", typ: "string", required: true, unique: true,
			shortDesc: "Virtual IP address", longDesc: "The IPv4 (dotted quad) or IPv6 address to manage, e.g. 192.168.1.100."},
		np("nic", "string", "Network interface",
			"Interface to add the address to, optionally as nic:label. Default: the interface whose connected route contains ip."),
		np("cidr_netmask", "string", "CIDR netmask",
			"Prefix length of the address (e.g. 24), or a dotted-quad mask for IPv4. Default: that of the connected route containing ip."),
		np("broadcast", "string", "Broadcast address",
			"IPv4 broadcast address, or + (host bits set) or - (host bits clear). Default: computed from the prefix."),
		np("iflabel", "string", "Interface label",
			"Label for the address; it is shown as nic:iflabel and must fit in 15 characters."),
		p("arp_count", "integer", "5", "ARP packet count", "Number of gratuitous ARPs sent after adding an IPv4 address."),
		p("arp_interval", "integer", "200", "ARP packet interval in ms", "Milliseconds between gratuitous ARPs."),
	},
	actions: []metaAction{
		{name: "start", timeout: "20s"},
		{name: "stop", timeout: "20s"},
		{name: "status", timeout: "20s", interval: "10s", depth: "0"},
		{name: "monitor", timeout: "20s", interval: "10s", depth: "0"},
		{name: "meta-data", timeout: "5s"},
		{name: "validate-all", timeout: "20s"},
	},
}

// MetaData implements ocf.Builtin.
func (a *IPaddr2) MetaData() string { return ipaddr2Meta.render() }

// ipConfig is IPaddr2's parameters, checked.
type ipConfig struct {
	ip      net.IP
	v6      bool
	prefix  int // -1 when not given
	nic     string
	iflabel string
	brd     string
	arpN    int
	arpGap  time.Duration
}

func (c ipConfig) family() int {
	if c.v6 {
		return netlink.FAMILY_V6
	}
	return netlink.FAMILY_V4
}

func (c ipConfig) bits() int {
	if c.v6 {
		return 128
	}
	return 32
}

// parseIPConfig checks the parameters as the script's ip_validate and
// findif_check_params do; every error is ERR_CONFIGURED.
func parseIPConfig(op agents.Op) (ipConfig, error) {
	c := ipConfig{prefix: -1}
	raw := param(op, "ip", "")
	if raw == "" {
		return c, errors.New("IP address (the ip parameter) is mandatory")
	}
	addr, err := netip.ParseAddr(raw)
	if err != nil || addr.Zone() != "" || addr.IsUnspecified() || (addr.Is4() && addr.As4()[0] == 0) {
		return c, fmt.Errorf("IP address [%s] not valid", raw)
	}
	addr = addr.Unmap()
	c.v6 = addr.Is6()
	c.ip = net.IP(addr.AsSlice())

	mask := param(op, "cidr_netmask", param(op, "netmask", ""))
	if mask != "" {
		n, err := parsePrefix(mask, c.bits())
		if err != nil {
			return c, err
		}
		c.prefix = n
	}

	c.nic = param(op, "nic", "")
	c.iflabel = param(op, "iflabel", param(op, "label", ""))
	if nic, label, ok := strings.Cut(c.nic, ":"); ok {
		c.nic, c.iflabel = nic, label
	}
	if strings.ContainsAny(c.nic, " /") || len(c.nic) > unix.IFNAMSIZ-1 {
		return c, fmt.Errorf("Invalid interface name [%s]", c.nic)
	}
	if c.v6 && c.nic == "" && addr.IsLinkLocalUnicast() {
		return c, fmt.Errorf("'nic' parameter is mandatory for a link local address [%s]", raw)
	}

	c.brd = param(op, "broadcast", "")
	if c.brd != "" && c.brd != "+" && c.brd != "-" && !c.v6 {
		b, err := netip.ParseAddr(c.brd)
		if err != nil || !b.Is4() {
			return c, fmt.Errorf("Invalid broadcast address [%s]", c.brd)
		}
	}

	if c.arpN, err = intParam(op, "arp_count", 5); err != nil || c.arpN <= 0 {
		return c, fmt.Errorf("Invalid arp_count [%s]", op.Params["arp_count"])
	}
	ms, err := intParam(op, "arp_interval", 200)
	if err != nil || ms <= 0 {
		return c, fmt.Errorf("Invalid arp_interval [%s]", op.Params["arp_interval"])
	}
	c.arpGap = time.Duration(ms) * time.Millisecond
	return c, nil
}

// parsePrefix reads a prefix length 1..bits, or for IPv4 a dotted-quad
// mask with contiguous ones.
func parsePrefix(s string, bits int) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && len(s) <= 3 {
		if n < 1 || n > bits {
			return 0, fmt.Errorf("Invalid netmask specification [%s]", s)
		}
		return n, nil
	}
	if bits == 32 {
		if m, err := netip.ParseAddr(s); err == nil && m.Is4() {
			b := m.As4()
			ones, size := net.IPv4Mask(b[0], b[1], b[2], b[3]).Size()
			if size == 32 && ones >= 1 {
				return ones, nil
			}
		}
	}
	return 0, fmt.Errorf("Invalid netmask specification [%s]", s)
}

// ipTarget is where the address goes: an interface and a prefix length.
type ipTarget struct {
	link   netlink.Link
	prefix int
	label  string
}

// errNoLink is a nic that does not exist.
var errNoLink = errors.New("no such interface")

// resolve finds the interface and the prefix, as findif does. The error's
// RC says how a start would fail.
func (c ipConfig) resolve() (ipTarget, agents.RC, error) {
	t := ipTarget{prefix: c.prefix}
	var err error
	if c.nic != "" {
		t.link, err = netlink.LinkByName(c.nic)
		if err != nil {
			var nf netlink.LinkNotFoundError
			if errors.As(err, &nf) {
				return t, agents.RCErrConfigured, fmt.Errorf("Invalid interface name [%s]: %w", c.nic, errNoLink)
			}
			return t, agents.RCErrGeneric, fmt.Errorf("looking up interface %s: %v", c.nic, err)
		}
	}
	if t.link == nil || t.prefix < 0 {
		idx := 0
		if t.link != nil {
			idx = t.link.Attrs().Index
		}
		ridx, rprefix, found, err := findConnectedRoute(c.ip, c.family(), idx)
		if err != nil {
			return t, agents.RCErrGeneric, fmt.Errorf("listing routes: %v", err)
		}
		if !found {
			if t.link == nil {
				return t, agents.RCErrGeneric, fmt.Errorf("Unable to find nic or netmask for %s: no connected route contains it", c.ip)
			}
			return t, agents.RCErrGeneric, fmt.Errorf("Unable to find cidr_netmask for %s on %s: no connected route contains it", c.ip, c.nic)
		}
		if t.link == nil {
			if t.link, err = netlink.LinkByIndex(ridx); err != nil {
				return t, agents.RCErrGeneric, fmt.Errorf("looking up interface %d: %v", ridx, err)
			}
		}
		if t.prefix < 0 {
			t.prefix = rprefix
		}
	}
	if c.iflabel != "" && !c.v6 {
		t.label = t.link.Attrs().Name + ":" + c.iflabel
		if len(t.label) > unix.IFNAMSIZ-1 {
			return t, agents.RCErrConfigured, fmt.Errorf("Interface label [%s] exceeds maximum character limit of 15", t.label)
		}
	}
	return t, agents.RCOK, nil
}

// findConnectedRoute returns the interface and prefix of the longest
// connected route containing ip: scope link routes of the main table for
// IPv4 (what `ip route list match IP scope link` shows), gatewayless
// routes for IPv6, and lo's local route for 127.0.0.0/8. linkIndex > 0
// restricts the search to that interface.
func findConnectedRoute(ip net.IP, family, linkIndex int) (idx, prefix int, found bool, err error) {
	filter := &netlink.Route{Table: unix.RT_TABLE_MAIN}
	mask := uint64(netlink.RT_FILTER_TABLE)
	if family == netlink.FAMILY_V4 {
		filter.Scope = netlink.SCOPE_LINK
		mask |= netlink.RT_FILTER_SCOPE
	}
	if linkIndex > 0 {
		filter.LinkIndex = linkIndex
		mask |= netlink.RT_FILTER_OIF
	}
	best := -1
	pick := func(routes []netlink.Route, maxOnes int) {
		for _, r := range routes {
			if r.Dst == nil || r.Gw != nil || r.LinkIndex <= 0 || !r.Dst.Contains(ip) {
				continue
			}
			ones, _ := r.Dst.Mask.Size()
			if ones > maxOnes {
				continue
			}
			if ones >= best {
				best, idx = ones, r.LinkIndex
			}
		}
	}
	routes, err := retryDump(func() ([]netlink.Route, error) { return netlink.RouteListFiltered(family, filter, mask) })
	if err != nil {
		return 0, 0, false, err
	}
	pick(routes, 128)
	if best < 0 && family == netlink.FAMILY_V4 && ip.IsLoopback() {
		filter = &netlink.Route{Table: unix.RT_TABLE_LOCAL, Scope: netlink.SCOPE_HOST}
		mask = netlink.RT_FILTER_TABLE | netlink.RT_FILTER_SCOPE
		if linkIndex > 0 {
			filter.LinkIndex = linkIndex
			mask |= netlink.RT_FILTER_OIF
		}
		routes, err = retryDump(func() ([]netlink.Route, error) { return netlink.RouteListFiltered(family, filter, mask) })
		if err != nil {
			return 0, 0, false, err
		}
		pick(routes, 31)
	}
	return idx, best, best >= 0, nil
}

// retryDump repeats a netlink dump the kernel interrupted because the
// table changed meanwhile.
func retryDump[T any](f func() ([]T, error)) ([]T, error) {
	var out []T
	var err error
	for range 5 {
		out, err = f()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return out, err
		}
	}
	return out, err
}

// locate finds the address on the interfaces (on nic only when given),
// with the configured prefix when there is one.
func (c ipConfig) locate() (ipTarget, bool, error) {
	var links []netlink.Link
	if c.nic != "" {
		l, err := netlink.LinkByName(c.nic)
		if err != nil {
			var nf netlink.LinkNotFoundError
			if errors.As(err, &nf) {
				return ipTarget{}, false, nil
			}
			return ipTarget{}, false, err
		}
		links = []netlink.Link{l}
	} else {
		var err error
		if links, err = retryDump(netlink.LinkList); err != nil {
			return ipTarget{}, false, err
		}
	}
	for _, l := range links {
		addrs, err := retryDump(func() ([]netlink.Addr, error) { return netlink.AddrList(l, c.family()) })
		if err != nil {
			return ipTarget{}, false, err
		}
		for _, a := range addrs {
			if a.IPNet == nil || !a.IP.Equal(c.ip) {
				continue
			}
			ones, _ := a.Mask.Size()
			if c.prefix < 0 || ones == c.prefix {
				return ipTarget{link: l, prefix: ones}, true, nil
			}
		}
	}
	return ipTarget{}, false, nil
}

// served reports whether ip/prefix is configured on link.
func served(link netlink.Link, c ipConfig, prefix int) (bool, error) {
	addrs, err := retryDump(func() ([]netlink.Addr, error) { return netlink.AddrList(link, c.family()) })
	if err != nil {
		return false, err
	}
	for _, a := range addrs {
		if a.IPNet == nil || !a.IP.Equal(c.ip) {
			continue
		}
		if ones, _ := a.Mask.Size(); ones == prefix {
			return true, nil
		}
	}
	return false, nil
}

func permErr(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)
}

// Run implements ocf.Builtin.
func (a *IPaddr2) Run(ctx context.Context, op agents.Op) agents.Result {
	var r result
	switch op.Action {
	case "meta-data":
		return metaDataResult(a.MetaData())
	case "start", "stop", "monitor", "status", "validate-all":
	default:
		return unimplemented(op)
	}
	c, err := parseIPConfig(op)
	if err != nil {
		if op.Action == "stop" {
			r.logf("INFO: %v; nothing to remove", err)
			return r.done(agents.RCOK)
		}
		return r.fail(agents.RCErrConfigured, "%v", err)
	}
	t, rc, err := c.resolve()
	if err != nil {
		switch op.Action {
		case "start", "validate-all":
			return r.fail(rc, "%v", err)
		}
		// stop, monitor: without a route to tell the interface (an
		// interface set down loses its routes), look for the address
		// itself, so that a stop never leaves it behind.
		lt, found, lerr := c.locate()
		switch {
		case lerr != nil:
			return r.invalidEnv(op, agents.RCErrGeneric, "%v; listing addresses: %v", err, lerr)
		case !found && op.Action == "stop":
			r.logf("INFO: %v; %s is on no interface", err, c.ip)
			return r.done(agents.RCOK)
		case !found:
			return r.notRunning(op, "%v; %s is on no interface", err, c.ip)
		}
		r.logf("INFO: %v; %s found on %s", err, c.ip, lt.link.Attrs().Name)
		t = lt
	}
	name := t.link.Attrs().Name
	cidr := fmt.Sprintf("%s/%d", c.ip, t.prefix)
	if op.Action == "validate-all" {
		return r.done(agents.RCOK)
	}
	on, err := served(t.link, c, t.prefix)
	if err != nil {
		return r.fail(agents.RCErrGeneric, "listing addresses of %s: %v", name, err)
	}

	switch op.Action {
	case "monitor", "status":
		if on {
			return r.done(agents.RCOK)
		}
		return r.notRunning(op, "%s is not configured on %s", cidr, name)

	case "stop":
		if !on {
			r.logf("INFO: %s is not configured on %s", cidr, name)
			return r.done(agents.RCOK)
		}
		del := c.netlinkAddr(t)
		del.Label = "" // the kernel would only delete an address with that very label
		err := netlink.AddrDel(t.link, del)
		switch {
		case err == nil, errors.Is(err, unix.EADDRNOTAVAIL):
			r.logf("INFO: removed %s from %s", cidr, name)
			return r.done(agents.RCOK)
		case permErr(err):
			return r.fail(agents.RCErrPerm, "Unable to remove IP [%s] from interface [%s]: %v", cidr, name, err)
		}
		return r.fail(agents.RCErrGeneric, "Unable to remove IP [%s] from interface [%s]: %v", cidr, name, err)
	}

	// start
	if on {
		r.logf("INFO: %s is already configured on %s", cidr, name)
		return r.done(agents.RCOK)
	}
	err = netlink.AddrAdd(t.link, c.netlinkAddr(t))
	switch {
	case err == nil:
		r.logf("INFO: added %s to %s", cidr, name)
	case errors.Is(err, unix.EEXIST):
		r.logf("INFO: %s already exists on %s", cidr, name)
	case permErr(err):
		return r.fail(agents.RCErrPerm, "Failed to add %s to %s: %v", cidr, name, err)
	default:
		return r.fail(agents.RCErrGeneric, "Failed to add %s to %s: %v", cidr, name, err)
	}
	switch {
	case strings.HasPrefix(name, "lo"):
	case c.v6:
		r.logf("INFO: no unsolicited neighbour advertisements for IPv6 address %s", cidr)
	default:
		n, err := sendGratuitousARP(ctx, t.link, c.ip, c.arpN, c.arpGap)
		if err != nil {
			r.logf("WARNING: gratuitous ARP for %s on %s: sent %d of %d: %v", c.ip, name, n, c.arpN, err)
		} else {
			r.logf("INFO: sent %d gratuitous ARPs for %s on %s", n, c.ip, name)
		}
	}
	return r.done(agents.RCOK)
}

// netlinkAddr is the address to add or delete.
func (c ipConfig) netlinkAddr(t ipTarget) *netlink.Addr {
	a := &netlink.Addr{IPNet: &net.IPNet{IP: c.ip, Mask: net.CIDRMask(t.prefix, c.bits())}, Label: t.label}
	if c.ip.IsLoopback() && !c.v6 {
		a.Scope = unix.RT_SCOPE_HOST // as ip(8) does; the kernel refuses 127/8 with a wider scope
	}
	if !c.v6 {
		ip4 := c.ip.To4()
		switch c.brd {
		case "", "+":
			// netlink computes the all-ones broadcast for prefixes up to /30.
		case "-":
			a.Broadcast = ip4.Mask(a.Mask)
		default:
			a.Broadcast = net.ParseIP(c.brd).To4()
		}
	}
	return a
}
