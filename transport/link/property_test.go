package link

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/hakit/hakit/node/env"
)

// cutOp is one step of a random schedule of link cuts and restores.
type cutOp struct {
	Kind   int // 0 cut a whole link, 1 cut a node's NIC, 2 and 3 restore them, 4 restore all
	Node   int
	Link   int
	WaitMS int
}

func (o cutOp) String() string {
	return fmt.Sprintf("%s(n%d,l%d)+%dms", [...]string{"cutLink", "cutNIC", "restoreLink", "restoreNIC", "restoreAll"}[o.Kind], o.Node, o.Link, o.WaitMS)
}

var propLinks = []LinkConfig{
	{ID: 0, Priority: 10, PingInterval: 300 * time.Millisecond, PingTimeout: 750 * time.Millisecond, PongCount: 2},
	{ID: 1, Priority: 20, PingInterval: 200 * time.Millisecond, PingTimeout: 500 * time.Millisecond, PongCount: 3},
}

const propMaxOneWay = 5 * time.Millisecond

// checkCluster is the safety side of the property, run after every event.
func checkCluster(c *cluster, backoff int) error {
	for _, n := range c.nodes {
		m := c.m[n]
		for _, ps := range m.Status() {
			var up []LinkConfig
			for li, ls := range ps.Links {
				lcfg := propLinks[li]
				limit := lcfg.PingTimeout * time.Duration(max(backoff, 1))
				k := pathKey{n, ps.Peer, ls.ID}
				if ls.Up {
					up = append(up, lcfg)
					got, ok := c.pongAt[k]
					if !ok || c.now.Sub(got) > limit || c.now.Sub(ls.LastPong) > limit {
						return fmt.Errorf("at %v node %d reports link %d to %d up, last pong delivered %v (manager says %v), limit %v",
							c.now, n, ls.ID, ps.Peer, got, ls.LastPong, limit)
					}
				}
				if since, cut := c.cutSince(n, ps.Peer, ls.ID); cut && ls.Up && c.now.Sub(since) > limit {
					return fmt.Errorf("at %v node %d still reports link %d to %d up, cut since %v", c.now, n, ls.ID, ps.Peer, since)
				}
			}
			var want []env.LinkID
			for _, l := range up {
				want = append(want, l.ID)
			}
			if m.cfg.Mode == Passive && len(up) > 0 {
				best := up[0]
				for _, l := range up[1:] {
					if l.Priority > best.Priority {
						best = l
					}
				}
				want = []env.LinkID{best.ID}
			}
			if got := m.Route(ps.Peer); !slices.Equal(got, want) {
				return fmt.Errorf("at %v node %d routes to %d on %v, want %v", c.now, n, ps.Peer, got, want)
			}
			if slices.Contains(m.Reachable(), ps.Peer) != (len(up) > 0) {
				return fmt.Errorf("at %v node %d: Reachable %v disagrees with links %+v", c.now, n, m.Reachable(), ps.Links)
			}
		}
	}
	return nil
}

// runCuts plays a schedule, checking safety at every event, then heals
// every cut and requires each link up everywhere within
// PingInterval*(PongCount+1) plus a round trip.
func runCuts(t testing.TB, nodes int, mode Mode, backoff int, seed uint64, ops []cutOp) error {
	c := newCluster(t, nodes, seed, propLinks, mode, backoff)
	c.latency[0], c.latency[1] = time.Millisecond, time.Millisecond
	c.jitter = propMaxOneWay - time.Millisecond
	var failure error
	c.check = func() {
		if failure == nil {
			failure = checkCluster(c, backoff)
		}
	}
	c.runFor(2 * time.Second)
	for _, o := range ops {
		node, link := env.NodeID(o.Node%nodes+1), env.LinkID(o.Link)
		switch o.Kind {
		case 0:
			c.cut(0, link)
		case 1:
			c.cut(node, link)
		case 2:
			c.restore(0, link)
		case 3:
			c.restore(node, link)
		case 4:
			c.restoreAll()
		}
		c.runFor(time.Duration(o.WaitMS) * time.Millisecond)
		if failure != nil {
			return failure
		}
	}
	healed := c.now
	c.restoreAll()
	order := slices.Clone(propLinks)
	bound := func(l LinkConfig) time.Duration {
		return l.PingInterval*time.Duration(l.PongCount+1) + 2*propMaxOneWay
	}
	slices.SortFunc(order, func(a, b LinkConfig) int { return int(bound(a) - bound(b)) })
	for _, l := range order {
		c.runUntil(healed.Add(bound(l)))
		if failure != nil {
			return failure
		}
		for _, n := range c.nodes {
			for _, p := range c.nodes {
				if p != n && !c.up(n, p, l.ID) {
					return fmt.Errorf("node %d: link %d to %d not up %v after the cuts healed at %v\n%s", n, l.ID, p, bound(l), healed, c.trace())
				}
			}
		}
	}
	return nil
}

// TestRandomCutSchedules: for random schedules of link cuts and restores,
// a link reported up has had a pong within PingTimeout (times the backoff
// factor when enabled), a cut link is down once PingTimeout has passed,
// Route and Reachable agree with the link states, and once the cuts heal
// every link comes up within PingInterval*(PongCount+1) plus latency.
func TestRandomCutSchedules(t *testing.T) {
	params := gopter.DefaultTestParametersWithSeed(4321)
	params.MinSuccessfulTests = 100
	params.Workers = 1
	if testing.Short() {
		params.MinSuccessfulTests = 20
	}
	t.Logf("gopter seed %d", params.Seed())
	props := gopter.NewProperties(params)
	genOps := gen.SliceOfN(16, gen.Struct(reflect.TypeOf(cutOp{}), map[string]gopter.Gen{
		"Kind":   gen.Weighted([]gen.WeightedGen{{Weight: 3, Gen: gen.IntRange(0, 1)}, {Weight: 2, Gen: gen.IntRange(2, 3)}, {Weight: 1, Gen: gen.Const(4)}}),
		"Node":   gen.IntRange(0, 2),
		"Link":   gen.IntRange(0, len(propLinks)-1),
		"WaitMS": gen.IntRange(0, 3000),
	}))
	for _, tc := range []struct {
		nodes   int
		mode    Mode
		backoff int
	}{{2, Passive, 0}, {3, Active, 0}, {3, Passive, 10}} {
		props.Property(fmt.Sprintf("%d nodes, %v, backoff %d", tc.nodes, tc.mode, tc.backoff), prop.ForAll(
			func(ops []cutOp, seed uint64) (bool, error) {
				if err := runCuts(t, tc.nodes, tc.mode, tc.backoff, seed, ops); err != nil {
					return false, fmt.Errorf("%v\nschedule: %v", err, ops)
				}
				return true, nil
			},
			genOps, gen.UInt64(),
		))
	}
	props.TestingRun(t)
}
