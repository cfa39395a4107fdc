package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/collectors/push"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/internal/testkit/testengine"
	"github.com/yiping-ioc/yiping/journal"
	"github.com/yiping-ioc/yiping/mapping"
	"github.com/yiping-ioc/yiping/record"
)

const (
	token      = "push-token-0123456789"
	otherToken = "bureau-token-0123456789"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// asOf is the engines' clock, a business-zone wall time.
const asOf = "2026-03-31 18:00:00"

type fixture struct {
	app    *fiber.App
	eng    *engine.Engine
	runner *collectors.Runner
	dir    string
}

// newFixture serves a runner with two push sources: "push" (canonical
// names) and "bureau" (a mapping with Chinese columns and values).
func newFixture(t testing.TB, opts push.Options, j collectors.Journal) *fixture {
	t.Helper()
	f := &fixture{eng: testengine.New(t, asOf), dir: t.TempDir()}
	if j == nil {
		jj, err := journal.Open(f.dir, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { jj.Close() })
		if _, err := jj.Replay(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		j = jj
	}
	opts.Token = token
	p, err := push.New(opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := push.New(push.Options{Token: otherToken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := collectors.Config{Location: testkit.Shanghai(t), Sources: []collectors.Source{
		{Name: "push", Type: "push", Connector: p},
		{Name: "bureau", Type: "push", Connector: b, Mapping: mapping.Config{"calls": {
			Columns:     map[string]string{"话单编号": "call_id", "区划": "region_code", "呼入时间": "offered_at", "是否接通": "answered", "等待秒数": "wait_seconds"},
			Values:      map[string]map[string]string{"answered": {"接通": "1", "未接通": "0"}},
			TimeLayouts: []string{"2006/01/02 15:04:05"},
		}}},
	}}
	f.runner, err = collectors.NewRunner(cfg, f.eng, j, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.app = fiber.New(fiber.Config{BodyLimit: 64 << 20, DisableStartupMessage: true})
	if err := push.Routes(f.app, f.runner); err != nil {
		t.Fatal(err)
	}
	return f
}

type reply struct {
	status int
	answer push.Answer
	err    string
}

func (f *fixture) post(t testing.TB, path, ctype, auth, body string) reply {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := f.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &r.answer); err != nil {
			t.Fatalf("answer %s: %v", raw, err)
		}
	} else {
		var e struct{ Error string }
		json.Unmarshal(raw, &e)
		r.err = e.Error
	}
	return r
}

const casesCSV = "case_id,region_code,dept_code,item_code,channel,full_online,submitted_at,accepted_at,promised_days,closed_at,status\n" +
	"C1,620802,D1,I1,online,1,2026-03-02 09:15:00,2026-03-02 10:00:00,3,2026-03-04 16:00:00,closed\n" +
	"C2,620802,D1,I1,window,0,2026-03-03 09:15:00,2026-03-03 10:00:00,1,,accepted\n" +
	"C3,620821,D2,I2,mobile,是,2026-03-10T09:15:00+08:00,,0,,submitted\n"

func TestAuth(t *testing.T) {
	f := newFixture(t, push.Options{}, nil)
	tests := []struct {
		auth string
		want int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong-token-0123456789", http.StatusUnauthorized},
		{"Basic " + token, http.StatusUnauthorized},
		{"Bearer", http.StatusUnauthorized},
		{"Bearer " + token, http.StatusOK},
		{"bearer  " + token + " ", http.StatusOK},
		{"Bearer " + otherToken, http.StatusOK}, // the other push source
	}
	for _, tt := range tests {
		if r := f.post(t, "/api/ingest/cases", "text/csv", tt.auth, casesCSV); r.status != tt.want {
			t.Errorf("Authorization %q: status %d (%s), want %d", tt.auth, r.status, r.err, tt.want)
		}
	}
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t, push.Options{MaxBodyBytes: 1000}, nil)
	auth := "Bearer " + token
	tests := []struct {
		name, path, ctype, body string
		want                    int
		msg                     string
	}{
		{"unknown kind", "/api/ingest/case", "text/csv", casesCSV, 404, "unknown record kind"},
		{"unsupported type", "/api/ingest/cases", "text/plain", casesCSV, 415, "Content-Type"},
		{"no type", "/api/ingest/cases", "", casesCSV, 415, "Content-Type"},
		{"bad format query", "/api/ingest/cases?format=xml", "text/csv", casesCSV, 415, "format"},
		{"too large", "/api/ingest/cases", "text/csv", strings.Repeat("x", 1001), 413, "limit of 1000"},
		{"replace on cases", "/api/ingest/cases?replace=true", "text/csv", casesCSV, 400, "only for items"},
		{"duplicate column", "/api/ingest/calls", "text/csv", "call_id,call_id\n1,2\n", 400, "duplicate column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.post(t, tt.path, tt.ctype, auth, tt.body)
			if r.status != tt.want || !strings.Contains(r.err, tt.msg) {
				t.Fatalf("status %d %q, want %d %q", r.status, r.err, tt.want, tt.msg)
			}
		})
	}
	if n := f.eng.Len(); n != [record.NumKinds]int{} {
		t.Errorf("bad requests stored records: %v", n)
	}
}

// TestRejects posts a burst of bad rows among good ones: the good rows
// land, each bad one is reported with line, field and reason, the list is
// capped and the counts stay exact.
func TestRejects(t *testing.T) {
	body := "call_id,region_code,offered_at,answered,wait_seconds\n" +
		"K1,620802,2026-03-02 09:15:00,1,12\n" + // line 2
		"K2,620802,2026/03/02 09:15,1,12\n" + // 3: bad time
		",620802,2026-03-02 09:15:00,1,12\n" + // 4: no id
		"K4,620802,2026-03-02 09:15:00,maybe,12\n" + // 5: bad boolean
		"K5,620802,2026-03-02 09:15:00,0,\n" + // 6
		"K6,\"620802,2026-03-02 09:15:00,0,\n" + // 7: bad quoting, to the end
		""
	tests := []struct {
		maxErrors int
		listed    int
		truncated bool
	}{{100, 4, false}, {2, 2, true}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.maxErrors), func(t *testing.T) {
			f := newFixture(t, push.Options{MaxErrors: tt.maxErrors}, nil)
			r := f.post(t, "/api/ingest/calls", "text/csv", "Bearer "+token, body)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.err)
			}
			a := r.answer
			if a.Accepted != 2 || a.Rejected != 4 || len(a.Errors) != tt.listed || a.ErrorsTruncated != tt.truncated {
				t.Fatalf("answer = %+v", a)
			}
			want := []push.RowError{{Line: 3, Field: "offered_at"}, {Line: 4, Field: "call_id"}, {Line: 5, Field: "answered"}, {Line: 7, Field: "region_code"}}
			for i, e := range a.Errors {
				if e.Line != want[i].Line || e.Field != want[i].Field || e.Reason == "" {
					t.Errorf("error %d = %+v, want line %d field %q with a reason", i, e, want[i].Line, want[i].Field)
				}
			}
			if n := f.eng.Len()[record.KindCall]; n != 2 {
				t.Errorf("engine holds %d calls, want 2", n)
			}
		})
	}
}

