package sched

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hakit/hakit/crm/cib"
)

// FuzzSchedule feeds the scheduler whatever parses as a CIB: hactl
// simulate runs it on files from admins, so it must answer or refuse,
// never panic or hang. The seed corpus is every CIB under testdata.
func FuzzSchedule(f *testing.F) {
	for _, pattern := range []string{"testdata/oracle/*.cib.xml", "../cib/testdata/*.xml", "../../cmd/hactl/testdata/simulate/*.xml"} {
		files, _ := filepath.Glob(pattern)
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := cib.Parse("fuzz.xml", data)
		if err != nil || c.Validate().Err() != nil {
			return
		}
		res, err := Schedule(Input{CIB: c})
		if err != nil {
			return
		}
		if _, err := Schedule(Input{CIB: Apply(c, res)}); err != nil {
			t.Fatalf("the scheduler refuses what Apply made of its own result: %v", err)
		}
	})
}
