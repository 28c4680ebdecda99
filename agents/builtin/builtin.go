package builtin

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hakit/hakit/agents"
	"github.com/hakit/hakit/agents/ocf"
)

// Defaults for Options, the directories resource-agents' ocf-directories
// names HA_RSCTMP and HA_VARRUN.
const (
	DefaultStateDir = "/run/resource-agents"
	DefaultRunDir   = "/run"
	// DefaultNetnsDir is where ip netns and vishvananda/netns keep named
	// network namespaces.
	DefaultNetnsDir = "/run/netns"
)

// The agents this package provides, as a primitive names them.
var (
	DummyAgent   = agents.Agent{Class: "ocf", Provider: "heartbeat", Type: "Dummy"}
	IPaddr2Agent = agents.Agent{Class: "ocf", Provider: "heartbeat", Type: "IPaddr2"}
	ApacheAgent  = agents.Agent{Class: "ocf", Provider: "heartbeat", Type: "apache"}
	PingAgent    = agents.Agent{Class: "ocf", Provider: "pacemaker", Type: "ping"}
	// FenceNetnsAgent is a stonith class agent, run for fencing as
	// Pacemaker's fencer runs fence agents.
	FenceNetnsAgent = agents.Agent{Class: "stonith", Type: "fence_netns"}
)

// Options configures the built-in agents. The zero value is the
// production setup.
type Options struct {
	// StateDir holds Dummy's default state files (HA_RSCTMP).
	// Default DefaultStateDir; created when missing.
	StateDir string
	// RunDir holds ping's default state file and apache's default pid
	// file (HA_VARRUN). Default DefaultRunDir; created when missing.
	RunDir string
	// NetnsDir is where fence_netns looks up the namespace names of its
	// pcmk_host_map. Default DefaultNetnsDir.
	NetnsDir string
}

func (o Options) withDefaults() Options {
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir
	}
	if o.RunDir == "" {
		o.RunDir = DefaultRunDir
	}
	if o.NetnsDir == "" {
		o.NetnsDir = DefaultNetnsDir
	}
	return o
}

// New returns the built-in agents keyed by agent name, for
// ocf.Config.Builtins.
func New(opts Options) map[agents.Agent]ocf.Builtin {
	opts = opts.withDefaults()
	return map[agents.Agent]ocf.Builtin{
		DummyAgent:      &Dummy{opts: opts},
		IPaddr2Agent:    &IPaddr2{},
		ApacheAgent:     &Apache{opts: opts},
		PingAgent:       &Ping{opts: opts},
		FenceNetnsAgent: &FenceNetns{opts: opts},
	}
}

// result is an agent's verdict with its log lines, which become
// agents.Result.Output.
type result struct {
	log strings.Builder
}

func (r *result) logf(format string, args ...any) {
	fmt.Fprintf(&r.log, format, args...)
	r.log.WriteByte('\n')
}

func (r *result) done(rc agents.RC) agents.Result {
	return agents.Result{RC: rc, Status: agents.StatusDone, Output: r.log.String()}
}

// fail ends the action with rc and an exit reason, also logged.
func (r *result) fail(rc agents.RC, format string, args ...any) agents.Result {
	reason := fmt.Sprintf(format, args...)
	r.logf("ERROR: %s", reason)
	res := r.done(rc)
	res.ExitReason = reason
	return res
}

// notRunning is a monitor's clean "stopped"; a recurring monitor gives a
// reason (as the scripts do with ocf_exit_reason), a probe does not.
func (r *result) notRunning(op agents.Op, format string, args ...any) agents.Result {
	msg := fmt.Sprintf(format, args...)
	r.logf("INFO: %s", msg)
	res := r.done(agents.RCNotRunning)
	if !isProbe(op) {
		res.ExitReason = msg
	}
	return res
}

// invalidEnv answers an action when the node cannot run the resource
// (missing software, a missing interface), as ocf-rarun's
// handle_invalid_env does: stop succeeds, a probe finds it stopped, a
// recurring monitor fails, and other actions fail with rc.
func (r *result) invalidEnv(op agents.Op, rc agents.RC, format string, args ...any) agents.Result {
	msg := fmt.Sprintf(format, args...)
	switch op.Action {
	case "stop":
		r.logf("INFO: %s; resource considered stopped", msg)
		return r.done(agents.RCOK)
	case "monitor", "status":
		if isProbe(op) || op.Action == "status" {
			r.logf("INFO: %s; resource considered stopped", msg)
			return r.done(agents.RCNotRunning)
		}
		return r.fail(agents.RCErrGeneric, "%s", msg)
	}
	return r.fail(rc, "%s", msg)
}

