package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/access"
)

// SQLLog keeps the delivery log in the access database (SQLite or
// PostgreSQL) beside the reports it delivers, so it survives a restart and
// the console and API can read it.
type SQLLog struct{ st *access.SQLStore }

var deliveryMigrations = []access.Migration{{
	Version: 1,
	SQLite: []string{`CREATE TABLE notify_deliveries (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		receiver TEXT NOT NULL, message_ids TEXT NOT NULL, digest TEXT NOT NULL,
		attempt INTEGER NOT NULL, at BIGINT NOT NULL, status TEXT NOT NULL,
		error TEXT NOT NULL, latency_ms BIGINT NOT NULL, next_at BIGINT NOT NULL)`, indexAt, indexReceiver},
	Postgres: []string{`CREATE TABLE notify_deliveries (
		id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		receiver TEXT NOT NULL, message_ids TEXT NOT NULL, digest TEXT NOT NULL,
		attempt INTEGER NOT NULL, at BIGINT NOT NULL, status TEXT NOT NULL,
		error TEXT NOT NULL, latency_ms BIGINT NOT NULL, next_at BIGINT NOT NULL)`, indexAt, indexReceiver},
}}

// The indexes, after each engine's CREATE TABLE (Both statements run first).
const (
	indexAt       = `CREATE INDEX notify_deliveries_at ON notify_deliveries (at)`
	indexReceiver = `CREATE INDEX notify_deliveries_receiver ON notify_deliveries (receiver, id)`
)

// NewSQLLog creates the delivery log's table in st if needed.
func NewSQLLog(ctx context.Context, st *access.SQLStore) (*SQLLog, error) {
	if err := st.Migrate(ctx, "notify", deliveryMigrations); err != nil {
		return nil, fmt.Errorf("notify: delivery log: %w", err)
	}
	return &SQLLog{st: st}, nil
}

// Record implements Log.
func (l *SQLLog) Record(ctx context.Context, d Delivery) error {
	var next int64
	if !d.Next.IsZero() {
		next = d.Next.UnixMicro()
	}
	_, err := l.st.DB().ExecContext(ctx, l.st.Rebind(`INSERT INTO notify_deliveries
		(receiver, message_ids, digest, attempt, at, status, error, latency_ms, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		d.Receiver, strings.Join(d.MessageIDs, ","), d.Digest, d.Attempt, d.Time.UnixMicro(), string(d.Status), d.Error,
		d.Latency.Milliseconds(), next)
	if err != nil {
		return fmt.Errorf("notify: record delivery: %w", err)
	}
	return nil
}

// DeliveryFilter selects entries of the delivery log.
type DeliveryFilter struct {
	Receiver string // exact; "" all
	Message  string // a message id the attempt carried; "" all
	// Limit is at most 1000; 0 means 100.
	Limit int
}

// LoggedDelivery is a Delivery as the log keeps it.
type LoggedDelivery struct {
	ID         int64     `json:"id"`
	Receiver   string    `json:"receiver"`
	MessageIDs []string  `json:"message_ids"`
	Digest     string    `json:"digest,omitempty"`
	Attempt    int       `json:"attempt"`
	Time       time.Time `json:"time"`
	Status     Status    `json:"status"`
	Error      string    `json:"error,omitempty"`
	LatencyMs  int64     `json:"latency_ms"`
	Next       time.Time `json:"next,omitzero"`
}

// List returns the newest entries first.
func (l *SQLLog) List(ctx context.Context, f DeliveryFilter) ([]LoggedDelivery, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	q := `SELECT id, receiver, message_ids, digest, attempt, at, status, error, latency_ms, next_at FROM notify_deliveries WHERE 1 = 1`
	var args []any
	if f.Receiver != "" {
		q += ` AND receiver = ?`
		args = append(args, f.Receiver)
	}
	if f.Message != "" {
		// Ids hold no commas (they are report ids and sequence numbers).
		q += ` AND (',' || message_ids || ',') LIKE ?`
		args = append(args, "%,"+strings.NewReplacer("%", "", "_", "", ",", "").Replace(f.Message)+",%")
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := l.st.DB().QueryContext(ctx, l.st.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("notify: list deliveries: %w", err)
	}
	defer rows.Close()
	var out []LoggedDelivery
	for rows.Next() {
		var d LoggedDelivery
		var ids, status string
		var at, next int64
		if err := rows.Scan(&d.ID, &d.Receiver, &ids, &d.Digest, &d.Attempt, &at, &status, &d.Error, &d.LatencyMs, &next); err != nil {
			return nil, fmt.Errorf("notify: list deliveries: %w", err)
		}
		if ids != "" {
			d.MessageIDs = strings.Split(ids, ",")
		}
		d.Status, d.Time = Status(status), time.UnixMicro(at)
		if next != 0 {
			d.Next = time.UnixMicro(next)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

var _ Log = (*SQLLog)(nil)
