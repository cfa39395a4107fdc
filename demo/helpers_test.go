package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/ingest"
	"github.com/yiping-ioc/yiping/record"
)

// fakeClock is a wall clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// calendars are built once per test binary; each takes a millisecond but
// the tests build many demos.
var testCal = sync.OnceValue(func() *calendar.Calendar {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return calendar.Default(loc)
})

// newTestDemo starts a demo whose wall clock is fake and stands at start.
func newTestDemo(t testing.TB, start time.Time, history time.Duration, mod func(*Config)) (*Demo, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: start}
	cfg := Config{
		Seed:     7,
		Clock:    clk.Now,
		History:  history,
		Calendar: testCal(),
		Logger:   slog.New(slog.DiscardHandler),
	}
	if mod != nil {
		mod(&cfg)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d, clk
}

// rawPage is a page with its records left undecoded.
type rawPage struct {
	Records       []json.RawMessage `json:"records"`
	NextPageToken string            `json:"next_page_token"`
	Cursor        string            `json:"cursor"`
}

// get calls the handler in process and decodes the page.
func get(t testing.TB, h http.Handler, kind string, q url.Values) rawPage {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/"+kind+"?"+q.Encode(), nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", req.URL, rec.Code, rec.Body)
	}
	var page rawPage
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		t.Fatalf("GET %s: decode: %v", req.URL, err)
	}
	return page
}

// pull follows page tokens from updated_since (empty: from the start) and
// returns every record and the cursor for the next poll, as a collector
// would.
func pull(t testing.TB, h http.Handler, kind, since string, limit int) ([]json.RawMessage, string) {
	t.Helper()
	var raws []json.RawMessage
	q := url.Values{"limit": {fmt.Sprint(limit)}}
	if since != "" {
		q.Set("updated_since", since)
	}
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatalf("pull %s: paging does not end", kind)
		}
		page := get(t, h, kind, q)
		raws = append(raws, page.Records...)
		if page.NextPageToken == "" {
			return raws, page.Cursor
		}
		if len(page.Records) == 0 {
			t.Fatalf("pull %s: empty page with a next_page_token", kind)
		}
		q.Del("updated_since")
		q.Set("page_token", page.NextPageToken)
	}
}

// rows decodes records.
func rows(t testing.TB, raws []json.RawMessage) []Row {
	t.Helper()
	out := make([]Row, len(raws))
	for i, r := range raws {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			t.Fatalf("decode %s: %v", r, err)
		}
	}
	return out
}

// idField is the id column of each kind.
var idField = [record.NumKinds]string{"case_id", "eval_id", "ticket_id", "call_id", "item_code"}

var kindNames = []string{"cases", "evaluations", "tickets", "calls", "items"}

// loadEngine pulls every kind through the API into JSON-lines files and
// reads them with ingest into a real engine whose clock is the demo's
// present, which is how the product would see the demo.
func loadEngine(t testing.TB, d *Demo) *engine.Engine {
	t.Helper()
	dir := t.TempDir()
	h := d.Handler()
	began := time.Now()
	for _, kind := range kindNames {
		raws, _ := pull(t, h, kind, "", MaxLimit)
		var buf bytes.Buffer
		for _, r := range raws {
			buf.Write(r)
			buf.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(dir, kind+".jsonl"), buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("pulled in %v", time.Since(began))
	began = time.Now()
	defer func() { t.Logf("ingested in %v", time.Since(began)) }()
	eng, err := engine.New(engine.Config{Calendar: d.m.cal, Now: d.Now().UnixNano(), Periods: []engine.Period{engine.Day}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var bad []string
	_, err = ingest.ReadDir(context.Background(), dir, func() *record.Parser { return record.NewParser(d.m.loc) }, eng,
		func(r *ingest.BadRow) {
			mu.Lock()
			defer mu.Unlock()
			if len(bad) < 5 {
				bad = append(bad, r.Error())
			}
		})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if len(bad) > 0 {
		t.Fatalf("ingest reported bad rows: %v", bad)
	}
	return eng
}

// resultIndex finds results by indicator and region.
type resultIndex map[[2]string]engine.Result

func indexResults(rs []engine.Result) resultIndex {
	idx := resultIndex{}
	for _, r := range rs {
		if r.Dept == "" {
			idx[[2]string{r.Indicator, r.Region}] = r
		}
	}
	return idx
}

func (x resultIndex) get(t testing.TB, ind, reg string) engine.Result {
	t.Helper()
	r, ok := x[[2]string{ind, reg}]
	if !ok {
		t.Fatalf("no result for %s in %s", ind, reg)
	}
	return r
}

func (x resultIndex) rate(t testing.TB, ind, reg string) float64 {
	t.Helper()
	v, ok := x.get(t, ind, reg).Value()
	if !ok {
		t.Fatalf("%s in %s is null", ind, reg)
	}
	return v
}
