package journal

import (
	"context"
	"fmt"

	"github.com/yiping-ioc/yiping/record"
)

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
func (j *Journal) ReplayInto(ctx context.Context, sink record.Sink, p *record.Parser) (Replayed, error) {
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
func Apply(sink record.Sink, p *record.Parser, b Batch) (bad int, first error) {
	recs := record.Batch{Kind: b.Kind}
	for i := range b.Len() {
		if err := recs.Add(p, b.Row(i)); err != nil {
			if first == nil {
				first = err
			}
			bad++
		}
	}
	recs.FileInto(sink, b.Replace)
	return bad, first
}