func unimplemented(op agents.Op) agents.Result {
	return agents.Result{RC: agents.RCErrUnimplemented, Status: agents.StatusDone,
		ExitReason: fmt.Sprintf("action %q is not supported by %s", op.Action, op.Agent)}
}

func metaDataResult(md string) agents.Result {
	return agents.Result{RC: agents.RCOK, Status: agents.StatusDone, Output: md}
}

// isProbe reports whether op is a probe: a one-shot monitor.
func isProbe(op agents.Op) bool {
	return op.Action == "monitor" && op.Interval == 0
}

// param returns an instance attribute, or def when it is unset or empty
// (what `: ${OCF_RESKEY_x:=def}` does in a script).
func param(op agents.Op, name, def string) string {
	if v := strings.TrimSpace(op.Params[name]); v != "" {
		return v
	}
	return def
}

// intParam reads a decimal parameter; unset or empty gives def.
func intParam(op agents.Op, name string, def int) (int, error) {
	v := param(op, name, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("invalid %s [%s]: not an integer", name, v)
	}
	return n, nil
}

// isTrue reads a boolean the way ocf_is_true does.
func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "1", "y", "on":
		return true
	}
	return false
}

// sleepCtx waits for d or until ctx ends, whichever is first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// remaining is how long ctx has left, and false when it has no deadline.
func remaining(ctx context.Context) (time.Duration, bool) {
	dl, ok := ctx.Deadline()
	if !ok {
		return 0, false
	}
	return time.Until(dl), true
}

// dirWritable checks that a file can be created in dir, as the scripts'
// validate-all do with `touch $dir/$$`.
func dirWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".hakit-probe-")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// ensureDir creates one of the agents' own state directories.
func ensureDir(dir string) error {
	return os.MkdirAll(filepath.Clean(dir), 0o755)
}

// metaData is an agent's OCF meta-data, rendered by render.
type metaData struct {
	name, version       string
	shortDesc, longDesc string
	params              []metaParam
	actions             []metaAction
}

type metaParam struct {
	name       string
	required   bool
	unique     bool
	typ        string // string, integer, boolean
	def        string
	hasDef     bool
	shortDesc  string
	longDesc   string
	reloadable bool
}

type metaAction struct {
	name     string
	timeout  string
	interval string
	depth    string
}

// p is a parameter with a default; np one without.
func p(name, typ, def, short, long string) metaParam {
	return metaParam{name: name, typ: typ, def: def, hasDef: true, shortDesc: short, longDesc: long}
}

func np(name, typ, short, long string) metaParam {
	return metaParam{name: name, typ: typ, shortDesc: short, longDesc: long}
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// render writes the meta-data XML in the layout of ra-api-1.dtd.
func (m metaData) render() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>` + "\n")
	b.WriteString(`<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">` + "\n")
	fmt.Fprintf(&b, "<resource-agent name=\"%s\" version=\"%s\">\n", esc(m.name), esc(m.version))
	b.WriteString("<version>1.1</version>\n")
	fmt.Fprintf(&b, "<longdesc lang=\"en\">\n%s\n</longdesc>\n", esc(m.longDesc))
	fmt.Fprintf(&b, "<shortdesc lang=\"en\">%s</shortdesc>\n\n<parameters>\n", esc(m.shortDesc))
	for _, prm := range m.params {
		fmt.Fprintf(&b, "<parameter name=\"%s\" required=\"%s\" unique=\"%s\"", esc(prm.name), flag(prm.required), flag(prm.unique))
		if prm.reloadable {
			b.WriteString(` reloadable="1"`)
		}
		b.WriteString(">\n")
		fmt.Fprintf(&b, "<longdesc lang=\"en\">\n%s\n</longdesc>\n", esc(prm.longDesc))
		fmt.Fprintf(&b, "<shortdesc lang=\"en\">%s</shortdesc>\n", esc(prm.shortDesc))
		if prm.hasDef {
			fmt.Fprintf(&b, "<content type=\"%s\" default=\"%s\"/>\n", esc(prm.typ), esc(prm.def))
		} else {
			fmt.Fprintf(&b, "<content type=\"%s\"/>\n", esc(prm.typ))
		}
		b.WriteString("</parameter>\n")
	}
	b.WriteString("</parameters>\n\n<actions>\n")
	for _, a := range m.actions {
		fmt.Fprintf(&b, "<action name=\"%s\" timeout=\"%s\"", esc(a.name), esc(a.timeout))
		if a.interval != "" {
			fmt.Fprintf(&b, " interval=\"%s\"", esc(a.interval))
		}
		if a.depth != "" {
			fmt.Fprintf(&b, " depth=\"%s\"", esc(a.depth))
		}
		b.WriteString("/>\n")
	}
	b.WriteString("</actions>\n</resource-agent>\n")
	return b.String()
}
