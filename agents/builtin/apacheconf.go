package builtin

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// apacheConf is what the agent reads from an Apache configuration: the
// first ServerRoot, DefaultRuntimeDir, PidFile, Port and Listen
// directives, and the last <Location> whose handler is server-status, as
// resource-agents' apache-conf.sh reads them. ServerRoot is the
// configuration's directory when no directive sets it.
type apacheConf struct {
	ServerRoot     string
	RuntimeDir     string
	PidFile        string
	Port           string
	Listen         string
	StatusLocation string
}

var (
	envRefRE     = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	locationRE   = regexp.MustCompile(`(?i)^<Location\s+"?([^\s>"]+)`)
	statusHandRE = regexp.MustCompile(`(?i)^SetHandler\s+"?server-status\b`)
)

// expandEnv replaces ${VAR} with its value in env, as httpd does when it
// reads its configuration; an undefined variable is left as it is.
func expandEnv(s string, env map[string]string) string {
	return envRefRE.ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := env[ref[2:len(ref)-1]]; ok {
			return v
		}
		return ref
	})
}

// readApacheConf reads path and the files it includes (Include and
// IncludeOptional, with globs and directories), expanding ${VAR} from env.
// Relative includes are taken from ServerRoot when the configuration sets
// it, else from the directory of path (Debian's apache2.conf relies on the
// compiled-in ServerRoot /etc/apache2, its own directory).
func readApacheConf(path string, env map[string]string) (apacheConf, error) {
	r := confReader{env: env, root: filepath.Dir(path)}
	if err := r.file(path, 0); err != nil {
		return apacheConf{}, err
	}
	if r.conf.ServerRoot == "" {
		r.conf.ServerRoot = r.root
	}
	return r.conf, nil
}

type confReader struct {
	env  map[string]string
	root string
	conf apacheConf
	loc  string
}

const maxIncludeDepth = 16

func (r *confReader) file(path string, depth int) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var cont strings.Builder
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasSuffix(line, "\\") {
			cont.WriteString(strings.TrimSuffix(line, "\\"))
			cont.WriteByte(' ')
			continue
		}
		if cont.Len() > 0 {
			cont.WriteString(line)
			line = strings.TrimSpace(cont.String())
			cont.Reset()
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r.line(expandEnv(line, r.env), depth)
	}
	return sc.Err()
}

func unquote(s string) string {
	return strings.Trim(s, `"'`)
}

func (r *confReader) line(line string, depth int) {
	fields := strings.Fields(line)
	name := strings.ToLower(fields[0])
	arg := ""
	if len(fields) > 1 {
		arg = unquote(fields[1])
	}
	switch name {
	case "include", "includeoptional":
		if depth < maxIncludeDepth && arg != "" {
			r.include(arg, depth+1)
		}
		return
	case "serverroot":
		if arg != "" {
			r.root = arg
			if r.conf.ServerRoot == "" {
				r.conf.ServerRoot = arg
			}
		}
	case "defaultruntimedir":
		if r.conf.RuntimeDir == "" && arg != "" {
			r.conf.RuntimeDir = arg
			if !filepath.IsAbs(arg) {
				r.conf.RuntimeDir = filepath.Join(r.root, arg)
			}
		}
	case "pidfile":
		if r.conf.PidFile == "" {
			r.conf.PidFile = arg
		}
	case "port":
		if r.conf.Port == "" {
			r.conf.Port = arg
		}
	case "listen":
		if r.conf.Listen == "" {
			r.conf.Listen = arg
		}
	}
	if m := locationRE.FindStringSubmatch(line); m != nil {
		r.loc = m[1]
	}
	if statusHandRE.MatchString(line) {
		r.conf.StatusLocation = r.loc
	}
}

func (r *confReader) include(spec string, depth int) {
	if !filepath.IsAbs(spec) {
		spec = filepath.Join(r.root, spec)
	}
	if st, err := os.Stat(spec); err == nil && st.IsDir() {
		var files []string
		_ = filepath.WalkDir(spec, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, p)
			}
			return nil
		})
		sort.Strings(files)
		for _, f := range files {
			_ = r.file(f, depth)
		}
		return
	}
	matches, _ := filepath.Glob(spec)
	sort.Strings(matches)
	for _, f := range matches {
		if st, err := os.Stat(f); err == nil && !st.IsDir() {
			_ = r.file(f, depth)
		}
	}
}
