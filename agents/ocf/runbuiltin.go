package ocf

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hakit/hakit/agents"
)

// slowCancel is how long a built-in may take to return after its context
// ended before the runner logs it: the queue of its resource waits for it.
const slowCancel = 5 * time.Second

// runBuiltin runs a Go agent on the worker goroutine. The agent's result
// is kept, except that a context ending before Run returns decides the
// Status (timed out or cancelled), as a killed script's would. A panic in
// the agent becomes StatusError instead of taking the node down.
func (r *Runner) runBuiltin(ctx context.Context, b Builtin, op agents.Op) (res agents.Result) {
	defer func() {
		if p := recover(); p != nil {
			r.cfg.Log.Error("built-in agent panicked", "agent", op.Agent.String(), "action", op.Action, "panic", fmt.Sprint(p))
			res = agents.Result{RC: agents.RCErrGeneric, Status: agents.StatusError,
				ExitReason: shorten(fmt.Sprintf("built-in agent panicked: %v", p), maxExitReason)}
		}
	}()
	if op.Action == "meta-data" {
		return agents.Result{RC: agents.RCOK, Status: agents.StatusDone, Output: b.MetaData()}
	}

	var endedAt atomic.Int64 // unix nanoseconds when ctx ended; 0 while it runs
	stop := context.AfterFunc(ctx, func() { endedAt.Store(time.Now().UnixNano()) })
	defer stop()

	res = b.Run(ctx, op)

	if ctx.Err() != nil {
		status, rc, _ := endedEarly(ctx)
		res.Status, res.RC = status, rc
		if res.ExitReason == "" {
			res.ExitReason = earlyReason(ctx, "", effectiveTimeout(op, r.cfg.DefaultTimeout))
		}
		if at := endedAt.Load(); at != 0 {
			if late := time.Since(time.Unix(0, at)); late > slowCancel {
				r.cfg.Log.Warn("built-in agent returned late after its context ended",
					"agent", op.Agent.String(), "action", op.Action, "resource", op.Resource, "late", late)
			}
		}
	}
	res.ExitReason = shorten(res.ExitReason, maxExitReason)
	if len(res.Output) > r.cfg.MaxOutput {
		tail := newTailBuffer(r.cfg.MaxOutput)
		tail.Write([]byte(res.Output))
		res.Output = tail.String()
	}
	return res
}

func effectiveTimeout(op agents.Op, def time.Duration) time.Duration {
	if op.Timeout > 0 {
		return op.Timeout
	}
	return def
}
