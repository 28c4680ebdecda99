package config

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// The schema: which keys and sections each section may hold. Keys here are
// the Corosync 3 names; anything else is an unknown-key error, so a typo
// never silently falls back to a default (Corosync itself stores unknown
// keys in cmap and ignores them).

var (
	topSpec, totemSpec, interfaceSpec, nodelistSpec, nodeSpec,
	quorumSpec, loggingSpec, subsysSpec *spec
	allSpecs []*spec
)

const (
	whyRRP       = "the Corosync 2 redundant ring protocol; Corosync 3 and hakit use knet-style links: set link_mode and knet_link_priority"
	whyMulticast = "hakit links are unicast UDP between the ringN_addr addresses of the nodelist; there is no multicast or bind address to set"
	whyNoop      = "no effect in hakit"
)

func init() {
	totemSpec = &spec{
		path: "totem",
		keys: map[string]func(*decoder, *item){
			"version": func(d *decoder, it *item) {
				if v, ok := d.uintVal(it, math.MaxUint32, ""); ok {
					d.cfg.Totem.Version = int(v)
				}
			},
			"cluster_name": func(d *decoder, it *item) {
				if v, ok := d.text(it); ok {
					d.cfg.ClusterName = v
				}
			},
			"transport": func(d *decoder, it *item) {
				// Corosync silently falls back to knet on an unknown
				// transport; hakit says so instead.
				if v, ok := d.enum(it, "knet", "udp", "udpu"); ok {
					d.cfg.Totem.Transport = v
				}
			},
			"token":             msDefaultKey(func(t *Totem) *time.Duration { return &t.Token }, DefaultToken),
			"token_coefficient": msKey(func(t *Totem) *time.Duration { return &t.TokenCoefficient }),
			"token_retransmit":  msKey(func(t *Totem) *time.Duration { return &t.TokenRetransmit }),
			"hold":              msKey(func(t *Totem) *time.Duration { return &t.Hold }),
			"join":              msDefaultKey(func(t *Totem) *time.Duration { return &t.Join }, DefaultJoin),
			"send_join":         msKey(func(t *Totem) *time.Duration { return &t.SendJoin }),
			"consensus":         msKey(func(t *Totem) *time.Duration { return &t.Consensus }),
			"merge":             msDefaultKey(func(t *Totem) *time.Duration { return &t.Merge }, DefaultMerge),
			"downcheck":         msDefaultKey(func(t *Totem) *time.Duration { return &t.Downcheck }, DefaultDowncheck),
			"token_warning": func(d *decoder, it *item) {
				if v, ok := d.uintVal(it, 100, " (percent of the token timeout; 0 = off)"); ok {
					d.cfg.Totem.TokenWarning = int(v)
				}
			},
			"token_retransmits_before_loss_const": countDefaultKey(func(t *Totem) *int { return &t.TokenRetransmitsBeforeLossConst }, DefaultTokenRetransmitsBeforeLossConst),
			"fail_recv_const":                     countDefaultKey(func(t *Totem) *int { return &t.FailRecvConst }, DefaultFailRecvConst),
			"seqno_unchanged_const":               countDefaultKey(func(t *Totem) *int { return &t.SeqnoUnchangedConst }, DefaultSeqnoUnchangedConst),
			"max_messages":                        countDefaultKey(func(t *Totem) *int { return &t.MaxMessages }, DefaultMaxMessages),
			"window_size":                         countDefaultKey(func(t *Totem) *int { return &t.WindowSize }, DefaultWindowSize),
			"miss_count_const":                    countDefaultKey(func(t *Totem) *int { return &t.MissCountConst }, DefaultMissCountConst),
			"link_mode": func(d *decoder, it *item) {
				if it.value == "rr" {
					d.unsupported(it.line, "totem.link_mode: rr", "round-robin spreads consecutive frames over links with different latencies; hakit supports passive and active")
					return
				}
				if v, ok := d.enum(it, "passive", "active"); ok {
					d.cfg.Totem.LinkMode = v
				}
			},
			"ip_version": func(d *decoder, it *item) {
				if v, ok := d.enum(it, "ipv4", "ipv6", "ipv4-6", "ipv6-4"); ok {
					d.cfg.Totem.IPVersion = v
				}
			},
			"crypto_cipher": func(d *decoder, it *item) {
				if it.value == "none" {
					d.unsupported(it.line, "totem.crypto_cipher: none", "hakit always encrypts cluster traffic; use aes256, aes192 or aes128 with a shared keyfile")
					return
				}
				if v, ok := d.enum(it, "aes256", "aes192", "aes128"); ok {
					d.cfg.Totem.CryptoCipher = v
				}
			},
			"crypto_hash": func(d *decoder, it *item) {
				if it.value == "none" {
					d.unsupported(it.line, "totem.crypto_hash: none", "hakit always authenticates cluster traffic; use sha256, sha384, sha512, sha1 or md5")
					return
				}
				if v, ok := d.enum(it, "md5", "sha1", "sha256", "sha384", "sha512"); ok {
					d.cfg.Totem.CryptoHash = v
				}
			},
			"crypto_model": func(d *decoder, it *item) {
				if _, ok := d.enum(it, "nss", "openssl"); ok {
					d.warnf(it.line, "crypto_model has no effect in hakit: it uses Go's standard crypto library")
				}
			},
			"keyfile": func(d *decoder, it *item) {
				if v, ok := d.text(it); ok {
					d.cfg.Totem.KeyFile = v
				}
			},
			"config_version": func(d *decoder, it *item) {
				if v, ok := d.uintVal(it, math.MaxUint64, ""); ok {
					d.cfg.Totem.ConfigVersion = v
				}
			},
			"secauth": func(d *decoder, it *item) {
				if _, ok := d.enum(it, "on", "off"); ok {
					d.warnf(it.line, "secauth is deprecated (use crypto_cipher and crypto_hash); hakit always authenticates and encrypts, whatever its value")
				}
			},
			"nodeid": func(d *decoder, it *item) {
				if _, ok := d.uintVal(it, math.MaxUint32, ""); ok {
					d.warnf(it.line, "totem.nodeid is ignored: hakit takes every node's id from nodelist.node.nodeid")
				}
			},
			"threads": func(d *decoder, it *item) {
				if _, ok := d.uintVal(it, math.MaxUint32, ""); ok {
					d.warnf(it.line, "threads is ignored, as in Corosync 3")
				}
			},
			"vsftype": func(d *decoder, it *item) {
				d.warnf(it.line, "vsftype is ignored, as in Corosync 3")
			},
			"clear_node_high_bit": func(d *decoder, it *item) {
				if _, ok := d.enum(it, "yes", "no", "new"); ok {
					d.warnf(it.line, "clear_node_high_bit has no effect: it only shapes generated node ids, and hakit requires nodeid")
				}
			},
			"netmtu":              uintIgnored("hakit sizes its own frames (at most 64 KiB) and needs no MTU setting"),
			"knet_mtu":            uintIgnored("hakit sizes its own frames (at most 64 KiB) and needs no MTU setting"),
			"knet_pmtud_interval": uintIgnored("hakit does not run path-MTU discovery"),
			"max_network_delay":   uintIgnored("it only tunes heartbeat_failures_allowed, which hakit does not implement"),
			"block_unlisted_ips": func(d *decoder, it *item) {
				if v, ok := d.yesNo(it); ok && !v {
					d.warnf(it.line, "block_unlisted_ips: no has no effect: hakit always drops frames that do not come from an authenticated nodelist member")
				}
			},
			"cancel_token_hold_on_retransmit": func(d *decoder, it *item) {
				if _, ok := d.yesNo(it); ok {
					d.warnf(it.line, "cancel_token_hold_on_retransmit is not implemented by hakit and is ignored")
				}
			},
		},
		sections: map[string]func(*decoder, *item){"interface": decodeInterface},
		unsupported: map[string]string{
			"rrp_mode":                          whyRRP,
			"rrp_problem_count_timeout":         whyRRP,
			"rrp_problem_count_threshold":       whyRRP,
			"rrp_problem_count_mcast_threshold": whyRRP,
			"rrp_token_expired_timeout":         whyRRP,
			"rrp_autorecovery_check_timeout":    whyRRP,
			"knet_compression_model":            "hakit does not compress frames (membership traffic is small and compression before encryption leaks length information)",
			"knet_compression_threshold":        "hakit does not compress frames",
			"knet_compression_level":            "hakit does not compress frames",
			"heartbeat_failures_allowed":        "hakit detects failures through the token and knet-style link pings only",
			"key":                               "an inline key puts the secret in a file that is usually world-readable; write it to the file named by keyfile (corosync-keygen makes one)",
		},
	}

	interfaceSpec = &spec{
		path: "totem.interface",
		keys: map[string]func(*decoder, *item){
			"linknumber": func(d *decoder, it *item) {
				v, ok := d.uintVal(it, math.MaxUint8, "")
				if !ok {
					return
				}
				if v >= MaxLinks {
					d.errorf(it.line, "linknumber %d is out of range: at most %d links, numbered 0..%d", v, MaxLinks, MaxLinks-1)
					return
				}
				d.iface.LinkNumber = int(v)
			},
			"knet_link_priority": func(d *decoder, it *item) {
				if v, ok := d.uintVal(it, math.MaxUint8, ""); ok {
					d.iface.Priority = int(v)
				}
			},
			"knet_ping_interval": func(d *decoder, it *item) {
				if v, ok := d.uintVal(it, math.MaxUint32, " (milliseconds; 0 = derived from the token)"); ok {
					d.iface.PingInterval = ms(v)
				}
			},
			"knet_ping_timeout": func(d *decoder, it *item) {
				if v, ok := d.uintVal(it, math.MaxUint32, " (milliseconds; 0 = derived from the token)"); ok {
					d.iface.PingTimeout = ms(v)
				}
			},
			"knet_ping_precision": func(d *decoder, it *item) {
				if v, ok := d.uintVal(it, math.MaxUint32, ""); ok {
					d.iface.PingPrecision = int(v)
				}
			},
			"knet_pong_count": func(d *decoder, it *item) {
				if v, ok := d.uintVal(it, math.MaxUint32, ""); ok {
					d.iface.PongCount = int(v)
				}
			},
			"knet_transport": func(d *decoder, it *item) {
				if it.value == "sctp" {
					d.unsupported(it.line, "totem.interface.knet_transport: sctp", "hakit links are UDP (knet has deprecated SCTP)")
					return
				}
				d.enum(it, "udp")
			},
			"mcastport": func(d *decoder, it *item) {
				v, ok := d.uintVal(it, math.MaxUint16, "")
				if !ok {
					return
				}
				if v == 0 {
					d.errorf(it.line, "mcastport: 0 is not a usable UDP port")
					return
				}
				d.iface.MCastPort = int(v)
			},
		},
		sections: map[string]func(*decoder, *item){},
		unsupported: map[string]string{
			"bindnetaddr": whyMulticast,
			"mcastaddr":   whyMulticast,
			"broadcast":   whyMulticast,
			"ttl":         whyMulticast,
			"member":      "Corosync 1/2 member lists; list the nodes in nodelist { node { ... } } instead",
			"ringnumber":  "the Corosync 2 name of linknumber; Corosync 3 ignores it (so the block silently configures link 0): write linknumber",
		},
	}

	nodeSpec = &spec{
		path: "nodelist.node",
		keys: map[string]func(*decoder, *item){
			"nodeid": func(d *decoder, it *item) {
				v, ok := d.uintVal(it, math.MaxUint32, "")
				if !ok {
					return
				}
				if v == 0 {
					d.errorf(it.line, "nodeid: 0 is reserved; node ids start at 1")
					return
				}
				d.node.ID = uint32(v)
			},
			"name": func(d *decoder, it *item) {
				if v, ok := d.text(it); ok {
					d.node.Name = v
				}
			},
			"quorum_votes": func(d *decoder, it *item) {
				if v, ok := d.uintVal(it, math.MaxUint32, ""); ok {
					d.node.QuorumVotes = uint32(v)
				}
			},
		},
		sections: map[string]func(*decoder, *item){},
		dynamic:  decodeRingAddr,
		dynamicNames: []string{"ring0_addr", "ring1_addr", "ring2_addr", "ring3_addr",
			"ring4_addr", "ring5_addr", "ring6_addr", "ring7_addr"},
	}

	nodelistSpec = &spec{
		path:     "nodelist",
		keys:     map[string]func(*decoder, *item){},
		sections: map[string]func(*decoder, *item){"node": decodeNode},
	}

	quorumSpec = &spec{
		path: "quorum",
		keys: map[string]func(*decoder, *item){
			"provider": func(d *decoder, it *item) {
				if it.value != VotequorumProvider {
					d.errorf(it.line, "provider: hakit implements only %s, got %s", VotequorumProvider, quote(it.value))
					return
				}
				d.cfg.Quorum.Provider = it.value
			},
			"expected_votes": func(d *decoder, it *item) {
				if v, ok := d.uintVal(it, math.MaxUint32, " (0 = sum of the nodes' quorum_votes)"); ok {
					d.cfg.Quorum.ExpectedVotes = uint32(v)
				}
			},
			"two_node":          boolKey(func(q *Quorum) *bool { return &q.TwoNode }),
			"last_man_standing": boolKey(func(q *Quorum) *bool { return &q.LastManStanding }),
			"auto_tie_breaker":  boolKey(func(q *Quorum) *bool { return &q.AutoTieBreaker }),
			"wait_for_all": func(d *decoder, it *item) {
				if v, ok := d.zeroOne(it); ok {
					d.cfg.Quorum.SetWaitForAll(v)
				}
			},
			"last_man_standing_window": func(d *decoder, it *item) {
				if v, ok := d.uintVal(it, math.MaxUint32, " (milliseconds)"); ok {
					d.cfg.Quorum.LastManStandingWindow = ms(v)
				}
			},
			"auto_tie_breaker_node": func(d *decoder, it *item) {
				if _, _, err := parseTieBreaker(it.value); err != nil {
					d.errorf(it.line, "auto_tie_breaker_node: %v", err)
					return
				}
				d.cfg.Quorum.AutoTieBreakerNode = it.value
			},
			"votes": func(d *decoder, it *item) {
				if _, ok := d.uintVal(it, math.MaxUint32, ""); ok {
					d.warnf(it.line, "quorum.votes is ignored when a nodelist is present (as in Corosync): set quorum_votes in each node")
				}
			},
		},
		sections: map[string]func(*decoder, *item){},
		unsupported: map[string]string{
			"device":                  "quorum devices (qdevice/qnetd) are not implemented by hakit yet; use two_node with fencing, or an odd number of nodes",
			"allow_downscale":         "votequorum(5) itself calls it incomplete and unsupported",
			"expected_votes_tracking": "hakit does not persist the highest expected_votes seen",
			"leaving_timeout":         "hakit does not lower expected votes for nodes that leave cleanly",
		},
	}

	subsysSpec = &spec{
		path: "logging.logger_subsys",
		keys: map[string]func(*decoder, *item){
			"subsys":           func(d *decoder, it *item) { d.text(it) },
			"debug":            debugKey(nil),
			"to_stderr":        onOffKey(nil),
			"to_logfile":       onOffKey(nil),
			"to_syslog":        onOffKey(nil),
			"logfile":          func(d *decoder, it *item) { d.text(it) },
			"syslog_facility":  facilityKey,
			"syslog_priority":  priorityKey,
			"logfile_priority": priorityKey,
		},
		sections: map[string]func(*decoder, *item){},
	}

	loggingSpec = &spec{
		path: "logging",
		keys: map[string]func(*decoder, *item){
			"to_stderr":  onOffKey(func(l *Logging) *bool { return &l.ToStderr }),
			"to_logfile": onOffKey(func(l *Logging) *bool { return &l.ToLogfile }),
			"to_syslog":  onOffKey(func(l *Logging) *bool { return &l.ToSyslog }),
			"to_file": func(d *decoder, it *item) {
				if v, ok := d.onOff(it); ok {
					d.cfg.Logging.ToLogfile = v
					d.warnf(it.line, "to_file is obsolete: write to_logfile")
				}
			},
			"logfile": func(d *decoder, it *item) {
				if v, ok := d.text(it); ok {
					d.cfg.Logging.Logfile = v
				}
			},
			"debug": debugKey(func(l *Logging) *bool { return &l.Debug }),
			"timestamp": func(d *decoder, it *item) {
				if v, ok := d.enum(it, "on", "off", "hires"); ok {
					d.cfg.Logging.Timestamp = v != "off"
				}
			},
			"fileline":         onOffOnly,
			"function_name":    onOffOnly,
			"syslog_facility":  facilityKey,
			"syslog_priority":  priorityKey,
			"logfile_priority": priorityKey,
			"syslog_level": func(d *decoder, it *item) {
				if _, ok := d.enum(it, priorities...); ok {
					d.warnf(it.line, "syslog_level is obsolete: write syslog_priority")
				}
			},
		},
		sections: map[string]func(*decoder, *item){
			"logger_subsys": func(d *decoder, it *item) {
				d.walk(it, subsysSpec, "", map[string]int{})
				for _, c := range it.children {
					if c.name == "subsys" && !c.section {
						return
					}
				}
				d.errorf(it.line, "logger_subsys needs a subsys key naming the subsystem (QUORUM, TOTEM, ...)")
			},
		},
		unsupported: map[string]string{
			"logging_daemon": "the Corosync 1 per-daemon logging block; use logger_subsys",
		},
	}

	topSpec = &spec{
		sections: map[string]func(*decoder, *item){
			"totem":    topSection(totemSpec),
			"quorum":   topSection(quorumSpec),
			"logging":  topSection(loggingSpec),
			"nodelist": decodeNodelist,
		},
		keys: map[string]func(*decoder, *item){},
		unsupported: map[string]string{
			"nozzle":    "hakit does not create a libnozzle tap device routed over the cluster links",
			"system":    "process scheduling, priority and state_dir are set by hakit's service unit, not the configuration",
			"resources": "hakit does not watch its own memory use",
			"qb":        "hakit does not use libqb",
			"uidgid":    "hakit's local API permissions are set on its unix socket, not here",
			"service":   "Corosync 1 plugin loading; hakit's resource manager is built in",
			"aisexec":   "the Corosync 1 aisexec section",
			"amf":       "the Corosync 1 AMF service",
		},
	}
	allSpecs = []*spec{topSpec, totemSpec, interfaceSpec, nodelistSpec, nodeSpec, quorumSpec, loggingSpec, subsysSpec}
}

