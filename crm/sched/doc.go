// Package sched owns hakit's scheduler, the job Pacemaker's
// pacemaker-schedulerd does: from a CIB (configuration plus the status
// section's record of what runs where) it computes where every resource
// should run and the action graph that gets it there. It is a pure
// function, Schedule(Input) (*Result, error): no clock, no disk, no
// randomness, and map iteration never decides an output's order, so the
// same CIB always yields the same transition on every node.
//
// Explain(Input, resource, node) runs the same pass with every score change
// recording its reason, and says why a resource runs where it does: its
// explanation cannot drift from what Schedule does, because it is what
// Schedule does.
package sched
