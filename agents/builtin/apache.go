package builtin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hakit/hakit/agents"
)

// Defaults of the apache agent's parameters.
const (
	apacheDefaultHTTPD    = "/usr/sbin/apache2"
	apacheDefaultConfig   = "/etc/apache2/apache2.conf"
	apacheDefaultEnvfiles = "/etc/apache2/envvars"
	apacheDefaultRegex    = `</ *html *>`
)

// apacheHTTPDList is where the agent looks for httpd when the httpd
// parameter does not name an executable, as the script does.
var apacheHTTPDList = []string{"/usr/sbin/apache2", "/sbin/httpd2", "/usr/sbin/httpd2", "/sbin/httpd", "/usr/sbin/httpd", "/usr/sbin/apache"}

// Apache is ocf:heartbeat:apache: an Apache httpd started with its own
// configuration file and watched through its status URL.
//
// Parameters: configfile (default /etc/apache2/apache2.conf), httpd
// (default /usr/sbin/apache2; when it is not executable the usual places
// are searched, as the script does), port, statusurl, testregex (default
// `</ *html *>`, matched case-insensitively), options (extra httpd
// arguments, split on white space), envfiles (default
// /etc/apache2/envvars; "" reads none), pidfile, and for OCF_CHECK_LEVEL
// 10 testurl and testregex10.
//
// Environment: the envfiles are sourced by /bin/sh, as the script sources
// them, and the resulting environment is httpd's; this is what Debian's
// default configuration needs (APACHE_RUN_USER, APACHE_PID_FILE, ...).
// For a configuration under /etc/apache2*/apache2.conf, start first runs
// `apache2ctl configtest` with APACHE_CONFDIR set, as the script does on
// Debian: it creates the run and lock directories, and a failing test
// makes the start fail with ERR_CONFIGURED.
//
// Derived values: the pid file is the pidfile parameter, else the
// configuration's PidFile (${VAR} expanded; relative to
// DefaultRuntimeDir or ServerRoot), else <RunDir>/apache2-<resource>.pid;
// in the first and last case httpd is started with -c "PidFile ...". The
// status URL is statusurl, else the first Listen (or localhost:port,
// port defaulting to 80) followed by the <Location> whose handler is
// server-status: http://localhost:80/server-status for Debian's default
// configuration.
//
// Actions: start runs `httpd -DSTATUS [options] -f configfile [-c PidFile
// ...] -k start` and waits until the status URL answers (it fails early if
// httpd exits). monitor: no live process in the pid file is 7; a live one
// whose status URL answers 2xx with a body matching testregex is 0, and 1
// otherwise (without statusurl and test parameters any HTTP answer from
// the server's root also counts, as in the script). stop sends SIGWINCH
// (graceful-stop) and waits up to half the operation's timeout, then
// SIGTERM, then signals leftover processes whose command line names httpd
// and configfile (TERM, HUP, KILL, as the script's signal_children), and
// SIGKILLs the master when the operation's deadline is near.
//
// Deviations: HTTP requests are made by the agent (bound to 127.0.0.1, or
// ::1 for an IPv6 URL or use_ipv6, no proxy, redirects followed) instead
// of wget or curl, so the client parameter is ignored; start keeps waiting
// for the status URL while httpd runs, where the script gives up on the
// first failing answer; a stale pid file is removed after a stop; a stop
// finds nothing to do when the configuration cannot be read, as the
// script's invalid-environment rule says; a2enmod status is not run; not
// supported: testconffile, testname.
type Apache struct {
	opts Options
}

