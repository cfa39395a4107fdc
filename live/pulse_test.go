package live

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
)

func lag(s float64) *float64 { return &s }

func TestPulseJudgesHealth(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	pub := recorder{}
	p := NewPulse(PulseConfig{
		Publisher: pub, StaleAfter: 10 * time.Minute, Now: func() time.Time { return now }, Location: shanghai(t),
		Health: func() []collectors.Health {
			return []collectors.Health{
				{Source: "fresh", Type: "httppull", LagSeconds: lag(30)},
				{Source: "old", Type: "httppull", LagSeconds: lag(601)},
				{Source: "broken", Type: "httppull", LagSeconds: lag(5), ConsecutiveFailures: 2},
				{Source: "new", Type: "httppull"},
				{Source: "quiet-push", Type: "push"},
				{Source: "old-push", Type: "push", LagSeconds: lag(86400)},
			}
		},
	})
	if err := p.Beat(); err != nil {
		t.Fatal(err)
	}
	var c Clock
	json.Unmarshal(pub[ClockTopic], &c)
	if c.UnixMs != now.UnixMilli() || c.Time != "2026-11-23T17:00:00+08:00" {
		t.Errorf("clock = %+v", c)
	}
	for src, want := range map[string]string{"fresh": "ok", "old": "stale", "broken": "failing", "new": "never", "quiet-push": "ok", "old-push": "ok"} {
		var h Health
		if err := json.Unmarshal(pub[HealthTopic(src)], &h); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if h.State != want || h.Source != src {
			t.Errorf("%s: state %q, want %q", src, h.State, want)
		}
	}
}
