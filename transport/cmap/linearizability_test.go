package cmap

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/hakit/hakit/node/env"
)

const propertySeed = 0xc3a9_5eed

func properties(t *testing.T, runs int) *gopter.Properties {
	t.Logf("gopter seed %#x", propertySeed)
	params := gopter.DefaultTestParametersWithSeed(propertySeed)
	params.MinSuccessfulTests = runs
	params.MaxSize = 64
	return gopter.NewProperties(params)
}

func runs(t *testing.T, n int) int {
	if testing.Short() {
		return max(n/5, 5)
	}
	return n
}

// ---- histories -------------------------------------------------------------

// histConfig shapes a random history.
type histConfig struct {
	steps      int     // time steps with client activity
	partitions bool    // reconfigure at random (otherwise one ring throughout)
	tails      bool    // transitional groups stop at random points of the old log
	localGets  bool    // the broken knob: Gets served from the local replica
	noAcks     bool    // the broken knob: results released at apply
	reconfP    float64 // per-step probability of a reconfiguration
	laggard    bool    // one node delivers far slower than the others
	quickHeal  bool    // a split heals again within a few dozen steps
	adversary  bool    // with tails: minorities deliver all of the old ring, majorities the least they may
	// restartP is the per-step probability that a node restarts (losing
	// its replica, keeping the epoch on its disk), after which the nodes
	// are regrouped.
	restartP float64
	// crashBeforePersist: a restarting node first delivers what it can
	// until it starts a new epoch, and crashes before persisting it.
	crashBeforePersist bool
	forgetEpoch        bool // the broken knob: a restart loses the persisted epoch too
}

// lclient is a sequential client on one node, as etcd's RecordingClient:
// one operation at a time, timed by the harness clock.
type lclient struct {
	node   env.NodeID
	id     int // porcupine ClientId; a new one after an unknown outcome
	busy   bool
	req    uint64
	input  ModelInput
	write  bool
	call   int64
	waitTo int64 // idle until then
}

type historyRun struct {
	ops       []porcupine.Operation
	completed int // operations with a known outcome
	unknown   int
	refused   int // refused at Submit or by every replica: left out
	refusedBy map[string]int
	rings     int
	transfers uint64
	restarts  int
	unsaved   int    // restarts that lost an epoch not yet persisted
	missing   uint64 // transfers refused because the newest state was missing
	lost      bool   // at the end, no node held the newest state: read-only for good
}

