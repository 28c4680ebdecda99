package config

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const msec = time.Millisecond

// bondConf renders a corosync.conf for n nodes on links 0 and 1 (or only
// link 0), with extra lines in the totem section and in each interface
// block.
func bondConf(n int, twoLinks bool, totemExtra, ifaceExtra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "totem {\n\tversion: 2\n\tcluster_name: hakit\n%s", totemExtra)
	fmt.Fprintf(&b, "\tinterface {\n\t\tlinknumber: 0\n%s\t}\n", ifaceExtra)
	if twoLinks {
		fmt.Fprintf(&b, "\tinterface {\n\t\tlinknumber: 1\n%s\t}\n", ifaceExtra)
	}
	b.WriteString("}\nnodelist {\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "\tnode {\n\t\tname: node%d\n\t\tnodeid: %d\n\t\tring0_addr: 10.0.0.%d\n", i, i, i)
		if twoLinks {
			fmt.Fprintf(&b, "\t\tring1_addr: 192.168.122.%d\n", i+10)
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\nquorum {\n\tprovider: corosync_votequorum\n")
	if n == 2 {
		b.WriteString("\ttwo_node: 1\n")
	}
	b.WriteString("}\n")
	return b.String()
}

func TestFailoverWindow(t *testing.T) {
	for _, tc := range []struct {
		b    BondTiming
		want time.Duration
	}{
		{BondTiming{Miimon: 100 * msec, Downdelay: 200 * msec, Updelay: 200 * msec}, 300 * msec},
		{BondTiming{Miimon: 100 * msec, Downdelay: 250 * msec}, 300 * msec}, // the kernel rounds down
		{BondTiming{Miimon: 100 * msec}, 100 * msec},
		{BondTiming{Miimon: 0, Downdelay: 200 * msec}, 0}, // no MII monitoring
		{BondTiming{Miimon: 50 * msec, Downdelay: 2000 * msec, Updelay: 10000 * msec}, 2050 * msec},
	} {
		if got := tc.b.FailoverWindow(); got != tc.want {
			t.Errorf("%+v: FailoverWindow %v, want %v", tc.b, got, tc.want)
		}
	}
}

func TestCheckBondTiming(t *testing.T) {
	reference := BondTiming{Name: "bond0", Miimon: 100 * msec, Downdelay: 200 * msec, Updelay: 200 * msec}
	for _, tc := range []struct {
		name     string
		conf     string
		bonds    []BondTiming
		want     []string // substrings, one slice entry per expected warning, in order
		wantNone bool
	}{
		{name: "reference setup, default token", conf: bondConf(2, true, "", ""), bonds: []BondTiming{reference, {Name: "bond1", Miimon: 100 * msec, Downdelay: 200 * msec}}, wantNone: true},
		{name: "three nodes, default token", conf: bondConf(3, true, "", ""), bonds: []BondTiming{reference}, wantNone: true},
		{name: "one link, default token", conf: bondConf(2, false, "", ""), bonds: []BondTiming{reference}, wantNone: true},
		{name: "no bonds", conf: bondConf(2, true, "\ttoken: 150\n", ""), wantNone: true},
		{name: "no MII monitoring", conf: bondConf(2, true, "\ttoken: 150\n", ""), bonds: []BondTiming{{Name: "bond0", Downdelay: 200 * msec}}, wantNone: true},
		{name: "token at the derived minimum", conf: bondConf(2, true, "\ttoken: 1200\n", ""), bonds: []BondTiming{reference}, wantNone: true},
		{
			name:  "token 150: the links flap and the token is lost",
			conf:  bondConf(2, true, "\ttoken: 150\n", ""),
			bonds: []BondTiming{reference},
			want: []string{
				"corosync.conf:4: bond bond0 fails over in up to 300 ms (miimon 100 ms + downdelay 200 ms); if totem's links all use it, a failover silences totem for up to 375 ms (the failover, then 2 pings of 37.5 ms until knet has the link up again), and the token (effective 150 ms) must outlast that plus one token retransmit (35.7 ms) and one hold (28.6 ms), 439.3 ms in all, or a failover can cost the token and change the membership: raise token to at least 1200 ms or lower the bond's downdelay",
				"corosync.conf:5: bond bond0 fails over in up to 300 ms (miimon 100 ms + downdelay 200 ms), longer than knet's ping timeout allows: it would mark link 0 (ping every 37.5 ms, timeout 75 ms: up to 337.5 ms without a pong), link 1 (ping every 37.5 ms, timeout 75 ms: up to 337.5 ms without a pong) down",
			},
		},
		{
			// The pre-3.1 default: pings every 250 ms, so a 300 ms failover
			// can swallow two and the link goes down.
			name:  "token 1000",
			conf:  bondConf(2, true, "\ttoken: 1000\n", ""),
			bonds: []BondTiming{reference},
			want:  []string{"up to 750 ms without a pong", "silences totem for up to 800 ms", "raise token to at least 1200 ms"},
		},
		{
			name:  "downdelay not a multiple of miimon",
			conf:  bondConf(2, true, "\ttoken: 150\n", ""),
			bonds: []BondTiming{{Name: "bond7", Miimon: 100 * msec, Downdelay: 250 * msec}},
			want:  []string{"bond bond7 fails over in up to 300 ms (miimon 100 ms + downdelay 250 ms, rounded down to 200 ms)", "bond bond7"},
		},
		{
			// Explicit ping timers that outlast the failover: only the
			// token is short, and the suggestion solves T > 300 + 1.8T/4.2.
			name:  "explicit knet timers, short token",
			conf:  bondConf(2, false, "\ttoken: 500\n", "\t\tknet_ping_interval: 400\n\t\tknet_ping_timeout: 1000\n"),
			bonds: []BondTiming{reference},
			want:  []string{"silences totem for up to 300 ms, and", "raise token to at least 526 ms"},
		},
		{
			name:  "long downdelay against the default token",
			conf:  bondConf(2, true, "", ""),
			bonds: []BondTiming{{Name: "bond0", Miimon: 100 * msec, Downdelay: 2000 * msec}},
			want:  []string{"corosync.conf: bond bond0 fails over in up to 2100 ms", "silences totem for up to 3600 ms", "raise token to at least 8400 ms"},
		},
		{
			// token_coefficient counts: three nodes at token 1000 run a
			// 1650 ms token, pings every 412.5 ms.
			name:     "three nodes, token 1000",
			conf:     bondConf(3, true, "\ttoken: 1000\n", ""),
			bonds:    []BondTiming{reference},
			wantNone: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("corosync.conf", []byte(tc.conf))
			if err != nil {
				t.Fatal(err)
			}
			got := CheckBondTiming(c, tc.bonds)
			if tc.wantNone {
				if len(got) != 0 {
					t.Fatalf("warnings %q, want none", got)
				}
				return
			}
			if len(got) == 0 {
				t.Fatalf("no warning, want %q", tc.want)
			}
			all := strings.Join(got, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("warnings\n%s\ndo not contain %q", all, w)
				}
			}
		})
	}
}

// The suggested token passes both checks and one millisecond less does
// not.
func TestCheckBondTimingSuggestionIsTight(t *testing.T) {
	tried := 0
	for _, b := range []BondTiming{
		{Name: "bond0", Miimon: 100 * msec, Downdelay: 200 * msec},
		{Name: "bond0", Miimon: 10 * msec, Downdelay: 0},
		{Name: "bond0", Miimon: 100 * msec, Downdelay: 5000 * msec},
	} {
		for _, n := range []int{2, 3, 5} {
			c, err := Parse("corosync.conf", []byte(bondConf(n, true, "\ttoken: 150\n", "")))
			if err != nil {
				t.Fatal(err)
			}
			if len(CheckBondTiming(c, []BondTiming{b})) == 0 {
				continue // already enough (a short failover, or token_coefficient)
			}
			tried++
			tok, ok := minBondToken(c, b.FailoverWindow())
			if !ok {
				t.Fatalf("%+v, %d nodes: no token suggested", b, n)
			}
			for _, tc := range []struct {
				token time.Duration
				warn  bool
			}{{tok, false}, {tok - msec, true}} {
				src := bondConf(n, true, fmt.Sprintf("\ttoken: %d\n", tc.token/msec), "")
				c, err := Parse("corosync.conf", []byte(src))
				if err != nil {
					t.Fatal(err)
				}
				if got := CheckBondTiming(c, []BondTiming{b}); (len(got) > 0) != tc.warn {
					t.Errorf("%+v, %d nodes, token %v: warnings %q, want warnings: %v", b, n, tc.token, got, tc.warn)
				}
			}
		}
	}
	if tried < 4 {
		t.Errorf("only %d cases needed a longer token", tried)
	}
}

func TestReadBondTimings(t *testing.T) {
	fsys := fstest.MapFS{
		"bonding_masters":          {Data: []byte("bond0 bond1\n")},
		"bond0/bonding/miimon":     {Data: []byte("100\n")},
		"bond0/bonding/downdelay":  {Data: []byte("200\n")},
		"bond0/bonding/updelay":    {Data: []byte("200\n")},
		"bond0/bonding/mode":       {Data: []byte("active-backup 1\n")},
		"bond1/bonding/miimon":     {Data: []byte("50")},
		"bond1/bonding/downdelay":  {Data: []byte("0")},
		"eth0/address":             {Data: []byte("52:54:00:00:00:01\n")},
		"lo/mtu":                   {Data: []byte("65536\n")},
		"bond10/bonding/miimon":    {Data: []byte("0\n")},
		"bond10/bonding/downdelay": {Data: []byte("0\n")},
		"bond10/bonding/updelay":   {Data: []byte("0\n")},
	}
	got, err := ReadBondTimings(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []BondTiming{
		{Name: "bond0", Miimon: 100 * msec, Downdelay: 200 * msec, Updelay: 200 * msec},
		{Name: "bond1", Miimon: 50 * msec}, // updelay missing: 0
		{Name: "bond10"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ReadBondTimings = %+v, want %+v", got, want)
	}

	fsys["bond1/bonding/downdelay"] = &fstest.MapFile{Data: []byte("soon\n")}
	if _, err := ReadBondTimings(fsys); err == nil || !strings.Contains(err.Error(), "bond1/bonding/downdelay") {
		t.Errorf("bad downdelay: err %v, want one naming bond1/bonding/downdelay", err)
	}

	got, err = ReadBondTimings(fstest.MapFS{"eth0/mtu": {Data: []byte("1500\n")}})
	if err != nil || len(got) != 0 {
		t.Errorf("no bonds: %v, %v", got, err)
	}
}

// BondWarnings carries CheckBondTiming's warnings in parts, so a tool can
// print the fix apart from the problem; joined, they are the same text.
func TestBondWarningsParts(t *testing.T) {
	c, err := Parse("corosync.conf", []byte(bondConf(2, true, "\ttoken: 1000\n", "")))
	if err != nil {
		t.Fatal(err)
	}
	bonds := []BondTiming{{Name: "bond0", Miimon: 100 * msec, Downdelay: 200 * msec}}
	ws := BondWarnings(c, bonds)
	if len(ws) != 2 {
		t.Fatalf("%d warnings, want the token's and the link's: %+v", len(ws), ws)
	}
	tok, link := ws[0], ws[1]
	if tok.Link || tok.Line != 4 || tok.Window != 300*msec || tok.Token != 1000*msec || tok.MinToken != 1200*msec ||
		tok.Hint != "raise token to at least 1200 ms or lower the bond's downdelay" || strings.Contains(tok.Msg, "raise") {
		t.Errorf("token warning %+v", tok)
	}
	if !link.Link || link.Line != 5 || link.Bond != "bond0" || !strings.HasPrefix(link.Hint, "raise knet_ping_interval") || strings.Contains(link.Msg, "raise") {
		t.Errorf("link warning %+v", link)
	}
	text := CheckBondTiming(c, bonds)
	for i, w := range ws {
		if want := fmt.Sprintf("corosync.conf:%d: %s%s%s", w.Line, w.Msg, w.sep, w.Hint); text[i] != want {
			t.Errorf("CheckBondTiming[%d] = %q, want %q", i, text[i], want)
		}
	}
	if ws := BondWarnings(c, []BondTiming{{Name: "bond0", Miimon: 100 * msec}}); len(ws) != 0 {
		t.Errorf("a 100 ms failover against token 1000: %+v", ws)
	}
}
