package config

import (
	"time"
)

// Corosync 3.1+ defaults (corosync.conf(5); exec/totemconfig.c). token was
// 1000 ms before 3.1.0.
const (
	DefaultToken                           = 3000 * time.Millisecond
	DefaultTokenCoefficient                = 650 * time.Millisecond
	DefaultTokenRetransmitsBeforeLossConst = 4
	DefaultTokenWarning                    = 75 // percent of the token timeout
	DefaultJoin                            = 50 * time.Millisecond
	DefaultSendJoin                        = 0
	DefaultMerge                           = 200 * time.Millisecond
	DefaultDowncheck                       = 1000 * time.Millisecond
	DefaultFailRecvConst                   = 2500
	DefaultSeqnoUnchangedConst             = 30
	DefaultMaxMessages                     = 17
	DefaultWindowSize                      = 50
	DefaultMissCountConst                  = 5
	DefaultKnetPongCount                   = 2 // libknet's own default is 5; Corosync overrides it
	DefaultKnetPingPrecision               = 2048
	DefaultKnetLinkPriority                = 1
	DefaultMCastPort                       = 5405 // link N uses DefaultMCastPort+N unless mcastport is set
	DefaultLastManStandingWindow           = 10000 * time.Millisecond
	DefaultKeyFile                         = "/etc/corosync/authkey"
	VotequorumProvider                     = "corosync_votequorum"

	// MaxLinks is knet's KNET_MAX_LINK and Corosync's INTERFACE_MAX.
	MaxLinks = 8
	// MaxNodes is Corosync's PROCESSOR_COUNT_MAX.
	MaxNodes = 384

	// minTimeout is Corosync's MINIMUM_TIMEOUT, three kernel ticks at
	// HZ=100; minHold is its MINIMUM_TIMEOUT_HOLD (0.8*30 - 10).
	minTimeout = 30 * time.Millisecond
	minHold    = 14 * time.Millisecond
)

// Config is a parsed and validated corosync.conf.
type Config struct {
	ClusterName string // totem.cluster_name
	Totem       Totem
	Nodes       []Node // nodelist, in file order
	Quorum      Quorum
	Logging     Logging
	// Warnings are findings Corosync would accept but an operator should
	// see, each starting with "file:line:"; sorted by line, the first 50
	// and then a count of the rest.
	Warnings []string

	file  string         // the name given to Parse, for positions
	lines map[string]int // dotted key path ("totem.token") -> line it was last set on
}

// Totem is the totem { } section. Durations are whole milliseconds in the
// file. A zero TokenRetransmit, Hold or Consensus means "derive it" (see the
// Effective methods), exactly as an absent or zero key does in Corosync.
type Totem struct {
	Version   int    // must be 2
	Transport string // "knet" (default); "udp"/"udpu" are accepted with a warning, hakit always uses its own links

	Token            time.Duration // base token timeout; see EffectiveToken
	TokenCoefficient time.Duration // added per node beyond two; 0 turns scaling off
	TokenRetransmit  time.Duration // 0 = EffectiveToken/(TokenRetransmitsBeforeLossConst+0.2)
	Hold             time.Duration // 0 = EffectiveTokenRetransmit*0.8
	Join             time.Duration
	SendJoin         time.Duration // upper bound of a random delay before sending a join; 0 = none
	Consensus        time.Duration // 0 = 1.2*EffectiveToken
	Merge            time.Duration
	Downcheck        time.Duration
	TokenWarning     int // percent of the effective token after which a late token is logged; 0 = off

	TokenRetransmitsBeforeLossConst int
	FailRecvConst                   int
	SeqnoUnchangedConst             int
	MaxMessages                     int
	WindowSize                      int
	MissCountConst                  int

	LinkMode     string // "passive" (default) | "active"
	IPVersion    string // "ipv6-4" (knet default), "ipv4-6", "ipv4", "ipv6": which family a host name resolves to first
	CryptoCipher string // aes256 (default) | aes192 | aes128; hakit always encrypts
	CryptoHash   string // sha256 (default) | sha1 | sha384 | sha512 | md5; hakit always authenticates
	KeyFile      string // default /etc/corosync/authkey

	// ConfigVersion stops a node with an older file from joining: Corosync
	// exits on first join when its config_version is lower than the
	// cluster's.
	ConfigVersion uint64

	Interfaces []Interface // interface { } blocks in file order; see Config.Interface for every link
}

