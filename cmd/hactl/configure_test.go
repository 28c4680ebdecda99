package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hakit/hakit/crm/cib"
	"github.com/hakit/hakit/crm/crmsh"
)

const referenceCRM = "testdata/simulate/reference.crm"

// configured builds the reference CIB in a fresh directory with hactl
// configure and returns its path.
func configured(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "cib.xml")
	var out, errOut bytes.Buffer
	if code := run([]string{"configure", "--cib", f, "-f", referenceCRM}, &out, &errOut); code != 0 {
		t.Fatalf("configure: exit %d: %s", code, errOut.String())
	}
	return f
}

func readCIB(t *testing.T, f string) (*cib.CIB, []byte) {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cib.Parse(f, data)
	if err != nil {
		t.Fatal(err)
	}
	return c, data
}

func TestConfigureBuildsAndEdits(t *testing.T) {
	// From nothing: the file is created, silently on stdout, with the
	// same configuration the crm shell package builds, and the unsafe
	// setup is pointed out.
	f := filepath.Join(t.TempDir(), "cib.xml")
	var out, errOut bytes.Buffer
	if code := run([]string{"configure", "--cib", f, "-f", referenceCRM}, &out, &errOut); code != 0 || out.Len() != 0 {
		t.Fatalf("configure: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	if !strings.Contains(errOut.String(), "fencing is disabled") {
		t.Errorf("no warning about the reference setup's split brain: %q", errOut.String())
	}
	c, _ := readCIB(t, f)
	src, err := os.ReadFile(referenceCRM)
	if err != nil {
		t.Fatal(err)
	}
	want, err := crmsh.ApplyText(crmsh.Empty(), string(src))
	if err != nil {
		t.Fatal(err)
	}
	gotSum, _ := c.Digest()
	wantSum, _ := want.Digest()
	if gotSum != wantSum || c.Epoch != 1 || c.NumUpdates != 0 {
		t.Errorf("built CIB: digest %s epoch %d num_updates %d; want digest %s epoch 1 num_updates 0", gotSum, c.Epoch, c.NumUpdates, wantSum)
	}

	// An edit raises the epoch, resets num_updates and keeps the mode.
	c.NumUpdates = 7
	data, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	if code := run([]string{"configure", "--cib", f, "location ban-vip vip -inf: vm-node2", "property maintenance-mode=false"}, &out, &errOut); code != 0 || out.Len() != 0 {
		t.Fatalf("edit: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	c, data = readCIB(t, f)
	if c.Epoch != 2 || c.NumUpdates != 0 {
		t.Errorf("after an edit: epoch %d num_updates %d; want 2 and 0", c.Epoch, c.NumUpdates)
	}
	if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after the edit: %v (%v); want 0600 kept", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(f)); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}

	// show prints, and writes nothing.
	out.Reset()
	if code := run([]string{"configure", "--cib", f, "show"}, &out, &errOut); code != 0 {
		t.Fatalf("show: exit %d: %s", code, errOut.String())
	}
	if out.String() != strings.TrimSuffix(crmsh.Show(c), "\n")+"\n" || !strings.Contains(out.String(), "location ban-vip vip -inf: vm-node2") {
		t.Errorf("show printed:\n%s", out.String())
	}
	if after, _ := os.ReadFile(f); !bytes.Equal(after, data) {
		t.Errorf("show rewrote the file")
	}
	out.Reset()
	if code := run([]string{"configure", "--cib", f, "show vip"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "primitive vip ") || strings.Contains(out.String(), "httpd") {
		t.Errorf("show vip: exit %d, printed:\n%s", code, out.String())
	}

	// Re-applying what is already there changes nothing, not even the
	// epoch: the file is not rewritten.
	if code := run([]string{"configure", "--cib", f, "property maintenance-mode=false"}, &out, &errOut); code != 0 {
		t.Fatalf("no-op: exit %d: %s", code, errOut.String())
	}
	if after, _ := os.ReadFile(f); !bytes.Equal(after, data) {
		t.Errorf("an edit that changes nothing rewrote the file")
	}
}

func TestConfigureBadInput(t *testing.T) {
	for _, c := range []struct {
		name string
		// crm is written to bad.crm and given with -f; args are given as
		// they are when crm is "".
		crm  string
		args []string
		want []string
	}{
		{name: "unparsable line", crm: "primitive d1 ocf:pacemaker:Dummy\n# a comment\nlocation l2 vip 100 vm-node2\n",
			want: []string{"bad.crm:3:17:", `"100"`, "':'"}},
		{name: "unknown resource", crm: "primitive d1 ocf:pacemaker:Dummy\ncolocation c1 inf: d1 nosuch\n",
			want: []string{"bad.crm:2:23:", `"nosuch"`}},
		{name: "cyclic mandatory order", crm: "order vip-after-httpd Mandatory: httpd vip\n",
			want: []string{"bad.crm:", "cycle", "httpd-after-vip", "vip-after-httpd", "cib.xml:"}},
		{name: "bad argument", args: []string{"primitive d2 ocf:pacemaker:Dummy", "location l3 d2 foo: vm-node1"},
			want: []string{"line 2, column 16:", `"foo:"`}},
		{name: "unterminated quote", args: []string{`primitive d2 ocf:pacemaker:Dummy params "a=b`},
			want: []string{"line 1, column 41:", `"\"a=b"`}},
		{name: "existing id", args: []string{"primitive httpd ocf:pacemaker:Dummy"},
			want: []string{"line 1, column 11:", "httpd"}},
		{name: "show of an unknown id after an edit", args: []string{"primitive d3 ocf:pacemaker:Dummy", "show nosuch"},
			want: []string{"line 2, column 6:", `"nosuch"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := configured(t)
			before, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			args := append([]string{"configure", "--cib", f}, c.args...)
			if c.crm != "" {
				crm := filepath.Join(t.TempDir(), "bad.crm")
				if err := os.WriteFile(crm, []byte(c.crm), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-f", crm)
			}
			var out, errOut bytes.Buffer
			if code := run(args, &out, &errOut); code != 1 {
				t.Errorf("exit %d; want 1 (stderr %q)", code, errOut.String())
			}
			for _, w := range c.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr does not name %q:\n%s", w, errOut.String())
				}
			}
			if after, _ := os.ReadFile(f); !bytes.Equal(after, before) {
				t.Errorf("the CIB file changed although the batch was refused")
			}
			if entries, _ := os.ReadDir(filepath.Dir(f)); len(entries) != 1 {
				t.Errorf("files left behind: %v", entries)
			}
		})
	}
}

func TestConfigureBadCIB(t *testing.T) {
	f := filepath.Join(t.TempDir(), "cib.xml")
	bad := []byte("<cib validate-with=\"pacemaker-3.9\" epoch=\"1\">\n  <configuration>\n    <resources>\n  </configuration>\n</cib>\n")
	if err := os.WriteFile(f, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"configure", "--cib", f, "primitive d1 ocf:pacemaker:Dummy"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), f+":4") {
		t.Errorf("exit %d, stderr %q; want 1 and %s:4", code, errOut.String(), f)
	}
	if after, _ := os.ReadFile(f); !bytes.Equal(after, bad) {
		t.Errorf("a malformed CIB file was rewritten")
	}
}

func TestConfigureUsage(t *testing.T) {
	f := filepath.Join(t.TempDir(), "cib.xml")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"configure"}, "-f"},
		{[]string{"configure", "--cib", f}, "-f"},
		{[]string{"configure", "--cib", f, "-f", referenceCRM, "show"}, "not both"},
		{[]string{"configure", "--cib", f, "--format", "json", "show"}, "unknown flag"},
	} {
		var out, errOut bytes.Buffer
		if code := run(c.args, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", c.args, code, errOut.String(), c.want)
		}
	}
	if _, err := os.Stat(f); err == nil {
		t.Errorf("bad usage created %s", f)
	}
}
