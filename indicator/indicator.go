// Package indicator is the catalog of indicators of SPEC.md section 5: ids,
// names in Chinese and English, whether each is a count or a rate, its
// direction, which records it reads, and its default target, floor and
// composite weight (SPEC.md section 6). Everything that shows, ranks or
// grades an indicator takes its meaning from here; scoring.Default is
// built from the goals of this catalog.
//
// # Adding an indicator
//
// An indicator is one entry here plus the counters that compute it in the
// engine; docs/howto/add-indicator.md works through an example. The files,
// in order:
//
//  1. SPEC.md section 5: the definition (numerator, denominator, window).
//  2. indicator/indicator.go: an id constant and a Def in the catalog, in
//     SPEC order, with its Goal (none for a volume).
//  3. engine/kinds.go (engine/items.go for the item catalog): a counter
//     column, an indSpec naming the id constant, and the column's
//     increment in the kind's contrib (itemRow); engine/engine.go too when
//     the increment needs a record field the compact record does not keep
//     yet (the Upsert* methods fill it). engine's TestIndicatorsMatchCatalog
//     fails until the engine and this catalog agree.
//  4. scoring/testdata/targets.yaml: the Goal written out, in the
//     "default" and "township" sections (TestDefaultsMatchExampleFile).
//  5. What lists every indicator's results: the compute contract's
//     cli/testdata/sample/expected-*.json, its independent peer
//     scripts/duckdb/indicators.sql, console/testdata/golden (go test
//     ./console -update, then read the diff), and tests that count the
//     indicators of one record kind (today the call indicators, in the
//     live, feed and history tests).
//  6. dashboards/README.md: the table of ids.
//
// Nothing else: screens, the console, exports and targets files read the
// names, the direction, count or rate and the default goal from Def.
package indicator

import (
	"math"

	"github.com/yiping-ioc/yiping/record"
)

// The indicator ids, in SPEC.md order. Code that names one indicator uses
// these constants, so a misspelt id does not compile.
const (
	CaseVolume             = "case_volume"
	OnlineCaseRate         = "online_case_rate"
	FullOnlineCaseRate     = "full_online_case_rate"
	MobileCaseRate         = "mobile_case_rate"
	OnTimeRate             = "on_time_rate"
	OverdueOpen            = "overdue_open"
	EvalCount              = "eval_count"
	SatisfactionRate       = "satisfaction_rate"
	BadReviewCount         = "bad_review_count"
	RectifyOnTimeRate      = "rectify_on_time_rate"
	TicketVolume           = "ticket_volume"
	DirectRate             = "direct_rate"
	TicketOnTimeRate       = "ticket_on_time_rate"
	TicketSatisfactionRate = "ticket_satisfaction_rate"
	CallVolume             = "call_volume"
	AnswerRate             = "answer_rate"
	Answer15sRate          = "answer_15s_rate"
	OnlineAvailableRate    = "online_available_rate"
	FullOnlineItemRate     = "full_online_item_rate"
	MobileAvailableRate    = "mobile_available_rate"
	ZeroVisitRate          = "zero_visit_rate"
	MaxOneVisitRate        = "max_one_visit_rate"
	InHallRate             = "in_hall_rate"
	TimeCompressionRatio   = "time_compression_ratio"
)

// Def describes one indicator.
type Def struct {
	ID     string
	Name   string // zh-CN, as the assessment documents call it
	NameEN string
	// Rate is true for ratios (numerator/denominator); false for counts,
	// which have no denominator.
	Rate bool
	// LowerIsBetter marks counts of bad things (overdue cases, 差评).
	LowerIsBetter bool
	// Source is the record kind the indicator reads.
	Source record.Kind
	// Periodic is false for catalog indicators, which describe the newest
	// catalog rather than a time window.
	Periodic bool
	// Goal is the default target, floor and weight; the zero Goal (the
	// volumes) means no default rule: no status and no score.
	Goal Goal
}

// Goal is an indicator's default target (目标值), floor and weight in the
// composite score (综合指数), SPEC.md section 6. A targets file
// (package scoring) overrides any of them per level.
//
// It is plain data rather than a function of the level, so that every
// default figure can be read, and diffed, in the catalog below, and Def
// stays comparable. Only the floor differs by level today, so only Floor
// is per level; a per-level target would turn Target into a ByLevel too.
type Goal struct {
	// Target is green at or beyond it. Rates are fractions (0.98), counts
	// numbers of records. The same at every level: the assessment
	// documents hold every level to one target.
	Target float64
	// Floor is red beyond it, per level: how much room a unit has below
	// the target depends on its size.
	Floor ByLevel
	// Weight is the indicator's weight in the composite score; 0 shows the
	// status but leaves the indicator out (counts do not compare across
	// units of different size).
	Weight float64
}

