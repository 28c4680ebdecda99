package sim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hakit/hakit/node/env"
)

// Host is a simulated machine: NICs and bonds, the links its node process
// uses, a disk that outlives processes, a wall clock that may be skewed, and
// the ground truth of what is configured on it.
type Host struct {
	w       *World
	name    string
	powered bool
	nics    []*NIC
	bonds   []*Bond
	links   map[env.LinkID]Interface
	node    env.NodeID
	procs   []*Process
	// listener is the process that installed a receiver: the node process.
	listener *Process
	disk     *Disk
	skew     time.Duration

	addresses map[string]string // address -> interface, as `ip addr` would show
	services  map[string]bool
}

// AddHost adds a powered-on host with no NICs. It panics on a duplicate name.
func (w *World) AddHost(name string) *Host {
	if w.hostName[name] != nil || name == "" || strings.ContainsAny(name, " \n") {
		panic(fmt.Sprintf("sim: bad or duplicate host name %q", name))
	}
	h := &Host{
		w: w, name: name, powered: true,
		links:     map[env.LinkID]Interface{},
		disk:      newDisk(w, name),
		addresses: map[string]string{},
		services:  map[string]bool{},
	}
	w.hosts = append(w.hosts, h)
	w.hostName[name] = h
	return h
}

// Name returns the host's name.
func (h *Host) Name() string { return h.name }

// Node returns the node id bound to the host, or 0.
func (h *Host) Node() env.NodeID { return h.node }

// Disk returns the host's disk.
func (h *Host) Disk() *Disk { return h.disk }

// Powered reports whether the host is on.
func (h *Host) Powered() bool { return h.powered }

// AddNIC adds a NIC cabled to sw.
func (h *Host) AddNIC(name string, sw *Switch) *NIC {
	if h.NIC(name) != nil {
		panic(fmt.Sprintf("sim: duplicate NIC %s/%s", h.name, name))
	}
	n := &NIC{host: h, name: name, sw: sw, cableOK: true}
	h.nics = append(h.nics, n)
	return n
}

// NIC returns the named NIC, or nil.
func (h *Host) NIC(name string) *NIC {
	for _, n := range h.nics {
		if n.name == name {
			return n
		}
	}
	return nil
}

// Bond returns the named bond, or nil.
func (h *Host) Bond(name string) *Bond {
	for _, b := range h.bonds {
		if b.name == name {
			return b
		}
	}
	return nil
}

// AttachLink makes iface carry the host's link id (ring0_addr on bond0, say).
func (h *Host) AttachLink(link env.LinkID, iface Interface) {
	if link >= env.MaxLinks {
		panic(fmt.Sprintf("sim: %s: link %d beyond env.MaxLinks", h.name, link))
	}
	h.links[link] = iface
}

// BindNode gives the host a cluster node id; frames addressed to the id
// reach the host's node process.
func (h *Host) BindNode(id env.NodeID) {
	if id == 0 || h.w.nodes[id] != nil || h.node != 0 {
		panic(fmt.Sprintf("sim: cannot bind node id %d to %s", id, h.name))
	}
	h.node = id
	h.w.nodes[id] = h
}

// SetClockSkew offsets the host's wall clock (Clock.Now) from true virtual
// time; monotonic clocks are unaffected.
func (h *Host) SetClockSkew(d time.Duration) {
	h.skew = d
	h.w.tracef(h.name, "clock", "skew=%v", d)
}

// PowerOff cuts the power: every process dies, unsynced disk writes are lost,
// configured addresses and running services vanish and the NICs lose
// carrier. This is a node crash, or the effect of fencing it.
func (h *Host) PowerOff() {
	if !h.powered {
		return
	}
	h.powered = false
	h.w.tracef(h.name, "power", "off")
	for _, p := range h.procs {
		p.kill("power off")
	}
	h.disk.loseUnsynced()
	for _, a := range slices.Sorted(maps.Keys(h.addresses)) {
		h.RemoveAddress(a)
	}
	for _, s := range slices.Sorted(maps.Keys(h.services)) {
		h.StopService(s)
	}
}

// PowerOn boots the host back. Processes are not started again: a scenario
// restarts them, as an init system would.
func (h *Host) PowerOn() {
	if h.powered {
		return
	}
	h.powered = true
	h.w.tracef(h.name, "power", "on")
}

// receive hands an arriving frame to the node process.
func (h *Host) receive(link env.LinkID, src *Host, frame []byte) {
	p := h.listener
	if p == nil || p.state == procDead {
		h.w.drop("not-running", src, h, link)
		return
	}
	p.receive(link, src, frame)
}

// AddAddress records that addr is configured on iface (what IPaddr2 does).
// Configuring an address twice on a host is an error, as with `ip addr add`.
func (h *Host) AddAddress(iface, addr string) error {
	if !h.powered {
		return fmt.Errorf("%s is powered off", h.name)
	}
	if _, ok := h.addresses[addr]; ok {
		return fmt.Errorf("%s: address %s already configured", h.name, addr)
	}
	h.addresses[addr] = iface
	h.w.tracef(h.name, "truth", "address add %s dev %s", addr, iface)
	return nil
}

// RemoveAddress removes addr; removing an absent address is not an error
// (an idempotent stop).
func (h *Host) RemoveAddress(addr string) {
	if _, ok := h.addresses[addr]; ok {
		delete(h.addresses, addr)
		h.w.tracef(h.name, "truth", "address del %s", addr)
	}
}

// HasAddress reports whether addr is configured on the host.
func (h *Host) HasAddress(addr string) bool { _, ok := h.addresses[addr]; return ok }

// StartService records that a service process (apache) runs on the host.
func (h *Host) StartService(name string) error {
	if !h.powered {
		return fmt.Errorf("%s is powered off", h.name)
	}
	if !h.services[name] {
		h.services[name] = true
		h.w.tracef(h.name, "truth", "service start %s", name)
	}
	return nil
}

// StopService records that the service stopped (or crashed).
func (h *Host) StopService(name string) {
	if h.services[name] {
		delete(h.services, name)
		h.w.tracef(h.name, "truth", "service stop %s", name)
	}
}

// Running reports whether the service runs on the host.
func (h *Host) Running(service string) bool { return h.services[service] }

// HostsWithAddress returns, in host order, the hosts where addr is
// configured: the ground truth the "never two primaries" invariant reads.
func (w *World) HostsWithAddress(addr string) []string {
	var out []string
	for _, h := range w.hosts {
		if h.HasAddress(addr) {
			out = append(out, h.name)
		}
	}
	return out
}

// HostsRunning returns, in host order, the hosts where service runs.
func (w *World) HostsRunning(service string) []string {
	var out []string
	for _, h := range w.hosts {
		if h.Running(service) {
			out = append(out, h.name)
		}
	}
	return out
}
