package scenarios

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/hakit/hakit/agents"
	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/sim"
)

// AgentFault is a failure the scenario injects into the simulated agents.
type AgentFault int

const (
	// FaultHang makes the operation run past its timeout; a hung stop
	// leaves the service running (a failed stop).
	FaultHang AgentFault = iota + 1
	// FaultFail makes the operation return OCF_ERR_GENERIC; a failed stop
	// leaves the service running.
	FaultFail
)

// Agents is the world's simulated resource agents: they act on the
// hosts' ground truth (addresses configured, services running), take
// time drawn from the seed, and fail as the scenario says. One Agents
// serves every host; each node incarnation gets its executor from For.
type Agents struct {
	w *sim.World
	// faults are armed failures by "host/resource/action", each for one
	// operation.
	faults map[string]AgentFault
	// gatewayDown makes ping on a host find no gateway.
	gatewayDown map[string]bool
	// Starts records, per resource, the world time each successful start
	// completed (for failover figures).
	Starts map[string][]StartRecord
	// Fenced lists the hosts the fence device shot, in order.
	Fenced []string
	// OnBoot, if set, is called when a rebooted host is back up: the init
	// system starting its daemon.
	OnBoot func(h *sim.Host)
}

// rebootTime is how long a fenced host takes to come back after reboot.
const rebootTime = 10 * time.Second

// StartRecord is one completed start.
type StartRecord struct {
	Host      string
	Began, At time.Duration
}

// NewAgents builds the simulated agents of world w.
func NewAgents(w *sim.World) *Agents {
	return &Agents{w: w, faults: map[string]AgentFault{}, gatewayDown: map[string]bool{}, Starts: map[string][]StartRecord{}}
}

// Inject arms fault for the next action of resource on host.
func (a *Agents) Inject(host, resource, action string, fault AgentFault) {
	a.faults[host+"/"+resource+"/"+action] = fault
}

// SetGateway makes host's gateway reachable or not (what ping sees).
func (a *Agents) SetGateway(host string, up bool) { a.gatewayDown[host] = !up }

// Crash stops resource's service on host behind the cluster's back (the
// process died); its next monitor finds it gone.
func (a *Agents) Crash(host *sim.Host, service string) { host.StopService(service) }

// For returns the executor of one node incarnation on host, running on e.
func (a *Agents) For(host *sim.Host, e env.Env) agents.Executor {
	return &simExecutor{a: a, host: host, e: e, rng: e.Rand("agents"), queues: map[string][]*simOp{}}
}

type simExecutor struct {
	a    *Agents
	host *sim.Host
	e    env.Env
	rng  *rand.Rand
	// queues run one operation at a time per resource, as an executor
	// does: the head is running.
	queues map[string][]*simOp
}

type simOp struct {
	op    agents.Op
	done  func(agents.Result)
	timer env.Timer
	start env.Mono
}

func (x *simExecutor) Exec(op agents.Op, done func(agents.Result)) {
	so := &simOp{op: op, done: done}
	q := append(x.queues[op.Resource], so)
	x.queues[op.Resource] = q
	if len(q) == 1 {
		x.begin(so)
	}
}

func (x *simExecutor) Cancel(resource string) {
	q := x.queues[resource]
	delete(x.queues, resource)
	for _, so := range q {
		if so.timer != nil {
			so.timer.Stop()
		}
		so := so
		x.e.Clock.AfterFunc(0, func() { so.done(agents.Result{Op: so.op, RC: agents.RCErrGeneric, Status: agents.StatusCancelled}) })
	}
}

func (x *simExecutor) Agents() ([]agents.Available, error) {
	var out []agents.Available
	for _, t := range []agents.Agent{{Class: "ocf", Provider: "heartbeat", Type: "Dummy"}, {Class: "ocf", Provider: "heartbeat", Type: "IPaddr2"},
		{Class: "ocf", Provider: "heartbeat", Type: "apache"}, {Class: "ocf", Provider: "pacemaker", Type: "ping"},
		{Class: "stonith", Type: "fence_sim"}} {
		out = append(out, agents.Available{Agent: t, Source: "simulated"})
	}
	return out, nil
}

// durations an action takes in the simulation, drawn uniformly.
func (x *simExecutor) duration(op agents.Op) time.Duration {
	lo, hi := 5*time.Millisecond, 30*time.Millisecond
	switch {
	case op.Agent.Class == "stonith" && op.Action != "monitor" && op.Action != "start" && op.Action != "stop":
		lo, hi = 500*time.Millisecond, 2*time.Second // a power switch answers
	case op.Agent.Type == "apache" && op.Action == "start":
		lo, hi = 200*time.Millisecond, 800*time.Millisecond
	case op.Agent.Type == "apache" && op.Action == "stop":
		lo, hi = 100*time.Millisecond, 400*time.Millisecond
	case op.Agent.Type == "IPaddr2" && op.Action == "start":
		lo, hi = 20*time.Millisecond, 60*time.Millisecond // address plus gratuitous ARP
	}
	return lo + time.Duration(x.rng.Int64N(int64(hi-lo)))
}

