package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustParseFile(t *testing.T, name string) *Config {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(name, src)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return cfg
}

func TestReferenceTwoNode(t *testing.T) {
	c := mustParseFile(t, "two-node.conf")
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %q", c.Warnings)
	}
	iv0, to0, pc0 := c.KnetPingTimers(0)
	iv1, to1, pc1 := c.KnetPingTimers(1)
	vm2, ok := c.NodeByName("vm-node2")
	if !ok {
		t.Fatal("NodeByName(vm-node2) not found")
	}
	ms := time.Millisecond
	checks := []struct {
		what      string
		got, want any
	}{
		{"ClusterName", c.ClusterName, "hacluster"},
		{"Version", c.Totem.Version, 2},
		{"Transport", c.Totem.Transport, "knet"},
		{"LinkMode", c.Totem.LinkMode, "passive"},
		{"CryptoCipher", c.Totem.CryptoCipher, "aes256"},
		{"CryptoHash", c.Totem.CryptoHash, "sha256"},
		{"KeyFile", c.Totem.KeyFile, "/etc/corosync/authkey"},
		{"IPVersion", c.Totem.IPVersion, "ipv6-4"},
		{"Token", c.Totem.Token, 3000 * ms},
		{"TokenCoefficient", c.Totem.TokenCoefficient, 650 * ms},
		{"Join", c.Totem.Join, 50 * ms},
		{"SendJoin", c.Totem.SendJoin, time.Duration(0)},
		{"Merge", c.Totem.Merge, 200 * ms},
		{"Downcheck", c.Totem.Downcheck, 1000 * ms},
		{"Consensus (unset)", c.Totem.Consensus, time.Duration(0)},
		{"TokenRetransmitsBeforeLossConst", c.Totem.TokenRetransmitsBeforeLossConst, 4},
		{"FailRecvConst", c.Totem.FailRecvConst, 2500},
		{"SeqnoUnchangedConst", c.Totem.SeqnoUnchangedConst, 30},
		{"MaxMessages", c.Totem.MaxMessages, 17},
		{"WindowSize", c.Totem.WindowSize, 50},
		{"MissCountConst", c.Totem.MissCountConst, 5},
		{"TokenWarning", c.Totem.TokenWarning, 75},
		{"EffectiveToken", c.EffectiveToken(), 3000 * ms},
		{"EffectiveConsensus", c.EffectiveConsensus(), 3600 * ms},
		{"EffectiveTokenRetransmit", c.EffectiveTokenRetransmit(), 3000 * ms * 10 / 42},
		{"EffectiveHold", c.EffectiveHold(), 3000 * ms * 10 / 42 * 4 / 5},
		{"ping interval link0", iv0, 750 * ms},
		{"ping timeout link0", to0, 1500 * ms},
		{"pong count link0", pc0, 2},
		{"ping interval link1", iv1, 750 * ms},
		{"ping timeout link1", to1, 1500 * ms},
		{"pong count link1", pc1, 2},
		{"Links", c.Links(), []int{0, 1}},
		{"link0 priority", c.Interface(0).Priority, 20},
		{"link1 priority", c.Interface(1).Priority, 10},
		{"link0 port", c.Interface(0).MCastPort, 5405},
		{"link1 port", c.Interface(1).MCastPort, 5406},
		{"nodes", len(c.Nodes), 2},
		{"node1", c.Nodes[0].ID, uint32(1)},
		{"node1 ring0", c.Nodes[0].Addrs[0], "10.0.0.1"},
		{"node1 ring1", c.Nodes[0].Addrs[1], "192.168.122.11"},
		{"node1 votes", c.Nodes[0].QuorumVotes, uint32(1)},
		{"vm-node2 id", vm2.ID, uint32(2)},
		{"vm-node2 ring0", vm2.Addrs[0], "10.0.0.2"},
		{"vm-node2 ring1", vm2.Addrs[1], "192.168.122.12"},
		{"vm-node2 line", vm2.Line, 29},
		{"Provider", c.Quorum.Provider, "corosync_votequorum"},
		{"TwoNode", c.Quorum.TwoNode, true},
		{"WaitForAll field (unset)", c.Quorum.WaitForAll, false},
		{"WaitForAll() (implied by two_node)", c.WaitForAll(), true},
		{"ExpectedVotes", c.ExpectedVotes(), uint32(2)},
		{"LastManStandingWindow", c.Quorum.LastManStandingWindow, 10 * time.Second},
		{"AutoTieBreakerNode", c.Quorum.AutoTieBreakerNode, "lowest"},
		{"ToLogfile", c.Logging.ToLogfile, true},
		{"ToSyslog", c.Logging.ToSyslog, true},
		{"ToStderr (default)", c.Logging.ToStderr, true},
		{"Timestamp", c.Logging.Timestamp, true},
		{"Debug", c.Logging.Debug, false},
		{"Logfile", c.Logging.Logfile, "/var/log/hakit/hanode.log"},
	}
	for _, ch := range checks {
		if !equal(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.what, ch.got, ch.want)
		}
	}
	// 3000/4.2 is 714.285714 ms; Corosync truncates to 714 ms.
	if rt := c.EffectiveTokenRetransmit(); rt < 714*ms || rt >= 715*ms {
		t.Errorf("EffectiveTokenRetransmit = %v, want 714.28 ms", rt)
	}
	if _, ok := c.NodeByName("10.0.0.1"); !ok {
		t.Error("NodeByName should fall back to ring0_addr")
	}
	if _, ok := c.NodeByName("vm-node3"); ok {
		t.Error("NodeByName(vm-node3) found a node")
	}
}

