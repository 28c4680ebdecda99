package builtin

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hakit/hakit/agents"
	"github.com/hakit/hakit/internal/netnstest"
)

const (
	labBase = "10.77.0.1/24"
	labVIP  = "10.77.0.50"
)

// dummyLab is a namespace with dum0 carrying 10.77.0.1/24.
func dummyLab(t *testing.T) netlink.Link {
	t.Helper()
	inNewNetns(t)
	return addLabLink(t, "dum0", labBase)
}

// addLabLink adds a dummy link, or where the kernel has no dummy driver
// one end of a veth pair (whose peer is name-p), carrying cidr.
func addLabLink(t *testing.T, name, cidr string) netlink.Link {
	t.Helper()
	return netnstest.AddLink(t, nil, name, cidr)
}

func TestIPaddr2Lifecycle(t *testing.T) {
	tests := []struct {
		name       string
		params     map[string]string
		wantPrefix int
		wantLabel  string
	}{
		{"nic and cidr_netmask", map[string]string{"ip": labVIP, "nic": "dum0", "cidr_netmask": "24"}, 24, "dum0"},
		{"no nic: found from the connected route", map[string]string{"ip": labVIP, "arp_interval": "10"}, 24, "dum0"},
		{"no nic, /32", map[string]string{"ip": labVIP, "cidr_netmask": "32", "arp_interval": "10"}, 32, "dum0"},
		{"nic without netmask", map[string]string{"ip": labVIP, "nic": "dum0", "arp_interval": "10"}, 24, "dum0"},
		{"dotted netmask", map[string]string{"ip": labVIP, "netmask": "255.255.255.0", "arp_interval": "10"}, 24, "dum0"},
		{"iflabel", map[string]string{"ip": labVIP, "nic": "dum0", "iflabel": "vip", "arp_interval": "10"}, 24, "dum0:vip"},
		{"nic:label", map[string]string{"ip": labVIP, "nic": "dum0:web", "arp_interval": "10"}, 24, "dum0:web"},
		{"broadcast", map[string]string{"ip": labVIP, "broadcast": "10.77.0.255", "arp_count": "1"}, 24, "dum0"},
	}
	vip := net.ParseIP(labVIP)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dummyLab(t)
			a := &IPaddr2{}
			steps := []struct {
				action string
				rc     agents.RC
				there  bool
			}{
				{"validate-all", agents.RCOK, false},
				{"monitor", agents.RCNotRunning, false},
				{"stop", agents.RCOK, false},
				{"start", agents.RCOK, true},
				{"start", agents.RCOK, true},
				{"monitor", agents.RCOK, true},
				{"status", agents.RCOK, true},
				{"stop", agents.RCOK, false},
				{"stop", agents.RCOK, false},
				{"monitor", agents.RCNotRunning, false},
			}
			for i, s := range steps {
				res := runOp(t, a, IPaddr2Agent, s.action, tc.params)
				wantRC(t, s.action, res, s.rc)
				prefix, label, there := findAddr(t, "dum0", vip)
				if there != s.there {
					t.Fatalf("step %d %s: address present=%v, want %v\n%s", i, s.action, there, s.there, res.Output)
				}
				if there && (prefix != tc.wantPrefix || label != tc.wantLabel) {
					t.Fatalf("step %d %s: %s/%d label %q, want /%d label %q", i, s.action, vip, prefix, label, tc.wantPrefix, tc.wantLabel)
				}
			}
			// The base address is untouched.
			if _, _, ok := findAddr(t, "dum0", net.ParseIP("10.77.0.1")); !ok {
				t.Fatal("the interface's own address disappeared")
			}
		})
	}
}

// TestIPaddr2RemovedBehindItsBack checks that monitor notices an address
// removed by someone else, and that start puts it back.
func TestIPaddr2RemovedBehindItsBack(t *testing.T) {
	link := dummyLab(t)
	a := &IPaddr2{}
	params := map[string]string{"ip": labVIP, "cidr_netmask": "24"}
	wantRC(t, "start", runOp(t, a, IPaddr2Agent, "start", params), agents.RCOK)
	addr, _ := netlink.ParseAddr(labVIP + "/24")
	if err := netlink.AddrDel(link, addr); err != nil {
		t.Fatal(err)
	}
	mon := runOpWith(t, a, agents.Op{Agent: IPaddr2Agent, Action: "monitor", Interval: 10 * time.Second, Params: params})
	wantRC(t, "monitor", mon, agents.RCNotRunning)
	if mon.ExitReason == "" {
		t.Error("recurring monitor finding the address gone gives no reason")
	}
	wantRC(t, "start", runOp(t, a, IPaddr2Agent, "start", params), agents.RCOK)
	if _, _, ok := findAddr(t, "dum0", net.ParseIP(labVIP)); !ok {
		t.Fatal("start did not add the address back")
	}
	wantRC(t, "stop", runOp(t, a, IPaddr2Agent, "stop", params), agents.RCOK)
}

