package report

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/access"
)

// component is the name of the package's schema in schema_migrations.
const component = "report"

// migrations is the package's schema in the access database. Times are
// microseconds since the Unix epoch (BIGINT), as access keeps them; lists
// are JSON text. A step is never edited once released: a change is a new
// step.
func migrations() []access.Migration {
	return []access.Migration{{
		Version: 1,
		Both: []string{
			// One row per alert: pending (the condition holds, its "for"
			// not yet passed), firing, acknowledged, resolved. The clocks
			// of its notifications live here so a restart resumes them.
			`CREATE TABLE report_alerts (
				id          TEXT PRIMARY KEY,
				rule        TEXT NOT NULL,
				region      TEXT NOT NULL,
				subject     TEXT NOT NULL DEFAULT '',
				state       TEXT NOT NULL,
				severity    TEXT NOT NULL,
				since_at    BIGINT NOT NULL,
				fired_at    BIGINT,
				acked_at    BIGINT,
				acked_by    TEXT NOT NULL DEFAULT '',
				ack_comment TEXT NOT NULL DEFAULT '',
				resolved_at BIGINT,
				notified_at BIGINT,           -- last notification sent (repeat clock)
				step_at     BIGINT,           -- first or last escalation sent (escalation clock)
				escalation  INTEGER NOT NULL DEFAULT 0,
				level       TEXT NOT NULL DEFAULT '', -- the level told last
				levels      TEXT NOT NULL DEFAULT '[]', -- every level told, for "resolved"
				silenced_by TEXT NOT NULL DEFAULT '',
				detail      TEXT NOT NULL DEFAULT '{}',
				updated_at  BIGINT NOT NULL
			)`,
			// At most one open alert per rule, region and subject, whatever
			// happens to the process.
			`CREATE UNIQUE INDEX report_alerts_open ON report_alerts (rule, region, subject) WHERE state <> 'resolved'`,
			`CREATE INDEX report_alerts_region ON report_alerts (region, fired_at)`,
			`CREATE INDEX report_alerts_state ON report_alerts (state)`,
			`CREATE TABLE report_silences (
				id         TEXT PRIMARY KEY,
				rule       TEXT NOT NULL DEFAULT '',
				region     TEXT NOT NULL DEFAULT '',
				severity   TEXT NOT NULL DEFAULT '',
				starts_at  BIGINT NOT NULL,
				ends_at    BIGINT NOT NULL,
				created_by TEXT NOT NULL,
				created_at BIGINT NOT NULL,
				comment    TEXT NOT NULL DEFAULT '',
				expired_by TEXT NOT NULL DEFAULT '',
				expired_at BIGINT
			)`,
			`CREATE INDEX report_silences_ends ON report_silences (ends_at)`,
			// The notification log: one row per notification due, held,
			// being sent, sent, cancelled or failed. A row is written before
			// it is sent and marked after, so a restart neither forgets it
			// nor sends a sent one again.
			`CREATE TABLE report_notifications (
				id         TEXT PRIMARY KEY,
				group_key  TEXT NOT NULL,
				rule       TEXT NOT NULL,
				kind       TEXT NOT NULL,
				level      TEXT NOT NULL,
				region     TEXT NOT NULL,
				receivers  TEXT NOT NULL DEFAULT '[]',
				alert_ids  TEXT NOT NULL DEFAULT '[]',
				state      TEXT NOT NULL,
				created_at BIGINT NOT NULL,
				due_at     BIGINT NOT NULL,
				sent_at    BIGINT,
				attempts   INTEGER NOT NULL DEFAULT 0,
				last_error TEXT NOT NULL DEFAULT '',
				payload    TEXT NOT NULL DEFAULT ''
			)`,
			`CREATE INDEX report_notifications_state ON report_notifications (state, due_at)`,
		},
		SQLite: []string{
			`CREATE TABLE report_transitions (
				id         INTEGER PRIMARY KEY AUTOINCREMENT,
				alert_id   TEXT NOT NULL,
				at         BIGINT NOT NULL,
				from_state TEXT NOT NULL,
				to_state   TEXT NOT NULL,
				actor      TEXT NOT NULL DEFAULT '',
				comment    TEXT NOT NULL DEFAULT ''
			)`,
			`CREATE TABLE report_acks (
				id       INTEGER PRIMARY KEY AUTOINCREMENT,
				alert_id TEXT NOT NULL,
				at       BIGINT NOT NULL,
				by_name  TEXT NOT NULL,
				comment  TEXT NOT NULL DEFAULT ''
			)`,
		},
		Postgres: []string{
			`CREATE TABLE report_transitions (
				id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
				alert_id   TEXT NOT NULL,
				at         BIGINT NOT NULL,
				from_state TEXT NOT NULL,
				to_state   TEXT NOT NULL,
				actor      TEXT NOT NULL DEFAULT '',
				comment    TEXT NOT NULL DEFAULT ''
			)`,
			`CREATE TABLE report_acks (
				id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
				alert_id TEXT NOT NULL,
				at       BIGINT NOT NULL,
				by_name  TEXT NOT NULL,
				comment  TEXT NOT NULL DEFAULT ''
			)`,
		},
	}, {
		Version: 2,
		Both: []string{
			`CREATE INDEX report_transitions_alert ON report_transitions (alert_id, id)`,
			`CREATE INDEX report_acks_alert ON report_acks (alert_id, id)`,
		},
	}}
}

