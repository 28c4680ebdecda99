package sched

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/hakit/hakit/crm/cib"
)

// Quorum policies (no-quorum-policy).
const (
	policyStop    = "stop"
	policyIgnore  = "ignore"
	policyFreeze  = "freeze"
	policySuicide = "suicide"
	policyDemote  = "demote"
)

// scheduler is one run of Schedule: the unpacked cluster and the work in
// progress. Nothing outlives the call.
type scheduler struct {
	c     *cib.CIB
	in    Input
	nodes []*node // sorted by name: every list the output derives from is
	byKey map[string]*node

	symmetric      bool
	stonithEnabled bool
	haveStonith    bool // a stonith-class primitive is configured
	startupFencing bool
	quorate        bool
	quorumPolicy   string
	maintenance    bool
	stopAll        bool

	top   []*resource            // top-level resources, configuration order
	byID  map[string]*resource   // configured ids (clone children: the template)
	prims []*resource            // every primitive instance, tree order
	insts map[string][]*resource // configured primitive id → its instances

	colocs []*colocation
	orders []*ordering

	warnings []string
	actions  *graph

	// explain makes every score change keep its reason (Explain sets it);
	// notes are those reasons, numbered from 1 (see entry.why).
	explain bool
	notes   []note
}

// node is one cluster node.
type node struct {
	idx                        int
	name, id                   string
	online, standby, maint     bool
	unclean, pending, shutdown bool
	attrs                      map[string]string
	assigned                   int // resources assigned here so far (Pacemaker's num_resources)
	fenced                     bool
	histories                  map[string]cib.History
}

// available is pcmk__node_available: the node may run resources.
func (n *node) available() bool {
	return n != nil && n.online && !n.shutdown && !n.unclean && !n.standby && !n.maint
}

func (n *node) state() NodeState {
	switch {
	case n.unclean:
		return NodeUnclean
	case n.pending:
		return NodePending
	case !n.online:
		return NodeOffline
	case n.maint:
		return NodeMaintenance
	case n.standby:
		return NodeStandby
	}
	return NodeOnline
}

// Schedule computes the placement and the transition for in.CIB. The CIB
// is read, never changed. An error means the CIB cannot be scheduled at
// all (a value Validate would reject); problems Pacemaker only logs become
// Warnings.
func Schedule(in Input) (*Result, error) {
	s, err := run(in, false)
	if err != nil {
		return nil, err
	}
	return s.result(), nil
}

// run is the whole scheduling pass, shared by Schedule and Explain so that
// what Explain reports is what Schedule does.
func run(in Input, explain bool) (*scheduler, error) {
	if in.CIB == nil {
		return nil, errors.New("sched: no CIB")
	}
	s := &scheduler{c: in.CIB, in: in, byKey: map[string]*node{}, byID: map[string]*resource{},
		insts: map[string][]*resource{}, explain: explain}
	steps := []func() error{
		s.unpackOptions, s.unpackNodes, s.unpackResources, s.unpackStatus,
		s.unpackConstraints, s.applyStickiness, s.assignAll, s.createActions,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *scheduler) warnf(format string, args ...any) {
	s.warnings = append(s.warnings, fmt.Sprintf(format, args...))
}

func (s *scheduler) property(name, def string) (string, error) {
	v, ok, err := s.c.Property(name, cib.RuleInput{})
	if err != nil {
		return "", fmt.Errorf("crm_config %s: %w", name, err)
	}
	if !ok {
		return def, nil
	}
	return v, nil
}

func (s *scheduler) boolProperty(name string, def bool) (bool, error) {
	v, err := s.property(name, strconv.FormatBool(def))
	if err != nil {
		return false, err
	}
	b, err := cib.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("crm_config %s=%q: %w", name, v, err)
	}
	return b, nil
}

