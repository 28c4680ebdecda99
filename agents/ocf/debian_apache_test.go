package ocf

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hakit/hakit/agents"
)

// Where Debian's apache2 package puts its server and modules.
const (
	debianApache2        = "/usr/sbin/apache2"
	debianApache2Modules = "/usr/lib/apache2/modules"
)

// TestDebianApacheLifecycle runs resource-agents' apache through the runner
// on an Apache httpd of its own: a generated configuration on a loopback
// port, everything it writes in a temporary directory.
//
// What the Debian script needs, all through parameters:
//   - httpd: its default, /usr/sbin/httpd, is RHEL's; the script would
//     search for apache2 itself, but naming it is what a Debian cluster does.
//   - envfiles: it sources /etc/apache2/envvars by default, which belongs
//     to the host's own apache2; ours sets a variable the configuration
//     uses, so a start that did not source it fails.
//   - statusurl and testregex: the monitor fetches the URL and greps it
//     for testregex, by default "</ *html *>", which a 404 page matches
//     too; "Apache Server Status" only matches what mod_status serves.
//
// The configuration's PidFile is absolute, so the script uses it as is
// (it only forces its own with -c PidFile when there is none).
func TestDebianApacheLifecycle(t *testing.T) {
	apache := requireInstalled(t, "heartbeat", "apache")
	if !isExecutableFile(debianApache2) {
		t.Skipf("%s is not installed: install the Debian package apache2 to run this test", debianApache2)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: apache2 starts as root and switches its workers to nobody")
	}

	dir := t.TempDir()
	// The workers run as nobody and look up the document root.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freeLoopbackPort(t)
	envvars := filepath.Join(dir, "envvars")
	writeFile(t, envvars, fmt.Sprintf("export HAKIT_TEST_DIR=%s\n", dir))
	conf := filepath.Join(dir, "apache2.conf")
	writeFile(t, conf, fmt.Sprintf(`ServerRoot %[1]s
ServerName localhost
LoadModule mpm_event_module %[2]s/mod_mpm_event.so
LoadModule authz_core_module %[2]s/mod_authz_core.so
LoadModule authz_host_module %[2]s/mod_authz_host.so
LoadModule status_module %[2]s/mod_status.so
User nobody
Group nogroup
Listen 127.0.0.1:%[3]d
PidFile %[1]s/apache2.pid
DefaultRuntimeDir %[1]s
Mutex file:%[1]s default
ErrorLog ${HAKIT_TEST_DIR}/error.log
LogLevel info
DocumentRoot %[1]s
StartServers 1
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Location /server-status>
    SetHandler server-status
    Require ip 127.0.0.1
</Location>
`, dir, debianApache2Modules, port))
	t.Cleanup(func() {
		// Whatever happened, no apache2 of this test outlives it.
		for _, pid := range processesOf(debianApache2, conf) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(dir, "error.log")); err == nil {
				t.Logf("error.log:\n%s", log)
			}
		}
	})

	// Room for the start of a failing start's output, not only its
	// "waiting for apache to come up" loop.
	h := newHarness(t, Config{Root: DefaultRoot, MaxOutput: 1 << 16})
	params := map[string]string{
		"configfile": conf,
		"httpd":      debianApache2,
		"envfiles":   envvars,
		"statusurl":  fmt.Sprintf("http://127.0.0.1:%d/server-status", port),
		"testregex":  "Apache Server Status",
	}
	steps := []struct {
		action   string
		interval time.Duration // 0 for a probe, which the script answers without waiting for a pid file
		want     agents.RC
		running  bool
	}{
		{"validate-all", 0, agents.RCOK, false},
		{"monitor", 0, agents.RCNotRunning, false},
		{"start", 0, agents.RCOK, true},
		{"monitor", 10 * time.Second, agents.RCOK, true},
		{"stop", 0, agents.RCOK, false},
		{"monitor", 0, agents.RCNotRunning, false},
	}
	for i, step := range steps {
		o := op(apache, "web", step.action)
		o.Call = int64(i)
		o.Interval = step.interval
		// The script's start waits for the status page for as long as its
		// timeout lets it: below the harness's patience, a server that
		// never comes up ends in a timed-out result with the output.
		o.Timeout = time.Minute
		o.Params = params
		res := h.run(o)
		if res.Status != agents.StatusDone || res.RC != step.want {
			t.Fatalf("step %d, %s: got %v rc %d (%s), want rc %d; output:\n%s",
				i, step.action, res.Status, res.RC, res.ExitReason, step.want, res.Output)
		}
		left := processesOf(debianApache2, conf)
		if step.running && len(left) == 0 {
			t.Fatalf("step %d, %s: no apache2 running with %s; output:\n%s", i, step.action, conf, res.Output)
		}
		if !step.running && len(left) != 0 {
			t.Fatalf("step %d, %s: apache2 processes %v still running; output:\n%s", i, step.action, left, res.Output)
		}
	}
}

// freeLoopbackPort finds a TCP port nothing listens on, for a server to
// take just after: good enough for one test at a time on a port of its own.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback TCP: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// processesOf lists the live processes running binary with configfile on
// their command line, as the script's own pgrep -f "$HTTPD.*$CONFIGFILE"
// finds its server's.
func processesOf(binary, configfile string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmdline := string(bytes.ReplaceAll(bytes.TrimRight(data, "\x00"), []byte{0}, []byte{' '}))
		i := strings.Index(cmdline, binary)
		if i >= 0 && strings.Contains(cmdline[i+len(binary):], configfile) && !processGone(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}
