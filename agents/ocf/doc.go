// Package ocf is the production agents.Executor: it runs OCF resource
// agent scripts (Root/resource.d/<provider>/<type>, normally under
// /usr/lib/ocf) as pacemaker-execd does, fence agents (stonith:fence_x,
// StonithDir/fence_x, normally /usr/sbin) as pacemaker-fenced does, with
// their arguments on stdin, and falls back to Go built-in agents when no
// script is installed.
//
// It owns everything about running an agent as a process: the OCF
// environment (OCF_ROOT, OCF_RESKEY_*, OCF_RESKEY_CRM_meta_*), the
// per-resource queue that runs one operation at a time per resource, the
// timeout that kills the agent's whole process group, the mapping of exit
// codes and signals to agents.Result, capturing output and the
// "ocf-exit-reason:" line, the network namespace scripts run in
// (Config.NetNS), and listing the installed agents for `hactl ra list`.
//
// This is one of the adapters allowed to start processes and goroutines
// (internal/detguard): every result goes back to the node through its
// env.Loop, so the node's own code stays single-threaded and deterministic.
package ocf
