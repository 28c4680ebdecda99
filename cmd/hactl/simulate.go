package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hakit/hakit/crm/cib"
	"github.com/hakit/hakit/crm/sched"
)

func simulateCmd(stdout, stderr io.Writer) *cobra.Command {
	var cibFile, format string
	cmd := &cobra.Command{
		Use:   "simulate --cib FILE.xml [--format text|json]",
		Short: "Show what the scheduler would do with a CIB, like crm_simulate -S",
		Long: `simulate reads a CIB file (configuration and status section, as cibadmin -Q
prints it), validates it, runs hakit's scheduler on it and prints the cluster
now, the transition and the cluster after every action succeeds. Nothing is
executed and no cluster is needed. Validation warnings go to stderr; errors
stop it before scheduling.

--format json prints {"resources", "nodes"} (the placement after the
transition), "current" (the placement now), "actions" and "warnings".`,
		Example: `  hactl simulate --cib cib.xml
  hactl simulate --cib cib.xml --format json | jq .resources`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if cibFile == "" {
				return usageErr("simulate needs --cib FILE.xml")
			}
			if format != "text" && format != "json" {
				return usageErr(fmt.Sprintf("simulate: unknown --format %q: use text or json", format))
			}
			c, r, err := simulate(cibFile, stderr)
			if err != nil {
				return err
			}
			if format == "json" {
				b, err := json.MarshalIndent(simulationJSON(c, r), "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(stdout, string(b))
				return nil
			}
			printSimulation(stdout, c, r)
			return nil
		},
	}
	cmd.Flags().StringVar(&cibFile, "cib", "", "the CIB XML file to simulate")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text (like crm_simulate -S) or json")
	return cmd
}

// simulate parses, validates and schedules the CIB in file. Every
// validation problem is printed, not just the first, so that one run
// shows the admin everything to fix.
func simulate(file string, stderr io.Writer) (*cib.CIB, *sched.Result, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	c, err := cib.Parse(file, data)
	if err != nil {
		return nil, nil, err
	}
	problems := c.Validate()
	for _, p := range problems {
		fmt.Fprintf(stderr, "hactl: %s\n", p)
	}
	if n := len(problems.Errors()); n > 0 {
		return nil, nil, fmt.Errorf("%s: %d error(s) in the configuration; not scheduled", file, n)
	}
	r, err := sched.Schedule(sched.Input{CIB: c})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	return c, r, nil
}

// simJSON is what simulate --format json prints. Resources and Nodes are
// the placement after the transition, at the top level because that is
// what scripts and the differential test against crm_simulate compare.
type simJSON struct {
	Resources map[string]sched.RscPlacement `json:"resources"`
	Nodes     map[string]sched.NodeState    `json:"nodes"`
	Current   sched.Placement               `json:"current"`
	Actions   []simAction                   `json:"actions"`
	Warnings  []string                      `json:"warnings"`
}

type simAction struct {
	ID       int    `json:"id"`
	Resource string `json:"resource"`
	Action   string `json:"action"`
	Node     string `json:"node"`
	// IntervalMS is set for recurring monitors only: a probe is a monitor
	// with no interval, and the two mean different things to an admin.
	IntervalMS int64 `json:"interval_ms,omitempty"`
	After      []int `json:"after"`
}

func simulationJSON(c *cib.CIB, r *sched.Result) simJSON {
	final := r.Placement(c)
	out := simJSON{Resources: final.Resources, Nodes: final.Nodes, Current: r.CurrentPlacement(c),
		Actions: []simAction{}, Warnings: slices.Clone(r.Warnings)}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	for _, a := range r.Actions {
		after := slices.Clone(a.After)
		if after == nil {
			after = []int{}
		}
		out.Actions = append(out.Actions, simAction{ID: a.ID, Resource: a.Resource, Action: string(a.Task),
			Node: a.Node, IntervalMS: a.Interval.Milliseconds(), After: after})
	}
	return out
}