// runHistory drives a random cluster: 3-5 nodes, two clients each, three
// keys. Each time step every node in turn may give the head of its send
// queue a place in its ring (as a token visit would) and deliver its next
// message, each with its own probability, so replicas lag by different
// amounts; idle clients issue operations; now and then the nodes are
// regrouped into new rings (a random partition, a heal, or the same
// groups again), with each transitional group delivering its own prefix of
// the old ring. At the end the cluster heals and settles, and every
// replica must hold the same state.
func runHistory(t *testing.T, seed uint64, hc histConfig) (historyRun, error) {
	rng := rand.New(rand.NewPCG(seed, 0x6c696e))
	n := 3 + rng.IntN(3)
	c := newCluster(t, n)
	for _, nd := range c.nodes {
		nd.st.testLocalGets, nd.st.testNoAcks = hc.localGets, hc.noAcks
	}
	sendP, deliverP := make([]float64, n), make([]float64, n)
	for i := range n {
		sendP[i] = 0.3 + 0.7*rng.Float64()
		deliverP[i] = 0.1 + 0.9*rng.Float64()
	}
	if hc.laggard {
		deliverP[n-1] = 0.1
	}
	c.quorumDelay = func() int64 { return int64(rng.IntN(8)) }
	keys := []string{"a", "b", "c"}
	var now int64
	run := historyRun{refusedBy: map[string]int{}}
	nextClient := 0
	var clients []*lclient
	for _, nd := range c.nodes {
		for range 2 {
			clients = append(clients, &lclient{node: nd.id, id: nextClient})
			nextClient++
		}
	}
	record := func(cl *lclient, out ModelOutput, ret int64) {
		run.ops = append(run.ops, porcupine.Operation{ClientId: cl.id, Input: cl.input, Call: cl.call, Output: out, Return: ret})
	}
	// unknown ends cl's operation without an outcome. etcd's rule: a
	// write of unknown outcome may take effect at any later time (Return
	// = +inf) and its client moves on under a new id; a read of unknown
	// outcome says nothing.
	unknown := func(cl *lclient) {
		cl.busy, cl.waitTo = false, now+int64(rng.IntN(4))
		if cl.write {
			record(cl, ModelOutput{Unknown: true}, math.MaxInt64)
			run.unknown++
		}
		cl.id = nextClient
		nextClient++
	}
	c.onResult = func(nd *hnode, r Result) {
		var cl *lclient
		for _, x := range clients {
			if x.node == nd.id && x.busy && x.req == r.ReqID {
				cl = x
			}
		}
		if cl == nil {
			t.Fatalf("node %d: result for unknown request %d", nd.id, r.ReqID)
		}
		cl.busy, cl.waitTo = false, now+int64(rng.IntN(4))
		switch {
		case r.Err == nil:
			record(cl, OutputOf(r), now)
			run.completed++
		case errors.Is(r.Err, ErrUnknownOutcome):
			unknown(cl)
		default:
			// Refused by every replica (not quorate, syncing, full):
			// it did not happen.
			run.refused++
			run.refusedBy[r.Err.Error()]++
		}
	}
	randomOp := func() Op {
		k := keys[rng.IntN(len(keys))]
		v := fmt.Sprint(rng.IntN(5))
		switch x := rng.IntN(10); {
		case x < 3:
			return getOp(k)
		case x < 6:
			return setOp(k, v)
		case x < 7:
			return delOp(k)
		case x < 9:
			return casOp(k, fmt.Sprint(rng.IntN(5)), v)
		default:
			return casAbsentOp(k, v)
		}
	}
	randomGroups := func() [][]env.NodeID {
		switch rng.IntN(3) {
		case 0: // heal
			return [][]env.NodeID{c.all()}
		case 1: // a random majority and the rest
			ids := c.all()
			rng.Shuffle(n, func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
			maj := n/2 + 1 + rng.IntN(n-n/2)
			return slices.DeleteFunc([][]env.NodeID{ids[:maj], ids[maj:]}, func(g []env.NodeID) bool { return len(g) == 0 })
		}
		k := 2 + rng.IntN(2)
		groups := make([][]env.NodeID, k)
		for _, id := range c.all() {
			g := rng.IntN(k)
			groups[g] = append(groups[g], id)
		}
		return slices.DeleteFunc(groups, func(g []env.NodeID) bool { return len(g) == 0 })
	}
	tail := tailFunc(allTail)
	if hc.tails {
		tail = randomTail(rng)
	}
	if hc.adversary {
		tail = minorityTail(n)
	}

	c.repartition(allTail, c.all())
	run.rings++
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	var healAt int64
	for step := 0; step < hc.steps; step++ {
		now++
		c.tick(now)
		switch {
		case healAt != 0 && now >= healAt:
			healAt = 0
			c.repartition(tail, c.all())
			run.rings++
		case hc.partitions && rng.Float64() < hc.reconfP:
			groups := randomGroups()
			c.repartition(tail, groups...)
			run.rings++
			if hc.quickHeal && len(groups) > 1 {
				healAt = now + 5 + int64(rng.IntN(30))
			}
		case hc.restartP > 0 && rng.Float64() < hc.restartP:
			nd := c.nodes[rng.IntN(n)]
			if hc.crashBeforePersist {
				for nd.st.known <= nd.st.persisted && c.apply(nd) {
				}
			}
			if hc.forgetEpoch {
				nd.disk = 0
			}
			run.missing += nd.st.Stats().MissingState
			if nd.st.known > nd.st.persisted {
				run.unsaved++
			}
			c.restart(nd.id)
			run.restarts++
			for _, cl := range clients {
				if cl.node == nd.id && cl.busy {
					unknown(cl) // its result is gone with the node
				}
			}
			c.repartition(tail, randomGroups()...)
			run.rings++
		}
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			nd := c.nodes[i]
			if rng.Float64() < sendP[i] {
				c.sequence(nd)
			}
			if rng.Float64() < deliverP[i] {
				c.deliver(nd)
			}
		}
		for _, cl := range clients {
			if cl.busy || now < cl.waitTo || rng.IntN(3) != 0 {
				continue
			}
			nd := c.node(cl.node)
			op := randomOp()
			cl.busy, cl.input, cl.write, cl.call = true, InputOf(op), op.Kind != Get, now
			req, b, err := nd.st.SubmitReq(op)
			cl.req = req
			if err != nil {
				cl.busy, cl.waitTo = false, now+5+int64(rng.IntN(20))
				run.refused++
				run.refusedBy["submit: "+err.Error()]++
				continue
			}
			if b != nil {
				nd.queue = append(nd.queue, b)
			}
			c.drain(nd)
		}
	}
	// Heal and settle. The heal fails whatever is still pending (unknown).
	now++
	c.tick(now)
	c.repartition(tail, c.all())
	run.rings++
	c.tick(now + 1000)
	c.settle()
	for _, cl := range clients {
		if cl.busy {
			return run, fmt.Errorf("client %d on node %d still waits for request %d after the heal", cl.id, cl.node, cl.req)
		}
	}
	// Unless every node that held the newest state restarted: then the
	// store stays read-only, and says why.
	var known, newest uint64
	for _, nd := range c.nodes {
		known, newest = max(known, nd.st.KnownEpoch()), max(newest, nd.st.Epoch())
		run.missing += nd.st.Stats().MissingState
	}
	run.lost = known > newest
	first := c.nodes[0].st
	for _, nd := range c.nodes {
		st := nd.st.Status()
		if run.lost && (st.Writable || !strings.Contains(st.SyncError, ErrStateMissing.Error())) {
			return run, fmt.Errorf("newest state lost (epoch %d, newest present %d), yet after the heal: %s", known, newest, dump(nd.st))
		}
		if !run.lost && (nd.st.Digest() != first.Digest() || nd.st.Revision() != first.Revision() || !st.Writable) {
			return run, fmt.Errorf("after the heal:\n%s\n%s", dump(first), dump(nd.st))
		}
		run.transfers += nd.st.Stats().Transfers
	}
	if c.applyErr != 0 {
		return run, fmt.Errorf("%d messages failed to decode", c.applyErr)
	}
	return run, nil
}

