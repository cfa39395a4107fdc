package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/hub"
	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/live"
)

// otherProcess is the access service of another process on the same
// store, as the CLI is.
func (f *fixture) otherProcess(t *testing.T) *access.Service {
	t.Helper()
	st, err := access.OpenStore(context.Background(), access.StoreConfig{DataDir: f.dataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := access.New(access.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestSignInSessionAndSignOut(t *testing.T) {
	f := newFixture(t)
	nobody := f.nobody()
	// A wrong password, then the right one.
	code, body := f.do(t, nobody, "POST", "/api/login", "application/json", []byte(`{"name":"county","password":"not-the-password"}`))
	if code != http.StatusUnauthorized || !strings.Contains(body, "用户名或密码错误") {
		t.Errorf("wrong password: %d %s", code, body)
	}
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/login", strings.NewReader(`{"name":"county","password":"`+testPassword+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{access.SessionCookiePlain + "=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	c := f.signIn(t, "county")
	code, body = f.do(t, c, "GET", "/api/session", "", nil)
	if code != 200 || !strings.Contains(body, `"name":"county"`) || !strings.Contains(body, `"region":"620802"`) || !strings.Contains(body, "崆峒区") {
		t.Errorf("session: %d %s", code, body)
	}
	// Signing out needs the CSRF token.
	noCSRF := c
	noCSRF.csrf = ""
	if code, body := f.do(t, noCSRF, "POST", "/api/logout", "", nil); code != http.StatusForbidden || !strings.Contains(body, "CSRF") {
		t.Errorf("logout without CSRF: %d %s", code, body)
	}
	if code, _ := f.do(t, c, "POST", "/api/logout", "", nil); code != http.StatusNoContent {
		t.Errorf("logout: %d", code)
	}
	if code, _ := f.do(t, c, "GET", "/api/session", "", nil); code != http.StatusUnauthorized {
		t.Errorf("session after logout: %d, want 401", code)
	}
	// Another site cannot post on the user's behalf.
	c = f.signIn(t, "county")
	req, _ = http.NewRequest("POST", f.srv.URL+"/api/logout", nil)
	req.Header.Set(access.CSRFHeader, c.csrf)
	req.Header.Set("Origin", "https://evil.example")
	resp, err = c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin post: %d, want 403", resp.StatusCode)
	}
}

func TestSignInIsRateLimited(t *testing.T) {
	f := newFixture(t)
	var code int
	var retry string
	for i := range 8 {
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/login", strings.NewReader(`{"name":"leader","password":"wrong-password-`+string(rune('a'+i))+`"}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		code, retry = resp.StatusCode, resp.Header.Get("Retry-After")
	}
	if code != http.StatusTooManyRequests || retry == "" {
		t.Errorf("after 8 failures: %d, Retry-After %q; want 429 with a wait", code, retry)
	}
	// Even the right password waits now.
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/login", strings.NewReader(`{"name":"leader","password":"`+testPassword+`"}`))
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right password while locked: %d, want 429", resp.StatusCode)
	}
}

func TestPagesSendBrowsersToSignIn(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest("GET", f.srv.URL+"/console?indicator=answer_rate", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	resp, err := f.nobody().client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/login?next=%2Fconsole%3Findicator%3Danswer_rate" {
		t.Errorf("console without a session: %d → %q", resp.StatusCode, loc)
	}
	code, body := f.do(t, f.nobody(), "GET", "/login?next=/console", "", nil)
	if code != 200 || !strings.Contains(body, `data-next="/console"`) || !strings.Contains(body, "登录") {
		t.Errorf("login page: %d %.300s", code, body)
	}
	if code, body := f.do(t, f.nobody(), "GET", "/login?next=https://evil.example/", "", nil); code != 200 || !strings.Contains(body, `data-next="/"`) {
		t.Errorf("login page with an outside next: %.300s", body)
	}
}

func TestScopeFillsAndRefusesRegions(t *testing.T) {
	f := newFixture(t)
	county := f.signIn(t, "county")
	// No region: the county's own, not the province's.
	code, body := f.do(t, county, "GET", "/api/ranking?indicator=answer_rate&period=month", "", nil)
	if code != 200 || !strings.Contains(body, `"region":{"code":"620802"`) && !strings.Contains(body, `"620802"`) {
		t.Errorf("ranking without a region: %d %.300s", code, body)
	}
	if code, body := f.do(t, county, "GET", "/api/ranking?indicator=answer_rate&period=month&region=620800", "", nil); code != http.StatusForbidden || !strings.Contains(body, "620800") {
		t.Errorf("the city's ranking: %d %s", code, body)
	}
	if code, _ := f.do(t, county, "GET", "/api/units/620803", "", nil); code != http.StatusForbidden {
		t.Errorf("a neighbouring county: %d, want 403", code)
	}
	if code, _ := f.do(t, county, "GET", "/console?compare=620802,620803", "", nil); code != http.StatusForbidden {
		t.Errorf("compare with a neighbouring county: %d, want 403", code)
	}
	// The console page opens at the county.
	code, body = f.do(t, county, "GET", "/console", "", nil)
	if code != 200 || !strings.Contains(body, `value="620802"`) {
		t.Errorf("console page: %d, region field not the county", code)
	}
	// Exports are audited.
	if code, _ := f.do(t, county, "GET", "/api/export/ranking.csv?indicator=answer_rate&period=month", "", nil); code != 200 {
		t.Fatalf("export: %d", code)
	}
	es, err := f.a.access.ListAudit(context.Background(), access.AuditFilter{Action: access.ActionExport})
	if err != nil || len(es) != 1 || es[0].Actor != "county" || es[0].Target != "/api/export/ranking.csv" {
		t.Errorf("export audit = %+v, %v", es, err)
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	admin := f.signIn(t, "admin")
	for _, path := range []string{"/console", "/screens/overview", "/api/targets", "/login", "/healthz"} {
		req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
		resp, err := admin.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors") ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") == "" {
			t.Errorf("%s: security headers %v", path, h)
		}
		if strings.HasPrefix(path, "/api/") && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", path, h.Get("Cache-Control"))
		}
	}
}

// Finding 2 of issue 10: bodies were read whole before any check; a
// 300 MB POST to an unknown path or without a token was read for seconds.
func TestBodiesAreRefusedBeforeTheyAreRead(t *testing.T) {
	f := newFixture(t)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, c := range []struct {
		path, auth string
		want       int
	}{
		{"/no/such/path", "", http.StatusNotFound},
		{"/api/ingest/calls", "Bearer not-the-token", http.StatusUnauthorized},
		{"/api/ingest/calls", "Bearer " + ingestToken, http.StatusRequestEntityTooLarge},
		{"/api/ranking", "", http.StatusMethodNotAllowed},
	} {
		req, _ := http.NewRequest("POST", f.srv.URL+c.path, &endless{n: 300 << 20})
		req.ContentLength = 300 << 20
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			// The server answered and closed before the client finished
			// sending: what a refused upload looks like to a client.
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("POST %s (%s): %d, want %d", c.path, c.auth, resp.StatusCode, c.want)
		}
		if took := time.Since(start); took > 20*time.Second {
			t.Errorf("POST %s took %v", c.path, took)
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 100<<20 {
		t.Errorf("refusing 1.2 GB of bodies allocated %d MB", grew>>20)
	}
}

type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), e.n)
	clear(p[:k])
	e.n -= k
	return int(k), nil
}

