package report

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
)

// The states of an alert. Pending is internal: the condition holds but
// not yet for the rule's "for"; screens never see it.
const (
	StatePending      = "pending"
	StateFiring       = "firing"
	StateAcknowledged = "acknowledged"
	StateResolved     = "resolved"
)

// The states of a notification in the log.
const (
	rowDue       = "due"
	rowHeld      = "held" // due when quiet hours end
	rowSending   = "sending"
	rowSent      = "sent"
	rowCancelled = "cancelled"
	rowFailed    = "failed"
)

// Errors of the manager's API.
var (
	ErrNotFound = errors.New("report: no such report")
	ErrResolved = errors.New("report: the report is resolved")
	ErrInvalid  = errors.New("report: invalid request")
)

// Config sets up a Manager.
type Config struct {
	// Rules are the rules; nil means Default (the embedded sample).
	Rules *Rules
	// Store is the access database the manager keeps its tables in.
	Store *access.SQLStore
	// Calendar gives the business time zone and working days (quiet
	// hours, periods). Required.
	Calendar *calendar.Calendar
	// Regions names regions; nil means region.Default().
	Regions *region.Table
	// Targets are the targets and floors thresholds compare with; nil
	// means scoring.Default().
	Targets *scoring.Config
	// Past backs drop rules; without it they never fire.
	Past Past
	// Sender delivers notifications; without it nothing is notified (the
	// screens still show the reports).
	Sender Sender
	// Publisher receives the report topics; may be nil.
	Publisher Publisher
	// Root is the deployment's top region: silent reports without a
	// region of their own are filed under it.
	Root string
	// Now is the clock of Ack and silences (Evaluate is given its
	// instant); nil means time.Now.
	Now func() time.Time
	// SendTimeout bounds one Send; default 10s.
	SendTimeout time.Duration
	Logger      *slog.Logger
}

// alert is one report (or a pending one) in memory.
type alert struct {
	id         string
	key        key
	rule       *Rule // nil when the rules no longer have it
	severity   Severity
	state      string
	since      time.Time // the condition first held
	fired      time.Time
	acked      time.Time
	ackedBy    string
	ackComment string
	resolved   time.Time
	det        finding
	// notifiedAt is when a firing, repeat or escalation notification was
	// last sent (the repeat clock); stepAt when the first one or the last
	// escalation was (the escalation clock, so escalation waits count from
	// when someone was told, not from when quiet hours held the news).
	notifiedAt time.Time
	stepAt     time.Time
	escalation int      // escalation steps done
	level      string   // the level told last
	levels     []string // every level told, for "resolved"
	silencedBy string   // the silence that holds it
}

func (a *alert) open() bool { return a.state == StateFiring || a.state == StateAcknowledged }

// visible reports whether screens list the alert.
func (a *alert) visible() bool { return a.open() && a.silencedBy == "" }

// row is one notification of the log not yet sent.
type row struct {
	id, group, rule, kind, level, region string
	receivers                            []string
	alerts                               []string
	state                                string
	created, due, sent                   time.Time
	attempts                             int
	lastErr                              string
	payload                              string
}

// Manager evaluates the rules and runs the reports' lifecycle. Its methods
// are safe for concurrent use.
type Manager struct {
	cfg    Config
	db     *db
	rules  map[string]*Rule
	eval   *evaluator
	loc    *time.Location
	now    func() time.Time
	log    *slog.Logger
	evalMu sync.Mutex // one Evaluate (with its sends) at a time
	pubMu  sync.Mutex // publishes in order

	mu       sync.Mutex
	open     map[key]*alert    // pending, firing, acknowledged
	alerts   map[string]*alert // open ones, and resolved ones an unsent notification names
	rows     map[string]*row   // due, held, sending
	silences []Silence         // not expired nor ended
	dirty    map[string]bool   // regions whose list changed since the last publish
}

