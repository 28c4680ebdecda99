package ocf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hakit/hakit/agents"
)

// pipeGrace is how long the runner waits, once the agent has exited or
// been killed, for its stdout and stderr to reach end of file. A daemon the
// agent started without redirecting its output holds them open for as long
// as it lives; like pacemaker-execd, the runner goes by the agent's exit,
// not by its pipes.
const pipeGrace = time.Second

// scriptPATH is the PATH agents run with. The daemon's own PATH may be a
// service manager's minimal one, and agents call tools from sbin.
const scriptPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// runScript runs an OCF script with the action as its argument and turns
// how it ended into a Result (without Op and Duration, which run fills).
func (r *Runner) runScript(ctx context.Context, path string, op agents.Op, timeout time.Duration) agents.Result {
	environ, err := r.environ(op, timeout)
	if err != nil {
		// The same configuration fails on every node, hence "not configured".
		return agents.Result{RC: agents.RCErrConfigured, Status: agents.StatusError, ExitReason: shorten(err.Error(), maxExitReason)}
	}
	return r.runProcess(ctx, agentProcess{
		path: path, args: []string{op.Action}, environ: environ,
		metaData: op.Action == "meta-data", verdict: ocfVerdict,
	}, timeout)
}

// ocfVerdict reads an OCF agent's exit code.
func ocfVerdict(code int) (agents.RC, string) {
	rc := rcFromExitCode(code)
	if int(rc) != code {
		return rc, fmt.Sprintf("agent exited with unknown code %d", code)
	}
	return rc, ""
}

// agentProcess is one run of an agent executable, OCF script or fence
// agent alike.
type agentProcess struct {
	path    string
	args    []string // after argv[0]
	environ []string
	// stdin is what the agent reads on its standard input; empty gives it
	// /dev/null.
	stdin string
	// metaData keeps the whole stdout, unbounded by MaxOutput, as Output.
	metaData bool
	// stderr, when set, gets a copy of the agent's stderr.
	stderr io.Writer
	// verdict turns an exit code into the RC, and into an exit reason for
	// when the agent gave none.
	verdict func(code int) (agents.RC, string)
}

// runProcess runs p and turns how it ended into a Result (without Op and
// Duration, which run fills).
//
// On timeout or Cancel the whole process group gets SIGKILL at once, as
// pacemaker-execd does (it sends no SIGTERM first): the agent had its
// whole timeout to finish, and anything it forked must not outlive it.
func (r *Runner) runProcess(ctx context.Context, p agentProcess, timeout time.Duration) agents.Result {
	combined := newTailBuffer(r.cfg.MaxOutput)
	reason := &exitReasonWriter{}
	var metaData *cappedBuffer
	stdout := io.Writer(combined)
	if p.metaData {
		metaData = &cappedBuffer{max: MaxMetaData}
		stdout = io.MultiWriter(metaData, combined)
	}
	stderr := io.MultiWriter(combined, reason)
	if p.stderr != nil {
		stderr = io.MultiWriter(combined, reason, p.stderr)
	}

	cmd := command(ctx, p.path, append([]string{p.path}, p.args...), p.environ, p.stdin, stdout, stderr)
	err := r.start(cmd)
	if errors.Is(err, syscall.ENOEXEC) {
		// A script without a #! line: execvp, which Pacemaker uses, hands
		// such files to /bin/sh, so custom agents written that way work there.
		cmd = command(ctx, "/bin/sh", append([]string{"sh", p.path}, p.args...), p.environ, p.stdin, stdout, stderr)
		err = r.start(cmd)
	}
	if err == nil {
		err = cmd.Wait()
	}

	res := agents.Result{ExitReason: reason.Reason()}
	state := cmd.ProcessState
	switch {
	case state == nil && ctx.Err() != nil:
		res.Status, res.RC, _ = endedEarly(ctx)
		res.ExitReason = earlyReason(ctx, res.ExitReason, timeout)
	case state == nil:
		res.Status, res.RC = execFailure(err)
		if res.ExitReason == "" {
			res.ExitReason = shorten(err.Error(), maxExitReason)
		}
	case state.Exited():
		// An agent that exited by itself is believed even when its timeout
		// or a Cancel came in the meantime: its answer is the truth.
		res.Status = agents.StatusDone
		rc, why := p.verdict(state.ExitCode())
		res.RC = rc
		if res.ExitReason == "" {
			res.ExitReason = shorten(why, maxExitReason)
		}
	case ctx.Err() != nil:
		res.Status, res.RC, _ = endedEarly(ctx)
		res.ExitReason = earlyReason(ctx, res.ExitReason, timeout)
	default:
		res.Status, res.RC = agents.StatusError, agents.RCErrGeneric
		if res.ExitReason == "" {
			res.ExitReason = "agent killed by " + signalName(state)
		}
	}

	res.Output = combined.String()
	if metaData != nil && res.Status == agents.StatusDone && res.RC == agents.RCOK {
		if metaData.overflow {
			res.Status, res.RC = agents.StatusError, agents.RCErrGeneric
			res.ExitReason = fmt.Sprintf("meta-data larger than %d bytes", MaxMetaData)
		} else {
			res.Output = metaData.buf.String()
		}
	}
	return res
}

func command(ctx context.Context, path string, args, environ []string, stdin string, stdout, stderr io.Writer) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path)
	cmd.Args = args
	cmd.Env = environ
	cmd.Dir = "/"
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	// Its own process group, so a timeout can kill everything it forked.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd.Process) }
	cmd.WaitDelay = pipeGrace
	return cmd
}

