package dispatch

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/region"
)

// Auditor appends an entry to the product's audit log; access.SQLStore
// (AppendAudit) is one, and the default.
type Auditor interface {
	AppendAudit(ctx context.Context, e access.AuditEntry) error
}

// Notifier is told of each notice the scanner finds due (Service.Scan):
// the app raises a special report and notifies the unit. An error leaves
// the notice due, so the next scan tells it again.
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

// Config sets up a Service. Store and Calendar are required; zero fields
// take the defaults.
type Config struct {
	Store *Store
	// Calendar decides working days and holds the business time zone.
	Calendar *calendar.Calendar
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// RemindDays is how many working days before its deadline a unit is
	// reminded: 1 (the default, for 0) reminds on the last working day of
	// the term; a negative value turns reminders off.
	RemindDays int
	// RemindClock is the time of day, in the business time zone, of a
	// reminder; 09:00 when 0.
	RemindClock time.Duration
	// Audit receives an entry for every action; the access store behind
	// Store when nil.
	Audit  Auditor
	Logger *slog.Logger
}

// Service is the supervision desk: it issues orders and takes every
// action on them, checking role, scope and state, and records each in the
// order's history and the audit log. It has no goroutines: the app calls
// Scan on its own tick. Safe for concurrent use.
type Service struct {
	store *Store
	terms terms
	now   func() time.Time
	audit Auditor
	log   *slog.Logger
}

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("dispatch: Config.Store is required")
	}
	if cfg.Calendar == nil {
		return nil, errors.New("dispatch: Config.Calendar is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch {
	case cfg.RemindDays == 0:
		cfg.RemindDays = 1
	case cfg.RemindDays < 0:
		cfg.RemindDays = 0
	case cfg.RemindDays > MaxDays:
		return nil, fmt.Errorf("dispatch: RemindDays %d: at most %d", cfg.RemindDays, MaxDays)
	}
	if cfg.RemindClock == 0 {
		cfg.RemindClock = 9 * time.Hour
	}
	if cfg.RemindClock < 0 || cfg.RemindClock >= 24*time.Hour {
		return nil, fmt.Errorf("dispatch: RemindClock %s: want a time of day", cfg.RemindClock)
	}
	if cfg.Audit == nil {
		cfg.Audit = cfg.Store.st
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{
		store: cfg.Store,
		terms: terms{cal: cfg.Calendar, remindDays: cfg.RemindDays, remindClock: cfg.RemindClock},
		now:   cfg.Now,
		audit: cfg.Audit,
		log:   cfg.Logger.With("component", "dispatch"),
	}, nil
}

// Now is the service's clock, to the microsecond the store keeps.
func (s *Service) Now() time.Time { return time.UnixMicro(s.now().UnixMicro()) }

// Calendar is the business calendar deadlines are computed in.
func (s *Service) Calendar() *calendar.Calendar { return s.terms.cal }

// idAlphabet is Crockford's base 32: no I, L, O or U to misread.
const idAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newID makes an order's id: "DB", the issue date in the business time
// zone and 6 random characters, e.g. DB20261009-7K3QF9, short enough to
// read out on the phone.
func (s *Service) newID(now time.Time) string {
	var b [6]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = idAlphabet[b[i]&31]
	}
	return "DB" + now.In(s.terms.cal.Location()).Format("20060102") + "-" + string(b[:])
}

