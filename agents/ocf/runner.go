package ocf

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hakit/hakit/agents"
	"github.com/hakit/hakit/node/env"
)

// Defaults for Config.
const (
	// DefaultRoot is OCF_ROOT on Debian, RHEL and SUSE alike.
	DefaultRoot = "/usr/lib/ocf"
	// DefaultStonithDir is where fence-agents and Pacemaker install fence
	// agents (Pacemaker's RH_STONITH_DIR).
	DefaultStonithDir = "/usr/sbin"
	// DefaultMaxOutput keeps a few KiB of an agent's output: enough for its
	// last error messages, small enough to keep in the node's history.
	DefaultMaxOutput = 4096
	// DefaultTimeout is Pacemaker's default operation timeout, used when
	// an Op carries none.
	DefaultTimeout = 20 * time.Second
	// MaxMetaData bounds the meta-data XML, which is never truncated: the
	// largest agents in Debian's resource-agents print about 13 KiB.
	MaxMetaData = 1 << 20
)

// Config configures a Runner. Only Loop is required.
type Config struct {
	// Loop is the node's event loop: every done callback is posted to it.
	Loop env.Loop
	// Root is OCF_ROOT. Scripts are looked up at
	// Root/resource.d/<provider>/<type> and ocf-shellfuncs at
	// Root/lib/heartbeat. Default DefaultRoot; a relative path is made
	// absolute, since agents run in "/".
	Root string
	// StonithDir holds fence agents: stonith:fence_x runs StonithDir/fence_x
	// the way Pacemaker's fencer runs it, with its arguments on stdin.
	// Only types starting with fence_ are looked up there, so a stonith
	// type can never name another program of that directory. Default
	// DefaultStonithDir; a relative path is made absolute.
	StonithDir string
	// Builtins are Go agents, run for an agent when no script is installed
	// at its path. A script always wins, so an administrator can replace a
	// built-in by installing the real agent.
	Builtins map[agents.Agent]Builtin
	// MaxOutput bounds Result.Output for every action but meta-data: the
	// last MaxOutput bytes of stdout and stderr interleaved, after a line
	// saying how much was dropped. Default DefaultMaxOutput.
	MaxOutput int
	// DefaultTimeout applies to an Op whose Timeout is zero or negative.
	// Default DefaultTimeout.
	DefaultTimeout time.Duration
	// NetNS, when set, is a network namespace for agent scripts to run in,
	// as `ip netns exec` runs a command: a file such as /run/netns/<name>
	// or /proc/<pid>/ns/net, opened for each operation. Only the network
	// namespace changes: unlike ip netns exec, /sys is not remounted, so
	// /sys/class/net still shows the node's own links. Built-in agents run
	// in the node's namespace regardless, since Go code cannot hold its
	// goroutines (an HTTP client's dialers, say) in another. An operation
	// whose namespace cannot be entered fails with StatusError. Default:
	// the node's own namespace.
	NetNS string
	// Log receives one record per finished operation: warnings for
	// timeouts and errors, info for agents not installed, debug for the
	// rest. Default: discarded.
	Log *slog.Logger
}

// Runner is the production agents.Executor. Exec, Cancel and Agents are
// called on the node's loop; operations run on goroutines, one per busy
// resource, and their results are posted back to the loop.
type Runner struct {
	cfg Config
	// base is the parent of every operation's context; Shutdown cancels it.
	base     context.Context
	shutdown context.CancelCauseFunc

	mu      sync.Mutex
	queues  map[string]*queue
	closed  bool
	workers sync.WaitGroup
}

var _ agents.Executor = (*Runner)(nil)

// queue holds one resource's operations. A worker goroutine exists while
// the queue does, and runs its jobs in order; the queue is deleted when it
// runs dry.
type queue struct {
	jobs    []*job
	running *job
}

