// Package node is one cluster member: it owns the event loop, wires the
// messaging layer, the resource manager and the agents together through the
// Env of node/env, and serves the local API hactl talks to.
//
// The node is a driver in the etcd/raft sense: it arms one timer for the
// earliest deadline of its pure cores, feeds them frames and ticks, and
// carries out what they hand back. It runs unchanged under the production
// adapters (node/runtime) and in the simulator (sim). The messaging-layer
// and node-daemon issues fill this package; node/env and node/runtime exist
// now.
package node
