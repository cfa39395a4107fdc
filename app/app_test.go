package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/login"
)

const (
	testPassword = "app-test-password-0123"
	ingestToken  = "app-test-ingest-token-0123456789"
)

// fixture is an App (demo off) running on loopback, with users and
// tokens.
type fixture struct {
	a       *App
	srv     struct{ URL string }
	dataDir string
	logs    *bytes.Buffer
	// tokens by name: "hall-620100" (playlist hall, region 620100),
	// "overview-620000" (screen overview, region 620000).
	tokens map[string]string
	ids    map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dataDir: t.TempDir(), tokens: map[string]string{}, ids: map[string]string{}}
	f.addUsers(t)
	f.start(t)
	return f
}

func (f *fixture) addUsers(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	st, err := access.OpenStore(ctx, access.StoreConfig{DataDir: f.dataDir})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := access.New(access.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	by := access.Actor{Name: "test"}
	for _, u := range []access.NewUser{
		{Name: "admin", Role: access.RoleAdmin, Region: "620000"},
		{Name: "county", Role: access.RoleAnalyst, Region: "620802"},
		{Name: "leader", Role: access.RoleLeader, Region: "620800"},
	} {
		u.Password = testPassword
		if _, err := svc.AddUser(ctx, by, u); err != nil {
			t.Fatal(err)
		}
	}
	for name, nt := range map[string]access.NewToken{
		"hall-620100":     {Playlist: "hall", Region: "620100"},
		"overview-620000": {Screen: "overview", Region: "620000"},
	} {
		secret, tok, err := svc.AddToken(ctx, by, nt)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[name], f.ids[name] = secret, tok.ID
	}
	st.Close()
}

// start runs the App on a loopback listener until the test ends.
func (f *fixture) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f.logs = &bytes.Buffer{}
	var err error
	f.a, err = New(ctx, Options{
		Addr: "127.0.0.1:0", DataDir: f.dataDir, HistoryEvery: time.Hour,
		Getenv: func(k string) string {
			if k == "YIPING_INGEST_TOKEN" {
				return ingestToken
			}
			return ""
		},
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: f.logs}, nil)),
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var l net.Listener
	l, f.srv.URL = listenLoopback(t)
	runApp(t, ctx, cancel, f.a, l)
}

// listenLoopback listens on a free loopback port and returns the base URL.
func listenLoopback(tb testing.TB) (net.Listener, string) {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return l, "http://" + l.Addr().String()
}

// runApp runs a on l until stop, or the end of the test: ctx is cancelled
// (cancel) and Run must return nil. stop may be called more than once.
func runApp(tb testing.TB, ctx context.Context, cancel context.CancelFunc, a *App, l net.Listener) (stop func()) {
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, l) }()
	stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Run: %v", err)
		}
	})
	tb.Cleanup(stop)
	return stop
}

// lockedWriter serialises the log's writes for the test to read.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// caller is one identity making requests.
type caller struct {
	name   string
	client *http.Client
	csrf   string
	token  string // a screen token, sent as Bearer
}

