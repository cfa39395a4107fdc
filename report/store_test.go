package report

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access/accesstest"
)

// TestRestart stops the manager (drops it) at each stage of a report's
// life and starts a new one on the same database: nothing is sent twice,
// nothing is forgotten, and the clocks run on.
func TestRestart(t *testing.T) {
	accesstest.Each(t, func(t *testing.T, open accesstest.Opener) {
		ctx := context.Background()
		h := newHarnessOn(t, open(t, "restart"), answerRule)
		h.low()
		h.at(t0)
		h.expectSent("firing county 620802 (1)")
		first := h.only("620802")

		h.m = h.start()
		h.at(t0.Add(10 * time.Minute))
		h.expectSent()
		if r := h.only("620802"); r.ID != first.ID || r.FiredAt != first.FiredAt || r.Level != "county" {
			t.Fatalf("after restart %+v, was %+v", r, first)
		}
		h.at(t0.Add(30 * time.Minute))
		h.expectSent("escalation city 620800 (1)")

		h.m = h.start()
		h.clock.Set(t0.Add(40 * time.Minute))
		if _, err := h.m.Ack(ctx, first.ID, "张三", "处理中"); err != nil {
			t.Fatal(err)
		}
		s, err := h.m.AddSilence(ctx, Silence{Rule: "answer", Region: "620100", EndsAt: t0.Add(24 * time.Hour), CreatedBy: "李四", Comment: "检修"})
		if err != nil {
			t.Fatal(err)
		}

		h.m = h.start()
		h.at(t0.Add(3 * time.Hour))
		h.expectSent()
		if r := h.only("620802"); r.State != StateAcknowledged || r.AckedBy != "张三" || r.AckComment != "处理中" || r.Escalation != 1 {
			t.Fatalf("acknowledgement lost: %+v", r)
		}
		if got := h.m.Silences(); len(got) != 1 || got[0] != s {
			t.Fatalf("silences %+v, want %+v", got, s)
		}
		h.fine()
		h.at(t0.Add(4 * time.Hour))
		h.expectSent("resolved county 620802 (1)", "resolved city 620800 (1)")

		h.m = h.start()
		h.at(t0.Add(5 * time.Hour))
		h.expectSent()
		h.none("620000")
		list, err := h.m.List(ctx, Filter{Region: "620800"})
		if err != nil || len(list) != 1 || list[0].State != StateResolved || list[0].AckedBy != "张三" {
			t.Fatalf("archive %+v, %v", list, err)
		}
	})
}

// Pending conditions, held notifications and a notification cut off while
// being sent survive a restart.
func TestRestartMidway(t *testing.T) {
	accesstest.Each(t, func(t *testing.T, open accesstest.Opener) {
		t.Run("pending", func(t *testing.T) {
			h := newHarnessOn(t, open(t, "pending"), strings.Replace(answerRule, "worse_than:", "for: 5m\n    worse_than:", 1))
			h.low()
			h.at(t0)
			h.m = h.start()
			h.at(t0.Add(4 * time.Minute))
			h.none("620000")
			h.at(t0.Add(5 * time.Minute))
			h.expectSent("firing county 620802 (1)")
		})
		t.Run("held", func(t *testing.T) {
			h := newHarnessOn(t, open(t, "held"), strings.Replace(answerRule, "worse_than:", "quiet: [nights]\n    worse_than:", 1))
			h.low()
			h.at(time.Date(2026, 6, 1, 23, 0, 0, 0, cst))
			h.m = h.start()
			h.at(time.Date(2026, 6, 2, 6, 0, 0, 0, cst))
			h.expectSent()
			h.m = h.start()
			h.at(time.Date(2026, 6, 2, 7, 0, 0, 0, cst))
			h.expectSent("firing county 620802 (1)")
			h.m = h.start()
			h.at(time.Date(2026, 6, 2, 7, 1, 0, 0, cst))
			h.expectSent()
		})
		t.Run("sending", func(t *testing.T) {
			h := newHarnessOn(t, open(t, "sending"), answerRule)
			h.send.fail = true
			h.low()
			h.at(t0)
			var id string
			if err := h.store.DB().QueryRow(`SELECT id FROM report_notifications`).Scan(&id); err != nil {
				t.Fatal(err)
			}
			// As if the process died inside Send.
			if _, err := h.store.DB().Exec(`UPDATE report_notifications SET state = 'sending'`); err != nil {
				t.Fatal(err)
			}
			h.send.fail = false
			h.m = h.start()
			h.at(t0.Add(30 * time.Second))
			ns := h.send.all()
			if len(ns) != 1 || ns[0].ID != id {
				t.Fatalf("sent %+v, want the one notification %s again", ns, id)
			}
		})
		t.Run("rule removed", func(t *testing.T) {
			st := open(t, "removed")
			h := newHarnessOn(t, st, answerRule)
			h.low()
			h.at(t0)
			h.rules = mustParse(t, rulesHead)
			h.m = h.start()
			h.at(t0.Add(time.Minute))
			h.none("620000")
		})
	})
}
