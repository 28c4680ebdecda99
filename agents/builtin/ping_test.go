package builtin

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hakit/hakit/agents"
)

// The unreachable address: inside a fresh namespace it has no route, so
// nothing is sent at all.
const unreachable = "10.255.255.1"

func TestPingScores(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		want   string
		needV6 bool
		silent bool // add a link whose subnet has 10.88.0.2, which never answers
	}{
		{"one host", map[string]string{"host_list": "127.0.0.1", "multiplier": "1000"}, "1000", false, false},
		{"default multiplier", map[string]string{"host_list": "127.0.0.1"}, "1", false, false},
		{"two hosts", map[string]string{"host_list": "127.0.0.1 127.0.0.2", "multiplier": "100"}, "200", false, false},
		{"unreachable", map[string]string{"host_list": unreachable, "multiplier": "1000", "timeout": "1"}, "0", false, false},
		{"one of two", map[string]string{"host_list": "127.0.0.1 " + unreachable, "multiplier": "5", "attempts": "2"}, "5", false, false},
		{"custom name", map[string]string{"host_list": "127.0.0.1", "name": "uplink"}, "1", false, false},
		{"IPv6 and IPv4", map[string]string{"host_list": "::1 127.0.0.1", "multiplier": "10"}, "20", true, false},
		{"silent host", map[string]string{"host_list": "10.88.0.2 127.0.0.1", "timeout": "1", "attempts": "2"}, "1", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needV6 && !ipv6Available() {
				t.Skip("IPv6 is disabled on this kernel")
			}
			inNewNetns(t)
			if tc.silent {
				addLabLink(t, "dum0", "10.88.0.1/24")
			}
			pg := &Ping{opts: Options{RunDir: t.TempDir()}}
			name := tc.params["name"]
			if name == "" {
				name = "pingd"
			}
			res := runOp(t, pg, PingAgent, "start", tc.params)
			wantRC(t, "start", res, agents.RCOK)
			if got, ok := res.Attributes[name]; !ok || got != tc.want {
				t.Fatalf("start: attributes %v, want %s=%s\n%s", res.Attributes, name, tc.want, res.Output)
			}
			res = runOpWith(t, pg, agents.Op{Agent: PingAgent, Action: "monitor", Interval: 10 * time.Second, Params: tc.params})
			wantRC(t, "monitor", res, agents.RCOK)
			if got := res.Attributes[name]; got != tc.want {
				t.Fatalf("monitor: attributes %v, want %s=%s\n%s", res.Attributes, name, tc.want, res.Output)
			}
			res = runOp(t, pg, PingAgent, "stop", tc.params)
			wantRC(t, "stop", res, agents.RCOK)
			if got, ok := res.Attributes[name]; !ok || got != "" {
				t.Fatalf("stop: attributes %v, want %s deleted (empty value)", res.Attributes, name)
			}
		})
	}
}

func TestPingLifecycle(t *testing.T) {
	inNewNetns(t)
	dir := t.TempDir()
	pg := &Ping{opts: Options{RunDir: dir}}
	params := map[string]string{"host_list": "127.0.0.1", "multiplier": "1000"}
	state := filepath.Join(dir, "ping-pingd")
	steps := []struct {
		action string
		rc     agents.RC
		attr   *string // nil: no attribute reported
		exists bool
	}{
		{"monitor", agents.RCNotRunning, nil, false},
		{"stop", agents.RCOK, ptr(""), false},
		{"start", agents.RCOK, ptr("1000"), true},
		{"start", agents.RCOK, ptr("1000"), true},
		{"monitor", agents.RCOK, ptr("1000"), true},
		{"reload-agent", agents.RCOK, nil, true},
		{"stop", agents.RCOK, ptr(""), false},
		{"stop", agents.RCOK, ptr(""), false},
		{"monitor", agents.RCNotRunning, nil, false},
	}
	for i, s := range steps {
		res := runOp(t, pg, PingAgent, s.action, params)
		wantRC(t, s.action, res, s.rc)
		got, ok := res.Attributes["pingd"]
		switch {
		case s.attr == nil && ok:
			t.Fatalf("step %d %s: attribute pingd=%q, want none", i, s.action, got)
		case s.attr != nil && (!ok || got != *s.attr):
			t.Fatalf("step %d %s: attributes %v, want pingd=%q", i, s.action, res.Attributes, *s.attr)
		}
		if _, err := os.Stat(state); (err == nil) != s.exists {
			t.Fatalf("step %d %s: state file exists=%v, want %v", i, s.action, err == nil, s.exists)
		}
	}
}

