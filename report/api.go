package report

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/region"
)

// Report is a special report (特别呈报) as screens, phones, messages and
// the API show it. The server decides every text; times are RFC 3339 in
// the business time zone, "" when the event has not happened.
type Report struct {
	ID         string   `json:"id"`
	Rule       string   `json:"rule"`
	Type       Type     `json:"type"`
	Title      string   `json:"title"`
	TitleEN    string   `json:"title_en"`
	Severity   Severity `json:"severity"`
	Region     string   `json:"region"`
	RegionName string   `json:"region_name"`
	// Subject tells reports of one rule and region apart: the ticket
	// category of a surge, the source of a silent rule.
	Subject   string `json:"subject,omitempty"`
	Indicator string `json:"indicator,omitempty"`
	Period    string `json:"period,omitempty"`
	// Value is the value judged, as shown ("82.10%"); Threshold the bound
	// or reference it was judged against (the floor, the previous
	// period's value for a drop, the rank "12/13" for a bottom rule).
	Value     string `json:"value"`
	Threshold string `json:"threshold"`
	// Text says it in a sentence: "今日接通率 82.10%，低于底线 75.00%".
	Text   string `json:"text"`
	TextEN string `json:"text_en"`
	// State is firing, acknowledged or resolved.
	State   string `json:"state"`
	FiredAt string `json:"fired_at"`
	// FiredText is FiredAt as screens and phones show it ("06-01 10:01").
	FiredText  string `json:"fired_text"`
	AckedAt    string `json:"acked_at"`
	AckedBy    string `json:"acked_by"`
	AckComment string `json:"ack_comment"`
	ResolvedAt string `json:"resolved_at"`
	// Escalation counts the steps of the ladder passed; Level is the
	// level told last ("county", "city", "province"), "" before anyone was.
	Escalation int    `json:"escalation"`
	Level      string `json:"level"`
	// HeldUntil is when quiet hours release its notification, if they
	// hold one.
	HeldUntil string `json:"held_until,omitempty"`
	Silenced  bool   `json:"silenced,omitempty"`
}

// Board is the payload of a report topic (live.ReportTopic): the open
// reports of a region and below, most severe and newest first.
type Board struct {
	Region     string   `json:"region"`
	RegionName string   `json:"region_name"`
	Reports    []Report `json:"reports"`
	// Unacked counts the reports nobody has acknowledged.
	Unacked int    `json:"unacked"`
	AsOf    string `json:"as_of"`
	// AsOfText is AsOf as phones show it ("06-01 10:05").
	AsOfText string `json:"as_of_text"`
}

// report presents an alert.
func (m *Manager) report(a *alert) Report {
	r := Report{ID: a.id, Rule: a.key.rule, Title: a.key.rule, TitleEN: a.key.rule, Severity: a.severity,
		Region: a.key.region, RegionName: m.eval.name(a.key.region), Subject: a.key.subject,
		Indicator: a.det.Indicator, Period: a.det.Period, Value: a.det.Value, Threshold: a.det.Threshold,
		Text: a.det.Text, TextEN: a.det.TextEN, State: a.state,
		FiredAt: stamp(a.fired, m.loc), FiredText: shortStamp(a.fired, m.loc), AckedAt: stamp(a.acked, m.loc), AckedBy: a.ackedBy, AckComment: a.ackComment,
		ResolvedAt: stamp(a.resolved, m.loc), Escalation: a.escalation, Level: a.level,
		HeldUntil: stamp(m.heldUntil(a), m.loc), Silenced: a.silencedBy != ""}
	if a.rule != nil {
		r.Type, r.Title, r.TitleEN = a.rule.Type, a.rule.Title.ZH, a.rule.Title.EN
	}
	return r
}

// sortReports orders reports most severe first, then newest, then by id.
func sortReports(rs []Report) {
	slices.SortFunc(rs, func(x, y Report) int {
		return cmp.Or(cmp.Compare(y.Severity, x.Severity), cmp.Compare(y.FiredAt, x.FiredAt), cmp.Compare(x.ID, y.ID))
	})
}