func dialWS(t *testing.T, f *fixture, c caller) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{"Origin": {f.srv.URL}}
	if c.client.Jar != nil {
		u, _ := http.NewRequest("GET", f.srv.URL, nil)
		for _, ck := range c.client.Jar.Cookies(u.URL) {
			h.Add("Cookie", ck.Name+"="+ck.Value)
		}
	}
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	return websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(f.srv.URL, "http")+"/ws", h)
}

type wsFrame struct {
	Op    string `json:"op"`
	Error string `json:"error"`
	Topic string `json:"topic"`
}

func subscribe(t *testing.T, ws *websocket.Conn, topics ...string) wsFrame {
	t.Helper()
	ws.WriteJSON(map[string]any{"op": "subscribe", "topics": topics})
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var fr wsFrame
		if err := ws.ReadJSON(&fr); err != nil {
			t.Fatalf("read: %v", err)
		}
		if fr.Op != "" {
			return fr
		}
	}
}

func TestWebsocketIsAuthenticatedAndScoped(t *testing.T) {
	f := newFixture(t)
	if _, resp, err := dialWS(t, f, f.nobody()); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("websocket without credentials: %v %v", resp, err)
	}
	county := f.signIn(t, "county")
	// Another site's page cannot open the user's websocket.
	h := http.Header{"Origin": {"https://evil.example"}}
	u, _ := http.NewRequest("GET", f.srv.URL, nil)
	for _, ck := range county.client.Jar.Cookies(u.URL) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	if _, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(f.srv.URL, "http")+"/ws", h); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin websocket: %v", err)
	}
	ws, _, err := dialWS(t, f, county)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if fr := subscribe(t, ws, live.IndicatorTopic("answer_rate", "620802", "day"), live.RankingTopic("answer_rate", "620802", "day"), live.ClockTopic, live.TickerTopic("620802001")); fr.Op != "subscribed" {
		t.Errorf("own county's topics: %+v", fr)
	}
	for _, topic := range []string{live.IndicatorTopic("answer_rate", "620800", "day"), live.RankingTopic("answer_rate", "620800", "day"), live.TickerTopic("620000"), live.ScoreTopic("620803", "day"), "ind:bogus"} {
		if fr := subscribe(t, ws, topic); fr.Op != "error" || !strings.Contains(fr.Error, "forbidden") {
			t.Errorf("%s: %+v, want a forbidden error", topic, fr)
		}
	}
}