// Issue issues an order from p (an operator or administrator whose scope
// covers the unit) to n.Unit, with a deadline n.Days working days from
// now. An order to the issuer's own region must name a department (a
// county's center supervising a county department). addr is the client
// address, for the history and the audit log.
func (s *Service) Issue(ctx context.Context, p *access.Principal, addr string, n NewOrder) (Order, error) {
	if !actsOnOrders(p) {
		if p == nil {
			return Order{}, forbidden("not signed in")
		}
		return Order{}, forbidden("%s %s may not issue orders", p.Role, p.Name)
	}
	n, err := n.Validate()
	if err != nil {
		return Order{}, err
	}
	if !p.Covers(string(n.Unit.Region)) {
		return Order{}, forbidden("unit %s is outside %s's scope %s", n.Unit.Region, p.Name, p.Region)
	}
	if n.Unit.Region == p.Region && n.Unit.Dept == "" {
		return Order{}, invalid("unit.dept", "an order to your own region %s must name a department", p.Region)
	}
	now := s.Now()
	o := Order{
		Version: 1, Unit: n.Unit, Title: n.Title, Reason: n.Reason, Evidence: n.Evidence, Source: n.Source,
		Issuer: p.Name, IssuerRegion: p.Region, IssuedAt: now, State: StateIssued, UpdatedAt: now,
	}
	s.terms.newTerm(&o, now, n.Days, s.terms.deadline(now, n.Days), now)
	for try := 0; ; try++ {
		o.ID = s.newID(now)
		e := Entry{Order: o.ID, At: now, Actor: p.Name, Addr: cutAddr(addr), Action: string(ActIssue), To: StateIssued,
			Days: o.Days, Deadline: o.Deadline}
		err = s.store.insert(ctx, &o, &e)
		if errors.Is(err, errDuplicate) && try < 3 {
			continue
		}
		if err != nil {
			return Order{}, fmt.Errorf("dispatch: issue: %w", err)
		}
		s.record(ctx, &e, &o)
		return o, nil
	}
}

func cutAddr(a string) string {
	if len(a) > 64 {
		return a[:64]
	}
	return a
}

// Apply takes the action r on an order in p's name and returns the order
// as it is after. Errors: ErrNotFound (no such order in p's scope),
// ErrForbidden (see Permitted), ErrState (a StateError naming the
// current state), ErrConflict (the order changed since r.Version, or
// while this action was decided: another operator was first), ErrInvalid.
func (s *Service) Apply(ctx context.Context, p *access.Principal, r Request) (Order, error) {
	o, err := s.Get(ctx, p, r.ID)
	if err != nil {
		return Order{}, err
	}
	if r.Version != 0 && r.Version != o.Version {
		return Order{}, fmt.Errorf("%w: order %s is at version %d, not %d: read it again", ErrConflict, o.ID, o.Version, r.Version)
	}
	next, e, err := s.terms.step(o, p, r, s.Now())
	if err != nil {
		return Order{}, err
	}
	if err := s.store.update(ctx, o.Version, &next, &e); err != nil {
		return Order{}, fmt.Errorf("dispatch: %s: %w", r.Action, err)
	}
	s.record(ctx, &e, &next)
	return next, nil
}

// record appends the audit entry of a history entry. The order's history
// already holds it (committed with the change); a lost audit entry is
// logged, not returned, since the change has happened.
func (s *Service) record(ctx context.Context, e *Entry, o *Order) {
	detail := fmt.Sprintf("%s→%s unit %s", e.From, e.To, o.Unit.Region)
	if e.From == "" {
		detail = fmt.Sprintf("→%s unit %s", e.To, o.Unit.Region)
	}
	if o.Unit.Dept != "" {
		detail += "/" + o.Unit.Dept
	}
	if !e.Deadline.IsZero() {
		detail += fmt.Sprintf(" days %d deadline %s", e.Days, e.Deadline.In(s.terms.cal.Location()).Format(time.RFC3339))
	}
	if e.Comment != "" {
		detail += ": " + shorten(e.Comment, 300)
	}
	ae := access.AuditEntry{At: e.At, Actor: e.Actor, Action: "dispatch_" + e.Action, Target: "order:" + e.Order, Detail: detail, Addr: e.Addr}
	if err := s.audit.AppendAudit(ctx, ae); err != nil {
		s.log.Error("audit entry lost", "order", e.Order, "action", e.Action, "actor", e.Actor, "err", err)
	}
}

