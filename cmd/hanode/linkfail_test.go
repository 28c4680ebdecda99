package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hakit/hakit/node"
	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/transport/totem"
)

// The test cluster's token (startCluster's totem.token).
const testToken = time.Second

// testNetns creates a network namespace for one test, with its loopback up
// (so 127.0.0.0/8 works inside it as on the host), and deletes it at
// cleanup, after the processes registered later are killed. The test is
// skipped where it cannot run: not root, or ip (Debian package iproute2)
// or nft (package nftables) missing.
func testNetns(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real processes")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: it creates a network namespace and nftables rules in it")
	}
	for _, tool := range []struct{ bin, pkg string }{{"ip", "iproute2"}, {"nft", "nftables"}} {
		if _, err := exec.LookPath(tool.bin); err != nil {
			t.Skipf("needs %s: install the Debian package %s (apt-get install %s)", tool.bin, tool.pkg, tool.pkg)
		}
	}
	name := fmt.Sprintf("hakit-test-%08x", rand.Uint32())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace here (%v): %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("deleting network namespace %s: %v: %s", name, err, out)
		}
	})
	if out, err := exec.Command("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("bringing lo up in %s: %v: %s", name, err, out)
	}
	return name
}

// nft runs an nftables script in the namespace.
func nft(t *testing.T, ns, script string) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft in %s: %v: %s\nscript:\n%s", ns, err, out, script)
	}
}

// blockUDP drops every UDP datagram between two addresses, both ways, in
// its own table; the returned func deletes the table.
func blockUDP(t *testing.T, ns, table, a, b string) func() {
	t.Helper()
	nft(t, ns, fmt.Sprintf(`table inet %[1]s {
	chain output {
		type filter hook output priority 0; policy accept;
		ip saddr %[2]s ip daddr %[3]s meta l4proto udp counter drop
		ip saddr %[3]s ip daddr %[2]s meta l4proto udp counter drop
	}
}
`, table, a, b))
	return func() { nft(t, ns, "delete table inet "+table+"\n") }
}

// linkUp reports whether st shows link l to peer up, and whether st has
// that link at all.
func linkUp(st node.Status, peer env.NodeID, l env.LinkID) (up, found bool) {
	for _, p := range st.Links {
		if p.Peer != peer {
			continue
		}
		for _, ls := range p.Links {
			if ls.ID == l {
				return ls.Up, true
			}
		}
	}
	return false, false
}

// textLinkState reads the state of node's line in the "LINK ID l" block of
// a status text (what hactl status prints): connected, disconnected or
// localhost; "" if there is no such line.
func textLinkState(text string, l, nodeID int) string {
	in := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "LINK ID ") {
			in = line == fmt.Sprintf("LINK ID %d", l)
			continue
		}
		if f := strings.Fields(line); in && len(f) == 3 && f[0] == "nodeid:" && f[1] == fmt.Sprintf("%d:", nodeID) {
			return f[2]
		}
		if line == "" {
			in = false
		}
	}
	return ""
}

// steady fails the test unless every node is operational in ring want with
// all of them as members.
func (c *cluster) steady(want totem.RingID, n int) {
	c.t.Helper()
	for i := range n {
		st, err := c.status(i)
		if err != nil {
			c.t.Fatalf("status of n%d: %v", i+1, err)
		}
		if st.Ring != want || st.State != totem.StateOperational || len(st.Members) != n {
			c.t.Fatalf("membership changed: n%d is %v in ring %v with members %v, was operational in ring %v with all %d",
				i+1, st.State, st.Ring, st.Members, want, n)
		}
	}
}

// allLinksUp reports whether every node sees every link to every peer up.
func (c *cluster) allLinksUp(n int) bool {
	for i := range n {
		st, err := c.status(i)
		if err != nil {
			return false
		}
		for j := range n {
			for l := range 2 {
				if up, _ := linkUp(st, env.NodeID(j+1), env.LinkID(l)); j != i && !up {
					return false
				}
			}
		}
	}
	return true
}

func buildHactl(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "hactl")
	if out, err := exec.Command("go", "build", "-o", bin, "../hactl").CombinedOutput(); err != nil {
		t.Fatalf("building hactl: %v\n%s", err, out)
	}
	return bin
}