// Open returns the open reports (firing or acknowledged, not silenced) of
// a region and the regions below it, most severe and newest first: the
// first paint of a screen's or a phone's list.
func (m *Manager) Open(regionCode string) []Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.openLocked(regionCode)
}

func (m *Manager) openLocked(regionCode string) []Report {
	out := []Report{}
	for _, a := range m.open {
		if a.visible() && under(a.key.region, regionCode) {
			out = append(out, m.report(a))
		}
	}
	sortReports(out)
	return out
}

// Board returns the payload of a region's report topic.
func (m *Manager) Board(regionCode string) Board {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.boardLocked(regionCode, m.now())
}

func (m *Manager) boardLocked(regionCode string, now time.Time) Board {
	b := Board{Region: regionCode, RegionName: m.eval.name(regionCode), Reports: m.openLocked(regionCode), AsOf: stamp(now, m.loc), AsOfText: shortStamp(now, m.loc)}
	for _, r := range b.Reports {
		if r.State == StateFiring {
			b.Unacked++
		}
	}
	return b
}

// publish sends the board of every region whose list changed, and of its
// ancestors (whose lists include it). Publishes are serialised (pubMu,
// taken before mu and never while holding it) so that a newer board never
// goes out before an older one.
func (m *Manager) publish(now time.Time) {
	m.pubMu.Lock()
	defer m.pubMu.Unlock()
	m.mu.Lock()
	if m.cfg.Publisher == nil || len(m.dirty) == 0 {
		clear(m.dirty)
		m.mu.Unlock()
		return
	}
	regions := map[string]bool{}
	for code := range m.dirty {
		regions[code] = true
		var buf [4]region.Code
		for _, anc := range region.Code(code).Ancestors(buf[:0]) {
			regions[string(anc)] = true
		}
	}
	clear(m.dirty)
	codes := sortedKeys(regions)
	boards := make([]Board, len(codes))
	for i, c := range codes {
		boards[i] = m.boardLocked(c, now)
	}
	m.mu.Unlock()
	for _, b := range boards {
		data, err := json.Marshal(b)
		if err == nil {
			err = m.cfg.Publisher.Publish(live.ReportTopic(b.Region), data)
		}
		if err != nil {
			m.log.Warn("report: publish", "region", b.Region, "err", err)
		}
	}
}

// Report returns one report as it is now (open ones from memory, others
// from the database).
func (m *Manager) Report(ctx context.Context, id string) (Report, error) {
	m.mu.Lock()
	if a := m.alerts[id]; a != nil && a.state != StatePending {
		r := m.report(a)
		m.mu.Unlock()
		return r, nil
	}
	m.mu.Unlock()
	a, err := m.loadAlert(ctx, id)
	if err != nil {
		return Report{}, err
	}
	return m.report(a), nil
}

