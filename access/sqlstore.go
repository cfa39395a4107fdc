package access

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/yiping-ioc/yiping/region"
)

// SQLiteFile is the name of the embedded store's file in the data directory.
const SQLiteFile = "access.db"

// StoreConfig says where the access store is. A DSN selects PostgreSQL;
// otherwise the store is the SQLite file SQLiteFile in DataDir.
type StoreConfig struct {
	DataDir string // default "./data"
	DSN     string // a PostgreSQL URL or key=value string
}

// OpenStore opens the store cfg names, creating and migrating its tables.
func OpenStore(ctx context.Context, cfg StoreConfig) (*SQLStore, error) {
	if cfg.DSN != "" {
		return OpenPostgres(ctx, cfg.DSN)
	}
	dir := cfg.DataDir
	if dir == "" {
		dir = "./data"
	}
	return OpenSQLite(ctx, filepath.Join(dir, SQLiteFile))
}

// SQLStore is the Store on SQLite or PostgreSQL. Its database may hold
// other packages' tables too (see Migrate, DB).
type SQLStore struct {
	db      *sql.DB
	dialect Dialect
	where   string // for messages: the file, or the server without credentials

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // the hot statements, prepared once (see stmt)
}

// OpenSQLite opens the SQLite database at path (created, with its
// directory, when missing; the file readable by its owner only, since it
// holds password hashes). It runs in WAL mode with a busy timeout, so the
// CLI can write while the server runs.
func OpenSQLite(ctx context.Context, path string) (*SQLStore, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("access store %s: the path may not contain ? or #", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("access store: %w", err)
	}
	// Create the file before SQLite does, to choose its mode; SQLite gives
	// the -wal and -shm files the same.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		f.Close()
		if err := giveToDirOwner(path); err != nil {
			return nil, fmt.Errorf("access store: %w", err)
		}
	case !errors.Is(err, os.ErrExist):
		return nil, fmt.Errorf("access store: %w", err)
	}
	// Every pool connection gets these pragmas. _txlock=immediate takes
	// the write lock at BEGIN, so two writers wait on busy_timeout instead
	// of failing with SQLITE_BUSY when a read transaction tries to become
	// a write one. synchronous=FULL: a committed audit entry survives a
	// power cut.
	dsn := path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("access store %s: %w", path, err)
	}
	// Keep the connections a burst of logins or screens opens (readers do
	// not block each other in WAL mode): opening one runs the pragmas, and
	// the prepared statements are prepared again on each new one.
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return open(ctx, db, SQLite, path)
}

// OpenPostgres connects to PostgreSQL with dsn (a URL or key=value string,
// as pgx reads it) and creates or migrates the tables.
func OpenPostgres(ctx context.Context, dsn string) (*SQLStore, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message can quote the DSN, password included.
		return nil, errors.New("access store: cannot parse the PostgreSQL DSN")
	}
	where := fmt.Sprintf("postgres %s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("access store %s: %w", where, err)
	}
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return open(ctx, db, Postgres, where)
}

func open(ctx context.Context, db *sql.DB, d Dialect, where string) (*SQLStore, error) {
	s := &SQLStore{db: db, dialect: d, where: where}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("access store %s: %w", where, err)
	}
	if err := s.Migrate(ctx, "access", accessMigrations()); err != nil {
		db.Close()
		return nil, fmt.Errorf("access store %s: %w", where, err)
	}
	return s, nil
}

// DB is the database, for packages that keep their own tables beside
// these (after Migrate with their own component name).
func (s *SQLStore) DB() *sql.DB { return s.db }

// Dialect says which engine the database is.
func (s *SQLStore) Dialect() Dialect { return s.dialect }

// String says where the store is, without credentials.
func (s *SQLStore) String() string {
	if s.dialect == SQLite {
		return "sqlite " + s.where
	}
	return s.where
}

// Close closes the database.
func (s *SQLStore) Close() error {
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	s.stmtMu.Unlock()
	return s.db.Close()
}

// stmt returns q (with ? placeholders) prepared, once per store: the
// statements of the authentication and revalidation paths, which would
// otherwise be parsed again on every call. database/sql prepares it on
// each pooled connection the first time it runs there.
func (s *SQLStore) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st := s.stmts[q]; st != nil {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, s.rebind(q))
	if err != nil {
		return nil, err
	}
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	s.stmts[q] = st
	return st, nil
}

