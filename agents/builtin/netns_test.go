package builtin

import (
	"net"
	"os"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/hakit/hakit/internal/netnstest"
)

// inNewNetns moves the test's goroutine, locked to its OS thread, into a
// fresh network namespace with loopback up, until the test ends (see
// netnstest.Enter). Subtests must call it themselves.
func inNewNetns(t *testing.T) {
	t.Helper()
	netnstest.Enter(t)
}

// addLink creates link, gives it cidr (when not empty) and brings it up.
func addLink(t *testing.T, link netlink.Link, cidr string) netlink.Link {
	t.Helper()
	if err := netlink.LinkAdd(link); err != nil {
		t.Skipf("cannot create %s link %s: %v", link.Type(), link.Attrs().Name, err)
	}
	l, err := netlink.LinkByName(link.Attrs().Name)
	if err != nil {
		t.Fatal(err)
	}
	if cidr != "" {
		a, err := netlink.ParseAddr(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := netlink.AddrAdd(l, a); err != nil {
			t.Fatalf("adding %s to %s: %v", cidr, l.Attrs().Name, err)
		}
	}
	if err := netlink.LinkSetUp(l); err != nil {
		t.Fatalf("%s up: %v", l.Attrs().Name, err)
	}
	if l, err = netlink.LinkByName(link.Attrs().Name); err != nil {
		t.Fatal(err)
	}
	return l
}

// findAddr looks ip up among the addresses of linkName in the calling
// thread's namespace, with its prefix length and label.
func findAddr(t *testing.T, linkName string, ip net.IP) (prefix int, label string, found bool) {
	t.Helper()
	l, err := netlink.LinkByName(linkName)
	if err != nil {
		t.Fatal(err)
	}
	family := netlink.FAMILY_V4
	if ip.To4() == nil {
		family = netlink.FAMILY_V6
	}
	addrs, err := netlink.AddrList(l, family)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if a.IP.Equal(ip) {
			ones, _ := a.Mask.Size()
			return ones, a.Label, true
		}
	}
	return 0, "", false
}

func ipv6Available() bool {
	_, err := os.Stat("/proc/sys/net/ipv6")
	return err == nil
}