// topSection decodes a top-level section that Corosync merges when it
// appears twice (its keys all land in one cmap): hakit does the same.
func topSection(s *spec) func(*decoder, *item) {
	return func(d *decoder, it *item) {
		if _, ok := d.topLines[it.name]; !ok {
			d.topLines[it.name] = it.line
			d.cfg.lines[it.name] = it.line
		}
		d.walk(it, s, s.path+".", d.cfg.lines)
	}
}

func decodeNodelist(d *decoder, it *item) {
	// Corosync numbers nodes from 0 in every nodelist block, so a second
	// block overwrites the first node by node; refuse rather than mimic.
	if first, ok := d.topLines["nodelist"]; ok {
		d.errorf(it.line, "second nodelist section (the first is on line %d): put every node in one nodelist", first)
		return
	}
	d.topLines["nodelist"] = it.line
	d.cfg.lines["nodelist"] = it.line
	d.walk(it, nodelistSpec, "nodelist.", d.cfg.lines)
}

func decodeNode(d *decoder, it *item) {
	n := &Node{Addrs: map[int]string{}, QuorumVotes: 1, Line: it.line, keyLines: map[string]int{}}
	d.node = n
	d.walk(it, nodeSpec, "", n.keyLines)
	d.node = nil
	d.cfg.Nodes = append(d.cfg.Nodes, *n)
}