func ptr(s string) *string { return &s }

// TestPingStateFile checks where the state file goes: pidfile, or the
// attribute's name, or the instance for a globally unique clone.
func TestPingStateFile(t *testing.T) {
	inNewNetns(t)
	dir := t.TempDir()
	pg := &Ping{opts: Options{RunDir: dir}}
	tests := []struct {
		name   string
		params map[string]string
		meta   map[string]string
		want   string
	}{
		{"default", map[string]string{}, nil, "ping-pingd"},
		{"name", map[string]string{"name": "gw"}, nil, "ping-gw"},
		{"globally unique", map[string]string{}, map[string]string{"globally-unique": "true"}, "ping-rsc"},
		{"pidfile", map[string]string{"pidfile": filepath.Join(dir, "custom")}, nil, "custom"},
	}
	for _, tc := range tests {
		tc.params["host_list"] = "127.0.0.1"
		op := agents.Op{Agent: PingAgent, Action: "start", Params: tc.params, Meta: tc.meta}
		wantRC(t, tc.name+" start", runOpWith(t, pg, op), agents.RCOK)
		if _, err := os.Stat(filepath.Join(dir, tc.want)); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		op.Action = "stop"
		wantRC(t, tc.name+" stop", runOpWith(t, pg, op), agents.RCOK)
		if _, err := os.Stat(filepath.Join(dir, tc.want)); err == nil {
			t.Errorf("%s: stop left %s", tc.name, tc.want)
		}
	}
}

func TestPingFailureScore(t *testing.T) {
	inNewNetns(t)
	pg := &Ping{opts: Options{RunDir: t.TempDir()}}
	params := map[string]string{"host_list": unreachable, "failure_score": "1", "multiplier": "10"}
	res := runOp(t, pg, PingAgent, "start", params)
	wantRC(t, "start", res, agents.RCErrGeneric)
	if res.Attributes["pingd"] != "0" {
		t.Errorf("attributes %v, want pingd=0 even when failing", res.Attributes)
	}
	params["host_list"] = "127.0.0.1"
	wantRC(t, "monitor", runOp(t, pg, PingAgent, "monitor", params), agents.RCOK)
	runOp(t, pg, PingAgent, "stop", params)
}

func TestPingValidate(t *testing.T) {
	dir := t.TempDir()
	pg := &Ping{opts: Options{RunDir: dir}}
	tests := []struct {
		name   string
		action string
		level  int
		params map[string]string
		rc     agents.RC
	}{
		{"ok", "validate-all", 0, map[string]string{"host_list": "127.0.0.1"}, agents.RCOK},
		{"empty host_list", "validate-all", 0, map[string]string{"host_list": "  "}, agents.RCErrConfigured},
		{"no host_list on start", "start", 0, map[string]string{}, agents.RCErrConfigured},
		{"no host_list on monitor", "monitor", 0, map[string]string{}, agents.RCErrConfigured},
		{"no host_list on stop", "stop", 0, map[string]string{}, agents.RCOK},
		{"bad multiplier", "validate-all", 0, map[string]string{"host_list": "h", "multiplier": "x"}, agents.RCErrConfigured},
		{"bad attempts", "validate-all", 0, map[string]string{"host_list": "h", "attempts": "0"}, agents.RCErrConfigured},
		{"bad timeout", "validate-all", 0, map[string]string{"host_list": "h", "timeout": "soon"}, agents.RCErrConfigured},
		{"bad failure_score", "validate-all", 0, map[string]string{"host_list": "h", "failure_score": "high"}, agents.RCErrConfigured},
		{"state dir writable", "validate-all", 10, map[string]string{"host_list": "h"}, agents.RCOK},
		{"state dir missing", "validate-all", 10, map[string]string{"host_list": "h", "pidfile": filepath.Join(dir, "no", "such", "f")}, agents.RCErrArgs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runOpWith(t, pg, agents.Op{Agent: PingAgent, Action: tc.action, CheckLevel: tc.level, Params: tc.params})
			wantRC(t, tc.action, res, tc.rc)
		})
	}
}

