// Package config owns hakit's cluster configuration: it reads corosync.conf
// text (Corosync 3 syntax and semantics, corosync.conf(5) and votequorum(5),
// defaults included) into a typed, validated Config, and it owns the values
// derived from that configuration (effective token, consensus, token
// retransmit and hold, knet ping timers, expected votes) so the totem,
// link and quorum cores all compute them the same way.
//
// An existing corosync.conf should work unchanged wherever hakit supports
// its options. Options Corosync knows but hakit does not implement fail
// with an *UnsupportedError naming the option, the line and the reason;
// everything else that is wrong fails with an *Error naming file and line.
// Findings that Corosync would accept but an operator should see (a very
// short token, two_node with three nodes, a deprecated key) go into
// Config.Warnings instead.
//
// The package does no I/O: the caller reads the file and passes the bytes,
// so it is usable from the simulator as well as from `hanode run --config`.
package config