type job struct {
	op   agents.Op
	done func(agents.Result)
	// ctx is cancelled, with a cause, by Cancel or Shutdown; a job whose
	// ctx has ended before its turn completes without running.
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// Causes of an operation's context ending, which decide its Status.
var (
	errCancelled = errors.New("cancelled")
	errShutdown  = errors.New("cancelled: executor shutting down")
	errTimedOut  = errors.New("timed out")
)

// New returns a Runner for cfg, with defaults filled in. It panics when
// cfg.Loop is nil: results would have nowhere to go.
func New(cfg Config) *Runner {
	if cfg.Loop == nil {
		panic("ocf.New: Config.Loop is required")
	}
	if cfg.Root == "" {
		cfg.Root = DefaultRoot
	}
	if abs, err := filepath.Abs(cfg.Root); err == nil {
		cfg.Root = abs
	}
	if cfg.StonithDir == "" {
		cfg.StonithDir = DefaultStonithDir
	}
	if abs, err := filepath.Abs(cfg.StonithDir); err == nil {
		cfg.StonithDir = abs
	}
	if cfg.MaxOutput <= 0 {
		cfg.MaxOutput = DefaultMaxOutput
	}
	if cfg.DefaultTimeout <= 0 {
		cfg.DefaultTimeout = DefaultTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Builtins = cloneBuiltins(cfg.Builtins)
	base, shutdown := context.WithCancelCause(context.Background())
	return &Runner{cfg: cfg, base: base, shutdown: shutdown, queues: map[string]*queue{}}
}

func cloneBuiltins(m map[agents.Agent]Builtin) map[agents.Agent]Builtin {
	out := make(map[agents.Agent]Builtin, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = v
		}
	}
	return out
}

// Exec queues op behind the other operations on its resource. done is
// posted to the loop exactly once; a nil done discards the result. After
// Shutdown, op completes at once with StatusCancelled.
func (r *Runner) Exec(op agents.Op, done func(agents.Result)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		r.post(done, cancelledResult(op, errShutdown))
		return
	}
	ctx, cancel := context.WithCancelCause(r.base)
	j := &job{op: op, done: done, ctx: ctx, cancel: cancel}
	q := r.queues[op.Resource]
	if q == nil {
		q = &queue{}
		r.queues[op.Resource] = q
		r.workers.Add(1)
		go r.work(op.Resource, q)
	}
	q.jobs = append(q.jobs, j)
}

// Cancel ends the operations queued or running on resource when it is
// called; operations given to Exec afterwards run normally. Results still
// arrive in submission order: the running operation's first (its process
// group killed), then the queued ones, none of which runs.
func (r *Runner) Cancel(resource string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queues[resource]
	if q == nil {
		return
	}
	if q.running != nil {
		q.running.cancel(errCancelled)
	}
	for _, j := range q.jobs {
		j.cancel(errCancelled)
	}
}

// Shutdown stops the runner when the node stops: operations queued or
// running complete with StatusCancelled (running agents have their process
// groups killed; their results are still posted, and the loop may drop
// them), and later Execs are cancelled at once. It waits until every
// worker has finished or ctx ends, and returns ctx's error in that case.
// Stopping resources cleanly is the node's job before it calls Shutdown.
func (r *Runner) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.shutdown(errShutdown)
	finished := make(chan struct{})
	go func() {
		r.workers.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Runner) post(done func(agents.Result), res agents.Result) {
	if done == nil {
		return
	}
	r.cfg.Loop.Post(func() { done(res) })
}

// work runs a resource's queue until it is empty, posting each result
// before taking the next job, so results reach the loop in order.
func (r *Runner) work(resource string, q *queue) {
	defer r.workers.Done()
	for {
		r.mu.Lock()
		if len(q.jobs) == 0 {
			q.running = nil
			delete(r.queues, resource)
			r.mu.Unlock()
			return
		}
		j := q.jobs[0]
		q.jobs[0] = nil
		q.jobs = q.jobs[1:]
		q.running = j
		r.mu.Unlock()

		res := r.run(j)
		j.cancel(nil) // releases the context; a no-op if already cancelled
		r.logResult(res)
		r.post(j.done, res)
	}
}

func (r *Runner) run(j *job) agents.Result {
	op := j.op
	if j.ctx.Err() != nil {
		return cancelledResult(op, context.Cause(j.ctx))
	}
	timeout := effectiveTimeout(op, r.cfg.DefaultTimeout)
	ctx, cancel := context.WithTimeoutCause(j.ctx, timeout, errTimedOut)
	defer cancel()

	start := time.Now()
	var res agents.Result
	if path, ok := r.scriptPath(op.Agent); ok && op.Agent.Class == "stonith" {
		res = r.runFenceAgent(ctx, path, op, timeout)
	} else if ok {
		res = r.runScript(ctx, path, op, timeout)
	} else if b, ok := r.cfg.Builtins[op.Agent]; ok {
		res = r.runBuiltin(ctx, b, op)
	} else {
		res = agents.Result{
			RC: agents.RCErrInstalled, Status: agents.StatusNotInstalled,
			ExitReason: shorten(fmt.Sprintf("%s is not installed (no %s and no built-in agent)", op.Agent, r.expectedPath(op.Agent)), maxExitReason),
		}
	}
	res.Op = op
	res.Duration = time.Since(start)
	return res
}

// cancelledResult is the result of an operation ended by Cancel or
// Shutdown. Its RC is OCF_SUCCESS, as Pacemaker records for a cancelled
// operation: the Status says it is not an answer from the agent.
func cancelledResult(op agents.Op, cause error) agents.Result {
	reason := "cancelled"
	if cause != nil {
		reason = cause.Error()
	}
	return agents.Result{Op: op, RC: agents.RCOK, Status: agents.StatusCancelled, ExitReason: reason}
}

// endedEarly turns the cause of ctx ending into the Status and RC the
// operation completes with, when the agent did not finish on its own.
func endedEarly(ctx context.Context) (agents.Status, agents.RC, string) {
	cause := context.Cause(ctx)
	if errors.Is(cause, errTimedOut) {
		return agents.StatusTimedOut, agents.RCErrGeneric, ""
	}
	reason := "cancelled"
	if cause != nil {
		reason = cause.Error()
	}
	return agents.StatusCancelled, agents.RCOK, reason
}