// shorten cuts s to at most n characters, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// Get returns the order of id if p may see it (CanRead); one outside p's
// scope is ErrNotFound, like one that does not exist.
func (s *Service) Get(ctx context.Context, p *access.Principal, id string) (Order, error) {
	if !validID(id) {
		return Order{}, fmt.Errorf("order %q: %w", shorten(id, 40), ErrNotFound)
	}
	o, err := s.store.Get(ctx, id)
	if err != nil {
		return Order{}, err
	}
	if !CanRead(p, &o) {
		return Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	return o, nil
}

// History returns the history of the order of id, oldest first, if p may
// see the order.
func (s *Service) History(ctx context.Context, p *access.Principal, id string) ([]Entry, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	return s.store.History(ctx, id)
}

// scoped returns f bounded by p's scope: an empty Region becomes p's own;
// one outside it is ErrForbidden.
func scoped(p *access.Principal, f Filter) (Filter, error) {
	if p == nil {
		return f, forbidden("not signed in")
	}
	if f.Region == "" {
		f.Region = string(p.Region)
	}
	if _, err := region.ParseCode(f.Region); err != nil {
		return f, invalid("region", "%v", err)
	}
	if !p.Covers(f.Region) {
		return f, forbidden("region %s is outside %s's scope %s", shorten(f.Region, 12), p.Name, p.Region)
	}
	return f, nil
}

// List returns a page of the orders in p's scope that f selects, overdue
// first and then by deadline, with the total that match.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) (Page, error) {
	f, err := scoped(p, f)
	if err != nil {
		return Page{}, err
	}
	pg, err := s.store.List(ctx, f, s.Now())
	if err != nil {
		return Page{}, fmt.Errorf("dispatch: %w", err)
	}
	return pg, nil
}

// scanBatch bounds the orders one Due call reads.
const scanBatch = 500

// Due returns the notices owed at now (a reminder or an overdue notice
// not yet sent in the order's current term), soonest deadline first, at
// most 500 per call. The app sends each and then calls MarkSent; Scan
// does both.
func (s *Service) Due(ctx context.Context) ([]Notice, error) {
	now := s.Now()
	os, err := s.store.due(ctx, now, scanBatch)
	if err != nil {
		return nil, fmt.Errorf("dispatch: %w", err)
	}
	var ns []Notice
	for _, o := range os {
		if k := DueNotice(&o, now); k != "" {
			ns = append(ns, Notice{Kind: k, Order: o, At: now})
		}
	}
	return ns, nil
}

// MarkSent records that n was sent: the order's flag for it is set and
// its history gets a "system" entry. It reports false when there was
// nothing to mark: the order left that term meanwhile (replied, extended)
// or another scanner marked it first.
func (s *Service) MarkSent(ctx context.Context, n Notice) (bool, error) {
	ok, err := s.store.mark(ctx, &n.Order, n.Kind, n.At)
	if err != nil {
		return false, fmt.Errorf("dispatch: %w", err)
	}
	return ok, nil
}

// Scan hands every notice due now to to and marks each one it took (at
// least once: a crash between the two tells it again). It returns how
// many were sent; a notice to refused stays due, and its error is
// returned joined with the others after the rest are tried.
func (s *Service) Scan(ctx context.Context, to Notifier) (int, error) {
	ns, err := s.Due(ctx)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, n := range ns {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if err := to.Notify(ctx, n); err != nil {
			errs = append(errs, fmt.Errorf("dispatch: notify %s of %s: %w", n.Kind, n.Order.ID, err))
			continue
		}
		sent++
		if _, err := s.MarkSent(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	return sent, errors.Join(errs...)
}

// ListAll returns a page of the orders f selects in every scope, for the
// app's own loops (the screens' order boards, the overdue special
// reports), which act for no user. f.Region is required. Never hand it a
// caller's request: List checks the caller's scope.
func (s *Service) ListAll(ctx context.Context, f Filter) (Page, error) {
	if _, err := region.ParseCode(f.Region); err != nil {
		return Page{}, invalid("region", "%v", err)
	}
	pg, err := s.store.List(ctx, f, s.Now())
	if err != nil {
		return Page{}, fmt.Errorf("dispatch: %w", err)
	}
	return pg, nil
}