func equal(a, b any) bool {
	if as, ok := a.([]int); ok {
		bs, ok := b.([]int)
		return ok && slices.Equal(as, bs)
	}
	return a == b
}

func TestThreeNode(t *testing.T) {
	c := mustParseFile(t, "three-node.conf")
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %q", c.Warnings)
	}
	iv, to, pc := c.KnetPingTimers(0)
	ms := time.Millisecond
	checks := []struct {
		what      string
		got, want any
	}{
		{"EffectiveToken", c.EffectiveToken(), 3650 * ms},
		{"EffectiveConsensus", c.EffectiveConsensus(), 4380 * ms},
		{"ping interval", iv, 912500 * time.Microsecond},
		{"ping timeout", to, 1825 * ms},
		{"pong count", pc, 2},
		{"WaitForAll", c.WaitForAll(), false},
		{"ExpectedVotes", c.ExpectedVotes(), uint32(3)},
		{"Links", c.Links(), []int{0}},
		{"default priority", c.Interface(0).Priority, 1},
		{"default port", c.Interface(0).MCastPort, 5405},
		{"Interfaces", len(c.Totem.Interfaces), 0},
	}
	for _, ch := range checks {
		if !equal(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.what, ch.got, ch.want)
		}
	}
}

func TestPCSStyle(t *testing.T) {
	c := mustParseFile(t, "pcs-style.conf")
	want := []string{
		"pcs-style.conf:9: secauth is deprecated",
		"pcs-style.conf:11: consensus 6000 ms is less than 1.2 * effective token (6780 ms)",
	}
	if len(c.Warnings) != len(want) {
		t.Fatalf("warnings = %q, want %d", c.Warnings, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(c.Warnings[i], w) {
			t.Errorf("warning %d = %q, want prefix %q", i, c.Warnings[i], w)
		}
	}
	if got := c.EffectiveToken(); got != 5650*time.Millisecond {
		t.Errorf("EffectiveToken = %v", got)
	}
	if got := c.EffectiveConsensus(); got != 6000*time.Millisecond {
		t.Errorf("EffectiveConsensus = %v, want the explicit 6000 ms", got)
	}
	if got := c.ExpectedVotes(); got != 4 {
		t.Errorf("ExpectedVotes = %d, want 4", got)
	}
	n, ok := c.NodeByName("node-c.example.com")
	if !ok || n.QuorumVotes != 2 || n.Addrs[0] != "fd00::13" {
		t.Errorf("node-c = %+v, %v", n, ok)
	}
	if !c.WaitForAll() || c.Quorum.LastManStanding {
		t.Errorf("quorum = %+v", c.Quorum)
	}
	if !c.Logging.Timestamp || c.Logging.Debug {
		t.Errorf("logging = %+v", c.Logging)
	}
}

// base is a minimal valid file; the error cases edit it so that the line
// of the edit is obvious.
const base = `totem {
	version: 2
}
nodelist {
	node {
		nodeid: 1
		name: a
		ring0_addr: 10.0.0.1
	}
	node {
		nodeid: 2
		name: b
		ring0_addr: 10.0.0.2
	}
}
quorum {
	provider: corosync_votequorum
}
`

// insert puts lines before line n of src, so the first of them becomes
// line n.
func insert(src string, n int, lines ...string) string {
	all := strings.Split(src, "\n")
	out := slices.Concat(all[:n-1], lines, all[n-1:])
	return strings.Join(out, "\n")
}

// replace swaps line n of src for text.
func replace(src string, n int, text string) string {
	all := strings.Split(src, "\n")
	all[n-1] = text
	return strings.Join(all, "\n")
}

func TestBaseIsValid(t *testing.T) {
	c, err := Parse("test.conf", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %q", c.Warnings)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name        string
		src         string
		line        int    // 0: no line
		msg         string // the whole message when exact, else a substring
		exact       bool
		unsupported bool
	}{
		// unknown names
		{"unknown key with suggestion", insert(base, 18, "\ttwo_nodes: 1"), 18,
			"test.conf:18: unknown key two_nodes in quorum (did you mean two_node?)", true, false},
		{"unknown section with suggestion", insert(base, 3, "\tinterfce {", "\t}"), 3,
			"test.conf:3: unknown section interfce in totem (did you mean interface?)", true, false},
		{"misplaced key", insert(base, 3, "\ttwo_node: 1"), 3,
			"unknown key two_node in totem (two_node belongs in quorum)", false, false},
		{"unknown top-level section", insert(base, 19, "quorom {", "}"), 19,
			"unknown section quorom in the top level (did you mean quorum?)", false, false},
		{"unknown node key", insert(base, 9, "\t\tring0_adr: 10.0.0.9"), 9,
			"unknown key ring0_adr in nodelist.node (did you mean ring0_addr?)", false, false},
		{"key used as section", insert(base, 3, "\ttoken {", "\t}"), 3,
			"token is a key, not a section", false, false},

		// known but unsupported
		{"rrp_mode", insert(base, 3, "\trrp_mode: passive"), 3,
			"test.conf: unsupported option totem.rrp_mode (line 3): the Corosync 2 redundant ring protocol", false, true},
		{"nozzle", insert(base, 19, "nozzle {", "\tname: noz01", "}"), 19,
			"unsupported option nozzle (line 19)", false, true},
		{"qdevice", insert(base, 18, "\tdevice {", "\t\tmodel: net", "\t}"), 18,
			"unsupported option quorum.device (line 18): quorum devices (qdevice/qnetd)", false, true},
		{"bindnetaddr", insert(base, 3, "\tinterface {", "\t\tbindnetaddr: 10.0.0.0", "\t}"), 4,
			"unsupported option totem.interface.bindnetaddr (line 4)", false, true},
		{"mcastaddr", insert(base, 3, "\tinterface {", "\t\tmcastaddr: 239.255.1.1", "\t}"), 4,
			"unsupported option totem.interface.mcastaddr (line 4)", false, true},
		{"ringnumber", insert(base, 3, "\tinterface {", "\t\tringnumber: 0", "\t}"), 4,
			"unsupported option totem.interface.ringnumber (line 4): the Corosync 2 name of linknumber", false, true},
		{"link_mode rr", insert(base, 3, "\tlink_mode: rr"), 3,
			"unsupported option totem.link_mode: rr (line 3)", false, true},
		{"crypto_cipher none", insert(base, 3, "\tcrypto_cipher: none"), 3,
			"unsupported option totem.crypto_cipher: none (line 3): hakit always encrypts", false, true},
		{"crypto_hash none", insert(base, 3, "\tcrypto_hash: none"), 3,
			"unsupported option totem.crypto_hash: none (line 3)", false, true},
		{"compression", insert(base, 3, "\tknet_compression_model: zlib"), 3,
			"unsupported option totem.knet_compression_model (line 3)", false, true},
		{"allow_downscale", insert(base, 18, "\tallow_downscale: 1"), 18,
			"unsupported option quorum.allow_downscale (line 18)", false, true},
		{"sctp", insert(base, 3, "\tinterface {", "\t\tknet_transport: sctp", "\t}"), 4,
			"unsupported option totem.interface.knet_transport: sctp (line 4)", false, true},
		{"inline key", insert(base, 3, "\tkey: 0123456789abcdef"), 3,
			"unsupported option totem.key (line 3)", false, true},

		// invalid values
		{"non-numeric token", insert(base, 3, "\ttoken: 3s"), 3,
			`test.conf:3: token: want an integer in 0..4294967295 (milliseconds), got "3s"`, true, false},
		{"trailing comment", insert(base, 3, "\ttoken: 3000 # three seconds"), 3,
			"corosync.conf has no trailing comments", false, false},
		{"negative token", insert(base, 3, "\ttoken: -1"), 3,
			`token: want an integer in 0..4294967295 (milliseconds), got "-1"`, false, false},
		{"priority out of range", insert(base, 3, "\tinterface {", "\t\tknet_link_priority: 256", "\t}"), 4,
			`knet_link_priority: want an integer in 0..255, got "256"`, false, false},
		{"nodeid 0", replace(base, 6, "\t\tnodeid: 0"), 6,
			"test.conf:6: nodeid: 0 is reserved; node ids start at 1", true, false},
		{"nodeid missing", replace(base, 11, "\t\t# no nodeid"), 10,
			"node b has no nodeid", false, false},
		{"duplicate nodeid", replace(base, 11, "\t\tnodeid: 1"), 11,
			"test.conf:11: nodeid 1 is used twice: by node a (line 5) and node b", true, false},
		{"duplicate name", replace(base, 12, "\t\tname: a"), 12,
			"node name a is used twice (lines 5 and 10)", false, false},
		{"links differ between nodes", insert(base, 9, "\t\tring1_addr: 192.168.0.1"), 11,
			"node b has links [0] but node a (line 5) has [0 1]: every node must have the same set of ringN_addr links", false, false},
		{"ring8_addr", insert(base, 9, "\t\tring8_addr: 192.168.0.1"), 9,
			"ring8_addr: link number out of range: at most 8 links", false, false},
		{"linknumber 8", insert(base, 3, "\tinterface {", "\t\tlinknumber: 8", "\t}"), 4,
			"linknumber 8 is out of range: at most 8 links, numbered 0..7", false, false},
		{"interface without addresses", insert(base, 3, "\tinterface {", "\t\tlinknumber: 1", "\t}"), 3,
			"interface linknumber 1 has no ring1_addr in the nodelist", false, false},
		{"duplicate interface", insert(base, 3, "\tinterface {", "\t}", "\tinterface {", "\t\tlinknumber: 0", "\t}"), 5,
			"a second interface block for linknumber 0 (the first is on line 3)", false, false},
		{"same address twice", replace(base, 13, "\t\tring0_addr: 10.0.0.1"), 13,
			"ring0_addr 10.0.0.1 is used by two nodes", false, false},
		{"mixed families", replace(base, 13, "\t\tring0_addr: fd00::2"), 13,
			"link 0 mixes address families", false, false},
		{"bad address", replace(base, 13, "\t\tring0_addr: 10.0.0.2 # b"), 13,
			`ring0_addr: "10.0.0.2 # b" is neither an IP address nor a host name`, false, false},
		{"multi-link without names", insert(insert(replace(replace(base, 7, "\t\t# a"), 12, "\t\t# b"), 14, "\t\tring1_addr: 10.1.0.2"), 9, "\t\tring1_addr: 10.1.0.1"), 5,
			"with more than one link every node needs one", false, false},
		{"consensus below join", insert(base, 3, "\tconsensus: 40"), 3,
			"consensus 40 ms may not be less than join 50 ms", false, false},
		{"derived consensus below join", insert(base, 3, "\ttoken: 40", "\ttoken_retransmits_before_loss_const: 1"), 3,
			"consensus 48 ms may not be less than join 50 ms", false, false},
		{"last_man_standing with weighted votes", insert(insert(base, 18, "\tlast_man_standing: 1"), 14, "\t\tquorum_votes: 2"), 14,
			"last_man_standing needs quorum_votes of at most 1 on every node", false, false},
		{"token below minimum", insert(base, 3, "\ttoken: 20"), 3,
			"totem.token 20 ms is out of range: want 30 ms..", false, false},
		{"token_retransmit derived below minimum", insert(base, 3, "\ttoken: 100"), 3,
			"gives a token retransmit of", false, false},
		{"token_warning over 100", insert(base, 3, "\ttoken_warning: 101"), 3,
			"token_warning: want an integer in 0..100", false, false},
		{"bad transport", insert(base, 3, "\ttransport: tcp"), 3,
			`transport: want one of knet, udp, udpu, got "tcp"`, false, false},
		{"case-sensitive value", insert(base, 3, "\tlink_mode: Passive"), 3,
			"(values are case-sensitive)", false, false},
		{"two_node yes", insert(base, 18, "\ttwo_node: yes"), 18,
			`two_node: want 0 or 1, got "yes"`, false, false},
		{"two_node with auto_tie_breaker", insert(base, 18, "\ttwo_node: 1", "\tauto_tie_breaker: 1"), 19,
			"two_node and auto_tie_breaker are not compatible", false, false},
		{"bad tie breaker", insert(base, 18, "\tauto_tie_breaker: 1", "\tauto_tie_breaker_node: first"), 19,
			`auto_tie_breaker_node: want "lowest", "highest" or a space-separated list of node ids`, false, false},
		{"tie breaker list outside the nodelist", insert(base, 18, "\tauto_tie_breaker: 1", "\tauto_tie_breaker_node: 7 8"), 19,
			"auto_tie_breaker_node: none of the node ids 7 8 is in the nodelist", false, false},
		{"wrong provider", replace(base, 17, "\tprovider: corosync_quorum"), 17,
			`provider: hakit implements only corosync_votequorum, got "corosync_quorum"`, false, false},
		{"missing provider", replace(base, 17, "\t# no provider"), 16,
			"quorum.provider is required", false, false},
		{"missing version", replace(base, 2, "\t# no version"), 1,
			"totem.version is required", false, false},
		{"version 1", replace(base, 2, "\tversion: 1"), 2,
			"totem.version: want 2", false, false},
		{"to_logfile without logfile", base + "logging {\n\tto_logfile: yes\n}\n", 20,
			"to_logfile is on but no logfile is set", false, false},
		{"missing nodelist", "totem {\n\tversion: 2\n}\nquorum {\n\tprovider: corosync_votequorum\n}\n", 0,
			"test.conf: missing nodelist { } section", false, false},
		{"empty nodelist", "totem {\n\tversion: 2\n}\nnodelist {\n}\nquorum {\n\tprovider: corosync_votequorum\n}\n", 4,
			"nodelist has no node { } blocks", false, false},
		{"second nodelist", base + "nodelist {\n}\n", 19,
			"second nodelist section (the first is on line 4)", false, false},

		// syntax
		{"unclosed section", replace(base, 15, ""), 4,
			"test.conf:4: section nodelist is never closed (missing '}')", true, false},
		{"extra closing brace", insert(base, 19, "}"), 19,
			"unexpected '}': no section is open", false, false},
		{"no colon", insert(base, 3, "\ttoken 3000"), 3,
			"line is neither a section start", false, false},
		{"text after brace", replace(base, 1, "totem { version: 2"), 1,
			"extra characters after '{'", false, false},
		{"text around closing brace", replace(base, 3, "} # end totem"), 3,
			"extra characters before or after '}'", false, false},
		{"empty key", insert(base, 3, "\t: 3000"), 3,
			"missing key name before ':'", false, false},
		{"section without name", insert(base, 3, "\t{", "\t}"), 3,
			"missing section name before '{'", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.conf", []byte(tc.src))
			if err == nil {
				t.Fatalf("no error; input:\n%s", tc.src)
			}
			var list Errors
			if !errors.As(err, &list) {
				t.Fatalf("error %T is not Errors", err)
			}
			for _, e := range list {
				var (
					line int
					ue   *UnsupportedError
					pe   *Error
				)
				switch {
				case errors.As(e, &ue):
					line = ue.Line
				case errors.As(e, &pe):
					line = pe.Line
				default:
					t.Fatalf("error %T (%v) is neither *Error nor *UnsupportedError", e, e)
				}
				if line != tc.line || (ue != nil) != tc.unsupported {
					continue
				}
				if tc.exact && e.Error() == tc.msg || !tc.exact && strings.Contains(e.Error(), tc.msg) {
					return
				}
			}
			t.Fatalf("no error at line %d (unsupported=%v) matching %q; got:\n%v", tc.line, tc.unsupported, tc.msg, err)
		})
	}
}

