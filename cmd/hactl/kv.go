package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hakit/hakit/node/api"
	"github.com/hakit/hakit/node/runtime"
)

// errNoMatch is a refusal that is an answer, not a failure to get one:
// no such key, a CAS that did not match.
var errNoMatch = errors.New("no match")

func kvCmd(socket *string, stdout io.Writer) *cobra.Command {
	kv := &cobra.Command{Use: "kv", Short: "The replicated key-value store (linearizable in the quorate partition)", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usageErr("kv needs a subcommand: get, set, delete, cas, list or watch")
		}}
	call := func(cmd string, args map[string]string) (api.KVAnswer, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		var a api.KVAnswer
		err := runtime.CallAPI(ctx, *socket, runtime.Request{Cmd: cmd, Args: args}, &a)
		return a, err
	}
	var local bool
	get := &cobra.Command{
		Use: "get KEY", Short: "Read a key (linearizable; --local reads this replica, possibly stale)", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			a, err := call("kv-get", map[string]string{"key": args[0], "local": fmt.Sprint(local)})
			if err != nil {
				return err
			}
			if !a.Found {
				return fmt.Errorf("%s: not found: %w", args[0], errNoMatch)
			}
			fmt.Fprintf(stdout, "%s\n", a.Value)
			return nil
		},
	}
	get.Flags().BoolVar(&local, "local", false, "read this node's replica whatever the quorum (may be stale)")
	set := &cobra.Command{
		Use: "set KEY VALUE", Short: "Write a key", Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			a, err := call("kv-set", map[string]string{"key": args[0], "value": args[1]})
			if err == nil {
				fmt.Fprintf(stdout, "OK (revision %d)\n", a.Revision)
			}
			return err
		},
	}
	del := &cobra.Command{
		Use: "delete KEY", Short: "Delete a key", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			a, err := call("kv-delete", map[string]string{"key": args[0]})
			if err != nil {
				return err
			}
			if !a.Found {
				return fmt.Errorf("%s: not found: %w", args[0], errNoMatch)
			}
			fmt.Fprintf(stdout, "deleted (revision %d)\n", a.Revision)
			return nil
		},
	}
	var absent bool
	cas := &cobra.Command{
		Use: "cas KEY EXPECTED NEW | cas --absent KEY NEW", Short: "Compare and set", Args: cobra.RangeArgs(2, 3),
		RunE: func(_ *cobra.Command, args []string) error {
			req := map[string]string{"key": args[0]}
			switch {
			case absent && len(args) == 2:
				req["absent"], req["value"] = "true", args[1]
			case !absent && len(args) == 3:
				req["expect"], req["value"] = args[1], args[2]
			default:
				return usageErr("cas takes KEY EXPECTED NEW, or --absent KEY NEW")
			}
			a, err := call("kv-cas", req)
			if err != nil {
				return err
			}
			if !a.OK {
				if !a.Found {
					return fmt.Errorf("%s: compare failed, the key does not exist: %w", args[0], errNoMatch)
				}
				return fmt.Errorf("%s: compare failed, the key holds %q: %w", args[0], a.Value, errNoMatch)
			}
			fmt.Fprintf(stdout, "OK (revision %d)\n", a.Revision)
			return nil
		},
	}
	cas.Flags().BoolVar(&absent, "absent", false, "succeed only if the key does not exist")
	list := &cobra.Command{
		Use: "list [PREFIX]", Short: "List this replica's keys under PREFIX", Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			a, err := call("kv-list", map[string]string{"prefix": firstOr(args, "")})
			for _, k := range a.Keys {
				fmt.Fprintln(stdout, k)
			}
			return err
		},
	}
	watch := &cobra.Command{
		Use: "watch [PREFIX]", Short: "Print every change under PREFIX, in the order the cluster applies them, until interrupted", Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			err := runtime.StreamAPI(ctx, *socket, runtime.Request{Cmd: "kv-watch", Args: map[string]string{"prefix": firstOr(args, "")}}, func(raw json.RawMessage) error {
				var ev api.KVEvent
				if err := json.Unmarshal(raw, &ev); err != nil {
					return err
				}
				switch {
				case ev.Key == "":
					// hanode's sign that the watch is in place.
				case ev.Deleted:
					fmt.Fprintf(stdout, "%d DELETE %s\n", ev.Revision, ev.Key)
				default:
					fmt.Fprintf(stdout, "%d PUT %s %s\n", ev.Revision, ev.Key, ev.Value)
				}
				return nil
			}, nil)
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	kv.AddCommand(get, set, del, cas, list, watch)
	return kv
}

func firstOr(args []string, def string) string {
	if len(args) > 0 {
		return args[0]
	}
	return def
}
