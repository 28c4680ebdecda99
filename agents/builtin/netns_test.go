package builtin

import (
	"net"
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// inNewNetns moves the test's goroutine, locked to its OS thread, into a
// fresh network namespace with loopback up, until the test ends. The
// namespace is unnamed: it disappears, with every link made in it, when
// the cleanup has moved the thread back and closed its handle. Subtests
// run on goroutines of their own and must call it themselves. It skips
// the test when not root or when namespaces are unavailable.
func inNewNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates a network namespace")
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Skipf("network namespaces unavailable: %v", err)
	}
	ns, err := netns.New()
	if err != nil {
		orig.Close()
		runtime.UnlockOSThread()
		t.Skipf("cannot create a network namespace: %v", err)
	}
	t.Cleanup(func() {
		if err := netns.Set(orig); err != nil {
			// The thread stays locked, so it ends with the goroutine
			// and never serves another test from inside the namespace.
			t.Errorf("restoring the network namespace: %v", err)
			return
		}
		ns.Close()
		orig.Close()
		runtime.UnlockOSThread()
	})
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		t.Fatalf("lo: %v", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		t.Fatalf("lo up: %v", err)
	}
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

// addrsOf lists link's addresses of the family of ip as "ip/prefix label".
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
