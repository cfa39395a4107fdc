// Package sqlsource collects records by querying the platform's database
// (PostgreSQL through pgx, or MySQL), incrementally: each record kind has
// a query that takes the cursor as its parameters and returns the rows
// changed after it, in cursor order, a page at a time.
//
// # Cursors and ties
//
// A page ends somewhere inside the ordering, and the rows that share the
// last row's cursor value may straddle the boundary. A query of the form
// "updated_at > $1" would skip those of them that the page did not hold.
// The connector offers two exact ways, chosen by the query's cursor:
//
//   - Composite cursor (recommended): cursor: [updated_at, id] and
//     WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT n.
//     The next page starts strictly after the last (updated_at, id) read,
//     so no row is lost or read twice, however many share a timestamp.
//     Both PostgreSQL and MySQL compare row values this way.
//   - One column with a tie key: cursor: [updated_at], tie_key: id and
//     WHERE updated_at >= $1 ORDER BY updated_at, id LIMIT n. The
//     boundary value is read again, and the rows of it already delivered
//     (their tie keys are kept in the cursor) are skipped. If a whole page
//     shares one value that was read already, the run fails with an error
//     saying to raise the LIMIT or use a composite cursor, instead of
//     looping.
//
// A single cursor column without a tie key ("seq > $1") is exact only when
// the column is unique and increasing (a sequence, a change number).
//
// The cursor handed to the runner is JSON holding, per kind, the last
// cursor values with their types (a timestamp goes back to the database as
// a timestamp, with its full precision) and the tie keys at the boundary.
// It is checkpointed after every page, once the page's rows are in.
//
// # Values
//
// Result columns are matched to the fields the runner asks for
// (Accumulator.Fields: canonical names, or the source names of the
// source's field mapping, such as 办件编号) by name, without surrounding
// white space and case-folded. Values become the strings record.Parser
// reads: NULL → "", booleans → 1/0, numbers in decimal, timestamps with a
// zone → RFC 3339 with its offset, zone-less timestamps (PostgreSQL
// timestamp, MySQL DATETIME and TIMESTAMP) → "2006-01-02 15:04:05", read
// in the business time zone. Unreadable rows are rejected by the runner
// with their reason and the run goes on.
package sqlsource

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/go-sql-driver/mysql" // the "mysql" database/sql driver
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/yiping-ioc/yiping/record"
)

// Accumulator is what the connector needs of collectors.Accumulator: the
// fields to read, a place for rows, partial failures, catalog snapshots and
// checkpoints.
type Accumulator interface {
	Fields(k record.Kind) []string
	AddRow(k record.Kind, values []string) error
	AddError(err error)
	BeginCatalog()
	Checkpoint(ctx context.Context, cursor string) error
}

// Defaults.
const (
	DefaultPageSize     = 5000
	DefaultQueryTimeout = time.Minute
	// maxRejectLogs bounds the rejected rows logged per run and kind; the
	// runner counts them all.
	maxRejectLogs = 10
)

// Source is a connector that queries one database.
type Source struct {
	driver  string // database/sql driver name: "pgx" or "mysql"
	db      *sql.DB
	queries []kindQuery // in record.Kind order
	timeout time.Duration
	log     *slog.Logger
	secrets []string // the DSN and its password, never to be shown
}

type kindQuery struct {
	kind record.Kind
	Query
}

