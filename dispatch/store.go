package dispatch

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/region"
)

// component is the package's schema name in schema_migrations.
const component = "dispatch"

// migrations is the package's schema in the access database. Times are
// microseconds since the Unix epoch (BIGINT), as access keeps them; the
// evidence is JSON text. A step is never edited once released: a change
// is a new step.
func migrations() []access.Migration {
	return []access.Migration{{
		Version: 1,
		Both: []string{
			`CREATE TABLE dispatch_orders (
				id            TEXT PRIMARY KEY,
				version       BIGINT NOT NULL,
				unit_region   TEXT NOT NULL,
				unit_dept     TEXT NOT NULL DEFAULT '',
				title         TEXT NOT NULL,
				reason        TEXT NOT NULL,
				evidence      TEXT NOT NULL DEFAULT '{}',
				source_kind   TEXT NOT NULL,
				source_ref    TEXT NOT NULL DEFAULT '',
				issuer        TEXT NOT NULL,
				issuer_region TEXT NOT NULL,
				issued_at     BIGINT NOT NULL,
				state         TEXT NOT NULL,
				sort_group    INTEGER NOT NULL, -- 0 awaiting the unit, 1 replied, 2 closed
				days          INTEGER NOT NULL,
				term_start    BIGINT NOT NULL,
				deadline      BIGINT NOT NULL,
				remind_at     BIGINT,           -- NULL: no reminder in this term
				reminded      BOOLEAN NOT NULL DEFAULT FALSE,
				overdue_noted BOOLEAN NOT NULL DEFAULT FALSE,
				ext_days      INTEGER,          -- NULL: no extension requested
				ext_reason    TEXT NOT NULL DEFAULT '',
				ext_by        TEXT NOT NULL DEFAULT '',
				ext_at        BIGINT,
				signed_at     BIGINT,
				signed_by     TEXT NOT NULL DEFAULT '',
				replied_at    BIGINT,
				replied_by    TEXT NOT NULL DEFAULT '',
				reply         TEXT NOT NULL DEFAULT '',
				late          BOOLEAN NOT NULL DEFAULT FALSE,
				returns       INTEGER NOT NULL DEFAULT 0,
				extensions    INTEGER NOT NULL DEFAULT 0,
				closed_at     BIGINT,
				closed_by     TEXT NOT NULL DEFAULT '',
				updated_at    BIGINT NOT NULL
			)`,
			// The list order (overdue first: see State.group), and the
			// same within a region.
			`CREATE INDEX dispatch_orders_list ON dispatch_orders (sort_group, deadline, id)`,
			`CREATE INDEX dispatch_orders_region ON dispatch_orders (unit_region, sort_group, deadline, id)`,
			`CREATE INDEX dispatch_orders_remind ON dispatch_orders (sort_group, remind_at)`,
			`CREATE INDEX dispatch_orders_issuer ON dispatch_orders (issuer, issued_at)`,
			`CREATE INDEX dispatch_orders_issued ON dispatch_orders (issued_at)`,
		},
		SQLite: []string{
			`CREATE TABLE dispatch_history (
				seq        INTEGER PRIMARY KEY AUTOINCREMENT,
				order_id   TEXT NOT NULL,
				at         BIGINT NOT NULL,
				actor      TEXT NOT NULL,
				addr       TEXT NOT NULL DEFAULT '',
				action     TEXT NOT NULL,
				from_state TEXT NOT NULL DEFAULT '',
				to_state   TEXT NOT NULL,
				comment    TEXT NOT NULL DEFAULT '',
				days       INTEGER NOT NULL DEFAULT 0,
				deadline   BIGINT
			)`,
			`CREATE TRIGGER dispatch_history_no_update BEFORE UPDATE ON dispatch_history
				BEGIN SELECT RAISE(ABORT, 'order history is append-only'); END`,
			`CREATE TRIGGER dispatch_history_no_delete BEFORE DELETE ON dispatch_history
				BEGIN SELECT RAISE(ABORT, 'order history is append-only'); END`,
		},
		Postgres: []string{
			`CREATE TABLE dispatch_history (
				seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
				order_id   TEXT NOT NULL,
				at         BIGINT NOT NULL,
				actor      TEXT NOT NULL,
				addr       TEXT NOT NULL DEFAULT '',
				action     TEXT NOT NULL,
				from_state TEXT NOT NULL DEFAULT '',
				to_state   TEXT NOT NULL,
				comment    TEXT NOT NULL DEFAULT '',
				days       INTEGER NOT NULL DEFAULT 0,
				deadline   BIGINT
			)`,
			`CREATE FUNCTION dispatch_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN RAISE EXCEPTION 'order history is append-only'; END $$`,
			`CREATE TRIGGER dispatch_history_no_change BEFORE UPDATE OR DELETE ON dispatch_history
				FOR EACH ROW EXECUTE FUNCTION dispatch_history_append_only()`,
			`CREATE TRIGGER dispatch_history_no_truncate BEFORE TRUNCATE ON dispatch_history
				FOR EACH STATEMENT EXECUTE FUNCTION dispatch_history_append_only()`,
		},
	}, {
		Version: 2,
		Both: []string{
			`CREATE INDEX dispatch_history_order ON dispatch_history (order_id, seq)`,
			`CREATE INDEX dispatch_orders_dept ON dispatch_orders (unit_dept, sort_group, deadline, id)`,
		},
	}}
}