// checkHistory runs porcupine with a timeout (its Unknown result).
func checkHistory(ops []porcupine.Operation, timeout time.Duration) (porcupine.CheckResult, porcupine.LinearizationInfo) {
	return porcupine.CheckOperationsVerbose(PorcupineModel(), ops, timeout)
}

func visualize(t *testing.T, info porcupine.LinearizationInfo, seed uint64) {
	f, err := os.CreateTemp("", fmt.Sprintf("cmap-history-%x-*.html", seed))
	if err != nil {
		t.Log(err)
		return
	}
	defer f.Close()
	if err := porcupine.Visualize(PorcupineModel(), info, f); err != nil {
		t.Log(err)
		return
	}
	t.Logf("history visualization: %s", f.Name())
}

// ---- properties --------------------------------------------------------------

// TestLinearizable: histories of several clients on several nodes, through
// lagging replicas, random partitions into quorate and non-quorate rings,
// divergent old-ring tails, state transfers and unknown outcomes, are
// linearizable.
func TestLinearizable(t *testing.T) {
	for _, tc := range []struct {
		name string
		hc   histConfig
	}{
		{"one ring", histConfig{steps: 500}},
		{"one ring, a lagging replica", histConfig{steps: 500, laggard: true}},
		{"partitions", histConfig{steps: 1000, partitions: true, reconfP: 0.01}},
		{"partitions with divergent tails", histConfig{steps: 1000, partitions: true, tails: true, reconfP: 0.015}},
		{"short splits, adversarial tails", histConfig{steps: 600, partitions: true, adversary: true, reconfP: 0.02, quickHeal: true}},
		{"restarts", histConfig{steps: 1000, partitions: true, reconfP: 0.01, restartP: 0.005}},
		{"restarts with divergent tails", histConfig{steps: 1000, partitions: true, tails: true, reconfP: 0.015, restartP: 0.008}},
		{"restarts before persisting, adversarial tails", histConfig{steps: 800, partitions: true, adversary: true, reconfP: 0.02, quickHeal: true, restartP: 0.01, crashBeforePersist: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			total := historyRun{refusedBy: map[string]int{}}
			lost := 0
			props := properties(t, runs(t, 60))
			props.Property("linearizable", prop.ForAll(func(seed uint64) bool {
				run, err := runHistory(t, seed, tc.hc)
				if err != nil {
					t.Logf("seed %#x: %v", seed, err)
					return false
				}
				// Unknown (a timeout) counts as a failure.
				res, info := checkHistory(run.ops, 30*time.Second)
				if res != porcupine.Ok {
					t.Logf("seed %#x: porcupine says %v (%d operations)", seed, res, len(run.ops))
					visualize(t, info, seed)
					return false
				}
				total.completed += run.completed
				total.unknown += run.unknown
				total.refused += run.refused
				for k, v := range run.refusedBy {
					total.refusedBy[k] += v
				}
				total.rings += run.rings
				total.transfers += run.transfers
				total.restarts += run.restarts
				total.unsaved += run.unsaved
				total.missing += run.missing
				if run.lost {
					lost++
				}
				return true
			}, gen.UInt64()))
			props.TestingRun(t)
			t.Logf("completed %d, unknown %d, refused %d operations %v; %d rings, %d transfers; %d restarts (%d before persisting the epoch), %d transfers refused for a missing state, %d histories ending with it lost",
				total.completed, total.unknown, total.refused, total.refusedBy, total.rings, total.transfers, total.restarts, total.unsaved, total.missing, lost)
			if total.completed == 0 || tc.hc.partitions && (total.unknown == 0 || total.refused == 0 || total.transfers == 0) ||
				tc.hc.restartP > 0 && (total.restarts == 0 || total.missing == 0) || tc.hc.crashBeforePersist && total.unsaved == 0 {
				t.Fatal("the histories did not exercise the cases they are meant to")
			}
		})
	}
}