// New migrates the tables, loads the state a previous run left and
// returns a manager.
func New(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.Store == nil || cfg.Calendar == nil {
		return nil, errors.New("report: a store and a calendar are required")
	}
	if cfg.Rules == nil {
		cfg.Rules = Default()
	}
	if cfg.Regions == nil {
		cfg.Regions = region.Default()
	}
	if cfg.Targets == nil {
		cfg.Targets = scoring.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Manager{cfg: cfg, db: &db{cfg.Store}, rules: map[string]*Rule{}, loc: cfg.Calendar.Location(),
		now: cfg.Now, log: cfg.Logger.With("component", "report")}
	var rs []*Rule
	for i := range cfg.Rules.Rules {
		r := &cfg.Rules.Rules[i]
		if r.Type == Silent && len(r.Regions) == 0 {
			if _, err := region.ParseCode(cfg.Root); err != nil {
				return nil, fmt.Errorf("report: rule %s files its report under the root region: %w", r.Name, err)
			}
		}
		m.rules[r.Name] = r
		rs = append(rs, r)
	}
	m.eval = newEvaluator(rs, cfg.Calendar, cfg.Regions, cfg.Targets, cfg.Past, cfg.Root, m.log)
	if err := cfg.Store.Migrate(ctx, component, migrations()); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.reload(ctx); err != nil {
		return nil, err
	}
	m.carrySilent()
	return m, nil
}

// carrySilent: a source that never succeeded is silent since it was first
// seen; an open report of it carries that over a restart (or a change of
// the node that judges), so that the report neither resolves nor fires
// anew.
func (m *Manager) carrySilent() {
	for _, a := range m.open {
		if a.rule != nil && a.rule.Type == Silent {
			m.eval.firstSeen[a.key.subject] = a.since.Add(-a.rule.After)
		}
	}
}

// Reload replaces the manager's memory with the database's state. A
// cluster node calls it when it becomes the leader: the previous leader
// fired, acknowledged, escalated and resolved reports since this process
// loaded them, and judging from the old memory would fire them again or
// miss their acknowledgements. A condition that must hold "for" a while
// starts its wait again on the new leader.
func (m *Manager) Reload(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.reload(ctx); err != nil {
		return err
	}
	m.carrySilent()
	return nil
}

// reload replaces the memory with the database's state; a notification
// being sent when the process stopped is due again (same ID).
func (m *Manager) reload(ctx context.Context) error {
	st, err := m.db.load(ctx, m.now())
	if err != nil {
		return err
	}
	m.open, m.alerts, m.rows = map[key]*alert{}, map[string]*alert{}, map[string]*row{}
	m.dirty = map[string]bool{}
	for _, a := range st.alerts {
		a.rule = m.rules[a.key.rule]
		m.alerts[a.id] = a
		if a.state != StateResolved {
			m.open[a.key] = a
			m.touch(a)
		}
	}
	for _, r := range st.rows {
		if r.state == rowSending {
			r.state = rowDue
		}
		m.rows[r.id] = r
	}
	m.silences = st.silences
	for i := range m.silences {
		m.silences[i] = m.zoned(m.silences[i])
	}
	return nil
}

// zoned puts a silence's times in the business time zone, as the API
// shows them.
func (m *Manager) zoned(s Silence) Silence {
	s.StartsAt, s.EndsAt, s.CreatedAt = s.StartsAt.In(m.loc), s.EndsAt.In(m.loc), s.CreatedAt.In(m.loc)
	if !s.ExpiredAt.IsZero() {
		s.ExpiredAt = s.ExpiredAt.In(m.loc)
	}
	return s
}

// touch marks the report lists that show a as changed.
func (m *Manager) touch(a *alert) { m.dirty[a.key.region] = true }

// commit writes b; on failure the memory is reloaded from the database so
// that the two never disagree.
func (m *Manager) commit(ctx context.Context, b *batch) error {
	err := m.db.commit(ctx, b)
	if err == nil {
		return nil
	}
	if rerr := m.reload(ctx); rerr != nil {
		m.log.Error("report: reload after a failed write", "err", rerr)
	}
	return err
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Evaluate judges the rules against the input at now and moves the
// reports' lifecycle on: fire, resolve, silence, escalate, repeat, release
// what quiet hours held; then publishes the report lists that changed and
// sends the notifications due. The app calls it after each feed cycle
// (only values that changed since the last call are judged again) and on
// a slow tick (every 10–30 s) for what time alone changes. The input's
// values are read outside the manager's lock.
func (m *Manager) Evaluate(ctx context.Context, now time.Time, in Input) error {
	m.evalMu.Lock()
	defer m.evalMu.Unlock()
	evalErr := m.eval.run(ctx, now, in)
	m.mu.Lock()
	var b batch
	m.reconcile(now, &b)
	m.applySilences(now, &b)
	m.schedule(now, &b)
	err := m.commit(ctx, &b)
	m.mu.Unlock()
	if err != nil {
		return err
	}
	m.publish(now)
	return errors.Join(evalErr, m.flush(ctx, now))
}

// reconcile turns the true conditions into alerts: new ones pending,
// pending ones firing after "for", open ones whose condition ended
// resolved.
func (m *Manager) reconcile(now time.Time, b *batch) {
	for k, f := range m.eval.cond {
		r := m.rules[k.rule]
		if r == nil {
			continue
		}
		a := m.open[k]
		if a == nil {
			a = &alert{id: newID(), key: k, rule: r, severity: r.Severity, state: StatePending, since: now, det: f}
			m.open[k], m.alerts[a.id] = a, a
			m.db.saveAlert(b, a, now)
		} else if a.det != f {
			a.det = f
			if a.visible() {
				m.touch(a)
			}
		}
		if a.state == StatePending && now.Sub(a.since) >= r.For {
			a.state, a.fired = StateFiring, now
			m.db.transition(b, a.id, now, StatePending, StateFiring, "", "")
			m.db.saveAlert(b, a, now)
			m.touch(a)
		}
	}
	for k, a := range m.open {
		if _, ok := m.eval.cond[k]; ok {
			continue
		}
		if a.rule != nil && m.stale(a.rule) {
			continue
		}
		if a.state == StatePending {
			delete(m.open, k)
			delete(m.alerts, a.id)
			m.db.deleteAlert(b, a.id)
			continue
		}
		m.resolve(a, now, "", b)
	}
}

// stale reports whether the rule's values could not be read this time:
// its alerts are not resolved on conditions that are not known.
func (m *Manager) stale(r *Rule) bool {
	switch r.Type {
	case Threshold, Drop, Bottom, Overdue:
		return m.eval.failed[r.Period]
	}
	return false
}

// resolve closes an open alert and schedules "resolved" to every level
// that was told of it.
func (m *Manager) resolve(a *alert, now time.Time, actor string, b *batch) {
	from := a.state
	a.state, a.resolved = StateResolved, now
	delete(m.open, a.key)
	m.db.transition(b, a.id, now, from, StateResolved, actor, "")
	m.cancel(a, b)
	if a.silencedBy == "" {
		for _, lvl := range a.levels {
			m.enqueue(b, a, KindResolved, lvl, now)
		}
	}
	m.db.saveAlert(b, a, now)
	m.touch(a)
	m.prune(a)
}

// prune forgets a resolved alert no unsent notification names.
func (m *Manager) prune(a *alert) {
	if a.state != StateResolved {
		return
	}
	for _, r := range m.rows {
		if slices.Contains(r.alerts, a.id) {
			return
		}
	}
	delete(m.alerts, a.id)
}

// cancel takes a out of every notification not yet being sent, except
// "resolved" ones; a notification left with no report is cancelled.
func (m *Manager) cancel(a *alert, b *batch) {
	for id, r := range m.rows {
		if r.state == rowSending || r.kind == KindResolved || !slices.Contains(r.alerts, a.id) {
			continue
		}
		r.alerts = slices.DeleteFunc(r.alerts, func(s string) bool { return s == a.id })
		if len(r.alerts) == 0 {
			r.state = rowCancelled
			delete(m.rows, id)
		}
		m.db.saveRow(b, r)
	}
	m.touch(a)
}

// unsent reports whether a notification of a (other than "resolved") is
// due, held or being sent: nothing new is scheduled for a until it goes.
func (m *Manager) unsent(a *alert) bool {
	for _, r := range m.rows {
		if r.kind != KindResolved && slices.Contains(r.alerts, a.id) {
			return true
		}
	}
	return false
}

// heldUntil is when the quiet hours release a's held notification, if any.
func (m *Manager) heldUntil(a *alert) time.Time {
	var t time.Time
	for _, r := range m.rows {
		if r.state == rowHeld && slices.Contains(r.alerts, a.id) && (t.IsZero() || r.due.Before(t)) {
			t = r.due
		}
	}
	return t
}

// Now returns the manager's clock (Config.Now).
func (m *Manager) Now() time.Time { return m.now() }