// TestSurgeTopicsFollowTheScope: a surge board (and a report board) of a
// region is for those whose scope covers it, a screen token as a user:
// the wall's surge widget of a city's kiosk follows its city and below,
// never the province or another city.
func TestSurgeTopicsFollowTheScope(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name     string
		who      caller
		ok, deny []string
	}{
		{"county user", f.signIn(t, "county"), []string{live.SurgeTopic("620802"), live.ReportTopic("620802")},
			[]string{live.SurgeTopic("620800"), live.SurgeTopic("620000"), live.SurgeTopic("620803"), live.ReportTopic("620000")}},
		{"city kiosk", f.screenToken("hall-620100"), []string{live.SurgeTopic("620100"), live.SurgeTopic("620102"), live.ReportTopic("620100")},
			[]string{live.SurgeTopic("620000"), live.SurgeTopic("620800"), live.SurgeTopic("620802"), live.ReportTopic("620000")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, _, err := dialWS(t, f, tc.who)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			if fr := subscribe(t, ws, tc.ok...); fr.Op != "subscribed" {
				t.Errorf("%v: %+v", tc.ok, fr)
			}
			for _, topic := range tc.deny {
				if fr := subscribe(t, ws, topic); fr.Op != "error" || !strings.Contains(fr.Error, "forbidden") {
					t.Errorf("%s: %+v, want a forbidden error", topic, fr)
				}
			}
		})
	}
}

func TestRevokedTokenClosesItsWebsocket(t *testing.T) {
	f := newFixture(t)
	kiosk := f.screenToken("hall-620100")
	ws, _, err := dialWS(t, f, kiosk)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if fr := subscribe(t, ws, live.IndicatorTopic("answer_rate", "620100", "day")); fr.Op != "subscribed" {
		t.Fatalf("subscribe: %+v", fr)
	}
	// Revoked by the CLI, another process on the same store.
	if err := f.otherProcess(t).RevokeToken(context.Background(), access.Actor{Name: "cli:test"}, f.ids["hall-620100"]); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != hub.CloseRevoked {
			t.Fatalf("websocket ended with %v, want close %d", err, hub.CloseRevoked)
		}
		break
	}
	took := time.Since(revoked)
	t.Logf("closed %v after the revocation", took)
	if took > 10*time.Second {
		t.Errorf("revoked token's websocket closed after %v", took)
	}
	if _, resp, err := dialWS(t, f, kiosk); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("reconnect with a revoked token: %v", err)
	}
}

func TestDisabledUserLosesEverySession(t *testing.T) {
	f := newFixture(t)
	a, b := f.signIn(t, "leader"), f.signIn(t, "leader")
	if err := f.otherProcess(t).DisableUser(context.Background(), access.Actor{Name: "cli:test"}, "leader"); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "both sessions to end", func() bool {
		ca, _ := f.do(t, a, "GET", "/api/session", "", nil)
		cb, _ := f.do(t, b, "GET", "/api/session", "", nil)
		return ca == http.StatusUnauthorized && cb == http.StatusUnauthorized
	})
}

func TestKioskTokenLeavesTheAddress(t *testing.T) {
	f := newFixture(t)
	resp, err := f.nobody().client.Get(f.srv.URL + "/screens/overview?region=620100&token=" + f.tokens["hall-620100"])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || strings.Contains(loc, "token") || !strings.Contains(loc, "/screens/overview?region=620100") {
		t.Fatalf("first visit: %d → %q", resp.StatusCode, loc)
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == screenCookie {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.Value != f.tokens["hall-620100"] {
		t.Fatalf("screen cookie %+v", ck)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+loc, nil)
	req.AddCookie(ck)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the screen with the cookie: %d", resp.StatusCode)
	}
	// Bound to its playlist: a screen outside it is refused. The overview
	// token is for one screen only.
	solo := f.screenToken("overview-620000")
	if code, _ := f.do(t, solo, "GET", "/screens/hotline", "", nil); code != http.StatusForbidden {
		t.Errorf("a screen token opening another screen: %d, want 403", code)
	}
	if code, _ := f.do(t, solo, "GET", "/screens/overview", "", nil); code != 200 {
		t.Errorf("a screen token opening its screen: %d", code)
	}
}

func TestFirstStartPrintsTheAdministratorOnce(t *testing.T) {
	f := &fixture{dataDir: t.TempDir()}
	f.start(t)
	logs := f.logs.String()
	pw := regexp.MustCompile(`password=(\S+)`).FindStringSubmatch(logs)
	tok := regexp.MustCompile(`token=(ypt_[A-Za-z0-9_-]+)`).FindStringSubmatch(logs)
	if pw == nil || tok == nil {
		t.Fatalf("first start log lacks the password or the wall's token:\n%s", logs)
	}
	body, _ := json.Marshal(map[string]string{"name": "admin", "password": pw[1]})
	resp, err := http.Post(f.srv.URL+"/api/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("sign in with the printed password: %d", resp.StatusCode)
	}
	kiosk := caller{client: http.DefaultClient, token: tok[1]}
	if code, _ := f.do(t, kiosk, "GET", "/screens/overview", "", nil); code != 200 {
		t.Errorf("the wall with the printed token: %d", code)
	}
}
