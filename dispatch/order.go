package dispatch

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/yiping-ioc/yiping/region"
)

// State is where an order stands in its lifecycle (doc.go draws it).
type State string

// The states. Issued, signed and returned wait on the unit (its deadline
// runs); replied waits on the issuer; verified and withdrawn are closed.
const (
	StateIssued    State = "issued"
	StateSigned    State = "signed"
	StateReplied   State = "replied"
	StateReturned  State = "returned"
	StateVerified  State = "verified"
	StateWithdrawn State = "withdrawn"
)

// States lists every state in lifecycle order.
func States() []State {
	return []State{StateIssued, StateSigned, StateReplied, StateReturned, StateVerified, StateWithdrawn}
}

// ParseState checks that s names a state.
func ParseState(s string) (State, error) {
	for _, st := range States() {
		if string(st) == s {
			return st, nil
		}
	}
	return "", invalid("state", "%q: want issued, signed, replied, returned, verified or withdrawn", s)
}

// AwaitsUnit reports whether the unit owes the next step, so that the
// deadline runs: issued, signed or returned.
func (s State) AwaitsUnit() bool {
	return s == StateIssued || s == StateSigned || s == StateReturned
}

// Closed reports whether the order is finished: verified or withdrawn.
func (s State) Closed() bool { return s == StateVerified || s == StateWithdrawn }

// group is the first key of the list order: orders awaiting the unit
// (those overdue come first among them, since their deadlines are the
// earliest), then replied ones awaiting verification, then closed ones.
func (s State) group() int {
	switch {
	case s.AwaitsUnit():
		return 0
	case s == StateReplied:
		return 1
	}
	return 2
}

// Name is the state's Chinese name, as screens and exports show it.
func (s State) Name() string {
	switch s {
	case StateIssued:
		return "已下发"
	case StateSigned:
		return "已签收"
	case StateReplied:
		return "已反馈"
	case StateReturned:
		return "已退回"
	case StateVerified:
		return "已办结"
	case StateWithdrawn:
		return "已撤销"
	}
	return string(s)
}

// Unit is the responsible unit an order goes to: a region and, optionally,
// a department of it (a department code or name as the platforms give it).
type Unit struct {
	Region region.Code `json:"region"`
	Dept   string      `json:"dept,omitempty"`
}

// SourceKind is what an order was issued from.
type SourceKind string

// The sources of an order.
const (
	SourceIndicator SourceKind = "indicator" // a red indicator on a screen or in the console
	SourceRanking   SourceKind = "ranking"   // a ranking row
	SourceSurge     SourceKind = "surge"     // a hotline surge
	SourceReport    SourceKind = "report"    // a special report (its id in Ref)
	SourceManual    SourceKind = "manual"    // none of these: an operator's own finding
)

// Source is what an order was issued from: the kind and the id of the
// thing (a special report's id, a surge's key, an indicator id).
type Source struct {
	Kind SourceKind `json:"kind"`
	Ref  string     `json:"ref,omitempty"`
}

// Evidence is the fact an order rests on, captured when it is issued: the
// indicator, its value and target as they were, the period and the
// instant the value was computed as of. Later values never change it.
type Evidence struct {
	Indicator   string    `json:"indicator,omitempty"`
	Name        string    `json:"name,omitempty"`  // the indicator's display name at the time
	Value       *float64  `json:"value,omitempty"` // nil: no value (a rate with a zero denominator)
	Numerator   *int64    `json:"numerator,omitempty"`
	Denominator *int64    `json:"denominator,omitempty"`
	Target      *float64  `json:"target,omitempty"`
	Period      string    `json:"period,omitempty"` // day, week, month, quarter or year
	AsOf        time.Time `json:"as_of,omitzero"`
	Note        string    `json:"note,omitempty"` // anything else worth keeping (a rank, a surge's factor)
}

