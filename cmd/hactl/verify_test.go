package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const (
	referenceCIB   = "testdata/simulate/a-both-up.xml"
	token1000Conf  = "testdata/verify/corosync-token1000.conf"
	defaultConf    = "testdata/verify/corosync.conf"
	referenceIface = "testdata/verify/interfaces"
)

func runVerifyArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"configure", "verify"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

var findingID = regexp.MustCompile(`(?m)^(?:warning|error): .* \[([a-z-]+)\]$`)

func ids(out string) []string {
	var got []string
	for _, m := range findingID.FindAllStringSubmatch(out, -1) {
		got = append(got, m[1])
	}
	return got
}

// The reference setup (DESIGN.md §1) with the token Corosync had before
// 3.1: all three of its known pains, as warnings, so exit 0 unless
// --strict.
func TestVerifyReferenceSetup(t *testing.T) {
	code, out, errOut := runVerifyArgs(t, "--cib", referenceCIB, "--corosync-conf", token1000Conf, "--interfaces", referenceIface)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := []string{"fencing-disabled", "no-quorum-policy-ignore",
		"bond-failover-token", "bond-failover-knet-link", // bond0
		"bond-failover-token", "bond-failover-knet-link"} // bond1
	if got := ids(out); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("findings %q, want %q:\n%s", got, want, out)
	}
	for _, s := range []string{
		"warning: " + referenceCIB + ":5: /cib/configuration/crm_config/cluster_property_set[@id='cib-bootstrap-options']/nvpair[@id='cib-bootstrap-options-stonith-enabled']: fencing is disabled (stonith-enabled=false)",
		"warning: " + referenceCIB + ":6: ",
		"warning: " + token1000Conf + ":8: bond bond0 (" + referenceIface + ":9) fails over in up to 300 ms",
		"  hint: raise token to at least 1200 ms in corosync.conf's totem section, or lower bond-downdelay (" + referenceIface + ":14)",
		"warning: " + token1000Conf + ":8: bond bond1 (" + referenceIface + ":19)",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	// Every finding is one line and its hint the next.
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2*len(want) {
		t.Fatalf("%d lines for %d findings:\n%s", len(lines), len(want), out)
	}
	for i := 1; i < len(lines); i += 2 {
		if !strings.HasPrefix(lines[i], "  hint: ") {
			t.Errorf("line %d is not a hint: %q", i+1, lines[i])
		}
	}

	code, _, errOut = runVerifyArgs(t, "--cib", referenceCIB, "--corosync-conf", token1000Conf, "--interfaces", referenceIface, "--strict")
	if code != 1 || !strings.Contains(errOut, "6 warning(s), and --strict") {
		t.Errorf("--strict: exit %d, stderr %q; want 1 and the count", code, errOut)
	}
}

func TestVerifyBondTiming(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // the bond findings' ids
	}{
		{"Corosync 3's default token rides out the reference bonds", []string{"--corosync-conf", defaultConf, "--interfaces", referenceIface}, ""},
		{"no corosync.conf: the same defaults", []string{"--interfaces", referenceIface}, ""},
		{"token 1000 against a bond without downdelay", []string{"--corosync-conf", token1000Conf, "--bond", "bond0:miimon=100,downdelay=0"}, ""},
		{"token 1000 against the reference bond", []string{"--corosync-conf", token1000Conf, "--bond", "bond0:miimon=100,downdelay=200"}, "bond-failover-token bond-failover-knet-link"},
		// --bond replaces the file's bond0 (on every host's file), and
		// bond1 is still read from the file.
		{"a flag overrides the file", []string{"--corosync-conf", token1000Conf, "--interfaces", referenceIface, "--interfaces", referenceIface, "--bond", "bond0:miimon=100,downdelay=0"},
			"bond-failover-token bond-failover-knet-link bond-failover-token bond-failover-knet-link"},
		{"a long downdelay against the default token", []string{"--bond", "bond0:miimon=100,downdelay=5000"}, "bond-failover-token bond-failover-knet-link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runVerifyArgs(t, append([]string{"--cib", referenceCIB}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var bonds []string
			for _, id := range ids(out) {
				if strings.HasPrefix(id, "bond-") {
					bonds = append(bonds, id)
				}
			}
			if got := strings.Join(bonds, " "); got != tc.want {
				t.Errorf("bond findings %q, want %q:\n%s", got, tc.want, out)
			}
			if strings.Contains(tc.name, "overrides") && (strings.Contains(out, "bond bond0 ("+referenceIface) || !strings.Contains(out, "bond bond1 ("+referenceIface)) {
				t.Errorf("bond0 should come from the flag, bond1 from the file:\n%s", out)
			}
		})
	}
}

