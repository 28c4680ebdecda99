package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestExitStatus(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.sock")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"status", "--socket", missing}, 1, "cannot reach hanode"},
		{[]string{"status", "--no-such-flag"}, 2, "unknown flag"},
		{[]string{"frobnicate"}, 2, "unknown command"},
	} {
		var out, errOut bytes.Buffer
		if code := run(c.args, &out, &errOut); code != c.code || !strings.Contains(errOut.String(), c.want) || strings.Count(errOut.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line with %q", c.args, code, errOut.String(), c.code, c.want)
		}
	}
}
