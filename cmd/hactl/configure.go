package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hakit/hakit/crm/cib"
	"github.com/hakit/hakit/crm/crmsh"
	"github.com/hakit/hakit/node/runtime"
)

func configureCmd(socket *string, stdout, stderr io.Writer) *cobra.Command {
	var cibFile, crmFile string
	var wait bool
	cmd := &cobra.Command{
		Use:   "configure [--cib FILE.xml] [-w] [-f FILE.crm | COMMAND...]",
		Short: "Change the live cluster's configuration, or a CIB file offline, with crm shell configure commands",
		Long: `Without --cib, configure applies the commands to the running cluster through
the local hanode: the batch is applied to the cluster's CIB and proposed as a
whole, every member applies all of it or nothing, and an error (named as
below) leaves the cluster's configuration as it was; -w waits until the
cluster has carried the change out.

With --cib, configure applies crm shell configure commands (primitive, group, clone,
location, colocation, order, property, rsc_defaults, delete, erase, show) to
the CIB in FILE.xml, without a cluster. Commands come from -f FILE.crm or from
the arguments, one command per argument. The whole batch is validated before
anything is written: on any error the file is left exactly as it was. When the
configuration changes, the epoch rises (num_updates back to 0), as Pacemaker
counts, and the file is replaced atomically. A missing FILE.xml is created
from an empty configuration, so a CIB can be built from a .crm file alone.
"show [ID...]" prints the configuration after the batch as crm shell text.`,
		Example: `  hactl configure --cib cib.xml -f reference.crm
  hactl configure --cib cib.xml 'location ban-vip vip -inf: vm-node2'
  hactl configure --cib cib.xml show
  hactl configure --cib cib.xml 'show vip'`,
		Args: cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			if crmFile == "" && len(args) == 0 {
				return usageErr("configure needs commands: -f FILE.crm, or one command per argument")
			}
			if crmFile != "" && len(args) > 0 {
				return usageErr("configure takes -f FILE.crm or commands as arguments, not both")
			}
			src, srcName := strings.Join(args, "\n"), ""
			if crmFile != "" {
				b, err := os.ReadFile(crmFile)
				if err != nil {
					return err
				}
				src, srcName = string(b), crmFile
			}
			if cibFile == "" {
				return configureLive(*socket, src, wait, stdout)
			}
			return configure(cibFile, src, srcName, stdout, stderr)
		},
	}
	cmd.Flags().StringVar(&cibFile, "cib", "", "the CIB XML file to edit (created when missing)")
	cmd.Flags().StringVarP(&crmFile, "file", "f", "", "read the commands from this crm shell file")
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "live cluster: wait until the cluster settles after the change")
	cmd.AddCommand(verifyCmd(socket, stdout))
	return cmd
}

// configure applies src (named srcName in errors, "" for arguments) to the
// CIB in cibFile and writes the result back only if it validates.
func configure(cibFile, src, srcName string, stdout, stderr io.Writer) error {
	cmds, err := crmsh.Parse(src)
	if err != nil {
		return crmError(srcName, err)
	}
	data, err := os.ReadFile(cibFile)
	missing := errors.Is(err, fs.ErrNotExist)
	var c *cib.CIB
	switch {
	case missing:
		c = crmsh.Empty()
	case err != nil:
		return err
	default:
		if c, err = cib.Parse(cibFile, data); err != nil {
			return err
		}
	}
	next, err := crmsh.Apply(c, cmds)
	if err != nil {
		return crmError(srcName, err)
	}
	// Apply ignores show, so every show prints the batch's result (what
	// the file will hold). The texts are made before anything is written
	// so that a show naming an unknown id fails the batch like any error.
	var shows []string
	edits := false
	for _, cmd := range cmds {
		s, ok := cmd.(*crmsh.ShowCmd)
		if !ok {
			edits = true
			continue
		}
		if len(s.IDs) == 0 {
			shows = append(shows, crmsh.Show(next))
			continue
		}
		// One id at a time, so that an unknown one is named with its
		// place in the input.
		var text strings.Builder
		for _, r := range s.IDs {
			t, err := crmsh.ShowIDs(next, r.ID)
			if err != nil {
				return crmError(srcName, &crmsh.Error{Line: r.Pos.Line, Col: r.Pos.Col, Token: r.ID, Msg: err.Error()})
			}
			text.WriteString(t)
		}
		shows = append(shows, text.String())
	}
	// Apply raises the epoch only when the digest moved, so an unchanged
	// configuration leaves the file (and its mtime) alone; a missing file
	// is still created when the admin asked for edits, even ones that
	// leave the empty configuration as it was (an erase).
	if next.Epoch != c.Epoch || (missing && edits) {
		out, err := next.Marshal()
		if err != nil {
			return fmt.Errorf("%s: %w", cibFile, err)
		}
		if err := writeFileAtomic(cibFile, out, 0o644); err != nil {
			return err
		}
		// Apply refuses errors but accepts warnings; the admin who just
		// wrote an unsafe setup (DESIGN.md §1: no fencing, quorum
		// ignored) should hear about it now, not at the first partition.
		for _, p := range next.Validate() {
			fmt.Fprintf(stderr, "hactl: %s\n", p)
		}
	}
	for _, text := range shows {
		printLines(stdout, text)
	}
	return nil
}

// printLines prints text ending with exactly one line end, so the shell
// prompt never lands after the last command.
func printLines(w io.Writer, text string) {
	if text != "" {
		fmt.Fprintln(w, strings.TrimSuffix(text, "\n"))
	}
}

// crmError puts the crm file's name in front of a crm shell error, in the
// file:line:column form editors jump to, and names the token when the
// message does not already quote it.
func crmError(srcName string, err error) error {
	var ce *crmsh.Error
	if !errors.As(err, &ce) {
		if srcName != "" {
			return fmt.Errorf("%s: %w", srcName, err)
		}
		return err
	}
	msg := ce.Msg
	if ce.Token != "" && !strings.Contains(msg, ce.Token) {
		msg += fmt.Sprintf(" (at %q)", ce.Token)
	}
	if srcName == "" {
		return fmt.Errorf("line %d, column %d: %s", ce.Line, ce.Col, msg)
	}
	return fmt.Errorf("%s:%d:%d: %s", srcName, ce.Line, ce.Col, msg)
}

// writeFileAtomic replaces name so that a crash leaves either the old file
// or the new one, never a torn CIB. An existing file's mode is kept; perm
// is for a new one.
func writeFileAtomic(name string, data []byte, perm fs.FileMode) error {
	// Replace what a symlink points to, not the link itself.
	if target, err := filepath.EvalSymlinks(name); err == nil {
		name = target
	}
	if fi, err := os.Stat(name); err == nil {
		perm = fi.Mode().Perm()
	}
	return runtime.WriteFileAtomic(name, data, perm)
}