func apacheMeta(runDir string) metaData {
	return metaData{
		name: "apache", version: "1.0",
		shortDesc: "Manages an Apache web server instance (hakit built-in)",
		longDesc: "Starts, stops and monitors an Apache httpd with the given configuration file. " +
			"The monitor fetches the server-status page (mod_status) or statusurl and checks it against testregex.",
		params: []metaParam{
			{name: "configfile", typ: "string", unique: true, def: apacheDefaultConfig, hasDef: true,
				shortDesc: "Configuration file path", longDesc: "The full path of the Apache configuration file."},
			p("httpd", "string", apacheDefaultHTTPD, "httpd binary path", "The full path of the httpd binary."),
			np("port", "integer", "httpd port",
				"Port the server listens on, used to build the status URL when the configuration has no Listen directive. Default 80."),
			np("statusurl", "string", "url name",
				"URL to monitor. Default: the Location with the server-status handler on the first Listen address, e.g. http://localhost:80/server-status."),
			p("testregex", "string", apacheDefaultRegex, "monitor regular expression",
				"Regular expression the status page must match (case-insensitive)."),
			np("testurl", "string", "test url", "URL to test at OCF_CHECK_LEVEL 10; relative URLs are taken from the Listen address."),
			np("testregex10", "string", "extended monitor regular expression", "Regular expression testurl must match at OCF_CHECK_LEVEL 10."),
			np("options", "string", "command line options", "Extra options for httpd, split on white space."),
			p("envfiles", "string", apacheDefaultEnvfiles, "environment settings files",
				"Files sourced by /bin/sh for httpd's environment, separated by white space. Set to the empty string to read none."),
			{name: "pidfile", typ: "string", def: runDir + "/apache2-${OCF_RESOURCE_INSTANCE}.pid",
				shortDesc: "pid file", longDesc: "The pid file of httpd. Default: the configuration's PidFile, else this default, passed to httpd with -c."},
			p("use_ipv6", "boolean", "false", "use ipv6 with the http client", "Connect to the status URL from ::1 instead of 127.0.0.1."),
		},
		actions: []metaAction{
			{name: "start", timeout: "40s"},
			{name: "stop", timeout: "60s"},
			{name: "status", timeout: "30s"},
			{name: "monitor", timeout: "20s", interval: "10s", depth: "0"},
			{name: "meta-data", timeout: "5s"},
			{name: "validate-all", timeout: "5s"},
		},
	}
}

// MetaData implements ocf.Builtin.
func (a *Apache) MetaData() string { return apacheMeta(a.opts.withDefaults().RunDir).render() }

// apacheInstance is everything an action needs, derived from the
// parameters, the environment files and the configuration.
type apacheInstance struct {
	httpd, configfile string
	env               []string
	options           []string
	pidfile           string
	pidDirective      bool // pass -c "PidFile ..."
	pidDefault        bool // pidfile is in our RunDir
	baseURL           string
	statusURL         string
	regex             *regexp.Regexp
	testURL           string
	regex10           string
	userMonitor       bool // statusurl or a test parameter was given
	ipv6              bool
}