// New checks the options and opens the database handle; it does not
// connect (each run does, and reports an unreachable database then).
func New(o Options, getenv func(string) string, log *slog.Logger) (*Source, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Source{timeout: o.Timeout, log: log}
	if s.timeout <= 0 {
		s.timeout = DefaultQueryTimeout
	}
	switch strings.ToLower(o.Driver) {
	case "postgres", "postgresql", "pgx":
		s.driver = "pgx"
	case "mysql":
		s.driver = "mysql"
	default:
		return nil, fmt.Errorf("driver %q: want postgres (pgx) or mysql", o.Driver)
	}
	dsn := string(o.DSN)
	if dsn == "" && o.DSNEnv != "" && getenv != nil {
		if dsn = getenv(o.DSNEnv); dsn == "" {
			return nil, fmt.Errorf("dsn_env: %s is empty", o.DSNEnv)
		}
	}
	if dsn == "" {
		return nil, errors.New("dsn: required (or dsn_env naming a variable that holds it)")
	}
	if err := checkDSN(s.driver, dsn); err != nil {
		return nil, err
	}
	s.secrets = dsnSecrets(s.driver, dsn)
	if len(o.Queries) == 0 {
		return nil, errors.New("queries: give a query for at least one record kind")
	}
	for name, q := range o.Queries {
		k, ok := record.ParseKind(name)
		if !ok {
			return nil, fmt.Errorf("queries: %q is not a record kind (cases, evaluations, tickets, calls, items)", name)
		}
		if err := q.check(k, s.driver); err != nil {
			return nil, fmt.Errorf("queries.%s: %w", name, err)
		}
		if q.PageSize <= 0 {
			q.PageSize = DefaultPageSize
		}
		s.queries = append(s.queries, kindQuery{k, q})
	}
	// Collect runs the kinds in a fixed order, so that runs are alike.
	for i := 1; i < len(s.queries); i++ {
		for j := i; j > 0 && s.queries[j].kind < s.queries[j-1].kind; j-- {
			s.queries[j], s.queries[j-1] = s.queries[j-1], s.queries[j]
		}
	}
	db, err := sql.Open(s.driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", s.driver, s.hide(err))
	}
	// One run queries one kind at a time; a second connection covers a
	// run that overlaps a connection being replaced.
	db.SetMaxOpenConns(2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s.db = db
	return s, nil
}

// checkDSN parses the DSN without connecting, so that a typo is reported
// when the configuration loads, with the DSN itself hidden.
func checkDSN(driver, dsn string) error {
	var err error
	switch driver {
	case "pgx":
		_, err = pgx.ParseConfig(dsn)
	case "mysql":
		_, err = mysql.ParseDSN(dsn)
	}
	if err != nil {
		return fmt.Errorf("dsn: %w", hideSecrets(err, dsnSecrets(driver, dsn)))
	}
	return nil
}

// dsnSecrets returns the DSN and the password in it (when it parses and
// has one): a driver's error may quote either.
func dsnSecrets(driver, dsn string) []string {
	out := []string{dsn}
	pw := ""
	switch driver {
	case "pgx":
		if c, err := pgx.ParseConfig(dsn); err == nil {
			pw = c.Password
		}
	case "mysql":
		if c, err := mysql.ParseDSN(dsn); err == nil {
			pw = c.Passwd
		}
	}
	if len(pw) >= 4 { // shorter ones are too likely to be parts of words
		out = append(out, pw)
	}
	return out
}

// hiddenError shows an error with the source's secrets replaced, and
// unwraps to it, so errors.Is and errors.As still see what it wraps.
type hiddenError struct {
	err error
	msg string
}

func (e *hiddenError) Error() string { return e.msg }
func (e *hiddenError) Unwrap() error { return e.err }

// hideSecrets returns err with every occurrence of the secrets replaced
// by <secret> (nil for nil).
func hideSecrets(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "<secret>")
		}
	}
	if msg == err.Error() {
		return err
	}
	return &hiddenError{err: err, msg: msg}
}

// hide is hideSecrets with the source's secrets.
func (s *Source) hide(err error) error { return hideSecrets(err, s.secrets) }

// Close closes the database handle.
func (s *Source) Close() error { return s.db.Close() }

// Collect runs every kind's query from cursor, page by page, checkpointing
// after each page, and returns the cursor to resume from. A database that
// cannot be reached fails the run (the runner retries it later from the
// same cursor); a query that fails for one kind is reported with AddError
// and the other kinds go on, and only when every kind fails does the run.
func (s *Source) Collect(ctx context.Context, cursor string, acc Accumulator) (next string, err error) {
	defer func() { err = s.hide(err) }()
	st, err := decodeCursor(cursor)
	if err != nil {
		return cursor, err
	}
	pctx, cancel := context.WithTimeout(ctx, s.timeout)
	err = s.db.PingContext(pctx)
	cancel()
	if err != nil {
		return cursor, fmt.Errorf("sql source: database unreachable: %w", err)
	}
	var errs []error
	for _, q := range s.queries {
		if err := s.collectKind(ctx, q, st, acc); err != nil {
			err = fmt.Errorf("%s: %w", q.kind, err)
			if ctx.Err() != nil {
				return st.encode(), err
			}
			acc.AddError(s.hide(err))
			errs = append(errs, err)
		}
	}
	if len(errs) == len(s.queries) {
		return st.encode(), errors.Join(errs...)
	}
	return st.encode(), nil
}