// killGroup sends SIGKILL to the agent's process group. exec calls it
// while Wait is still running, at worst just after the agent was reaped;
// its group id is then either gone (ESRCH) or still held by the agent's
// children, since Linux gives out no pid equal to a live group's id.
func killGroup(p *os.Process) error {
	err := syscall.Kill(-p.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	if err != nil {
		// Not our group after all (setpgid failed?): kill the agent itself.
		return p.Kill()
	}
	return nil
}

// earlyReason explains a timeout or cancellation unless the agent said
// something itself before it was killed.
func earlyReason(ctx context.Context, agentReason string, timeout time.Duration) string {
	if agentReason != "" {
		return agentReason
	}
	if errors.Is(context.Cause(ctx), errTimedOut) {
		return "timed out after " + timeout.String()
	}
	if cause := context.Cause(ctx); cause != nil {
		return cause.Error()
	}
	return "cancelled"
}

// execFailure maps a failure to start the agent as pacemaker-execd does
// (services__handle_exec_error): a missing file or interpreter means the
// agent is not installed; a permission problem is OCF_ERR_PERM; anything
// else, a namespace that cannot be entered included, is a generic error.
func execFailure(err error) (agents.Status, agents.RC) {
	var nsErr *netnsError
	if errors.As(err, &nsErr) {
		return agents.StatusError, agents.RCErrGeneric
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.ENOENT, syscall.EISDIR, syscall.ENOTDIR, syscall.ENOEXEC:
			return agents.StatusNotInstalled, agents.RCErrInstalled
		case syscall.EACCES, syscall.EPERM:
			return agents.StatusError, agents.RCErrPerm
		}
	}
	return agents.StatusError, agents.RCErrGeneric
}

// rcFromExitCode keeps the codes OCF and Pacemaker define and turns any
// other into OCF_ERR_GENERIC, as Pacemaker does (services__ocf2ocf).
func rcFromExitCode(code int) agents.RC {
	rc := agents.RC(code)
	switch {
	case rc >= agents.RCOK && rc <= agents.RCFailedPromoted, rc == agents.RCDegraded, rc == agents.RCDegradedPromoted:
		return rc
	}
	return agents.RCErrGeneric
}

func signalName(state *os.ProcessState) string {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return state.String()
}

// environ builds the agent's environment as pacemaker-execd does, from
// scratch rather than from the daemon's: a PATH, the daemon's HA_*
// variables (HA_RSCTMP, HA_debug, HA_logfile: what an administrator sets
// for resource-agents), and the OCF variables. HA_RSCTMP is not set
// otherwise: ocf-directories defaults it to /run/resource-agents, which
// the resource-agents package creates at boot.
func (r *Runner) environ(op agents.Op, timeout time.Duration) ([]string, error) {
	for name, value := range op.Params {
		if err := checkEnv("parameter", name, value); err != nil {
			return nil, err
		}
	}
	for name, value := range op.Meta {
		if err := checkEnv("meta attribute", name, value); err != nil {
			return nil, err
		}
	}
	if err := checkEnv("resource", "OCF_RESOURCE_INSTANCE", op.Resource); err != nil {
		return nil, err
	}

	env := []string{"PATH=" + scriptPATH}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "HA_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"OCF_ROOT="+r.cfg.Root,
		"OCF_FUNCTIONS_DIR="+r.cfg.Root+"/lib/heartbeat",
		"OCF_RA_VERSION_MAJOR=1",
		"OCF_RA_VERSION_MINOR=1",
		"OCF_EXIT_REASON_PREFIX="+exitReasonPrefix,
		"OCF_RESOURCE_INSTANCE="+op.Resource,
		"OCF_RESOURCE_TYPE="+op.Agent.Type,
		"OCF_RESOURCE_PROVIDER="+op.Agent.Provider,
	)
	for _, name := range sortedKeys(op.Params) {
		env = append(env, "OCF_RESKEY_"+name+"="+op.Params[name])
	}
	for _, name := range sortedKeys(op.Meta) {
		key := strings.ReplaceAll(name, "-", "_")
		if key == "interval" || key == "timeout" {
			continue // from the Op's own fields below
		}
		env = append(env, "OCF_RESKEY_CRM_meta_"+key+"="+op.Meta[name])
	}
	// Always set, 0 included: ocf_is_probe tests interval = 0.
	env = append(env,
		"OCF_RESKEY_CRM_meta_interval="+strconv.FormatInt(op.Interval.Milliseconds(), 10),
		"OCF_RESKEY_CRM_meta_timeout="+strconv.FormatInt(timeout.Milliseconds(), 10),
	)
	if op.CheckLevel > 0 {
		// Pacemaker passes the op attribute as OCF_RESKEY_OCF_CHECK_LEVEL and
		// ocf-shellfuncs copies it to OCF_CHECK_LEVEL; agents without
		// ocf-shellfuncs read the latter directly.
		level := strconv.Itoa(op.CheckLevel)
		env = append(env, "OCF_CHECK_LEVEL="+level, "OCF_RESKEY_OCF_CHECK_LEVEL="+level)
	}
	return env, nil
}

// checkEnv refuses what an environment cannot carry: a name with "=" or
// NUL, a value with NUL.
func checkEnv(what, name, value string) error {
	if name == "" || strings.ContainsAny(name, "=\x00") {
		return fmt.Errorf("%s name %q cannot be passed to an agent", what, name)
	}
	if strings.ContainsRune(value, 0) {
		return fmt.Errorf("%s %q contains a NUL byte", what, name)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