// Extension is a unit's pending request for more time.
type Extension struct {
	Days   int       `json:"days"` // working days asked beyond the current deadline
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Order is a supervision order (督办单).
type Order struct {
	ID string `json:"id"`
	// Version increases with every action; an action names the version
	// it was decided on (optimistic concurrency).
	Version  int64    `json:"version"`
	Unit     Unit     `json:"unit"`
	Title    string   `json:"title"`
	Reason   string   `json:"reason"`
	Evidence Evidence `json:"evidence"`
	Source   Source   `json:"source"`
	// Issuer is the operator who issued it; IssuerRegion their scope
	// then, which bounds who may act on the issuer's side later.
	Issuer       string      `json:"issuer"`
	IssuerRegion region.Code `json:"issuer_region"`
	IssuedAt     time.Time   `json:"issued_at"`

	State State `json:"state"`
	// Days is the working days of the current term, which began at
	// TermStart (the issue, or the last return); Deadline is its end as
	// calendar.Deadline computes it, moved by approved extensions. The
	// unit is on time when it replies before Deadline.
	Days      int       `json:"days"`
	TermStart time.Time `json:"term_start"`
	Deadline  time.Time `json:"deadline"`
	// RemindAt is when the unit is reminded in this term (zero: no
	// reminder in this term); Reminded and OverdueNoted say whether the
	// reminder and the overdue notice of this term have been sent.
	RemindAt     time.Time `json:"remind_at,omitzero"`
	Reminded     bool      `json:"reminded"`
	OverdueNoted bool      `json:"overdue_noted"`

	// Extension is the pending extension request, if any.
	Extension *Extension `json:"extension,omitempty"`

	SignedAt  time.Time `json:"signed_at,omitzero"`
	SignedBy  string    `json:"signed_by,omitempty"`
	RepliedAt time.Time `json:"replied_at,omitzero"`
	RepliedBy string    `json:"replied_by,omitempty"`
	Reply     string    `json:"reply,omitempty"`
	// Late is whether the last reply came at or after its deadline.
	Late       bool      `json:"late"`
	Returns    int       `json:"returns"`    // times returned
	Extensions int       `json:"extensions"` // extensions approved
	ClosedAt   time.Time `json:"closed_at,omitzero"`
	ClosedBy   string    `json:"closed_by,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// NewOrder is what an operator gives to issue an order.
type NewOrder struct {
	Unit     Unit
	Title    string
	Reason   string
	Evidence Evidence
	Source   Source
	// Days is the term in working days (0: by the end of today, 即办).
	Days int
}

// Input limits.
const (
	// MaxDays is the longest term, return or extension, in working days.
	MaxDays      = 60
	maxTitle     = 200 // characters
	maxText      = 4000
	maxDept      = 64
	maxRef       = 128
	maxIndicator = 64
	maxNote      = 500
	maxName      = 100
)

// cleanText checks a free text field: valid UTF-8, no control characters
// but newlines and tabs when multiline, at most max bytes; it returns the
// text without surrounding space.
func cleanText(field, s string, required, multiline bool, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalid(field, "not valid UTF-8")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return "", invalid(field, "missing")
		}
		return "", nil
	}
	if len(s) > max {
		return "", invalid(field, "longer than %d bytes", max)
	}
	for _, r := range s {
		if r == '\n' || r == '\t' {
			if multiline {
				continue
			}
			return "", invalid(field, "must be one line")
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return "", invalid(field, "contains control character %U", r)
		}
	}
	return s, nil
}

// token checks a code-like field: 1..max of letters, digits and . _ - : /
// (no spaces, nothing a spreadsheet or a URL could take for more).
func token(field, s string, max int) (string, error) {
	if len(s) > max {
		return "", invalid(field, "longer than %d bytes", max)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-:/", r)) {
			return "", invalid(field, "%q: want letters, digits and . _ - : /", s)
		}
	}
	return s, nil
}

var periods = []string{"", "day", "week", "month", "quarter", "year"}

// Validate checks an order's input and returns it cleaned (surrounding
// space trimmed). It does not check the issuer's rights.
func (n NewOrder) Validate() (NewOrder, error) {
	var err error
	if n.Unit.Region, err = region.ParseCode(string(n.Unit.Region)); err != nil {
		return n, invalid("unit.region", "%v", err)
	}
	if n.Unit.Dept, err = cleanText("unit.dept", n.Unit.Dept, false, false, maxDept); err != nil {
		return n, err
	}
	if n.Title, err = cleanText("title", n.Title, true, false, maxText); err != nil {
		return n, err
	}
	if c := utf8.RuneCountInString(n.Title); c > maxTitle {
		return n, invalid("title", "longer than %d characters", maxTitle)
	}
	if n.Reason, err = cleanText("reason", n.Reason, true, true, maxText); err != nil {
		return n, err
	}
	if n.Days < 0 || n.Days > MaxDays {
		return n, invalid("days", "%d: want 0 to %d working days", n.Days, MaxDays)
	}
	switch n.Source.Kind {
	case SourceIndicator, SourceRanking, SourceSurge, SourceReport, SourceManual:
	case "":
		n.Source.Kind = SourceManual
	default:
		return n, invalid("source.kind", "%q: want indicator, ranking, surge, report or manual", n.Source.Kind)
	}
	if n.Source.Ref, err = token("source.ref", n.Source.Ref, maxRef); err != nil {
		return n, err
	}
	if n.Source.Kind == SourceReport && n.Source.Ref == "" {
		return n, invalid("source.ref", "missing: name the special report")
	}
	e := &n.Evidence
	if e.Indicator, err = token("evidence.indicator", e.Indicator, maxIndicator); err != nil {
		return n, err
	}
	if e.Name, err = cleanText("evidence.name", e.Name, false, false, maxName*4); err != nil {
		return n, err
	}
	if e.Note, err = cleanText("evidence.note", e.Note, false, true, maxNote); err != nil {
		return n, err
	}
	if !slices.Contains(periods, e.Period) {
		return n, invalid("evidence.period", "%q: want day, week, month, quarter or year", e.Period)
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"evidence.value", e.Value}, {"evidence.target", e.Target}} {
		if f.v != nil && (*f.v != *f.v || *f.v > 1e15 || *f.v < -1e15) {
			return n, invalid(f.name, "not a finite number")
		}
	}
	if e.Numerator != nil && *e.Numerator < 0 || e.Denominator != nil && *e.Denominator < 0 {
		return n, invalid("evidence", "numerator and denominator cannot be negative")
	}
	if (e.Value != nil || e.Target != nil || e.Numerator != nil) && e.Indicator == "" {
		return n, invalid("evidence.indicator", "missing: a value needs its indicator")
	}
	return n, nil
}