// TestRealProcessesLinkBlocked runs three hanodes in a network namespace
// of their own and blocks link 1 (ring1, 127.0.1.x) between n1 and n2 with
// a real nftables rule: in passive mode the membership does not change,
// n1 and n2 report that link down (in the status JSON, its text and the
// output of the hactl binary) and every other link up; when the rule goes,
// the link comes back. Then the same with link 0, the one passive mode
// routes over: the traffic fails over to link 1 without a membership change.
func TestRealProcessesLinkBlocked(t *testing.T) {
	ns := testNetns(t)
	c := startClusterWith(t, 3, clusterOpts{wrap: []string{"ip", "netns", "exec", ns}})
	hactl := buildHactl(t, c.dir)
	c.await("ring of 3", 60*time.Second, func() bool { return c.ringOf(0, 1, 2) })
	up := c.await("every link up", 60*time.Second, func() bool { return c.allLinksUp(3) })
	t.Logf("figure: every link up %v after the ring formed", up.Round(time.Millisecond))
	st, err := c.status(0)
	if err != nil {
		t.Fatal(err)
	}
	ring := st.Ring
	// The knet timers the links run with (token 1 s + 0.65 s for the third
	// node, pong_count 2): a link is declared down within ping_timeout
	// (1.65 s / 2) plus one ping interval.
	pingTimeout := (testToken + 650*time.Millisecond) / 2

	for _, l := range []env.LinkID{1, 0} {
		other := 1 - l
		unblock := blockUDP(t, ns, fmt.Sprintf("hakit_block_link%d", l), fmt.Sprintf("127.0.%d.10", l), fmt.Sprintf("127.0.%d.11", l))
		blocked := time.Now()
		down := c.await(fmt.Sprintf("n1 and n2 see link %d between them down", l), 60*time.Second, func() bool {
			c.steady(ring, 3)
			st1, err1 := c.status(0)
			st2, err2 := c.status(1)
			up1, found1 := linkUp(st1, 2, l)
			up2, found2 := linkUp(st2, 1, l)
			return err1 == nil && err2 == nil && found1 && found2 && !up1 && !up2
		})
		t.Logf("figure: link %d blocked -> n1 and n2 report it down after %v (knet ping_timeout %v)", l, down.Round(time.Millisecond), pingTimeout)

		st, err := c.status(0)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []struct {
			peer env.NodeID
			link env.LinkID
			up   bool
		}{{2, l, false}, {2, other, true}, {3, 0, true}, {3, 1, true}} {
			if got, found := linkUp(st, want.peer, want.link); !found || got != want.up {
				t.Errorf("n1's status: link %d to n%d up=%v (listed: %v), want up=%v\n%+v", want.link, want.peer, got, found, want.up, st.Links)
			}
		}
		text := st.Text()
		out, err := exec.Command(hactl, "status", "--socket", c.socket(0)).CombinedOutput()
		if err != nil {
			t.Fatalf("hactl status: %v\n%s", err, out)
		}
		for name, shown := range map[string]string{"Status.Text": text, "hactl status": string(out)} {
			if got := textLinkState(shown, int(l), 2); got != "disconnected" {
				t.Errorf("%s shows link %d to n2 %q, want disconnected:\n%s", name, l, got, shown)
			}
			if got := textLinkState(shown, int(other), 2); got != "connected" {
				t.Errorf("%s shows link %d to n2 %q, want connected:\n%s", name, other, got, shown)
			}
		}
		if l == 1 {
			t.Logf("hactl status on n1 with link 1 to n2 blocked:\n%s", out)
		}

		// The membership holds for three tokens with the link blocked.
		hold := 3 * testToken
		for time.Since(blocked) < down+hold {
			c.steady(ring, 3)
			time.Sleep(100 * time.Millisecond)
		}
		c.steady(ring, 3)
		t.Logf("figure: link %d blocked for %v: ring %v unchanged", l, time.Since(blocked).Round(time.Millisecond), ring)

		unblock()
		back := c.await(fmt.Sprintf("link %d back up", l), 60*time.Second, func() bool {
			c.steady(ring, 3)
			return c.allLinksUp(3)
		})
		t.Logf("figure: link %d unblocked -> up again on every node after %v", l, back.Round(time.Millisecond))
	}
	c.steady(ring, 3)
	if st, err := c.status(0); err == nil && st.Pauses > 0 {
		t.Logf("n1 detected %d pauses (a loaded machine)", st.Pauses)
	}
}

// TestRealProcessesLongPause stops one of three hanodes (SIGSTOP) for longer
// than the token: the other two form a ring of two meanwhile; after SIGCONT
// the stopped one reports the pause it detected (status and log) and all
// three end up in one ring again.
func TestRealProcessesLongPause(t *testing.T) {
	c := startCluster(t, 3)
	c.await("ring of 3", 60*time.Second, func() bool { return c.ringOf(0, 1, 2) })
	before, err := c.status(2)
	if err != nil {
		t.Fatal(err)
	}

	stopped := time.Now()
	if err := c.procs[2].Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	two := c.await("n1 and n2 in a ring of 2 while n3 is stopped", 60*time.Second, func() bool { return c.ringOf(0, 1) })
	t.Logf("figure: SIGSTOP n3 -> n1 and n2 form a ring of 2 after %v", two.Round(time.Millisecond))
	// Stay stopped for at least three tokens.
	if d := 3*testToken - time.Since(stopped); d > 0 {
		time.Sleep(d)
	}
	if err := c.procs[2].Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	paused := time.Since(stopped)
	rejoin := c.await("ring of 3 after SIGCONT", 60*time.Second, func() bool { return c.ringOf(0, 1, 2) })
	t.Logf("figure: n3 stopped for %v; after SIGCONT all three are in one ring again after %v", paused.Round(time.Millisecond), rejoin.Round(time.Millisecond))

	st, err := c.status(2)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pauses <= before.Pauses {
		t.Errorf("n3 reports %d pauses after a %v SIGSTOP (%d before), want more", st.Pauses, paused, before.Pauses)
	}
	t.Logf("figure: n3 detected %d pause(s)", st.Pauses)
	if text := st.Text(); !strings.Contains(text, "Pauses detected") {
		t.Errorf("n3's status text does not mention the pause:\n%s", text)
	}
	if log := c.logs[2].String(); !strings.Contains(log, "process was not scheduled") {
		t.Errorf("n3's log does not mention the pause:\n%s", log)
	}
	for i := range 2 {
		if st, err := c.status(i); err != nil || st.Ring == before.Ring {
			t.Errorf("n%d still in ring %v (%v): the stop did not make a new ring", i+1, st.Ring, err)
		}
	}
}
