package report

import (
	"context"
	"encoding/json"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/engine"
)

// The package's edges: small interfaces the app backs with the engine, the
// collectors' runner, the surge detector, the history store, the notify
// dispatcher and the hub. None of those packages is imported here.

// Values gives the current indicator values of a period: what the engine
// (engine.Engine.AppendResults) or the feed holds now. Only the rows with
// an empty department are read.
type Values interface {
	Results(ctx context.Context, p engine.Period) ([]engine.Result, error)
}

// Sources gives the health of every collector source
// (collectors.Runner.Health).
type Sources interface {
	Health() []collectors.Health
}

// Surges gives the hotline surges the detector sees now (package trend,
// adapted by the app).
type Surges interface {
	Surges(now time.Time) []SurgeFinding
}

// SurgeFinding is one surging ticket category in one region.
type SurgeFinding struct {
	Category string
	Region   string
	// Count is the tickets of the category in the detector's window;
	// Expected the baseline from the series' own history.
	Count    int64
	Expected float64
	// Score is the detector's statistic (how far above the baseline).
	Score float64
	// Since is when the surge began.
	Since time.Time
}

// Input is what one evaluation reads.
type Input interface {
	Values
	Sources
	Surges
}

// Inputs builds an Input from parts; a nil part gives nothing (no values,
// no sources, no surges), so the app can wire what it has.
type Inputs struct {
	Values   Values
	Sources  Sources
	Detector Surges
	// Orders gives the overdue supervision orders (orders_overdue rules).
	Orders OverdueOrders
}

// Results implements Values.
func (in Inputs) Results(ctx context.Context, p engine.Period) ([]engine.Result, error) {
	if in.Values == nil {
		return nil, nil
	}
	return in.Values.Results(ctx, p)
}

// Health implements Sources.
func (in Inputs) Health() []collectors.Health {
	if in.Sources == nil {
		return nil
	}
	return in.Sources.Health()
}

// Surges implements Surges.
func (in Inputs) Surges(now time.Time) []SurgeFinding {
	if in.Detector == nil {
		return nil
	}
	return in.Detector.Surges(now)
}

// Past gives an indicator's value as of an instant, for drop rules: the
// app backs it with the history store (store.Store.AsOf). ok is false
// when there is no value; den is 0 for a count.
type Past interface {
	AsOf(ctx context.Context, indicator, region, period string, t time.Time) (num, den int64, ok bool, err error)
}

// Sender delivers a notification: the notify dispatcher, which turns the
// receiver names into webhooks, robots and mail. Send should hand the
// notification over and return; an error makes the manager retry later
// with the same Notification.ID (delivery is at least once: a crash
// between Send and recording it sends it again, and receivers may drop
// an ID they have seen).
type Sender interface {
	Send(ctx context.Context, n Notification) error
}

// Publisher pushes a payload to a hub topic (hub.Hub implements it).
type Publisher interface {
	Publish(topic string, data json.RawMessage) error
}

// Notification kinds.
const (
	KindFiring     = "firing"
	KindRepeat     = "repeat"
	KindEscalation = "escalation"
	KindResolved   = "resolved"
)

// Notification is one message to the receivers of one level of one
// region, about one or more reports of one rule (grouped).
type Notification struct {
	// ID is stable across retries and restarts.
	ID string `json:"id"`
	// Kind is firing, repeat, escalation or resolved.
	Kind     string   `json:"kind"`
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// Level and Region say whose receivers: the report's region or its
	// ancestor at Level.
	Level      string   `json:"level"`
	Region     string   `json:"region"`
	RegionName string   `json:"region_name"`
	Receivers  []string `json:"receivers"`
	// Title and Text are the message in Chinese (Text one line per
	// report); TitleEN and TextEN in English.
	Title   string   `json:"title"`
	TitleEN string   `json:"title_en"`
	Text    string   `json:"text"`
	TextEN  string   `json:"text_en"`
	Reports []Report `json:"reports"`
	// At is when it was sent; Attempt counts tries from 1.
	At      time.Time `json:"at"`
	Attempt int       `json:"attempt"`
}