// printSimulation prints r the way crm_simulate -S does, so that an admin
// who knows Pacemaker's tools can read it, and so that the two outputs can
// be compared side by side.
func printSimulation(w io.Writer, c *cib.CIB, r *sched.Result) {
	fmt.Fprintln(w, "Current cluster status:")
	printClusterStatus(w, c, r.Nodes, r.Current)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Transition Summary:")
	for _, line := range transitionSummary(c, r) {
		fmt.Fprintf(w, "  * %s\n", line)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Executing Cluster Transition:")
	for _, a := range r.Actions {
		switch {
		case a.Task == sched.TaskFence:
			fmt.Fprintf(w, "  * Fencing %s (reboot)\n", a.Resource)
		case a.Task == sched.TaskMonitor && a.Interval > 0:
			fmt.Fprintf(w, "  * Resource action: %-15s monitor=%d on %s\n", a.Resource, a.Interval.Milliseconds(), a.Node)
		default:
			fmt.Fprintf(w, "  * Resource action: %-15s %s on %s\n", a.Resource, a.Task, a.Node)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Revised Cluster Status:")
	printClusterStatus(w, c, r.FinalNodes, r.Final)
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Warnings:")
		for _, s := range r.Warnings {
			fmt.Fprintf(w, "  * %s\n", s)
		}
	}
}

// printClusterStatus prints nodes and resources as crm_mon -1 lays them
// out: online and offline nodes as lists, other states one per line, then
// every configured resource in configuration order, clones summarised.
func printClusterStatus(w io.Writer, c *cib.CIB, nodes []sched.Node, instances []sched.Instance) {
	fmt.Fprintln(w, "  * Node List:")
	var online, offline []string
	for _, n := range nodes {
		switch n.State {
		case sched.NodeOnline:
			online = append(online, n.Name)
		case sched.NodeOffline:
			offline = append(offline, n.Name)
		case sched.NodeUnclean:
			fmt.Fprintf(w, "    * Node %s: UNCLEAN (offline)\n", n.Name)
		default:
			fmt.Fprintf(w, "    * Node %s: %s\n", n.Name, n.State)
		}
	}
	if len(online) > 0 {
		fmt.Fprintf(w, "    * Online: [ %s ]\n", strings.Join(online, " "))
	}
	if len(offline) > 0 {
		fmt.Fprintf(w, "    * OFFLINE: [ %s ]\n", strings.Join(offline, " "))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  * Full List of Resources:")
	byPrimitive := map[string][]sched.Instance{}
	for _, in := range instances {
		byPrimitive[in.Primitive] = append(byPrimitive[in.Primitive], in)
	}
	if len(c.Config.Resources) == 0 {
		fmt.Fprintln(w, "    * No resources")
	}
	for _, rsc := range c.Config.Resources {
		printResource(w, c, "    ", rsc, byPrimitive, nodes)
	}
}

func printResource(w io.Writer, c *cib.CIB, indent string, rsc cib.Resource, byPrimitive map[string][]sched.Instance, nodes []sched.Node) {
	switch r := rsc.(type) {
	case *cib.Primitive:
		fmt.Fprintf(w, "%s* %s\t(%s):\t %s\n", indent, r.ID, agentName(r), primitiveState(c, r.ID, byPrimitive[r.ID]))
	case *cib.Group:
		fmt.Fprintf(w, "%s* Resource Group: %s:\n", indent, r.ID)
		for _, ch := range r.Children {
			printResource(w, c, indent+"  ", ch, byPrimitive, nodes)
		}
	case *cib.Clone:
		printClone(w, c, indent, r, byPrimitive, nodes)
	default:
		fmt.Fprintf(w, "%s* %s\t(not modelled: not scheduled)\n", indent, rsc.ResourceID())
	}
}

// primitiveState is crm_mon's "Started vm-node1", "FAILED vm-node1",
// "Stopped (disabled)" column.
func primitiveState(c *cib.CIB, id string, ins []sched.Instance) string {
	if len(ins) == 0 {
		if m, err := c.Meta(id, cib.RuleInput{}); err == nil {
			if role, err := m.TargetRole(); err == nil && role == cib.RoleStopped {
				return "Stopped (disabled)"
			}
		}
		return "Stopped"
	}
	// Active on several nodes at once (after a partition): crm_mon's
	// "Started [ n1 n2 ]", which an admin must notice.
	if len(ins) > 1 && !slices.ContainsFunc(ins, func(in sched.Instance) bool {
		return in.Failed || in.Unmanaged || in.Blocked || in.Role != ins[0].Role
	}) {
		var on []string
		for _, in := range ins {
			on = append(on, in.Node)
		}
		return roleWord(ins[0].Role) + " [ " + strings.Join(on, " ") + " ]"
	}
	var parts []string
	for _, in := range ins {
		s := roleWord(in.Role) + " " + in.Node
		if in.Failed {
			s = "FAILED " + in.Node
			if in.Role == cib.RolePromoted {
				s = "FAILED Promoted " + in.Node
			}
		}
		if in.Unmanaged {
			s += " (unmanaged)"
		}
		if in.Blocked {
			s += " (blocked)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func roleWord(r cib.Role) string {
	switch r {
	case cib.RolePromoted:
		return "Promoted"
	case cib.RoleUnpromoted:
		return "Unpromoted"
	}
	return "Started"
}

func agentName(p *cib.Primitive) string {
	switch {
	case p.Template != "":
		return "@" + p.Template
	case p.Provider != "":
		return p.Class + ":" + p.Provider + ":" + p.Type
	}
	return p.Class + ":" + p.Type
}

// printClone summarises a clone as crm_mon does: the nodes per role on one
// line each, failed or unmanaged instances on their own lines (they are
// what the admin must look at), and the nodes running no instance.
func printClone(w io.Writer, c *cib.CIB, indent string, cl *cib.Clone, byPrimitive map[string][]sched.Instance, nodes []sched.Node) {
	suffix := ""
	if cl.Promotable() {
		suffix = " (promotable)"
	}
	childID := ""
	var members []*cib.Primitive
	switch ch := cl.Child.(type) {
	case *cib.Primitive:
		childID, members = ch.ID, []*cib.Primitive{ch}
	case *cib.Group:
		childID = ch.ID
		for _, m := range ch.Children {
			if p, ok := m.(*cib.Primitive); ok {
				members = append(members, p)
			}
		}
	}
	fmt.Fprintf(w, "%s* Clone Set: %s [%s]%s:\n", indent, cl.ID, childID, suffix)
	// A cloned group counts as running on a node when its first member
	// does, as PlacementOf counts it; each member's problems still show.
	var promoted, unpromoted, started []string
	running := map[string]bool{}
	for i, p := range members {
		for _, in := range byPrimitive[p.ID] {
			if in.Failed || in.Unmanaged || in.Blocked {
				fmt.Fprintf(w, "%s  * %s\t(%s):\t %s\n", indent, in.ID, agentName(p), primitiveState(c, p.ID, []sched.Instance{in}))
				running[in.Node] = true
				continue
			}
			if i > 0 {
				continue
			}
			running[in.Node] = true
			switch in.Role {
			case cib.RolePromoted:
				promoted = append(promoted, in.Node)
			case cib.RoleUnpromoted:
				unpromoted = append(unpromoted, in.Node)
			default:
				started = append(started, in.Node)
			}
		}
	}
	if cl.Promotable() {
		// A promotable clone's unpromoted instances are reported as such
		// whatever role the scheduler recorded for a plain start.
		unpromoted = append(unpromoted, started...)
		started = nil
	}
	var stopped []string
	for _, n := range nodes {
		if !running[n.Name] {
			stopped = append(stopped, n.Name)
		}
	}
	for _, l := range []struct {
		label string
		nodes []string
	}{{"Promoted", promoted}, {"Unpromoted", unpromoted}, {"Started", started}, {"Stopped", stopped}} {
		if len(l.nodes) > 0 {
			slices.Sort(l.nodes)
			fmt.Fprintf(w, "%s  * %s: [ %s ]\n", indent, l.label, strings.Join(slices.Compact(l.nodes), " "))
		}
	}
}

// transitionSummary is crm_simulate's "Transition Summary": one line per
// instance whose place or role changes, or that is restarted in place.
// It is derived from the states before and after and from the actions,
// because a restart is visible only in the actions and a move only in the
// states. A clone's instances are compared by node, not by instance
// number: which number an anonymous instance has is bookkeeping, and a
// renumbering that moves nothing is not a change.
func transitionSummary(c *cib.CIB, r *sched.Result) []string {
	type pair struct{ cur, fin []sched.Instance }
	var keys []string
	byKey := map[string]*pair{}
	get := func(in sched.Instance) *pair {
		k := in.ID
		if in.Clone != "" {
			k = in.Clone + "\x00" + in.Primitive
		}
		p := byKey[k]
		if p == nil {
			p = &pair{}
			byKey[k] = p
			keys = append(keys, k)
		}
		return p
	}
	for _, in := range r.Current {
		get(in).cur = append(get(in).cur, in)
	}
	for _, in := range r.Final {
		get(in).fin = append(get(in).fin, in)
	}
	type key struct {
		id, node string
		task     sched.Task
	}
	acted := map[key]bool{}
	for _, a := range r.Actions {
		acted[key{a.Resource, a.Node, a.Task}] = true
	}

	type row struct {
		rank             int
		verb, id, detail string
	}
	var rows []row
	order := configOrder(c)
	add := func(in sched.Instance, verb, detail string) {
		rows = append(rows, row{rank(order, in.Primitive), verb, in.ID, detail})
	}
	at := func(in sched.Instance) string {
		if in.Role == cib.RolePromoted {
			return "Promoted " + in.Node
		}
		return in.Node
	}
	for _, k := range keys {
		p := byKey[k]
		onNode := func(ins []sched.Instance, node string) (sched.Instance, bool) {
			i := slices.IndexFunc(ins, func(in sched.Instance) bool { return in.Node == node })
			if i < 0 {
				return sched.Instance{}, false
			}
			return ins[i], true
		}
		// The instances that leave a node are paired, in order, with
		// those that arrive on one: a move (or a recovery elsewhere).
		var gone, arrived []sched.Instance
		for _, cu := range p.cur {
			if _, ok := onNode(p.fin, cu.Node); !ok {
				gone = append(gone, cu)
			}
		}
		for _, f := range p.fin {
			if _, ok := onNode(p.cur, f.Node); !ok {
				arrived = append(arrived, f)
			}
		}
		for i, f := range arrived {
			switch {
			case i < len(gone) && gone[i].Failed:
				add(gone[i], "Recover", at(gone[i])+" -> "+at(f))
			case i < len(gone):
				add(gone[i], "Move", at(gone[i])+" -> "+at(f))
			case f.Role == cib.RolePromoted:
				add(f, "Promote", "Stopped -> Promoted "+f.Node)
			default:
				add(f, "Start", f.Node)
			}
		}
		for _, cu := range gone[min(len(arrived), len(gone)):] {
			add(cu, "Stop", at(cu))
		}
		for _, f := range p.fin {
			before, ok := onNode(p.cur, f.Node)
			if !ok {
				continue
			}
			restarted := (acted[key{f.ID, f.Node, sched.TaskStop}] || acted[key{before.ID, f.Node, sched.TaskStop}]) &&
				acted[key{f.ID, f.Node, sched.TaskStart}]
			switch {
			case before.Failed && restarted:
				// A failed resource the cluster may not touch (unmanaged,
				// blocked) stays failed: there is nothing to report.
				add(f, "Recover", at(f))
			case restarted:
				add(f, "Restart", at(f))
			case before.Role != cib.RolePromoted && f.Role == cib.RolePromoted:
				add(f, "Promote", roleWord(before.Role)+" -> Promoted "+f.Node)
			case before.Role == cib.RolePromoted && f.Role != cib.RolePromoted:
				add(f, "Demote", "Promoted -> "+roleWord(f.Role)+" "+f.Node)
			}
		}
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), compareInstanceIDs(a.id, b.id))
	})
	// Columns as crm_simulate aligns them: ids padded to the longest,
	// details right-aligned, so that the arrows line up.
	idWidth, detailWidth := 0, 0
	for _, r := range rows {
		idWidth, detailWidth = max(idWidth, len(r.id)+2), max(detailWidth, len(r.detail))
	}
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = fmt.Sprintf("%-10s %-*s ( %*s )", r.verb, idWidth, r.id, detailWidth, r.detail)
	}
	return lines
}

// configOrder ranks primitives by their place in the configuration, the
// order crm_simulate reports them in.
func configOrder(c *cib.CIB) map[string]int {
	order := map[string]int{}
	for _, p := range c.Primitives() {
		order[p.ID] = len(order)
	}
	return order
}

func rank(order map[string]int, id string) int {
	if n, ok := order[id]; ok {
		return n
	}
	return len(order)
}

// compareInstanceIDs sorts clone instances by number, so that rsc:10
// comes after rsc:9.
func compareInstanceIDs(a, b string) int {
	ai, an := splitInstance(a)
	bi, bn := splitInstance(b)
	return cmp.Or(strings.Compare(ai, bi), cmp.Compare(an, bn), strings.Compare(a, b))
}

func splitInstance(id string) (string, int) {
	i := strings.LastIndexByte(id, ':')
	if i < 0 {
		return id, -1
	}
	n, err := strconv.Atoi(id[i+1:])
	if err != nil {
		return id, -1
	}
	return id[:i], n
}
