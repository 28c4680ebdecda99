package scenarios

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/hakit/hakit/node"
	"github.com/hakit/hakit/sim"
	"github.com/hakit/hakit/transport/cmap"
)

func init() {
	register(Scenario{Name: "ring-kv", Summary: "3-5 members, clients on every node reading and writing the replicated key-value store through swarm faults: the history, in virtual time, is linearizable (porcupine)", Run: runRingKV})
}

// kvClient is one client of the store on one node: at most one operation
// in flight, recorded for porcupine with virtual timestamps.
type kvClient struct {
	host   int
	id     int // porcupine ClientId; a new one after an unknown outcome
	busy   bool
	member *node.Member // the incarnation the pending operation went to
	input  cmap.ModelInput
	write  bool
	call   int64
}

// kvHistory is what the clients saw.
type kvHistory struct {
	ops                          []porcupine.Operation
	ok, unknown, refused, failed int
	syncing                      int // of refused: ErrSyncing (a transfer not over, or failed)
	nextID                       int
}

// runRingKV runs clients on every node against the real store (cmap in
// node.Member over totem and votequorum) while the swarm's faults hit:
// cable cuts, partitions, power loss, crashes, pauses, lossy networks.
// Every result a client gets, and every write whose outcome it never
// learnt, goes into a history checked for linearizability against the
// store's sequential model. A refused operation (not quorate, syncing)
// did not happen and is left out; a read of unknown outcome says nothing.
// Three or more members, so that votequorum leaves at most one side of a
// split quorate (two_node would make both writable: fencing's job).
//
// Crashes and power losses may overlap: every member holding the newest
// state may lose it at once. The store then stays read-only (refusing
// with ErrSyncing, which the history leaves out) instead of going on from
// an older state, so the history stays linearizable; what the scenario
// checks besides is that after the faults, healed, the store works again,
// or reports its state missing, and only when a member lost its memory.
func runRingKV(r *Run) {
	opts := r.W.Rand("options")
	n := 3 + opts.IntN(3)
	names := nodeNames(n)
	c := NewRingCluster(r, names, ReferenceConf(names, "", ""))
	rng := r.W.Rand("clients")
	keys := []string{"a", "b", "c", "d"}
	h := &kvHistory{}
	var clients []*kvClient
	for i := range n {
		for range 2 {
			clients = append(clients, &kvClient{host: i, id: h.nextID})
			h.nextID++
		}
	}
	now := func() int64 { return int64(r.W.Now()) }
	record := func(cl *kvClient, out cmap.ModelOutput, ret int64) {
		h.ops = append(h.ops, porcupine.Operation{ClientId: cl.id, Input: cl.input, Call: cl.call, Output: out, Return: ret})
	}
	// unknown ends cl's operation without an outcome: a write may take
	// effect at any later time (Return = +inf) and the client goes on
	// under a new id, as etcd's robustness tests do; a read says nothing.
	unknown := func(cl *kvClient) {
		if cl.write {
			record(cl, cmap.ModelOutput{Unknown: true}, math.MaxInt64)
		}
		h.unknown++
		cl.busy = false
		cl.id = h.nextID
		h.nextID++
	}
	randomOp := func() cmap.Op {
		k := keys[rng.IntN(len(keys))]
		v := []byte(fmt.Sprint(rng.IntN(6)))
		switch x := rng.IntN(10); {
		case x < 4:
			return cmap.Op{Kind: cmap.Get, Key: k}
		case x < 6:
			return cmap.Op{Kind: cmap.Set, Key: k, Value: v}
		case x < 7:
			return cmap.Op{Kind: cmap.Delete, Key: k}
		case x < 9:
			return cmap.Op{Kind: cmap.CAS, Key: k, Value: v, Expect: []byte(fmt.Sprint(rng.IntN(6)))}
		default:
			return cmap.Op{Kind: cmap.CAS, Key: k, Value: v, ExpectAbsent: true}
		}
	}
	issue := func(cl *kvClient) {
		m := c.Members[cl.host]
		op := randomOp()
		cl.input, cl.write, cl.call = cmap.InputOf(op), op.Kind != cmap.Get, now()
		cl.busy, cl.member = true, m
		err := m.KV(op, func(res cmap.Result) {
			if !cl.busy || cl.member != m {
				return
			}
			cl.busy = false
			switch {
			case res.Err == nil:
				record(cl, cmap.OutputOf(res), now())
				h.ok++
			case errors.Is(res.Err, cmap.ErrUnknownOutcome):
				cl.busy = true
				unknown(cl)
			default:
				h.refused++ // every replica refused it: it did not happen
				if errors.Is(res.Err, cmap.ErrSyncing) {
					h.syncing++
				}
			}
		})
		if err != nil {
			cl.busy = false
			h.failed++ // refused before sending
		}
	}
	stopped, writableSeen := false, false
	var tick func()
	tick = func() {
		if stopped {
			return
		}
		for i := range n {
			writableSeen = writableSeen || c.live(i) && c.Members[i].KVStatus().Writable
		}
		for _, cl := range clients {
			switch {
			case cl.busy && c.Members[cl.host] != cl.member:
				unknown(cl) // its node crashed or restarted
			case !cl.busy && c.live(cl.host) && rng.IntN(4) == 0:
				issue(cl)
			}
		}
		r.W.After(50*time.Millisecond, "kv clients", tick)
	}
	if !c.formed() {
		return
	}
	// The networks turn lossy once the ring stands: forming a ring of five
	// through 10 % loss can take longer than the wait above, and the
	// store's history is what this scenario is about.
	swarmNetworks(opts, c.Private, c.Public)
	start := r.W.Now()
	tick()
	const faultPhase = 40 * time.Second
	planned := planFaults(r.W, r.W.Rand("faults"), c.Hosts, c.Procs, start+2*time.Second, start+faultPhase-10*time.Second, 8*time.Second)
	schedule := schedulePlanned(r.W, planned)
	memoryLost := slices.ContainsFunc(planned, func(f plannedFault) bool {
		return strings.HasPrefix(f.what, "power off") || strings.HasPrefix(f.what, "crash")
	})
	r.W.RunUntil(start + faultPhase)
	c.Private.SetConfig(sim.LAN())
	c.Public.SetConfig(sim.LAN())
	r.W.RunFor(15 * time.Second)
	stopped = true
	// What is still pending gets its result or fails at a configuration
	// change; whatever is left then has an unknown outcome.
	c.Await(10*time.Second, func() bool {
		for _, cl := range clients {
			if cl.busy {
				return false
			}
		}
		return true
	})
	for _, cl := range clients {
		if cl.busy {
			unknown(cl)
		}
	}
	// Healed, the members form one ring and the store works again, unless
	// every member that held the newest state lost it: then it says so
	// (and stays read-only for good).
	var final []string
	lost := false
	healed := func() bool {
		final, lost = final[:0], false
		if !c.OneRing(c.All()...) {
			return false
		}
		ok := true
		for i, m := range c.Members {
			st := m.KVStatus()
			missing := strings.Contains(st.SyncError, cmap.ErrStateMissing.Error())
			lost = lost || missing
			ok = ok && (st.Writable || missing)
			final = append(final, fmt.Sprintf("%s: writable=%v epoch=%d known=%d %s", c.Hosts[i].Name(), st.Writable, st.Epoch, st.KnownEpoch, st.SyncError))
		}
		return ok
	}
	if _, ok := c.Await(15*time.Second, healed); !ok {
		r.Violationf("after the faults the store neither works nor reports its state missing: %v; faults: %v", final, schedule)
	}
	if lost && !memoryLost {
		r.Violationf("the store reports its state missing, yet no member lost its memory: %v; faults: %v", final, schedule)
	}
	lostFigure := 0.0
	if lost {
		lostFigure = 1
	}
	r.Figure("ops_ok", float64(h.ok), "")
	r.Figure("ops_unknown", float64(h.unknown), "")
	r.Figure("ops_refused", float64(h.refused+h.failed), "")
	r.Figure("ops_refused_syncing", float64(h.syncing), "")
	r.Figure("kv_state_lost", lostFigure, "")
	// The faults start 2 s after the clients; a store that never became
	// writable is the failure, one that did must have served someone.
	switch {
	case !writableSeen:
		r.Violationf("the store never became writable; faults: %v", schedule)
	case h.ok == 0:
		r.Violationf("no operation succeeded in %v though the store was writable; faults: %v", faultPhase+15*time.Second, schedule)
	}
	if res := porcupine.CheckOperations(cmap.PorcupineModel(), h.ops); !res {
		r.Violationf("the key-value history (%d operations) is not linearizable; faults: %v", len(h.ops), schedule)
	}
}