func (r *Runner) logResult(res agents.Result) {
	attrs := []any{
		"resource", res.Op.Resource, "agent", res.Op.Agent.String(), "action", res.Op.Action,
		"interval", res.Op.Interval, "call", res.Op.Call, "status", res.Status.String(),
		"rc", int(res.RC), "duration", res.Duration,
	}
	if res.ExitReason != "" {
		attrs = append(attrs, "reason", res.ExitReason)
	}
	switch res.Status {
	case agents.StatusTimedOut, agents.StatusError:
		r.cfg.Log.Warn("agent operation failed", attrs...)
	case agents.StatusNotInstalled:
		// Routine for probes on nodes where an agent is deliberately absent.
		r.cfg.Log.Info("agent not installed", attrs...)
	default:
		r.cfg.Log.Debug("agent operation finished", attrs...)
	}
}

// validName accepts a provider or type that names one file in one
// directory, so an agent name can never reach outside the OCF root.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00")
}

// agentPath is where a's script would be, or "" for an agent no script
// can implement.
func (r *Runner) agentPath(a agents.Agent) string {
	switch {
	case a.Class == "ocf" && validName(a.Provider) && validName(a.Type):
		return filepath.Join(r.cfg.Root, "resource.d", a.Provider, a.Type)
	case a.Class == "stonith" && a.Provider == "" && isFenceAgentName(a.Type):
		return filepath.Join(r.cfg.StonithDir, a.Type)
	}
	return ""
}

// isFenceAgentName accepts the types Pacemaker's fencer runs from its
// directory: fence_ and at least one more character, one file name.
func isFenceAgentName(s string) bool {
	return validName(s) && strings.HasPrefix(s, "fence_") && len(s) > len("fence_")
}

func (r *Runner) expectedPath(a agents.Agent) string {
	if path := r.agentPath(a); path != "" {
		return path
	}
	if a.Class == "stonith" {
		return "fence agent (stonith types start with fence_ and have no provider)"
	}
	return "script for class " + a.Class
}

// scriptPath finds an agent's script. Anything but a directory at the
// path counts as installed, as in Pacemaker: a file that cannot be
// executed then fails loudly instead of silently running a built-in.
func (r *Runner) scriptPath(a agents.Agent) (string, bool) {
	path := r.agentPath(a)
	if path == "" {
		return "", false
	}
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		return "", false
	}
	return path, true
}

// Agents lists the executable scripts under Root/resource.d/<provider>/
// and StonithDir/fence_* (Source "script") and the built-ins no script
// replaces (Source "built-in"), sorted by agent name. A missing
// resource.d or StonithDir is not an error: a node may run on built-ins
// alone.
func (r *Runner) Agents() ([]agents.Available, error) {
	var out []agents.Available
	scripts := map[agents.Agent]bool{}
	dir := filepath.Join(r.cfg.Root, "resource.d")
	providers, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("listing OCF providers: %w", err)
	}
	for _, p := range providers {
		if strings.HasPrefix(p.Name(), ".") || !isDir(filepath.Join(dir, p.Name())) {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(dir, p.Name()))
		if err != nil {
			r.cfg.Log.Warn("cannot list OCF provider", "dir", filepath.Join(dir, p.Name()), "err", err)
			continue
		}
		for _, e := range entries {
			path := filepath.Join(dir, p.Name(), e.Name())
			if strings.HasPrefix(e.Name(), ".") || !isExecutableFile(path) {
				continue
			}
			a := agents.Agent{Class: "ocf", Provider: p.Name(), Type: e.Name()}
			scripts[a] = true
			out = append(out, agents.Available{Agent: a, Source: "script", Path: path})
		}
	}
	fences, err := r.fenceAgents()
	if err != nil {
		return nil, err
	}
	for _, f := range fences {
		scripts[f.Agent] = true
		out = append(out, f)
	}
	for a := range r.cfg.Builtins {
		if _, ok := r.scriptPath(a); !ok && !scripts[a] {
			out = append(out, agents.Available{Agent: a, Source: "built-in"})
		}
	}
	slices.SortFunc(out, func(x, y agents.Available) int { return strings.Compare(x.Agent.String(), y.Agent.String()) })
	return out, nil
}

func (r *Runner) fenceAgents() ([]agents.Available, error) {
	entries, err := os.ReadDir(r.cfg.StonithDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing fence agents: %w", err)
	}
	var out []agents.Available
	for _, e := range entries {
		path := filepath.Join(r.cfg.StonithDir, e.Name())
		if !isFenceAgentName(e.Name()) || !isExecutableFile(path) {
			continue
		}
		out = append(out, agents.Available{Agent: agents.Agent{Class: "stonith", Type: e.Name()}, Source: "script", Path: path})
	}
	return out, nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

func isExecutableFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
