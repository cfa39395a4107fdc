package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
)

// Clock is the payload of ClockTopic.
type Clock struct {
	UnixMs int64  `json:"unix_ms"`
	Time   string `json:"time"` // RFC 3339 in the business time zone
}

// PulseConfig sets up a Pulse. Publisher is required.
type PulseConfig struct {
	Publisher Publisher
	// Health lists the sources' health; nil publishes the clock only.
	Health func() []collectors.Health
	// StaleAfter is how long a polled source may go without a successful
	// run before it is judged stale; default 10 minutes.
	StaleAfter time.Duration
	// Every is the heartbeat; default 5 s (screens show "data delayed"
	// after 20 s of silence).
	Every    time.Duration
	Location *time.Location
	Now      func() time.Time
	Logger   *slog.Logger
}

// Pulse publishes the server's clock and every source's judged health at
// a steady beat.
type Pulse struct{ cfg PulseConfig }

// NewPulse returns a pulse.
func NewPulse(cfg PulseConfig) *Pulse {
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = 10 * time.Minute
	}
	if cfg.Every <= 0 {
		cfg.Every = 5 * time.Second
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Pulse{cfg: cfg}
}

// Beat publishes the clock and the health of every source once.
func (p *Pulse) Beat() error {
	now := p.cfg.Now()
	if err := p.publish(ClockTopic, Clock{UnixMs: now.UnixMilli(), Time: now.In(p.cfg.Location).Format(time.RFC3339)}); err != nil {
		return err
	}
	if p.cfg.Health == nil {
		return nil
	}
	for _, h := range p.cfg.Health() {
		if err := p.publish(HealthTopic(h.Source), JudgeHealth(h, p.cfg.StaleAfter)); err != nil {
			return err
		}
	}
	return nil
}

func (p *Pulse) publish(topic string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return p.cfg.Publisher.Publish(topic, b)
}

// Run beats until ctx ends.
func (p *Pulse) Run(ctx context.Context) {
	t := time.NewTicker(p.cfg.Every)
	defer t.Stop()
	for {
		if err := p.Beat(); err != nil {
			p.cfg.Logger.Error("pulse", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
