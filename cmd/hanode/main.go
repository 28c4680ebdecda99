// Command hanode is the hakit node daemon.
//
//	hanode keygen [--out /etc/corosync/authkey] [--force]
//	hanode run --config /etc/corosync/corosync.conf [--node NAME|ID] [--authkey FILE]
//	           [--state-dir /var/lib/hakit] [--socket /run/hakit/hanode.sock]
//	           [--ocf-root /usr/lib/ocf]
//
// run joins the cluster described by a corosync.conf (Corosync 3 syntax and
// defaults) over real UDP links, with the real clock, runs the resource
// manager (the CIB in the state directory, agents under the OCF root or
// built in) and serves the local API hactl talks to. Exit status: 0 after a clean stop (SIGTERM, SIGINT),
// 1 on a runtime failure, 2 on bad usage or a bad configuration.
package main

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hakit/hakit/agents/builtin"
	"github.com/hakit/hakit/agents/ocf"
	"github.com/hakit/hakit/node"
	"github.com/hakit/hakit/node/env"
	"github.com/hakit/hakit/node/runtime"
	"github.com/hakit/hakit/transport/config"
	"github.com/hakit/hakit/transport/udp"
	"github.com/hakit/hakit/transport/wire"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// usageError marks errors that exit with status 2.
type usageError struct{ error }

func run(args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{Use: "hanode", Short: "The hakit node daemon", SilenceUsage: true, SilenceErrors: true}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(keygenCmd(stdout), runCmd(stderr))
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "hanode: %s\n", err)
	var ue usageError
	if errors.As(err, &ue) || strings.Contains(err.Error(), "unknown flag") || strings.Contains(err.Error(), "unknown command") {
		return 2
	}
	return 1
}

func keygenCmd(out io.Writer) *cobra.Command {
	var path string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Write a new cluster authkey (mode 0400), like corosync-keygen",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if _, err := os.Stat(path); err == nil && !force {
				return usageError{fmt.Errorf("%s exists; use --force to replace it (every node needs the same key)", path)}
			}
			key, err := wire.GenerateKey(crand.Reader)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			tmp := path + ".new"
			if err := os.WriteFile(tmp, key, 0o400); err != nil {
				return err
			}
			if err := os.Rename(tmp, path); err != nil {
				return err
			}
			fmt.Fprintf(out, "wrote a %d-byte authkey to %s (mode 0400); copy it to every node\n", len(key), path)
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "out", "/etc/corosync/authkey", "where to write the key")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing key")
	return cmd
}

func runCmd(stderr io.Writer) *cobra.Command {
	var confPath, nodeName, keyPath, stateDir, socket, ocfRoot string
	var debug bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Join the cluster described by a corosync.conf",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if debug {
				level = slog.LevelDebug
			}
			log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return serve(ctx, log, confPath, nodeName, keyPath, stateDir, socket, ocfRoot)
		},
	}
	cmd.Flags().StringVar(&confPath, "config", "/etc/corosync/corosync.conf", "corosync.conf to run from")
	cmd.Flags().StringVar(&nodeName, "node", "", "this node's name or nodeid (default: the node whose ring0_addr is a local address)")
	cmd.Flags().StringVar(&keyPath, "authkey", "", "authkey file (default: totem.keyfile, /etc/corosync/authkey)")
	cmd.Flags().StringVar(&stateDir, "state-dir", "/var/lib/hakit", "where the node keeps its state")
	cmd.Flags().StringVar(&socket, "socket", "/run/hakit/hanode.sock", "unix socket of the local API (mode 0600)")
	cmd.Flags().StringVar(&ocfRoot, "ocf-root", ocf.DefaultRoot, "OCF_ROOT: resource agents are resource.d/PROVIDER/TYPE under it (built-ins run for those missing)")
	cmd.Flags().BoolVar(&debug, "debug", false, "log at debug level")
	return cmd
}

