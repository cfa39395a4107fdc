package scoring

import "math"

// Default returns the built-in targets, floors, weights and tiers. The
// reasons for each figure are in the package documentation and in
// testdata/targets.yaml, which spells the defaults out as a targets file
// (a test keeps the two equal).
func Default() *Config {
	// Rates: the same target at every level (assessments hold every level
	// to one target); the floor is the target less 20 points, except
	// time_compression_ratio whose floor is the national goal of halving
	// legal time limits. Weight 2 for the indicators with a target in the
	// assessment documents (SPEC.md sections 6 and 11), 1 for the rest.
	rates := []struct {
		id             string
		target, weight float64
	}{
		{"online_case_rate", 0.95, 1},
		{"full_online_case_rate", 0.86, 1},
		{"mobile_case_rate", 0.20, 1},
		{"on_time_rate", 1.00, 2},
		{"satisfaction_rate", 0.99, 2},
		{"rectify_on_time_rate", 1.00, 2},
		{"direct_rate", 0.60, 1},
		{"ticket_on_time_rate", 1.00, 2},
		{"ticket_satisfaction_rate", 0.94, 2},
		{"answer_rate", 0.95, 2},
		{"answer_15s_rate", 0.80, 1},
		{"online_available_rate", 1.00, 2},
		{"full_online_item_rate", 0.98, 2},
		{"mobile_available_rate", 0.80, 1},
		{"zero_visit_rate", 0.87, 1},
		{"max_one_visit_rate", 0.99, 1},
		{"in_hall_rate", 0.95, 1},
		{"time_compression_ratio", 0.95, 1},
	}
	// Counts of bad things: target 0 (any open overdue case or 差评 is not
	// green); the floor grows with the size of the unit; weight 0, since a
	// count does not compare across units of different size.
	countFloor := map[string]float64{
		LevelProvince: 100, LevelCity: 30, LevelCounty: 10, LevelTownship: 3, LevelDept: 10,
	}
	c := &Config{levels: map[string]map[string]Rule{}, tiers: defaultTiers()}
	for _, l := range levelNames() {
		m := make(map[string]Rule, len(rates)+2)
		for _, r := range rates {
			floor := max(r.target-0.20, 0)
			if r.id == "time_compression_ratio" {
				floor = 0.50
			}
			if l == LevelTownship {
				// Townships have few records a period, so one late case
				// moves a rate by points: 5 more points before red.
				floor = max(floor-0.05, 0)
			}
			m[r.id] = Rule{Target: r.target, Floor: round6(floor), Weight: r.weight}
		}
		m["overdue_open"] = Rule{Target: 0, Floor: countFloor[l], Weight: 0}
		m["bad_review_count"] = Rule{Target: 0, Floor: countFloor[l], Weight: 0}
		c.levels[l] = m
	}
	return c
}

// round6 turns 0.95 − 0.10 (0.8499999999999999) into 0.85.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// defaultTiers are the 等次 of SPEC.md section 6.
func defaultTiers() []Tier {
	return []Tier{
		{Name: "第一等次", NameEN: "Tier 1", Min: 90},
		{Name: "第二等次", NameEN: "Tier 2", Min: 75},
		{Name: "第三等次", NameEN: "Tier 3", Min: 60},
		{Name: "第四等次", NameEN: "Tier 4", Min: 0},
	}
}