func TestParsePingTimeout(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"", 2 * time.Second, false},
		{"2", 2 * time.Second, false},
		{"3s", 3 * time.Second, false},
		{"1500ms", 1500 * time.Millisecond, false},
		{"1m", time.Minute, false},
		{"0", 5 * time.Second, false},
		{"5000", 300 * time.Second, false},
		{"1h", 300 * time.Second, false},
		{"abc", 0, true},
		{"-1", 0, true},
	}
	for _, tc := range tests {
		got, err := parsePingTimeout(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("parsePingTimeout(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// TestPingSocketKinds pings over the unprivileged ICMP datagram socket
// where net.ipv4.ping_group_range admits the test's group, and over a raw
// socket where it does not (the namespace's default, "1 0").
func TestPingSocketKinds(t *testing.T) {
	tests := []struct {
		name       string
		groupRange string // "" keeps the namespace's default
		want       string
	}{
		{"raw", "1 0", "ICMP raw socket"},
		{"datagram", "0 2147483647", "ICMP datagram socket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inNewNetns(t)
			if tc.groupRange != "" {
				// net sysctls belong to the namespace of the thread that
				// opens them: this one's, which is locked in the new one.
				if err := os.WriteFile("/proc/sys/net/ipv4/ping_group_range", []byte(tc.groupRange), 0o644); err != nil {
					t.Skipf("cannot set ping_group_range: %v", err)
				}
			}
			pg := &Ping{opts: Options{RunDir: t.TempDir()}}
			params := map[string]string{"host_list": "127.0.0.1", "multiplier": "7"}
			res := runOp(t, pg, PingAgent, "start", params)
			wantRC(t, "start", res, agents.RCOK)
			if res.Attributes["pingd"] != "7" || !strings.Contains(res.Output, tc.want) {
				t.Fatalf("attributes %v, want pingd=7 over an %s:\n%s", res.Attributes, tc.want, res.Output)
			}
			runOp(t, pg, PingAgent, "stop", params)
		})
	}
}

// TestPingHonoursDeadline gives a silent host a long timeout inside a
// short operation: the start must come back with a score instead of
// waiting out the ping timeout (it runs on the test's goroutine, whose
// thread is in the namespace; a hang would show as the test timing out).
func TestPingHonoursDeadline(t *testing.T) {
	inNewNetns(t)
	addLabLink(t, "dum0", "10.88.0.1/24")
	pg := &Ping{opts: Options{RunDir: t.TempDir()}}
	params := map[string]string{"host_list": "10.88.0.2 127.0.0.1", "timeout": "300", "attempts": "3", "multiplier": "10"}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res := pg.Run(ctx, agents.Op{Agent: PingAgent, Action: "start", Resource: "rsc", Params: params, Timeout: 3 * time.Second})
	if res.Attributes["pingd"] != "10" {
		t.Fatalf("attributes %v, want pingd=10 (the loopback host counted)\n%s", res.Attributes, res.Output)
	}
	runOp(t, pg, PingAgent, "stop", params)
}

// TestPingCancelled checks that a cancelled operation ends the wait.
func TestPingCancelled(t *testing.T) {
	inNewNetns(t)
	addLabLink(t, "dum0", "10.88.0.1/24")
	pg := &Ping{opts: Options{RunDir: t.TempDir()}}
	params := map[string]string{"host_list": "10.88.0.2", "timeout": "300"}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	res := pg.Run(ctx, agents.Op{Agent: PingAgent, Action: "start", Resource: "rsc", Params: params})
	if ctx.Err() == nil {
		t.Fatalf("start returned before it was cancelled: %+v", res)
	}
	runOp(t, pg, PingAgent, "stop", params)
}