// Store keeps orders and their history in the access database (SQLite or
// PostgreSQL). It knows no rules: Service decides, the Store makes the
// decision stick, atomically and only if nobody changed the order
// meanwhile. Safe for concurrent use, also by other processes.
type Store struct {
	st *access.SQLStore
}

// NewStore creates or migrates the package's tables in st's database.
func NewStore(ctx context.Context, st *access.SQLStore) (*Store, error) {
	if st == nil {
		return nil, errors.New("dispatch: no access store")
	}
	if err := st.Migrate(ctx, component, migrations()); err != nil {
		return nil, fmt.Errorf("dispatch: %w", err)
	}
	return &Store{st: st}, nil
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

const orderCols = `id, version, unit_region, unit_dept, title, reason, evidence, source_kind, source_ref, issuer,
	issuer_region, issued_at, state, sort_group, days, term_start, deadline, remind_at, reminded, overdue_noted,
	ext_days, ext_reason, ext_by, ext_at, signed_at, signed_by, replied_at, replied_by, reply, late, returns,
	extensions, closed_at, closed_by, updated_at`

// orderArgs are the values of orderCols for o.
func orderArgs(o *Order) []any {
	ev, err := json.Marshal(o.Evidence)
	if err != nil {
		// Plain fields and finite numbers (Validate): cannot fail.
		panic(err)
	}
	var extDays sql.NullInt64
	var extReason, extBy string
	var extAt time.Time
	if x := o.Extension; x != nil {
		extDays = sql.NullInt64{Int64: int64(x.Days), Valid: true}
		extReason, extBy, extAt = x.Reason, x.By, x.At
	}
	return []any{o.ID, o.Version, string(o.Unit.Region), o.Unit.Dept, o.Title, o.Reason, string(ev),
		string(o.Source.Kind), o.Source.Ref, o.Issuer, string(o.IssuerRegion), micro(o.IssuedAt), string(o.State),
		o.State.group(), o.Days, micro(o.TermStart), micro(o.Deadline), nullMicro(o.RemindAt), o.Reminded,
		o.OverdueNoted, extDays, extReason, extBy, nullMicro(extAt), nullMicro(o.SignedAt), o.SignedBy,
		nullMicro(o.RepliedAt), o.RepliedBy, o.Reply, o.Late, o.Returns, o.Extensions, nullMicro(o.ClosedAt),
		o.ClosedBy, micro(o.UpdatedAt)}
}

type scanner interface{ Scan(dst ...any) error }

func scanOrder(sc scanner) (Order, error) {
	var o Order
	var unitRegion, ev, kind, issuerRegion, state string
	var group int
	var issued, termStart, deadline, updated int64
	var remind, extAt, signed, replied, closed sql.NullInt64
	var extDays sql.NullInt64
	var extReason, extBy string
	if err := sc.Scan(&o.ID, &o.Version, &unitRegion, &o.Unit.Dept, &o.Title, &o.Reason, &ev, &kind, &o.Source.Ref,
		&o.Issuer, &issuerRegion, &issued, &state, &group, &o.Days, &termStart, &deadline, &remind, &o.Reminded,
		&o.OverdueNoted, &extDays, &extReason, &extBy, &extAt, &signed, &o.SignedBy, &replied, &o.RepliedBy,
		&o.Reply, &o.Late, &o.Returns, &o.Extensions, &closed, &o.ClosedBy, &updated); err != nil {
		return o, err
	}
	o.Unit.Region, o.Source.Kind, o.IssuerRegion, o.State = region.Code(unitRegion), SourceKind(kind), region.Code(issuerRegion), State(state)
	o.IssuedAt, o.TermStart, o.Deadline, o.UpdatedAt = time.UnixMicro(issued), time.UnixMicro(termStart), time.UnixMicro(deadline), time.UnixMicro(updated)
	o.RemindAt, o.SignedAt, o.RepliedAt, o.ClosedAt = fromNull(remind), fromNull(signed), fromNull(replied), fromNull(closed)
	if extDays.Valid {
		o.Extension = &Extension{Days: int(extDays.Int64), Reason: extReason, By: extBy, At: fromNull(extAt)}
	}
	if err := json.Unmarshal([]byte(ev), &o.Evidence); err != nil {
		return o, fmt.Errorf("order %s: evidence: %w", o.ID, err)
	}
	return o, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

var insertOrder = `INSERT INTO dispatch_orders (` + orderCols + `) VALUES (` + placeholders(35) + `)`

const insertEntry = `INSERT INTO dispatch_history (order_id, at, actor, addr, action, from_state, to_state, comment, days, deadline)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func entryArgs(e *Entry) []any {
	return []any{e.Order, micro(e.At), e.Actor, e.Addr, e.Action, string(e.From), string(e.To), e.Comment, e.Days, nullMicro(e.Deadline)}
}

// isDuplicate reports whether err is a primary-key violation.
func isDuplicate(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}

// errDuplicate is an insert whose id is taken (Service tries another).
var errDuplicate = errors.New("dispatch: order id taken")

// insert stores a new order and its first history entry in one
// transaction.
func (s *Store) insert(ctx context.Context, o *Order, e *Entry) error {
	tx, err := s.st.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("insert order %s: %w", o.ID, err)
	}
	defer tx.Rollback()
	if err := s.insertTx(ctx, tx, o, e); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("insert order %s: commit: %w", o.ID, err)
	}
	return nil
}

func (s *Store) insertTx(ctx context.Context, tx *sql.Tx, o *Order, e *Entry) error {
	if _, err := tx.ExecContext(ctx, s.st.Rebind(insertOrder), orderArgs(o)...); err != nil {
		if isDuplicate(err) {
			return fmt.Errorf("insert order %s: %w", o.ID, errDuplicate)
		}
		return fmt.Errorf("insert order %s: %w", o.ID, err)
	}
	if _, err := tx.ExecContext(ctx, s.st.Rebind(insertEntry), entryArgs(e)...); err != nil {
		return fmt.Errorf("insert order %s: history: %w", o.ID, err)
	}
	return nil
}

// update replaces the order whose version is from with o, and appends e,
// in one transaction; ErrConflict when the stored version is not from
// (someone else changed it first). When o starts a new term (its deadline
// or start differs from the stored one) the term's notices are cleared; otherwise
// they are left as stored, so that a notice the scanner marked meanwhile
// is not undone.
func (s *Store) update(ctx context.Context, from int64, o *Order, e *Entry) error {
	tx, err := s.st.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("update order %s: %w", o.ID, err)
	}
	defer tx.Rollback()
	args := orderArgs(o)
	// Everything but the columns set at issue (id, then unit_region …
	// issued_at: 2 to 11), and the notices in a CASE.
	cols := strings.Split(strings.Join(strings.Fields(orderCols), ""), ",")
	var set []string
	var vals []any
	for i, c := range cols {
		switch {
		case i == 0 || i >= 2 && i < 12:
			continue
		case c == "reminded" || c == "overdue_noted":
			set = append(set, c+` = CASE WHEN deadline = ? AND term_start = ? THEN `+c+` ELSE FALSE END`)
			vals = append(vals, micro(o.Deadline), micro(o.TermStart))
			continue
		}
		set = append(set, c+" = ?")
		vals = append(vals, args[i])
	}
	// The notices' CASE reads the stored deadline: SET sees the row as it
	// was, on both engines.
	q := `UPDATE dispatch_orders SET ` + strings.Join(set, ", ") + ` WHERE id = ? AND version = ?`
	vals = append(vals, o.ID, from)
	res, err := tx.ExecContext(ctx, s.st.Rebind(q), vals...)
	if err != nil {
		return fmt.Errorf("update order %s: %w", o.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update order %s: %w", o.ID, err)
	} else if n == 0 {
		return fmt.Errorf("update order %s at version %d: %w", o.ID, from, ErrConflict)
	}
	if _, err := tx.ExecContext(ctx, s.st.Rebind(insertEntry), entryArgs(e)...); err != nil {
		return fmt.Errorf("update order %s: history: %w", o.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("update order %s: commit: %w", o.ID, err)
	}
	return nil
}

// Get returns the order of id (ErrNotFound when there is none). It does
// not check who asks: Service.Get does.
func (s *Store) Get(ctx context.Context, id string) (Order, error) {
	o, err := scanOrder(s.st.DB().QueryRowContext(ctx, s.st.Rebind(`SELECT `+orderCols+` FROM dispatch_orders WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Order{}, fmt.Errorf("order %s: %w", id, err)
	}
	return o, nil
}