// decodeRingAddr handles ring0_addr .. ring7_addr.
func decodeRingAddr(d *decoder, it *item) bool {
	num, ok := strings.CutPrefix(it.name, "ring")
	if !ok {
		return false
	}
	num, ok = strings.CutSuffix(num, "_addr")
	if !ok || num == "" || strings.Trim(num, "0123456789") != "" {
		return false
	}
	link, err := strconv.Atoi(num)
	if err != nil || link >= MaxLinks {
		d.errorf(it.line, "%s: link number out of range: at most %d links, ring0_addr..ring%d_addr", clip(it.name), MaxLinks, MaxLinks-1)
		return true
	}
	// Record under the canonical name, so ring00_addr after ring0_addr
	// is reported as set twice.
	d.record(d.node.keyLines, fmt.Sprintf("ring%d_addr", link), it, "nodelist.node")
	if err := checkAddr(it.value); err != nil {
		d.errorf(it.line, "%s: %v", it.name, err)
		return true
	}
	d.node.Addrs[link] = it.value
	return true
}

// checkAddr accepts an IP literal (with an optional zone) or a host name.
// Host names are resolved by the transport, not here: parsing must not do
// I/O.
func checkAddr(s string) error {
	if s == "" {
		return errEmpty
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if len(s) > 253 {
		return errBadAddr(s)
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return errBadAddr(s)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return errBadAddr(s)
			}
		}
	}
	return nil
}

