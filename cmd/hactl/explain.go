package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hakit/hakit/crm/cib"
	"github.com/hakit/hakit/crm/sched"
	"github.com/hakit/hakit/node/runtime"
)

func explainCmd(socket *string, stdout, stderr io.Writer) *cobra.Command {
	var cibFile, format string
	cmd := &cobra.Command{
		Use:   "explain [--cib FILE.xml] RESOURCE [NODE] [--format text|json]",
		Short: "Say why a resource runs where it runs, or not at all: each node's score and where it comes from",
		Long: `explain runs the scheduler on a CIB file (as simulate does) and says where
RESOURCE runs now, where the scheduler places it, and why: for each node (or
only NODE) the score it used and every contribution to it, in the order the
scheduler applied them (location constraints and their rules, stickiness,
colocations and where the other resource was placed, group membership, clone
limits, fail counts against migration-threshold, target-role), the node's
state, and what happened after scoring (a start withdrawn because an order's
first resource will not run, no quorum, an unmanaged resource left alone).

RESOURCE is a primitive, group, clone or clone instance id (p:0); a clone's
child stands for the clone. Scores add with Pacemaker's arithmetic: any
-INFINITY wins over INFINITY.

--format json prints the explanation as data; scores are integers, with
INFINITY as 1000000.`,
		Example: `  hactl explain --cib cib.xml vip
  hactl explain --cib cib.xml vip vm-node1
  hactl explain --cib cib.xml cloned-ping-gateway --format json`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usageErr(fmt.Sprintf("explain: unknown --format %q: use text or json", format))
			}
			node := ""
			if len(args) == 2 {
				node = args[1]
			}
			var data []byte
			var err error
			name := cibFile
			if cibFile == "" {
				st, err := crmCall(*socket, runtime.Request{Cmd: "crm-status"}, false, 30*time.Second)
				if err != nil {
					return fmt.Errorf("%w (to explain a CIB file, give --cib FILE.xml)", err)
				}
				data, name = []byte(st.CIB), "the cluster's CIB"
			} else if data, err = os.ReadFile(cibFile); err != nil {
				return err
			}
			e, err := explainCIB(name, data, args[0], node, stderr)
			if err != nil {
				return err
			}
			if format == "json" {
				b, err := json.MarshalIndent(e, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(stdout, string(b))
				return nil
			}
			printExplanation(stdout, e)
			return nil
		},
	}
	cmd.Flags().StringVar(&cibFile, "cib", "", "the CIB XML file to explain (default: the running cluster's)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// explainFile reads, validates and explains, refusing a CIB with errors
// as simulate does: an explanation of a configuration Pacemaker would
// reject would explain nothing real.
func explainCIB(file string, data []byte, resource, node string, stderr io.Writer) (*sched.Explanation, error) {
	c, err := cib.Parse(file, data)
	if err != nil {
		return nil, err
	}
	problems := c.Validate()
	for _, p := range problems {
		fmt.Fprintf(stderr, "hactl: %s\n", p)
	}
	if n := len(problems.Errors()); n > 0 {
		return nil, fmt.Errorf("%s: %d error(s) in the configuration; not scheduled", file, n)
	}
	e, err := sched.Explain(sched.Input{CIB: c}, resource, node)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return e, nil
}

func printExplanation(w io.Writer, e *sched.Explanation) {
	fmt.Fprintln(w, explainHeadline(e))
	if len(e.CloneScores) > 0 {
		fmt.Fprintf(w, "  clone %s's own scores (its instances go only where these are not negative):\n", e.ID)
		for _, ns := range e.CloneScores {
			printNodeScore(w, "    ", ns)
		}
	}
	indent := "  "
	for _, ie := range e.Instances {
		if len(e.Instances) > 1 || ie.ID != e.ID {
			fmt.Fprintf(w, "  %s: %s\n", ie.ID, instanceHeadline(ie))
			indent = "    "
		}
		fmt.Fprintf(w, "%sdecision: %s\n", indent, ie.Decision.Detail)
		for _, r := range ie.Withdrawn {
			fmt.Fprintf(w, "%sthen withdrawn: %s\n", indent, reasonText(r))
		}
		for _, r := range ie.Ignored {
			fmt.Fprintf(w, "%signored: %s\n", indent, reasonText(r))
		}
		for _, ns := range ie.Nodes {
			printNodeScore(w, indent, ns)
		}
	}
}

func explainHeadline(e *sched.Explanation) string {
	name := e.ID
	switch {
	case e.Resource != e.ID:
		name += " (" + e.Kind + "; " + e.Resource + " stands for it)"
	case e.Kind != "primitive":
		name += " (" + e.Kind + ")"
	}
	cur, placed := nodeList(e.Current), nodeList(e.Placed)
	var s string
	switch {
	case len(e.Current) == 0 && len(e.Placed) == 0:
		s = name + " is stopped and will stay stopped"
	case len(e.Current) == 0:
		s = name + " is stopped and will start on " + placed
	case len(e.Placed) == 0:
		s = name + " runs on " + cur + " and will stop"
	case cur == placed && e.Restarts:
		s = name + " runs on " + cur + " (and will restart there)"
	case cur == placed:
		s = name + " runs on " + cur + " (and will stay there)"
	default:
		s = name + " runs on " + cur + " and will move to " + placed
	}
	if len(e.Promoted) > 0 {
		s += "; promoted on " + nodeList(e.Promoted)
	}
	return s
}

func instanceHeadline(ie sched.InstanceExplanation) string {
	cur, next := nodeList(ie.Current), ie.Node
	switch {
	case len(ie.Current) == 0 && next == "":
		return "stopped, stays stopped"
	case len(ie.Current) == 0:
		return "starts on " + next
	case next == "":
		return "on " + cur + ", stops"
	case cur == next:
		return "on " + cur + ", stays"
	}
	return "on " + cur + ", moves to " + next
}

func nodeList(nodes []string) string {
	if len(nodes) == 0 {
		return "no node"
	}
	return strings.Join(nodes, ", ")
}

func reasonText(r sched.Reason) string {
	head := string(r.Cause)
	if r.ID != "" {
		head += " " + r.ID
	}
	return head + ": " + r.Detail
}

// printNodeScore writes one node's line: the score as the sum of its
// contributions or, at -INFINITY, only what made it so (everything else
// is moot); then what was looked at and did not apply.
func printNodeScore(w io.Writer, indent string, ns sched.NodeScore) {
	head := ns.Node
	if !ns.CanRun {
		head += " (" + string(ns.State) + ": cannot run resources)"
	}
	var line string
	switch {
	case !ns.Considered:
		line = "not considered (symmetric-cluster=false and no location allows it)"
	case ns.Score <= -cib.Infinity:
		var bans []string
		for _, c := range ns.Contributions {
			if c.Op != sched.OpNote && c.Score <= -cib.Infinity {
				bans = append(bans, reasonText(c.Reason))
			}
		}
		line = "score -INFINITY: " + strings.Join(bans, "; ")
	default:
		line = "score " + ns.Score.String() + sumText(ns.Contributions)
	}
	fmt.Fprintf(w, "%s%s: %s\n", indent, head, line)
	for _, c := range ns.Contributions {
		if c.Op == sched.OpNote {
			fmt.Fprintf(w, "%s    (%s)\n", indent, reasonText(c.Reason))
		}
	}
}

// sumText is " = a cause id (detail) + b ..." over the contributions that
// change the score. The symmetric-cluster 0 and followers' zeros say
// nothing and are left out; a set is shown where it happened.
func sumText(cs []sched.Contribution) string {
	var b strings.Builder
	n := 0
	for _, c := range cs {
		if c.Op == sched.OpNote || (c.Op == sched.OpAdd && c.Score == 0 &&
			(c.Cause == sched.CauseSymmetric || c.Cause == sched.CauseFollower)) {
			continue
		}
		term := string(c.Cause)
		if c.ID != "" {
			term += " " + c.ID
		}
		term += " (" + c.Detail + ")"
		switch {
		case c.Op == sched.OpSet:
			if n == 0 {
				b.WriteString(" =")
			} else {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " set to %s by %s", c.Score, term)
		case n == 0:
			fmt.Fprintf(&b, " = %s %s", c.Score, term)
		case c.Score < 0:
			fmt.Fprintf(&b, " - %s %s", c.Score.Neg(), term)
		default:
			fmt.Fprintf(&b, " + %s %s", c.Score, term)
		}
		n++
	}
	return b.String()
}
