package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/wall"
)

// testClock is a movable clock for ReportClock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// newDispatchFixture is an App with an operator of the city 620800, an
// operator of its county 620802 (the unit), an analyst and an
// administrator, on a movable report clock.
func newDispatchFixture(t *testing.T, clock *testClock) *fixture {
	t.Helper()
	f := &fixture{dataDir: t.TempDir(), tokens: map[string]string{}, ids: map[string]string{}}
	ctx := context.Background()
	st, err := access.OpenStore(ctx, access.StoreConfig{DataDir: f.dataDir})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := access.New(access.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []access.NewUser{
		{Name: "admin", Role: access.RoleAdmin, Region: "620000"},
		{Name: "city-op", Role: access.RoleOperator, Region: "620800"},
		{Name: "county-op", Role: access.RoleOperator, Region: "620802"},
		{Name: "county", Role: access.RoleAnalyst, Region: "620802"},
	} {
		u.Password = testPassword
		if _, err := svc.AddUser(ctx, access.Actor{Name: "test"}, u); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	runCtx, cancel := context.WithCancel(context.Background())
	f.a, err = New(runCtx, Options{Addr: "127.0.0.1:0", DataDir: f.dataDir, HistoryEvery: time.Hour,
		ReportClock: clock.now, DispatchEvery: 100 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Getenv: func(k string) string {
			if k == "YIPING_INGEST_TOKEN" {
				return ingestToken
			}
			return ""
		}})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var l net.Listener
	l, f.srv.URL = listenLoopback(t)
	runApp(t, runCtx, cancel, f.a, l)
	return f
}

// orderAnswer is what the tests read of the dispatch API's answers.
type orderAnswer struct {
	Order struct {
		ID       string                     `json:"id"`
		Title    string                     `json:"title"`
		Source   struct{ Kind, Ref string } `json:"source"`
		Evidence struct{ Note string }      `json:"evidence"`
		Version  int64                      `json:"version"`
		State    string                     `json:"state"`
		Timing   string                     `json:"timing"`
		Deadline time.Time                  `json:"deadline"`
		Can      []string                   `json:"can"`
		UnitName string                     `json:"unit_name"`
	} `json:"order"`
	History []struct{ Actor, Addr, Action, Comment string } `json:"history"`
}

func (f *fixture) orderCall(t *testing.T, c caller, method, path string, body any, want int) orderAnswer {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	code, ans := f.do(t, c, method, path, "application/json", b)
	if code != want {
		t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, c.name, code, want, ans)
	}
	var out orderAnswer
	json.Unmarshal([]byte(ans), &out)
	return out
}

// TestDispatchOrderLifecycle walks an order through every state and the
// return path over the API, as the route table serves it: a city
// operator issues to a county across National Day (the deadline skips the
// holiday), the county's operator signs and replies, the city returns it,
// the county signs and replies again, the city verifies it; the analyst
// may read but not act; every transition is in the audit log with who and
// from where. A second order left alone turns overdue when the clock
// passes its deadline: the orders_overdue special report fires (in
// /api/reports and on the report topic) and the screens' board shows it
// overdue, and the wall's first paint draws it red.
func TestDispatchOrderLifecycle(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	issued := time.Date(2026, 9, 29, 10, 0, 0, 0, cst) // a Tuesday before National Day
	clock := &testClock{t: issued}
	f := newDispatchFixture(t, clock)
	city, county, analyst, admin := f.signIn(t, "city-op"), f.signIn(t, "county-op"), f.signIn(t, "county"), f.signIn(t, "admin")

	issue := map[string]any{"unit": map[string]string{"region": "620802"}, "title": "按时办结率低于底线", "reason": "请整改",
		"days": 3, "source": map[string]string{"kind": "ranking", "ref": "on_time_rate:620802"},
		"evidence": map[string]any{"indicator": "on_time_rate", "value": 0.62, "target": 0.95, "period": "month"}}
	f.orderCall(t, analyst, "POST", "/api/dispatch/orders", issue, http.StatusForbidden)
	o := f.orderCall(t, city, "POST", "/api/dispatch/orders", issue, http.StatusCreated)
	want := time.Unix(0, calendar.Default(f.a.loc).Deadline(issued.UnixNano(), 3))
	if !o.Order.Deadline.Equal(want) || !o.Order.Deadline.After(time.Date(2026, 10, 8, 0, 0, 0, 0, cst)) {
		t.Errorf("deadline %s, want %s, after the National Day holiday", o.Order.Deadline, want)
	}
	if o.Order.State != "issued" || o.Order.UnitName == "" || strings.Contains(strings.Join(o.Order.Can, ","), "sign") {
		t.Errorf("issued: %+v", o.Order)
	}
	id := o.Order.ID
	act := func(c caller, action string, days int, wantState string) {
		t.Helper()
		cur := f.orderCall(t, c, "GET", "/api/dispatch/orders/"+id, nil, http.StatusOK)
		if !strings.Contains(","+strings.Join(cur.Order.Can, ",")+",", ","+action+",") {
			t.Fatalf("%s may not %s order in state %s: can %v", c.name, action, cur.Order.State, cur.Order.Can)
		}
		got := f.orderCall(t, c, "POST", "/api/dispatch/orders/"+id+"/"+action,
			map[string]any{"version": cur.Order.Version, "comment": action + " by " + c.name, "days": days}, http.StatusOK)
		if got.Order.State != wantState {
			t.Fatalf("%s: state %s, want %s", action, got.Order.State, wantState)
		}
	}
	f.orderCall(t, analyst, "POST", "/api/dispatch/orders/"+id+"/sign", map[string]any{"version": 1}, http.StatusForbidden)
	act(county, "sign", 0, "signed")
	act(county, "reply", 0, "replied")
	act(city, "return", 2, "returned")
	act(county, "sign", 0, "signed")
	act(county, "reply", 0, "replied")
	act(city, "verify", 0, "verified")
	// A stale version is refused.
	f.orderCall(t, city, "POST", "/api/dispatch/orders/"+id+"/withdraw", map[string]any{"version": 1}, http.StatusConflict)

	h := f.orderCall(t, analyst, "GET", "/api/dispatch/orders/"+id, nil, http.StatusOK)
	if len(h.History) < 7 {
		t.Errorf("history %+v", h.History)
	}
	code, body := f.do(t, admin, "GET", "/api/audit?target=order:"+id+"&limit=100", "", nil)
	if code != 200 {
		t.Fatalf("audit: %d %s", code, body)
	}
	var audit struct{ Entries []access.AuditEntry }
	json.Unmarshal([]byte(body), &audit)
	seen := map[string]int{}
	for _, e := range audit.Entries {
		seen[e.Action+" "+e.Actor]++
		if e.Addr != "127.0.0.1" {
			t.Errorf("audit entry %+v: address %q", e, e.Addr)
		}
	}
	for k, n := range map[string]int{"dispatch_issue city-op": 1, "dispatch_sign county-op": 2, "dispatch_reply county-op": 2,
		"dispatch_return city-op": 1, "dispatch_verify city-op": 1} {
		if seen[k] != n {
			t.Errorf("audit: %d × %s, want %d (all: %v; body %.300s)", seen[k], k, n, seen, body)
		}
	}

	// An order nobody answers runs out of time.
	late := f.orderCall(t, city, "POST", "/api/dispatch/orders", issue, http.StatusCreated)
	clock.set(late.Order.Deadline.Add(time.Hour))
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, reports := f.do(t, admin, "GET", "/api/reports?region=620000", "", nil)
		rt, okTopic := f.a.hub.Latest(live.ReportTopic("620802"))
		ob, okBoard := f.a.hub.Latest(live.OrdersTopic("620800"))
		if strings.Contains(reports, "orders-overdue") && okTopic && strings.Contains(string(rt.Data), "orders-overdue") &&
			okBoard && strings.Contains(string(ob.Data), `"overdue":1`) && strings.Contains(string(ob.Data), late.Order.ID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no overdue report or board: reports %.400s; topic %v %.300s; board %v %.300s", reports, okTopic, rt.Data, okBoard, ob.Data)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b := f.a.orderBoard("620800")
	if b.Open != 1 || b.Overdue != 1 || len(b.Orders) != 1 || b.Orders[0].Timing != "overdue" || b.Orders[0].ID != late.Order.ID {
		t.Errorf("first paint board %+v", b)
	}
	// The wall's first paint: the service screen's orders widget draws it red.
	resp, err := admin.client.Get(f.srv.URL + strings.Replace(wall.ScreenPath, ":id", "service", 1))
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	code, page := resp.StatusCode, string(pb)
	if code != 200 || !strings.Contains(page, `<li class="od t-overdue" data-id="`+late.Order.ID+`"`) {
		t.Errorf("screen: %d, no overdue order %s in %.300s", code, late.Order.ID, page)
	}
	issueFromReport(t, f, city, analyst)

	code, csv := f.do(t, admin, "GET", "/api/export/dispatch-orders?region=620800", "", nil)
	if code != 200 || !strings.Contains(csv, late.Order.ID) {
		t.Errorf("export: %d %.200s", code, csv)
	}
	fmt.Fprint(io.Discard, csv)
}

// getPage reads a whole page as c.
func getPage(t *testing.T, f *fixture, c caller, path string) (int, string) {
	t.Helper()
	resp, err := c.client.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var ordersDataRE = regexp.MustCompile(`<script type="application/json" id="orders-data">(.*?)</script>`)

// issueFromReport issues an order from the fired orders-overdue report of
// the county: the phone page links the city's operator (not the analyst)
// to the console's issue form, which the server fills from the report;
// the form's draft, posted as orders.js posts it, is stored with the
// report as its source and shown so in the order's detail. The analyst
// gets 403 for the form, an unknown report 404.
func issueFromReport(t *testing.T, f *fixture, city, analyst caller) {
	t.Helper()
	var id string
	for _, r := range f.a.reports.Open("620802") {
		if r.Rule == "orders-overdue" && r.Region == "620802" {
			id = r.ID
		}
	}
	if id == "" {
		t.Fatalf("no open orders-overdue report of 620802: %+v", f.a.reports.Open("620802"))
	}
	form := "/console/orders?issue=1&report=" + id + "&region=620802"
	if code, page := getPage(t, f, city, "/m?region=620802"); code != 200 || !strings.Contains(page, `<a class="issue" href="`+strings.ReplaceAll(form, "&", "&amp;")+`">督办</a>`) ||
		!strings.Contains(page, `"can_issue":true`) {
		t.Errorf("the city operator's phone page: %d, no 督办 link to %s in %s", code, form, page)
	}
	if code, page := getPage(t, f, analyst, "/m"); code != 200 || strings.Contains(page, `class="issue"`) || !strings.Contains(page, `"can_issue":false`) ||
		!strings.Contains(page, `data-id="`+id+`"`) {
		t.Errorf("the analyst's phone page: %d, a 督办 link or no report %s: %s", code, id, page)
	}
	if code, page := getPage(t, f, analyst, form); code != http.StatusForbidden {
		t.Errorf("the analyst's issue form: %d %.300s", code, page)
	}
	if code, page := getPage(t, f, city, "/console/orders?issue=1&report=0000000000000000"); code != http.StatusNotFound {
		t.Errorf("an unknown report: %d %.300s", code, page)
	}
	code, page := getPage(t, f, city, form)
	m := ordersDataRE.FindStringSubmatch(page)
	if code != 200 || m == nil {
		t.Fatalf("the issue form: %d %.500s", code, page)
	}
	var st struct {
		Draft struct {
			Unit     map[string]string `json:"unit"`
			Title    string            `json:"title"`
			Reason   string            `json:"reason"`
			Days     int               `json:"days"`
			Source   map[string]string `json:"source"`
			Evidence json.RawMessage   `json:"evidence"`
		} `json:"draft"`
	}
	if err := json.Unmarshal([]byte(m[1]), &st); err != nil {
		t.Fatal(err)
	}
	d := st.Draft
	if d.Unit["region"] != "620802" || d.Source["kind"] != "report" || d.Source["ref"] != id || d.Title == "" || !strings.Contains(string(d.Evidence), id) {
		t.Fatalf("draft %s", m[1])
	}
	o := f.orderCall(t, city, "POST", "/api/dispatch/orders", d, http.StatusCreated)
	got := f.orderCall(t, analyst, "GET", "/api/dispatch/orders/"+o.Order.ID, nil, http.StatusOK)
	if got.Order.Source.Kind != "report" || got.Order.Source.Ref != id || got.Order.Title != d.Title || !strings.Contains(got.Order.Evidence.Note, id) {
		t.Errorf("the order issued from report %s: %+v", id, got.Order)
	}
}
