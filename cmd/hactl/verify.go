package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hakit/hakit/crm/cib"
	"github.com/hakit/hakit/crm/verify"
	"github.com/hakit/hakit/node/runtime"
	"github.com/hakit/hakit/transport/config"
)

func verifyCmd(socket *string, stdout io.Writer) *cobra.Command {
	var opts verifyOptions
	cmd := &cobra.Command{
		Use:   "verify [--cib FILE.xml] [--corosync-conf FILE] [--interfaces FILE]... [--bond NAME:miimon=MS,downdelay=MS]... [--strict] [--format text|json]",
		Short: "Check a CIB like crm_verify, and the setups that fail under a partition or a NIC failure",
		Long: `verify checks the CIB in FILE.xml offline, as crm_verify does, and also warns
about what crm_verify lets through: fencing disabled (or enabled with no fence
device, which is an error: nothing would start), no-quorum-policy=ignore, and a
totem token that a bond's failover can outlast, so that one NIC failure changes
the membership. The last needs the token, from --corosync-conf (Corosync 3's
defaults otherwise), and the bonds, which are the operating system's: from
Debian interfaces files (--interfaces, repeatable; bond-miimon, bond-downdelay
... in iface stanzas; source lines are not followed) or --bond (repeatable;
delays in ms, as /sys/class/net/NAME/bonding/ shows them; replaces a bond of
the same name read from a file). Every bond is taken to carry every totem link.

Each finding is one line, "error:" or "warning:", the file and line (and the
CIB element's XPath), the message and the finding's id in brackets, then a
line with a hint. --format json prints {"errors", "warnings", "findings"}.
Exit status: 1 when there is an error (or, with --strict, a warning), or an
input cannot be read; 0 otherwise, warnings included, as crm_verify.`,
		Example: `  hactl configure verify --cib cib.xml
  hactl configure verify --cib cib.xml --corosync-conf /etc/corosync/corosync.conf --interfaces /etc/network/interfaces
  hactl configure verify --cib cib.xml --bond bond0:miimon=100,downdelay=200 --strict --format json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			opts.socket = *socket
			if opts.format != "text" && opts.format != "json" {
				return usageErr(fmt.Sprintf("verify: unknown --format %q: use text or json", opts.format))
			}
			return runVerify(opts, stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.cib, "cib", "", "the CIB XML file to check (default: the running cluster's)")
	f.StringVar(&opts.corosync, "corosync-conf", "", "the cluster's corosync.conf, for the token timing")
	f.StringArrayVar(&opts.interfaces, "interfaces", nil, "a Debian /etc/network/interfaces file to read bonds from (repeatable)")
	f.StringArrayVar(&opts.bonds, "bond", nil, "a bond's timing, NAME:miimon=MS[,downdelay=MS][,updelay=MS][,mode=MODE] (repeatable)")
	f.BoolVar(&opts.strict, "strict", false, "exit 1 on warnings too")
	f.StringVar(&opts.format, "format", "text", "output format: text (like crm_verify) or json")
	return cmd
}

type verifyOptions struct {
	cib, corosync, format string
	// socket is the live cluster's hanode, asked for its CIB when no
	// --cib is given.
	socket            string
	interfaces, bonds []string
	strict            bool
}

// runVerify reads the inputs, prints the findings and turns them into
// the exit status.
func runVerify(opts verifyOptions, stdout io.Writer) error {
	// Flags first: a typo in one is a usage error, and should not wait
	// behind the files.
	var flagBonds []verify.Bond
	for _, s := range opts.bonds {
		b, err := verify.ParseBondFlag(s)
		if err != nil {
			return usageError{err}
		}
		for _, prev := range flagBonds {
			if prev.Name == b.Name {
				return usageErr(fmt.Sprintf("--bond %s is given twice", b.Name))
			}
		}
		flagBonds = append(flagBonds, b)
	}
	var data []byte
	var err error
	if opts.cib == "" {
		st, err := crmCall(opts.socket, runtime.Request{Cmd: "crm-status"}, false, 30*time.Second)
		if err != nil {
			return fmt.Errorf("%w (to check a CIB file, give --cib FILE.xml)", err)
		}
		opts.cib, data = "the cluster's CIB", []byte(st.CIB)
	} else if data, err = os.ReadFile(opts.cib); err != nil {
		return err
	}
	c, err := cib.Parse(opts.cib, data)
	if err != nil {
		return err
	}
	in := verify.Input{CIB: c}
	if opts.corosync != "" {
		src, err := os.ReadFile(opts.corosync)
		if err != nil {
			return err
		}
		if in.Corosync, err = config.Parse(opts.corosync, src); err != nil {
			return err
		}
	}
	for _, name := range opts.interfaces {
		src, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		bonds, err := verify.ParseInterfaces(name, src)
		if err != nil {
			return err
		}
		in.Bonds = append(in.Bonds, bonds...)
	}
	in.Bonds = overrideBonds(in.Bonds, flagBonds)

	findings := verify.Verify(in)
	errs, warns := 0, 0
	for _, f := range findings {
		if f.Severity == cib.SevError {
			errs++
		} else {
			warns++
		}
	}
	if opts.format == "json" {
		b, err := json.MarshalIndent(verifyJSONOf(findings, errs, warns), "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
	} else {
		for _, f := range findings {
			fmt.Fprintln(stdout, f.String())
			if f.Hint != "" {
				fmt.Fprintf(stdout, "  hint: %s\n", f.Hint)
			}
		}
	}
	switch {
	case errs > 0:
		return fmt.Errorf("%s: %d error(s), %d warning(s): the configuration is not valid", opts.cib, errs, warns)
	case opts.strict && warns > 0:
		return fmt.Errorf("%s: %d warning(s), and --strict", opts.cib, warns)
	}
	return nil
}

// overrideBonds lets a --bond flag replace every bond of its name read
// from the files (one per host's file), where the first of them stood:
// the flag is what the admin read off the running system.
func overrideBonds(fromFiles, flags []verify.Bond) []verify.Bond {
	byName := map[string]int{}
	for i, b := range flags {
		byName[b.Name] = i
	}
	var out []verify.Bond
	placed := map[string]bool{}
	for _, b := range fromFiles {
		i, ok := byName[b.Name]
		if !ok {
			out = append(out, b)
			continue
		}
		if !placed[b.Name] {
			out = append(out, flags[i])
			placed[b.Name] = true
		}
	}
	for _, b := range flags {
		if !placed[b.Name] {
			out = append(out, b)
			placed[b.Name] = true
		}
	}
	return out
}

// verifyJSON is what verify --format json prints.
type verifyJSON struct {
	Errors   int           `json:"errors"`
	Warnings int           `json:"warnings"`
	Findings []findingJSON `json:"findings"`
}

type findingJSON struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Path     string `json:"path,omitempty"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
}

func verifyJSONOf(findings []verify.Finding, errs, warns int) verifyJSON {
	out := verifyJSON{Errors: errs, Warnings: warns, Findings: []findingJSON{}}
	for _, f := range findings {
		out.Findings = append(out.Findings, findingJSON{
			ID: f.ID, Severity: f.Severity.String(), File: f.File, Line: f.Line, Path: f.Path, Message: f.Msg, Hint: f.Hint,
		})
	}
	return out
}
