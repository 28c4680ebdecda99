// Package builtin holds hakit's resource agents written in Go: Dummy,
// IPaddr2 and apache (ocf:heartbeat) and ping (ocf:pacemaker), the agents
// of the reference setup (DESIGN.md §1), and the fence agent of the
// network namespace lab (stonith:fence_netns, DESIGN.md §6). New returns
// them keyed by agent name for agents/ocf's Config.Builtins; the runner
// runs one only when no script for its agent is installed (under the OCF
// root, or as the fence agent of that name), so installing resource-agents
// or pacemaker's agents replaces it.
//
// Each agent follows its script namesake for the parameters it supports:
// start is idempotent, stop succeeds when already stopped, monitor answers
// 0 running, 7 cleanly stopped or 1 failed, validate-all reports bad
// parameters with the code the script uses (ERR_CONFIGURED, ERR_ARGS,
// ERR_INSTALLED), an unknown action is ERR_UNIMPLEMENTED, and meta-data
// describes our own parameters and advised timeouts. The deviations from
// the scripts are listed on each agent's type.
//
// Node attributes: an agent asks for a node attribute through
// agents.Result.Attributes; an empty value asks for the attribute's
// deletion (what attrd_updater -D does), the convention crm/controller
// applies. ping sets its attribute on start and monitor and deletes it on
// stop.
//
// This is a production adapter (internal/detguard exempts it): it touches
// the OS through netlink, AF_PACKET and ICMP sockets, HTTP, processes,
// signals and files. Run is called off the node's loop, one call at a time
// per resource; every wait in it honours the context, which ends when the
// operation times out or is cancelled.
package builtin
