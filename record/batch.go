package record

// Sink receives parsed records in the order they were read or arrived:
// the engine, and what wraps it on the collectors' path (live.Tee). It is
// the record contract of every path records take: export files,
// collectors, the push intake and journal replay.
type Sink interface {
	UpsertCases([]Case)
	UpsertEvaluations([]Evaluation)
	UpsertTickets([]Ticket)
	UpsertCalls([]Call)
	UpsertItems([]Item)
}

// CatalogReplacer is a sink that can swap the whole item catalog for a new
// snapshot (SPEC.md section 3: the newest catalog replaces the old one).
type CatalogReplacer interface {
	ReplaceCatalog([]Item)
}

// Batch collects parsed records of one kind, in order, until they are
// filed into a sink. It is the one place that turns a row of any kind into
// its record and hands the records of that kind to the sink, for every
// path records take: export files, collectors and journal replay.
type Batch struct {
	Kind        Kind
	Cases       []Case
	Evaluations []Evaluation
	Tickets     []Ticket
	Calls       []Call
	Items       []Item
}

// Add parses v, a row aligned to b.Kind.Fields(), and appends the
// A row the parser refuses is not added; its *FieldError is
// returned.
func (b *Batch) Add(p *Parser, v []string) error {
	switch b.Kind {
	case KindCase:
		r, err := p.Case(v)
		if err != nil {
			return err
		}
		b.Cases = append(b.Cases, r)
	case KindEvaluation:
		r, err := p.Evaluation(v)
		if err != nil {
			return err
		}
		b.Evaluations = append(b.Evaluations, r)
	case KindTicket:
		r, err := p.Ticket(v)
		if err != nil {
			return err
		}
		b.Tickets = append(b.Tickets, r)
	case KindCall:
		r, err := p.Call(v)
		if err != nil {
			return err
		}
		b.Calls = append(b.Calls, r)
	case KindItem:
		r, err := p.Item(v)
		if err != nil {
			return err
		}
		b.Items = append(b.Items, r)
	}
	return nil
}

// Len returns how many records the batch holds.
func (b *Batch) Len() int {
	return len(b.Cases) + len(b.Evaluations) + len(b.Tickets) + len(b.Calls) + len(b.Items)
}

// FileInto hands the records to sink. With replaceCatalog, items replace
// the whole catalog when the sink can do that. The sink owns the slices
// afterwards: start a fresh Batch rather than reuse this one.
func (b *Batch) FileInto(sink Sink, replaceCatalog bool) {
	switch b.Kind {
	case KindCase:
		sink.UpsertCases(b.Cases)
	case KindEvaluation:
		sink.UpsertEvaluations(b.Evaluations)
	case KindTicket:
		sink.UpsertTickets(b.Tickets)
	case KindCall:
		sink.UpsertCalls(b.Calls)
	case KindItem:
		if rc, ok := sink.(CatalogReplacer); ok && replaceCatalog {
			rc.ReplaceCatalog(b.Items)
		} else {
			sink.UpsertItems(b.Items)
		}
	}
}

// Discard is a sink that files nothing: for a collector runner whose
// records reach the engine another way (a cluster node's shared log).
type Discard struct{}

func (Discard) UpsertCases([]Case)             {}
func (Discard) UpsertEvaluations([]Evaluation) {}
func (Discard) UpsertTickets([]Ticket)         {}
func (Discard) UpsertCalls([]Call)             {}
func (Discard) UpsertItems([]Item)             {}
