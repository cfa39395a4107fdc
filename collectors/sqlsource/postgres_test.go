package sqlsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/collectors/sqlsource/pgtest"
	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/mapping"
	"github.com/yiping-ioc/yiping/record"
)

// testAcc plays the runner's accumulator: it maps each row with the real
// mapping package and checks it with record.Parser, keeping the newest
// canonical row per id and the reasons of rejected rows.
type testAcc struct {
	t        *testing.T
	m        *mapping.Mapping
	p        *record.Parser
	rows     [record.NumKinds]map[string][]string
	added    [record.NumKinds]int
	rejects  []string
	errs     []error
	cursor   string
	commits  int
	catalogs int
}

func newTestAcc(t *testing.T, cfg mapping.Config) *testAcc {
	m, err := mapping.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := &testAcc{t: t, m: m, p: record.NewParser(testkit.Shanghai(t))}
	for k := range a.rows {
		a.rows[k] = map[string][]string{}
	}
	return a
}

// reset forgets what one run delivered, keeping the rows.
func (a *testAcc) reset() {
	a.added = [record.NumKinds]int{}
	a.rejects, a.errs = nil, nil
}

func (a *testAcc) Fields(k record.Kind) []string { return a.m.Kind(k).SourceFields() }

func (a *testAcc) AddRow(k record.Kind, values []string) error {
	row, err := a.m.Kind(k).Apply(nil, values)
	if err == nil {
		err = parse(a.p, k, row)
	}
	if err != nil {
		a.rejects = append(a.rejects, fmt.Sprintf("%s %s: %v", k, values[0], err))
		return err
	}
	a.added[k]++
	a.rows[k][row[0]] = row
	return nil
}

func (a *testAcc) AddError(err error) { a.errs = append(a.errs, err) }
func (a *testAcc) BeginCatalog()      { a.catalogs++ }
func (a *testAcc) Checkpoint(ctx context.Context, cursor string) error {
	a.cursor = cursor
	a.commits++
	return nil
}

func parse(p *record.Parser, k record.Kind, v []string) error { return p.Check(k, v) }

const schema = `
CREATE TABLE banjian (
	办件编号 text PRIMARY KEY,
	行政区划 text,
	部门编码 text,
	事项编码 text,
	办理渠道 text,
	全程网办 boolean,
	申请时间 timestamptz NOT NULL,
	受理时间 timestamptz,
	承诺时限 int,
	办结时间 timestamptz,
	办件状态 text,
	更新时间 timestamptz(6) NOT NULL
);
CREATE TABLE t_12345_gd (   -- a legacy system: pinyin initials, zone-less times
	gdbh text PRIMARY KEY, xzqh char(6), cbdw text, fl text, lx text, qd text,
	slsj timestamp NOT NULL, zb smallint, pdsj timestamp, blsx numeric(4,0),
	bjsj timestamp, hf text, gxsj timestamp NOT NULL
);
CREATE TABLE calls (
	seq bigserial PRIMARY KEY, call_id text, region_code text,
	offered_at timestamptz, answered boolean, wait_seconds int
);
CREATE TABLE shixiang (
	item_code text, region_code text, dept_code text, online_available boolean,
	full_online boolean, mobile_available boolean, in_hall boolean, visits int,
	legal_days int, promised_days int
);
CREATE TABLE haochaping (eval_id text, case_id text, region_code text, channel text, score int, evaluated_at timestamptz, gx timestamptz);
`

var testMapping = mapping.Config{
	"cases": {
		Columns: map[string]string{
			"办件编号": "case_id", "行政区划": "region_code", "部门编码": "dept_code", "事项编码": "item_code",
			"办理渠道": "channel", "全程网办": "full_online", "申请时间": "submitted_at", "受理时间": "accepted_at",
			"承诺时限": "promised_days", "办结时间": "closed_at", "办件状态": "status",
		},
		Values: map[string]map[string]string{
			"channel": {"网办": "online", "掌办": "mobile", "窗口": "window"},
			"status":  {"已提交": "submitted", "已受理": "accepted", "已办结": "closed"},
		},
	},
	"tickets": {
		Columns: map[string]string{
			"gdbh": "ticket_id", "xzqh": "region_code", "cbdw": "unit_code", "fl": "category", "lx": "kind",
			"qd": "channel", "slsj": "received_at", "zb": "direct", "pdsj": "assigned_at", "blsx": "deadline_days",
			"bjsj": "closed_at", "hf": "callback",
		},
		Values: map[string]map[string]string{"callback": {"满意": "satisfied", "基本满意": "basic", "不满意": "unsatisfied"}},
	},
}