// TestIdempotent posts the same body twice: nothing changes.
func TestIdempotent(t *testing.T) {
	f := newFixture(t, push.Options{}, nil)
	r1 := f.post(t, "/api/ingest/cases", "text/csv", "Bearer "+token, casesCSV)
	before, _ := f.eng.Results(engine.Month, true)
	r2 := f.post(t, "/api/ingest/cases", "text/csv", "Bearer "+token, casesCSV)
	after, _ := f.eng.Results(engine.Month, true)
	if r1.status != 200 || r2.status != 200 || r1.answer.Accepted != 3 || r2.answer.Accepted != 3 {
		t.Fatalf("answers %+v %+v", r1, r2)
	}
	if !reflect.DeepEqual(before, after) || f.eng.Len()[record.KindCase] != 3 {
		t.Fatal("a second POST of the same body changed the indicators")
	}
}

// TestJournaledBeforeAnswer: once a request is answered, its rows are in
// the journal: a replay into a fresh engine gives the same indicators.
func TestJournaledBeforeAnswer(t *testing.T) {
	f := newFixture(t, push.Options{}, nil)
	if r := f.post(t, "/api/ingest/cases", "text/csv", "Bearer "+token, casesCSV); r.status != 200 {
		t.Fatal(r)
	}
	jsonl := `{"call_id":"K1","region_code":620802,"offered_at":"2026-03-02T09:15:00+08:00","answered":true,"wait_seconds":20}` + "\n" +
		`{"call_id":"K2","region_code":"620802","offered_at":"2026-03-02 09:16:00","answered":false,"wait_seconds":null}` + "\n"
	if r := f.post(t, "/api/ingest/calls", "application/x-ndjson", "Bearer "+token, jsonl); r.status != 200 || r.answer.Accepted != 2 {
		t.Fatalf("jsonl: %+v", r)
	}
	if r := f.post(t, "/api/ingest/calls?format=jsonl", "application/octet-stream", "Bearer "+token, jsonl); r.status != 200 || r.answer.Accepted != 2 {
		t.Fatalf("format=jsonl: %+v", r)
	}
	j, err := journal.Open(f.dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	fresh := testengine.New(t, asOf)
	if _, err := j.ReplayInto(context.Background(), fresh, record.NewParser(testkit.Shanghai(t))); err != nil {
		t.Fatal(err)
	}
	want, _ := f.eng.Results(engine.Month, true)
	got, _ := fresh.Results(engine.Month, true)
	if !reflect.DeepEqual(got, want) {
		t.Fatal("replayed journal gives other indicators than the live engine")
	}
}

// TestMappedSource: the token picks the source, and so its mapping.
func TestMappedSource(t *testing.T) {
	f := newFixture(t, push.Options{}, nil)
	body := "话单编号,区划,呼入时间,是否接通,等待秒数\nB1,620802,2026/03/02 09:15:00,接通,9\nB2,620802,2026/03/02 09:16:00,未接通,\nB3,620802,2026/03/02 09:17:00,占线,\n"
	r := f.post(t, "/api/ingest/calls", "text/csv; charset=utf-8", "Bearer "+otherToken, body)
	if r.status != 200 || r.answer.Accepted != 2 || r.answer.Rejected != 1 || r.answer.Errors[0].Field != "answered" {
		t.Fatalf("answer = %+v", r)
	}
	// With the canonical source's token the Chinese columns mean nothing.
	r = f.post(t, "/api/ingest/calls", "text/csv", "Bearer "+token, body)
	if r.answer.Accepted != 0 || r.answer.Rejected != 3 || len(r.answer.MissingColumns) != 5 {
		t.Fatalf("answer = %+v", r)
	}
	h := f.runner.Health()
	if h[1].Source != "bureau" || h[1].Records != 2 || h[1].Rejects != 1 {
		t.Errorf("bureau health = %+v", h[1])
	}
}

// failingJournal refuses every append.
type failingJournal struct{}

func (failingJournal) Write(journal.Batch) (int64, error) { return 0, errors.New("disk full") }
func (failingJournal) Sync(context.Context, int64) error  { return nil }
func (failingJournal) Cursor(string) (string, error)      { return "", nil }
func (failingJournal) SetCursor(string, string) error     { return nil }

func TestJournalFailure(t *testing.T) {
	f := newFixture(t, push.Options{}, failingJournal{})
	r := f.post(t, "/api/ingest/cases", "text/csv", "Bearer "+token, casesCSV)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.err, "disk full") {
		t.Fatalf("status %d %q, want 503 naming the cause", r.status, r.err)
	}
	if n := f.eng.Len()[record.KindCase]; n != 0 {
		t.Errorf("%d cases filed although the journal refused them", n)
	}
}