// collectKind pages through one kind's changes.
func (s *Source) collectKind(ctx context.Context, q kindQuery, st state, acc Accumulator) error {
	if q.Snapshot {
		acc.BeginCatalog()
		if _, _, err := s.page(ctx, q, kindCursor{}, acc); err != nil {
			return err
		}
		return acc.Checkpoint(ctx, st.encode())
	}
	kc, ok := st[q.kind.String()]
	if !ok {
		kc = q.startCursor()
	}
	for {
		n, next, err := s.page(ctx, q, kc, acc)
		if err != nil {
			return err
		}
		if n >= q.PageSize && next.equal(kc) {
			return fmt.Errorf("a whole page of %d rows shares the cursor value %s, which was read already: "+
				"raise the query's LIMIT (and page_size) above the rows that share one value, or use a composite cursor such as [updated_at, id]",
				n, kc.describe())
		}
		kc = next
		st[q.kind.String()] = kc
		if err := acc.Checkpoint(ctx, st.encode()); err != nil {
			return err
		}
		if n < q.PageSize {
			return nil
		}
	}
}

// page runs the query once from kc and hands its rows to acc. It returns
// how many rows the query returned (skipped ties included) and the cursor
// after them.
func (s *Source) page(ctx context.Context, q kindQuery, kc kindCursor, acc Accumulator) (int, kindCursor, error) {
	qctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	rows, err := s.db.QueryContext(qctx, q.SQL, kc.args()...)
	if err != nil {
		return 0, kc, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.ColumnTypes()
	if err != nil {
		return 0, kc, fmt.Errorf("query columns: %w", err)
	}
	lay, err := q.layout(cols, acc.Fields(q.kind))
	if err != nil {
		return 0, kc, err
	}
	if len(lay.missing) > 0 {
		s.log.Debug("fields without a column; they are read as empty", "kind", q.kind.String(), "fields", lay.missing)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	out := make([]string, len(lay.fields))
	next := kc.clone()
	n, rejected := 0, 0
	for rows.Next() {
		n++
		if err := rows.Scan(ptrs...); err != nil {
			return n, kc, fmt.Errorf("read row %d: %w", n, err)
		}
		at := make([]cursorValue, len(lay.cursor))
		for i, c := range lay.cursor {
			if at[i], err = toCursorValue(vals[c]); err != nil {
				return n, kc, fmt.Errorf("row %d: cursor column %s: %w", n, q.Cursor[i], err)
			}
		}
		tie := ""
		if lay.tie >= 0 {
			tie = canonical(vals[lay.tie], "")
			if next.sameValue(at) && next.seen[tie] {
				continue // delivered by the previous page or run
			}
		}
		for i, c := range lay.fields {
			if c < 0 {
				out[i] = ""
				continue
			}
			out[i] = canonical(vals[c], cols[c].DatabaseTypeName())
		}
		if err := acc.AddRow(q.kind, out); err != nil {
			if rejected++; rejected <= maxRejectLogs {
				s.log.Warn("row rejected", "kind", q.kind.String(), "cursor", describe(at), "err", err)
			}
		}
		next.move(at, tie, lay.tie >= 0)
	}
	if err := rows.Err(); err != nil {
		return n, kc, fmt.Errorf("read rows: %w", err)
	}
	return n, next, nil
}

// columnLayout says where each requested field and cursor column is in a
// result.
type columnLayout struct {
	fields  []int // per requested field: result column, or -1
	cursor  []int
	tie     int // -1: no tie key
	missing []string
}

func (q *kindQuery) layout(cols []*sql.ColumnType, fields []string) (columnLayout, error) {
	byName := make(map[string]int, len(cols))
	for i, c := range cols {
		name := fold(c.Name())
		if _, dup := byName[name]; !dup {
			byName[name] = i
		}
	}
	lay := columnLayout{fields: make([]int, len(fields)), tie: -1}
	for i, f := range fields {
		c, ok := byName[fold(f)]
		if !ok {
			c = -1
			lay.missing = append(lay.missing, f)
		}
		lay.fields[i] = c
	}
	for _, name := range q.Cursor {
		c, ok := byName[fold(name)]
		if !ok {
			return lay, fmt.Errorf("cursor column %q is not in the query's result", name)
		}
		lay.cursor = append(lay.cursor, c)
	}
	if q.TieKey != "" {
		c, ok := byName[fold(q.TieKey)]
		if !ok {
			return lay, fmt.Errorf("tie_key column %q is not in the query's result", q.TieKey)
		}
		lay.tie = c
	}
	return lay, nil
}

// fold normalizes a column name the way the mapping matches names.
func fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