// History returns the entries of order id, oldest first.
func (s *Store) History(ctx context.Context, id string) ([]Entry, error) {
	rows, err := s.st.DB().QueryContext(ctx, s.st.Rebind(`SELECT seq, order_id, at, actor, addr, action, from_state, to_state,
		comment, days, deadline FROM dispatch_history WHERE order_id = ? ORDER BY seq`), id)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", id, err)
	}
	defer rows.Close()
	es := []Entry{}
	for rows.Next() {
		var e Entry
		var at int64
		var from, to string
		var deadline sql.NullInt64
		if err := rows.Scan(&e.Seq, &e.Order, &at, &e.Actor, &e.Addr, &e.Action, &from, &to, &e.Comment, &e.Days, &deadline); err != nil {
			return nil, fmt.Errorf("history of %s: %w", id, err)
		}
		e.At, e.From, e.To, e.Deadline = time.UnixMicro(at), State(from), State(to), fromNull(deadline)
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history of %s: %w", id, err)
	}
	return es, nil
}

// due returns up to limit orders that may owe a notice at now (the
// caller asks DueNotice of each), soonest deadline first.
func (s *Store) due(ctx context.Context, now time.Time, limit int) ([]Order, error) {
	q := `SELECT ` + orderCols + ` FROM dispatch_orders WHERE sort_group = 0 AND (
		(deadline <= ? AND overdue_noted = FALSE) OR (remind_at <= ? AND reminded = FALSE))
		ORDER BY deadline, id LIMIT ?`
	return s.query(ctx, "due orders", q, micro(now), micro(now), limit)
}

