package collectors

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// Health is the state of one source, for the API and the wall's status
// panel. Times are zero (omitted in JSON) when the event has not happened.
type Health struct {
	Source   string `json:"source"`
	Type     string `json:"type"`
	Schedule string `json:"schedule,omitempty"`
	// Running says a run (or a pushed request) is in progress.
	Running bool `json:"running"`
	// LastRun is when the last finished run started; LastDuration how
	// long it took.
	LastRun      time.Time `json:"last_run,omitzero"`
	LastDuration float64   `json:"last_duration_seconds"`
	// LastSuccess is when the last successful run ended.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LagSeconds is the time since LastSuccess: how stale the source's
	// records may be. Null when it never succeeded.
	LagSeconds *float64 `json:"lag_seconds"`
	// Records and Rejects count rows accepted and refused since start.
	Records int64 `json:"records"`
	Rejects int64 `json:"rejects"`
	// Runs, Failures and Skipped count runs since start: all finished,
	// failed, and not started (overlap or backoff).
	Runs                int64 `json:"runs"`
	Failures            int64 `json:"failures"`
	Skipped             int64 `json:"skipped"`
	ConsecutiveFailures int   `json:"consecutive_failures"`
	// LastError is the error of the last failed run, or the partial
	// failures of the last run that had some.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// Cursor is where the source resumes.
	Cursor string `json:"cursor,omitempty"`
	// NextRun is the next scheduled firing; BackoffUntil, when set, is
	// the time before which firings are skipped after failures.
	NextRun      time.Time `json:"next_run,omitzero"`
	BackoffUntil time.Time `json:"backoff_until,omitzero"`
}

// HealthHandler serves GET requests with {"sources": [Health...]}.
func (r *Runner) HealthHandler() fiber.Handler {
	return func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"sources": r.Health()})
	}
}
