package reportapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/report"
	"github.com/yiping-ioc/yiping/reportapi/reporttest"
)

// The callers of the tests, as the guard puts them in the context.
var (
	leader      = &access.Principal{Kind: access.KindUser, Name: "李领导", Role: access.RoleLeader, Region: "620000"}
	analyst     = &access.Principal{Kind: access.KindUser, Name: "analyst", Role: access.RoleAnalyst, Region: "620000"}
	pingliang   = &access.Principal{Kind: access.KindUser, Name: "平凉值班", Role: access.RoleOperator, Region: "620800"}
	lanzhou     = &access.Principal{Kind: access.KindUser, Name: "兰州值班", Role: access.RoleOperator, Region: "620100"}
	kongtong    = &access.Principal{Kind: access.KindUser, Name: "崆峒值班", Role: access.RoleOperator, Region: "620802"}
	admin       = &access.Principal{Kind: access.KindUser, Name: "admin", Role: access.RoleAdmin, Region: "620000"}
	screenToken = &access.Principal{Kind: access.KindScreen, Name: "token:abc", Role: access.RoleScreen, Region: "620000", Screen: "overview"}
)

// fixture is the API over a real manager with two reports: answer rate
// (critical) in 崆峒区 620802 of 平凉市, on-time closure (warning) in 城关区
// 620102 of 兰州市.
type fixture struct {
	rig             *reporttest.Rig
	mux             *http.ServeMux
	kongtong, lzhou report.Report
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	rig := reporttest.New(t, nil)
	api, err := New(Config{Reports: rig.Manager, Location: reporttest.Zone()})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{rig: rig, mux: http.NewServeMux()}
	for _, rt := range api.Routes() {
		f.mux.Handle(rt.Method+" "+strings.ReplaceAll(rt.Path, ":id", "{id}"), rt.Handler)
	}
	f.kongtong = rig.Fire(t, "answer_rate", "620802")
	f.lzhou = rig.Fire(t, "on_time_rate", "620102")
	return f
}

// do sends a request as p (nil: nobody) and returns the status and the
// body decoded into out (when not nil).
func (f *fixture) do(t *testing.T, p *access.Principal, method, path, body string, out any) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if p != nil {
		req = req.WithContext(access.WithPrincipal(req.Context(), p))
	}
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); rec.Code != http.StatusNoContent && !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s %s: Cache-Control %q", method, path, cc)
	}
	if out != nil && rec.Code < 300 {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, rec.Body)
		}
	}
	return rec.Code, rec.Body.String()
}

// errorOf returns the error message of an answer, checking its shape:
// {"error": "中文 / English"}.
func errorOf(t *testing.T, body string) string {
	t.Helper()
	var e struct{ Error string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || !strings.Contains(e.Error, " / ") {
		t.Errorf("error answer %s: want {\"error\": \"中文 / English\"}", body)
	}
	return e.Error
}

func ids(rs []report.Report) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Region+":"+r.Rule+":"+r.State)
	}
	return strings.Join(out, " ")
}