// TestLinearizabilityCheckCanFail: the same check catches broken stores.
// With Gets served from the local replica, a lagging or partitioned
// replica returns stale values; without acknowledgements, a minority's
// old-ring tail reports writes the quorate side never applied. Porcupine
// must find an Illegal history in each case.
func TestLinearizabilityCheckCanFail(t *testing.T) {
	for _, tc := range []struct {
		name string
		hc   histConfig
	}{
		{"local gets, one ring, a lagging replica", histConfig{steps: 600, localGets: true, laggard: true}},
		{"local gets", histConfig{steps: 200, partitions: true, reconfP: 0.02, localGets: true}},
		{"no acks", histConfig{steps: 400, partitions: true, adversary: true, reconfP: 0.03, noAcks: true}},
		{"restarts forgetting the epoch", histConfig{steps: 1000, partitions: true, tails: true, reconfP: 0.015, restartP: 0.015, forgetEpoch: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var illegal, tried int
			props := properties(t, 60) // not fewer with -short: the point is to find one
			props.Property("runs", prop.ForAll(func(seed uint64) bool {
				run, err := runHistory(t, seed, tc.hc)
				if err != nil {
					t.Logf("seed %#x: %v", seed, err)
					return false
				}
				tried++
				// Proving a history illegal can take porcupine long; a
				// timeout here only means this history does not count.
				if res, _ := checkHistory(run.ops, 2*time.Second); res == porcupine.Illegal {
					illegal++
				} else if res != porcupine.Ok {
					t.Logf("seed %#x: porcupine says %v", seed, res)
				}
				return true
			}, gen.UInt64()))
			props.TestingRun(t)
			t.Logf("%d of %d histories illegal", illegal, tried)
			if illegal == 0 {
				t.Fatalf("porcupine found no illegal history among %d with %s", tried, tc.name)
			}
		})
	}
}

// TestReplicasAgree: replicas fed the same stream of operations hold the
// same state, and the digest tells different states apart.
func TestReplicasAgree(t *testing.T) {
	props := properties(t, runs(t, 200))
	props.Property("same stream, same digest", prop.ForAll(func(ops []uint16) bool {
		ring := RingID{Seq: 1, Rep: 1}
		members := []env.NodeID{1, 2, 3}
		var reps []*Store
		for _, id := range members {
			s := New(id)
			s.Configuration(ring, members)
			s.SetQuorate(true)
			reps = append(reps, s)
		}
		var stream []hmsg
		for _, s := range reps {
			rd := s.Ready()
			for _, b := range rd.Broadcast {
				stream = append(stream, hmsg{sender: s.self, payload: b})
			}
			s.Advance(rd)
		}
		for i, x := range ops {
			k := string(rune('a' + x%4))
			v := []byte{byte(x >> 8 % 3)}
			op := []Op{getOp(k), {Kind: Set, Key: k, Value: v}, delOp(k), {Kind: CAS, Key: k, Expect: []byte{byte(x >> 4 % 3)}, Value: v}, {Kind: CAS, Key: k, ExpectAbsent: true, Value: v}}[x>>2%5]
			op.Client, op.ReqID = members[i%3], uint64(i+1)
			stream = append(stream, hmsg{sender: op.Client, payload: EncodeOp(op)})
		}
		for _, s := range reps {
			for _, m := range stream {
				if err := s.Apply(m.sender, m.payload); err != nil {
					t.Log(err)
					return false
				}
			}
		}
		for _, s := range reps[1:] {
			if s.Digest() != reps[0].Digest() || s.Revision() != reps[0].Revision() || !s.Status().Writable {
				t.Logf("\n%s\n%s", dump(reps[0]), dump(s))
				return false
			}
		}
		// One more change on one replica must show in its digest.
		before := reps[1].Digest()
		reps[1].put("extra", nil, false, []byte("x"))
		return reps[1].Digest() != before && reps[1].Digest() != reps[0].Digest()
	}, gen.SliceOf(gen.UInt16())))
	props.TestingRun(t)
}
