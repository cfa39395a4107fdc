// Package indicator is the catalog of indicators of SPEC.md section 5: ids,
// names in Chinese and English, whether each is a count or a rate, its
// direction and which records it reads. Everything that shows or ranks an
// indicator takes its meaning from here.
package indicator

import "github.com/yiping-ioc/yiping/record"

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
}

var all = []Def{
	{"case_volume", "办件量", "Cases", false, false, record.KindCase, true},
	{"online_case_rate", "网上办件率", "Online case rate", true, false, record.KindCase, true},
	{"full_online_case_rate", "全程网办办件率", "Fully-online case rate", true, false, record.KindCase, true},
	{"mobile_case_rate", "掌上办件率", "Mobile case rate", true, false, record.KindCase, true},
	{"on_time_rate", "按时办结率", "On-time closure rate", true, false, record.KindCase, true},
	{"overdue_open", "超期未办结件数", "Open overdue cases", false, true, record.KindCase, true},
	{"eval_count", "评价量", "Evaluations", false, false, record.KindEvaluation, true},
	{"satisfaction_rate", "好差评满意率", "Satisfaction rate", true, false, record.KindEvaluation, true},
	{"bad_review_count", "差评数", "Bad reviews", false, true, record.KindEvaluation, true},
	{"rectify_on_time_rate", "差评按期整改率", "Bad reviews rectified on time", true, false, record.KindEvaluation, true},
	{"ticket_volume", "工单受理量", "Hotline tickets", false, false, record.KindTicket, true},
	{"direct_rate", "直办率", "Direct handling rate", true, false, record.KindTicket, true},
	{"ticket_on_time_rate", "工单按时办结率", "Tickets closed on time", true, false, record.KindTicket, true},
	{"ticket_satisfaction_rate", "工单满意率", "Ticket satisfaction rate", true, false, record.KindTicket, true},
	{"call_volume", "来电量", "Calls", false, false, record.KindCall, true},
	{"answer_rate", "接通率", "Answer rate", true, false, record.KindCall, true},
	{"answer_15s_rate", "15秒接通率", "Answered within 15 s", true, false, record.KindCall, true},
	{"online_available_rate", "网上可办率", "Items available online", true, false, record.KindItem, false},
	{"full_online_item_rate", "全程网办率（事项）", "Items fully online", true, false, record.KindItem, false},
	{"mobile_available_rate", "掌上可办率", "Items available on mobile", true, false, record.KindItem, false},
	{"zero_visit_rate", "零跑动率", "Zero-visit items", true, false, record.KindItem, false},
	{"max_one_visit_rate", "最多跑一次率", "At most one visit", true, false, record.KindItem, false},
	{"in_hall_rate", "事项进驻率", "Items in the service hall", true, false, record.KindItem, false},
	{"time_compression_ratio", "承诺时限压缩比", "Time-limit compression", true, false, record.KindItem, false},
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