func TestVerifyJSON(t *testing.T) {
	code, out, _ := runVerifyArgs(t, "--cib", referenceCIB, "--bond", "bond0:miimon=100,downdelay=5000", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got struct {
		Errors, Warnings int
		Findings         []struct {
			ID, Severity, File, Path, Message, Hint string
			Line                                    int
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if got.Errors != 0 || got.Warnings != 4 || len(got.Findings) != 4 {
		t.Fatalf("counts %d/%d, %d findings:\n%s", got.Errors, got.Warnings, len(got.Findings), out)
	}
	f := got.Findings[0]
	if f.ID != "fencing-disabled" || f.Severity != "warning" || f.File != referenceCIB || f.Line != 5 || !strings.HasPrefix(f.Path, "/cib/configuration/crm_config/") || f.Hint == "" {
		t.Errorf("first finding %+v", f)
	}
	if b := got.Findings[2]; b.ID != "bond-failover-token" || b.File != "" || b.Line != 0 || !strings.Contains(b.Message, "--bond bond0:miimon=100,downdelay=5000") {
		t.Errorf("bond finding %+v", b)
	}

	// No findings: an empty list, not null.
	dir := t.TempDir()
	safe := filepath.Join(dir, "safe.xml")
	data, err := os.ReadFile(referenceCIB)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, []byte(`<primitive id="vip"`), []byte(`<primitive id="fence" class="stonith" type="fence_ipmilan"/>
      <primitive id="vip"`), 1)
	data = bytes.Replace(data, []byte(`name="stonith-enabled" value="false"`), []byte(`name="stonith-enabled" value="true"`), 1)
	data = bytes.Replace(data, []byte(`name="no-quorum-policy" value="ignore"`), []byte(`name="no-quorum-policy" value="stop"`), 1)
	if err := os.WriteFile(safe, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runVerifyArgs(t, "--cib", safe, "--format", "json", "--strict")
	if code != 0 || !strings.Contains(out, `"findings": []`) {
		t.Errorf("a safe CIB: exit %d:\n%s", code, out)
	}
	code, out, errOut := runVerifyArgs(t, "--cib", safe)
	if code != 0 || out != "" || errOut != "" {
		t.Errorf("a safe CIB in text: exit %d, stdout %q, stderr %q; want silence, as crm_verify", code, out, errOut)
	}
}

func TestVerifyErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	data, err := os.ReadFile(referenceCIB)
	if err != nil {
		t.Fatal(err)
	}
	// Fencing on (the default) with no device: crm_verify's error.
	noDevice := write("nodevice.xml", strings.Replace(string(data), `<nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>`, "", 1))
	badIface := write("interfaces", "auto bond0\niface bond0 inet static\n  bond-miimon 100\n  bond-downdelay soon\n")

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no fence device", []string{"--cib", noDevice}, 1, "error: " + noDevice + ": /cib/configuration/resources: fencing is enabled (the default)", "1 error(s), 1 warning(s): the configuration is not valid"},
		{"interfaces error names file and line", []string{"--cib", referenceCIB, "--interfaces", badIface}, 1, "", badIface + `:4: bond-downdelay "soon" is not a whole number of milliseconds`},
		{"corosync.conf error names file and line", []string{"--cib", referenceCIB, "--corosync-conf", write("c.conf", "totem {\n\ttoken: x\n}\n")}, 1, "", "c.conf:2:"},
		{"missing CIB", []string{"--cib", filepath.Join(dir, "nope.xml")}, 1, "", "nope.xml"},
		{"no --cib and no cluster", []string{"--socket", filepath.Join(dir, "none.sock")}, 1, "", "give --cib FILE.xml"},
		{"bad format", []string{"--cib", referenceCIB, "--format", "xml"}, 2, "", `unknown --format "xml"`},
		{"bad --bond", []string{"--cib", referenceCIB, "--bond", "bond0:downdelay=200"}, 2, "", "give miimon=MS"},
		{"--bond twice", []string{"--cib", referenceCIB, "--bond", "bond0:miimon=100", "--bond", "bond0:miimon=50"}, 2, "", "--bond bond0 is given twice"},
		{"arguments", []string{"--cib", referenceCIB, "extra"}, 2, "", "unknown command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runVerifyArgs(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q", code, out, errOut, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
}

// verify is reached with configure's --cib before it too (crm shell has
// no verify command for configure to take instead).
func TestVerifyAfterConfigureFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"configure", "--cib", referenceCIB, "verify"}, &out, &errOut)
	if code != 0 || strings.Join(ids(out.String()), " ") != "fencing-disabled no-quorum-policy-ignore" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}