// setup derives the instance. Its error's RC is what validate-all answers.
func (a *Apache) setup(ctx context.Context, op agents.Op, r *result) (*apacheInstance, agents.RC, error) {
	in := &apacheInstance{configfile: param(op, "configfile", apacheDefaultConfig)}

	// httpd: the parameter when executable, else the usual places.
	want := param(op, "httpd", apacheDefaultHTTPD)
	if isExecutable(want) {
		in.httpd = want
	} else {
		for _, h := range apacheHTTPDList {
			if isExecutable(h) {
				in.httpd = h
				r.logf("INFO: %s is not executable; using %s as httpd", want, h)
				break
			}
		}
	}
	if in.httpd == "" {
		return nil, agents.RCErrInstalled, fmt.Errorf("apache httpd program not found (%s)", want)
	}
	if st, err := os.Stat(in.configfile); err != nil || !st.Mode().IsRegular() {
		return nil, agents.RCErrInstalled, fmt.Errorf("Configuration file %s not found!", in.configfile)
	}

	envfiles := apacheDefaultEnvfiles
	if v, ok := op.Params["envfiles"]; ok {
		envfiles = v
	}
	env, err := sourceEnvfiles(ctx, strings.Fields(envfiles))
	if err != nil {
		return nil, agents.RCErrGeneric, err
	}
	in.env = env
	envMap := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			envMap[k] = v
		}
	}
	conf, err := readApacheConf(in.configfile, envMap)
	if err != nil {
		return nil, agents.RCErrInstalled, fmt.Errorf("reading %s: %v", in.configfile, err)
	}
	in.options = strings.Fields(op.Params["options"])

	// The pid file.
	in.pidfile = param(op, "pidfile", "")
	in.pidDirective = in.pidfile != ""
	cfPid := conf.PidFile
	if strings.Contains(cfPid, "${") {
		cfPid = "" // an undefined variable: httpd would not start with it either
	}
	switch {
	case in.pidfile != "":
	case filepath.IsAbs(cfPid):
		in.pidfile = cfPid
	case cfPid != "":
		base := conf.RuntimeDir
		if base == "" {
			base = conf.ServerRoot
		}
		in.pidfile = filepath.Join(base, cfPid)
	default:
		name := filepath.Base(in.httpd)
		name, _, _ = strings.Cut(name, "-")
		in.pidfile = filepath.Join(a.opts.withDefaults().RunDir, name+"-"+op.Resource+".pid")
		in.pidDirective, in.pidDefault = true, true
	}

	// The URLs.
	listen := conf.Listen
	if listen != "" && !strings.Contains(listen, ":") {
		listen = "localhost:" + listen
	}
	if listen != "" {
		in.baseURL = "http://" + listen
	} else {
		port := "80"
		for _, p := range []string{param(op, "port", ""), conf.Port} {
			if n, err := strconv.Atoi(p); err == nil && n > 0 {
				port = p
				break
			}
		}
		in.baseURL = "http://localhost:" + port
	}
	in.statusURL = param(op, "statusurl", "")
	if in.statusURL == "" {
		in.statusURL = in.baseURL + conf.StatusLocation
	}
	for _, k := range []string{"statusurl", "testregex", "testregex10", "testurl", "testconffile"} {
		if param(op, k, "") != "" {
			in.userMonitor = true
		}
	}
	if in.regex, err = regexp.Compile("(?i)" + param(op, "testregex", apacheDefaultRegex)); err != nil {
		return nil, agents.RCErrConfigured, fmt.Errorf("invalid testregex: %v", err)
	}
	if raw, ok := op.Params["testurl"]; ok && raw != "" && strings.TrimSpace(raw) == "" {
		return nil, agents.RCErrConfigured, fmt.Errorf("testurl: %q seems to be an empty string?", raw)
	}
	in.testURL = param(op, "testurl", "")
	in.regex10 = param(op, "testregex10", "")
	in.ipv6 = isTrue(op.Params["use_ipv6"]) || strings.Contains(in.statusURL, "::")
	return in, agents.RCOK, nil
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// sourceEnvfiles returns this process's environment after /bin/sh has
// sourced the readable files among files, as the script's
// source_envfiles does.
func sourceEnvfiles(ctx context.Context, files []string) ([]string, error) {
	if len(files) == 0 {
		return os.Environ(), nil
	}
	const script = `for f do if [ -f "$f" ] && [ -r "$f" ]; then . "$f" || exit 1; fi; done; exec /usr/bin/env -0`
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", script, "sh"}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("sourcing %s: %v: %s", strings.Join(files, " "), err, strings.TrimSpace(stderr.String()))
	}
	var env []string
	for _, kv := range bytes.Split(out, []byte{0}) {
		if len(kv) > 0 && bytes.IndexByte(kv, '=') > 0 {
			env = append(env, string(kv))
		}
	}
	return env, nil
}

