package engine

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/record"
)

// TestIncrementalEqualsReplayLong drives the live counters for three years
// in batches (ids repeating within a batch), with clock jumps of up to
// 40 days and records dated around the clock, so that chunks are
// released, reused and the directory rings grow; live must equal replay.
func TestIncrementalEqualsReplayLong(t *testing.T) {
	for _, retain := range []*[NumPeriods]int32{nil, {3, 1, 2, 1, 1}, {0, 0, 0, 0, 0}, {200, 30, 40, 12, 4}} {
		t.Run(fmt.Sprint(retain), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			clock := ts(t, "2025-01-01 00:00:00")
			e, err := New(Config{Calendar: calendar.Default(shanghai), Now: clock, Retain: retain})
			if err != nil {
				t.Fatal(err)
			}
			day := int64(24 * time.Hour)
			regions := []string{"620000", "620100", "620102", "620102001", "620800", "620802", "620802003", "621225"}
			depts := []string{"", "D1", "D2", "D3"}
			for step := 0; step < 300; step++ {
				if rng.IntN(3) == 0 {
					clock += rng.Int64N(40 * day)
					e.Advance(clock)
				}
				around := func() int64 { return clock - rng.Int64N(400*day) + rng.Int64N(20*day) }
				maybe := func(base int64) int64 {
					if rng.IntN(4) == 0 {
						return record.Never
					}
					return base + rng.Int64N(15*day)
				}
				cs := make([]record.Case, rng.IntN(60))
				for i := range cs {
					sub := around()
					cs[i] = record.Case{ID: fmt.Sprint("c", rng.IntN(300)), Region: regions[rng.IntN(len(regions))], Dept: depts[rng.IntN(len(depts))],
						Channel: record.Channel(1 + rng.IntN(4)), Status: record.Status(1 + rng.IntN(5)), FullOnline: rng.IntN(2) == 0,
						Submitted: sub, Accepted: maybe(sub), Closed: maybe(sub), PromisedDays: int32(rng.IntN(6))}
				}
				e.UpsertCases(cs)
				ts := make([]record.Ticket, rng.IntN(40))
				for i := range ts {
					at := around()
					ts[i] = record.Ticket{ID: fmt.Sprint("t", rng.IntN(200)), Region: regions[rng.IntN(len(regions))], Unit: depts[rng.IntN(len(depts))],
						Kind: record.TicketKind(1 + rng.IntN(6)), Channel: record.TicketPhone, Received: at, Direct: rng.IntN(3) == 0,
						Assigned: maybe(at), DeadlineDays: int32(rng.IntN(4) - 1), Closed: maybe(at), Callback: record.Callback(rng.IntN(5))}
				}
				e.UpsertTickets(ts)
				if step%10 == 9 {
					for _, p := range AllPeriods {
						live := results(t, e, p, true)
						replay := e.Evaluate(e.Now(), p, true)
						if !reflect.DeepEqual(live, replay) {
							t.Fatalf("step %d period %s: live counters differ from replay: %v", step, p, firstDiff(live, replay))
						}
					}
				}
			}
		})
	}
}