// queryRow runs a prepared query that returns at most one row.
func (s *SQLStore) queryRow(ctx context.Context, q string, args ...any) scanner {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// idChunk bounds the ids one statement of a batch carries.
var idChunk = 1000

// jsonIDs is a table j with one column, value: the strings of the JSON
// array given as the statement's one argument, in the store's dialect.
// Joined on a primary key, it costs one index probe per id.
func (s *SQLStore) jsonIDs() string {
	if s.dialect == Postgres {
		return `jsonb_array_elements_text(?::jsonb) AS j(value)`
	}
	return `json_each(?) AS j`
}

// byIDs runs the prepared query q once per chunk of ids (a JSON array
// each), calling scan for every row.
func (s *SQLStore) byIDs(ctx context.Context, what, q string, ids []string, scan func(scanner) error) error {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for len(ids) > 0 {
		n := min(len(ids), idChunk)
		arg, _ := json.Marshal(ids[:n])
		ids = ids[n:]
		rows, err := st.QueryContext(ctx, string(arg))
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// Rebind turns the ? placeholders of a query into the engine's own ($1, $2…
// on PostgreSQL). Queries must not contain a literal '?'.
func (s *SQLStore) Rebind(q string) string { return s.rebind(q) }

func (s *SQLStore) rebind(q string) string {
	if s.dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// mapErr turns key violations into the package's sentinels.
func mapErr(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("%w: %v", ErrExists, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %v", ErrNotFound, err)
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %v", ErrExists, err)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: %v", ErrNotFound, err)
		}
	}
	return err
}

func micro(t time.Time) int64 { return t.UnixMicro() }

func fromMicro(v int64) time.Time { return time.UnixMicro(v) }

func nullMicro(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicro(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64)
}

// exec runs a statement and reports ErrNotFound when it touched no row.
func (s *SQLStore) execOne(ctx context.Context, what, q string, args ...any) error {
	res, err := s.db.ExecContext(ctx, s.rebind(q), args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, mapErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	} else if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// CreateUser implements Store.
func (s *SQLStore) CreateUser(ctx context.Context, u User, hash string) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO users (name, role, region, password_hash, disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`),
		u.Name, string(u.Role), string(u.Region), hash, u.Disabled, micro(u.CreatedAt), micro(u.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.Name, mapErr(err))
	}
	return nil
}

const userCols = `name, role, region, disabled, created_at, updated_at`

type scanner interface{ Scan(dst ...any) error }

func scanUser(r scanner, extra ...any) (User, error) {
	var u User
	var role, reg string
	var created, updated int64
	dst := append([]any{&u.Name, &role, &reg, &u.Disabled, &created, &updated}, extra...)
	if err := r.Scan(dst...); err != nil {
		return User{}, err
	}
	u.Role, u.Region = Role(role), region.Code(reg)
	u.CreatedAt, u.UpdatedAt = fromMicro(created), fromMicro(updated)
	return u, nil
}

// User implements Store.
func (s *SQLStore) User(ctx context.Context, name string) (User, string, error) {
	var hash string
	u, err := scanUser(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+userCols+`, password_hash FROM users WHERE name = ?`), name), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, "", fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return User{}, "", fmt.Errorf("user %s: %w", name, err)
	}
	return u, hash, nil
}

// Users implements Store.
func (s *SQLStore) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var us []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// CountUsers implements Store.
func (s *SQLStore) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// SetDisabled implements Store.
func (s *SQLStore) SetDisabled(ctx context.Context, name string, disabled bool, at time.Time) error {
	return s.updateUser(ctx, "disable user "+name, name, disabled,
		`UPDATE users SET disabled = ?, updated_at = ? WHERE name = ?`, disabled, micro(at), name)
}

// SetPasswordHash implements Store.
func (s *SQLStore) SetPasswordHash(ctx context.Context, name, hash string, at time.Time, endSessions bool) error {
	return s.updateUser(ctx, "set password of "+name, name, endSessions,
		`UPDATE users SET password_hash = ?, updated_at = ? WHERE name = ?`, hash, micro(at), name)
}

// updateUser runs an update of one user and, with endSessions, deletes the
// user's sessions in the same transaction: no request can slip in between
// with a session of a user already disabled.
func (s *SQLStore) updateUser(ctx context.Context, what, name string, endSessions bool, q string, args ...any) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.rebind(q), args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	} else if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	if endSessions {
		if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM sessions WHERE user_name = ?`), name); err != nil {
			return fmt.Errorf("%s: end sessions: %w", what, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// CreateSession implements Store.
func (s *SQLStore) CreateSession(ctx context.Context, se Session) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO sessions (id, user_name, csrf, created_at, last_seen, addr)
		VALUES (?, ?, ?, ?, ?, ?)`),
		se.ID, se.User, se.CSRF, micro(se.CreatedAt), micro(se.LastSeen), se.Addr)
	if err != nil {
		return fmt.Errorf("create session for %s: %w", se.User, mapErr(err))
	}
	return nil
}

// Session implements Store.
func (s *SQLStore) Session(ctx context.Context, id string) (Session, User, error) {
	se, u, err := scanSession(s.queryRow(ctx, sessionSelect+` WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, User{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, User{}, fmt.Errorf("session: %w", err)
	}
	return se, u, nil
}

const (
	sessionCols = `u.name, u.role, u.region, u.disabled, u.created_at, u.updated_at,
		s.id, s.csrf, s.created_at, s.last_seen, s.addr`
	sessionSelect = `SELECT ` + sessionCols + ` FROM sessions s JOIN users u ON u.name = s.user_name`
)

func scanSession(r scanner) (Session, User, error) {
	var se Session
	var created, seen int64
	u, err := scanUser(r, &se.ID, &se.CSRF, &created, &seen, &se.Addr)
	if err != nil {
		return Session{}, User{}, err
	}
	se.User, se.CreatedAt, se.LastSeen = u.Name, fromMicro(created), fromMicro(seen)
	return se, u, nil
}

// SessionsByID implements Store.
func (s *SQLStore) SessionsByID(ctx context.Context, ids []string) (map[string]SessionUser, error) {
	out := make(map[string]SessionUser, len(ids))
	err := s.byIDs(ctx, "sessions by id", `SELECT `+sessionCols+` FROM `+s.jsonIDs()+`
		JOIN sessions s ON s.id = j.value JOIN users u ON u.name = s.user_name`, ids, func(r scanner) error {
		se, u, err := scanSession(r)
		if err == nil {
			out[se.ID] = SessionUser{Session: se, User: u}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TouchSession implements Store.
func (s *SQLStore) TouchSession(ctx context.Context, id string, at time.Time) error {
	return s.execOne(ctx, "touch session", `UPDATE sessions SET last_seen = ? WHERE id = ?`, micro(at), id)
}

// DeleteSession implements Store.
func (s *SQLStore) DeleteSession(ctx context.Context, id string) error {
	return s.execOne(ctx, "delete session", `DELETE FROM sessions WHERE id = ?`, id)
}

// DeleteStaleSessions implements Store.
func (s *SQLStore) DeleteStaleSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM sessions WHERE last_seen < ? OR created_at < ?`),
		micro(idleBefore), micro(createdBefore))
	if err != nil {
		return 0, fmt.Errorf("delete stale sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete stale sessions: %w", err)
	}
	return n, nil
}

// CreateToken implements Store.
func (s *SQLStore) CreateToken(ctx context.Context, t Token, hash string) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO screen_tokens
		(id, secret_hash, screen, playlist, region, note, created_by, created_at, revoked_at, last_used_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		t.ID, hash, t.Screen, t.Playlist, string(t.Region), t.Note, t.CreatedBy, micro(t.CreatedAt),
		nullMicro(t.RevokedAt), nullMicro(t.LastUsedAt))
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.ID, mapErr(err))
	}
	return nil
}

const tokenCols = `t.id, t.screen, t.playlist, t.region, t.note, t.created_by, t.created_at, t.revoked_at, t.last_used_at`

func scanToken(r scanner) (Token, error) {
	var t Token
	var reg string
	var created int64
	var revoked, used sql.NullInt64
	if err := r.Scan(&t.ID, &t.Screen, &t.Playlist, &reg, &t.Note, &t.CreatedBy, &created, &revoked, &used); err != nil {
		return Token{}, err
	}
	t.Region, t.CreatedAt = region.Code(reg), fromMicro(created)
	t.RevokedAt, t.LastUsedAt = fromNullMicro(revoked), fromNullMicro(used)
	return t, nil
}

func (s *SQLStore) oneToken(ctx context.Context, what, where string, arg string) (Token, error) {
	t, err := scanToken(s.queryRow(ctx, `SELECT `+tokenCols+` FROM screen_tokens t WHERE t.`+where+` = ?`, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	if err != nil {
		return Token{}, fmt.Errorf("%s: %w", what, err)
	}
	return t, nil
}

// TokenBySecret implements Store.
func (s *SQLStore) TokenBySecret(ctx context.Context, hash string) (Token, error) {
	return s.oneToken(ctx, "screen token", "secret_hash", hash)
}

// Token implements Store.
func (s *SQLStore) Token(ctx context.Context, id string) (Token, error) {
	return s.oneToken(ctx, "screen token "+id, "id", id)
}

// TokenStates implements Store. It reads only the columns the check
// needs: with thousands of tokens every few seconds, each column costs.
func (s *SQLStore) TokenStates(ctx context.Context, ids []string) (map[string]TokenState, error) {
	out := make(map[string]TokenState, len(ids))
	err := s.byIDs(ctx, "token states", `SELECT t.id, t.region, t.revoked_at FROM `+s.jsonIDs()+`
		JOIN screen_tokens t ON t.id = j.value`, ids, func(r scanner) error {
		var id, reg string
		var revoked sql.NullInt64
		if err := r.Scan(&id, &reg, &revoked); err != nil {
			return err
		}
		out[id] = TokenState{Region: region.Code(reg), RevokedAt: fromNullMicro(revoked)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Tokens implements Store.
func (s *SQLStore) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenCols+` FROM screen_tokens t ORDER BY t.created_at DESC, t.id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var ts []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return ts, nil
}

// RevokeToken implements Store.
func (s *SQLStore) RevokeToken(ctx context.Context, id string, at time.Time) error {
	return s.execOne(ctx, "revoke token "+id, `UPDATE screen_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, micro(at), id)
}

// TouchToken implements Store.
func (s *SQLStore) TouchToken(ctx context.Context, id string, at time.Time) error {
	return s.execOne(ctx, "touch token "+id, `UPDATE screen_tokens SET last_used_at = ? WHERE id = ?`, micro(at), id)
}

// Touch implements Store: one statement per table and chunk of ids, each
// given a JSON object of id → unix microseconds.
func (s *SQLStore) Touch(ctx context.Context, sessions, tokens map[string]time.Time) error {
	if len(sessions)+len(tokens) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("touch: %w", err)
	}
	defer tx.Rollback()
	for _, t := range []struct {
		table, col string
		at         map[string]time.Time
	}{{"sessions", "last_seen", sessions}, {"screen_tokens", "last_used_at", tokens}} {
		// Never moves a time back: another server may have written a later one.
		q := `UPDATE ` + t.table + ` AS t SET ` + t.col + ` = j.value FROM json_each(?) AS j
			WHERE t.id = j.key AND (t.` + t.col + ` IS NULL OR t.` + t.col + ` < j.value)`
		if s.dialect == Postgres {
			q = `UPDATE ` + t.table + ` AS t SET ` + t.col + ` = j.value::bigint FROM jsonb_each_text(?::jsonb) AS j
			WHERE t.id = j.key AND (t.` + t.col + ` IS NULL OR t.` + t.col + ` < j.value::bigint)`
		}
		if len(t.at) == 0 {
			continue
		}
		st, err := s.stmt(ctx, q)
		if err != nil {
			return fmt.Errorf("touch %s: %w", t.table, err)
		}
		st = tx.StmtContext(ctx, st)
		// In order, so that two servers writing the same rows take them alike.
		ids := slices.Sorted(maps.Keys(t.at))
		for len(ids) > 0 {
			n := min(len(ids), idChunk)
			chunk := make(map[string]int64, n)
			for _, id := range ids[:n] {
				chunk[id] = micro(t.at[id])
			}
			ids = ids[n:]
			arg, _ := json.Marshal(chunk)
			if _, err := st.ExecContext(ctx, string(arg)); err != nil {
				return fmt.Errorf("touch %s: %w", t.table, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("touch: %w", err)
	}
	return nil
}

// AppendAudit implements Store.
func (s *SQLStore) AppendAudit(ctx context.Context, e AuditEntry) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO audit (at, actor, action, target, detail, addr) VALUES (?, ?, ?, ?, ?, ?)`),
		micro(e.At), cut(e.Actor, maxAuditActor), cut(e.Action, maxAuditAction), cut(e.Target, maxAuditTarget),
		cut(e.Detail, maxAuditDetail), cut(e.Addr, maxAuditAddr))
	if err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	return nil
}

// Audit implements Store.
func (s *SQLStore) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) { where = append(where, cond); args = append(args, arg) }
	if !f.Since.IsZero() {
		add("at >= ?", micro(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", micro(f.Until))
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Target != "" {
		add("target = ?", f.Target)
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	q := `SELECT id, at, actor, action, target, detail, addr FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, auditLimit(f.Limit))
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var es []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Addr); err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		e.At = fromMicro(at)
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return es, nil
}

func auditLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultAuditLimit
	case n > MaxAuditLimit:
		return MaxAuditLimit
	}
	return n
}

// cut makes s storable as TEXT on both engines (valid UTF-8, no NUL) and
// shortens it to at most n bytes on a character boundary, marking the cut
// with "…".
func cut(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	if len(s) <= n {
		return s
	}
	i := n - len("…")
	for i > 0 && !utf8RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