// Run implements ocf.Builtin.
func (a *Apache) Run(ctx context.Context, op agents.Op) agents.Result {
	var r result
	switch op.Action {
	case "meta-data":
		return metaDataResult(a.MetaData())
	case "start", "stop", "monitor", "status", "validate-all":
	default:
		return unimplemented(op)
	}
	in, rc, err := a.setup(ctx, op, &r)
	if err != nil {
		if op.Action == "validate-all" {
			return r.fail(rc, "%v", err)
		}
		return r.invalidEnv(op, rc, "%v", err)
	}
	if in.pidDefault {
		if err := ensureDir(filepath.Dir(in.pidfile)); err != nil {
			return r.invalidEnv(op, agents.RCErrInstalled, "cannot create %s: %v", filepath.Dir(in.pidfile), err)
		}
	}
	switch op.Action {
	case "validate-all":
		return r.done(agents.RCOK)
	case "start":
		return a.start(ctx, op, in, &r)
	case "stop":
		return a.stop(ctx, op, in, &r)
	}
	rc, why := a.monitor(ctx, op, in, &r)
	switch rc {
	case agents.RCOK:
		return r.done(rc)
	case agents.RCNotRunning:
		return r.notRunning(op, "%s", why)
	}
	return r.fail(rc, "%s", why)
}

// running reads the pid file and reports whether its process lives.
func (in *apacheInstance) running() (int, bool) {
	pid, err := readPidFile(in.pidfile)
	if err != nil {
		return 0, false
	}
	return pid, processAlive(pid)
}

func readPidFile(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s: bad pid %q", path, strings.TrimSpace(string(data)))
	}
	return pid, nil
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...; comm may contain spaces and parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return false
	}
	state := data[i+2]
	return state != 'Z' && state != 'X'
}

// monitor answers 0, 7 or 1 with a reason.
func (a *Apache) monitor(ctx context.Context, op agents.Op, in *apacheInstance, r *result) (agents.RC, string) {
	// A graceful restart rewrites the pid file: a recurring monitor gives
	// it a few seconds to reappear, as the script does.
	if op.Action == "monitor" && !isProbe(op) {
		for range 5 {
			if _, err := os.Stat(in.pidfile); !errors.Is(err, fs.ErrNotExist) {
				break
			}
			if sleepCtx(ctx, time.Second) != nil {
				break
			}
		}
	}
	pid, ok := in.running()
	if !ok {
		return agents.RCNotRunning, "apache is not running (pid file " + in.pidfile + ")"
	}
	if op.CheckLevel >= 10 && (in.testURL != "" || in.regex10 != "") {
		if in.testURL == "" || in.regex10 == "" {
			return agents.RCErrConfigured, "test regular expression or test url empty"
		}
		re, err := regexp.Compile("(?i)" + in.regex10)
		if err != nil {
			return agents.RCErrConfigured, fmt.Sprintf("invalid testregex10: %v", err)
		}
		u := in.testURL
		if !strings.HasPrefix(u, "http") {
			u = in.baseURL + u
		}
		if err := in.fetch(ctx, u, re); err != nil {
			return agents.RCErrGeneric, fmt.Sprintf("Failed to access %s: %v", u, err)
		}
		return agents.RCOK, ""
	}
	err := in.fetch(ctx, in.statusURL, in.regex)
	if err == nil {
		return agents.RCOK, ""
	}
	if !in.userMonitor {
		if herr := in.head(ctx, in.baseURL); herr == nil {
			r.logf("INFO: status page failed (%s: %v), but the server answers at %s", in.statusURL, err, in.baseURL)
			return agents.RCOK, ""
		}
	}
	return agents.RCErrGeneric, fmt.Sprintf("Failed to access httpd status page %s (pid %d): %v", in.statusURL, pid, err)
}

// client is an HTTP client for the local server: connections come from
// the loopback address, proxies are never used, redirects are followed.
func (in *apacheInstance) client() *http.Client {
	network, local := "tcp4", net.IPv4(127, 0, 0, 1)
	if in.ipv6 {
		network, local = "tcp6", net.IPv6loopback
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: local}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
}

func (in *apacheInstance) requestCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, 20*time.Second)
}

