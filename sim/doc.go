// Package sim is the deterministic world hakit nodes run in under test: a
// virtual clock and event queue, seeded randomness, hosts with NICs and
// Linux-style active-backup bonds plugged into switches, disks that lose
// unsynced writes, processes that crash, pause and restart, fault injection,
// the ground truth of effects (addresses configured, services running) and a
// trace of everything that happened with a stable hash.
//
// It implements node/env for each simulated process and knows nothing of
// totem or the CRM. Everything runs on the caller's goroutine: the world pops
// the next event by (virtual time, sequence number) and runs it to
// completion, so one seed gives one trace, byte for byte.
//
// A typical run:
//
//	w := sim.New(seed)
//	lan := w.AddSwitch("private", sim.LAN())
//	h1 := w.AddHost("vm-node1")
//	eth0, eth1 := h1.AddNIC("eth0", lan), h1.AddNIC("eth1", lan)
//	h1.AttachLink(0, h1.AddBond("bond0", sim.DefaultBond(), eth0, eth1))
//	... the same for vm-node2 ...
//	w.StartProcess(h1, "hanode", 1, func(e env.Env) { node.Start(e) })
//	w.After(10*time.Second, "cut eth0", eth0.CutCable)
//	w.RunFor(time.Minute)
//	fmt.Println(w.Trace().Hash())
package sim