// TestLoopback posts over a real TCP connection.
func TestLoopback(t *testing.T) {
	f := newFixture(t, push.Options{}, nil)
	url := serve(t, f.app)
	req, _ := http.NewRequest(http.MethodPost, url+"/api/ingest/cases", strings.NewReader(casesCSV))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a push.Answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 || a.Accepted != 3 {
		t.Fatalf("status %d, answer %+v, %v", resp.StatusCode, a, err)
	}
}

// serve runs app on a loopback listener until the test ends.
func serve(t testing.TB, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.Shutdown() })
	return "http://" + ln.Addr().String()
}

func TestNoPushSource(t *testing.T) {
	r, err := collectors.NewRunner(collectors.Config{Location: testkit.Shanghai(t)}, testengine.New(t, asOf), nil, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := push.Handler(r); err == nil {
		t.Fatal("Handler without a push source succeeded")
	}
}

func TestEnvSource(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if _, ok, err := push.EnvSource(getenv); ok || err != nil {
		t.Fatalf("without the variable: ok %v, %v", ok, err)
	}
	env["YIPING_INGEST_TOKEN"] = "short"
	if _, _, err := push.EnvSource(getenv); err == nil {
		t.Fatal("a short token was accepted")
	}
	env["YIPING_INGEST_TOKEN"] = token
	src, ok, err := push.EnvSource(getenv)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	r, err := collectors.NewRunner(collectors.Config{Location: testkit.Shanghai(t), Sources: []collectors.Source{src}}, testengine.New(t, asOf), nil, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	if err := push.Routes(app, r); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/api/ingest/cases", strings.NewReader(casesCSV))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := app.Test(req, -1); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp.StatusCode, err)
	}
}

func TestAuthorizer(t *testing.T) {
	f := newFixture(t, push.Options{}, nil)
	ok := push.Authorizer(f.runner)
	for h, want := range map[string]bool{
		"Bearer " + token:      true,
		"bearer " + otherToken: true,
		"Bearer wrong":         false,
		"":                     false,
		token:                  false,
	} {
		if got := ok(h); got != want {
			t.Errorf("Authorizer(%q) = %v, want %v", h, got, want)
		}
	}
}
