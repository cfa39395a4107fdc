package demo

import (
	"math"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/internal/testkit"
)

// TestCalibrationWeek simulates a week (Monday 2026-03-02 to Sunday
// 03-08, no holidays) with a fake clock, pulls every record through the
// API into the real engine via ingest, and checks the indicators against
// the figures of SPEC.md section 11 and the lagging counties against the
// rest.
func TestCalibrationWeek(t *testing.T) {
	loc := testkit.Shanghai(t)
	end := time.Date(2026, 3, 9, 0, 0, 0, 0, loc)
	d, _ := newTestDemo(t, end, 8*24*time.Hour, nil)
	t.Logf("backfill of 8 days: %v", d.backfill)
	eng := loadEngine(t, d)
	const prov = "620000"
	week := indexResults(eng.Evaluate(end.UnixNano()-1, engine.Week, false))

	t.Run("daily volumes", func(t *testing.T) {
		for day := 0; day < 7; day++ {
			from := time.Date(2026, 3, 2+day, 0, 0, 0, 0, loc)
			x := indexResults(eng.Evaluate(from.AddDate(0, 0, 1).UnixNano()-1, engine.Day, false))
			tickets := x.get(t, "ticket_volume", prov).Numerator
			t.Logf("%s %s: tickets %d, calls %d, cases %d, evaluations %d", from.Format("2006-01-02"), from.Weekday(),
				tickets, x.get(t, "call_volume", prov).Numerator, x.get(t, "case_volume", prov).Numerator,
				x.get(t, "eval_count", prov).Numerator)
			if !d.m.isWorkday(d.m.dayOf(from.Unix())) {
				if tickets >= 7500 {
					t.Errorf("%s is a rest day but has %d tickets, as many as a workday", from.Format("2006-01-02"), tickets)
				}
				continue
			}
			if math.Abs(float64(tickets)-7500) > 750 {
				t.Errorf("%s: %d tickets, want 7,500 ± 10%%", from.Format("2006-01-02"), tickets)
			}
		}
	})

	t.Run("rates", func(t *testing.T) {
		tests := []struct {
			indicator string
			want, tol float64
		}{
			{"answer_rate", 0.955, 0.01},
			{"ticket_satisfaction_rate", 0.8537, 0.015},
			{"online_available_rate", 0.93, 0.02},
			{"full_online_item_rate", 0.86, 0.02},
			// Not in section 11, but they must look like a working platform.
			{"on_time_rate", 0.95, 0.03},
			{"ticket_on_time_rate", 0.93, 0.04},
			{"satisfaction_rate", 0.97, 0.02},
			{"answer_15s_rate", 0.85, 0.05},
		}
		for _, tt := range tests {
			got := week.rate(t, tt.indicator, prov)
			t.Logf("%-26s %.4f (%d / %d)", tt.indicator, got, week.get(t, tt.indicator, prov).Numerator, week.get(t, tt.indicator, prov).Denominator)
			if math.Abs(got-tt.want) > tt.tol {
				t.Errorf("%s = %.4f, want %.4f ± %.3f", tt.indicator, got, tt.want, tt.tol)
			}
		}
	})

	t.Run("lagging counties lag", func(t *testing.T) {
		for _, c := range d.Lagging() {
			for _, ind := range []string{"on_time_rate", "satisfaction_rate", "ticket_on_time_rate", "ticket_satisfaction_rate"} {
				got, all := week.rate(t, ind, c), week.rate(t, ind, prov)
				t.Logf("%s %-26s %.4f vs province %.4f", c, ind, got, all)
				if got > all-0.05 {
					t.Errorf("lagging county %s: %s = %.4f, want at least 5 points below the province's %.4f", c, ind, got, all)
				}
			}
		}
	})
}