func TestUnbalancedFile(t *testing.T) {
	src, err := os.ReadFile("testdata/unbalanced.conf")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("unbalanced.conf", src)
	if err == nil || err.Error() != "unbalanced.conf:1: section totem is never closed (missing '}')" {
		t.Fatalf("err = %v", err)
	}
}

// A Corosync 2 file gets every unsupported option reported at once, in
// line order.
func TestCorosync2File(t *testing.T) {
	src, err := os.ReadFile("testdata/corosync2-rrp.conf")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("corosync.conf", src)
	var list Errors
	if !errors.As(err, &list) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		"corosync.conf: unsupported option totem.rrp_mode (line 8)",
		"corosync.conf: unsupported option totem.interface.ringnumber (line 10)",
		"corosync.conf: unsupported option totem.interface.bindnetaddr (line 11)",
		"corosync.conf: unsupported option totem.interface.mcastaddr (line 12)",
	}
	if len(list) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(list), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(list[i].Error(), w) {
			t.Errorf("error %d = %q, want prefix %q", i, list[i], w)
		}
	}
}

func TestWarnings(t *testing.T) {
	threeNodes := insert(base, 15, "\tnode {", "\t\tnodeid: 3", "\t\tname: c", "\t\tring0_addr: 10.0.0.3", "\t}")
	cases := []struct {
		name string
		src  string
		want string // prefix of one warning
	}{
		{"two_node with three nodes", insert(threeNodes, 23, "\ttwo_node: 1"),
			"test.conf:23: two_node: 1 with 3 nodes: votequorum switches two_node off"},
		{"token below 1000 ms", insert(base, 3, "\ttoken: 800"),
			"test.conf:3: token 800 ms is below 1000 ms: expect frequent false failovers under load"},
		{"secauth", insert(base, 3, "\tsecauth: on"),
			"test.conf:3: secauth is deprecated"},
		{"udpu", insert(base, 3, "\ttransport: udpu"),
			"test.conf:3: transport udpu is accepted, but hakit always uses its own"},
		{"consensus below 1.2 token", insert(base, 3, "\tconsensus: 3000"),
			"test.conf:3: consensus 3000 ms is less than 1.2 * effective token (3600 ms)"},
		{"duplicate key", insert(base, 3, "\ttoken: 4000", "\ttoken: 5000"),
			"test.conf:4: token is set again in totem (first on line 3); the last value wins"},
		{"quotes", insert(base, 3, "\tcluster_name: \"prod\""),
			"test.conf:3: cluster_name: the quotes are part of the value"},
		{"zero means default", insert(base, 3, "\tjoin: 0"),
			"test.conf:3: join: 0 means the default (50ms)"},
		{"only one ping timer", insert(base, 3, "\tinterface {", "\t\tknet_ping_interval: 500", "\t}"),
			"test.conf:3: link 0 sets only one of knet_ping_interval and knet_ping_timeout"},
		{"off value of unsupported option", insert(base, 3, "\tknet_compression_model: none", "\ttoken: 900"),
			"test.conf:4: token 900 ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("test.conf", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.Warnings {
				if strings.HasPrefix(w, tc.want) {
					return
				}
			}
			t.Fatalf("no warning with prefix %q; got %q", tc.want, c.Warnings)
		})
	}
}

