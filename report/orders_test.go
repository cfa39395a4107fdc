package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// orderInput is a fakeInput with overdue orders per unit.
type orderInput struct {
	*fakeInput
	units map[string]int
	err   error
}

func (o *orderInput) OverdueOrders(context.Context, time.Time) (map[string]int, error) {
	return o.units, o.err
}

// TestOrdersOverdue: overdue orders are counted under their unit's county
// (an order to a city at the city), a region with at_least of them is
// reported, the conditions follow the orders, and an unreadable store
// keeps them as they were.
func TestOrdersOverdue(t *testing.T) {
	e := newTestEvaluator(t, `
rules:
  - name: r
    title: T
    type: orders_overdue
    level: county
    at_least: 2
  - name: one
    title: T
    type: orders_overdue
    regions: ["620800"]
`, nil)
	in := &orderInput{fakeInput: newInput(), units: map[string]int{
		"620802":    1, // the county itself
		"620802001": 1, // one of its townships
		"620821":    1, // another county: below at_least
		"620800":    3, // the city: counted at the city
		"bad":       9,
	}}
	want := []string{
		"620800: 超期未办结督办单 3 件（阈值 2 件）",
		"620800: 超期未办结督办单 6 件（阈值 1 件）",
		"620802: 超期未办结督办单 2 件（阈值 2 件）",
	}
	if got := run(t, e, in.fakeInput, t0); len(got) != 0 {
		t.Errorf("an input without orders: %q", got)
	}
	if err := e.run(context.Background(), t0, in); err != nil {
		t.Fatal(err)
	}
	if got := sortedConds(e); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	in.err = errors.New("database down")
	if err := e.run(context.Background(), t0, in); err == nil {
		t.Error("no error from unreadable orders")
	}
	if got := sortedConds(e); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("unreadable orders changed the conditions: %q", got)
	}
	in.err, in.units = nil, map[string]int{"620802": 1}
	if got := run2(t, e, in); fmt.Sprint(got) != fmt.Sprint([]string{"620800: 超期未办结督办单 1 件（阈值 1 件）"}) {
		t.Errorf("after replies: %q", got)
	}
}

func run2(t *testing.T, e *evaluator, in Input) []string {
	t.Helper()
	if err := e.run(context.Background(), t0, in); err != nil {
		t.Fatal(err)
	}
	return sortedConds(e)
}

// sortedConds is conds in a stable order (two rules may report one region).
func sortedConds(e *evaluator) []string {
	c := conds(e)
	slices.Sort(c)
	return c
}
