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
// Default is built from the goals of the indicator catalog
// (indicator.All): each indicator's target, floor per level and weight,
// with the reason for each figure, are written there and nowhere else. In
// short: targets are the same at every level; floors are the target less
// 20 points unless the catalog says why not — assessments deduct in proportion over a wide band
// ("每低 0.1 个百分点扣…分，扣完为止") rather than fail a unit 10 points
// below a 100% target — and 5 points lower still for townships (few
// records a period, so one late case moves a rate by points). Weight 2
// where an assessment document sets the target, 1 otherwise, 0 for the
// counts of bad things (a count does not compare across units of
// different size), whose target is 0 and whose floor grows with the size
// of the unit. The volumes have no rule: no status, not scored.
// testdata/targets.yaml writes every figure out.
//
// Tiers: 第一等次 ≥ 90, 第二等次 ≥ 75, 第三等次 ≥ 60, 第四等次 below.
//
// # Targets files
//
// Parse and Load read a YAML file that merges onto the defaults field by
// field; testdata/targets.yaml is the defaults written out as such a file
// with the format explained, and a test keeps it equal to Default.
package scoring
