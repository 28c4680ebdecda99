// Package agents holds hakit's resource agents: the Executor interface the
// node runs operations through (asynchronous, results delivered on the
// node's loop), the OCF script runner (agents/ocf, the adapter that may run
// processes), built-in agents for the reference setup (IPaddr2, apache,
// ping, Dummy) and fence agents. The node-daemon issue fills this package.
package agents
