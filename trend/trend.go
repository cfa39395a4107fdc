// Package trend senses surges of 12345 hotline tickets (趋势感知, SPEC.md
// section 8): one category of tickets in one region far above that
// series' own history, today so far and in the last hour.
//
// Counts keeps, per (category × region) and for every ancestor region,
// the minute each ticket was received over the last weeks, fed with the
// collectors' ticket batches. Surges runs a detector from the
// surveillance literature over each series and returns those alarming
// now. The detectors are EARS C1, C2 and C3 exactly as the R package
// surveillance's earsC computes them, and a negative binomial CUSUM (the
// LR chart of surveillance's glrnb with a known shift) on a baseline
// adjusted for working and rest days; scripts/gen-trend-golden.R makes
// the golden files the tests hold them to. docs/PERFORMANCE.md ("Trend
// sensing") measures them on the demo platform's injected surges, which
// is how the default was chosen.
package trend

import (
	"fmt"
	"time"
)

// Method names a detector.
type Method string

// The detectors.
const (
	// EARSC1 compares today with the mean and sd of the 7 days before
	// (a Shewhart chart on a short baseline).
	EARSC1 Method = "ears_c1"
	// EARSC2 is C1 with a 2-day guard between today and its baseline.
	EARSC2 Method = "ears_c2"
	// EARSC3 sums the C2 excesses of the days before, as R's earsC does.
	EARSC3 Method = "ears_c3"
	// NBCUSUM is a negative binomial CUSUM over the last days against a
	// working/rest-day baseline of the weeks before them.
	NBCUSUM Method = "nb_cusum"
)

// DefaultMethod is the detector Surges uses when Config.Method is empty.
// On the demo's injected surges EARS C1 and C2 at their threshold of 3
// raise ~185 false alarms a day; at a threshold that brings them down to
// the NB CUSUM's rate they find the surges as soon at the median and later
// at the p90, with a threshold that has lost its meaning, and they know
// nothing of rest days (docs/PERFORMANCE.md, "Trend sensing").
const DefaultMethod = NBCUSUM

// Methods lists the detectors, for configuration errors and benchmarks.
func Methods() []Method { return []Method{EARSC1, EARSC2, EARSC3, NBCUSUM} }

// Detector constants that are the methods' definitions rather than
// settings.
const (
	// earsBaseline is earsC's default baseline of 7 days.
	earsBaseline = 7
	// runDays is how many days the NB CUSUM accumulates: a week, so that
	// a rise that began a few days ago is still seen, against a baseline
	// of the weeks before it that the rise cannot have inflated.
	runDays = 7
	// pseudoDays shrinks each day type's mean toward the overall mean
	// (fitNB).
	pseudoDays = 2
)

// Config chooses and tunes the detector. Zero fields take the defaults
// given.
type Config struct {
	// Method is the detector (default DefaultMethod).
	Method Method
	// Threshold is the score above which a series alarms (default: 3 for
	// C1 and C2, z of R's alpha = 0.001 rounded as EARS does; 2 for C3;
	// DefaultCUSUMThreshold for the NB CUSUM).
	Threshold float64
	// MinCount ignores tiny series: a window (today so far, the last
	// hour) with fewer tickets never alarms (default 5).
	MinCount int
	// MinSigma is the least standard deviation a series' count is
	// assumed to have (default 1, as Burkom suggests for sparse data):
	// EARS uses max(sd, MinSigma); the NB CUSUM raises the expected count
	// until its sd is MinSigma. It keeps a series that is nearly always 0
	// from alarming on its first few tickets.
	MinSigma float64
	// BaselineWeeks is the NB CUSUM's baseline, in weeks before its
	// 7-day run (default 4, at most 7 with the 56 days Counts keeps).
	BaselineWeeks int
	// DayOnly turns the hourly check off: only today so far is judged,
	// not the last 60 minutes.
	DayOnly bool
	// Shift is the increase the NB CUSUM is tuned to detect, as a ratio
	// of the expected count (default 4: a burst, as a water main or a
	// heating outage brings; 2 finds slower rises, later).
	Shift float64
	// MinDispersion is the least negative binomial dispersion alpha the
	// NB CUSUM assumes (variance mu + alpha mu²; default 0.05).
	MinDispersion float64
}

// DefaultCUSUMThreshold is the NB CUSUM's default decision interval h, a
// log likelihood ratio: on the demo it finds every injected surge, a
// median 25 minutes after its start, with about one false alarm every two
// weeks across a province's ~1,500 county and city series
// (docs/PERFORMANCE.md, "Trend sensing").
const DefaultCUSUMThreshold = 12

// Validate reports a configuration Surges cannot use. Zero fields are
// valid (they take the defaults).
func (c Config) Validate() error {
	known := c.Method == ""
	for _, m := range Methods() {
		known = known || c.Method == m
	}
	switch {
	case !known:
		return fmt.Errorf("trend: method %q: want one of %v", c.Method, Methods())
	case c.Threshold < 0:
		return fmt.Errorf("trend: threshold %v is negative", c.Threshold)
	case c.MinCount < 0:
		return fmt.Errorf("trend: min_count %d is negative", c.MinCount)
	case c.MinSigma < 0:
		return fmt.Errorf("trend: min_sigma %v is negative", c.MinSigma)
	case c.BaselineWeeks < 0 || c.BaselineWeeks > 7:
		return fmt.Errorf("trend: baseline_weeks %d: want 1 to 7", c.BaselineWeeks)
	case c.Shift != 0 && c.Shift <= 1:
		return fmt.Errorf("trend: shift %v: want more than 1 (the ratio of increase to detect)", c.Shift)
	case c.MinDispersion < 0:
		return fmt.Errorf("trend: min_dispersion %v is negative", c.MinDispersion)
	}
	return nil
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.Method == "" {
		c.Method = DefaultMethod
	}
	if c.Threshold == 0 {
		switch c.Method {
		case EARSC3:
			c.Threshold = 2
		case NBCUSUM:
			c.Threshold = DefaultCUSUMThreshold
		default:
			c.Threshold = 3
		}
	}
	if c.MinCount == 0 {
		c.MinCount = 5
	}
	if c.MinSigma == 0 {
		c.MinSigma = 1
	}
	if c.BaselineWeeks == 0 {
		c.BaselineWeeks = 4
	}
	if c.Shift == 0 {
		c.Shift = 4
	}
	if c.MinDispersion == 0 {
		c.MinDispersion = 0.05
	}
	return c
}

// Window is the stretch of time a surge was judged on.
type Window string

// The windows.
const (
	// Day is today so far (00:00 to now), against the same part of past
	// days.
	Day Window = "day"
	// Hour is the last 60 minutes (from 00:00 in a day's first hour),
	// against the same minutes of past days.
	Hour Window = "hour"
)

// Surge is a series surging now.
type Surge struct {
	Category string
	Region   string
	Method   Method
	// Window is the check that alarmed, the one with the higher score
	// when both did.
	Window Window
	// Count is the tickets in the window so far.
	Count int
	// Expected is the in-control count for the window so far.
	Expected float64
	// Upper is the count above which the detector alarms.
	Upper float64
	// Score is the detector's statistic, above Config.Threshold.
	Score float64
	// Since is when the alarm began today, to 10 minutes: the earliest
	// of the instants now, now-10min, ... back to which the series has
	// alarmed without a break.
	Since time.Time
}
