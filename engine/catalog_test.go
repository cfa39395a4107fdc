package engine

import (
	"slices"
	"testing"

	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/record"
)

// specsByKind lists the engine's indicator specs per record kind, in the
// order AppendResults emits the kinds.
func specsByKind() []struct {
	kind  record.Kind
	specs []indSpec
} {
	return []struct {
		kind  record.Kind
		specs []indSpec
	}{
		{record.KindCase, caseSpec.indicators},
		{record.KindEvaluation, evalSpec.indicators},
		{record.KindTicket, ticketSpec.indicators},
		{record.KindCall, callSpec.indicators},
		{record.KindItem, itemIndicators},
	}
}

// The engine computes exactly the indicators of the catalog, in catalog
// order, each from the record kind the catalog names, as a rate exactly
// when the catalog says so. Adding an indicator to one and not the other
// fails here.
func TestIndicatorsMatchCatalog(t *testing.T) {
	var got []string
	for _, k := range specsByKind() {
		for _, s := range k.specs {
			got = append(got, s.id)
			d, ok := indicator.Lookup(s.id)
			if !ok {
				t.Errorf("engine computes %s, which is not in the catalog", s.id)
				continue
			}
			if d.Source != k.kind {
				t.Errorf("%s: engine reads %s, catalog says %s", s.id, k.kind, d.Source)
			}
			if rate := s.den >= 0; rate != d.Rate {
				t.Errorf("%s: engine rate %v, catalog rate %v", s.id, rate, d.Rate)
			}
			if periodic := k.kind != record.KindItem; periodic != d.Periodic {
				t.Errorf("%s: engine periodic %v, catalog periodic %v", s.id, periodic, d.Periodic)
			}
		}
	}
	var want []string
	for _, d := range indicator.All() {
		want = append(want, d.ID)
	}
	for _, id := range want {
		if !slices.Contains(got, id) {
			t.Errorf("%s: in the catalog, not computed by the engine", id)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("engine indicators\n%v\nwant the catalog's, in its order\n%v", got, want)
	}
}

// The same through the public API: one record of each kind yields one
// result per catalog indicator for the region, with the catalog's Rate.
func TestResultsCoverCatalog(t *testing.T) {
	e := newEngine(t, "2026-10-09 12:00:00", Month)
	at := ts(t, "2026-10-08 09:00:00")
	e.UpsertCases([]record.Case{{ID: "c", Region: "620802", Channel: record.ChannelOnline, Status: record.StatusSubmitted,
		Submitted: at, Accepted: record.Never, Closed: record.Never}})
	e.UpsertEvaluations([]record.Evaluation{{ID: "v", Region: "620802", Score: 5, Channel: record.ChannelOnline,
		Evaluated: at, Rectified: record.Never}})
	e.UpsertTickets([]record.Ticket{{ID: "k", Region: "620802", Kind: record.TicketConsult, Received: at,
		Assigned: record.Never, Closed: record.Never, DeadlineDays: -1}})
	e.UpsertCalls([]record.Call{{ID: "l", Region: "620802", Offered: at, Answered: true, WaitSeconds: 3}})
	e.UpsertItems([]record.Item{{Code: "i", Region: "620802", LegalDays: -1, PromisedDays: -1}})

	rate := map[string]bool{}
	for _, r := range results(t, e, Month, false) {
		if r.Region != "620802" {
			continue
		}
		if _, dup := rate[r.Indicator]; dup {
			t.Errorf("%s: two results for one region", r.Indicator)
		}
		rate[r.Indicator] = r.Rate
	}
	for _, d := range indicator.All() {
		got, ok := rate[d.ID]
		switch {
		case !ok:
			t.Errorf("%s: no result", d.ID)
		case got != d.Rate:
			t.Errorf("%s: result Rate %v, catalog %v", d.ID, got, d.Rate)
		}
		delete(rate, d.ID)
	}
	for id := range rate {
		t.Errorf("%s: a result for an indicator the catalog does not have", id)
	}
}
