package report

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/notify"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/yamlconf"
)

// Sample is the documented rules file: the rules the demo runs with when
// no file is given (Default), and the reference for every key.
//
//go:embed sample.yaml
var Sample string

// Type is what a rule watches.
type Type string

// The rule types.
const (
	// Threshold: an indicator's value is worse than a number, its target
	// or its floor, in the indicator's direction.
	Threshold Type = "threshold"
	// Drop: an indicator worsens by more than some points against the
	// previous period (环比).
	Drop Type = "drop"
	// Bottom: a unit enters the bottom N of its parent's ranking.
	Bottom Type = "bottom"
	// Overdue: open overdue cases (overdue_open) above N.
	Overdue Type = "overdue"
	// Silent: a collector source without a successful run for a while.
	Silent Type = "silent"
	// Surge: the hotline surge detector reports a category surging in a
	// region (趋势感知).
	Surge Type = "surge"
	// OrdersOverdue: at least N supervision orders (督办单) of a region
	// past their deadline (package dispatch, through the app; orders.go).
	OrdersOverdue Type = "orders_overdue"
)

var allTypes = []string{string(Threshold), string(Drop), string(Bottom), string(Overdue), string(Silent), string(Surge), string(OrdersOverdue)}

// Severity orders reports: screens list the most severe first.
type Severity int

// The severities, least severe first.
const (
	Info Severity = iota + 1
	Warning
	Critical
)

var severityNames = []string{"info", "warning", "critical"}

// String returns "info", "warning" or "critical".
func (s Severity) String() string {
	if s >= Info && s <= Critical {
		return severityNames[s-1]
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText writes the severity by name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, ok := ParseSeverity(string(b))
	if !ok {
		return fmt.Errorf("report: unknown severity %q (info, warning, critical)", b)
	}
	*s = v
	return nil
}

// ParseSeverity reads a severity name.
func ParseSeverity(s string) (Severity, bool) {
	for i, n := range severityNames {
		if n == s {
			return Severity(i + 1), true
		}
	}
	return 0, false
}

// Text is a title in Chinese and English.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// BoundKind says what a threshold compares the value with.
type BoundKind string

// The bounds of a threshold rule.
const (
	// BoundFloor fires when the value is red on the screens: worse than
	// the floor of the region's level (package scoring).
	BoundFloor BoundKind = "floor"
	// BoundTarget fires when the value is not green: worse than the
	// target of the region's level.
	BoundTarget BoundKind = "target"
	// BoundValue fires when the value is worse than a fixed number.
	BoundValue BoundKind = "value"
)

// Bound is a threshold rule's worse_than.
type Bound struct {
	Kind  BoundKind
	Value float64 // BoundValue only; a rate as a fraction
}

// Step is one rung of an escalation ladder: when a report is still not
// acknowledged After the first notification, the receivers of level To
// (an ancestor of the report's region) are told.
type Step struct {
	After time.Duration
	To    region.Level
}

// Rule is one rule of a rules file, defaults applied. See
// docs/SPECIAL-REPORTS.md and sample.yaml for every key.
type Rule struct {
	Name     string
	Title    Text
	Type     Type
	Severity Severity

	// Indicator and Period: threshold, drop, bottom (Indicator may be
	// "composite"), overdue (always overdue_open).
	Indicator string
	Period    engine.Period
	// Level, when not 0, limits the rule to regions of that level (for
	// bottom: the level of the units ranked within their parent).
	Level region.Level
	// Regions, when not empty, limits the rule to these regions and the
	// regions below them. A silent rule files its report under Regions[0].
	Regions []string
	// MinCount is the least denominator a rate needs to be judged, so a
	// county is not reported for 1 missed call of 2.
	MinCount int64

	WorseThan  Bound         // threshold
	Points     float64       // drop: percentage points for a rate, records for a count
	BottomN    int           // bottom
	Above      int64         // overdue
	Sources    []string      // silent: source names or path.Match patterns; empty: all
	After      time.Duration // silent
	MinScore   float64       // surge
	Categories []string      // surge: empty means every category
	AtLeast    int64         // orders_overdue: the least count of overdue orders reported

	// For is how long the condition must hold before the report fires.
	For time.Duration
	// Repeat is how often a firing, unacknowledged report is notified
	// again; 0 never.
	Repeat time.Duration
	// Quiet names the quiet hours during which notifications are held.
	Quiet []string
	// Escalate is the ladder, run 1+EscalateRepeat times.
	Escalate       []Step
	EscalateRepeat int
	// Receivers are receiver names per level ("county", "city",
	// "province", "township"); the app resolves them to notify receivers
	// for the region at that level.
	Receivers map[string][]string
}

// Rules is a parsed rules file. It is not modified after Parse returns.
type Rules struct {
	// File is where the rules were read from ("" for built ones).
	File  string
	Rules []Rule
	// Quiet are the named quiet hours.
	Quiet map[string]QuietHours
	// Receivers are where notifications go (webhooks, DingTalk and WeCom
	// robots, e-mail), named by the rules' receivers per level.
	Receivers []notify.ReceiverConfig
}

// UnknownReceivers reports the receivers the rules name that are not in
// known, each with its rule and level, or nil.
func (rs *Rules) UnknownReceivers(known []string) error {
	var errs []error
	for i, r := range rs.Rules {
		for _, level := range slices.Sorted(maps.Keys(r.Receivers)) {
			for _, name := range r.Receivers[level] {
				if !slices.Contains(known, name) {
					errs = append(errs, fmt.Errorf("%s: rules[%d] (%s): receivers.%s: unknown receiver %q%s", rs.File, i, r.Name, level, name, yamlconf.Hint(name, known)))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// KeepReceivers drops from every rule the receivers not in known and
// returns the names dropped, sorted: for the built-in rules on a server
// that was given no receivers, which still shows its reports on the
// screens.
func (rs *Rules) KeepReceivers(known []string) []string {
	var dropped []string
	for i := range rs.Rules {
		for level, names := range rs.Rules[i].Receivers {
			kept := names[:0:0]
			for _, n := range names {
				if slices.Contains(known, n) {
					kept = append(kept, n)
				} else if !slices.Contains(dropped, n) {
					dropped = append(dropped, n)
				}
			}
			rs.Rules[i].Receivers[level] = kept
		}
	}
	slices.Sort(dropped)
	return dropped
}

// Rule returns the rule named name.
func (rs *Rules) Rule(name string) (*Rule, bool) {
	for i := range rs.Rules {
		if rs.Rules[i].Name == name {
			return &rs.Rules[i], true
		}
	}
	return nil, false
}

// Load reads a rules file (see Parse).
func Load(path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return Parse(path, data)
}

// Default returns the rules of the embedded sample.yaml.
func Default() *Rules {
	rs, err := Parse("report/sample.yaml", []byte(Sample))
	if err != nil {
		// The sample is embedded and parsed by the tests.
		panic("report: embedded sample.yaml: " + err.Error())
	}
	return rs
}

// levelByName maps the level names of configs to region levels.
func levelByName(s string) (region.Level, bool) {
	for _, l := range []region.Level{region.Province, region.City, region.County, region.Township} {
		if l.String() == s {
			return l, true
		}
	}
	return 0, false
}

var levelNames = []string{"province", "city", "county", "township"}
