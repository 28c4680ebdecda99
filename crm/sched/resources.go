package sched

import (
	"fmt"
	"strconv"
	"time"

	"github.com/hakit/hakit/crm/cib"
)

type rkind int

const (
	rscPrimitive rkind = iota
	rscGroup
	rscClone
)

// resource is a primitive, group or clone as the scheduler works on it.
// A clone's children are its instances, each a copy of the configured
// child with ":n" appended to every id, as Pacemaker numbers them.
type resource struct {
	id       string // instance id ("vip", "ping:1", "g:0")
	confID   string // configured id ("vip", "ping", "g")
	kind     rkind
	parent   *resource
	children []*resource
	prim     *cib.Primitive

	priority   cib.Score
	stickiness cib.Score
	threshold  cib.Score
	// failureTimeout: failures older than this no longer count against
	// migration-threshold (0: they always count).
	failureTimeout time.Duration
	managed        bool
	targetRole     cib.Role
	// unique: a primitive whose instances are distinct (not an anonymous
	// clone's instance): its failures ban only itself.
	unique bool

	cloneMax, cloneNodeMax       int
	promotedMax, promotedNodeMax int
	anonymous, interleave        bool
	promotable                   bool

	// What the status section says (primitives).
	running []*node
	// knownIdle are the nodes with a record of this anonymous clone
	// instance that found it stopped.
	knownIdle []*node
	// runMonitors are, per node in running, the intervals (ms) of the
	// recurring monitors the history shows running there.
	runMonitors [][]int64
	runRoles    []cib.Role
	role        cib.Role // the role on running[0]; RoleStopped when inactive
	failed      bool
	blocked     bool

	allowed     table
	provisional bool
	allocating  bool
	merging     bool
	assigned    *node
	nextRole    cib.Role

	asDependent []*colocation // rsc_cons: this resource follows another
	asPrimary   []*colocation // rsc_cons_lhs: another follows this one

	// Clones: instances assigned per node index, role=Promoted locations,
	// and whether the clone's colocations were handed to this instance.
	instanceCount []int
	promoLoc      table
	inherited     bool
	// childConf is a clone's configured child, from which orphans are
	// built; orphan marks an instance beyond clone-max found running.
	childConf cib.Resource
	orphan    bool

	// What Explain reports besides scores: why a clone instance has no
	// place (stopWhy), how the node was chosen, starts taken back after
	// placement and colocations rolled back. Recorded only when explaining.
	stopWhy       *reason
	decision      *reason
	withdrawn     []reason
	ignoredColocs []reason
}

// cloneParent is the clone this resource is an instance of (or a member of
// an instance of), nil when none.
func (r *resource) cloneParent() *resource {
	for p := r.parent; p != nil; p = p.parent {
		if p.kind == rscClone {
			return p
		}
	}
	return nil
}

func (r *resource) top() *resource {
	x := r
	for x.parent != nil {
		x = x.parent
	}
	return x
}

func (r *resource) primitives() []*resource {
	if r.kind == rscPrimitive {
		return []*resource{r}
	}
	var out []*resource
	for _, ch := range r.children {
		out = append(out, ch.primitives()...)
	}
	return out
}

// active reports whether any primitive of r runs anywhere.
func (r *resource) active() bool {
	for _, p := range r.primitives() {
		if len(p.running) > 0 {
			return true
		}
	}
	return false
}

// currentNode is pe__current_node: the first node r runs on.
func (r *resource) currentNode() *node {
	for _, p := range r.primitives() {
		if len(p.running) > 0 {
			return p.running[0]
		}
	}
	return nil
}

func (s *scheduler) unpackResources() error {
	for _, cr := range s.c.Config.Resources {
		if p, ok := cr.(*cib.Primitive); ok && p.Class == "stonith" {
			s.haveStonith = true
		}
		r, err := s.build(cr, nil, "")
		if err != nil {
			return err
		}
		if r != nil {
			s.top = append(s.top, r)
		}
	}
	if s.stonithEnabled && !s.haveStonith {
		s.warnf("stonith-enabled is true but no fencing device is configured: resources are not started or stopped (Pacemaker: \"Resource start-up disabled since no STONITH resources have been defined\")")
	}
	return nil
}