// fetch GETs url and checks for a 2xx answer whose body matches re.
func (in *apacheInstance) fetch(ctx context.Context, url string, re *regexp.Regexp) error {
	ctx, cancel := in.requestCtx(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	c := in.client()
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP status %s", resp.Status)
	}
	if !re.Match(body) {
		return fmt.Errorf("the page does not match %q", strings.TrimPrefix(re.String(), "(?i)"))
	}
	return nil
}

// head checks that the server answers HTTP at url at all.
func (in *apacheInstance) head(ctx context.Context, url string) error {
	ctx, cancel := in.requestCtx(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return err
	}
	c := in.client()
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// debianDefault reports whether configfile is one of Debian's
// /etc/apache2*/apache2.conf, whose envvars and run directories
// apache2ctl prepares.
func debianDefault(configfile string) bool {
	dir := filepath.Dir(configfile)
	return filepath.Base(configfile) == "apache2.conf" && filepath.Dir(dir) == "/etc" &&
		strings.HasPrefix(filepath.Base(dir), "apache2")
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// margin is how long before the operation's deadline the agent stops
// waiting, to answer before the runner declares a timeout.
func margin(ctx context.Context) (time.Time, bool) {
	rem, ok := remaining(ctx)
	if !ok {
		return time.Time{}, false
	}
	return time.Now().Add(rem - min(rem/10, 2*time.Second)), true
}

func (a *Apache) start(ctx context.Context, op agents.Op, in *apacheInstance, r *result) agents.Result {
	if pid, ok := in.running(); ok {
		r.logf("INFO: apache already running (pid %d)", pid)
		return r.done(agents.RCOK)
	}
	if debianDefault(in.configfile) && isExecutable("/usr/sbin/apache2ctl") {
		cmd := exec.CommandContext(ctx, "/usr/sbin/apache2ctl", "configtest")
		cmd.Env = append(append([]string{}, in.env...), "APACHE_CONFDIR="+filepath.Dir(in.configfile))
		cmd.WaitDelay = time.Second
		out, err := cmd.CombinedOutput()
		if err != nil {
			r.logf("%s", out)
			return r.fail(agents.RCErrConfigured, "apache2ctl configtest failed: %v: %s", err, lastLine(string(out)))
		}
	}

	args := append([]string{"-DSTATUS"}, in.options...)
	args = append(args, "-f", in.configfile)
	if in.pidDirective {
		args = append(args, "-c", "PidFile "+in.pidfile)
	}
	args = append(args, "-k", "start")
	cmd := exec.CommandContext(ctx, in.httpd, args...)
	cmd.Env = in.env
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// httpd daemonizes; its daemon must not keep the start waiting.
	cmd.WaitDelay = 2 * time.Second
	r.logf("INFO: running %s %s", in.httpd, strings.Join(args, " "))
	err := cmd.Run()
	if out.Len() > 0 {
		r.logf("%s", strings.TrimRight(out.String(), "\n"))
	}
	if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		return r.fail(agents.RCErrGeneric, "%s failed: %v: %s", in.httpd, err, lastLine(out.String()))
	}

	giveUp, hasDeadline := margin(ctx)
	seen := false
	var why string
	for polls := 0; ; polls++ {
		var rc agents.RC
		probe := op
		probe.Action, probe.Interval, probe.CheckLevel = "monitor", 0, 0
		rc, why = a.monitor(ctx, probe, in, r)
		switch {
		case rc == agents.RCOK:
			pid, _ := in.running()
			r.logf("INFO: apache started (pid %d)", pid)
			return r.done(agents.RCOK)
		case rc == agents.RCNotRunning && seen:
			return r.fail(agents.RCErrGeneric, "httpd exited during start; see its error log")
		case rc == agents.RCNotRunning && polls >= 6 && len(findProcesses(in.httpd, in.configfile)) == 0:
			return r.fail(agents.RCErrGeneric, "httpd is not running after start; see its error log")
		case rc != agents.RCNotRunning:
			seen = true
		}
		if hasDeadline && time.Now().After(giveUp) {
			return r.fail(agents.RCErrGeneric, "apache did not come up in time: %s", why)
		}
		if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
			return r.fail(agents.RCErrGeneric, "apache did not come up in time: %s", why)
		}
	}
}

