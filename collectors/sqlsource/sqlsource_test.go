package sqlsource

import (
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/record"
)

func TestCanonical(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	ts := time.Date(2026, 3, 2, 9, 15, 7, 123456000, loc)
	wall := time.Date(2026, 3, 2, 9, 15, 7, 500000000, time.UTC) // a zone-less column, scanned
	tests := []struct {
		v      any
		dbType string
		want   string
	}{
		{nil, "TEXT", ""},
		{ts, "TIMESTAMPTZ", "2026-03-02T09:15:07+08:00"},
		{wall, "TIMESTAMP", "2026-03-02 09:15:07"},
		{wall, "DATETIME", "2026-03-02 09:15:07"},
		{wall, "DATE", "2026-03-02"},
		{true, "BOOL", "1"},
		{false, "BOOL", "0"},
		{int64(42), "INT8", "42"},
		{float64(5), "FLOAT8", "5"},
		{float64(2.5), "FLOAT8", "2.5"},
		{"5.00", "NUMERIC", "5"},
		{"5.50", "NUMERIC", "5.50"},
		{[]byte("2026-03-02 09:15:07.250000"), "DATETIME", "2026-03-02 09:15:07"},
		{[]byte("620802"), "VARCHAR", "620802"},
		{"办结", "TEXT", "办结"},
	}
	for _, tt := range tests {
		if got := canonical(tt.v, tt.dbType); got != tt.want {
			t.Errorf("canonical(%#v, %s) = %q, want %q", tt.v, tt.dbType, got, tt.want)
		}
	}
	// What canonical makes of times, record.Parser reads as the same instant.
	p := record.NewParser(loc)
	for _, v := range []time.Time{ts, wall} {
		typ := "TIMESTAMPTZ"
		want := ts.Truncate(time.Second)
		if v.Location() == time.UTC {
			typ, want = "TIMESTAMP", time.Date(2026, 3, 2, 9, 15, 7, 0, loc)
		}
		ns, err := p.Time(canonical(v, typ))
		if err != nil || ns != want.UnixNano() {
			t.Errorf("parse %s: %v, %v; want %v", canonical(v, typ), time.Unix(0, ns), err, want)
		}
	}
}