func TestList(t *testing.T) {
	f := newFixture(t)
	f.rig.Resolve(t, "on_time_rate", "620102")
	today := reporttest.Start().Format(time.DateOnly)
	tomorrow := reporttest.Start().AddDate(0, 0, 1).Format(time.DateOnly)
	for _, tc := range []struct {
		name  string
		who   *access.Principal
		query string
		code  int
		want  string // the reports, or a part of the error
	}{
		{"province, newest first", leader, "", 200, "620102:on-time:resolved 620802:answer:firing"},
		{"a city's scope by default", pingliang, "", 200, "620802:answer:firing"},
		{"a region in scope", leader, "?region=620100", 200, "620102:on-time:resolved"},
		{"open ones", leader, "?state=firing,acknowledged", 200, "620802:answer:firing"},
		{"states repeated", leader, "?state=resolved&state=firing", 200, "620102:on-time:resolved 620802:answer:firing"},
		{"since today", leader, "?since=" + today, 200, "620102:on-time:resolved 620802:answer:firing"},
		{"since tomorrow", leader, "?since=" + tomorrow, 200, ""},
		{"until an instant", leader, "?until=" + url(reporttest.Start().Add(90*time.Second).Format(time.RFC3339)), 200, "620802:answer:firing"},
		{"limit", leader, "?limit=1", 200, "620102:on-time:resolved"},
		{"outside the scope", pingliang, "?region=620100", 403, "outside your scope"},
		{"bad region", leader, "?region=62", 400, "field region"},
		{"bad state", leader, "?state=open", 400, `field state: unknown state "open"`},
		{"bad since", leader, "?since=yesterday", 400, "field since"},
		{"until before since", leader, "?since=" + tomorrow + "&until=" + today, 400, "field until"},
		{"limit too large", leader, "?limit=1001", 400, "field limit"},
		{"nobody", nil, "", 401, "sign in first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got ListAnswer
			code, body := f.do(t, tc.who, "GET", "/api/reports"+tc.query, "", &got)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %s", code, tc.code, body)
			}
			if code != 200 {
				if e := errorOf(t, body); !strings.Contains(e, tc.want) {
					t.Errorf("error %q, want %q in it", e, tc.want)
				}
				return
			}
			if ids(got.Reports) != tc.want || got.Reports == nil {
				t.Errorf("reports %q, want %q", ids(got.Reports), tc.want)
			}
		})
	}
}

// url escapes the + of a time zone in a query.
func url(s string) string { return strings.ReplaceAll(s, "+", "%2B") }

func TestDetail(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		who  *access.Principal
		id   string
		code int
	}{
		{"in scope", pingliang, f.kongtong.ID, 200},
		{"from above", leader, f.kongtong.ID, 200},
		// Outside the scope is answered as a report that does not exist:
		// the ids of other regions reveal nothing.
		{"outside the scope", lanzhou, f.kongtong.ID, 404},
		{"no such report", leader, "0123456789abcdef", 404},
		{"not an id", leader, "x%27%20OR%201=1", 404},
		{"nobody", nil, f.kongtong.ID, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d report.Detail
			code, body := f.do(t, tc.who, "GET", "/api/reports/"+tc.id, "", &d)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %s", code, tc.code, body)
			}
			if code == 404 && errorOf(t, body) != "没有这条特别呈报 / no such report" {
				t.Errorf("404 says %s", body)
			}
			if code == 200 && (d.Report.ID != tc.id || len(d.Transitions) == 0 || d.Transitions[len(d.Transitions)-1].To != report.StateFiring) {
				t.Errorf("detail %+v", d)
			}
		})
	}
}

