package report

import (
	"context"
	"fmt"
	"time"

	"github.com/yiping-ioc/yiping/region"
)

// OverdueOrders gives the supervision orders (督办单, package dispatch)
// past their deadline now: how many per responsible unit's region. The
// app backs it; an Input that also implements it feeds the
// orders_overdue rules, and one that does not leaves them quiet.
type OverdueOrders interface {
	OverdueOrders(ctx context.Context, now time.Time) (map[string]int, error)
}

// OverdueOrders implements OverdueOrders: none without Orders.
func (in Inputs) OverdueOrders(ctx context.Context, now time.Time) (map[string]int, error) {
	if in.Orders == nil {
		return nil, nil
	}
	return in.Orders.OverdueOrders(ctx, now)
}

// orders judges the orders_overdue rules: a rule with a level counts each
// overdue order under its unit's ancestor of that level (or the unit
// itself, when the unit is above that level), one without under the
// regions it lists; a region with at least AtLeast of them is a
// condition. When the orders cannot be read, the conditions stay as they
// were.
func (e *evaluator) orders(ctx context.Context, now time.Time, in Input) error {
	if len(e.orderRules) == 0 {
		return nil
	}
	var byUnit map[string]int
	if src, ok := in.(OverdueOrders); ok {
		var err error
		if byUnit, err = src.OverdueOrders(ctx, now); err != nil {
			return fmt.Errorf("report: overdue orders: %w", err)
		}
	}
	for _, r := range e.orderRules {
		for k := range e.cond {
			if k.rule == r.Name {
				delete(e.cond, k)
			}
		}
		counts := map[string]int64{}
		for unit, n := range byUnit {
			for _, at := range orderRegions(r, unit) {
				counts[at] += int64(n)
			}
		}
		for reg, n := range counts {
			if n < r.AtLeast {
				continue
			}
			e.cond[key{r.Name, reg, ""}] = finding{Value: fmtValue(false, float64(n)), Threshold: fmtValue(false, float64(r.AtLeast)),
				Text:   fmt.Sprintf("超期未办结督办单 %s 件（阈值 %s 件）", fmtValue(false, float64(n)), fmtValue(false, float64(r.AtLeast))),
				TextEN: fmt.Sprintf("%s supervision orders overdue (threshold %s)", fmtValue(false, float64(n)), fmtValue(false, float64(r.AtLeast)))}
		}
	}
	return nil
}

// orderRegions are the regions under which rule r counts an overdue order
// to unit.
func orderRegions(r *Rule, unit string) []string {
	c, err := region.ParseCode(unit)
	if err != nil {
		return nil
	}
	if r.Level != 0 && c.Level() > r.Level {
		var buf [4]region.Code
		for _, a := range c.Ancestors(buf[:0]) {
			if a.Level() == r.Level {
				c = a
				break
			}
		}
	}
	if len(r.Regions) == 0 {
		return []string{string(c)}
	}
	var out []string
	for _, want := range r.Regions {
		if r.Level != 0 {
			if under(string(c), want) {
				return []string{string(c)}
			}
			continue
		}
		if under(string(c), want) {
			out = append(out, want)
		}
	}
	return out
}