func (m *Manager) loadAlert(ctx context.Context, id string) (*alert, error) {
	var a *alert
	err := m.db.query(ctx, `SELECT `+alertCols+` FROM report_alerts WHERE id = ? AND state <> 'pending'`, []any{id}, func(sc scanner) error {
		var err error
		a, err = scanAlert(sc)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if a == nil {
		return nil, ErrNotFound
	}
	a.rule = m.rules[a.key.rule]
	return a, nil
}

// Ack acknowledges a report in the name of by (the signed-in user), with
// a comment: escalation and repeats stop, notifications not yet sent are
// withdrawn. Acknowledging an acknowledged report records one more
// acknowledgement and changes nothing else.
func (m *Manager) Ack(ctx context.Context, id, by, comment string) (Report, error) {
	by, comment = strings.TrimSpace(by), strings.TrimSpace(comment)
	if by == "" || len(by) > 200 || len(comment) > 2000 {
		return Report{}, fmt.Errorf("%w: want a name (at most 200 bytes) and a comment of at most 2000 bytes", ErrInvalid)
	}
	m.mu.Lock()
	a := m.alerts[id]
	if a == nil || a.state == StatePending {
		m.mu.Unlock()
		if old, err := m.loadAlert(ctx, id); err == nil && old.state == StateResolved {
			return Report{}, ErrResolved
		}
		return Report{}, ErrNotFound
	}
	if a.state == StateResolved {
		m.mu.Unlock()
		return Report{}, ErrResolved
	}
	now := m.now()
	var b batch
	m.db.ack(&b, id, now, by, comment)
	if a.state == StateFiring {
		a.state, a.acked, a.ackedBy, a.ackComment = StateAcknowledged, now, by, comment
		m.db.transition(&b, id, now, StateFiring, StateAcknowledged, by, comment)
		m.cancel(a, &b)
		m.db.saveAlert(&b, a, now)
	}
	m.touch(a)
	err := m.commit(ctx, &b)
	r := m.report(a)
	m.mu.Unlock()
	if err != nil {
		return Report{}, err
	}
	m.publish(now)
	return r, nil
}

// Silence mutes notifications of the reports it matches from StartsAt to
// EndsAt; screens do not list them meanwhile. Every matcher given must
// match: Rule and Severity exactly, Region the report's region or one
// above it. At least one matcher is required.
type Silence struct {
	ID        string    `json:"id"`
	Rule      string    `json:"rule,omitempty"`
	Region    string    `json:"region,omitempty"`
	Severity  string    `json:"severity,omitempty"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Comment   string    `json:"comment"`
	ExpiredBy string    `json:"expired_by,omitempty"`
	ExpiredAt time.Time `json:"expired_at,omitzero"`
}

func (s Silence) matches(a *alert, now time.Time) bool {
	if now.Before(s.StartsAt) || !now.Before(s.EndsAt) {
		return false
	}
	return (s.Rule == "" || s.Rule == a.key.rule) &&
		(s.Severity == "" || s.Severity == a.severity.String()) &&
		(s.Region == "" || under(a.key.region, s.Region))
}

// maxSilence is the longest silence: a longer one is a rule to change.
const maxSilence = 366 * 24 * time.Hour

// AddSilence records a silence (ID and CreatedAt are set; StartsAt
// defaults to now) and applies it at once.
func (m *Manager) AddSilence(ctx context.Context, s Silence) (Silence, error) {
	now := m.now()
	s.CreatedBy, s.Comment = strings.TrimSpace(s.CreatedBy), strings.TrimSpace(s.Comment)
	if s.StartsAt.IsZero() {
		s.StartsAt = now
	}
	var problems []string
	if s.Rule == "" && s.Region == "" && s.Severity == "" {
		problems = append(problems, "give at least one of rule, region, severity")
	}
	if _, ok := m.rules[s.Rule]; s.Rule != "" && !ok {
		problems = append(problems, fmt.Sprintf("unknown rule %q", s.Rule))
	}
	if _, err := region.ParseCode(s.Region); s.Region != "" && err != nil {
		problems = append(problems, err.Error())
	}
	if _, ok := ParseSeverity(s.Severity); s.Severity != "" && !ok {
		problems = append(problems, fmt.Sprintf("unknown severity %q (info, warning, critical)", s.Severity))
	}
	if !s.EndsAt.After(s.StartsAt) || !s.EndsAt.After(now) || s.EndsAt.Sub(s.StartsAt) > maxSilence {
		problems = append(problems, "ends_at must be after starts_at and now, at most a year later")
	}
	if s.CreatedBy == "" || len(s.CreatedBy) > 200 || len(s.Comment) > 2000 {
		problems = append(problems, "want a creator (at most 200 bytes) and a comment of at most 2000 bytes")
	}
	if len(problems) > 0 {
		return Silence{}, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	s.ID, s.CreatedAt, s.ExpiredBy, s.ExpiredAt = newID(), now, "", time.Time{}
	// Whole microseconds, as the database keeps them.
	s.StartsAt, s.EndsAt, s.CreatedAt = s.StartsAt.Truncate(time.Microsecond), s.EndsAt.Truncate(time.Microsecond), s.CreatedAt.Truncate(time.Microsecond)
	s = m.zoned(s)
	m.mu.Lock()
	var b batch
	m.db.saveSilence(&b, s)
	m.silences = append(m.silences, s)
	m.applySilences(now, &b)
	err := m.commit(ctx, &b)
	m.mu.Unlock()
	if err != nil {
		return Silence{}, err
	}
	m.publish(now)
	return s, nil
}

// ExpireSilence ends a silence now, in the name of by.
func (m *Manager) ExpireSilence(ctx context.Context, id, by string) error {
	by = strings.TrimSpace(by)
	if by == "" {
		return fmt.Errorf("%w: want a name", ErrInvalid)
	}
	now := m.now()
	m.mu.Lock()
	i := slices.IndexFunc(m.silences, func(s Silence) bool { return s.ID == id })
	if i < 0 {
		m.mu.Unlock()
		return ErrNotFound
	}
	s := m.silences[i]
	s.ExpiredBy, s.ExpiredAt = by, now.Truncate(time.Microsecond)
	if s.EndsAt.After(now) {
		s.EndsAt = s.ExpiredAt
	}
	m.silences = slices.Delete(m.silences, i, i+1)
	var b batch
	m.db.saveSilence(&b, s)
	m.applySilences(now, &b)
	err := m.commit(ctx, &b)
	m.mu.Unlock()
	if err != nil {
		return err
	}
	m.publish(now)
	return nil
}

// Silences returns the silences in force or still to come.
func (m *Manager) Silences() []Silence {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.silences)
}

// applySilences drops ended silences and marks each open alert with the
// silence that holds it; a newly silenced alert's unsent notifications are
// withdrawn. A report whose silence ends is notified by the next schedule
// (firing if nobody was told yet, else its repeat or escalation if due).
func (m *Manager) applySilences(now time.Time, b *batch) {
	m.silences = slices.DeleteFunc(m.silences, func(s Silence) bool { return !now.Before(s.EndsAt) })
	for _, a := range m.sortedOpen() {
		by := ""
		for _, s := range m.silences {
			if s.matches(a, now) {
				by = s.ID
				break
			}
		}
		if by == a.silencedBy {
			continue
		}
		was := a.silencedBy
		a.silencedBy = by
		if was == "" {
			m.cancel(a, b)
		}
		m.touch(a)
		m.db.saveAlert(b, a, now)
	}
}

// Transition is one change of a report's state.
type Transition struct {
	At      string `json:"at"`
	From    string `json:"from"`
	To      string `json:"to"`
	Actor   string `json:"actor,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// Acknowledgement is one person's acknowledgement of a report.
type Acknowledgement struct {
	At      string `json:"at"`
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// LogEntry is one notification of the log.
type LogEntry struct {
	ID        string   `json:"id"`
	Kind      string   `json:"kind"`
	Level     string   `json:"level"`
	Region    string   `json:"region"`
	Receivers []string `json:"receivers"`
	// State is due, held, sending, sent, cancelled or failed.
	State    string `json:"state"`
	Due      string `json:"due"`
	Sent     string `json:"sent,omitempty"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error,omitempty"`
}

// Detail is a report with its history: transitions, acknowledgements and
// notifications, oldest first.
type Detail struct {
	Report           Report            `json:"report"`
	Transitions      []Transition      `json:"transitions"`
	Acknowledgements []Acknowledgement `json:"acknowledgements"`
	Notifications    []LogEntry        `json:"notifications"`
}

// Detail returns a report and its history.
func (m *Manager) Detail(ctx context.Context, id string) (Detail, error) {
	r, err := m.Report(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Report: r, Transitions: []Transition{}, Acknowledgements: []Acknowledgement{}, Notifications: []LogEntry{}}
	err = m.db.query(ctx, `SELECT at, from_state, to_state, actor, comment FROM report_transitions WHERE alert_id = ? ORDER BY id`,
		[]any{id}, func(sc scanner) error {
			var t Transition
			var at int64
			err := sc.Scan(&at, &t.From, &t.To, &t.Actor, &t.Comment)
			t.At = stamp(time.UnixMicro(at), m.loc)
			d.Transitions = append(d.Transitions, t)
			return err
		})
	if err == nil {
		err = m.db.query(ctx, `SELECT at, by_name, comment FROM report_acks WHERE alert_id = ? ORDER BY id`,
			[]any{id}, func(sc scanner) error {
				var k Acknowledgement
				var at int64
				err := sc.Scan(&at, &k.By, &k.Comment)
				k.At = stamp(time.UnixMicro(at), m.loc)
				d.Acknowledgements = append(d.Acknowledgements, k)
				return err
			})
	}
	if err == nil {
		// alert_ids is a JSON list of ids: the quoted id finds it.
		err = m.db.query(ctx, `SELECT `+rowCols+` FROM report_notifications WHERE alert_ids LIKE ? ESCAPE '\' ORDER BY created_at, id`,
			[]any{"%" + likePrefix(`"`+id+`"`)}, func(sc scanner) error {
				w, err := scanRow(sc)
				if err == nil {
					d.Notifications = append(d.Notifications, LogEntry{ID: w.id, Kind: w.kind, Level: w.level,
						Region: w.region, Receivers: w.receivers, State: w.state, Due: stamp(w.due, m.loc),
						Sent: stamp(w.sent, m.loc), Attempts: w.attempts, Error: w.lastErr})
				}
				return err
			})
	}
	if err != nil {
		return Detail{}, fmt.Errorf("report: detail %s: %w", id, err)
	}
	return d, nil
}

// Filter selects reports for List.
type Filter struct {
	// Region keeps the reports of the region and below; "" all.
	Region string
	// States keeps these states (firing, acknowledged, resolved); nil all.
	States []string
	// Since and Until bound the firing time, [Since, Until).
	Since, Until time.Time
	// Limit is at most 1000; 0 means 100.
	Limit int
}

// List returns reports from the database, newest first: the archive the
// console searches.
func (m *Manager) List(ctx context.Context, f Filter) ([]Report, error) {
	q := `SELECT ` + alertCols + ` FROM report_alerts WHERE state <> 'pending'`
	var args []any
	if f.Region != "" {
		if _, err := region.ParseCode(f.Region); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		q += ` AND region LIKE ? ESCAPE '\'`
		args = append(args, likePrefix(codePrefix(f.Region)))
	}
	if len(f.States) > 0 {
		q += ` AND state IN (?` + strings.Repeat(", ?", len(f.States)-1) + `)`
		for _, s := range f.States {
			args = append(args, s)
		}
	}
	if !f.Since.IsZero() {
		q += ` AND fired_at >= ?`
		args = append(args, micro(f.Since))
	}
	if !f.Until.IsZero() {
		q += ` AND fired_at < ?`
		args = append(args, micro(f.Until))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q += fmt.Sprintf(` ORDER BY fired_at DESC, id LIMIT %d`, limit)
	var out []Report
	err := m.db.query(ctx, q, args, func(sc scanner) error {
		a, err := scanAlert(sc)
		if err != nil {
			return err
		}
		m.mu.Lock()
		if cur := m.alerts[a.id]; cur != nil {
			a = cur // fresher texts
		} else {
			a.rule = m.rules[a.key.rule]
		}
		out = append(out, m.report(a))
		m.mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("report: list: %w", err)
	}
	return out, nil
}

// codePrefix is the prefix every code at or below a region starts with:
// "62" for a province, "6208" for a city, the code for a county or
// township (region codes nest by their digits).
func codePrefix(code string) string {
	switch region.Code(code).Level() {
	case region.Province:
		return code[:2]
	case region.City:
		return code[:4]
	}
	return code
}