// Interface is one totem.interface { } block: per-link knet settings.
type Interface struct {
	LinkNumber int
	// Priority is knet_link_priority, 0-255, default 1. In passive mode
	// traffic uses the up link with the highest priority, ties going to the
	// lowest link number.
	Priority int
	// PingInterval and PingTimeout are 0 when derived from the token; see
	// Config.KnetPingTimers.
	PingInterval, PingTimeout time.Duration
	PongCount                 int // pongs needed to mark the link up; 0 = 2
	PingPrecision             int // samples in the latency average; 0 = 2048
	MCastPort                 int // UDP port; 0 = 5405+LinkNumber
	Line                      int // line of "interface {"; 0 when built in code

	keyLines map[string]int
}

// Node is one nodelist.node { } block.
type Node struct {
	ID          uint32         // nodeid: required, > 0, unique
	Name        string         // what Pacemaker and hactl call the node; required with more than one link
	Addrs       map[int]string // link number -> ringN_addr (IP address or host name)
	QuorumVotes uint32         // default 1
	Line        int            // line of "node {"; 0 when built in code

	keyLines map[string]int
}

// Quorum is the quorum { } section (votequorum(5)).
type Quorum struct {
	Provider              string // must be corosync_votequorum
	ExpectedVotes         uint32 // 0 = sum of the nodes' votes; see Config.ExpectedVotes
	TwoNode               bool
	WaitForAll            bool // as written; Config.WaitForAll applies the two_node default
	LastManStanding       bool
	AutoTieBreaker        bool
	LastManStandingWindow time.Duration // default 10 s
	AutoTieBreakerNode    string        // "lowest" (default) | "highest" | space-separated node ids

	// waitForAllSet records that wait_for_all was written, because
	// two_node turns it on only when the user did not say otherwise.
	waitForAllSet bool
}

// SetWaitForAll sets wait_for_all explicitly, as writing the key does, so
// that two_node no longer implies it.
func (q *Quorum) SetWaitForAll(v bool) {
	q.WaitForAll = v
	q.waitForAllSet = true
}

// Logging is the logging { } section. logger_subsys blocks, fileline,
// function_name and the syslog/logfile priorities are validated but do not
// change hakit's slog output.
type Logging struct {
	ToStderr, ToLogfile, ToSyslog bool // default stderr and syslog, as in Corosync
	Debug                         bool // debug: on or trace
	Timestamp                     bool // default on (Corosync 3 defaults to hires)
	Logfile                       string
}

// DefaultTotem returns a totem section holding Corosync 3.1's defaults, for
// configurations built in code (the simulator) rather than parsed.
func DefaultTotem() Totem {
	return Totem{
		Version:                         2,
		Transport:                       "knet",
		Token:                           DefaultToken,
		TokenCoefficient:                DefaultTokenCoefficient,
		Join:                            DefaultJoin,
		SendJoin:                        DefaultSendJoin,
		Merge:                           DefaultMerge,
		Downcheck:                       DefaultDowncheck,
		TokenWarning:                    DefaultTokenWarning,
		TokenRetransmitsBeforeLossConst: DefaultTokenRetransmitsBeforeLossConst,
		FailRecvConst:                   DefaultFailRecvConst,
		SeqnoUnchangedConst:             DefaultSeqnoUnchangedConst,
		MaxMessages:                     DefaultMaxMessages,
		WindowSize:                      DefaultWindowSize,
		MissCountConst:                  DefaultMissCountConst,
		LinkMode:                        "passive",
		IPVersion:                       "ipv6-4",
		CryptoCipher:                    "aes256",
		CryptoHash:                      "sha256",
		KeyFile:                         DefaultKeyFile,
	}
}

func defaultConfig(file string) *Config {
	t := DefaultTotem()
	t.Version = 0 // Corosync refuses a file without version: 2
	return &Config{
		Totem: t,
		Quorum: Quorum{
			LastManStandingWindow: DefaultLastManStandingWindow,
			AutoTieBreakerNode:    "lowest",
		},
		Logging: Logging{ToStderr: true, ToSyslog: true, Timestamp: true},
		file:    file,
		lines:   map[string]int{},
	}
}
