// Package sched owns hakit's scheduler, the job Pacemaker's
// pacemaker-schedulerd does: from a CIB (configuration plus the status
// section's record of what runs where) it computes where every resource
// should run and the action graph that gets it there. It is a pure
// function, Schedule(Input) (*Result, error): no clock, no disk, no
// randomness, and map iteration never decides an output's order, so the
// same CIB always yields the same transition on every node.
package sched
