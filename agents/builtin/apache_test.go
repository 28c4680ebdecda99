package builtin

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hakit/hakit/agents"
)

func TestReadApacheConf(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("mods/status.conf", "<IfModule mod_status.c>\n  <Location /server-status>\n    SetHandler server-status\n  </Location>\n</IfModule>\n")
	write("mods/other.conf", "<Location \"/other\">\n  SetHandler default-handler\n</Location>\n")
	write("ports.conf", "Listen ${PORT}\n<IfModule ssl_module>\n  Listen 443\n</IfModule>\n")
	write("conf.d/a.conf", "PidFile run/a.pid\n")
	write("conf.d/b.conf", "PidFile run/b.pid\n")

	tests := []struct {
		name string
		text string
		env  map[string]string
		want apacheConf
	}{
		{"debian-like",
			"# PidFile /commented\nPidFile ${APACHE_PID_FILE}\nInclude mods/*.conf\nInclude ports.conf\nIncludeOptional nothing/*.conf\n",
			map[string]string{"APACHE_PID_FILE": "/run/apache2/apache2.pid", "PORT": "8080"},
			apacheConf{ServerRoot: dir, PidFile: "/run/apache2/apache2.pid", Listen: "8080", StatusLocation: "/server-status"}},
		{"server root, directory include, first PidFile wins",
			"ServerRoot " + dir + "\nInclude conf.d\nListen 127.0.0.1:81\nPort 8081\n",
			nil,
			apacheConf{ServerRoot: dir, PidFile: "run/a.pid", Listen: "127.0.0.1:81", Port: "8081"}},
		{"continuation lines and runtime dir",
			"DefaultRuntimeDir run\nListen \\\n  [::1]:82\n<Location /status>\nSetHandler server-status\n</Location>\n",
			nil,
			apacheConf{ServerRoot: dir, RuntimeDir: filepath.Join(dir, "run"), Listen: "[::1]:82", StatusLocation: "/status"}},
		{"undefined variable stays", "PidFile ${NOPE}\n", nil, apacheConf{ServerRoot: dir, PidFile: "${NOPE}"}},
		{"self include is bounded", "Include main-self.conf\nListen 1234\n", nil, apacheConf{ServerRoot: dir, Listen: "1234"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := "main.conf"
			if strings.Contains(tc.text, "main-self") {
				name = "main-self.conf"
			}
			got, err := readApacheConf(write(name, tc.text), tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestApacheValidate(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "httpd.conf")
	if err := os.WriteFile(conf, []byte("Listen 127.0.0.1:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fakeHTTPD := filepath.Join(dir, "httpd")
	if err := os.WriteFile(fakeHTTPD, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	a := &Apache{opts: Options{RunDir: dir}}
	base := func(extra map[string]string) map[string]string {
		m := map[string]string{"configfile": conf, "httpd": fakeHTTPD, "envfiles": ""}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name     string
		action   string
		interval time.Duration
		params   map[string]string
		rc       agents.RC
	}{
		{"ok", "validate-all", 0, base(nil), agents.RCOK},
		{"config missing", "validate-all", 0, base(map[string]string{"configfile": filepath.Join(dir, "nope.conf")}), agents.RCErrInstalled},
		{"config missing: start", "start", 0, base(map[string]string{"configfile": filepath.Join(dir, "nope.conf")}), agents.RCErrInstalled},
		{"config missing: probe", "monitor", 0, base(map[string]string{"configfile": filepath.Join(dir, "nope.conf")}), agents.RCNotRunning},
		{"config missing: recurring monitor", "monitor", 10 * time.Second, base(map[string]string{"configfile": filepath.Join(dir, "nope.conf")}), agents.RCErrGeneric},
		{"config missing: stop", "stop", 0, base(map[string]string{"configfile": filepath.Join(dir, "nope.conf")}), agents.RCOK},
		{"bad testregex", "validate-all", 0, base(map[string]string{"testregex": "("}), agents.RCErrConfigured},
		{"blank testurl", "validate-all", 0, base(map[string]string{"testurl": "  "}), agents.RCErrConfigured},
		{"envfile that fails", "validate-all", 0, base(map[string]string{"envfiles": writeFile(t, dir, "bad.env", "exit 3\n")}), agents.RCErrGeneric},
		{"not running: probe", "monitor", 0, base(nil), agents.RCNotRunning},
		{"not running: stop", "stop", 0, base(nil), agents.RCOK},
	}
	if !isExecutable(apacheDefaultHTTPD) {
		tests = append(tests, struct {
			name     string
			action   string
			interval time.Duration
			params   map[string]string
			rc       agents.RC
		}{"httpd missing", "validate-all", 0, base(map[string]string{"httpd": filepath.Join(dir, "no-httpd")}), agents.RCErrInstalled})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runOpWith(t, a, agents.Op{Agent: ApacheAgent, Action: tc.action, Interval: tc.interval, Params: tc.params})
			wantRC(t, tc.action, res, tc.rc)
		})
	}
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestApacheSetupDerivesPidAndURL checks the derived pid file and status
// URL, with the envfiles sourced by the shell.
func TestApacheSetupDerivesPidAndURL(t *testing.T) {
	dir := t.TempDir()
	fakeHTTPD := writeFile(t, dir, "apache2-custom", "#!/bin/sh\nexit 0\n")
	os.Chmod(fakeHTTPD, 0o755)
	env := writeFile(t, dir, "envvars", "unset HAKIT_UNSET_ME\nSUFFIX=-x\nexport HAKIT_RUN=/run/web$SUFFIX\nexport HAKIT_LISTEN=127.0.0.1:8081\n")
	statusConf := writeFile(t, dir, "status.conf", "<Location /st>\nSetHandler server-status\n</Location>\n")
	tests := []struct {
		name      string
		conf      string
		params    map[string]string
		pid       string
		directive bool
		status    string
	}{
		{"defaults", "Include status.conf\n", nil, filepath.Join(dir, "rundir", "apache2-web.pid"), true, "http://localhost:80/st"},
		{"config pid and listen from env", "PidFile ${HAKIT_RUN}/httpd.pid\nListen ${HAKIT_LISTEN}\nInclude " + statusConf + "\n",
			map[string]string{"envfiles": env}, "/run/web-x/httpd.pid", false, "http://127.0.0.1:8081/st"},
		{"relative pid, port param", "PidFile logs/httpd.pid\n", map[string]string{"port": "8082"},
			filepath.Join(dir, "logs/httpd.pid"), false, "http://localhost:8082"},
		{"listen port only", "Listen 8083\n", map[string]string{"statusurl": "http://127.0.0.1:8083/s?auto"},
			filepath.Join(dir, "rundir", "apache2-web.pid"), true, "http://127.0.0.1:8083/s?auto"},
		{"pidfile param", "PidFile /x/y.pid\n", map[string]string{"pidfile": "/p/q.pid"}, "/p/q.pid", true, "http://localhost:80"},
	}
	t.Setenv("HAKIT_UNSET_ME", "1")
	a := &Apache{opts: Options{RunDir: filepath.Join(dir, "rundir")}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			params := map[string]string{"configfile": writeFile(t, dir, "httpd.conf", tc.conf), "httpd": fakeHTTPD, "envfiles": ""}
			for k, v := range tc.params {
				params[k] = v
			}
			var r result
			in, rc, err := a.setup(t.Context(), agents.Op{Agent: ApacheAgent, Resource: "web", Action: "start", Params: params}, &r)
			if err != nil {
				t.Fatalf("setup: rc %v: %v", rc, err)
			}
			if in.pidfile != tc.pid || in.pidDirective != tc.directive || in.statusURL != tc.status {
				t.Errorf("pid %s (-c %v), status %s; want %s (-c %v), %s", in.pidfile, in.pidDirective, in.statusURL, tc.pid, tc.directive, tc.status)
			}
			if params["envfiles"] != "" {
				envs := strings.Join(in.env, "\n")
				if strings.Contains(envs, "HAKIT_UNSET_ME=") || !strings.Contains(envs, "HAKIT_RUN=/run/web-x") || strings.Contains(envs, "SUFFIX=") {
					t.Errorf("environment after sourcing %s is wrong:\n%s", env, envs)
				}
			}
		})
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// apacheModules is where Debian's apache2 package installs its modules.
const apacheModules = "/usr/lib/apache2/modules"

// TestApacheLifecycle runs a real Apache httpd on a loopback port with a
// configuration of its own: start, monitor, a crash of the master, stop.
func TestApacheLifecycle(t *testing.T) {
	if !isExecutable(apacheDefaultHTTPD) {
		t.Skip("needs " + apacheDefaultHTTPD + ": apt-get install apache2")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: httpd switches to nobody")
	}
	dir := t.TempDir()
	// httpd's children run as nobody and must reach the document root.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	envfile := writeFile(t, dir, "envvars", fmt.Sprintf("export HAKIT_TEST_LISTEN=127.0.0.1:%d\n", port))
	conf := writeFile(t, dir, "httpd.conf", fmt.Sprintf(`ServerRoot %[1]s
ServerName localhost
LoadModule mpm_event_module %[2]s/mod_mpm_event.so
LoadModule authz_core_module %[2]s/mod_authz_core.so
LoadModule status_module %[2]s/mod_status.so
User nobody
Group nogroup
Listen ${HAKIT_TEST_LISTEN}
DefaultRuntimeDir %[1]s
Mutex file:%[1]s default
ErrorLog %[1]s/error.log
LogLevel info
DocumentRoot %[1]s
StartServers 1
<Directory />
    AllowOverride None
</Directory>
<Location /server-status>
    SetHandler server-status
    Require all granted
</Location>
`, dir, apacheModules))
	pidfile := filepath.Join(dir, "httpd.pid")
	params := map[string]string{"configfile": conf, "envfiles": envfile, "pidfile": pidfile}
	a := &Apache{opts: Options{RunDir: dir}}
	t.Cleanup(func() {
		// Whatever happened, leave no httpd of this test behind.
		for _, pid := range findProcesses(apacheDefaultHTTPD, conf) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(dir, "error.log")); err == nil {
				t.Logf("error.log:\n%s", log)
			}
		}
	})
	op := func(action string, interval time.Duration) agents.Result {
		return runOpWith(t, a, agents.Op{Agent: ApacheAgent, Resource: "web", Action: action, Interval: interval, Params: params})
	}

	wantRC(t, "validate-all", op("validate-all", 0), agents.RCOK)
	wantRC(t, "probe", op("monitor", 0), agents.RCNotRunning)
	wantRC(t, "stop before start", op("stop", 0), agents.RCOK)
	res := op("start", 0)
	wantRC(t, "start", res, agents.RCOK)
	if !strings.Contains(res.Output, fmt.Sprintf("-c PidFile %s", pidfile)) {
		t.Errorf("start did not pass the pid file:\n%s", res.Output)
	}
	master, err := readPidFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	wantRC(t, "start again", op("start", 0), agents.RCOK)
	if again, _ := readPidFile(pidfile); again != master {
		t.Fatalf("second start replaced the master %d with %d", master, again)
	}
	res = op("monitor", 10*time.Second)
	wantRC(t, "monitor", res, agents.RCOK)
	if strings.Contains(res.Output, "status page failed") {
		t.Fatalf("the derived status URL does not work:\n%s", res.Output)
	}

	// A status URL that fails while the process runs is a failure, not a
	// stop.
	params["statusurl"] = fmt.Sprintf("http://127.0.0.1:%d/no-such-page", port)
	wantRC(t, "monitor with a failing URL", op("monitor", 10*time.Second), agents.RCErrGeneric)
	params["statusurl"] = fmt.Sprintf("http://localhost:%d/server-status", port)
	params["testregex"] = "Apache Server Status"
	wantRC(t, "monitor with testregex", op("monitor", 10*time.Second), agents.RCOK)
	params["testregex"] = "no such text anywhere"
	wantRC(t, "monitor with a testregex that does not match", op("monitor", 10*time.Second), agents.RCErrGeneric)
	delete(params, "testregex")
	delete(params, "statusurl")

	// The master crashes: its children are orphans, the monitor fails.
	if err := syscall.Kill(master, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); processAlive(master) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	res = op("monitor", 0)
	if res.RC == agents.RCOK {
		t.Fatalf("monitor after kill -9 of the master: rc 0\n%s", res.Output)
	}
	wantRC(t, "stop after the crash", op("stop", 0), agents.RCOK)
	if left := findProcesses(apacheDefaultHTTPD, conf); len(left) != 0 {
		t.Fatalf("stop left httpd processes %v", left)
	}
	wantRC(t, "monitor after stop", op("monitor", 0), agents.RCNotRunning)

	// A clean start and stop.
	wantRC(t, "start", op("start", 0), agents.RCOK)
	wantRC(t, "monitor", op("monitor", 10*time.Second), agents.RCOK)
	wantRC(t, "stop", op("stop", 0), agents.RCOK)
	if left := findProcesses(apacheDefaultHTTPD, conf); len(left) != 0 {
		t.Fatalf("stop left httpd processes %v", left)
	}
	wantRC(t, "monitor after stop", op("monitor", 0), agents.RCNotRunning)
	wantRC(t, "stop again", op("stop", 0), agents.RCOK)
}
