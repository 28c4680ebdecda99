// Package netnstest gives a test a network namespace of its own, so it can
// add links and addresses, and run agents that do, without touching the
// host's network. Creating one needs root; without root or without
// namespace support the test is skipped, saying why.
//
// It is a test helper shared by agents/builtin and agents/ocf.
// internal/detguard checks it like core code, hence no goroutines and no
// os calls: it moves the calling goroutine's own thread, locked, and back,
// and learns that it lacks root from the kernel's refusal.
package netnstest

import (
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// New creates a network namespace with loopback up and returns a handle to
// it; the caller stays in its own namespace. The namespace is unnamed: it
// disappears, with every link in it, once the handle is closed when the
// test ends and no process is left inside.
func New(t testing.TB) netns.NsHandle {
	t.Helper()
	ns := create(t)
	t.Cleanup(func() { ns.Close() })
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatalf("netlink handle in the new namespace: %v", err)
	}
	defer h.Close()
	bringUpLoopback(t, h)
	return ns
}

// Enter moves the test's goroutine, locked to its OS thread, into a new
// namespace (as New makes it) until the test ends, and returns its handle.
// Subtests run on goroutines of their own and must call it themselves.
func Enter(t testing.TB) netns.NsHandle {
	t.Helper()
	ns := New(t)
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("current network namespace: %v", err)
	}
	if err := netns.Set(ns); err != nil {
		orig.Close()
		runtime.UnlockOSThread()
		t.Fatalf("entering the new network namespace: %v", err)
	}
	t.Cleanup(func() {
		if err := netns.Set(orig); err != nil {
			// The thread stays locked, so it ends with the goroutine and
			// never serves another test from inside the namespace.
			t.Errorf("restoring the network namespace: %v", err)
			return
		}
		orig.Close()
		runtime.UnlockOSThread()
	})
	return ns
}

// create makes the namespace on the caller's thread, which unshare moves
// into it, and moves the thread back before anything else can run there.
func create(t testing.TB) netns.NsHandle {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Skipf("network namespaces unavailable: %v", err)
	}
	defer orig.Close()
	ns, err := netns.New()
	if err != nil {
		// Usually unshare itself was refused and the thread never moved;
		// going back is then needless, and without root impossible.
		if !stillIn(orig) && netns.Set(orig) != nil {
			t.Fatalf("cannot leave a half-made network namespace: %v", err)
		}
		runtime.UnlockOSThread()
		t.Skipf("needs root (CAP_SYS_ADMIN) to create a network namespace: %v", err)
	}
	if err := netns.Set(orig); err != nil {
		// Left locked, the thread dies with the goroutine instead of
		// running other code inside the namespace.
		ns.Close()
		t.Fatalf("leaving the new network namespace: %v", err)
	}
	runtime.UnlockOSThread()
	return ns
}

// stillIn reports whether the calling thread is in ns.
func stillIn(ns netns.NsHandle) bool {
	cur, err := netns.Get()
	if err != nil {
		return false
	}
	defer cur.Close()
	return cur.Equal(ns)
}

func bringUpLoopback(t testing.TB, h *netlink.Handle) {
	t.Helper()
	lo, err := h.LinkByName("lo")
	if err != nil {
		t.Fatalf("lo: %v", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		t.Fatalf("lo up: %v", err)
	}
}

// AddLink adds a dummy link called name, or, where the kernel has no dummy
// driver, one end of a veth pair whose peer is name+"-p" (left down), gives
// it cidr unless that is empty, and brings it up. h says in which namespace;
// nil means the calling thread's.
func AddLink(t testing.TB, h *netlink.Handle, name, cidr string) netlink.Link {
	t.Helper()
	if h == nil {
		h = &netlink.Handle{} // netlink's own default: sockets in the calling thread's namespace
	}
	var link netlink.Link = &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := h.LinkAdd(link); err != nil {
		link = &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: name + "-p"}
		if err := h.LinkAdd(link); err != nil {
			t.Skipf("cannot create link %s, neither dummy nor veth: %v", name, err)
		}
	}
	l, err := h.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	if cidr != "" {
		a, err := netlink.ParseAddr(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.AddrAdd(l, a); err != nil {
			t.Fatalf("adding %s to %s: %v", cidr, name, err)
		}
	}
	if err := h.LinkSetUp(l); err != nil {
		t.Fatalf("%s up: %v", name, err)
	}
	if l, err = h.LinkByName(name); err != nil {
		t.Fatal(err)
	}
	return l
}
