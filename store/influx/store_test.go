package influx

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/store/influx/influxtest"
	"github.com/yiping-ioc/yiping/store/storetest"
)

// One server serves every test of the package but the outage test, which
// kills its own. Each store gets a database of its own.
var shared struct {
	once sync.Once
	dir  string
	srv  *influxtest.Server
	err  error
	dbs  atomic.Int64
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		_ = shared.srv.Stop()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

func sharedServer(t testing.TB) *influxtest.Server {
	t.Helper()
	influxtest.Require(t)
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "yiping-influxd-")
		if shared.err == nil {
			shared.srv, shared.err = influxtest.StartServer(context.Background(), shared.dir, influxtest.Options{})
		}
	})
	if shared.err != nil {
		t.Fatalf("start influxd: %v", shared.err)
	}
	return shared.srv
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newDatabase creates a fresh database on srv and returns its bucket.
func newDatabase(t testing.TB, srv *influxtest.Server) string {
	t.Helper()
	b, err := srv.CreateDatabase(context.Background(), fmt.Sprintf("t%d", shared.dbs.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openTest(t testing.TB, cfg Config) *Store {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = t.TempDir()
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestContract(t *testing.T) {
	srv := sharedServer(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, Config{URL: srv.URL, Bucket: newDatabase(t, srv)})
	})
}

func TestLineProtocol(t *testing.T) {
	tm := time.Unix(1767225600, 5)
	k := store.SeriesKey{Indicator: "on_time_rate", Region: "620800", Dept: "a b,c=d", Period: ""}
	for _, c := range []struct {
		p    store.Point
		want string
	}{
		{store.Ratio(k, tm, 3, 4), `m,dept=a\ b\,c\=d,indicator=on_time_rate,period=-,region=620800 numerator=3,denominator=4i,has_denominator=true,value=0.75 1767225600000000005`},
		{store.Ratio(k, tm, 0, 0), `m,dept=a\ b\,c\=d,indicator=on_time_rate,period=-,region=620800 numerator=0,denominator=0i,has_denominator=true 1767225600000000005`},
		{store.Count(store.SeriesKey{Indicator: "case_volume", Region: "620800001", Period: "day"}, tm, 7),
			`m,dept=-,indicator=case_volume,period=day,region=620800001 numerator=7,denominator=0i,has_denominator=false,value=7 1767225600000000005`},
	} {
		got := strings.TrimSuffix(string(appendLine(nil, "m", &c.p)), "\n")
		if got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

// TestDeptTag: the departments the store always accepted keep their tag
// (what InfluxDB already holds), every other department gets a tag that
// line protocol and Flux take as it is, and no two departments share one.
func TestDeptTag(t *testing.T) {
	for d, want := range map[string]string{
		"": "-", "D01": "D01", "公安局": "公安局", "a b,c=d": "a b,c=d",
		"-": "$-", `' " \ $`: "$%27%20%22%20%5C%20%24", "a\nb": "$a%0Ab", "$-": "$%24-", "\xffx": "$%FFx",
		" lead": "$%20lead", "%": "%", "${x}": "$%24%7Bx%7D",
	} {
		if got := deptTag(d); got != want {
			t.Errorf("deptTag(%q) = %q, want %q", d, got, want)
		}
	}
	seen := map[string]string{}
	for _, d := range append(storetest.OddDepts(), "", "D01", "公安局", "a b,c=d", "%2D", "$%2D") {
		tag := deptTag(d)
		if prev, ok := seen[tag]; ok && prev != d {
			t.Errorf("departments %q and %q share the tag %q", prev, d, tag)
		}
		seen[tag] = d
		if len(tag) > maxTag || !utf8.ValidString(tag) || strings.ContainsAny(tag, "\n\r\x00\"") || strings.Contains(tag, "${") ||
			!plainDept(d) && strings.ContainsAny(tag, ` ,=\`) {
			t.Errorf("deptTag(%q) = %q: not safe in line protocol and Flux", d, tag)
		}
	}
}

func TestSpoolRecovery(t *testing.T) {
	dir := t.TempDir()
	sp, err := openSpool(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if seq, err := sp.append([]byte(fmt.Sprintf("line %d\n", i)), i); err != nil || seq != uint64(i) {
			t.Fatalf("append %d: seq %d, %v", i, seq, err)
		}
	}
	rec, ok, err := sp.peek()
	if err != nil || !ok || string(rec.body) != "line 1\n" || rec.points != 1 {
		t.Fatalf("peek: %+v %v %v", rec, ok, err)
	}
	if err := sp.ack(rec); err != nil {
		t.Fatal(err)
	}
	_ = sp.close()
	// A torn append: half of a fourth record.
	f, _ := os.OpenFile(filepath.Join(dir, spoolLog), os.O_WRONLY|os.O_APPEND, 0)
	_, _ = f.Write([]byte{0, 0, 0, 40, 1, 2, 3})
	_ = f.Close()
	sp, err = openSpool(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	if sp.records != 2 || sp.points != 5 || sp.nextSeq != 4 {
		t.Fatalf("after reopen: records %d points %d next %d, want 2 5 4", sp.records, sp.points, sp.nextSeq)
	}
	for _, want := range []string{"line 2\n", "line 3\n"} {
		rec, ok, err := sp.peek()
		if err != nil || !ok || string(rec.body) != want {
			t.Fatalf("peek: %q %v %v, want %q", rec.body, ok, err, want)
		}
		if err := sp.ack(rec); err != nil {
			t.Fatal(err)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, spoolLog)); fi.Size() != 0 {
		t.Fatalf("drained spool is %d bytes, want 0", fi.Size())
	}
	if seq, _ := sp.append([]byte("x\n"), 1); seq != 4 {
		t.Fatalf("sequence restarted at %d, want 4", seq)
	}
	_ = sp.close()
	// A corrupt byte in the middle cuts the log there.
	sp, _ = openSpool(dir, quietLogger())
	_, _ = sp.append([]byte("y\n"), 1)
	_ = sp.close()
	b, _ := os.ReadFile(filepath.Join(dir, spoolLog))
	b[len(b)-1] ^= 0xff
	_ = os.WriteFile(filepath.Join(dir, spoolLog), b, 0o644)
	sp, _ = openSpool(dir, quietLogger())
	defer sp.close()
	if sp.records != 1 {
		t.Fatalf("records after corruption = %d, want 1", sp.records)
	}
}

// points builds batch b of a test workload: n series, one point each at
// base + b seconds, values a function of (b, j).
func workload(b, n int) []store.Point {
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	pts := make([]store.Point, n)
	for j := range pts {
		k := store.SeriesKey{Indicator: "ticket_on_time_rate", Region: fmt.Sprintf("62010%04d", j), Period: store.PeriodDay}
		pts[j] = store.Ratio(k, base.Add(time.Duration(b)*time.Second), int64(b*7+j), int64(b+1))
		if j%4 == 0 {
			pts[j] = store.Ratio(k, pts[j].Time, 0, 0) // null values must survive the spool too
		}
	}
	return pts
}

// checkWorkload fails unless the store holds exactly batches [0, batches)
// of the workload: every point once, with its value.
func checkWorkload(t *testing.T, s store.Store, batches, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for j := 0; j < n; j++ {
		var want []store.Point
		for b := 0; b < batches; b++ {
			want = append(want, workload(b, n)[j])
		}
		got, err := s.Series(ctx, want[0].Key(), store.MinTime, store.MaxTime, store.RollupNone)
		if err != nil {
			t.Fatal(err)
		}
		storetest.SamePoints(t, "series "+want[0].Region, got, want)
	}
}

// TestSpoolSurvivesRestart writes while InfluxDB cannot be reached (a port
// nobody listens on), closes the store with the points in the spool, then
// opens a store on the same spool with the real server: everything arrives.
func TestSpoolSurvivesRestart(t *testing.T) {
	srv := sharedServer(t)
	bucket := newDatabase(t, srv)
	spoolDir := t.TempDir()
	down := openTest(t, Config{URL: "http://127.0.0.1:1", Bucket: bucket, SpoolDir: spoolDir, FlushInterval: 20 * time.Millisecond})
	const batches, n = 20, 30
	for b := 0; b < batches; b++ {
		if err := down.Write(context.Background(), workload(b, n)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := down.Flush(ctx); err == nil {
		t.Fatal("Flush succeeded with the server down")
	}
	if err := down.Close(); err != nil {
		t.Fatal(err)
	}
	if st := down.Stats(); st.Spooled != batches*n || !st.Unavailable {
		t.Fatalf("stats while down: %+v, want %d points spooled", st, batches*n)
	}
	up := openTest(t, Config{URL: srv.URL, Bucket: bucket, SpoolDir: spoolDir})
	fctx, fcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer fcancel()
	if err := up.Write(fctx, workload(batches, n)); err != nil {
		t.Fatal(err)
	}
	if err := up.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	if st := up.Stats(); st.Spooled != 0 || st.SpoolReplayed < batches*n || st.SpoolReplayed > (batches+1)*n || st.Written != (batches+1)*n {
		t.Fatalf("stats after replay: %+v", st)
	}
	checkWorkload(t, up, batches+1, n)
}

// TestReplayTwiceWritesOnce replays the same spool twice, as happens when
// the process dies after InfluxDB took a batch and before the spool's
// acknowledgement reached the disk: no point is duplicated.
func TestReplayTwiceWritesOnce(t *testing.T) {
	srv := sharedServer(t)
	bucket := newDatabase(t, srv)
	spoolDir := t.TempDir()
	down := openTest(t, Config{URL: "http://127.0.0.1:1", Bucket: bucket, SpoolDir: spoolDir, FlushInterval: 20 * time.Millisecond})
	const batches, n = 10, 20
	for b := 0; b < batches; b++ {
		if err := down.Write(context.Background(), workload(b, n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := down.Close(); err != nil {
		t.Fatal(err)
	}
	saved := t.TempDir()
	copyDir(t, spoolDir, saved)
	for round := 0; round < 2; round++ {
		if round == 1 {
			copyDir(t, saved, spoolDir) // "crash": the acknowledgements never reached the disk
		}
		s := openTest(t, Config{URL: srv.URL, Bucket: bucket, SpoolDir: spoolDir})
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		if err := s.Write(ctx, workload(batches, n)); err != nil { // forces a Flush target
			t.Fatal(err)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		if st := s.Stats(); st.SpoolReplayed < batches*n || st.SpoolReplayed > (batches+1)*n {
			t.Fatalf("round %d: replayed %d points, want %d (+%d if the new batch queued behind them)", round, st.SpoolReplayed, batches*n, n)
		}
		checkWorkload(t, s, batches+1, n)
		_ = s.Close()
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	for _, name := range []string{spoolLog, spoolAck} {
		b, err := os.ReadFile(filepath.Join(from, name))
		if os.IsNotExist(err) {
			_ = os.Remove(filepath.Join(to, name))
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLatestLookbackFallsBack checks that a series whose newest point is
// older than LatestLookback is still found.
func TestLatestLookbackFallsBack(t *testing.T) {
	srv := sharedServer(t)
	s := openTest(t, Config{URL: srv.URL, Bucket: newDatabase(t, srv), LatestLookback: time.Hour})
	now := time.Now()
	recent := store.Count(store.SeriesKey{Indicator: "call_volume", Region: "620100", Period: "day"}, now.Add(-10*time.Minute), 5)
	old := store.Count(store.SeriesKey{Indicator: "call_volume", Region: "620200", Period: "day"}, now.Add(-400*24*time.Hour), 6)
	olderRecent := store.Count(recent.Key(), now.Add(-3*time.Hour), 4)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Write(ctx, []store.Point{recent, old, olderRecent}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.Latest(ctx, store.Selector{Indicator: "call_volume", Period: "day", Regions: []string{"620100", "620200", "620300"}})
	if err != nil {
		t.Fatal(err)
	}
	storetest.SamePoints(t, "Latest", got, []store.Point{recent, old})
	got, err = s.AsOf(ctx, store.Selector{Indicator: "call_volume", Period: "day", Regions: []string{"620100", "620200"}}, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	storetest.SamePoints(t, "AsOf", got, []store.Point{olderRecent, old})
}

func TestLargeWritesAreSplit(t *testing.T) {
	var chunks []chunk
	lines := []byte("a\nb\nc\nd\ne\n")
	for _, c := range splitChunk(chunk{seq: 7, lines: lines, points: 5}, 2) {
		chunks = append(chunks, c)
	}
	if len(chunks) != 3 || string(chunks[0].lines) != "a\nb\n" || chunks[2].points != 1 || chunks[0].seq != 0 || chunks[2].seq != 7 {
		t.Fatalf("split: %+v", chunks)
	}
	srv := sharedServer(t)
	s := openTest(t, Config{URL: srv.URL, Bucket: newDatabase(t, srv), BatchSize: 700})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const batches, n = 6, 1500 // every Write larger than a batch, all queued at once
	for b := 0; b < batches; b++ {
		if err := s.Write(ctx, workload(b, n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Written != batches*n || st.Rejected != 0 {
		t.Fatalf("stats %+v, want %d written", st, batches*n)
	}
	checkWorkload(t, s, batches, 3)
	var regions []string
	for _, p := range workload(0, n) {
		regions = append(regions, p.Region)
	}
	got, err := s.Latest(ctx, store.Selector{Indicator: "ticket_on_time_rate", Period: store.PeriodDay, Regions: regions})
	if err != nil || len(got) != n {
		t.Fatalf("Latest: %d points, %v", len(got), err)
	}
}