// msgError is a plain message that the caller wraps with key and line.
type msgError string

func (e msgError) Error() string { return string(e) }

const errEmpty = msgError("empty address")

func errBadAddr(s string) error {
	return msgError(quote(s) + " is neither an IP address nor a host name")
}

// decodeInterface stores an interface block as written: zero PongCount,
// PingPrecision and MCastPort (Corosync reads 0 as "the default") are
// filled in by Config.Interface, and Validate reports a second block for
// the same link.
func decodeInterface(d *decoder, it *item) {
	ifc := &Interface{Priority: DefaultKnetLinkPriority, Line: it.line, keyLines: map[string]int{}}
	d.iface = ifc
	d.walk(it, interfaceSpec, "", ifc.keyLines)
	d.iface = nil
	d.cfg.Totem.Interfaces = append(d.cfg.Totem.Interfaces, *ifc)
}

func boolKey(field func(*Quorum) *bool) func(*decoder, *item) {
	return func(d *decoder, it *item) {
		if v, ok := d.zeroOne(it); ok {
			*field(&d.cfg.Quorum) = v
		}
	}
}

func uintIgnored(reason string) func(*decoder, *item) {
	return func(d *decoder, it *item) {
		if _, ok := d.uintVal(it, math.MaxUint32, ""); ok {
			d.warnf(it.line, "%s has no effect in hakit: %s", it.name, reason)
		}
	}
}

