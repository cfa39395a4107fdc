package access

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Dialect is the SQL engine behind a SQLStore.
type Dialect string

// The supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Migration is one step of a component's schema. Steps run in Version
// order, each once, in one transaction with its bookkeeping row, so a
// failed step leaves nothing behind. A step is never edited once released:
// a change is a new step.
type Migration struct {
	Version int
	// Both holds statements that read the same on both engines; SQLite
	// and Postgres hold the ones that differ. They run in that order.
	Both, SQLite, Postgres []string
}

// accessMigrations is this package's schema. Times are microseconds since
// the Unix epoch (BIGINT): the same on both engines and trivially ordered.
func accessMigrations() []Migration {
	return []Migration{{
		Version: 1,
		Both: []string{
			`CREATE TABLE users (
				name          TEXT PRIMARY KEY,
				role          TEXT NOT NULL,
				region        TEXT NOT NULL,
				password_hash TEXT NOT NULL,
				disabled      BOOLEAN NOT NULL DEFAULT FALSE,
				created_at    BIGINT NOT NULL,
				updated_at    BIGINT NOT NULL
			)`,
			`CREATE TABLE sessions (
				id         TEXT PRIMARY KEY, -- hex SHA-256 of the token
				user_name  TEXT NOT NULL REFERENCES users(name),
				csrf       TEXT NOT NULL,
				created_at BIGINT NOT NULL,
				last_seen  BIGINT NOT NULL,
				addr       TEXT NOT NULL DEFAULT ''
			)`,
			`CREATE INDEX sessions_user ON sessions (user_name)`,
			`CREATE TABLE screen_tokens (
				id           TEXT PRIMARY KEY,
				secret_hash  TEXT NOT NULL UNIQUE, -- hex SHA-256 of the secret
				screen       TEXT NOT NULL DEFAULT '',
				playlist     TEXT NOT NULL DEFAULT '',
				region       TEXT NOT NULL,
				note         TEXT NOT NULL DEFAULT '',
				created_by   TEXT NOT NULL,
				created_at   BIGINT NOT NULL,
				revoked_at   BIGINT,
				last_used_at BIGINT
			)`,
		},
		SQLite: []string{
			`CREATE TABLE audit (
				id     INTEGER PRIMARY KEY AUTOINCREMENT,
				at     BIGINT NOT NULL,
				actor  TEXT NOT NULL,
				action TEXT NOT NULL,
				target TEXT NOT NULL DEFAULT '',
				detail TEXT NOT NULL DEFAULT '',
				addr   TEXT NOT NULL DEFAULT ''
			)`,
			`CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
				BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END`,
			`CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
				BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END`,
		},
		Postgres: []string{
			`CREATE TABLE audit (
				id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
				at     BIGINT NOT NULL,
				actor  TEXT NOT NULL,
				action TEXT NOT NULL,
				target TEXT NOT NULL DEFAULT '',
				detail TEXT NOT NULL DEFAULT '',
				addr   TEXT NOT NULL DEFAULT ''
			)`,
			`CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN RAISE EXCEPTION 'audit log is append-only'; END $$`,
			`CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
				FOR EACH ROW EXECUTE FUNCTION audit_append_only()`,
			`CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
				FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()`,
		},
	}, {
		Version: 2,
		Both: []string{
			`CREATE INDEX audit_at ON audit (at)`,
			`CREATE INDEX audit_actor ON audit (actor, id)`,
			`CREATE INDEX audit_action ON audit (action, id)`,
		},
	}}
}

// Migrate brings component's schema up to date: it runs the steps of ms
// not yet recorded in schema_migrations for that component. Other packages
// that keep tables in the same database (dispatch orders, later) call it
// with their own component name and steps. Concurrent callers (the server
// and the CLI starting together) are serialised by the engine's write lock
// (SQLite) or an advisory lock (PostgreSQL).
func (s *SQLStore) Migrate(ctx context.Context, component string, ms []Migration) error {
	for i, m := range ms {
		if m.Version != i+1 {
			return fmt.Errorf("migrate %s: step %d has version %d, want %d", component, i, m.Version, i+1)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	defer tx.Rollback()
	if s.dialect == Postgres {
		// Transaction-scoped: released at commit or rollback. The key is
		// arbitrary but fixed ("yiping" in ASCII).
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(121105112105110103)`); err != nil {
			return fmt.Errorf("migrate %s: lock: %w", component, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component  TEXT NOT NULL,
		version    INTEGER NOT NULL,
		applied_at BIGINT NOT NULL,
		PRIMARY KEY (component, version)
	)`); err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	var have int
	if err := tx.QueryRowContext(ctx, s.rebind(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?`), component).Scan(&have); err != nil {
		return fmt.Errorf("migrate %s: read version: %w", component, err)
	}
	if have > len(ms) {
		return fmt.Errorf("migrate %s: the database is at version %d, newer than this program's %d: upgrade the program", component, have, len(ms))
	}
	for _, m := range ms[have:] {
		own := m.SQLite
		if s.dialect == Postgres {
			own = m.Postgres
		}
		for _, q := range slices.Concat(m.Both, own) {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("migrate %s to version %d: %s: %w", component, m.Version, firstLine(q), err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)`),
			component, m.Version, time.Now().UnixMicro()); err != nil {
			return fmt.Errorf("migrate %s to version %d: %w", component, m.Version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: commit: %w", component, err)
	}
	return nil
}

func firstLine(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.IndexByte(q, '\n'); i >= 0 {
		return q[:i] + " …"
	}
	return q
}