func (x *simExecutor) begin(so *simOp) {
	so.start = x.e.Clock.Mono()
	key := x.host.Name() + "/" + so.op.Resource + "/" + so.op.Action
	fault := x.a.faults[key]
	delete(x.a.faults, key)
	d := x.duration(so.op)
	if fault == FaultHang {
		d = so.op.Timeout
	}
	so.timer = x.e.Clock.AfterFunc(d, func() {
		res := agents.Result{Op: so.op}
		switch fault {
		case FaultHang:
			res.RC, res.Status, res.ExitReason = agents.RCErrGeneric, agents.StatusTimedOut, "timed out (simulated hang)"
		case FaultFail:
			res.RC, res.ExitReason = agents.RCErrGeneric, "simulated failure"
		default:
			res = x.act(so.op, x.a.w.Now()-x.e.Clock.Mono().Sub(so.start))
		}
		res.Duration = x.e.Clock.Mono().Sub(so.start)
		x.finish(so, res)
	})
}

func (x *simExecutor) finish(so *simOp, res agents.Result) {
	q := x.queues[so.op.Resource]
	if len(q) > 0 && q[0] == so {
		q = q[1:]
		if len(q) == 0 {
			delete(x.queues, so.op.Resource)
		} else {
			x.queues[so.op.Resource] = q
			x.begin(q[0])
		}
	}
	so.done(res)
}

// act does the operation on the ground truth.
func (x *simExecutor) act(op agents.Op, began time.Duration) agents.Result {
	res := agents.Result{Op: op}
	h := x.host
	if !h.Powered() {
		res.RC, res.Status = agents.RCErrGeneric, agents.StatusError
		return res
	}
	service := ServiceOf(op)
	switch op.Agent.Type {
	case "fence_sim":
		if op.Action == "off" || op.Action == "reboot" {
			victim := x.a.w.Host(op.Params["port"])
			if victim == nil {
				res.RC, res.ExitReason = agents.RCErrArgs, fmt.Sprintf("no host %q", op.Params["port"])
				return res
			}
			victim.PowerOff()
			x.a.Fenced = append(x.a.Fenced, victim.Name())
			if op.Action == "reboot" {
				x.a.w.After(rebootTime, "reboot "+victim.Name(), func() {
					victim.PowerOn()
					if x.a.OnBoot != nil {
						x.a.OnBoot(victim)
					}
				})
			}
		}
		return res
	case "IPaddr2":
		ip := op.Params["ip"]
		if ip == "" {
			res.RC, res.ExitReason = agents.RCErrConfigured, "ip is required"
			return res
		}
		switch op.Action {
		case "start":
			if !h.HasAddress(ip) {
				if err := h.AddAddress(op.Params["nic"], ip); err != nil {
					res.RC, res.ExitReason = agents.RCErrGeneric, err.Error()
					return res
				}
			}
			x.a.Starts[op.Resource] = append(x.a.Starts[op.Resource], StartRecord{h.Name(), began, x.a.w.Now()})
		case "stop":
			h.RemoveAddress(ip)
		case "monitor":
			if !h.HasAddress(ip) {
				res.RC = agents.RCNotRunning
			}
		}
		return res
	case "ping":
		reachable := 0
		if !x.a.gatewayDown[h.Name()] {
			reachable = len(strings.Fields(strings.ReplaceAll(op.Params["host_list"], ",", " ")))
		}
		mult, _ := strconv.Atoi(op.Params["multiplier"])
		if mult == 0 {
			mult = 1
		}
		value := strconv.Itoa(mult * reachable)
		switch op.Action {
		case "start":
			_ = h.StartService(service)
			res.Attributes = map[string]string{"pingd": value}
		case "stop":
			h.StopService(service)
			res.Attributes = map[string]string{"pingd": ""}
		case "monitor":
			if !h.Running(service) {
				res.RC = agents.RCNotRunning
				return res
			}
			res.Attributes = map[string]string{"pingd": value}
		}
		return res
	}
	// apache, Dummy and anything else: a service process.
	switch op.Action {
	case "start":
		_ = h.StartService(service)
		x.a.Starts[op.Resource] = append(x.a.Starts[op.Resource], StartRecord{h.Name(), began, x.a.w.Now()})
	case "stop":
		h.StopService(service)
	case "monitor":
		if !h.Running(service) {
			res.RC = agents.RCNotRunning
		}
	}
	return res
}

// ServiceOf names the ground-truth service an operation's resource is:
// "apache" for any apache resource (two on one host would be one
// process), else the resource instance.
func ServiceOf(op agents.Op) string {
	if op.Agent.Type == "apache" {
		return "apache"
	}
	return op.Agent.Type + ":" + op.Resource
}