func TestExplicitValues(t *testing.T) {
	src := insert(insert(base, 18,
		"\twait_for_all: 0",
		"\ttwo_node: 1",
		"\texpected_votes: 3",
		"\tlast_man_standing: 1",
		"\tlast_man_standing_window: 20000"),
		3,
		"\ttoken: 10000",
		"\ttoken_retransmit: 500",
		"\thold: 300",
		"\tconfig_version: 18446744073709551615",
		"\tinterface {",
		"\t\tknet_ping_interval: 200",
		"\t\tknet_ping_timeout: 1000",
		"\t\tknet_pong_count: 3",
		"\t\tmcastport: 6000",
		"\t}")
	c, err := Parse("test.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	iv, to, pc := c.KnetPingTimers(0)
	if iv != 200*time.Millisecond || to != time.Second || pc != 3 {
		t.Errorf("KnetPingTimers = %v %v %v", iv, to, pc)
	}
	if c.EffectiveTokenRetransmit() != 500*time.Millisecond || c.EffectiveHold() != 300*time.Millisecond {
		t.Errorf("retransmit %v hold %v", c.EffectiveTokenRetransmit(), c.EffectiveHold())
	}
	if c.EffectiveConsensus() != 12*time.Second {
		t.Errorf("EffectiveConsensus = %v", c.EffectiveConsensus())
	}
	if c.Totem.ConfigVersion != 1<<64-1 {
		t.Errorf("ConfigVersion = %d", c.Totem.ConfigVersion)
	}
	if c.WaitForAll() {
		t.Error("an explicit wait_for_all: 0 must win over two_node")
	}
	if c.ExpectedVotes() != 3 {
		t.Errorf("ExpectedVotes = %d", c.ExpectedVotes())
	}
	if !c.Quorum.LastManStanding || c.Quorum.LastManStandingWindow != 20*time.Second {
		t.Errorf("last_man_standing %v, window %v", c.Quorum.LastManStanding, c.Quorum.LastManStandingWindow)
	}
	if c.Interface(0).MCastPort != 6000 {
		t.Errorf("port = %d", c.Interface(0).MCastPort)
	}
}

// A Config built in code (as the simulator does) validates and derives
// the same values as a parsed one.
func TestBuiltInCode(t *testing.T) {
	c := &Config{
		Totem: DefaultTotem(),
		Nodes: []Node{
			{ID: 1, Name: "n1", Addrs: map[int]string{0: "10.0.0.1"}, QuorumVotes: 1},
			{ID: 2, Name: "n2", Addrs: map[int]string{0: "10.0.0.2"}, QuorumVotes: 1},
			{ID: 3, Name: "n3", Addrs: map[int]string{0: "10.0.0.3"}, QuorumVotes: 1},
		},
		Quorum: Quorum{Provider: VotequorumProvider},
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.EffectiveToken() != 3650*time.Millisecond {
		t.Errorf("EffectiveToken = %v", c.EffectiveToken())
	}
	c.Quorum.TwoNode = true
	if !c.WaitForAll() {
		t.Error("two_node should imply wait_for_all")
	}
	c.Quorum.SetWaitForAll(false)
	if c.WaitForAll() {
		t.Error("SetWaitForAll(false) should win over two_node")
	}
	c.Nodes[2].ID = 2
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "config: nodeid 2 is used twice") {
		t.Errorf("Validate after duplicating an id: %v", err)
	}
	c.Nodes[2].ID = 3
	c.Totem.LinkMode = "rr"
	var ue *UnsupportedError
	if err := c.Validate(); !errors.As(err, &ue) || ue.Option != "totem.link_mode: rr" {
		t.Errorf("Validate with link_mode rr: %v", err)
	}
}

// Input size and error volume are bounded, and no message echoes an
// unbounded piece of the input.
func TestHostileInput(t *testing.T) {
	t.Run("10 MB file", func(t *testing.T) {
		src := strings.Repeat("# padding\n", 1<<20)
		_, err := Parse("big.conf", []byte(src))
		if err == nil || !strings.Contains(err.Error(), "big.conf: ") || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("many unknown keys", func(t *testing.T) {
		key := strings.Repeat("q", 60)
		var b strings.Builder
		b.WriteString("totem {\n")
		for b.Len() < 1<<20-100 {
			b.WriteString("\t" + key + ": 1\n")
		}
		b.WriteString("}\n")
		_, err := Parse("many.conf", []byte(b.String()))
		var list Errors
		if !errors.As(err, &list) {
			t.Fatalf("err = %v", err)
		}
		if len(list) > maxErrors+1 || len(err.Error()) > 64<<10 {
			t.Fatalf("%d errors, %d bytes of message", len(list), len(err.Error()))
		}
		if last := list[len(list)-1].Error(); !strings.Contains(last, "too many errors") {
			t.Errorf("last error = %q", last)
		}
	})
	t.Run("many warnings", func(t *testing.T) {
		src := insert(base, 3, strings.Split(strings.Repeat("\ttoken: 3000\n", 10000), "\n")...)
		c, err := Parse("warn.conf", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Warnings) > maxWarnings+1 || !strings.Contains(c.Warnings[len(c.Warnings)-1], "more warnings") {
			t.Fatalf("%d warnings, last %q", len(c.Warnings), c.Warnings[len(c.Warnings)-1])
		}
	})
	for _, tc := range []struct{ name, line string }{
		{"long value", "\ttoken: " + strings.Repeat("9", 100000)},
		{"long name", "\t" + strings.Repeat("x", 100000) + ": 1"},
		{"long section", "\t" + strings.Repeat("x", 100000) + " {\n\t}"},
		{"long address", "\tinterface {\n\t\tlinknumber: " + strings.Repeat("1", 100000) + "\n\t}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("long.conf", []byte(insert(base, 3, tc.line)))
			if err == nil || len(err.Error()) > 1000 || !strings.HasPrefix(err.Error(), "long.conf:3") && !strings.HasPrefix(err.Error(), "long.conf:4") {
				t.Fatalf("err (%d bytes) = %.300v", len(fmt.Sprint(err)), err)
			}
		})
	}
	t.Run("long ring address", func(t *testing.T) {
		_, err := Parse("long.conf", []byte(replace(base, 8, "\t\tring0_addr: "+strings.Repeat("a", 100000))))
		if err == nil || len(err.Error()) > 1000 || !strings.HasPrefix(err.Error(), "long.conf:8") {
			t.Fatalf("err (%d bytes) = %.300v", len(fmt.Sprint(err)), err)
		}
	})
	t.Run("byte order mark", func(t *testing.T) {
		_, err := Parse("bom.conf", []byte("\ufeff"+base))
		if err == nil || !strings.Contains(err.Error(), "bom.conf:1: ") || !strings.Contains(err.Error(), "byte order mark") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("deep nesting", func(t *testing.T) {
		src := strings.Repeat("totem {\n", 100000) + strings.Repeat("}\n", 100000)
		if _, err := Parse("deep.conf", []byte(src)); err == nil {
			t.Fatal("no error")
		}
	})
}
