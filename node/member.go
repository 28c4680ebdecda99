package node

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"

	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/transport/cmap"
	"github.com/hakit/hakit/transport/cpg"
	"github.com/hakit/hakit/transport/link"
	"github.com/hakit/hakit/transport/quorum"
	"github.com/hakit/hakit/transport/totem"
	"github.com/hakit/hakit/transport/wire"
)

// Config is what a member needs to join the messaging layer.
type Config struct {
	AuthKey  []byte
	Totem    totem.Config // Self and Nodes must match Node and the nodelist
	Quorum   quorum.Config
	Links    []link.LinkConfig
	LinkMode link.Mode
}

// Observer receives what a member delivers, on the member's loop. Every
// field is optional.
type Observer struct {
	// Config is called for each transitional and regular configuration.
	Config func(e totem.Event)
	// Deliver is called for each application message in agreed order.
	Deliver func(ring totem.RingID, sender env.NodeID, payload []byte)
	// Quorum is called for each change of the quorum state.
	Quorum func(s quorum.Status)
	// Link is called when a link to a peer goes up or down.
	Link func(c link.Change)
	// DropTotem, if set, is asked about every totem message this member
	// is about to send to a peer and drops it when it returns true, as the
	// network would. It is the simulator's fault injector for scenarios
	// that lose exactly the tokens; hanode leaves it nil.
	DropTotem func(to env.NodeID, m totem.Message) bool
}

// Files the member keeps on its Disk.
const (
	epochFile = "wire-epoch"
	ringFile  = "totem-ring"
)

// Frame channels: the first byte of every sealed payload says which core
// it is for.
const (
	chanLink  byte = 1
	chanTotem byte = 2
)

// Services multiplexed on the agreed stream: the first byte of every totem
// payload, like Corosync's service ids.
const (
	svcQuorum byte = 1
	svcApp    byte = 2
	svcKV     byte = 3
	svcCPG    byte = 4
)

// Member is one node of the messaging layer: the wire codec, the link
// manager, the totem ring and votequorum, driven on the node's event loop
// through its Env. It is the driver of the pure cores: it feeds them
// frames and ticks, carries out their Ready batches in the order each
// demands, and keeps one timer armed for the earliest deadline.
type Member struct {
	e     env.Env
	cfg   Config
	obs   Observer
	codec *wire.Codec
	links *link.Manager
	ring  *totem.Ring
	quor  *quorum.Quorum
	kv    *cmap.Store
	// kvWaiting holds the callbacks of this node's pending requests and
	// kvWatches those of its watches, by the store's ids.
	kvWaiting map[uint64]func(cmap.Result)
	kvWatches map[uint64]func(cmap.WatchEvent)
	groups    *cpg.Service
	// cpgProcs are the local process-group clients by pid; lastPID is the
	// last pid handed out.
	cpgProcs map[uint32]func(cpg.Event)
	lastPID  uint32
	// quorumWatches are the node's own parts told of quorum changes (the
	// resource manager), after the Observer.
	quorumWatches []func(quorum.Status)
	// wasOperational and ringLostAt: when the ring last stopped being
	// operational (a token lost, a node joining), for failover budgets.
	wasOperational bool
	ringLostAt     env.Mono

	// connVersion is the link manager's connectivity version the ring's
	// exclusions were last computed from.
	connVersion uint64
	connSet     bool

	timer   env.Timer
	timerAt env.Mono
	stats   MemberStats
	stopped bool
	// processing is set while process runs: a call made from an observer
	// or a callback (a Send from Deliver) only queues its input, and the
	// running process loop picks it up, so no core's Ready is taken twice
	// before its Advance.
	processing bool
}

// MemberStats counts what the driver itself dropped.
type MemberStats struct {
	FramesDropped   uint64 // failed authentication or decoding (the codec counts why)
	NoActiveLinks   uint64 // a frame for a peer with every link down
	SendErrors      uint64
	DecodeErrors    uint64
	QuorumDecodeErr uint64
}