func (s *scheduler) unpackOptions() error {
	var err error
	get := func(name string, def bool) bool {
		if err != nil {
			return def
		}
		var b bool
		b, err = s.boolProperty(name, def)
		return b
	}
	s.symmetric = get("symmetric-cluster", true)
	s.stonithEnabled = get("stonith-enabled", true)
	s.startupFencing = get("startup-fencing", true)
	s.maintenance = get("maintenance-mode", false)
	s.stopAll = get("stop-all-resources", false)
	if err != nil {
		return err
	}
	if s.quorumPolicy, err = s.property("no-quorum-policy", policyStop); err != nil {
		return err
	}
	switch s.quorumPolicy {
	case policyStop, policyIgnore, policyFreeze, policySuicide, policyDemote:
	default:
		return fmt.Errorf("crm_config no-quorum-policy=%q: want stop, ignore, freeze, suicide or demote", s.quorumPolicy)
	}
	if s.quorumPolicy == policySuicide && !s.stonithEnabled {
		// Pacemaker: suicide without fencing cannot be honoured.
		s.quorumPolicy = policyStop
	}
	if s.in.Quorum != nil {
		s.quorate = *s.in.Quorum
	} else {
		for _, a := range s.c.Extra.Attrs {
			if a.Name == "have-quorum" {
				b, err := cib.ParseBool(a.Value)
				s.quorate = err == nil && b
				if v, err := strconv.Atoi(a.Value); err == nil {
					s.quorate = v != 0
				}
			}
		}
	}
	return nil
}

func (s *scheduler) unpackNodes() error {
	seen := map[string]bool{}
	add := func(name, id string) *node {
		if seen[name] {
			return nil
		}
		seen[name] = true
		n := &node{name: name, id: id}
		s.nodes = append(s.nodes, n)
		return n
	}
	for _, cn := range s.c.Config.Nodes {
		if cn.Type == "ping" || cn.Type == "remote" {
			continue
		}
		add(cn.Uname, cn.ID)
	}
	slices.SortFunc(s.nodes, func(a, b *node) int { return compareStrings(a.name, b.name) })
	for i, n := range s.nodes {
		n.idx = i
		s.byKey[n.name] = n
		if n.id != "" {
			if _, taken := s.byKey[n.id]; !taken {
				s.byKey[n.id] = n
			}
		}
		n.attrs = s.c.NodeAttrs(n.name)
		ns := s.c.NodeState(n.name)
		if ns == nil && n.id != "" {
			ns = s.c.NodeState(n.id)
		}
		s.nodeStatus(n, ns)
		for _, name := range []string{"standby", "maintenance"} {
			if v, ok := n.attrs[name]; ok {
				b, err := cib.ParseBool(v)
				if err != nil {
					return fmt.Errorf("node %s: attribute %s=%q: %w", n.name, name, v, err)
				}
				if name == "standby" {
					n.standby = b
				} else {
					n.maint = b
				}
			}
		}
		if v, ok := n.attrs["shutdown"]; ok && v != "" && v != "0" {
			n.shutdown = true
		}
	}
	return nil
}

// nodeStatus reads a node's membership as Pacemaker's
// determine_online_status does, with and without fencing.
func (s *scheduler) nodeStatus(n *node, ns *cib.NodeState) {
	if ns == nil {
		// Never seen: with fencing and startup-fencing, assume the worst
		// until it is fenced or joins.
		n.unclean = s.stonithEnabled && s.startupFencing
		return
	}
	inCCM := ns.InMembership()
	crmd := ns.ControllerOnline()
	expectedUp := ns.Expected == "member"
	switch {
	case inCCM && crmd && ns.Join == "member":
		n.online = true
	case inCCM && crmd:
		// Up but not yet joined: Pacemaker calls it pending only when
		// fencing is on; without fencing it is simply not online.
		if s.stonithEnabled {
			n.pending = ns.Join == "pending" || ns.Join == "" || ns.Join == "banned"
			if ns.Join == "down" && expectedUp {
				n.unclean = true
				n.pending = false
			}
		}
	case !inCCM && !expectedUp:
		// Cleanly down.
	case !inCCM:
		n.unclean = s.stonithEnabled
	default: // in the membership, controller gone
		n.unclean = s.stonithEnabled && expectedUp
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