func (f *fixture) nobody() caller {
	return caller{name: "nobody", client: &http.Client{CheckRedirect: noRedirect}}
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func (f *fixture) signIn(t *testing.T, name string) caller {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect}
	body, _ := json.Marshal(map[string]string{"name": name, "password": testPassword})
	resp, err := c.Post(f.srv.URL+"/api/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct{ CSRF string }
	json.NewDecoder(resp.Body).Decode(&info)
	if resp.StatusCode != 200 || info.CSRF == "" {
		t.Fatalf("sign in %s: %d", name, resp.StatusCode)
	}
	return caller{name: name, client: c, csrf: info.CSRF}
}

func (f *fixture) screenToken(name string) caller {
	return caller{name: "token " + name, client: &http.Client{CheckRedirect: noRedirect}, token: f.tokens[name]}
}

// do sends one request as c; body is sent with its content type.
func (f *fixture) do(t *testing.T, c caller, method, path, ctype string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.csrf != "" {
		req.Header.Set(access.CSRFHeader, c.csrf)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b)
}

// request builds a request for route r that names region reg wherever
// the route reads a region.
func request(r route, reg string) (method, path, ctype string, body []byte) {
	path = r.path
	switch r.screenParam {
	case "screen":
		path = strings.Replace(path, ":id", "overview", 1)
	case "playlist":
		path = strings.Replace(path, ":id", "hall", 1)
	}
	path = strings.NewReplacer(":region", reg, ":code", reg, ":kind", "calls").Replace(path)
	if strings.HasSuffix(path, "/") && path != "/" {
		path = assets.Icon() // under the assets prefix
	}
	q := url.Values{}
	for _, p := range r.regions {
		if p.in == "query" && !p.list {
			q.Set(p.name, reg)
		}
	}
	if r.screenParam == "screen" {
		q.Set("region", reg)
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	switch path {
	case "/api/login":
		ctype, body = "application/json", []byte(`{"name":"nobody","password":"wrong-password-123"}`)
	case "/api/ingest/calls":
		ctype, body = "text/csv", []byte("call_id,region_code,offered_at,answered,wait_seconds\n")
	}
	return r.method, path, ctype, body
}

// TestEveryRouteAnswersAsTheScopeSays walks the route table (the router's
// own registrations, not a hand list) as nobody, a screen token of another
// region, a county analyst and an administrator.
func TestEveryRouteAnswersAsTheScopeSays(t *testing.T) {
	f := newFixture(t)
	callers := []caller{f.nobody(), f.screenToken("hall-620100"), f.signIn(t, "county"), f.signIn(t, "admin")}
	denied := func(code int) bool { return code == http.StatusUnauthorized || code == http.StatusForbidden }
	checks := map[string]int{}
	for _, r := range f.a.routes() {
		if r.path == login.SignOutPath || r.path == login.SignInPath {
			continue // sign the caller out, or answer 401 to a wrong password: checked on their own
		}
		readsRegion := len(r.regions) > 0 || r.screenParam == "screen"
		for _, c := range callers {
			for _, reg := range []string{"620802", "620100"} {
				method, path, ctype, body := request(r, reg)
				code, answer := f.do(t, c, method, path, ctype, body)
				var want string // "in" (not 401/403), "401", "403"
				switch {
				case r.access == public:
					want = "in"
				case r.access == ingest:
					want = "401" // none of the callers holds the intake token
				case c.name == "nobody":
					want = "401"
				case c.token != "":
					switch {
					case r.access != screen:
						want = "403"
					case r.screenParam != "" || !readsRegion:
						// the playlist's screens in its region
						want = map[bool]string{true: "in", false: "403"}[reg == "620100" || !readsRegion]
					default:
						want = "in"
					}
				case c.name == "county":
					switch {
					case r.access == admin || len(r.roles) > 0: // an analyst
						want = "403"
					case readsRegion && reg != "620802":
						want = "403"
					default:
						want = "in"
					}
				case c.name == "admin":
					want = "in"
				}
				got := "in"
				if denied(code) {
					got = map[int]string{401: "401", 403: "403"}[code]
				}
				checks[got]++
				if got != want {
					t.Errorf("%s %s as %s: %d (%s), want %s: %.200s", method, path, c.name, code, got, want, answer)
				}
			}
		}
	}
	t.Logf("answers: %v", checks)
	if checks["in"] < 50 || checks["401"] < 20 || checks["403"] < 20 {
		t.Errorf("too few checks of each kind: %v", checks)
	}
	// The fiber app holds no route the table does not list.
	table := map[string]bool{}
	for _, r := range f.a.routes() {
		table[r.method+" "+r.path] = true
	}
	for _, fr := range f.a.fiber.GetRoutes(true) {
		if fr.Method == http.MethodHead {
			continue
		}
		if !table[fr.Method+" "+fr.Path] && fr.Path != "/" {
			t.Errorf("fiber serves %s %s, which the route table does not list", fr.Method, fr.Path)
		}
	}
}
