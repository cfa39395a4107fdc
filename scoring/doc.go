// Package scoring grades indicator values against targets: the target
// (目标值), floor and composite weight of each indicator per region level,
// the red/amber/green status, the 0–100 indicator score, the weighted
// composite score (综合指数) of a unit and its tier (等次), as SPEC.md
// section 6 defines them. Screens and the analyst console share one
// *Config so that a unit is the same colour everywhere.
//
// Levels are "province", "city", "county", "township" (region.Level's
// String) and "dept" for departments ranked within a region; the level of
// a unit being scored is the level of the unit itself.
//
// Values come from numerators and denominators (Input, in the shape of
// engine.Result); the caller sums them over units and never averages
// rates. Comparisons with a target or floor allow 1e-9 for float
// rounding, so 98/100 meets a target of 0.98.
//
// # Defaults
//
// Same at every level except where noted. Floors are the target less 20
// points — assessments deduct in proportion over a wide band ("每低 0.1 个百分点
// 扣…分，扣完为止") rather than fail a unit 10 points below a 100% target;
// townships get floors 5 points lower still (few records a period,
// so one late case moves a rate by points). Weight 2 where an assessment
// document sets the target, 1 otherwise, 0 for counts (a count does not
// compare across units of different size). Sources are SPEC.md sections 6
// and 11.
//
//	indicator                 target  floor   weight  why
//	online_case_rate          95%     75%     1       Gansu >93% online, Huaibei 98.97%
//	full_online_case_rate     86%     66%     1       Gansu 86% fully online
//	mobile_case_rate          20%     0%      1       Kongtong ≥20% active app users
//	on_time_rate              100%    80%     2       legal commitment; Shangqiu 99%
//	overdue_open              0       *       0       lower is better
//	satisfaction_rate         99%     79%     2       Huaibei 好差评 99.99%
//	bad_review_count          0       *       0       lower is better
//	rectify_on_time_rate      100%    80%     2       SPEC.md §6, Kongtong
//	direct_rate               60%     40%     1       Shangqiu 160k of 260k at once
//	ticket_on_time_rate       100%    80%     2       Kongtong
//	ticket_satisfaction_rate  94%     74%     2       Shangqiu ≥94% (Gansu 85.37%: amber)
//	answer_rate               95%     75%     2       SPEC.md §6 (Gansu 95.5%)
//	answer_15s_rate           80%     60%     1       no figure; usual call-centre level
//	online_available_rate     100%    80%     2       Kongtong
//	full_online_item_rate     98%     78%     2       SPEC.md §6, Kongtong
//	mobile_available_rate     80%     60%     1       no figure
//	zero_visit_rate           87%     67%     1       licensing items 87.34%
//	max_one_visit_rate        99%     79%     1       licensing items 99.81%
//	in_hall_rate              95%     75%     1       no figure
//	time_compression_ratio    95%     50%     1       Kongtong 95%; floor: halve legal limits
//	case_volume, eval_count, ticket_volume, call_volume: no rule (no status, not scored)
//
//	* count floors: province 100, city 30, county 10, township 3, dept 10
//
// Tiers: 第一等次 ≥ 90, 第二等次 ≥ 75, 第三等次 ≥ 60, 第四等次 below.
//
// # Targets files
//
// Parse and Load read a YAML file that merges onto the defaults field by
// field; testdata/targets.yaml is the defaults written out as such a file
// with the format explained, and a test keeps it equal to Default.
package scoring