func TestAck(t *testing.T) {
	f := newFixture(t)
	ack := func(id string) string { return "/api/reports/" + id + "/ack" }
	for _, tc := range []struct {
		name       string
		who        *access.Principal
		path, body string
		code       int
		want       string // the error, or who acknowledged
	}{
		{"analysts may not", analyst, ack(f.kongtong.ID), `{"comment":"x"}`, 403, "only operators, leaders and administrators"},
		{"screens may not", screenToken, ack(f.kongtong.ID), `{}`, 403, "only operators"},
		{"outside the scope", lanzhou, ack(f.kongtong.ID), `{"comment":"x"}`, 404, "no such report"},
		{"no such report", leader, ack("0123456789abcdef"), ``, 404, "no such report"},
		{"unknown field", pingliang, ack(f.kongtong.ID), `{"coment":"x"}`, 400, "field coment: unknown field"},
		{"wrong type", pingliang, ack(f.kongtong.ID), `{"comment":3}`, 400, "field comment: wrong type"},
		{"not JSON", pingliang, ack(f.kongtong.ID), `comment=x`, 400, "not a valid JSON object"},
		{"data after", pingliang, ack(f.kongtong.ID), `{"comment":"x"} {}`, 400, "data after the JSON object"},
		{"comment too long", pingliang, ack(f.kongtong.ID), `{"comment":"` + strings.Repeat("x", 2001) + `"}`, 400, "field comment: at most 2000 bytes"},
		{"body too large", pingliang, ack(f.kongtong.ID), `{"comment":"` + strings.Repeat("x", MaxBody) + `"}`, 413, "larger than 8192 bytes"},
		{"an operator of the city", pingliang, ack(f.kongtong.ID), `{"comment":"已联系崆峒区"}`, 200, "平凉值班"},
		// Once more: one more acknowledgement, the first one stays.
		{"a leader, after", leader, ack(f.kongtong.ID), ``, 200, "平凉值班"},
		{"resolved", leader, ack(f.lzhou.ID), `{}`, 409, "the report is resolved"},
	} {
		if tc.name == "resolved" {
			f.rig.Resolve(t, "on_time_rate", "620102")
		}
		t.Run(tc.name, func(t *testing.T) {
			var got report.Report
			code, body := f.do(t, tc.who, "POST", tc.path, tc.body, &got)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %s", code, tc.code, body)
			}
			if code != 200 {
				if e := errorOf(t, body); !strings.Contains(e, tc.want) {
					t.Errorf("error %q, want %q in it", e, tc.want)
				}
				return
			}
			if got.State != report.StateAcknowledged || got.AckedBy != tc.want {
				t.Errorf("report %s acknowledged by %q, want acknowledged by %q", got.State, got.AckedBy, tc.want)
			}
		})
	}
	var d report.Detail
	f.do(t, leader, "GET", "/api/reports/"+f.kongtong.ID, "", &d)
	if len(d.Acknowledgements) != 2 || d.Acknowledgements[0].By != "平凉值班" || d.Acknowledgements[0].Comment != "已联系崆峒区" || d.Acknowledgements[1].By != "李领导" {
		t.Errorf("acknowledgements %+v", d.Acknowledgements)
	}
	if code, _ := f.do(t, leader, "POST", ack(f.kongtong.ID), "{}", nil); code != 200 {
		t.Errorf("content type: %d", code)
	}
	req := httptest.NewRequest("POST", ack(f.kongtong.ID), strings.NewReader("{}"))
	req.Header.Set("Content-Type", "text/plain")
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, req.WithContext(access.WithPrincipal(context.Background(), leader)))
	if rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: %d %s", rec.Code, rec.Body)
	}
	// The route table's own bound (server.LimitBody) stops the read: 413
	// too.
	req = httptest.NewRequest("POST", ack(f.kongtong.ID), strings.NewReader(`{"comment":"long enough"}`))
	rec = httptest.NewRecorder()
	req.Body = http.MaxBytesReader(rec, req.Body, 8)
	f.mux.ServeHTTP(rec, req.WithContext(access.WithPrincipal(context.Background(), leader)))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("a body past the route's bound: %d %s", rec.Code, rec.Body)
	}
}