// mark records that the notice kind of o's current term was sent: it
// sets the flag (an overdue notice sets both: the reminder is moot) and
// appends the history entry, unless the order has left that term or the
// flag is set already. It says whether it marked.
func (s *Store) mark(ctx context.Context, o *Order, kind string, at time.Time) (bool, error) {
	set, flag := `reminded = TRUE`, `reminded`
	if kind == EventOverdue {
		set, flag = `reminded = TRUE, overdue_noted = TRUE`, `overdue_noted`
	}
	tx, err := s.st.DB().BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("mark %s of %s: %w", kind, o.ID, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.st.Rebind(`UPDATE dispatch_orders SET `+set+`
		WHERE id = ? AND deadline = ? AND sort_group = 0 AND `+flag+` = FALSE`), o.ID, micro(o.Deadline))
	if err != nil {
		return false, fmt.Errorf("mark %s of %s: %w", kind, o.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	e := Entry{Order: o.ID, At: at, Actor: SystemActor, Action: kind, From: o.State, To: o.State, Deadline: o.Deadline}
	if _, err := tx.ExecContext(ctx, s.st.Rebind(insertEntry), entryArgs(&e)...); err != nil {
		return false, fmt.Errorf("mark %s of %s: history: %w", kind, o.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("mark %s of %s: commit: %w", kind, o.ID, err)
	}
	return true, nil
}

func (s *Store) query(ctx context.Context, what, q string, args ...any) ([]Order, error) {
	rows, err := s.st.DB().QueryContext(ctx, s.st.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	os := []Order{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		os = append(os, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return os, nil
}

// Filter selects orders for a list or an export. Zero fields do not
// filter, except Region, which Service.List sets to the caller's scope
// when empty.
type Filter struct {
	// Region selects orders to units in this region and below.
	Region string
	// Dept selects one department (exact).
	Dept string
	// States selects any of these states.
	States []State
	// Overdue selects only orders overdue at the list's instant.
	Overdue bool
	// Extension selects only orders with a pending extension request.
	Extension bool
	// Issuer selects one issuer (exact user name).
	Issuer string
	// Text finds orders whose title, reason, department, reply or id
	// contains it (case-insensitive for Latin letters).
	Text string
	// Since and Until select the issue time: Since ≤ issued < Until.
	Since, Until time.Time
	// Limit is the page size: DefaultLimit when 0, at most MaxLimit.
	Limit int
	// After is the Next of the page before (keyset paging); empty for the
	// first page.
	After string
}

// Paging bounds.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Page is one page of a list: the orders, overdue first and then by
// deadline (see State.group), how many match in all, and the After of
// the next page (empty on the last).
type Page struct {
	Orders []Order `json:"orders"`
	Total  int     `json:"total"`
	Next   string  `json:"next,omitempty"`
}

// cursor is a position in the list order.
type cursor struct {
	group    int
	deadline int64
	id       string
}

// encode makes the opaque After of a page.
func (c cursor) encode() string {
	return strconv.Itoa(c.group) + "." + strconv.FormatInt(c.deadline, 36) + "." + c.id
}

// parseCursor reads an After; it never trusts one.
func parseCursor(s string) (cursor, error) {
	bad := invalid("after", "not a position this list gave")
	g, rest, ok := strings.Cut(s, ".")
	if !ok || len(s) > 200 {
		return cursor{}, bad
	}
	d, id, ok := strings.Cut(rest, ".")
	if !ok || id == "" || !validID(id) {
		return cursor{}, bad
	}
	gi, err := strconv.Atoi(g)
	if err != nil || gi < 0 || gi > 2 || strconv.Itoa(gi) != g {
		return cursor{}, bad
	}
	di, err := strconv.ParseInt(d, 36, 64)
	if err != nil || strconv.FormatInt(di, 36) != d {
		return cursor{}, bad
	}
	return cursor{group: gi, deadline: di, id: id}, nil
}

// regionRange returns the bounds [lo, hi) of the codes in code's subtree
// (by digits, as Principal.Covers decides): a province's first 2 digits,
// a city's 4, a county's 6; a township is itself (hi empty: equality).
func regionRange(c region.Code) (lo, hi string) {
	var p string
	switch c.Level() {
	case region.Province:
		p = string(c[:2])
	case region.City:
		p = string(c[:4])
	case region.County:
		p = string(c[:6])
	default:
		return string(c), ""
	}
	n, _ := strconv.Atoi(p)
	hi = fmt.Sprintf("%0*d", len(p), n+1)
	return p, hi
}

// where builds the conditions of f (not its paging) at now, for dialect d.
func (f *Filter) where(now time.Time, d access.Dialect) (string, []any, error) {
	var conds []string
	var args []any
	add := func(c string, a ...any) { conds = append(conds, c); args = append(args, a...) }
	if f.Region != "" {
		c, err := region.ParseCode(f.Region)
		if err != nil {
			return "", nil, invalid("region", "%v", err)
		}
		if lo, hi := regionRange(c); hi == "" {
			add(`unit_region = ?`, lo)
		} else if len(hi) > len(lo) { // 99 → 100: no upper bound
			add(`unit_region >= ?`, lo)
		} else {
			add(`unit_region >= ? AND unit_region < ?`, lo, hi)
		}
	}
	if f.Dept != "" {
		add(`unit_dept = ?`, f.Dept)
	}
	if len(f.States) > 0 {
		var ss []any
		for _, st := range f.States {
			if _, err := ParseState(string(st)); err != nil {
				return "", nil, err
			}
			ss = append(ss, string(st))
		}
		add(`state IN (`+placeholders(len(ss))+`)`, ss...)
	}
	if f.Overdue {
		add(`sort_group = 0 AND deadline <= ?`, micro(now))
	}
	if f.Extension {
		add(`ext_days IS NOT NULL`)
	}
	if f.Issuer != "" {
		add(`issuer = ?`, f.Issuer)
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		if len(t) > 200 {
			return "", nil, invalid("text", "longer than 200 bytes")
		}
		// SQLite's LIKE ignores the case of ASCII letters; PostgreSQL's
		// ILIKE that of every letter. Neither lowers every row first.
		like := "LIKE"
		if d == access.Postgres {
			like = "ILIKE"
		}
		pat := "%" + likeEscape(t) + "%"
		add(`(title `+like+` ? ESCAPE '\' OR reason `+like+` ? ESCAPE '\' OR unit_dept `+like+` ? ESCAPE '\'
			OR reply `+like+` ? ESCAPE '\' OR id = ?)`, pat, pat, pat, pat, t)
	}
	if !f.Since.IsZero() {
		add(`issued_at >= ?`, micro(f.Since))
	}
	if !f.Until.IsZero() {
		add(`issued_at < ?`, micro(f.Until))
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// List returns a page of the orders f selects at now. It does not check
// who asks: Service.List bounds f by the caller's scope.
func (s *Store) List(ctx context.Context, f Filter, now time.Time) (Page, error) {
	where, args, err := f.where(now, s.st.Dialect())
	if err != nil {
		return Page{}, err
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	q := `SELECT ` + orderCols + ` FROM dispatch_orders` + where
	pargs := args
	if f.After != "" {
		c, err := parseCursor(f.After)
		if err != nil {
			return Page{}, err
		}
		if where == "" {
			q += " WHERE "
		} else {
			q += " AND "
		}
		q += `(sort_group, deadline, id) > (?, ?, ?)`
		pargs = append(append([]any(nil), args...), c.group, c.deadline, c.id)
	}
	q += ` ORDER BY sort_group, deadline, id LIMIT ?`
	pargs = append(pargs, limit+1)
	os, err := s.query(ctx, "list orders", q, pargs...)
	if err != nil {
		return Page{}, err
	}
	var p Page
	if len(os) > limit {
		os = os[:limit]
		last := os[limit-1]
		p.Next = cursor{group: last.State.group(), deadline: micro(last.Deadline), id: last.ID}.encode()
	}
	p.Orders = os
	if p.Next == "" && f.After == "" {
		// The whole selection is on this page: no second scan to count
		// it (a rare text match would otherwise read the table twice).
		p.Total = len(os)
		return p, nil
	}
	if err := s.st.DB().QueryRowContext(ctx, s.st.Rebind(`SELECT COUNT(*) FROM dispatch_orders`+where), args...).Scan(&p.Total); err != nil {
		return Page{}, fmt.Errorf("count orders: %w", err)
	}
	return p, nil
}

// validID reports whether id can be an order's id (see newID): anything
// else never reaches the database.
func validID(id string) bool {
	if id == "" || len(id) > 40 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}
