package dispatchapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/dispatch"
	"github.com/yiping-ioc/yiping/region"
)

var cst = time.FixedZone("CST", 8*3600)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func user(name string, role access.Role, reg string) *access.Principal {
	return &access.Principal{Kind: access.KindUser, Name: name, Role: role, Region: region.Code(reg)}
}

var (
	wang = user("wang", access.RoleOperator, "620800") // issues
	li   = user("li", access.RoleOperator, "620802")   // the unit
	chen = user("chen", access.RoleLeader, "620802")   // reads
	qian = user("qian", access.RoleOperator, "620803") // elsewhere
)

// server is the API behind a mux that plays the guard: the principal of
// the X-Test-User header goes into the context.
type server struct {
	*httptest.Server
	clock *clock
	acc   *access.SQLStore
}

func newServer(t *testing.T) *server {
	t.Helper()
	acc, err := access.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), access.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { acc.Close() })
	st, err := dispatch.NewStore(t.Context(), acc)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 9, 29, 10, 0, 0, 0, cst)}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	desk, err := dispatch.New(dispatch.Config{Store: st, Calendar: calendar.Default(cst), Now: c.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	api, err := New(Config{Desk: desk, Location: cst, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]*access.Principal{}
	for _, p := range []*access.Principal{wang, li, chen, qian} {
		users[p.Name] = p
	}
	mux := http.NewServeMux()
	for _, rt := range api.Routes() {
		pattern := rt.Method + " " + rt.Path
		for _, seg := range []string{"id", "action"} {
			pattern = strings.Replace(pattern, ":"+seg, "{"+seg+"}", 1)
		}
		h := rt.Handler
		body := rt.Body
		mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p := users[r.Header.Get("X-Test-User")]; p != nil {
				r = r.WithContext(access.WithPrincipal(r.Context(), p))
			}
			if body > 0 {
				r.Body = http.MaxBytesReader(w, r.Body, body)
			}
			h.ServeHTTP(w, r)
		}))
	}
	s := &server{Server: httptest.NewServer(mux), clock: c, acc: acc}
	t.Cleanup(s.Close)
	return s
}

// call makes a request as who and decodes a JSON answer into out (nil:
// none); it returns the status and the raw body.
func (s *server) call(t *testing.T, who, method, path, body string, out any) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Test-User", who)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, raw)
		}
	}
	return resp.StatusCode, string(raw)
}

const issueBody = `{"unit":{"region":"620802"},"title":"差评整改率低于目标","reason":"本月差评按期整改率 82%，请整改。",
	"days":3,"source":{"kind":"indicator","ref":"rectify_on_time"},
	"evidence":{"indicator":"rectify_on_time","value":0.82,"target":1,"numerator":41,"denominator":50,"period":"month","as_of":"2026-09-28T17:00:00+08:00"}}`

func TestWalk(t *testing.T) {
	s := newServer(t)
	var ans OrderAnswer
	if st, raw := s.call(t, "wang", "POST", ListPath, issueBody, &ans); st != http.StatusCreated {
		t.Fatalf("issue: %d %s", st, raw)
	}
	o := ans.Order
	if o.State != dispatch.StateIssued || !o.Deadline.Equal(time.Date(2026, 10, 10, 0, 0, 0, 0, cst)) || o.Timing != dispatch.TimingOnTrack ||
		!slices.Equal(o.Can, []dispatch.Action{dispatch.ActWithdraw}) || len(ans.History) != 1 || *o.Evidence.Value != 0.82 {
		t.Fatalf("issued %+v %+v", o, ans.History)
	}
	path := "/api/dispatch/orders/" + o.ID
	if st, raw := s.call(t, "li", "GET", path, "", &ans); st != 200 || !slices.Equal(ans.Order.Can, []dispatch.Action{dispatch.ActSign, dispatch.ActExtend}) {
		t.Fatalf("unit reads: %d %s", st, raw)
	}
	if st, _ := s.call(t, "chen", "GET", path, "", &ans); st != 200 || len(ans.Order.Can) != 0 {
		t.Fatalf("leader reads: %d %+v", st, ans.Order.Can)
	}
	act := func(who, action, body string, want int) OrderAnswer {
		t.Helper()
		var a OrderAnswer
		if st, raw := s.call(t, who, "POST", path+"/"+action, body, &a); st != want {
			t.Fatalf("%s by %s: %d %s, want %d", action, who, st, raw, want)
		}
		return a
	}
	a := act("li", "sign", `{"version":1}`, 200)
	a = act("li", "reply", `{"version":2,"comment":"已整改"}`, 200)
	s.clock.Set(time.Date(2026, 10, 8, 9, 0, 0, 0, cst))
	a = act("wang", "return", `{"version":3,"comment":"缺台账","days":1}`, 200)
	if a.Order.State != dispatch.StateReturned || !a.Order.Deadline.Equal(time.Date(2026, 10, 10, 0, 0, 0, 0, cst)) {
		t.Fatalf("returned %+v", a.Order)
	}
	a = act("li", "sign", `{"version":4}`, 200)
	a = act("li", "reply", `{"version":5,"comment":"已补台账"}`, 200)
	a = act("wang", "verify", `{"version":6,"comment":"通过"}`, 200)
	if a.Order.State != dispatch.StateVerified || a.Order.Timing != dispatch.TimingClosed || len(a.History) != 7 {
		t.Fatalf("verified %+v, %d entries", a.Order, len(a.History))
	}
	if h := a.History[3]; h.Action != "return" || h.Actor != "wang" || h.Addr != "127.0.0.1" || h.Comment != "缺台账" {
		t.Fatalf("history %+v", h)
	}
	es, err := s.acc.Audit(t.Context(), access.AuditFilter{Target: "order:" + o.ID})
	if err != nil || len(es) != 7 || es[0].Action != "dispatch_verify" || es[0].Addr != "127.0.0.1" {
		t.Fatalf("audit %+v %v", es, err)
	}
	var list ListAnswer
	if st, raw := s.call(t, "wang", "GET", ListPath+"?state=verified", "", &list); st != 200 || list.Total != 1 || list.Region != "620800" {
		t.Fatalf("list: %d %s", st, raw)
	}
}