func serve(ctx context.Context, log *slog.Logger, confPath, nodeName, keyPath, stateDir, socket, ocfRoot string) error {
	src, err := os.ReadFile(confPath)
	if err != nil {
		return usageError{err}
	}
	conf, err := config.Parse(confPath, src)
	if err != nil {
		return usageError{err}
	}
	for _, w := range conf.Warnings {
		log.Warn("configuration: " + w)
	}
	// A token shorter than a bond's failover makes every failover a
	// membership change; say so before it happens.
	if bonds, err := config.ReadBondTimings(os.DirFS("/sys/class/net")); err != nil {
		log.Warn("cannot read the bonds' timing", "err", err)
	} else {
		for _, w := range config.CheckBondTiming(conf, bonds) {
			log.Warn("configuration: " + w)
		}
	}
	self, err := whoAmI(conf, nodeName)
	if err != nil {
		return usageError{err}
	}
	if keyPath == "" {
		keyPath = conf.Totem.KeyFile
	}
	key, err := os.ReadFile(keyPath)
	if err != nil {
		return usageError{fmt.Errorf("authkey: %w (create one with hanode keygen)", err)}
	}
	mcfg, err := node.FromConfig(conf, key)
	if err != nil {
		return usageError{err}
	}
	disk, err := runtime.NewDirDisk(stateDir)
	if err != nil {
		return err
	}
	listen, peers, err := addresses(conf, self)
	if err != nil {
		return usageError{err}
	}
	loop := runtime.NewLoop()
	clock := runtime.NewClock(loop)
	tr, err := udp.Open(udp.Config{Self: self, Listen: listen, Peers: peers, Loop: loop, Clock: clock, Log: log})
	if err != nil {
		return err
	}
	defer tr.Close()
	e := runtime.NewEnv(self, loop, tr, disk, log)
	e.Clock = clock

	runner := ocf.New(ocf.Config{Loop: loop, Root: ocfRoot, Log: log,
		Builtins: builtin.New(builtin.Options{StateDir: filepath.Join(stateDir, "rsctmp"), RunDir: filepath.Join(stateDir, "run")})})
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = runner.Shutdown(shutdownCtx)
	}()

	var member *node.Member
	var crm *node.CRM
	bench := newBench(e)
	startErr := make(chan error, 1)
	loop.Post(func() {
		m, err := node.StartMember(e, mcfg, bench.observer())
		member, bench.m = m, m
		if err == nil {
			crm, err = node.StartCRM(e, m, node.CRMConfig{Names: node.NodeNames(conf), Executor: runner})
		}
		startErr <- err
	})
	runErr := make(chan error, 1)
	loopCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { runErr <- loop.Run(loopCtx) }()
	if err := <-startErr; err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(socket), 0o755); err != nil {
		return err
	}
	api, err := runtime.ServeAPI(socket, loop, func(c *runtime.Call) {
		if !bench.handle(c) && !handleCRM(crm, runner, c) {
			handle(member, c)
		}
	})
	if err != nil {
		return err
	}
	defer api.Close()
	log.Info("hanode running", "node", self, "config", confPath, "socket", socket)
	<-ctx.Done()
	log.Info("hanode stopping")
	cancel()
	<-runErr
	return nil
}

// whoAmI finds this node in the nodelist: by --node (name or id), else the
// node one of whose ring addresses is configured on this machine.
func whoAmI(c *config.Config, flag string) (env.NodeID, error) {
	if flag != "" {
		if n, ok := c.NodeByName(flag); ok {
			return env.NodeID(n.ID), nil
		}
		if id, err := strconv.ParseUint(flag, 10, 32); err == nil {
			if n, ok := c.NodeByID(uint32(id)); ok {
				return env.NodeID(n.ID), nil
			}
		}
		return 0, fmt.Errorf("--node %s is not in the nodelist", flag)
	}
	local := map[netip.Addr]bool{}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				local[p.Addr().Unmap()] = true
			}
		}
	}
	for _, n := range c.Nodes {
		for _, a := range n.Addrs {
			if ip, err := resolve(a); err == nil && local[ip] {
				return env.NodeID(n.ID), nil
			}
		}
	}
	return 0, errors.New("no nodelist address is configured on this machine; say which node this is with --node")
}

func resolve(host string) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap(), nil
	}
	ips, err := net.LookupIP(host)
	if err != nil || len(ips) == 0 {
		return netip.Addr{}, fmt.Errorf("cannot resolve %s: %v", host, err)
	}
	ip, _ := netip.AddrFromSlice(ips[0])
	return ip.Unmap(), nil
}

// addresses maps the nodelist to sockets: this node listens on its
// ringN_addr for link N, at the link's port (mcastport, default 5405+N).
func addresses(c *config.Config, self env.NodeID) (map[env.LinkID]netip.AddrPort, []udp.Peer, error) {
	listen := map[env.LinkID]netip.AddrPort{}
	var peers []udp.Peer
	for _, n := range c.Nodes {
		p := udp.Peer{Node: env.NodeID(n.ID), Addrs: map[env.LinkID]netip.AddrPort{}}
		for _, l := range c.Links() {
			ip, err := resolve(n.Addrs[l])
			if err != nil {
				return nil, nil, fmt.Errorf("node %s ring%d_addr: %w", n.Name, l, err)
			}
			port := c.Interface(l).MCastPort
			if port == 0 {
				port = 5405 + l
			}
			ap := netip.AddrPortFrom(ip, uint16(port))
			if env.NodeID(n.ID) == self {
				listen[env.LinkID(l)] = ap
			} else {
				p.Addrs[env.LinkID(l)] = ap
			}
		}
		if env.NodeID(n.ID) != self {
			peers = append(peers, p)
		}
	}
	return listen, peers, nil
}