// ByLevel is one figure per level: the four region levels and "dept", the
// level of departments ranked within a region (scoring's level names).
type ByLevel struct {
	Province, City, County, Township, Dept float64
}

// rateFloor is the floor of a rate at every level: f, and 5 points lower
// (not below 0) for townships, which have few records a period, so that
// one late case moves a rate by points. f itself is the target less 20
// points unless the entry says otherwise: assessments deduct in proportion
// over a wide band ("每低 0.1 个百分点扣…分，扣完为止") rather than fail a unit
// 10 points below a 100% target.
func rateFloor(f float64) ByLevel {
	// Rounded so that 0.79 − 0.05 is 0.74, not 0.7400000000000001.
	township := math.Round(max(f-0.05, 0)*1e6) / 1e6
	return ByLevel{Province: f, City: f, County: f, Township: township, Dept: f}
}

// countFloor is the floor of a count of bad things, growing with the size
// of the unit; departments are held as counties.
func countFloor() ByLevel {
	return ByLevel{Province: 100, City: 30, County: 10, Township: 3, Dept: 10}
}

// all is the catalog, in SPEC.md order. Goals: weight 2 where an assessment
// document sets the target, 1 otherwise, 0 for counts; the figures come
// from SPEC.md sections 6 and 11. Volumes have no goal: more is neither
// better nor worse.
var all = []Def{
	// Cases.
	{ID: CaseVolume, Name: "办件量", NameEN: "Cases",
		Source: record.KindCase, Periodic: true},
	{ID: OnlineCaseRate, Name: "网上办件率", NameEN: "Online case rate",
		Rate: true, Source: record.KindCase, Periodic: true,
		// Gansu >93% of items online, Huaibei a 98.97% online case rate.
		Goal: Goal{Target: 0.95, Floor: rateFloor(0.75), Weight: 1}},
	{ID: FullOnlineCaseRate, Name: "全程网办办件率", NameEN: "Fully-online case rate",
		Rate: true, Source: record.KindCase, Periodic: true,
		// Gansu platform, 86% fully online.
		Goal: Goal{Target: 0.86, Floor: rateFloor(0.66), Weight: 1}},
	{ID: MobileCaseRate, Name: "掌上办件率", NameEN: "Mobile case rate",
		Rate: true, Source: record.KindCase, Periodic: true,
		// Kongtong's ≥20% active app users, the only mobile figure.
		Goal: Goal{Target: 0.20, Floor: rateFloor(0), Weight: 1}},
	{ID: OnTimeRate, Name: "按时办结率", NameEN: "On-time closure rate",
		Rate: true, Source: record.KindCase, Periodic: true,
		// Promised limits are legal commitments (Shangqiu closes 99%).
		Goal: Goal{Target: 1, Floor: rateFloor(0.80), Weight: 2}},
	{ID: OverdueOpen, Name: "超期未办结件数", NameEN: "Open overdue cases",
		LowerIsBetter: true, Source: record.KindCase, Periodic: true,
		// Any open overdue case is not green.
		Goal: Goal{Target: 0, Floor: countFloor(), Weight: 0}},

	// Evaluations (好差评).
	{ID: EvalCount, Name: "评价量", NameEN: "Evaluations",
		Source: record.KindEvaluation, Periodic: true},
	{ID: SatisfactionRate, Name: "好差评满意率", NameEN: "Satisfaction rate",
		Rate: true, Source: record.KindEvaluation, Periodic: true,
		// Huaibei 99.99%.
		Goal: Goal{Target: 0.99, Floor: rateFloor(0.79), Weight: 2}},
	{ID: BadReviewCount, Name: "差评数", NameEN: "Bad reviews",
		LowerIsBetter: true, Source: record.KindEvaluation, Periodic: true,
		// Any 差评 is not green.
		Goal: Goal{Target: 0, Floor: countFloor(), Weight: 0}},
	{ID: RectifyOnTimeRate, Name: "差评按期整改率", NameEN: "Bad reviews rectified on time",
		Rate: true, Source: record.KindEvaluation, Periodic: true,
		// SPEC.md section 6 and Kongtong, 100%.
		Goal: Goal{Target: 1, Floor: rateFloor(0.80), Weight: 2}},

	// 12345 hotline.
	{ID: TicketVolume, Name: "工单受理量", NameEN: "Hotline tickets",
		Source: record.KindTicket, Periodic: true},
	{ID: DirectRate, Name: "直办率", NameEN: "Direct handling rate",
		Rate: true, Source: record.KindTicket, Periodic: true,
		// Shangqiu settles 160,000 of 260,000 tickets at once (62%).
		Goal: Goal{Target: 0.60, Floor: rateFloor(0.40), Weight: 1}},
	{ID: TicketOnTimeRate, Name: "工单按时办结率", NameEN: "Tickets closed on time",
		Rate: true, Source: record.KindTicket, Periodic: true,
		// Kongtong, 12345 tickets closed on time 100%.
		Goal: Goal{Target: 1, Floor: rateFloor(0.80), Weight: 2}},
	{ID: TicketSatisfactionRate, Name: "工单满意率", NameEN: "Ticket satisfaction rate",
		Rate: true, Source: record.KindTicket, Periodic: true,
		// Shangqiu ≥94% (Gansu's 85.37% is amber).
		Goal: Goal{Target: 0.94, Floor: rateFloor(0.74), Weight: 2}},
	{ID: CallVolume, Name: "来电量", NameEN: "Calls",
		Source: record.KindCall, Periodic: true},
	{ID: AnswerRate, Name: "接通率", NameEN: "Answer rate",
		Rate: true, Source: record.KindCall, Periodic: true,
		// SPEC.md section 6, 95% (Gansu reaches 95.5%).
		Goal: Goal{Target: 0.95, Floor: rateFloor(0.75), Weight: 2}},
	{ID: Answer15sRate, Name: "15秒接通率", NameEN: "Answered within 15 s",
		Rate: true, Source: record.KindCall, Periodic: true,
		// No figure in the documents: the call-centre service level
		// commonly asked (GB/T 33358 sets the 15 s).
		Goal: Goal{Target: 0.80, Floor: rateFloor(0.60), Weight: 1}},

	// Item catalog (no period).
	{ID: OnlineAvailableRate, Name: "网上可办率", NameEN: "Items available online",
		Rate: true, Source: record.KindItem,
		// Kongtong, 100%.
		Goal: Goal{Target: 1, Floor: rateFloor(0.80), Weight: 2}},
	{ID: FullOnlineItemRate, Name: "全程网办率（事项）", NameEN: "Items fully online",
		Rate: true, Source: record.KindItem,
		// SPEC.md section 6 and Kongtong, ≥98%.
		Goal: Goal{Target: 0.98, Floor: rateFloor(0.78), Weight: 2}},
	{ID: MobileAvailableRate, Name: "掌上可办率", NameEN: "Items available on mobile",
		Rate: true, Source: record.KindItem,
		// No figure in the documents.
		Goal: Goal{Target: 0.80, Floor: rateFloor(0.60), Weight: 1}},
	{ID: ZeroVisitRate, Name: "零跑动率", NameEN: "Zero-visit items",
		Rate: true, Source: record.KindItem,
		// Provincial licensing items, 87.34%.
		Goal: Goal{Target: 0.87, Floor: rateFloor(0.67), Weight: 1}},
	{ID: MaxOneVisitRate, Name: "最多跑一次率", NameEN: "At most one visit",
		Rate: true, Source: record.KindItem,
		// Provincial licensing items, 99.81%.
		Goal: Goal{Target: 0.99, Floor: rateFloor(0.79), Weight: 1}},
	{ID: InHallRate, Name: "事项进驻率", NameEN: "Items in the service hall",
		Rate: true, Source: record.KindItem,
		// No figure in the documents.
		Goal: Goal{Target: 0.95, Floor: rateFloor(0.75), Weight: 1}},
	{ID: TimeCompressionRatio, Name: "承诺时限压缩比", NameEN: "Time-limit compression",
		Rate: true, Source: record.KindItem,
		// Kongtong, 95%; the floor is the national goal of promising at
		// most half the legal time limit.
		Goal: Goal{Target: 0.95, Floor: rateFloor(0.50), Weight: 1}},
}

// All returns every indicator in SPEC.md order. The slice must not be
// modified.
func All() []Def { return all }

// Lookup finds an indicator by id.
func Lookup(id string) (Def, bool) {
	for _, d := range all {
		if d.ID == id {
			return d, true
		}
	}
	return Def{}, false
}

// HasGoal reports whether the indicator has a default target; volumes do
// not.
func (d Def) HasGoal() bool { return d.Goal != Goal{} }