// onOffKey stores a logging destination; a nil field validates only (for
// logger_subsys, which hakit does not apply).
func onOffKey(field func(*Logging) *bool) func(*decoder, *item) {
	return func(d *decoder, it *item) {
		if v, ok := d.onOff(it); ok && field != nil {
			*field(&d.cfg.Logging) = v
		}
	}
}

func debugKey(field func(*Logging) *bool) func(*decoder, *item) {
	return func(d *decoder, it *item) {
		if v, ok := d.enum(it, "on", "off", "trace"); ok && field != nil {
			*field(&d.cfg.Logging) = v != "off"
		}
	}
}

func onOffOnly(d *decoder, it *item) { d.enum(it, "on", "off") }

// priorities are libqb's level names that corosync.conf(5) documents.
var priorities = []string{"alert", "crit", "debug", "emerg", "err", "info", "notice", "warning"}

func priorityKey(d *decoder, it *item) { d.enum(it, priorities...) }

// facilityKey accepts the syslog facility names libqb knows.
func facilityKey(d *decoder, it *item) {
	d.enum(it, "daemon", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
		"auth", "authpriv", "cron", "ftp", "kern", "lpr", "mail", "news", "syslog", "user", "uucp")
}

// parseTieBreaker reads auto_tie_breaker_node: "lowest", "highest" or a
// space-separated list of node ids. votequorum silently disables the tie
// breaker on anything else; hakit refuses it, because a tie breaker that
// quietly is not there decides who survives a split.
func parseTieBreaker(s string) (mode string, ids []uint32, err error) {
	switch s {
	case "lowest", "highest":
		return s, nil, nil
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return "", nil, msgError(`want "lowest", "highest" or a space-separated list of node ids`)
	}
	for _, f := range fields {
		v, perr := strconv.ParseUint(f, 10, 32)
		if perr != nil || v == 0 {
			return "", nil, msgError(`want "lowest", "highest" or a space-separated list of node ids, got ` + quote(s))
		}
		ids = append(ids, uint32(v))
	}
	return "list", ids, nil
}