// build turns a configured resource into the scheduler's tree; suffix is
// the clone instance number ("" outside clones).
func (s *scheduler) build(cr cib.Resource, parent *resource, suffix string) (*resource, error) {
	id := cr.ResourceID()
	r := &resource{id: id + suffix, confID: id, parent: parent, provisional: true,
		allowed: newTable(len(s.nodes)), role: cib.RoleStopped}
	meta, err := s.c.Meta(id, cib.RuleInput{})
	if err != nil {
		return nil, err
	}
	wrap := func(field string, err error) error {
		return fmt.Errorf("resource %s: meta-attribute %s: %w", id, field, err)
	}
	if r.priority, err = meta.Priority(); err != nil {
		return nil, wrap("priority", err)
	}
	if r.managed, err = meta.IsManaged(); err != nil {
		return nil, wrap("is-managed", err)
	}
	if s.maintenance {
		r.managed = false
	}
	if v, ok := meta["maintenance"]; ok {
		if b, err := cib.ParseBool(v); err == nil && b {
			r.managed = false
		}
	}
	if r.targetRole, err = meta.TargetRole(); err != nil {
		return nil, wrap("target-role", err)
	}
	if r.threshold, err = meta.MigrationThreshold(); err != nil {
		return nil, wrap("migration-threshold", err)
	}
	if v := meta["failure-timeout"]; v != "" {
		if r.failureTimeout, _, err = cib.ParseInterval(v); err != nil {
			return nil, wrap("failure-timeout", err)
		}
	}
	stick, set, err := meta.Stickiness()
	if err != nil {
		return nil, wrap("resource-stickiness", err)
	}
	r.stickiness = stick
	switch cr := cr.(type) {
	case *cib.Primitive:
		r.kind = rscPrimitive
		r.prim = cr
		cl := r.cloneParent()
		r.unique = cl == nil || !cl.anonymous
		if !set && cl != nil {
			r.stickiness = 1 // Pacemaker's default for clone instances
		}
		s.prims = append(s.prims, r)
		s.insts[id] = append(s.insts[id], r)
	case *cib.Group:
		r.kind = rscGroup
		for _, ch := range cr.Children {
			c, err := s.build(ch, r, suffix)
			if err != nil {
				return nil, err
			}
			if c != nil {
				r.children = append(r.children, c)
			}
		}
	case *cib.Clone:
		r.kind = rscClone
		if r.cloneMax, err = meta.CloneMax(len(s.nodes)); err != nil {
			return nil, wrap("clone-max", err)
		}
		if r.cloneNodeMax, err = meta.CloneNodeMax(); err != nil {
			return nil, wrap("clone-node-max", err)
		}
		unique, err := meta.GloballyUnique()
		if err != nil {
			return nil, wrap("globally-unique", err)
		}
		r.anonymous = !unique
		if r.anonymous {
			r.cloneNodeMax = 1 // anonymous instances are indistinguishable
		}
		if r.interleave, err = meta.Interleave(); err != nil {
			return nil, wrap("interleave", err)
		}
		prom, err := meta.Promotable()
		if err != nil {
			return nil, wrap("promotable", err)
		}
		r.promotable = prom || cr.Master
		if r.promotedMax, err = meta.PromotedMax(); err != nil {
			return nil, wrap("promoted-max", err)
		}
		if r.promotedNodeMax, err = meta.PromotedNodeMax(); err != nil {
			return nil, wrap("promoted-node-max", err)
		}
		r.instanceCount = make([]int, len(s.nodes))
		r.childConf = cr.Child
		if cr.Child == nil {
			return r, nil
		}
		for i := range r.cloneMax {
			c, err := s.build(cr.Child, r, ":"+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			if c != nil {
				r.children = append(r.children, c)
			}
		}
	default:
		return nil, nil // kept verbatim (bundles, templates): not scheduled
	}
	if parent == nil {
		s.byID[id] = r
	} else if _, ok := s.byID[id]; !ok {
		s.byID[id] = r
	}
	return r, nil
}