func TestErrors(t *testing.T) {
	s := newServer(t)
	var ans OrderAnswer
	s.call(t, "wang", "POST", ListPath, issueBody, &ans)
	path := "/api/dispatch/orders/" + ans.Order.ID
	cases := []struct {
		name, who, method, path, body string
		status                        int
		has                           string
	}{
		{"not signed in", "", "GET", ListPath, "", 401, "sign in"},
		{"outside the scope", "qian", "GET", path, "", 404, "no such order"},
		{"no such order", "wang", "GET", "/api/dispatch/orders/DB20260101-AAAAAA", "", 404, "no such order"},
		{"a leader acts", "chen", "POST", path + "/sign", `{"version":1}`, 403, "may only read"},
		{"the issuer signs", "wang", "POST", path + "/sign", `{"version":1}`, 403, "only the users of unit"},
		{"wrong state", "wang", "POST", path + "/verify", `{"version":1}`, 409, `"state":"issued"`},
		{"stale version", "li", "POST", path + "/sign", `{"version":9}`, 409, "changed meanwhile"},
		{"no version", "li", "POST", path + "/sign", `{}`, 400, "field version"},
		{"unknown field", "li", "POST", path + "/sign", `{"version":1,"x":1}`, 400, "field x"},
		{"wrong type", "li", "POST", path + "/sign", `{"version":"1"}`, 400, "field version"},
		{"trailing data", "li", "POST", path + "/sign", `{"version":1} {}`, 400, "after the JSON"},
		{"not JSON", "li", "POST", path + "/sign", `version=1`, 400, "not a valid JSON"},
		{"too large", "li", "POST", path + "/reply", `{"version":1,"comment":"` + strings.Repeat("x", MaxBody) + `"}`, 413, "larger than"},
		{"no such action", "li", "POST", path + "/close", `{"version":1}`, 404, "no such action"},
		{"reply without text", "li", "POST", path + "/reply", `{"version":1}`, 400, "field comment"},
		{"days missing", "wang", "POST", ListPath, strings.Replace(issueBody, `"days":3,`, "", 1), 400, "field days"},
		{"bad unit", "wang", "POST", ListPath, strings.Replace(issueBody, `"620802"`, `"62"`, 1), 400, "field unit.region"},
		{"unit outside", "li", "POST", ListPath, strings.Replace(issueBody, `"620802"`, `"620800"`, 1), 403, "outside"},
		{"list outside", "li", "GET", ListPath + "?region=620000", "", 403, "outside"},
		{"list bad state", "li", "GET", ListPath + "?state=open", "", 400, "field state"},
		{"list bad overdue", "li", "GET", ListPath + "?overdue=yes", "", 400, "field overdue"},
		{"list bad limit", "li", "GET", ListPath + "?limit=501", "", 400, "field limit"},
		{"list bad since", "li", "GET", ListPath + "?since=yesterday", "", 400, "field since"},
		{"list bad after", "li", "GET", ListPath + "?after=zzz", "", 400, "field after"},
		{"export outside", "li", "GET", ExportPath + "?region=620000", "", 403, "outside"},
	}
	for _, c := range cases {
		st, raw := s.call(t, c.who, c.method, c.path, c.body, nil)
		if st != c.status || !strings.Contains(raw, c.has) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, st, raw, c.status, c.has)
		}
	}
	// A wrong content type.
	req, _ := http.NewRequest("POST", s.URL+path+"/sign", strings.NewReader(`{"version":1}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("X-Test-User", "li")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d", resp.StatusCode)
	}
}

func TestExport(t *testing.T) {
	s := newServer(t)
	body := strings.Replace(issueBody, `"title":"差评整改率低于目标"`, `"title":"=1+1 差评"`, 1)
	s.call(t, "wang", "POST", ListPath, body, nil)
	req, _ := http.NewRequestWithContext(context.Background(), "GET", s.URL+ExportPath+"?state=issued", nil)
	req.Header.Set("X-Test-User", "li")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename=dispatch-orders-620802-2026-09-29.csv`) ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "filename*=UTF-8''%E7%9D%A3") {
		t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\r\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "\ufeff编号") || !strings.Contains(lines[1], ",'=1+1 差评,") {
		t.Fatalf("csv %q", raw)
	}
}
