package node

import (
	"errors"

	"github.com/hakit/hakit/transport/cpg"
)

// ErrNoProcess is returned for a process-group pid that is not open.
var ErrNoProcess = errors.New("cpg: no such local process (closed or never opened)")

// CPGOpen registers a local process-group client (an API connection, a
// part of the resource manager) and returns its pid. Every event for it
// (deliveries, configuration changes of its groups, totem configuration
// changes) goes to deliver, on the loop, in agreed order.
func (m *Member) CPGOpen(deliver func(cpg.Event)) uint32 {
	m.lastPID++
	for m.cpgProcs[m.lastPID] != nil || m.lastPID == 0 {
		m.lastPID++
	}
	m.cpgProcs[m.lastPID] = deliver
	return m.lastPID
}

// CPGClose ends a client: it leaves all its groups (the others see
// ReasonProcDown) and gets no more events.
func (m *Member) CPGClose(pid uint32) {
	if _, ok := m.cpgProcs[pid]; !ok {
		return
	}
	delete(m.cpgProcs, pid)
	for _, msg := range m.groups.LeaveAll(pid) {
		m.sendCPG(msg)
	}
	m.process()
}

// CPGJoin asks for pid to join group; the join takes effect when it is
// delivered, and pid's first event in the group is the confchg that adds
// it.
func (m *Member) CPGJoin(pid uint32, group string) error {
	return m.cpgRequest(pid, true, func() ([]byte, error) { return m.groups.Join(pid, group) })
}

// CPGLeave asks for pid to leave group.
func (m *Member) CPGLeave(pid uint32, group string) error {
	return m.cpgRequest(pid, true, func() ([]byte, error) { return m.groups.Leave(pid, group) })
}

// CPGMcast sends payload to group's members, in agreed order. An error
// means it was not sent (not a member, too large, the ring's queue full).
func (m *Member) CPGMcast(pid uint32, group string, payload []byte) error {
	return m.cpgRequest(pid, false, func() ([]byte, error) { return m.groups.Mcast(pid, group, payload) })
}

// CPGGroups returns the group table: every group's members, cluster-wide.
func (m *Member) CPGGroups() map[string][]cpg.Member { return m.groups.Groups() }

// CPGStatus returns the service's view.
func (m *Member) CPGStatus() cpg.Status { return m.groups.Status() }

// cpgRequest sends what build makes. A join or leave the ring refuses is
// not an error for the caller: the service re-sends it (retried).
func (m *Member) cpgRequest(pid uint32, retried bool, build func() ([]byte, error)) error {
	if m.stopped {
		return errMemberStopped
	}
	if _, ok := m.cpgProcs[pid]; !ok {
		return ErrNoProcess
	}
	msg, err := build()
	if err != nil {
		return err
	}
	err = m.sendCPG(msg)
	m.process()
	if retried {
		return nil
	}
	return err
}

// sendCPG queues one of the service's messages; one the ring refuses goes
// back to the service, which re-sends joins and leaves once the ring
// moves (a multicast is the caller's to retry).
func (m *Member) sendCPG(msg []byte) error {
	err := m.ring.Send(m.e.Clock.Mono(), append([]byte{svcCPG}, msg...))
	if err != nil {
		m.groups.Unsent(msg)
	}
	return err
}

func (m *Member) cpgReady() {
	rd := m.groups.Ready()
	for _, b := range rd.Broadcast {
		if err := m.sendCPG(b); err != nil {
			m.e.Log.Warn("cannot queue a process-group message; it is re-sent once the ring moves", "err", err)
		}
	}
	for _, ev := range rd.Events {
		if deliver, ok := m.cpgProcs[ev.To]; ok {
			deliver(ev)
		}
	}
	m.groups.Advance(rd)
}
