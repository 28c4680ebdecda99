package builtin

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hakit/hakit/agents"
)

// Dummy is ocf:heartbeat:Dummy: a resource that only records whether it
// runs, in a state file.
//
// Parameters: state (default <StateDir>/Dummy-<resource>.state), fake
// (accepted, unused), op_sleep (seconds, fractions allowed, slept at the
// start of start, stop and monitor, as ocf:pacemaker:Dummy does; the sleep
// ends early when the operation's context does). Actions: start, stop,
// monitor, migrate_to (a stop), migrate_from (a start), reload and
// reload-agent (no-ops), validate-all, meta-data.
//
// Deviations: the default state directory is created when missing; the
// script relies on the system having made HA_RSCTMP.
type Dummy struct {
	opts Options
}

func dummyMeta(stateDir string) metaData {
	return metaData{
		name: "Dummy", version: "1.0",
		shortDesc: "Example stateless resource agent (hakit built-in)",
		longDesc: "Does nothing but remember whether it was started, in a state file. " +
			"Useful for testing the cluster and as a placeholder resource.",
		params: []metaParam{
			{name: "state", typ: "string", unique: true, def: stateDir + "/Dummy-${OCF_RESOURCE_INSTANCE}.state", hasDef: true,
				shortDesc: "State file", longDesc: "File whose existence means the resource runs."},
			p("fake", "string", "dummy", "Fake attribute", "An attribute with no effect, to test changing parameters."),
			{name: "op_sleep", typ: "string", def: "0", hasDef: true, reloadable: true,
				shortDesc: "Operation sleep duration in seconds",
				longDesc:  "Seconds to sleep during start, stop and monitor, to test how the cluster handles slow or timed out operations."},
		},
		actions: []metaAction{
			{name: "start", timeout: "20s"},
			{name: "stop", timeout: "20s"},
			{name: "monitor", timeout: "20s", interval: "10s", depth: "0"},
			{name: "reload", timeout: "20s"},
			{name: "reload-agent", timeout: "20s"},
			{name: "migrate_to", timeout: "20s"},
			{name: "migrate_from", timeout: "20s"},
			{name: "meta-data", timeout: "5s"},
			{name: "validate-all", timeout: "20s"},
		},
	}
}

// MetaData implements ocf.Builtin.
func (d *Dummy) MetaData() string { return dummyMeta(d.opts.withDefaults().StateDir).render() }

func (d *Dummy) statePath(op agents.Op) (path string, isDefault bool) {
	if s := param(op, "state", ""); s != "" {
		return s, false
	}
	return filepath.Join(d.opts.withDefaults().StateDir, "Dummy-"+op.Resource+".state"), true
}

func parseOpSleep(op agents.Op) (time.Duration, error) {
	v := param(op, "op_sleep", "0")
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1e6 {
		return 0, fmt.Errorf("invalid op_sleep [%s]: want a number of seconds", v)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// Run implements ocf.Builtin.
func (d *Dummy) Run(ctx context.Context, op agents.Op) agents.Result {
	var r result
	state, isDefault := d.statePath(op)
	sleep, sleepErr := parseOpSleep(op)
	switch op.Action {
	case "meta-data":
		return metaDataResult(d.MetaData())
	case "validate-all":
		if sleepErr != nil {
			return r.fail(agents.RCErrConfigured, "%v", sleepErr)
		}
		dir := filepath.Dir(state)
		if isDefault {
			_ = ensureDir(dir)
		}
		if err := dirWritable(dir); err != nil {
			return r.fail(agents.RCErrArgs, "State file %q is not writable: %v", state, err)
		}
		return r.done(agents.RCOK)
	case "reload", "reload-agent":
		r.logf("INFO: reloading %s", op.Resource)
		return r.done(agents.RCOK)
	case "start", "migrate_from", "stop", "migrate_to", "monitor":
	default:
		return unimplemented(op)
	}
	if sleepErr != nil {
		r.logf("WARNING: %v; not sleeping", sleepErr)
	} else if err := sleepCtx(ctx, sleep); err != nil {
		return r.fail(agents.RCErrGeneric, "interrupted during op_sleep: %v", err)
	}

	switch op.Action {
	case "start", "migrate_from":
		if _, err := os.Stat(state); err == nil {
			return r.done(agents.RCOK)
		}
		if isDefault {
			if err := ensureDir(filepath.Dir(state)); err != nil {
				return r.fail(agents.RCErrGeneric, "cannot create state directory: %v", err)
			}
		}
		f, err := os.OpenFile(state, os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return r.fail(agents.RCErrGeneric, "cannot create state file: %v", err)
		}
		if err := f.Close(); err != nil {
			return r.fail(agents.RCErrGeneric, "cannot create state file: %v", err)
		}
		return r.done(agents.RCOK)
	case "stop", "migrate_to":
		if err := os.Remove(state); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return r.fail(agents.RCErrGeneric, "cannot remove state file: %v", err)
		}
		return r.done(agents.RCOK)
	default: // monitor
		_, err := os.Stat(state)
		switch {
		case err == nil:
			return r.done(agents.RCOK)
		case errors.Is(err, fs.ErrNotExist):
			return r.notRunning(op, "No process state file found")
		}
		return r.fail(agents.RCErrGeneric, "cannot read state file: %v", err)
	}
}
