package scenarios

import (
	"fmt"
	"strings"
	"time"

	"github.com/hakit/hakit/transport/config"
)

func init() {
	register(Scenario{Name: "bond-flap", Summary: "reference nodes with token 150 ms, shorter than the bonds' 300 ms failover (validation warns; not at the default token); the active slave under link 0 is cut: knet marks link 0 down; with one ring the membership changes and re-forms, with two rings knet routes over link 1 and it holds", Run: runBondFlap})
}

// bondFlapToken is shorter than the reference bond's worst-case failover
// (miimon 100 + downdelay 200 = 300 ms) and than the 375 ms a failover
// silences a link whose knet ping timeout (token/2 = 75 ms) expires in it.
const bondFlapToken = "\ttoken: 150\n"

// oneRingConf is ReferenceConf with ring0 only: the layout where the bond
// is the only redundancy under totem (bond1 carries just the service).
func oneRingConf(names []string, totemExtra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "totem {\n\tversion: 2\n\tcluster_name: hakit\n%s\tinterface {\n\t\tlinknumber: 0\n\t}\n}\nnodelist {\n", totemExtra)
	for i, name := range names {
		fmt.Fprintf(&b, "\tnode {\n\t\tname: %s\n\t\tnodeid: %d\n\t\tring0_addr: 10.0.0.%d\n\t}\n", name, i+1, i+1)
	}
	b.WriteString("}\nquorum {\n\tprovider: corosync_votequorum\n\ttwo_node: 1\n}\n")
	return b.String()
}

// runBondFlap is ring-bond-failover with a token shorter than the bond's
// failover, on one of two layouts drawn from the seed:
//
//   - one ring, on bond0 only. The cut silences totem for the whole
//     failover, and longer: knet's ping timeout (75 ms) marks link 0 down
//     inside it, and the link carries nothing until two pongs after the
//     failover. The token is lost, so both members must deliver a new
//     membership. When the failover ends before the consensus timeout,
//     they re-form at once with both; otherwise each first forms a ring
//     of its own (counted as splits). Either way one ring of both must
//     follow, with every final message delivered.
//   - two rings, the reference corosync.conf. Link 0 still goes down, as
//     the link warning says, but knet routes the token's retransmission
//     over link 1 within the token timeout, so no membership change is
//     allowed: the token warning's condition, that totem's links all use
//     the failing bond, does not hold.
//
// Before anything runs, config validation must have warned about both
// (with the bond timing the simulated hosts use), and must be silent about
// the same layout at the default token.
func runBondFlap(r *Run) {
	names := []string{"vm-node1", "vm-node2"}
	opts := r.W.Rand("options")
	oneRing := opts.IntN(2) == 0
	layout := "2rings"
	render := func(extra string) string { return ReferenceConf(names, extra, "") }
	if oneRing {
		layout = "1ring"
		render = func(extra string) string { return oneRingConf(names, extra) }
	}
	conf := render(bondFlapToken)
	c := NewRingCluster(r, names, conf)

	var bonds []config.BondTiming
	for _, name := range []string{"bond0", "bond1"} {
		bc := c.Hosts[0].Bond(name).Config()
		bonds = append(bonds, config.BondTiming{Name: name, Miimon: bc.Miimon, Downdelay: bc.Downdelay, Updelay: bc.Updelay})
	}
	warnings := config.CheckBondTiming(c.Conf, bonds)
	hasWarning := func(bond, what string) bool {
		for _, w := range warnings {
			if strings.Contains(w, "bond "+bond+" ") && strings.Contains(w, what) {
				return true
			}
		}
		return false
	}
	for _, b := range bonds {
		if !hasWarning(b.Name, "change the membership") || !hasWarning(b.Name, "link 0 (") {
			r.Violationf("token 150 ms against %s's %v failover: want a token and a link warning, got %q", b.Name, b.FailoverWindow(), warnings)
		}
	}
	defaults, err := config.Parse("corosync.conf", []byte(render("")))
	if err != nil {
		r.Violationf("default corosync.conf: %v", err)
		return
	}
	if ws := config.CheckBondTiming(defaults, bonds); len(ws) != 0 {
		r.Violationf("default token: unexpected bond warnings %q", ws)
	}

	if !c.formed() {
		return
	}
	c.load(20 * time.Millisecond)
	// Steady first: with a 150 ms token, a ring formed while the links
	// were still coming up may re-form once.
	c.finalDelivery(5 * time.Second)
	faults := r.W.Rand("faults")
	victim := faults.IntN(2)
	bond := c.Hosts[victim].Bond("bond0") // link 0: priority 20, the one in use
	r.W.RunFor(between(faults, time.Second, 3*time.Second))
	downs := make([]uint64, 2)
	for i, m := range c.Members {
		downs[i] = m.Links().Stats().LinkDowns
	}
	cut := r.W.Now()
	bond.Active().CutCable()

	// Both ends of link 0 lose its pongs for longer than the ping timeout.
	took, ok := c.Await(time.Second, func() bool {
		for i, m := range c.Members {
			if m.Links().Stats().LinkDowns == downs[i] {
				return false
			}
		}
		return true
	})
	if !ok {
		r.Violationf("%s's cut: link 0 not declared down at both ends within 1 s, though validation warned it would be", bond.Name())
	} else {
		r.Figure("link_down_ms_"+layout, ms(took), "ms")
	}
	r.W.RunUntil(cut + 5*time.Second)
	if !c.OneRing(c.All()...) {
		r.Violationf("no ring of both 5 s after %s's cut (failover in at most %v)", bond.Name(), bond.Config().FailoverWindow())
		return
	}
	changes := c.regularsSince(cut)
	if !oneRing {
		if changes != 0 {
			r.Violationf("two rings: %s's failover changed the membership %d times; knet should have routed over link 1", bond.Name(), changes)
		}
		c.finalDelivery(5 * time.Second)
		return
	}
	var last time.Duration
	splits := 0
	for i, seen := range c.RegularAt {
		flapped := false
		for _, s := range seen {
			if s.At < cut {
				continue
			}
			flapped = true
			last = max(last, s.At-cut)
			if len(s.Members) < 2 {
				splits++
			}
		}
		if !flapped {
			r.Violationf("one ring, token %v, %s failing over: %s delivered no new membership", c.Conf.EffectiveToken(), bond.Name(), c.Hosts[i].Name())
		}
	}
	r.Figure("configurations", float64(changes), "")
	r.Figure("splits", float64(splits), "")
	r.Figure("remerge_ms", ms(last), "ms")
	c.finalDelivery(5 * time.Second)
}