// findProcesses lists the processes whose command line names httpd and,
// after it, configfile: what the script's `pgrep -f "$HTTPD.*$CONFIGFILE"`
// finds.
func findProcesses(httpd, configfile string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || len(data) == 0 {
			continue
		}
		cmdline := string(bytes.ReplaceAll(bytes.TrimRight(data, "\x00"), []byte{0}, []byte{' '}))
		i := strings.Index(cmdline, httpd)
		if i >= 0 && strings.Contains(cmdline[i+len(httpd):], configfile) && processAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitGone polls until pid is gone, until is reached or ctx ends.
func waitGone(ctx context.Context, pid int, until time.Time) bool {
	for {
		if !processAlive(pid) {
			return true
		}
		if !time.Now().Before(until) || sleepCtx(ctx, 100*time.Millisecond) != nil {
			return !processAlive(pid)
		}
	}
}

// signalChildren signals the leftover processes of this instance: TERM,
// then HUP, then KILL, a second apart while any remain, as the script's
// signal_children does. It ends early when ctx does.
func signalChildren(ctx context.Context, in *apacheInstance, r *result) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGKILL} {
		pids := findProcesses(in.httpd, in.configfile)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, sig)
		}
		r.logf("INFO: signal %s sent to apache processes %v", sig, pids)
		if sleepCtx(ctx, time.Second) != nil && sig != syscall.SIGKILL {
			for _, pid := range findProcesses(in.httpd, in.configfile) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			return
		}
	}
}

func (a *Apache) stop(ctx context.Context, op agents.Op, in *apacheInstance, r *result) agents.Result {
	pid, ok := in.running()
	if !ok {
		r.logf("INFO: apache is not running")
		signalChildren(ctx, in, r)
		in.removeStalePid()
		return r.done(agents.RCOK)
	}
	now := time.Now()
	killAt, hasDeadline := margin(ctx)
	if !hasDeadline {
		killAt = now.Add(30 * time.Second)
	}
	// Graceful stop for half the timeout, then SIGTERM.
	grace := killAt.Sub(now) / 2
	if op.Timeout > 0 {
		grace = min(grace, op.Timeout/2)
	}
	r.logf("INFO: graceful stop of apache pid %d", pid)
	_ = syscall.Kill(pid, syscall.SIGWINCH)
	gone := waitGone(ctx, pid, now.Add(grace))
	if !gone {
		r.logf("INFO: killing apache pid %d", pid)
		_ = syscall.Kill(pid, syscall.SIGTERM)
		until := time.Now().Add(10 * time.Second)
		if killAt.Before(until) {
			until = killAt
		}
		waitGone(ctx, pid, until)
	}
	// Leftover children (all of them after a crashed master), and the
	// master itself if it still runs: TERM, HUP, KILL.
	signalChildren(ctx, in, r)
	if processAlive(pid) {
		waitGone(ctx, pid, killAt)
	}
	if processAlive(pid) {
		r.logf("INFO: apache pid %d still running; SIGKILL", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
		waitGone(context.WithoutCancel(ctx), pid, time.Now().Add(time.Second))
	}
	if processAlive(pid) {
		return r.fail(agents.RCErrGeneric, "apache still running (%d). Killing pid failed.", pid)
	}
	in.removeStalePid()
	r.logf("INFO: apache stopped")
	return r.done(agents.RCOK)
}

// removeStalePid removes a pid file whose process is gone.
func (in *apacheInstance) removeStalePid() {
	if pid, err := readPidFile(in.pidfile); err == nil && !processAlive(pid) {
		_ = os.Remove(in.pidfile)
	}
}