func TestIPaddr2Errors(t *testing.T) {
	type step struct {
		action   string
		interval time.Duration
		rc       agents.RC
	}
	probe := func(rc agents.RC) step { return step{"monitor", 0, rc} }
	recurring := func(rc agents.RC) step { return step{"monitor", 10 * time.Second, rc} }
	tests := []struct {
		name   string
		params map[string]string
		steps  []step
	}{
		{"ip missing", map[string]string{"nic": "dum0"},
			[]step{{"start", 0, agents.RCErrConfigured}, {"validate-all", 0, agents.RCErrConfigured}, probe(agents.RCErrConfigured), {"stop", 0, agents.RCOK}}},
		{"ip not an address", map[string]string{"ip": "10.77.0.300"},
			[]step{{"start", 0, agents.RCErrConfigured}, {"validate-all", 0, agents.RCErrConfigured}, {"stop", 0, agents.RCOK}}},
		{"ip 0.x", map[string]string{"ip": "0.1.2.3"}, []step{{"validate-all", 0, agents.RCErrConfigured}}},
		{"ip with zone", map[string]string{"ip": "fe80::1%dum0"}, []step{{"validate-all", 0, agents.RCErrConfigured}}},
		{"link-local IPv6 without nic", map[string]string{"ip": "fe80::50"}, []step{{"validate-all", 0, agents.RCErrConfigured}}},
		{"cidr_netmask too long", map[string]string{"ip": labVIP, "cidr_netmask": "33"}, []step{{"start", 0, agents.RCErrConfigured}}},
		{"cidr_netmask zero", map[string]string{"ip": labVIP, "cidr_netmask": "0"}, []step{{"start", 0, agents.RCErrConfigured}}},
		{"cidr_netmask garbage", map[string]string{"ip": labVIP, "cidr_netmask": "abc"}, []step{{"validate-all", 0, agents.RCErrConfigured}}},
		{"netmask not contiguous", map[string]string{"ip": labVIP, "cidr_netmask": "255.0.255.0"}, []step{{"validate-all", 0, agents.RCErrConfigured}}},
		{"broadcast garbage", map[string]string{"ip": labVIP, "broadcast": "everyone"}, []step{{"validate-all", 0, agents.RCErrConfigured}}},
		{"arp_count zero", map[string]string{"ip": labVIP, "arp_count": "0"}, []step{{"validate-all", 0, agents.RCErrConfigured}}},
		{"arp_interval negative", map[string]string{"ip": labVIP, "arp_interval": "-5"}, []step{{"start", 0, agents.RCErrConfigured}}},
		{"label too long", map[string]string{"ip": labVIP, "nic": "dum0", "iflabel": "averyverylonglabel"},
			[]step{{"validate-all", 0, agents.RCErrConfigured}, {"start", 0, agents.RCErrConfigured}}},
		{"nic does not exist", map[string]string{"ip": labVIP, "nic": "nosuch0", "cidr_netmask": "24"},
			[]step{{"validate-all", 0, agents.RCErrConfigured}, {"start", 0, agents.RCErrConfigured}, probe(agents.RCNotRunning),
				recurring(agents.RCNotRunning), {"stop", 0, agents.RCOK}}},
		{"no interface has the subnet", map[string]string{"ip": "192.0.2.10"},
			[]step{{"validate-all", 0, agents.RCErrGeneric}, {"start", 0, agents.RCErrGeneric}, probe(agents.RCNotRunning),
				recurring(agents.RCNotRunning), {"stop", 0, agents.RCOK}}},
		{"nic given, subnet elsewhere, no netmask", map[string]string{"ip": "192.0.2.10", "nic": "dum0"},
			[]step{{"start", 0, agents.RCErrGeneric}, {"stop", 0, agents.RCOK}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dummyLab(t)
			a := &IPaddr2{}
			for _, s := range tc.steps {
				res := runOpWith(t, a, agents.Op{Agent: IPaddr2Agent, Action: s.action, Interval: s.interval, Params: tc.params})
				wantRC(t, s.action, res, s.rc)
				if s.rc != agents.RCOK && s.rc != agents.RCNotRunning && res.ExitReason == "" {
					t.Errorf("%s: rc %v without an exit reason", s.action, res.RC)
				}
			}
		})
	}
}

