package live

import (
	"time"

	"github.com/yiping-ioc/yiping/collectors"
)

// Health is the payload of a health topic: the source's health and the
// server's judgement of it, which screens show as they get it.
type Health struct {
	collectors.Health
	// State is ok, stale (a polled source without success for longer
	// than the stale limit), failing (its last run failed) or never (a
	// polled source that has not succeeded yet).
	State string `json:"state"`
}

// The states of a source.
const (
	SourceOK      = "ok"
	SourceStale   = "stale"
	SourceFailing = "failing"
	SourceNever   = "never"
)

// JudgeHealth tells the state of a source. Push sources are judged by
// failures only: nobody pushes at night.
func JudgeHealth(h collectors.Health, staleAfter time.Duration) Health {
	out := Health{Health: h}
	switch {
	case h.ConsecutiveFailures > 0:
		out.State = SourceFailing
	case h.LagSeconds == nil:
		out.State = SourceNever
		if h.Type == "push" {
			out.State = SourceOK
		}
	case h.Type != "push" && time.Duration(*h.LagSeconds*float64(time.Second)) > staleAfter:
		out.State = SourceStale
	default:
		out.State = SourceOK
	}
	return out
}
