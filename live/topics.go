package live

import (
	"strings"
)

// Topics are the names of the hub's streams. This file is the only place
// that spells them: the publishers here build them with these functions,
// the pages hand the names they need to their scripts, and the access
// check reads a topic's region back with Parse.
//
//	ind:<indicator>:<region>:<period>   one indicator's value   (Value)
//	score:<region>:<period>             a region's composite    (Score)
//	rank:<indicator>:<region>:<period>  the ranking of a region's children
//	                                    by an indicator, or by "composite" (Ranking)
//	ticker:<region>                     the newest hotline tickets of a
//	                                    region and below (Ticker)
//	health:<source>                     a collector source's health (Health)
//	report:<region>                     the open special reports of a region
//	                                    and below (package report)
//	surge:<region>                      the surging ticket categories of a
//	                                    region and below (package trend)
//	orders:<region>                     the open supervision orders (督办) of
//	                                    a region and below (package dispatch)
//	sys:clock                           the server's heartbeat (Clock)
const (
	prefixIndicator = "ind:"
	prefixScore     = "score:"
	prefixRanking   = "rank:"
	prefixTicker    = "ticker:"
	prefixHealth    = "health:"
	prefixReport    = "report:"
	prefixSurge     = "surge:"
	prefixOrders    = "orders:"

	// ClockTopic carries the server's clock every few seconds: the
	// heartbeat by which a screen knows its connection still carries data.
	ClockTopic = "sys:clock"

	// Composite is the pseudo-indicator under which pages and rankings
	// show the composite score (综合指数, 0–100).
	Composite = "composite"
)

// IndicatorTopic is the topic of one indicator in one region and period,
// e.g. IndicatorTopic("on_time_rate", "620800", "month"). With indicator
// Composite it is the region's ScoreTopic: one name per shown value.
func IndicatorTopic(indicator, region, period string) string {
	if indicator == Composite {
		return ScoreTopic(region, period)
	}
	return prefixIndicator + indicator + ":" + region + ":" + period
}

// ScoreTopic is the topic of a region's composite score in one period.
func ScoreTopic(region, period string) string { return prefixScore + region + ":" + period }

// RankingTopic is the topic of the ranking of region's children (cities of
// a province, counties of a city, townships of a county) by indicator, or
// by Composite, in one period.
func RankingTopic(indicator, region, period string) string {
	return prefixRanking + indicator + ":" + region + ":" + period
}

// TickerTopic is the topic of the newest hotline tickets of a region and
// the regions below it.
func TickerTopic(region string) string { return prefixTicker + region }

// ReportTopic is the topic of the open special reports (特别呈报) of a
// region and the regions below it.
func ReportTopic(region string) string { return prefixReport + region }

// SurgeTopic is the topic of the surging ticket categories (趋势感知) of a
// region and the regions below it.
func SurgeTopic(region string) string { return prefixSurge + region }

// OrdersTopic is the topic of the open supervision orders (督办单) of a
// region and the regions below it, overdue first.
func OrdersTopic(region string) string { return prefixOrders + region }

// HealthTopic is the topic of one collector source's health.
func HealthTopic(source string) string { return prefixHealth + source }

// Kind tells what a topic carries.
type Kind int

// The kinds of topic.
const (
	KindUnknown Kind = iota
	KindIndicator
	KindScore
	KindRanking
	KindTicker
	KindHealth
	KindClock
	KindReport
	KindSurge
	KindOrders
)

// Topic is a topic name taken apart.
type Topic struct {
	Kind      Kind
	Indicator string // KindIndicator, KindRanking
	Region    string // every kind but KindHealth and KindClock
	Period    string // KindIndicator, KindScore, KindRanking
	Source    string // KindHealth
}

// Parse takes a topic name apart; ok is false for a name no publisher
// here builds. It checks the shape only (the parts are non-empty and hold
// no ':'), not that an indicator or region exists.
func Parse(name string) (Topic, bool) {
	parts := func(rest string, n int) ([]string, bool) {
		ps := strings.Split(rest, ":")
		if len(ps) != n {
			return nil, false
		}
		for _, p := range ps {
			if p == "" {
				return nil, false
			}
		}
		return ps, true
	}
	switch {
	case name == ClockTopic:
		return Topic{Kind: KindClock}, true
	case strings.HasPrefix(name, prefixIndicator):
		if p, ok := parts(name[len(prefixIndicator):], 3); ok {
			return Topic{Kind: KindIndicator, Indicator: p[0], Region: p[1], Period: p[2]}, true
		}
	case strings.HasPrefix(name, prefixScore):
		if p, ok := parts(name[len(prefixScore):], 2); ok {
			return Topic{Kind: KindScore, Region: p[0], Period: p[1]}, true
		}
	case strings.HasPrefix(name, prefixRanking):
		if p, ok := parts(name[len(prefixRanking):], 3); ok {
			return Topic{Kind: KindRanking, Indicator: p[0], Region: p[1], Period: p[2]}, true
		}
	case strings.HasPrefix(name, prefixTicker):
		if p, ok := parts(name[len(prefixTicker):], 1); ok {
			return Topic{Kind: KindTicker, Region: p[0]}, true
		}
	case strings.HasPrefix(name, prefixReport):
		if p, ok := parts(name[len(prefixReport):], 1); ok {
			return Topic{Kind: KindReport, Region: p[0]}, true
		}
	case strings.HasPrefix(name, prefixSurge):
		if p, ok := parts(name[len(prefixSurge):], 1); ok {
			return Topic{Kind: KindSurge, Region: p[0]}, true
		}
	case strings.HasPrefix(name, prefixOrders):
		if p, ok := parts(name[len(prefixOrders):], 1); ok {
			return Topic{Kind: KindOrders, Region: p[0]}, true
		}
	case strings.HasPrefix(name, prefixHealth):
		if p, ok := parts(name[len(prefixHealth):], 1); ok {
			return Topic{Kind: KindHealth, Source: p[0]}, true
		}
	}
	return Topic{}, false
}
