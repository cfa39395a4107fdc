package scoring

import "github.com/yiping-ioc/yiping/indicator"

// Default returns the built-in targets, floors, weights and tiers. The
// rules are the goals of the indicator catalog (indicator.All), which is
// the one place each figure and its reason are written; an indicator
// without a goal (the volumes) has no rule. testdata/targets.yaml spells
// the defaults out as a targets file (a test keeps the two equal).
func Default() *Config {
	c := &Config{levels: map[string]map[string]Rule{}, tiers: defaultTiers()}
	for _, l := range levelNames() {
		m := make(map[string]Rule, len(indicator.All()))
		for _, d := range indicator.All() {
			if !d.HasGoal() {
				continue
			}
			m[d.ID] = Rule{Target: d.Goal.Target, Floor: floorAt(d.Goal.Floor, l), Weight: d.Goal.Weight}
		}
		c.levels[l] = m
	}
	return c
}

// floorAt picks a level's figure; the level names are scoring's, so the
// mapping lives here rather than in the catalog.
func floorAt(b indicator.ByLevel, level string) float64 {
	switch level {
	case LevelProvince:
		return b.Province
	case LevelCity:
		return b.City
	case LevelCounty:
		return b.County
	case LevelTownship:
		return b.Township
	default: // LevelDept: levelNames has no other level
		return b.Dept
	}
}

// defaultTiers are the 等次 of SPEC.md section 6.
func defaultTiers() []Tier {
	return []Tier{
		{Name: "第一等次", NameEN: "Tier 1", Min: 90},
		{Name: "第二等次", NameEN: "Tier 2", Min: 75},
		{Name: "第三等次", NameEN: "Tier 3", Min: 60},
		{Name: "第四等次", NameEN: "Tier 4", Min: 0},
	}
}