// StartMember brings a member up on e: it picks a new boot epoch (so wire
// nonces never repeat), reads the ring sequence it persisted, and starts
// the link manager, the ring and votequorum.
func StartMember(e env.Env, cfg Config, obs Observer) (*Member, error) {
	persistedEpoch, err := readUint(e.Disk, epochFile)
	if err != nil {
		return nil, err
	}
	epoch := wire.NextEpoch(persistedEpoch, e.Clock.Now().Unix())
	if err := e.Disk.WriteFileAtomic(epochFile, []byte(strconv.FormatUint(epoch, 10))); err != nil {
		return nil, fmt.Errorf("persisting the boot epoch: %w", err)
	}
	codec, err := wire.NewCodec(cfg.AuthKey, e.Node, epoch)
	if err != nil {
		return nil, err
	}
	ringSeq, err := readUint(e.Disk, ringFile)
	if err != nil {
		return nil, err
	}
	now := e.Clock.Mono()
	var peers []env.NodeID
	for _, n := range cfg.Totem.Nodes {
		if n != e.Node {
			peers = append(peers, n)
		}
	}
	links, err := link.New(link.Config{Self: e.Node, Peers: peers, Links: cfg.Links, Mode: cfg.LinkMode, Log: e.Log, Epoch: epoch}, now)
	if err != nil {
		return nil, err
	}
	tcfg := cfg.Totem
	tcfg.Self, tcfg.Log = e.Node, e.Log
	ring, err := totem.New(tcfg, totem.Persistent{RingSeq: ringSeq}, now)
	if err != nil {
		return nil, err
	}
	qcfg := cfg.Quorum
	qcfg.Self = e.Node
	quor, err := quorum.New(qcfg)
	if err != nil {
		return nil, err
	}
	kv, err := newKV(e)
	if err != nil {
		return nil, err
	}
	m := &Member{e: e, cfg: cfg, obs: obs, codec: codec, links: links, ring: ring, quor: quor,
		kv: kv, kvWaiting: map[uint64]func(cmap.Result){}, kvWatches: map[uint64]func(cmap.WatchEvent){},
		groups: cpg.New(e.Node), cpgProcs: map[uint32]func(cpg.Event){}}
	e.Log.Info("member started", "node", e.Node, "epoch", epoch, "ring_seq", ringSeq)
	e.Transport.SetReceiver(m.receive)
	m.process()
	return m, nil
}

