package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hakit/hakit/crm/cib"
	"github.com/hakit/hakit/crm/crmsh"
	"github.com/hakit/hakit/crm/sched"
	"github.com/hakit/hakit/node/api"
	"github.com/hakit/hakit/node/runtime"
)

// The commands below talk to the running cluster through the local
// hanode: a change goes to the partition as a whole (every member applies
// it or none does), and -w waits until the DC reports nothing left to do.

// crmCall sends one resource-manager request and, with wait, then waits
// until the cluster settles.
func crmCall(socket string, req runtime.Request, wait bool, timeout time.Duration) (api.CRMStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var st api.CRMStatus
	if err := runtime.CallAPI(ctx, socket, req, &st); err != nil {
		return st, err
	}
	if !wait {
		return st, nil
	}
	if err := runtime.CallAPI(ctx, socket, runtime.Request{Cmd: "crm-wait"}, &st); err != nil {
		return st, fmt.Errorf("waiting for the cluster to settle: %w", err)
	}
	return st, nil
}

// printCRMStatus prints the resource manager's view like crm_mon -1: the
// summary, the nodes and resources (as the status section shows them),
// failed actions, and the failover budgets.
func printCRMStatus(w io.Writer, st api.CRMStatus) error {
	c, err := cib.Parse("the cluster's CIB", []byte(st.CIB))
	if err != nil {
		return err
	}
	res, err := sched.Schedule(sched.Input{CIB: c})
	if err != nil {
		return fmt.Errorf("reading the cluster's CIB: %w", err)
	}
	fmt.Fprintln(w, "Cluster Summary:")
	dc := st.DC
	if dc == "" {
		dc = "NONE (the members are still agreeing)"
	}
	q := map[bool]string{true: "partition with quorum", false: "partition WITHOUT quorum"}[st.Quorate]
	fmt.Fprintf(w, "  * Current DC: %s - %s\n", dc, q)
	fmt.Fprintf(w, "  * Last change: CIB %d.%d.%d\n", c.AdminEpoch, c.Epoch, c.NumUpdates)
	fmt.Fprintf(w, "  * %d nodes configured, %d members: %s\n", len(c.Config.Nodes), len(st.Members), strings.Join(st.Members, " "))
	state := "idle"
	if !st.Idle {
		state = "transition in progress"
	}
	fmt.Fprintf(w, "  * Cluster: %s\n", state)
	fmt.Fprintln(w)
	printClusterStatus(w, c, res.Nodes, res.Current)
	var failed []string
	for _, ns := range c.Status.NodeStates {
		for id, h := range c.Histories(ns.Uname) {
			if f := h.LastFailure; f != nil {
				why := ""
				if f.ExitReason != "" {
					why = " '" + f.ExitReason + "'"
				}
				failed = append(failed, fmt.Sprintf("%s %s on %s returned %d%s (call %d)", id, f.Operation, ns.Uname, f.RCCode, why, f.CallID))
			}
		}
	}
	if len(failed) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Failed Resource Actions:")
		for _, f := range slices.Sorted(slices.Values(failed)) {
			fmt.Fprintf(w, "  * %s\n", f)
		}
	}
	if len(st.Failovers) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Failovers (budget in ms):")
		for _, f := range st.Failovers {
			fence := "no fencing"
			if f.FenceMS >= 0 {
				fence = fmt.Sprintf("fencing %.0f", f.FenceMS)
			}
			fmt.Fprintf(w, "  * %s (%s): detection %.0f, %s, scheduling %.0f, agent start %.0f, total %.0f\n",
				f.Node, strings.Join(f.Resources, " "), f.DetectMS, fence, f.ScheduleMS, f.StartMS, f.TotalMS)
		}
	}
	return nil
}

// configureLive applies crm shell commands to the running cluster.
func configureLive(socket, src string, wait bool, stdout io.Writer) error {
	st, err := crmCall(socket, runtime.Request{Cmd: "crm-configure", Args: map[string]string{"crm": src}}, wait, 5*time.Minute)
	if err != nil {
		if strings.Contains(err.Error(), "cannot reach hanode") {
			return fmt.Errorf("%w (to edit a CIB file without a cluster, give --cib FILE.xml)", err)
		}
		return err
	}
	if strings.Contains(src, "show") {
		return printShow(stdout, st)
	}
	return nil
}

func printShow(w io.Writer, st api.CRMStatus) error {
	c, err := cib.Parse("the cluster's CIB", []byte(st.CIB))
	if err != nil {
		return err
	}
	fmt.Fprint(w, crmsh.Show(c))
	return nil
}

func nodeCmd(socket *string, stdout io.Writer) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{Use: "node", Short: "Put a node in standby or back online (the live cluster)"}
	for _, state := range []string{"standby", "online"} {
		cmd.AddCommand(&cobra.Command{
			Use:   state + " [NODE]",
			Short: map[string]string{"standby": "Move everything off NODE (default: this node) and keep it empty", "online": "Let NODE (default: this node) run resources again"}[state],
			Args:  cobra.MaximumNArgs(1),
			RunE: func(_ *cobra.Command, args []string) error {
				node := ""
				if len(args) == 1 {
					node = args[0]
				}
				_, err := crmCall(*socket, runtime.Request{Cmd: "crm-node", Args: map[string]string{"node": node, "state": state}}, wait, 5*time.Minute)
				return err
			},
		})
	}
	cmd.PersistentFlags().BoolVarP(&wait, "wait", "w", false, "wait until the cluster settles")
	return cmd
}