// db wraps the access store's database with the package's statements.
type db struct {
	st *access.SQLStore
}

func micro(t time.Time) int64 { return t.UnixMicro() }

func nullMicro(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNull(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only string slices and findings are written: cannot fail.
		panic(err)
	}
	return string(b)
}

// batch collects the writes of one change, run in one transaction: the
// state in memory and in the database move together or, on failure, the
// memory is reloaded from the database.
type batch struct {
	ops []func(ctx context.Context, tx *sql.Tx) error
}

func (b *batch) add(op func(ctx context.Context, tx *sql.Tx) error) { b.ops = append(b.ops, op) }

func (d *db) commit(ctx context.Context, b *batch) error {
	if len(b.ops) == 0 {
		return nil
	}
	tx, err := d.st.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("report: begin: %w", err)
	}
	defer tx.Rollback()
	for _, op := range b.ops {
		if err := op(ctx, tx); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("report: commit: %w", err)
	}
	b.ops = b.ops[:0]
	return nil
}

func (d *db) exec(b *batch, q string, args func() []any) {
	q = d.st.Rebind(q)
	// The arguments are read when the batch is built, not when it runs:
	// args is called now.
	vals := args()
	b.add(func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, q, vals...)
		return err
	})
}

const alertCols = `id, rule, region, subject, state, severity, since_at, fired_at, acked_at, acked_by, ack_comment,
	resolved_at, notified_at, step_at, escalation, level, levels, silenced_by, detail, updated_at`

