// Package testengine builds the KPI engine the way tests need it: the
// default calendar in the business time zone, the clock at a fixed wall
// time. It is apart from testkit because it imports the engine, which the
// engine's own dependencies (calendar, record) cannot have in their tests.
package testengine

import (
	"testing"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/record"
)

// New returns an engine over calendar.Default in Asia/Shanghai whose clock
// is now, a business-zone wall time such as "2026-03-31 18:00:00",
// keeping the given periods (none: the engine's default). It fails t on a
// bad time or configuration.
func New(t testing.TB, now string, periods ...engine.Period) *engine.Engine {
	t.Helper()
	loc := testkit.Shanghai(t)
	at, err := record.NewParser(loc).Time(now)
	if err != nil {
		t.Fatalf("engine clock %q: %v", now, err)
	}
	e, err := engine.New(engine.Config{Calendar: calendar.Default(loc), Now: at, Periods: periods})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
