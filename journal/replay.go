package journal

import (
	"context"
	"fmt"

	"github.com/yiping-ioc/yiping/ingest"
	"github.com/yiping-ioc/yiping/record"
)

// CatalogReplacer is a sink that can swap the whole item catalog for a new
// snapshot; engine.Engine is one. A sink without it gets snapshots upserted.
type CatalogReplacer interface {
	ReplaceCatalog([]record.Item)
}

// Replayed says what ReplayInto filed.
type Replayed struct {
	ReplayStats
	// Skipped counts journaled rows the parser now refuses. Only accepted
	// rows are journaled, so this is non-zero only when the parser's rules
	// or the business time zone changed since they were written.
	Skipped int
}

// ReplayInto replays the journal into sink, reading every row with p as
// live intake does, batch by batch in append order. It must run before
// the collectors start, and before the first Append.
func (j *Journal) ReplayInto(ctx context.Context, sink ingest.Sink, p *record.Parser) (Replayed, error) {
	var out Replayed
	st, err := j.Replay(ctx, func(b Batch) error {
		bad, first := Apply(sink, p, b)
		if bad > 0 {
			out.Skipped += bad
			j.log.Warn("journal: replayed rows refused by the parser", "kind", b.Kind.String(), "source", b.Source, "rows", bad, "first", first)
		}
		return nil
	})
	out.ReplayStats = st
	if err != nil {
		return out, fmt.Errorf("replay %s: %w", j.path, err)
	}
	return out, nil
}

// Apply parses the rows of b with p and files them into sink, replacing
// the catalog when b.Replace is set and the sink can. It returns how many
// rows the parser refused and the first reason.
func Apply(sink ingest.Sink, p *record.Parser, b Batch) (bad int, first error) {
	n := b.Len()
	note := func(err error) {
		if first == nil {
			first = err
		}
		bad++
	}
	switch b.Kind {
	case record.KindCase:
		out := make([]record.Case, 0, n)
		for i := range n {
			if r, err := p.Case(b.Row(i)); err != nil {
				note(err)
			} else {
				out = append(out, r)
			}
		}
		sink.UpsertCases(out)
	case record.KindEvaluation:
		out := make([]record.Evaluation, 0, n)
		for i := range n {
			if r, err := p.Evaluation(b.Row(i)); err != nil {
				note(err)
			} else {
				out = append(out, r)
			}
		}
		sink.UpsertEvaluations(out)
	case record.KindTicket:
		out := make([]record.Ticket, 0, n)
		for i := range n {
			if r, err := p.Ticket(b.Row(i)); err != nil {
				note(err)
			} else {
				out = append(out, r)
			}
		}
		sink.UpsertTickets(out)
	case record.KindCall:
		out := make([]record.Call, 0, n)
		for i := range n {
			if r, err := p.Call(b.Row(i)); err != nil {
				note(err)
			} else {
				out = append(out, r)
			}
		}
		sink.UpsertCalls(out)
	case record.KindItem:
		out := make([]record.Item, 0, n)
		for i := range n {
			if r, err := p.Item(b.Row(i)); err != nil {
				note(err)
			} else {
				out = append(out, r)
			}
		}
		if rc, ok := sink.(CatalogReplacer); ok && b.Replace {
			rc.ReplaceCatalog(out)
		} else {
			sink.UpsertItems(out)
		}
	}
	return bad, first
}