func testOptions(dsn string) Options {
	return Options{
		Driver: "postgres",
		DSN:    "",
		DSNEnv: "TEST_PLATFORM_DSN",
		Queries: map[string]Query{
			"cases": {
				SQL:    `SELECT * FROM banjian WHERE (更新时间, 办件编号) > ($1, $2) ORDER BY 更新时间, 办件编号 LIMIT 4`,
				Cursor: Columns{"更新时间", "办件编号"}, PageSize: 4,
			},
			"tickets": {
				SQL:    `SELECT * FROM t_12345_gd WHERE gxsj >= $1 ORDER BY gxsj, gdbh LIMIT 4`,
				Cursor: Columns{"gxsj"}, TieKey: "gdbh", PageSize: 4,
			},
			"calls": {
				SQL:    `SELECT * FROM calls WHERE seq > $1 ORDER BY seq LIMIT 4`,
				Cursor: Columns{"seq"}, Start: []string{"0"}, PageSize: 4,
			},
			"items": {SQL: `SELECT * FROM shixiang ORDER BY item_code`, Snapshot: true},
		},
	}
}

// TestPostgres runs the connector against a real PostgreSQL server through
// a platform's lifetime: a first full read, idle runs, new and updated
// rows, rows sharing timestamps across page boundaries, NULLs, a bad row,
// and the database going down and coming back.
func TestPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	pg.Exec(schema)
	dsn := pg.DSN("")
	getenv := func(string) string { return dsn }
	src, err := New(testOptions(dsn), getenv, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	acc := newTestAcc(t, testMapping)
	ctx := context.Background()
	run := func(t *testing.T, name string) {
		t.Helper()
		acc.reset()
		before := acc.cursor
		cursor, err := src.Collect(ctx, acc.cursor, acc)
		if err != nil {
			t.Fatalf("%s: Collect: %v", name, err)
		}
		if len(acc.errs) > 0 {
			t.Fatalf("%s: partial failures: %v", name, acc.errs)
		}
		if cursor != acc.cursor {
			t.Fatalf("%s: returned cursor %s, last checkpoint %s", name, cursor, acc.cursor)
		}
		t.Logf("%s: added %v, %d rejected; cursor moved from %.60s… to %.60s…", name, acc.added, len(acc.rejects), before, cursor)
	}
	want := func(t *testing.T, k record.Kind, n int) {
		t.Helper()
		if acc.added[k] != n {
			t.Errorf("%s: %d rows added, want %d", k, acc.added[k], n)
		}
	}

	// 22 cases in groups of 5 sharing 更新时间 (pages of 4 split every
	// group), one case with NULL times, one bad region code.
	var ins []string
	base := "2026-03-02 09:00:00+08"
	for i := 1; i <= 22; i++ {
		acc, clo, st := "'2026-03-02 10:00:00+08'", "NULL", "已受理"
		if i%7 == 0 {
			acc, st = "NULL", "已提交"
		}
		if i%3 == 0 {
			clo, st = "'2026-03-03 16:00:00+08'", "已办结"
		}
		ins = append(ins, fmt.Sprintf(`INSERT INTO banjian VALUES ('C%03d', '620802', 'GAJ', 'I001', '网办', %v,
			'2026-03-02 09:00:00+08', %s, 3, %s, '%s', timestamptz '%s' + interval '%d seconds')`,
			i, i%2 == 0, acc, clo, st, base, i/5))
	}
	ins = append(ins, `INSERT INTO banjian VALUES ('C999', '6208', 'GAJ', 'I001', '窗口', false,
		'2026-03-02 09:00:00+08', NULL, 0, NULL, '已提交', '2026-03-02 09:00:02+08')`)
	// 13 tickets at five instants, two or three sharing a zone-less gxsj.
	for i := 1; i <= 13; i++ {
		ins = append(ins, fmt.Sprintf(`INSERT INTO t_12345_gd VALUES ('T%02d', '620821', 'ZJJ', '城乡建设', 'complaint', 'phone',
			'2026-03-02 08:30:00', 0, '2026-03-02 09:00:00', 5, NULL, NULL, '2026-03-02 09:%02d:00')`, i, 10+i/3))
	}
	for i := 1; i <= 10; i++ {
		ins = append(ins, fmt.Sprintf(`INSERT INTO calls (call_id, region_code, offered_at, answered, wait_seconds)
			VALUES ('K%02d', '620800', '2026-03-02 09:%02d:00+08', %v, %s)`, i, i, i != 4, map[bool]string{true: "NULL", false: "7"}[i == 5]))
	}
	for i := 1; i <= 5; i++ {
		ins = append(ins, fmt.Sprintf(`INSERT INTO shixiang VALUES ('I%03d', '620000', 'GAJ', true, %v, true, true, %d, 20, 5)`, i, i != 3, map[bool]int{true: 0, false: 1}[i != 3]))
	}
	pg.Exec(ins...)

	t.Run("first run reads everything", func(t *testing.T) {
		run(t, "first run")
		want(t, record.KindCase, 22)
		want(t, record.KindTicket, 13)
		want(t, record.KindCall, 10)
		want(t, record.KindItem, 5)
		if len(acc.rejects) != 1 || !strings.Contains(acc.rejects[0], "C999") || !strings.Contains(acc.rejects[0], "region_code") {
			t.Errorf("rejects %q, want C999 for its region_code", acc.rejects)
		}
		if acc.catalogs != 1 {
			t.Errorf("BeginCatalog called %d times, want once for the items snapshot", acc.catalogs)
		}
		// Values as record.Parser wants them.
		// NULL times are empty; booleans 1/0; values mapped.
		if c7 := acc.rows[record.KindCase]["C007"]; c7[7] != "" || c7[9] != "" || c7[5] != "0" || c7[4] != "online" || c7[10] != "submitted" {
			t.Errorf("C007 = %q", c7)
		}
		// timestamptz keeps its instant, with an offset.
		c6 := acc.rows[record.KindCase]["C006"]
		sub, _ := time.Parse(time.RFC3339, c6[6])
		if c6[5] != "1" || c6[10] != "closed" || !sub.Equal(time.Date(2026, 3, 2, 9, 0, 0, 0, testkit.Shanghai(t))) {
			t.Errorf("C006 = %q", c6)
		}
		t1 := acc.rows[record.KindTicket]["T01"]
		if t1[6] != "2026-03-02 08:30:00" || t1[7] != "0" || t1[9] != "5" || t1[10] != "" {
			t.Errorf("T01 = %q: want zone-less times, 0 for direct, 5 days, empty close", t1)
		}
		k5 := acc.rows[record.KindCall]["K05"]
		if k5[4] != "" || acc.rows[record.KindCall]["K04"][3] != "0" {
			t.Errorf("K05 = %q, K04 = %q: want NULL wait empty and unanswered 0", k5, acc.rows[record.KindCall]["K04"])
		}
	})

	t.Run("idle run reads nothing", func(t *testing.T) {
		run(t, "idle run")
		want(t, record.KindCase, 0)
		want(t, record.KindTicket, 0)
		want(t, record.KindCall, 0)
		want(t, record.KindItem, 5) // a snapshot is read whole every time
	})

	t.Run("new and updated rows", func(t *testing.T) {
		pg.Exec(
			// three cases close
			`UPDATE banjian SET 办结时间 = '2026-03-04 11:00:00+08', 办件状态 = '已办结', 更新时间 = '2026-03-04 11:00:00.5+08'
				WHERE 办件编号 IN ('C001', 'C002', 'C004')`,
			// new cases, two of them at the very instant of the updates
			`INSERT INTO banjian SELECT 'C1' || g, '620802', 'GAJ', 'I001', '掌办', true, '2026-03-04 10:00:00+08',
				'2026-03-04 10:05:00+08', 1, NULL, '已受理',
				CASE WHEN g <= 2 THEN timestamptz '2026-03-04 11:00:00.5+08' ELSE '2026-03-04 11:30:00+08' END
				FROM generate_series(1, 5) g`,
			// tickets: one new at the instant the last run ended on (a tie
			// across runs), one later, one callback
			`INSERT INTO t_12345_gd SELECT 'T9' || g, '620821', 'ZJJ', '城乡建设', 'help', 'wechat', '2026-03-02 09:05:00',
				1, NULL, NULL, '2026-03-02 09:20:00', '满意',
				CASE WHEN g = 1 THEN timestamp '2026-03-02 09:14:00' ELSE '2026-03-02 09:20:00' END FROM generate_series(1, 2) g`,
			`UPDATE t_12345_gd SET bjsj = '2026-03-04 15:00:00', hf = '不满意', gxsj = '2026-03-05 10:00:00' WHERE gdbh = 'T03'`,
		)
		run(t, "after changes")
		want(t, record.KindCase, 8)
		want(t, record.KindTicket, 3)
		want(t, record.KindCall, 0)
		if got := acc.rows[record.KindCase]["C002"]; got[10] != "closed" || got[9] == "" {
			t.Errorf("C002 after closing: %q", got)
		}
		if got := acc.rows[record.KindTicket]["T03"]; got[11] != "unsatisfied" || got[10] != "2026-03-04 15:00:00" {
			t.Errorf("T03 after its callback: %q", got)
		}
		if _, ok := acc.rows[record.KindTicket]["T91"]; !ok {
			t.Errorf("T91, added at the instant the previous run ended on, was lost")
		}
	})

	t.Run("database down then up", func(t *testing.T) {
		pg.Exec(`INSERT INTO calls (call_id, region_code, offered_at, answered, wait_seconds)
			SELECT 'K2' || g, '620100', '2026-03-05 08:00:00+08', true, g FROM generate_series(1, 3) g`)
		pg.Stop()
		acc.reset()
		before := acc.cursor
		cursor, err := src.Collect(ctx, before, acc)
		if err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Fatalf("Collect with the database down: %v, want an unreachable error", err)
		}
		if cursor != before {
			t.Fatalf("cursor moved while the database was down")
		}
		if strings.Contains(err.Error(), dsn) {
			t.Fatalf("error shows the DSN: %v", err)
		}
		pg.Restart()
		run(t, "after restart")
		want(t, record.KindCall, 3)
		want(t, record.KindCase, 0)
	})

	if n := len(acc.rows[record.KindCase]); n != 27 {
		t.Errorf("%d cases in all, want 27", n)
	}
}

