package report

import (
	"context"
	"testing"
	"time"
)

// TestNewLeaderReloads: in a cluster, the node that takes over judging had
// loaded the state when its process started. Reload brings it the reports
// the previous leader fired and the acknowledgements made since: it
// neither fires them again nor escalates what was acknowledged.
func TestNewLeaderReloads(t *testing.T) {
	h := newHarness(t, answerRule)
	standby := h.start() // started with the leader, before anything fired
	h.low()
	h.at(t0)
	h.expectSent("firing county 620802 (1)")
	r := h.only("620000")
	if _, err := h.m.Ack(context.Background(), r.ID, "duty", "on it"); err != nil {
		t.Fatal(err)
	}

	h.m = standby // the leader died; the standby leads
	if err := standby.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := h.only("620000")
	if got.ID != r.ID || got.State != StateAcknowledged {
		t.Fatalf("the new leader sees %+v, want %s acknowledged", got, r.ID)
	}
	h.at(t0.Add(time.Minute))
	h.at(t0.Add(31 * time.Minute)) // past the first escalation step
	h.expectSent()                 // no second "firing", no escalation of an acknowledged report
	h.fine()
	h.at(t0.Add(40 * time.Minute))
	h.none("620000")
}