func resourceCmd(socket *string, stdout io.Writer) *cobra.Command {
	var wait bool
	var onNode string
	cmd := &cobra.Command{Use: "resource", Short: "Start, stop, clean up or locate a resource (the live cluster)"}
	for _, action := range []string{"start", "stop", "cleanup"} {
		cmd.AddCommand(&cobra.Command{
			Use: action + " RESOURCE",
			Short: map[string]string{"start": "Let RESOURCE run (target-role=Started)", "stop": "Stop RESOURCE everywhere (target-role=Stopped)",
				"cleanup": "Forget RESOURCE's failures and history (on --node, or everywhere) so it is probed and placed again"}[action],
			Args: cobra.ExactArgs(1),
			RunE: func(_ *cobra.Command, args []string) error {
				_, err := crmCall(*socket, runtime.Request{Cmd: "crm-resource", Args: map[string]string{"action": action, "resource": args[0], "node": onNode}}, wait, 5*time.Minute)
				return err
			},
		})
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "locate RESOURCE",
		Short: "Say where RESOURCE runs",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			st, err := crmCall(*socket, runtime.Request{Cmd: "crm-status"}, wait, time.Minute)
			if err != nil {
				return err
			}
			c, err := cib.Parse("the cluster's CIB", []byte(st.CIB))
			if err != nil {
				return err
			}
			if r, _ := c.Resource(args[0]); r == nil {
				return fmt.Errorf("no resource %q in the configuration", args[0])
			}
			res, err := sched.Schedule(sched.Input{CIB: c})
			if err != nil {
				return err
			}
			var where []string
			for _, in := range res.Current {
				if in.Primitive == args[0] || in.ID == args[0] || in.Clone == args[0] || in.Group == args[0] {
					where = append(where, in.Node)
				}
			}
			if len(where) == 0 {
				fmt.Fprintf(stdout, "resource %s is NOT running\n", args[0])
				return nil
			}
			fmt.Fprintf(stdout, "resource %s is running on: %s\n", args[0], strings.Join(where, " "))
			return nil
		},
	})
	cmd.PersistentFlags().BoolVarP(&wait, "wait", "w", false, "wait until the cluster settles")
	cmd.PersistentFlags().StringVar(&onNode, "node", "", "cleanup: only on this node")
	return cmd
}

func raCmd(socket *string, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "ra", Short: "Resource agents hanode can run"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the agents: scripts under the OCF root, and the built-ins used where no script is installed",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var list []api.Agent
			if err := runtime.CallAPI(ctx, *socket, runtime.Request{Cmd: "ra-list"}, &list); err != nil {
				return err
			}
			for _, a := range list {
				where := a.Source
				if a.Path != "" {
					where += " " + a.Path
				}
				fmt.Fprintf(stdout, "%-40s %s\n", a.Name, where)
			}
			return nil
		},
	})
	return cmd
}

// watchStatus reprints the status every interval until interrupted.
func watchStatus(socket string, interval time.Duration, stdout io.Writer) error {
	for {
		fmt.Fprint(stdout, "\033[H\033[2J")
		if err := printLiveStatus(socket, stdout); err != nil {
			fmt.Fprintf(stdout, "hactl: %v\n", err)
		}
		fmt.Fprintf(stdout, "\n(every %v; Ctrl-C to stop) %s\n", interval, time.Now().Format(time.TimeOnly))
		time.Sleep(interval)
	}
}

func printLiveStatus(socket string, stdout io.Writer) error {
	st, err := crmCall(socket, runtime.Request{Cmd: "crm-status"}, false, 15*time.Second)
	if err != nil {
		return err
	}
	return printCRMStatus(stdout, st)
}

func cibCmd(socket *string, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "cib", Short: "Export or import the running cluster's CIB (Pacemaker XML)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "export",
		Short: "Print the cluster's CIB, status included, as cibadmin -Q does",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			st, err := crmCall(*socket, runtime.Request{Cmd: "crm-status"}, false, 30*time.Second)
			if err != nil {
				return err
			}
			fmt.Fprint(stdout, st.CIB)
			return nil
		},
	})
	var wait bool
	imp := &cobra.Command{
		Use:   "import FILE.xml",
		Short: "Replace the cluster's configuration with FILE.xml's (cibadmin --replace); its status section is ignored",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			_, err = crmCall(*socket, runtime.Request{Cmd: "crm-replace", Args: map[string]string{"name": args[0], "xml": string(data)}}, wait, 5*time.Minute)
			return err
		},
	}
	imp.Flags().BoolVarP(&wait, "wait", "w", false, "wait until the cluster settles")
	cmd.AddCommand(imp)
	return cmd
}