// TestIPaddr2NicAndSubnetGiven checks that an explicit nic and netmask
// need no route: the address goes where it is told.
func TestIPaddr2NicAndSubnetGiven(t *testing.T) {
	dummyLab(t)
	a := &IPaddr2{}
	params := map[string]string{"ip": "192.0.2.10", "nic": "dum0", "cidr_netmask": "28", "broadcast": "-"}
	wantRC(t, "start", runOp(t, a, IPaddr2Agent, "start", params), agents.RCOK)
	if prefix, _, ok := findAddr(t, "dum0", net.ParseIP("192.0.2.10")); !ok || prefix != 28 {
		t.Fatalf("address present=%v prefix %d, want /28", ok, prefix)
	}
	wantRC(t, "monitor", runOp(t, a, IPaddr2Agent, "monitor", params), agents.RCOK)
	wantRC(t, "stop", runOp(t, a, IPaddr2Agent, "stop", params), agents.RCOK)
	if _, _, ok := findAddr(t, "dum0", net.ParseIP("192.0.2.10")); ok {
		t.Fatal("stop left the address")
	}
}

func TestIPaddr2Loopback(t *testing.T) {
	inNewNetns(t)
	a := &IPaddr2{}
	params := map[string]string{"ip": "127.0.0.77"}
	wantRC(t, "start", runOp(t, a, IPaddr2Agent, "start", params), agents.RCOK)
	if prefix, _, ok := findAddr(t, "lo", net.ParseIP("127.0.0.77")); !ok || prefix != 8 {
		t.Fatalf("127.0.0.77 on lo: present=%v prefix %d, want /8", ok, prefix)
	}
	wantRC(t, "monitor", runOp(t, a, IPaddr2Agent, "monitor", params), agents.RCOK)
	wantRC(t, "stop", runOp(t, a, IPaddr2Agent, "stop", params), agents.RCOK)
	wantRC(t, "monitor", runOp(t, a, IPaddr2Agent, "monitor", params), agents.RCNotRunning)
}

func TestIPaddr2IPv6(t *testing.T) {
	if !ipv6Available() {
		t.Skip("IPv6 is disabled on this kernel")
	}
	inNewNetns(t)
	addLabLink(t, "dum0", "2001:db8:77::1/64")
	a := &IPaddr2{}
	vip := net.ParseIP("2001:db8:77::50")
	for _, params := range []map[string]string{
		{"ip": vip.String(), "nic": "dum0", "cidr_netmask": "64"},
		{"ip": vip.String()},
	} {
		wantRC(t, "start", runOp(t, a, IPaddr2Agent, "start", params), agents.RCOK)
		if prefix, _, ok := findAddr(t, "dum0", vip); !ok || prefix != 64 {
			t.Fatalf("%s on dum0: present=%v prefix %d, want /64", vip, ok, prefix)
		}
		wantRC(t, "start again", runOp(t, a, IPaddr2Agent, "start", params), agents.RCOK)
		wantRC(t, "monitor", runOp(t, a, IPaddr2Agent, "monitor", params), agents.RCOK)
		wantRC(t, "stop", runOp(t, a, IPaddr2Agent, "stop", params), agents.RCOK)
		if _, _, ok := findAddr(t, "dum0", vip); ok {
			t.Fatal("stop left the address")
		}
		wantRC(t, "monitor", runOp(t, a, IPaddr2Agent, "monitor", params), agents.RCNotRunning)
	}
}

