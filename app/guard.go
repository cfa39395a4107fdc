package app

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/dashboards"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/login"
)

// screenCookie carries a kiosk's screen token after its first visit with
// ?token=, so that the token leaves the address bar (and Referer headers
// and proxy logs) and the websocket and the playlist's next screens carry
// it without script.
const screenCookie = "yiping_screen"

// screenCookieAge is how long a kiosk keeps its token: until revoked, in
// practice (browsers cap cookies at 400 days).
const screenCookieAge = 400 * 24 * time.Hour

// guard is the access check in front of every route: who the caller is,
// whether the route lets them in, whether the regions the request names lie
// inside their scope. It runs before any body is read.
type guard struct {
	svc     *access.Service
	screens *dashboards.Set
	trusted []netip.Prefix
	// origins are the allowed origins of state-changing requests and
	// websockets; empty: the request's own host only.
	origins []string
	// metricsToken, when set, lets a scraper read /metrics with
	// "Authorization: Bearer <token>" (compared as a hash, in constant
	// time).
	metricsToken [32]byte
	hasMetrics   bool
	// intakeOK tells whether a push intake request carries a known token,
	// so an unknown caller is refused before its body is read.
	intakeOK func(authorization string) bool
}

// secure reports whether r reached the server over TLS, itself or
// through a trusted proxy.
func (g *guard) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return g.trustedPeer(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (g *guard) trustedPeer(r *http.Request) bool {
	a, err := netip.ParseAddr(access.ClientAddr(r))
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range g.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the caller's address, believing X-Forwarded-For only from
// trusted proxies.
func (g *guard) clientAddr(r *http.Request) string { return access.ForwardedClientAddr(r, g.trusted) }

// principal authenticates r: a session cookie, else a screen token (its
// cookie, an Authorization header or ?token=). fromQuery says the screen
// token came from the URL.
func (g *guard) principal(r *http.Request) (p *access.Principal, fromQuery bool, err error) {
	if tok := access.SessionToken(r, g.secure(r)); tok != "" {
		if p, err = g.svc.Authenticate(r.Context(), tok); err == nil {
			return p, false, nil
		}
	}
	secret := ""
	if c, cerr := r.Cookie(screenCookie); cerr == nil {
		secret = c.Value
	}
	if s := access.ScreenToken(r); s != "" {
		secret, fromQuery = s, r.URL.Query().Get(access.ScreenTokenParam) != ""
	}
	if secret == "" {
		if err == nil {
			err = access.ErrBadCredentials
		}
		return nil, false, err
	}
	p, err = g.svc.AuthenticateScreenToken(r.Context(), secret)
	return p, fromQuery, err
}

// wrap puts the access check of rt in front of next.
func (g *guard) wrap(rt route, next http.Handler) http.Handler {
	if rt.access == public {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.access == ingest {
			if !g.intakeOK(r.Header.Get("Authorization")) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="yiping ingest"`)
				deny(w, r, http.StatusUnauthorized, "缺少或错误的推送令牌 / missing or wrong bearer token")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if rt.access == admin && rt.path == "/metrics" && g.metricsBearer(r) {
			next.ServeHTTP(w, r)
			return
		}
		p, fromQuery, err := g.principal(r)
		if err != nil {
			g.unauthenticated(w, r, rt, err)
			return
		}
		if status, msg := g.allowed(rt, p, r); status != 0 {
			deny(w, r, status, msg)
			return
		}
		if unsafeMethod(r.Method) {
			if !g.sameOrigin(r) {
				deny(w, r, http.StatusForbidden, "请求来源不被允许 / request origin not allowed")
				return
			}
			if p.Kind == access.KindUser && !p.CheckCSRF(r.Header.Get(access.CSRFHeader)) {
				deny(w, r, http.StatusForbidden, "缺少或错误的 CSRF 令牌 / missing or wrong CSRF token ("+access.CSRFHeader+")")
				return
			}
		}
		if status, msg, rewritten := g.scope(rt, p, r); status != 0 {
			deny(w, r, status, msg)
			return
		} else if rewritten != nil {
			r = rewritten
		}
		if fromQuery && p.Kind == access.KindScreen && r.Method == http.MethodGet && rt.fiber != nil {
			// A kiosk's first visit: keep the token in a cookie and take
			// it out of the address.
			http.SetCookie(w, &http.Cookie{Name: screenCookie, Value: access.ScreenToken(r), Path: "/",
				MaxAge: int(screenCookieAge / time.Second), HttpOnly: true, Secure: g.secure(r), SameSite: http.SameSiteLaxMode})
			q := r.URL.Query()
			q.Del(access.ScreenTokenParam)
			u := *r.URL
			u.RawQuery = q.Encode()
			http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
			return
		}
		r = r.WithContext(access.WithPrincipal(r.Context(), p))
		if rt.audit != "" {
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			if rec.status < 400 {
				g.svc.Audit(r.Context(), access.AuditEntry{Actor: p.Name, Action: rt.audit, Target: r.URL.Path, Detail: r.URL.RawQuery, Addr: g.clientAddr(r)})
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (g *guard) metricsBearer(r *http.Request) bool {
	if !g.hasMetrics {
		return false
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(sum[:], g.metricsToken[:]) == 1
}

// unauthenticated answers a request without valid credentials: a page
// opened in a browser goes to the sign-in page, everything else gets 401.
func (g *guard) unauthenticated(w http.ResponseWriter, r *http.Request, rt route, err error) {
	if errors.Is(err, access.ErrExpired) || errors.Is(err, access.ErrDisabled) || errors.Is(err, access.ErrRevoked) {
		access.ClearSessionCookie(w, g.secure(r))
	}
	if r.Method == http.MethodGet && rt.page && strings.Contains(r.Header.Get("Accept"), "text/html") {
		http.Redirect(w, r, login.PagePath+"?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="yiping"`)
	deny(w, r, http.StatusUnauthorized, "请先登录 / sign in first")
}

// allowed checks the route's access class and a screen token's binding.
func (g *guard) allowed(rt route, p *access.Principal, r *http.Request) (int, string) {
	switch rt.access {
	case screen:
		if p.Kind == access.KindScreen && !g.bound(p, rt, r) {
			return http.StatusForbidden, "此屏幕令牌不能打开这块屏 / this screen token is for another screen"
		}
	case user:
		if p.Kind != access.KindUser {
			return http.StatusForbidden, "屏幕令牌只能打开大屏 / a screen token opens wall screens only"
		}
		if len(rt.roles) > 0 && !p.HasRole(rt.roles...) {
			names := make([]string, len(rt.roles))
			for i, r := range rt.roles {
				names[i] = string(r)
			}
			return http.StatusForbidden, "您的角色不能执行此操作 / your role may not do this (" + strings.Join(names, ", ") + " only)"
		}
	case admin:
		if p.Kind != access.KindUser || !p.HasRole(access.RoleAdmin) {
			return http.StatusForbidden, "需要管理员 / administrators only"
		}
	}
	return 0, ""
}

// bound reports whether a screen token may open the screen or playlist
// the request names: its own screen, or a screen of its own playlist.
func (g *guard) bound(p *access.Principal, rt route, r *http.Request) bool {
	switch rt.screenParam {
	case "screen":
		id := r.PathValue("id")
		if p.Screen != "" {
			return p.Screen == id
		}
		if pl, ok := g.screens.Playlist(p.Playlist); ok {
			for _, it := range pl.Items {
				if it.Screen == id {
					return true
				}
			}
		}
		return false
	case "playlist":
		return p.Playlist != "" && p.Playlist == r.PathValue("id")
	}
	return true // the screen list, the websocket: checked per topic
}

// scope checks that every region the request names lies inside the
// caller's scope. A query parameter that is absent is filled with the
// caller's own region (a county analyst's console opens at the county),
// and the rewritten request is returned.
func (g *guard) scope(rt route, p *access.Principal, r *http.Request) (int, string, *http.Request) {
	var rewritten *http.Request
	outside := func(code string) (int, string, *http.Request) {
		return http.StatusForbidden, "区域 " + code + " 不在您的权限范围（" + string(p.Region) + "）内 / region " + code + " is outside your scope (" + string(p.Region) + ")", nil
	}
	q := r.URL.Query()
	for _, rp := range rt.regions {
		var vals []string
		switch rp.in {
		case "path":
			vals = []string{r.PathValue(rp.name)}
		case "query":
			v, present := q[rp.name]
			if !present || len(v) == 0 || v[0] == "" {
				if rp.list {
					continue
				}
				q.Set(rp.name, string(p.Region))
				rewritten = withQuery(r, q)
				continue
			}
			vals = v
		}
		for _, v := range vals {
			parts := []string{v}
			if rp.list {
				parts = strings.Split(v, ",")
			}
			for _, part := range parts {
				code, _, _ := strings.Cut(part, ":")
				if code == "" {
					continue
				}
				if !p.Covers(code) {
					return outside(code)
				}
			}
		}
	}
	if rt.screenParam == "screen" {
		sc, ok := g.screens.Screen(r.PathValue("id"))
		if !ok {
			return 0, "", rewritten // the page answers 404
		}
		override := q.Get("region")
		covered := func(override string) string {
			for _, reg := range sc.Regions(override) {
				if !p.Covers(reg) {
					return reg
				}
			}
			return ""
		}
		if bad := covered(override); bad != "" {
			if override != "" {
				return outside(bad)
			}
			// The screen's own region is above the caller's: show the
			// caller's region instead, if every widget can.
			if bad2 := covered(string(p.Region)); bad2 != "" {
				return outside(bad2)
			}
			q.Set("region", string(p.Region))
			rewritten = withQuery(r, q)
		}
	}
	return 0, "", rewritten
}

// withQuery returns r with query q (the fiber bridge reads RequestURI).
func withQuery(r *http.Request, q url.Values) *http.Request {
	r2 := r.Clone(r.Context())
	u := *r.URL
	u.RawQuery = q.Encode()
	r2.URL = &u
	r2.RequestURI = u.RequestURI()
	return r2
}

// topicAllowed decides a websocket subscription: the clock and source
// health for everyone signed in, a region's values, rankings and tickets
// for those whose scope covers the region.
func topicAllowed(principal any, topic string) bool {
	p, ok := principal.(*access.Principal)
	if !ok || p == nil {
		return false
	}
	t, ok := live.Parse(topic)
	if !ok {
		return false
	}
	switch t.Kind {
	case live.KindClock, live.KindHealth:
		return true
	}
	return p.Covers(t.Region)
}

// sameOrigin checks the Origin (or Referer) of a state-changing request
// against the allowed origins, or the request's own host when none are
// configured. A request with neither header is not from a browser and is
// allowed: it carries no ambient credentials that a forged page could
// borrow, and the CSRF token still applies to sessions.
func (g *guard) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		if ref := r.Header.Get("Referer"); ref != "" {
			if u, err := url.Parse(ref); err == nil {
				origin = u.Scheme + "://" + u.Host
			}
		}
	}
	if origin == "" {
		return true
	}
	return g.originAllowed(origin, r.Host)
}

func (g *guard) originAllowed(origin, host string) bool {
	if len(g.origins) > 0 {
		for _, o := range g.origins {
			if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
				return true
			}
		}
		return false
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, host)
}

func unsafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// deny answers an access failure as JSON.
func deny(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}