// saveAlert writes the whole alert (insert or update).
func (d *db) saveAlert(b *batch, a *alert, now time.Time) {
	d.exec(b, `INSERT INTO report_alerts (`+alertCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET state = excluded.state, severity = excluded.severity, since_at = excluded.since_at,
			fired_at = excluded.fired_at, acked_at = excluded.acked_at, acked_by = excluded.acked_by,
			ack_comment = excluded.ack_comment, resolved_at = excluded.resolved_at, notified_at = excluded.notified_at,
			step_at = excluded.step_at, escalation = excluded.escalation, level = excluded.level, levels = excluded.levels,
			silenced_by = excluded.silenced_by, detail = excluded.detail, updated_at = excluded.updated_at`,
		func() []any {
			return []any{a.id, a.key.rule, a.key.region, a.key.subject, a.state, a.severity.String(), micro(a.since),
				nullMicro(a.fired), nullMicro(a.acked), a.ackedBy, a.ackComment, nullMicro(a.resolved),
				nullMicro(a.notifiedAt), nullMicro(a.stepAt), a.escalation, a.level, jsonText(nonNil(a.levels)),
				a.silencedBy, jsonText(a.det), micro(now)}
		})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (d *db) deleteAlert(b *batch, id string) {
	d.exec(b, `DELETE FROM report_alerts WHERE id = ? AND state = 'pending'`, func() []any { return []any{id} })
}

func (d *db) transition(b *batch, id string, at time.Time, from, to, actor, comment string) {
	d.exec(b, `INSERT INTO report_transitions (alert_id, at, from_state, to_state, actor, comment) VALUES (?, ?, ?, ?, ?, ?)`,
		func() []any { return []any{id, micro(at), from, to, actor, comment} })
}

func (d *db) ack(b *batch, id string, at time.Time, by, comment string) {
	d.exec(b, `INSERT INTO report_acks (alert_id, at, by_name, comment) VALUES (?, ?, ?, ?)`,
		func() []any { return []any{id, micro(at), by, comment} })
}

const rowCols = `id, group_key, rule, kind, level, region, receivers, alert_ids, state, created_at, due_at, sent_at,
	attempts, last_error, payload`

func (d *db) saveRow(b *batch, r *row) {
	d.exec(b, `INSERT INTO report_notifications (`+rowCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET alert_ids = excluded.alert_ids, state = excluded.state, due_at = excluded.due_at,
			sent_at = excluded.sent_at, attempts = excluded.attempts, last_error = excluded.last_error,
			payload = excluded.payload`,
		func() []any {
			return []any{r.id, r.group, r.rule, r.kind, r.level, r.region, jsonText(nonNil(r.receivers)),
				jsonText(nonNil(r.alerts)), r.state, micro(r.created), micro(r.due), nullMicro(r.sent), r.attempts,
				r.lastErr, r.payload}
		})
}

const silenceCols = `id, rule, region, severity, starts_at, ends_at, created_by, created_at, comment, expired_by, expired_at`

func (d *db) saveSilence(b *batch, s Silence) {
	d.exec(b, `INSERT INTO report_silences (`+silenceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET ends_at = excluded.ends_at, expired_by = excluded.expired_by,
			expired_at = excluded.expired_at`,
		func() []any {
			return []any{s.ID, s.Rule, s.Region, s.Severity, micro(s.StartsAt), micro(s.EndsAt), s.CreatedBy,
				micro(s.CreatedAt), s.Comment, s.ExpiredBy, nullMicro(s.ExpiredAt)}
		})
}

type scanner interface{ Scan(dst ...any) error }

func scanAlert(sc scanner) (*alert, error) {
	a := &alert{}
	var since, updated int64
	var fired, acked, resolved, notified, step sql.NullInt64
	var sev, levels, detail string
	if err := sc.Scan(&a.id, &a.key.rule, &a.key.region, &a.key.subject, &a.state, &sev, &since, &fired, &acked,
		&a.ackedBy, &a.ackComment, &resolved, &notified, &step, &a.escalation, &a.level, &levels, &a.silencedBy,
		&detail, &updated); err != nil {
		return nil, err
	}
	a.severity, _ = ParseSeverity(sev)
	a.since, a.fired, a.acked, a.resolved = time.UnixMicro(since), fromNull(fired), fromNull(acked), fromNull(resolved)
	a.notifiedAt, a.stepAt = fromNull(notified), fromNull(step)
	if err := json.Unmarshal([]byte(levels), &a.levels); err != nil {
		return nil, fmt.Errorf("alert %s: levels: %w", a.id, err)
	}
	if err := json.Unmarshal([]byte(detail), &a.det); err != nil {
		return nil, fmt.Errorf("alert %s: detail: %w", a.id, err)
	}
	return a, nil
}

func scanRow(sc scanner) (*row, error) {
	r := &row{}
	var created, due int64
	var sent sql.NullInt64
	var recv, ids string
	if err := sc.Scan(&r.id, &r.group, &r.rule, &r.kind, &r.level, &r.region, &recv, &ids, &r.state, &created, &due,
		&sent, &r.attempts, &r.lastErr, &r.payload); err != nil {
		return nil, err
	}
	r.created, r.due, r.sent = time.UnixMicro(created), time.UnixMicro(due), fromNull(sent)
	if err := json.Unmarshal([]byte(recv), &r.receivers); err != nil {
		return nil, fmt.Errorf("notification %s: receivers: %w", r.id, err)
	}
	if err := json.Unmarshal([]byte(ids), &r.alerts); err != nil {
		return nil, fmt.Errorf("notification %s: alerts: %w", r.id, err)
	}
	return r, nil
}

func scanSilence(sc scanner) (Silence, error) {
	var s Silence
	var starts, ends, created int64
	var expired sql.NullInt64
	if err := sc.Scan(&s.ID, &s.Rule, &s.Region, &s.Severity, &starts, &ends, &s.CreatedBy, &created, &s.Comment,
		&s.ExpiredBy, &expired); err != nil {
		return s, err
	}
	s.StartsAt, s.EndsAt, s.CreatedAt, s.ExpiredAt = time.UnixMicro(starts), time.UnixMicro(ends), time.UnixMicro(created), fromNull(expired)
	return s, nil
}

// query runs q and calls each for every row.
func (d *db) query(ctx context.Context, q string, args []any, each func(scanner) error) error {
	rows, err := d.st.DB().QueryContext(ctx, d.st.Rebind(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// state is what the manager keeps in memory, as loaded.
type state struct {
	alerts   []*alert // open, and resolved ones unsent notifications name
	rows     []*row   // due, held and sending
	silences []Silence
}

// load reads the open alerts, the unsent notifications, the alerts they
// name and the silences not yet ended at now.
func (d *db) load(ctx context.Context, now time.Time) (state, error) {
	var st state
	seen := map[string]bool{}
	err := d.query(ctx, `SELECT `+alertCols+` FROM report_alerts WHERE state <> 'resolved'`, nil, func(sc scanner) error {
		a, err := scanAlert(sc)
		if err == nil {
			st.alerts = append(st.alerts, a)
			seen[a.id] = true
		}
		return err
	})
	if err != nil {
		return st, fmt.Errorf("report: load alerts: %w", err)
	}
	err = d.query(ctx, `SELECT `+rowCols+` FROM report_notifications WHERE state IN ('due', 'held', 'sending') ORDER BY created_at, id`, nil,
		func(sc scanner) error {
			r, err := scanRow(sc)
			if err == nil {
				st.rows = append(st.rows, r)
			}
			return err
		})
	if err != nil {
		return st, fmt.Errorf("report: load notifications: %w", err)
	}
	for _, r := range st.rows {
		for _, id := range r.alerts {
			if seen[id] {
				continue
			}
			seen[id] = true
			err := d.query(ctx, `SELECT `+alertCols+` FROM report_alerts WHERE id = ?`, []any{id}, func(sc scanner) error {
				a, err := scanAlert(sc)
				if err == nil {
					st.alerts = append(st.alerts, a)
				}
				return err
			})
			if err != nil {
				return st, fmt.Errorf("report: load alert %s: %w", id, err)
			}
		}
	}
	err = d.query(ctx, `SELECT `+silenceCols+` FROM report_silences WHERE expired_at IS NULL AND ends_at > ? ORDER BY starts_at, id`,
		[]any{micro(now)}, func(sc scanner) error {
			s, err := scanSilence(sc)
			if err == nil {
				st.silences = append(st.silences, s)
			}
			return err
		})
	if err != nil {
		return st, fmt.Errorf("report: load silences: %w", err)
	}
	return st, nil
}

// likePrefix escapes s for a LIKE pattern (codes are digits; the escape
// keeps it right anyway).
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}
