package ocf

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hakit/hakit/agents"
)

// runFenceAgent runs a fence agent (stonith:fence_x, StonithDir/fence_x)
// the way pacemaker-fenced does: no arguments, every argument as a
// name=value line on stdin (the fence-agents API), exit 0 for success.
//
// The stonith resource's own start, monitor and stop become what the
// fencer does with a device: start and monitor run the agent's monitor
// action (start registers the device and checks it, as pacemaker-execd
// does), stop runs nothing since unregistering a device touches no
// hardware. meta-data runs the agent's metadata action.
func (r *Runner) runFenceAgent(ctx context.Context, path string, op agents.Op, timeout time.Duration) agents.Result {
	action := fenceAgentAction(op)
	if action == "" {
		return agents.Result{RC: agents.RCOK, Status: agents.StatusDone}
	}
	stdin, err := fenceStdin(op, action)
	if err != nil {
		return agents.Result{RC: agents.RCErrConfigured, Status: agents.StatusError, ExitReason: shorten(err.Error(), maxExitReason)}
	}
	// Fence agents read nothing from the environment but their PATH; the
	// HA_* variables go along for agents written against resource-agents'
	// helpers.
	environ := []string{"PATH=" + scriptPATH}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "HA_") {
			environ = append(environ, kv)
		}
	}
	stderr := newTailBuffer(r.cfg.MaxOutput)
	return r.runProcess(ctx, agentProcess{
		path: path, environ: environ, stdin: stdin, stderr: stderr,
		metaData: action == "metadata",
		verdict:  fenceVerdict(action, stderr),
	}, timeout)
}

// fenceAgentAction is the action a fence agent is asked for an operation,
// "" for none at all. A device's pcmk_<action>_action renames it, as
// Pacemaker allows for agents that call "off" something else.
func fenceAgentAction(op agents.Op) string {
	action := op.Action
	switch action {
	case "stop":
		return ""
	case "start":
		action = "monitor"
	case "meta-data":
		return "metadata"
	}
	if alias := strings.TrimSpace(op.Params["pcmk_"+action+"_action"]); alias != "" {
		return alias
	}
	return action
}

// targetsNode tells the actions that act on the node in Params["port"],
// which the controller sets to the victim's name, from those where a
// configured port attribute is just another device parameter.
func targetsNode(action string) bool {
	switch action {
	case "off", "reboot", "on", "status":
		return true
	}
	return false
}

// fenceStdin builds the agent's stdin as pacemaker-fenced's make_args
// does: the action; for an action on a node, nodename= the victim and
// the host argument (pcmk_host_argument, default port) = the victim's
// pcmk_host_map entry or its name, unless pcmk_host_argument is none or
// the device sets that parameter itself; then every device parameter but
// the pcmk_* ones, which are the cluster's, and those already given.
func fenceStdin(op agents.Op, action string) (string, error) {
	var b strings.Builder
	add := func(name, value string) error {
		if name == "" || strings.ContainsAny(name, "=\n\r\x00") {
			return fmt.Errorf("parameter name %q cannot be passed to a fence agent", name)
		}
		// One line per argument: a newline would smuggle in another.
		if strings.ContainsAny(value, "\n\r\x00") {
			return fmt.Errorf("parameter %q contains a line break or NUL byte", name)
		}
		b.WriteString(name + "=" + value + "\n")
		return nil
	}
	if err := add("action", action); err != nil {
		return "", err
	}
	given := map[string]bool{"action": true, "nodename": true}
	if target := op.Params["port"]; target != "" && targetsNode(op.Action) {
		// port is the victim here, not configuration: never pass it as is.
		given["port"] = true
		if err := add("nodename", target); err != nil {
			return "", err
		}
		hostArg := strings.TrimSpace(op.Params["pcmk_host_argument"])
		if hostArg == "" {
			hostArg = "port"
		}
		own := op.Params[hostArg]
		if !strings.EqualFold(hostArg, "none") && (hostArg == "port" || own == "" || strings.EqualFold(own, "dynamic")) {
			hosts, err := agents.ParseHostMap(op.Params["pcmk_host_map"])
			if err != nil {
				return "", err
			}
			value := target
			if v, ok := hosts.Lookup(target); ok {
				value = v
			}
			if err := add(hostArg, value); err != nil {
				return "", err
			}
			given[hostArg] = true
		}
	}
	for _, name := range sortedKeys(op.Params) {
		if given[name] || strings.EqualFold(name, "action") || strings.HasPrefix(name, "pcmk_") ||
			strings.HasPrefix(name, "CRM_meta") || name == "crm_feature_set" {
			continue
		}
		if err := add(name, op.Params[name]); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// fenceVerdict reads a fence agent's exit code: 0 is success, anything
// else a failure, except that status answers 2 for a node powered off.
// Fence agents do not speak OCF (fencing.py exits 7 for "timed out
// waiting to power off"), so no other code is taken for an OCF one.
func fenceVerdict(action string, stderr *tailBuffer) func(int) (agents.RC, string) {
	return func(code int) (agents.RC, string) {
		switch {
		case code == 0:
			return agents.RCOK, ""
		case code == 2 && action == "status":
			return agents.RCNotRunning, "the fence agent reports the node powered off"
		}
		if msg := fenceAgentError(stderr.String()); msg != "" {
			return agents.RCErrGeneric, fmt.Sprintf("%s (%s exit code %d)", msg, action, code)
		}
		return agents.RCErrGeneric, fmt.Sprintf("fence agent %s failed with exit code %d", action, code)
	}
}

// fenceAgentError picks the line of a fence agent's stderr that says what
// went wrong: the first "ERROR:" message of fencing.py's logging (later
// ones are advice such as "Please use '-h' for usage"), else the last
// line, which for a crashed Python agent is the exception.
func fenceAgentError(stderr string) string {
	last := ""
	for _, line := range strings.Split(stderr, "\n") {
		line = strings.TrimSpace(line)
		if _, msg, ok := strings.Cut(line, "ERROR:"); ok && strings.TrimSpace(msg) != "" {
			return strings.TrimSpace(msg)
		}
		if line != "" {
			last = line
		}
	}
	return last
}