func TestSilences(t *testing.T) {
	f := newFixture(t)
	now := f.rig.Now()
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }

	// Validation, each naming its field.
	for _, tc := range []struct {
		name string
		who  *access.Principal
		body string
		code int
		want string
	}{
		{"analysts may not", analyst, `{"duration":"1h","comment":"x"}`, 403, "only operators and administrators"},
		{"leaders may not", leader, `{"duration":"1h","comment":"x"}`, 403, "only operators and administrators"},
		{"outside the scope", pingliang, `{"region":"620100","duration":"1h","comment":"x"}`, 403, "region 620100 is outside your scope"},
		{"no end", pingliang, `{"comment":"x"}`, 400, "field ends_at: missing"},
		{"both ends", pingliang, `{"ends_at":"` + at(time.Hour) + `","duration":"1h","comment":"x"}`, 400, "field duration: give ends_at or duration, not both"},
		{"bad duration", pingliang, `{"duration":"-1h","comment":"x"}`, 400, "field duration"},
		{"too long", pingliang, `{"duration":"9000h","comment":"x"}`, 400, "field duration"},
		{"bad ends_at", pingliang, `{"ends_at":"tomorrow","comment":"x"}`, 400, "field ends_at: want an RFC 3339 time"},
		{"ends in the past", pingliang, `{"ends_at":"` + at(-time.Hour) + `","comment":"x"}`, 400, "field ends_at: must be after"},
		{"bad starts_at", pingliang, `{"starts_at":"now","duration":"1h","comment":"x"}`, 400, "field starts_at"},
		{"bad severity", pingliang, `{"severity":"high","duration":"1h","comment":"x"}`, 400, `field severity: unknown severity "high"`},
		{"bad region", pingliang, `{"region":"6208","duration":"1h","comment":"x"}`, 400, "field region"},
		{"no comment", pingliang, `{"duration":"1h"}`, 400, "field comment: missing"},
		{"unknown rule", pingliang, `{"rule":"answr","duration":"1h","comment":"x"}`, 400, `invalid silence: unknown rule "answr"`},
		{"unknown field", pingliang, `{"duration":"1h","comment":"x","matchers":[]}`, 400, "field matchers: unknown field"},
		{"empty body", pingliang, ``, 400, "missing JSON body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.do(t, tc.who, "POST", "/api/silences", tc.body, nil)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %s", code, tc.code, body)
			}
			if e := errorOf(t, body); !strings.Contains(e, tc.want) {
				t.Errorf("error %q, want %q in it", e, tc.want)
			}
		})
	}

	// 平凉's operator silences the answer rule in the city for two hours:
	// 崆峒区's report leaves the lists.
	var s report.Silence
	code, body := f.do(t, pingliang, "POST", "/api/silences", `{"rule":"answer","duration":"2h","comment":"线路检修"}`, &s)
	if code != http.StatusCreated || s.CreatedBy != "平凉值班" || s.Region != "620800" || !s.EndsAt.Equal(now.Add(2*time.Hour)) || s.Comment != "线路检修" {
		t.Fatalf("add: %d %s", code, body)
	}
	if rs := f.rig.Manager.Open("620000"); len(rs) != 1 || rs[0].Region != "620102" {
		t.Errorf("open after the silence: %s", ids(rs))
	}
	// An administrator's province-wide silence of warnings, from tomorrow.
	var wide report.Silence
	if code, body := f.do(t, admin, "POST", "/api/silences", `{"severity":"warning","starts_at":"`+at(24*time.Hour)+`","ends_at":"`+at(48*time.Hour)+`","comment":"演练"}`, &wide); code != 201 {
		t.Fatalf("add wide: %d %s", code, body)
	}

	// Who sees which: the silences that bear on their scope.
	for _, tc := range []struct {
		who  *access.Principal
		want string
	}{
		{leader, s.ID + " " + wide.ID},   // both in the province
		{kongtong, s.ID + " " + wide.ID}, // both above the county
		{lanzhou, wide.ID},               // 平凉's is not 兰州's business
		{analyst, s.ID + " " + wide.ID},
	} {
		var got SilencesAnswer
		if code, body := f.do(t, tc.who, "GET", "/api/silences", "", &got); code != 200 {
			t.Fatalf("%s: %d %s", tc.who.Name, code, body)
		}
		var list []string
		for _, x := range got.Silences {
			list = append(list, x.ID)
		}
		if strings.Join(list, " ") != tc.want {
			t.Errorf("%s sees %v, want %s", tc.who.Name, list, tc.want)
		}
	}

	// Expiring.
	expire := func(id string) string { return "/api/silences/" + id + "/expire" }
	for _, tc := range []struct {
		name string
		who  *access.Principal
		id   string
		code int
	}{
		{"analysts may not", analyst, s.ID, 403},
		{"not theirs to see", lanzhou, s.ID, 404},
		{"above their scope", kongtong, s.ID, 403},
		{"no such silence", pingliang, "0123456789abcdef", 404},
		{"the creator's city", pingliang, s.ID, 204},
		{"ended already", pingliang, s.ID, 404},
	} {
		t.Run("expire "+tc.name, func(t *testing.T) {
			code, body := f.do(t, tc.who, "POST", expire(tc.id), "", nil)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %s", code, tc.code, body)
			}
			if code != 204 {
				errorOf(t, body)
			}
		})
	}
	if rs := f.rig.Manager.Open("620000"); len(rs) != 2 {
		t.Errorf("open after the expiry: %s", ids(rs))
	}
}
