// Command hactl is the hakit admin CLI. It talks to the local hanode over
// its unix socket.
//
//	hactl status [--json]             ring, members, each link's state per peer, quorum
//	                                  (like corosync-cfgtool -s plus corosync-quorumtool -s)
//	hactl kv get KEY [--local]        linearizable read (--local: this replica, maybe stale)
//	hactl kv set KEY VALUE
//	hactl kv delete KEY
//	hactl kv cas KEY EXPECTED NEW     set KEY to NEW if it holds EXPECTED
//	hactl kv cas --absent KEY NEW     create KEY if it does not exist
//	hactl kv list [PREFIX]            this replica's keys
//	hactl kv watch [PREFIX]           print every change under PREFIX until interrupted
//	hactl bench [--size 256] [--seconds 10] --socket S1 --socket S2 ...
//	                                  like cpgbench: every given node sends SIZE-byte messages
//	                                  for SECONDS (keeping its send queue full, or --inflight N
//	                                  of its own in flight; --senders N: only the first N send);
//	                                  prints ordered msgs/s, MB/s, p50/p99/max latency from send
//	                                  to delivery, and checks that every node delivered every
//	                                  message in the same order without gaps (--json: all of it)
//	hactl configure --cib FILE.xml [-f FILE.crm | COMMAND...]
//	                                  offline: apply crm shell configure commands to a CIB file
//	                                  (created when missing); show prints it as crm shell text
//	hactl simulate --cib FILE.xml [--format text|json]
//	                                  offline: what the scheduler would do with this CIB, like
//	                                  crm_simulate -S
//
// Exit status: 0 on success, 1 when hanode cannot be reached or refuses
// (not quorate, outcome unknown), when kv get finds no key, when a
// kv cas does not match, or when bench finds a node that missed a message
// or delivered in another order, when configure or simulate finds the
// input unreadable or invalid (configure then leaves the file untouched);
// 2 on bad usage.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hakit/hakit/node/runtime"
)

// usageError marks errors that exit with status 2.
type usageError struct{ error }

func usageErr(msg string) error { return usageError{errors.New(msg)} }

// wrapArgs makes every command's argument-count errors usage errors.
func wrapArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	var socket string
	root := &cobra.Command{Use: "hactl", Short: "The hakit admin CLI", SilenceUsage: true, SilenceErrors: true}
	root.CompletionOptions.DisableDefaultCmd = true
	root.PersistentFlags().StringVar(&socket, "socket", defaultSocket, "hanode's API socket")
	var asJSON, watch bool
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the cluster like crm_mon -1 (nodes, resources, failures, failover budgets), then the ring, links and quorum",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if watch {
				return watchStatus(socket, 2*time.Second, stdout)
			}
			if !asJSON {
				if err := printLiveStatus(socket, stdout); err != nil {
					return err
				}
				fmt.Fprintln(stdout)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			var out struct {
				Status json.RawMessage `json:"status"`
				Text   string          `json:"text"`
			}
			if err := runtime.CallAPI(ctx, socket, runtime.Request{Cmd: "status"}, &out); err != nil {
				return err
			}
			if asJSON {
				fmt.Fprintln(stdout, string(out.Status))
			} else {
				fmt.Fprint(stdout, out.Text)
			}
			return nil
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print the messaging layer's status as JSON")
	status.Flags().BoolVar(&watch, "watch", false, "reprint the status every 2 s until interrupted")
	root.AddCommand(status, kvCmd(&socket, stdout), benchCmd(stdout, stderr),
		configureCmd(&socket, stdout, stderr), simulateCmd(stdout, stderr),
		nodeCmd(&socket, stdout), resourceCmd(&socket, stdout), raCmd(&socket, stdout), cibCmd(&socket, stdout))
	root.AddCommand(explainCmd(&socket, stdout, stderr))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	wrapArgs(root)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(stderr, "hactl: %s\n", err)
		var ue usageError
		if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
			return 2
		}
		return 1
	}
	return 0
}
