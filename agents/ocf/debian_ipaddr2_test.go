package ocf

import (
	"net"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/hakit/hakit/agents"
	"github.com/hakit/hakit/internal/netnstest"
)

// TestDebianIPaddr2Lifecycle runs resource-agents' IPaddr2 through the
// runner inside a network namespace of the test's own (Config.NetNS), so
// the address it adds and the gratuitous ARPs it sends stay off the host.
// The link exists only in that namespace: an agent run outside it would
// fail its start with OCF_ERR_CONFIGURED.
func TestDebianIPaddr2Lifecycle(t *testing.T) {
	ipaddr2 := requireInstalled(t, "heartbeat", "IPaddr2")
	ns := netnstest.New(t)
	nl, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	const nic, vip = "hak0", "10.77.0.50"
	netnstest.AddLink(t, nl, nic, "10.77.0.1/24")

	// IPaddr2 keeps send_arp's pid file in HA_RSCTMP, /run/resource-agents
	// by default, which only exists where the package's tmpfiles ran at
	// boot, and is shared with the host's agents.
	rsctmp := t.TempDir()
	t.Setenv("HA_RSCTMP", rsctmp)
	t.Cleanup(func() {
		// send_arp keeps sending in the background for a second after
		// start; a failed test must not leave it (and the namespace it
		// holds) behind.
		if pid := readPID(t, filepath.Join(rsctmp, "send_arp-"+vip)); pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	h := newHarness(t, Config{Root: DefaultRoot, NetNS: nsPath(ns)})
	params := map[string]string{"ip": vip, "cidr_netmask": "24", "nic": nic}
	addrPrefix := func() (int, bool) {
		t.Helper()
		link, err := nl.LinkByName(nic)
		if err != nil {
			t.Fatal(err)
		}
		addrs, err := nl.AddrList(link, netlink.FAMILY_V4)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			if a.IP.Equal(net.ParseIP(vip)) {
				ones, _ := a.Mask.Size()
				return ones, true
			}
		}
		return 0, false
	}

	steps := []struct {
		action string
		want   agents.RC
		there  bool
	}{
		{"monitor", agents.RCNotRunning, false}, // the probe
		{"start", agents.RCOK, true},
		{"monitor", agents.RCOK, true},
		{"stop", agents.RCOK, false},
		{"monitor", agents.RCNotRunning, false},
	}
	for i, step := range steps {
		o := op(ipaddr2, "vip", step.action)
		o.Call = int64(i)
		o.Params = params
		res := h.run(o)
		if res.Status != agents.StatusDone || res.RC != step.want {
			t.Fatalf("step %d, %s: got %v rc %d (%s), want rc %d; output:\n%s",
				i, step.action, res.Status, res.RC, res.ExitReason, step.want, res.Output)
		}
		prefix, there := addrPrefix()
		if there != step.there {
			t.Fatalf("step %d, %s: %s on %s is %v, want %v; output:\n%s", i, step.action, vip, nic, there, step.there, res.Output)
		}
		if there && prefix != 24 {
			t.Errorf("step %d, %s: %s/%d, want /24", i, step.action, vip, prefix)
		}
	}
}