// TestPostgresStall: with one cursor column and >=, a page wholly made of
// one value already read cannot move; the kind fails with an error that
// says what to do, instead of looping, and the other kinds go on.
func TestPostgresStall(t *testing.T) {
	pg := pgtest.Start(t)
	pg.Exec(schema)
	pg.Exec(`INSERT INTO haochaping SELECT 'E' || g, 'C1', '620802', 'online', 5, '2026-03-02 10:00:00+08', '2026-03-02 10:00:00+08' FROM generate_series(1, 3) g`,
		`INSERT INTO calls (call_id, region_code, offered_at, answered, wait_seconds) VALUES ('K1', '620800', '2026-03-02 09:00:00+08', true, 3)`)
	o := Options{Driver: "postgres", DSN: "x", Queries: map[string]Query{
		"evaluations": {SQL: `SELECT * FROM haochaping WHERE gx >= $1 ORDER BY gx, eval_id LIMIT 2`, Cursor: Columns{"gx"}, TieKey: "eval_id", PageSize: 2},
		"calls":       {SQL: `SELECT * FROM calls WHERE seq > $1 ORDER BY seq`, Cursor: Columns{"seq"}, Start: []string{"0"}},
	}}
	o.DSN = ""
	o.DSNEnv = "X"
	src, err := New(o, func(string) string { return pg.DSN("") }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	acc := newTestAcc(t, nil)
	if _, err := src.Collect(context.Background(), "", acc); err != nil {
		t.Fatalf("Collect: %v (one kind failing is a partial failure, not a failed run)", err)
	}
	if len(acc.errs) != 1 || !strings.Contains(acc.errs[0].Error(), "composite cursor") {
		t.Fatalf("errors %v, want the stall explained", acc.errs)
	}
	if acc.added[record.KindCall] != 1 || acc.added[record.KindEvaluation] != 2 {
		t.Fatalf("added %v", acc.added)
	}
	var all error
	for _, e := range acc.errs {
		all = errors.Join(all, e)
	}
	t.Logf("stall reported as: %v", all)
}
