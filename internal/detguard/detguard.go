// Package detguard enforces hakit's determinism rule: the core packages
// (transport, crm, agents, node, sim, scenarios) never read time, randomness
// or the OS directly and never start goroutines. They get all of that
// through node/env, so the simulator can replay a run from its seed.
//
// The check parses source with go/ast; a violation names file and line. Only
// the named adapters are exempt (Adapters); test files are not checked
// (they may use the real clock to time themselves, never to decide an
// outcome of core code).
package detguard

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Core lists the directories (relative to the module root) whose code must
// be deterministic, subdirectories included. internal/ is included because
// core packages may import helpers from it.
var Core = []string{"transport", "crm", "agents", "node", "sim", "scenarios", "internal"}

// Adapters lists the directories inside Core allowed to touch the OS: the
// production clock and loop, the UDP transport, the OCF script runner, the
// built-in Go agents (netlink, processes, HTTP, ICMP), the tests'
// network-namespace helper, and this guard (which reads source files).
var Adapters = []string{"node/runtime", "transport/udp", "agents/ocf", "agents/builtin", "internal/netnstest", "internal/detguard"}

// Violation is one banned use.
type Violation struct {
	Pos    token.Position
	Reason string
}

func (v Violation) String() string { return fmt.Sprintf("%s: %s", v.Pos, v.Reason) }

// bannedImports are packages core code may not import at all.
var bannedImports = map[string]string{
	"math/rand":    "global math/rand; take a *rand.Rand from env.Env.Rand",
	"crypto/rand":  "OS randomness; take a *rand.Rand from env.Env.Rand (key generation belongs in an adapter)",
	"hash/maphash": "maphash seeds from the OS",
	"os/exec":      "running processes; that is the agents/ocf adapter's job",
	"os/signal":    "OS signals belong to cmd/",
	"io/ioutil":    "the file system; go through env.Disk",
	"syscall":      "system calls belong to the adapters",
	"unsafe":       "unsafe can hide addresses in outputs",
	"sync":         "core code runs on one event loop and needs no locks; sync.WaitGroup.Go starts goroutines",
	"sync/atomic":  "core code runs on one event loop and needs no atomics",
	"context":      "contexts carry real deadlines and AfterFunc goroutines; pass env.Mono deadlines",
	"log":          "the standard logger stamps wall time; use env.Env.Log",
	"net":          "real sockets and lookups; use env.Transport (net/netip is fine for addresses)",
	"net/http":     "real sockets; use env.Transport",
}

// bannedCalls are selectors of allowed packages that core code may not use.
var bannedCalls = map[string]map[string]string{
	"time": set("wall and monotonic time, real timers and the OS time zone; use env.Clock",
		"Now", "Since", "Until", "Sleep", "After", "AfterFunc", "Tick", "NewTimer", "NewTicker", "LoadLocation", "Local"),
	"log/slog": set("the default logger is global and stamps wall time; use env.Env.Log",
		"Debug", "Info", "Warn", "Error", "Log", "LogAttrs", "DebugContext", "InfoContext", "WarnContext", "ErrorContext", "Default", "SetDefault", "SetLogLoggerLevel"),
	"crypto/cipher": set("draws nonces from the OS", "NewGCMWithRandomNonce"),
	"path/filepath": set("the file system; go through env.Disk", "Glob", "Walk", "WalkDir", "Abs", "EvalSymlinks"),
}

// bannedMethods are method names flagged on any value: the guard works on
// syntax, without types, and these names are rare enough elsewhere.
var bannedMethods = map[string]string{
	"Local": "converts to the OS time zone; keep times in UTC or a loaded zone",
}

// allowedRandV2 are the parts of math/rand/v2 that do not touch its global,
// OS-seeded source.
var allowedRandV2 = set("", "New", "NewPCG", "NewChaCha8", "NewZipf", "Rand", "PCG", "ChaCha8", "Source", "Zipf")

func identName(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

func set(reason string, names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		m[n] = reason
	}
	return m
}

// CheckModule checks every core package under the module root.
func CheckModule(root string) ([]Violation, error) {
	var out []Violation
	for _, dir := range Core {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if d == nil { // the core directory does not exist yet
					return fs.SkipDir
				}
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			if d.IsDir() {
				if d.Name() == "testdata" || isAdapter(rel) {
					return fs.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			vs, err := CheckFile(path)
			out = append(out, vs...)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func isAdapter(rel string) bool {
	return slices.ContainsFunc(Adapters, func(a string) bool { return rel == a || strings.HasPrefix(rel, a+"/") })
}

// CheckFile checks one Go source file.
func CheckFile(path string) ([]Violation, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var out []Violation
	report := func(n ast.Node, format string, args ...any) {
		out = append(out, Violation{Pos: fset.Position(n.Pos()), Reason: fmt.Sprintf(format, args...)})
	}

	imported := map[string]string{} // local name -> import path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if reason, ok := bannedImports[path]; ok {
			report(imp, "import %q: %s", path, reason)
		}
		if imp.Name != nil && imp.Name.Name == "." {
			report(imp, "dot import of %q: it hides which package a call reaches", path)
		}
		name := filepath.Base(path)
		if path == "math/rand/v2" {
			name = "rand"
		}
		if imp.Name != nil {
			name = imp.Name.Name
		}
		imported[name] = path
	}

	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			report(n, "go statement: core code runs on the node's event loop only")
		case *ast.SelectStmt:
			comms := 0
			for _, c := range n.Body.List {
				if cc, ok := c.(*ast.CommClause); ok && cc.Comm != nil {
					comms++
				}
			}
			if comms > 1 {
				report(n, "select with %d cases: Go picks a ready case at random", comms)
			}
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && len(n.Args) == 0 {
				if reason, ok := bannedMethods[sel.Sel.Name]; ok {
					if _, isPkg := imported[identName(sel.X)]; !isPkg {
						report(n, ".%s(): %s", sel.Sel.Name, reason)
					}
				}
			}
		case *ast.SelectorExpr:
			pkg, ok := n.X.(*ast.Ident)
			if !ok {
				return true
			}
			path, ok := imported[pkg.Name]
			if !ok {
				return true
			}
			sel := n.Sel.Name
			switch {
			case path == "math/rand/v2":
				if _, ok := allowedRandV2[sel]; !ok {
					report(n, "rand.%s: the global, OS-seeded source; take a *rand.Rand from env.Env.Rand", sel)
				}
			case path == "os":
				if !strings.HasPrefix(sel, "Err") && sel != "FileMode" && !strings.HasPrefix(sel, "Mode") {
					report(n, "os.%s: the OS (files, environment, process); go through env.Env", sel)
				}
			default:
				if reason, ok := bannedCalls[path][sel]; ok {
					report(n, "%s.%s: %s", pkg.Name, sel, reason)
				}
			}
		}
		return true
	})
	return out, nil
}