func readUint(d env.Disk, name string) (uint64, error) {
	b, err := d.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

var errMemberStopped = errors.New("member stopped")

// Send queues an application message for agreed delivery to the ring.
func (m *Member) Send(payload []byte) error {
	if m.stopped {
		return errMemberStopped
	}
	err := m.ring.Send(m.e.Clock.Mono(), append([]byte{svcApp}, payload...))
	m.process()
	return err
}

// Ring returns the totem ring (for status).
func (m *Member) Ring() *totem.Ring { return m.ring }

// Quorum returns the quorum state.
func (m *Member) Quorum() quorum.Status { return m.quor.Status() }

// FailureDetectedSince estimates when the last failure began: the ring
// stopped being operational then, one token timeout after the last token
// it saw (what a crashed node sent last). Failover budgets count from it.
func (m *Member) FailureDetectedSince() env.Mono {
	return m.ringLostAt - env.Mono(m.cfg.Totem.Token)
}

// WatchQuorum calls f on the loop for every later change of the quorum
// state.
func (m *Member) WatchQuorum(f func(quorum.Status)) { m.quorumWatches = append(m.quorumWatches, f) }

// Links returns the link manager (for status).
func (m *Member) Links() *link.Manager { return m.links }

// Wire returns the frame counters.
func (m *Member) Wire() wire.Stats { return m.codec.Stats() }

// Stats returns the driver's own counters.
func (m *Member) Stats() MemberStats { return m.stats }

func (m *Member) receive(l env.LinkID, from env.NodeID, frame []byte, at env.Mono) {
	if m.stopped {
		return
	}
	payload, err := m.codec.Open(from, frame)
	if err != nil || len(payload) == 0 {
		m.stats.FramesDropped++
		return
	}
	now := max(at, m.e.Clock.Mono())
	switch payload[0] {
	case chanLink:
		msg, err := link.Decode(payload[1:])
		if err != nil {
			m.stats.DecodeErrors++
			return
		}
		m.links.Step(at, l, from, msg)
	case chanTotem:
		msg, err := totem.Decode(payload[1:])
		if err != nil {
			m.stats.DecodeErrors++
			return
		}
		m.ring.Step(now, from, msg)
	default:
		m.stats.DecodeErrors++
		return
	}
	m.process()
}

func (m *Member) onTimer() {
	if m.stopped {
		return
	}
	m.timer, m.timerAt = nil, 0
	now := m.e.Clock.Mono()
	m.links.Tick(now)
	m.ring.Tick(now)
	m.quor.Tick(now)
	m.process()
}

// process carries out every core's Ready until none has anything left,
// then re-arms the timer. The order inside each batch is the one its core
// requires (the ring's state is persisted before its messages go out).
func (m *Member) process() {
	if m.processing {
		return
	}
	m.processing = true
	defer func() { m.processing = false }()
	for range 1000 {
		progress := false
		m.updateExclusion()
		if rd := m.links.Ready(); !rd.Empty() {
			progress = true
			for _, o := range rd.Messages {
				m.sendOn(o.Link, o.To, chanLink, link.Encode(o.Msg))
			}
			for _, c := range rd.Changes {
				state := map[bool]string{true: "up", false: "down"}[c.Up]
				m.e.Log.Info("link "+state, "peer", c.Peer, "link", c.Link)
				if m.obs.Link != nil {
					m.obs.Link(c)
				}
			}
			m.links.Advance(rd)
		}
		if rd := m.ring.Ready(); !rd.Empty() {
			progress = true
			if rd.Persist != nil {
				if err := m.e.Disk.WriteFileAtomic(ringFile, []byte(strconv.FormatUint(rd.Persist.RingSeq, 10))); err != nil {
					// Sending a ring sequence we could not record risks
					// reusing it after a restart: stop instead.
					m.e.Log.Error("cannot persist the ring sequence; stopping", "err", err)
					m.Stop()
					return
				}
			}
			for _, o := range rd.Messages {
				m.sendTotem(o)
			}
			now := m.e.Clock.Mono()
			for _, ev := range rd.Events {
				m.handleEvent(now, ev)
			}
			m.ring.Advance(rd)
		}
		if op := m.ring.State() == totem.StateOperational; op != m.wasOperational {
			if !op {
				m.ringLostAt = m.e.Clock.Mono()
			}
			m.wasOperational = op
		}
		if m.quor.HasReady() {
			progress = true
			rd := m.quor.Ready()
			if rd.Broadcast != nil {
				if err := m.ring.Send(m.e.Clock.Mono(), append([]byte{svcQuorum}, encodeNodeInfo(*rd.Broadcast)...)); err != nil {
					m.e.Log.Warn("cannot queue the quorum broadcast", "err", err)
				}
			}
			for _, s := range rd.Changes {
				m.kv.SetQuorate(s.Quorate)
				if m.obs.Quorum != nil {
					m.obs.Quorum(s)
				}
				for _, f := range m.quorumWatches {
					f(s)
				}
			}
			m.quor.Advance(rd)
		}
		if m.kv.HasReady() {
			progress = true
			m.kvReady()
			if m.stopped {
				return // the store's epoch could not be persisted
			}
		}
		if m.groups.HasReady() {
			progress = true
			m.cpgReady()
		}
		if !progress {
			break
		}
	}
	m.arm()
}

// updateExclusion keeps the ring away from nodes this one is not fully
// connected with: it partitions the nodelist by who reaches whom (our own
// links, and each peer's view carried by its pings) and excludes every
// node outside our group. Every node with the same view computes the same
// groups, so a pair that cannot talk settles into stable rings instead of
// re-forming forever.
func (m *Member) updateExclusion() {
	v := m.links.ConnectivityVersion()
	if m.connSet && v == m.connVersion {
		return
	}
	m.connSet, m.connVersion = true, v
	self := m.e.Node
	mine := m.links.Reachable()
	groups := totem.Partition(m.cfg.Totem.Nodes, func(a, b env.NodeID) bool {
		if a == self {
			return slices.Contains(mine, b)
		}
		row, ok := m.links.PeerReach(a)
		// A peer we have not heard from yet is taken as reaching
		// everyone: our own row decides the pairs we are in.
		return !ok || slices.Contains(row, b)
	})
	group := totem.GroupOf(self, groups)
	var excluded []env.NodeID
	for _, n := range m.cfg.Totem.Nodes {
		if !slices.Contains(group, n) {
			excluded = append(excluded, n)
		}
	}
	m.ring.SetExcluded(m.e.Clock.Mono(), excluded)
}

func (m *Member) handleEvent(now env.Mono, ev totem.Event) {
	switch ev.Kind {
	case totem.EventDeliver:
		if len(ev.Payload) == 0 {
			return
		}
		switch ev.Payload[0] {
		case svcQuorum:
			info, err := decodeNodeInfo(ev.Payload[1:])
			if err != nil || info.Node != ev.Sender {
				m.stats.QuorumDecodeErr++
				return
			}
			m.quor.Receive(now, info)
		case svcApp:
			if m.obs.Deliver != nil {
				m.obs.Deliver(ev.Ring, ev.Sender, ev.Payload[1:])
			}
		case svcKV:
			// A payload that does not decode is dropped by every replica
			// alike; the store counts it.
			_ = m.kv.Apply(ev.Sender, ev.Payload[1:])
		case svcCPG:
			// Likewise: the service counts what it drops.
			_ = m.groups.Apply(ev.Sender, ev.Payload[1:])
		}
	case totem.EventRegular:
		m.quor.SetMembership(now, ev.Members)
		m.kv.Configuration(cmap.RingID{Seq: ev.Ring.Seq, Rep: ev.Ring.Rep}, ev.Members)
		m.kv.SetQuorate(m.quor.Status().Quorate)
		m.groups.Configuration(cpg.RingID{Seq: ev.Ring.Seq, Rep: ev.Ring.Rep}, ev.Members)
		if m.obs.Config != nil {
			m.obs.Config(ev)
		}
	case totem.EventTransitional:
		m.groups.Transitional(ev.Members)
		if m.obs.Config != nil {
			m.obs.Config(ev)
		}
	}
}

func (m *Member) sendTotem(o totem.Outbound) {
	body := totem.Encode(o.Msg)
	for _, n := range m.cfg.Totem.Nodes {
		if n == m.e.Node || (o.To != totem.Broadcast && o.To != n) {
			continue
		}
		if m.obs.DropTotem != nil && m.obs.DropTotem(n, o.Msg) {
			continue
		}
		m.sendRouted(n, chanTotem, body)
	}
}

// sendRouted seals one frame and sends it on the links the link manager
// chooses: one in passive mode, all up links in active mode (the receiver's
// replay window drops the copies).
func (m *Member) sendRouted(to env.NodeID, ch byte, body []byte) {
	routes := m.links.Route(to)
	if len(routes) == 0 {
		m.stats.NoActiveLinks++
		return
	}
	frame, err := m.codec.Seal(append([]byte{ch}, body...))
	if err != nil {
		m.stats.SendErrors++
		return
	}
	for _, l := range routes {
		if err := m.e.Transport.Send(l, to, frame); err != nil {
			m.stats.SendErrors++
		}
	}
}

func (m *Member) sendOn(l env.LinkID, to env.NodeID, ch byte, body []byte) {
	frame, err := m.codec.Seal(append([]byte{ch}, body...))
	if err != nil {
		m.stats.SendErrors++
		return
	}
	if err := m.e.Transport.Send(l, to, frame); err != nil {
		m.stats.SendErrors++
	}
}

// arm keeps exactly one timer, for the earliest deadline of the cores.
func (m *Member) arm() {
	var next env.Mono
	for _, f := range []func() (env.Mono, bool){m.links.NextDeadline, m.ring.NextDeadline, m.quor.NextDeadline} {
		if d, ok := f(); ok && (next == 0 || d < next) {
			next = d
		}
	}
	if next == m.timerAt && m.timer != nil {
		return
	}
	if m.timer != nil {
		m.timer.Stop()
		m.timer = nil
	}
	m.timerAt = next
	if next == 0 {
		return
	}
	m.timer = m.e.Clock.AfterFunc(max(next.Sub(m.e.Clock.Mono()), 0), m.onTimer)
}

// Stop silences the member: no more frames, timers or deliveries.
func (m *Member) Stop() {
	m.stopped = true
	if m.timer != nil {
		m.timer.Stop()
	}
}

// Status is a member's view, for hactl status and scenarios.
type Status struct {
	Node    env.NodeID
	State   totem.State
	Ring    totem.RingID
	Members []env.NodeID
	Quorum  quorum.Status
	Links   []link.PeerStatus
	// Pauses counts the times this member found it had not been scheduled
	// for longer than half a timeout (SIGSTOP, a frozen VM).
	Pauses uint64
}

// Status returns the member's current view.
func (m *Member) Status() Status {
	return Status{Node: m.e.Node, State: m.ring.State(), Ring: m.ring.RingID(), Members: m.ring.Members(),
		Quorum: m.quor.Status(), Links: m.links.Status(),
		Pauses: m.ring.Stats().PausesDetected + m.links.Stats().PausesDetected}
}

const nodeInfoLen = 16

func encodeNodeInfo(i quorum.NodeInfo) []byte {
	b := make([]byte, 0, nodeInfoLen)
	b = binary.BigEndian.AppendUint32(b, uint32(i.Node))
	b = binary.BigEndian.AppendUint32(b, i.Votes)
	b = binary.BigEndian.AppendUint32(b, i.ExpectedVotes)
	return binary.BigEndian.AppendUint32(b, i.Flags)
}

func decodeNodeInfo(b []byte) (quorum.NodeInfo, error) {
	if len(b) != nodeInfoLen {
		return quorum.NodeInfo{}, fmt.Errorf("quorum info of %d bytes, want %d", len(b), nodeInfoLen)
	}
	return quorum.NodeInfo{
		Node:          env.NodeID(binary.BigEndian.Uint32(b)),
		Votes:         binary.BigEndian.Uint32(b[4:]),
		ExpectedVotes: binary.BigEndian.Uint32(b[8:]),
		Flags:         binary.BigEndian.Uint32(b[12:]),
	}, nil
}