func TestCountParams(t *testing.T) {
	tests := []struct {
		sql, driver string
		want        int
	}{
		{"SELECT * FROM t WHERE u > $1 ORDER BY u LIMIT 10", "pgx", 1},
		{"SELECT * FROM t WHERE (u, id) > ($1, $2)", "pgx", 2},
		{"SELECT '$3', \"a$4\" FROM t WHERE u >= $1 -- $5\n/* $6 */", "pgx", 1},
		{"SELECT * FROM t", "pgx", 0},
		{"SELECT * FROM t WHERE (u, id) > (?, ?)", "mysql", 2},
		{"SELECT '?', `a?` FROM t WHERE u > ? -- ?", "mysql", 1},
	}
	for _, tt := range tests {
		if got := countParams(tt.sql, tt.driver); got != tt.want {
			t.Errorf("countParams(%q, %s) = %d, want %d", tt.sql, tt.driver, got, tt.want)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	ts := time.Date(2026, 3, 2, 9, 15, 7, 123456000, time.FixedZone("", 8*3600))
	i := int64(99)
	s := "C001"
	st := state{
		"cases":   kindCursor{After: []cursorValue{{T: &ts}, {S: &s}}},
		"tickets": ticketCursor(ts),
		"calls":   kindCursor{After: []cursorValue{{I: &i}}},
	}
	back, err := decodeCursor(st.encode())
	if err != nil {
		t.Fatal(err)
	}
	if got := back["cases"].args(); !got[0].(time.Time).Equal(ts) || got[1] != "C001" {
		t.Errorf("cases args %v", got)
	}
	if got := back["calls"].args(); got[0] != int64(99) {
		t.Errorf("calls args %v", got)
	}
	tk := back["tickets"]
	if !tk.seen["T1"] || !tk.seen["T2"] || !tk.sameValue([]cursorValue{{T: &ts}}) {
		t.Errorf("tickets cursor %+v", tk)
	}
	if _, err := decodeCursor("2026-03-02T00:00:00Z"); err == nil {
		t.Error("a cursor of another connector was accepted")
	}
}

func TestNewErrors(t *testing.T) {
	ok := Query{SQL: "SELECT * FROM t WHERE (u, id) > ($1, $2) ORDER BY u, id LIMIT 10", Cursor: Columns{"u", "id"}}
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"driver", Options{Driver: "oracle", DSN: "x"}, `driver "oracle"`},
		{"no dsn", Options{Driver: "postgres", Queries: map[string]Query{"cases": ok}}, "dsn: required"},
		{"empty dsn env", Options{Driver: "postgres", DSNEnv: "NOPE", Queries: map[string]Query{"cases": ok}}, "NOPE is empty"},
		{"bad pg dsn", Options{Driver: "postgres", DSN: "postgres://u:hunter2@[::1", Queries: map[string]Query{"cases": ok}}, "dsn:"},
		{"bad mysql dsn", Options{Driver: "mysql", DSN: "u:hunter2@tcp(db:3306", Queries: map[string]Query{"cases": ok}}, "dsn:"},
		{"no queries", Options{Driver: "postgres", DSN: "postgres://h/db"}, "queries:"},
		{"kind", Options{Driver: "postgres", DSN: "postgres://h/db", Queries: map[string]Query{"banjian": ok}}, `"banjian" is not a record kind`},
		{"no sql", Options{Driver: "postgres", DSN: "postgres://h/db", Queries: map[string]Query{"cases": {Cursor: Columns{"u"}}}}, "sql: required"},
		{"no cursor", Options{Driver: "postgres", DSN: "postgres://h/db", Queries: map[string]Query{"cases": {SQL: "SELECT 1 WHERE 1 > $1"}}}, "cursor:"},
		{"params", Options{Driver: "postgres", DSN: "postgres://h/db", Queries: map[string]Query{"cases": {SQL: "SELECT * FROM t WHERE u > $1", Cursor: Columns{"u", "id"}}}}, "1 parameter(s) and the cursor 2"},
		{"mysql params", Options{Driver: "mysql", DSN: "u@tcp(h)/db", Queries: map[string]Query{"cases": {SQL: "SELECT * FROM t WHERE u > $1", Cursor: Columns{"u"}}}}, "0 parameter(s)"},
		{"tie with composite", Options{Driver: "postgres", DSN: "postgres://h/db", Queries: map[string]Query{"cases": {SQL: ok.SQL, Cursor: ok.Cursor, TieKey: "id"}}}, "tie_key"},
		{"snapshot not items", Options{Driver: "postgres", DSN: "postgres://h/db", Queries: map[string]Query{"cases": {SQL: "SELECT 1", Snapshot: true}}}, "only the items"},
		{"snapshot with params", Options{Driver: "postgres", DSN: "postgres://h/db", Queries: map[string]Query{"items": {SQL: "SELECT * FROM i WHERE u > $1", Snapshot: true}}}, "no parameters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.o, func(string) string { return "" }, slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
}

// TestMySQL is what can be checked without a MySQL server (there is none
// on the build machines): the driver is registered, DSNs parse, and a
// source builds with MySQL placeholders.
func TestMySQL(t *testing.T) {
	if !slices.Contains(sql.Drivers(), "mysql") || !slices.Contains(sql.Drivers(), "pgx") {
		t.Fatalf("drivers %v, want mysql and pgx registered", sql.Drivers())
	}
	cfg, err := mysql.ParseDSN("yiping:pw@tcp(10.1.2.3:3306)/zwfw?parseTime=true&loc=Asia%2FShanghai&charset=utf8mb4")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "yiping" || cfg.Addr != "10.1.2.3:3306" || cfg.DBName != "zwfw" || !cfg.ParseTime || cfg.Loc.String() != "Asia/Shanghai" {
		t.Fatalf("parsed %+v", cfg)
	}
	src, err := New(Options{Driver: "mysql", DSN: "yiping:pw@tcp(10.1.2.3:3306)/zwfw?parseTime=true", Queries: map[string]Query{
		"cases": {SQL: "SELECT * FROM banjian WHERE (gxsj, bjbh) > (?, ?) ORDER BY gxsj, bjbh LIMIT 5000", Cursor: Columns{"gxsj", "bjbh"}},
	}}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	src.Close()
}

// TestConfig loads the embedded sample through the collectors
// configuration (strict decoding, the real type registration) and checks
// that the DSN never shows.
func TestConfig(t *testing.T) {
	t.Setenv("GS_PLATFORM_DSN", "postgres://zwfw:hunter2@10.1.2.3:5432/platform")
	cfg, err := collectors.ParseConfig([]byte(Sample), "sample.yaml", collectors.Types{TypeName: Type()})
	if err != nil {
		t.Fatalf("sample.yaml: %v", err)
	}
	if len(cfg.Sources) != 1 || cfg.Sources[0].Connector == nil {
		t.Fatalf("sources %+v", cfg.Sources)
	}
	o := cfg.Sources[0].Options.(*Options)
	if len(o.Queries) != 4 || o.Queries["tickets"].TieKey != "ticket_id" || len(o.Queries["cases"].Cursor) != 2 {
		t.Fatalf("options %+v", o)
	}
	o.DSN = "postgres://zwfw:hunter2@10.1.2.3:5432/platform"
	for _, s := range []string{cfg.String(), fmt.Sprintf("%v %+v %#v", o.DSN, o.DSN, o.DSN)} {
		if strings.Contains(s, "hunter2") || !strings.Contains(s, "<secret>") {
			t.Fatalf("the DSN shows: %s", s)
		}
	}
	bad := strings.Replace(Sample, "page_size: 5000", "page_size: 5000\n          pagesize: 1", 1)
	if _, err := collectors.ParseConfig([]byte(bad), "bad.yaml", collectors.Types{TypeName: Type()}); err == nil || !strings.Contains(err.Error(), "pagesize") {
		t.Fatalf("an unknown key: %v", err)
	}
}

func ticketCursor(ts time.Time) kindCursor {
	var kc kindCursor
	kc.move([]cursorValue{{T: &ts}}, "T1", true)
	kc.move([]cursorValue{{T: &ts}}, "T2", true)
	return kc
}