// TestIPaddr2GratuitousARP listens on the peer of a veth pair and checks
// that start announces the address from the interface's MAC.
func TestIPaddr2GratuitousARP(t *testing.T) {
	inNewNetns(t)
	veth := addLink(t, &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "veth0"}, PeerName: "veth1"}, labBase)
	peer, err := netlink.LinkByName("veth1")
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(peer); err != nil {
		t.Fatal(err)
	}

	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
	if err != nil {
		t.Fatalf("AF_PACKET listener: %v", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: peer.Attrs().Index}); err != nil {
		t.Fatal(err)
	}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 1}); err != nil {
		t.Fatal(err)
	}

	a := &IPaddr2{}
	params := map[string]string{"ip": labVIP, "nic": "veth0", "arp_count": "3", "arp_interval": "20"}
	res := runOp(t, a, IPaddr2Agent, "start", params)
	wantRC(t, "start", res, agents.RCOK)
	defer runOp(t, a, IPaddr2Agent, "stop", params)

	mac := veth.Attrs().HardwareAddr
	vip := net.ParseIP(labVIP).To4()
	broadcast := bytes.Repeat([]byte{0xff}, 6)
	got := 0
	buf := make([]byte, 2048)
	deadline := time.Now().Add(30 * time.Second)
	for got < 3 && time.Now().Before(deadline) {
		n, err := unix.Read(fd, buf)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			t.Fatal(err)
		}
		if n < 14+arpLen {
			continue
		}
		eth, arp := buf[:14], buf[14:14+arpLen]
		if binary.BigEndian.Uint16(eth[12:]) != unix.ETH_P_ARP || !bytes.Equal(arp[14:18], vip) {
			continue
		}
		if !bytes.Equal(eth[0:6], broadcast) || !bytes.Equal(eth[6:12], mac) {
			t.Errorf("Ethernet header %x, want from %s to broadcast", eth, mac)
		}
		if op := binary.BigEndian.Uint16(arp[6:]); op != arpOpRequest {
			t.Errorf("ARP operation %d, want request", op)
		}
		if !bytes.Equal(arp[8:14], mac) || !bytes.Equal(arp[24:28], vip) {
			t.Errorf("ARP sender %x target %x, want %s announcing %s", arp[8:18], arp[18:28], mac, vip)
		}
		got++
	}
	if got != 3 {
		t.Fatalf("received %d gratuitous ARPs for %s on the peer, want 3\n%s", got, vip, res.Output)
	}
}

// TestIPaddr2ARPHonoursCancel checks that a cancelled start stops sending
// ARPs instead of going on for arp_count × arp_interval.
func TestIPaddr2ARPHonoursCancel(t *testing.T) {
	inNewNetns(t)
	addLink(t, &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "veth0"}, PeerName: "veth1"}, labBase)
	a := &IPaddr2{}
	params := map[string]string{"ip": labVIP, "nic": "veth0", "arp_count": "100000", "arp_interval": "1000"}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	res := a.Run(ctx, agents.Op{Agent: IPaddr2Agent, Action: "start", Resource: "vip", Params: params})
	if ctx.Err() == nil {
		t.Fatalf("start returned before it was cancelled: %+v", res)
	}
	if _, _, ok := findAddr(t, "veth0", net.ParseIP(labVIP)); !ok {
		t.Fatalf("the address was not added:\n%s", res.Output)
	}
	wantRC(t, "stop", runOp(t, a, IPaddr2Agent, "stop", params), agents.RCOK)
}

// TestIPaddr2StopFindsTheAddress checks that stop removes the address
// even when no route tells its interface any more (the interface was set
// down, which flushes its routes) and whatever label it carries.
func TestIPaddr2StopFindsTheAddress(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		before func(t *testing.T, link netlink.Link)
	}{
		{"interface down, no nic", map[string]string{"ip": labVIP, "arp_interval": "10"}, func(t *testing.T, link netlink.Link) {
			if err := netlink.LinkSetDown(link); err != nil {
				t.Fatal(err)
			}
		}},
		{"interface down, nic without netmask", map[string]string{"ip": labVIP, "nic": "dum0", "arp_interval": "10"}, func(t *testing.T, link netlink.Link) {
			if err := netlink.LinkSetDown(link); err != nil {
				t.Fatal(err)
			}
		}},
		{"another label", map[string]string{"ip": labVIP, "nic": "dum0", "iflabel": "vip", "arp_interval": "10"}, func(t *testing.T, link netlink.Link) {
			addr, _ := netlink.ParseAddr(labVIP + "/24")
			if err := netlink.AddrDel(link, addr); err != nil {
				t.Fatal(err)
			}
			addr.Label = "dum0:other"
			if err := netlink.AddrAdd(link, addr); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			link := dummyLab(t)
			a := &IPaddr2{}
			wantRC(t, "start", runOp(t, a, IPaddr2Agent, "start", tc.params), agents.RCOK)
			tc.before(t, link)
			if _, _, ok := findAddr(t, "dum0", net.ParseIP(labVIP)); !ok {
				t.Fatal("setup lost the address")
			}
			wantRC(t, "monitor", runOp(t, a, IPaddr2Agent, "monitor", tc.params), agents.RCOK)
			wantRC(t, "stop", runOp(t, a, IPaddr2Agent, "stop", tc.params), agents.RCOK)
			if _, _, ok := findAddr(t, "dum0", net.ParseIP(labVIP)); ok {
				t.Fatal("stop left the address")
			}
			wantRC(t, "monitor", runOp(t, a, IPaddr2Agent, "monitor", tc.params), agents.RCNotRunning)
		})
	}
}
