// Command hactl is the hakit admin CLI. It talks to the local hanode over
// its unix socket.
//
//	hactl status [--json]     ring, members, each link's state per peer, quorum
//	                          (like corosync-cfgtool -s plus corosync-quorumtool -s)
//
// Exit status: 0 on success, 1 when hanode cannot be reached or refuses,
// 2 on bad usage.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hakit/hakit/node/runtime"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	var socket string
	root := &cobra.Command{Use: "hactl", Short: "The hakit admin CLI", SilenceUsage: true, SilenceErrors: true}
	root.CompletionOptions.DisableDefaultCmd = true
	root.PersistentFlags().StringVar(&socket, "socket", "/run/hakit/hanode.sock", "hanode's API socket")
	var asJSON bool
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the ring, the links per peer and quorum",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
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
	status.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	root.AddCommand(status)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(stderr, "hactl: %s\n", err)
		msg := err.Error()
		if strings.Contains(msg, "unknown") || strings.Contains(msg, "accepts") || strings.Contains(msg, "flag") {
			return 2
		}
		return 1
	}
	return 0
}
