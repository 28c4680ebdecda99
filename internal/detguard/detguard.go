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
// be deterministic, subdirectories included.
var Core = []string{"transport", "crm", "agents", "node", "sim", "scenarios"}

// Adapters lists the directories inside Core allowed to touch the OS: the
// production clock and loop, the UDP transport, the OCF script runner.
var Adapters = []string{"node/runtime", "transport/udp", "agents/ocf"}

// Violation is one banned use.
type Violation struct {
	Pos    token.Position
	Reason string
}

func (v Violation) String() string { return fmt.Sprintf("%s: %s", v.Pos, v.Reason) }

// bannedImports are packages core code may not import at all.
var bannedImports = map[string]string{
	"math/rand":   "global math/rand; take a *rand.Rand from env.Env.Rand",
	"crypto/rand": "OS randomness; take a *rand.Rand from env.Env.Rand (key generation belongs in an adapter)",
	"os/exec":     "running processes; that is the agents/ocf adapter's job",
	"os/signal":   "OS signals belong to cmd/",
	"syscall":     "system calls belong to the adapters",
	"unsafe":      "unsafe can hide addresses in outputs",
}

// bannedCalls are selectors of allowed packages that core code may not use.
var bannedCalls = map[string]map[string]string{
	"time": set("wall and monotonic time and real timers; use env.Clock",
		"Now", "Since", "Until", "Sleep", "After", "AfterFunc", "Tick", "NewTimer", "NewTicker"),
	"net": set("real sockets; use env.Transport",
		"Dial", "DialTimeout", "DialIP", "DialTCP", "DialUDP", "DialUnix", "Dialer",
		"Listen", "ListenConfig", "ListenIP", "ListenMulticastUDP", "ListenPacket",
		"ListenTCP", "ListenUDP", "ListenUnix", "ListenUnixgram", "FileConn", "FilePacketConn",
		"LookupHost", "LookupIP", "LookupAddr", "ResolveUDPAddr", "ResolveTCPAddr", "ResolveIPAddr", "Interfaces", "InterfaceAddrs"),
	"sync": set("sync.Map iterates in an unspecified order", "Map"),
}

// allowedRandV2 are the parts of math/rand/v2 that do not touch its global,
// OS-seeded source.
var allowedRandV2 = set("", "New", "NewPCG", "NewChaCha8", "NewZipf", "Rand", "PCG", "ChaCha8", "Source", "Zipf")

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
