package collectors

import (
	"context"
	"errors"
	"fmt"

	"github.com/yiping-ioc/yiping/record"
)

// Result counts what one run, or one pushed request, gave.
type Result struct {
	// Accepted counts rows committed (journaled and filed).
	Accepted int
	// Rejected counts rows refused, each with a reason given to the
	// connector (AddRow's error) or by it (Reject).
	Rejected int
	// Errors are the partial failures reported with AddError.
	Errors []error
}

// accumulator is the Accumulator of one run or request. It maps and parses
// each row at once, so that a bad row is refused with its reason while the
// connector still knows its line, and keeps both the canonical strings
// (for the journal) and the parsed records (for the engine) until the
// commit.
type accumulator struct {
	r       *Runner
	s       *source
	p       *record.Parser
	row     []string
	pend    [record.NumKinds]pending
	catalog bool
	res     Result
}

// pending holds the rows of one kind added since the last commit: their
// canonical values for the journal and their records for the sink.
type pending struct {
	values []string
	recs   record.Batch
}

func (p *pending) rows(k record.Kind) int { return len(p.values) / len(k.Fields()) }

func (r *Runner) newAccumulator(s *source) *accumulator {
	// A parser per accumulator: parsers are not safe for concurrent use,
	// and pushed requests of one source run concurrently.
	return &accumulator{r: r, s: s, p: record.NewParser(r.loc)}
}

var _ Accumulator = (*accumulator)(nil)

func (a *accumulator) Fields(k record.Kind) []string { return a.s.mapping.Kind(k).SourceFields() }

func (a *accumulator) AddRow(k record.Kind, values []string) error {
	if k >= record.NumKinds {
		return a.reject(k, &record.FieldError{Reason: fmt.Sprintf("unknown record kind %d", k)})
	}
	row, err := a.s.mapping.Kind(k).Apply(a.row, values)
	a.row = row
	if err != nil {
		return a.reject(k, err)
	}
	p := &a.pend[k]
	p.recs.Kind = k
	if err := p.recs.Add(a.p, row); err != nil {
		return a.reject(k, err)
	}
	// The strings are immutable and the mapping wrote fresh ones where it
	// changed a value, so keeping them past the caller's row is safe.
	p.values = append(p.values, row...)
	return nil
}

func (a *accumulator) reject(k record.Kind, err error) error {
	var fe *record.FieldError
	if !errors.As(err, &fe) {
		fe = &record.FieldError{Reason: err.Error()}
	}
	a.Reject(k, fe.Field, fe.Reason)
	return fe
}

func (a *accumulator) Reject(k record.Kind, field, reason string) {
	a.res.Rejected++
	a.r.metrics.rejects.WithLabelValues(a.s.Name, k.String()).Inc()
}

func (a *accumulator) AddError(err error) {
	if err == nil {
		return
	}
	err = RedactError(err) // it reaches health and the log
	a.res.Errors = append(a.res.Errors, err)
	a.r.metrics.errors.WithLabelValues(a.s.Name).Inc()
	a.s.log.Warn("partial failure", "err", err)
}

func (a *accumulator) BeginCatalog() {
	a.catalog = true
	p := &a.pend[record.KindItem]
	if len(p.values) > 0 {
		// Items added before the snapshot began are upserts; the
		// snapshot replaces them anyway, so they need not be committed.
		*p = pending{}
	}
}

func (a *accumulator) Flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var upTo int64
	var rows [record.NumKinds]int
	for k := record.Kind(0); k < record.NumKinds; k++ {
		p := &a.pend[k]
		replace := k == record.KindItem && a.catalog
		if len(p.values) == 0 {
			continue
		}
		rows[k] = p.rows(k)
		off, err := a.r.commit(a.s, k, replace, p)
		if err != nil {
			return err
		}
		upTo = max(upTo, off)
		// Fresh slices: the sink owns what it was given.
		*p = pending{}
	}
	a.catalog = false
	// One fsync for all kinds, shared with concurrent committers.
	if err := a.r.journal.Sync(ctx, upTo); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for k, n := range rows {
		if n > 0 {
			a.res.Accepted += n
			a.r.metrics.records.WithLabelValues(a.s.Name, record.Kind(k).String()).Add(float64(n))
		}
	}
	return nil
}

func (a *accumulator) Checkpoint(ctx context.Context, cursor string) error {
	if err := a.Flush(ctx); err != nil {
		return err
	}
	return a.r.setCursor(a.s, cursor)
}
