package ocf

import (
	"context"

	"github.com/hakit/hakit/agents"
)

// Builtin is a resource agent written in Go, run when no script for its
// agent is installed under the OCF root. Run executes one action and
// returns its result; the runner calls it off the event loop, one call at a
// time per resource, with ctx cancelled when the operation times out or is
// cancelled, and Run must then return promptly. The runner fills in
// Result.Op, Status (when ctx ended first) and Duration.
type Builtin interface {
	// MetaData is the agent's OCF meta-data XML, what `meta-data` prints.
	MetaData() string
	Run(ctx context.Context, op agents.Op) agents.Result
}
