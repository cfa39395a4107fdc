package app

import (
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/collectors/push"
	"github.com/yiping-ioc/yiping/httpjson"
	"github.com/yiping-ioc/yiping/login"
	"github.com/yiping-ioc/yiping/mobile"
	"github.com/yiping-ioc/yiping/reportapi"
	"github.com/yiping-ioc/yiping/server"
	"github.com/yiping-ioc/yiping/wall"
)

type fiberHandler = fiber.Handler

// accessClass says who may call a route.
type accessClass int

const (
	// public: health, static files, the sign-in page.
	public accessClass = iota
	// screen: the wall screens and their live feed; a signed-in user or
	// a screen token (bound to its screen or playlist).
	screen
	// user: the console and its API; a signed-in user of any role.
	user
	// admin: operations (collector health, metrics, the audit log); an
	// administrator (or, for /metrics, the metrics token).
	admin
	// ingest: the push intake; its own bearer tokens, checked before the
	// body is read.
	ingest
)

// intakeBody is the push intake's body limit: the largest any push source
// allows (default 32 MiB). Pages and API calls send no body.
func (a *App) intakeBody() int64 { return push.MaxBody(a.runner) }

// route is one entry of the product's route table. Exactly one of fiber
// and http is set: websocket and streaming routes are net/http handlers,
// the pages and the API fiber handlers.
type route struct {
	method, path string
	access       accessClass
	// body is the largest request body accepted; a larger one is refused
	// with 413 before it is read.
	body int64
	// noStore marks answers browsers and proxies must not keep: API
	// answers and exports.
	noStore bool
	// regions are the request parameters naming the regions an answer
	// covers: each must lie inside the caller's scope.
	regions []regionParam
	// screenParam: "screen" when the path's :id is a screen, "playlist"
	// when it is a playlist (a screen token is bound to one of them).
	screenParam string
	// page: an HTML page, to which a browser without a session is sent
	// through the sign-in page rather than answered 401.
	page bool
	// roles, when set, are the roles of user routes that may call it
	// (acknowledging a report, silencing); others get 403.
	roles []access.Role
	// audit: the audit action of a successful call (exports).
	audit string
	// leader: the answer depends on state only the cluster's leader holds
	// (the special reports' manager, the bulletin archive, the order
	// boards it publishes); a follower passes the request to it.
	leader bool
	fiber  fiberHandler
	http   http.Handler
}

// regionParam is one request parameter that names a region.
type regionParam struct {
	in   string // "query" or "path"
	name string
	// list: a comma-separated list of "region" or "region:dept".
	list bool
}

// routes is every route of the product: the one place to see what the
// server answers and who may ask.
func (a *App) routes() []route {
	rs := []route{
		// Operations.
		{method: "GET", path: "/healthz", access: public, http: http.HandlerFunc(healthz)},
		{method: "GET", path: "/readyz", access: public, http: http.HandlerFunc(a.readyz)},
		{method: "GET", path: "/metrics", access: admin, http: promhttp.HandlerFor(a.metrics, promhttp.HandlerOpts{Registry: a.metrics})},
		{method: "GET", path: "/api/collectors", access: admin, noStore: true, fiber: a.runner.HealthHandler()},
		{method: "GET", path: "/api/cluster", access: admin, noStore: true, http: http.HandlerFunc(a.clusterStatus)},

		// Static: scripts, maps, fonts (content-hashed URLs) and the icon.
		{method: "GET", path: assets.Root, access: public, http: assets.Handler()},
		{method: "GET", path: "/favicon.ico", access: public, http: http.HandlerFunc(favicon)},

		// Signing in and out, who is signed in, the audit log.
		{method: "GET", path: login.PagePath, access: public, http: a.login.Page()},
		{method: "GET", path: a.login.ScriptPath(), access: public, http: a.login.Script()},
		{method: "GET", path: a.login.StylePath(), access: public, http: a.login.Style()},
		{method: "POST", path: login.SignInPath, access: public, body: login.MaxBody, noStore: true, http: a.login.SignIn()},
		{method: "POST", path: login.SignOutPath, access: user, noStore: true, http: a.login.SignOut()},
		{method: "GET", path: login.SessionPath, access: screen, noStore: true, http: a.login.Session()},
		{method: "GET", path: "/api/audit", access: admin, noStore: true, http: http.HandlerFunc(a.auditLog)},

		// The wall screens and their live feed (topics checked one by one
		// against the caller's scope: see topicAllowed).
		{method: "GET", path: "/", access: public, fiber: func(c *fiber.Ctx) error { return c.Redirect("/screens", fiber.StatusFound) }},
		{method: "GET", path: "/ws", access: screen, http: a.notCut(http.HandlerFunc(a.hub.ServeWS))},
	}
	rs = append(rs, a.wallRoutes()...)
	rs = append(rs, a.consoleRoutes()...)
	rs = append(rs, a.reportRoutes()...)
	rs = append(rs, a.dispatchRoutes()...)
	rs = append(rs, a.bulletinRoutes()...)
	if a.intake != nil {
		rs = append(rs, route{method: "POST", path: "/api/ingest/:kind", access: ingest, body: a.intakeBody(), noStore: true, fiber: a.intake})
	}
	return rs
}

func healthz(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) }

func (a *App) readyz(w http.ResponseWriter, _ *http.Request) {
	if err := a.ready(); err != nil {
		http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}

// favicon answers clients that ask for /favicon.ico although every page
// links the icon.
func favicon(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(assets.IconSVG())
}

// routesHandler registers the route table: every route on a net/http mux
// (which refuses unknown paths and oversized bodies before anything is
// read), the fiber routes also on the fiber application behind the
// bridge.
func (a *App) routesHandler() (http.Handler, error) {
	maxBody := a.intakeBody()
	fapp := fiber.New(fiber.Config{
		DisableStartupMessage: true, AppName: "yiping",
		// The bridge bounds bodies before fiber sees them.
		BodyLimit: int(maxBody),
		// Immutable: fasthttp hands out strings that alias its request
		// buffers and reuses them for the next request; components keep
		// parameters beyond a request (caches, hub topics), so every
		// value is copied.
		Immutable: true,
	})
	server.UseRequestContext(fapp)
	a.fiber = fapp
	bridge := server.Fiber(fapp, maxBody)
	mux := http.NewServeMux()
	for _, r := range a.routes() {
		h := r.http
		if r.fiber != nil {
			fapp.Add(r.method, r.path, r.fiber)
			if r.method == http.MethodGet {
				fapp.Add(http.MethodHead, r.path, r.fiber)
			}
			h = bridge
		}
		if r.leader && a.node != nil {
			h = a.node.toLeader(h)
		}
		// Who the caller is first, then the size of the body: neither
		// reads it.
		h = server.LimitBody(r.body, h)
		h = a.guard.wrap(r, h)
		if r.noStore {
			h = server.NoStore(h)
		}
		mux.Handle(r.method+" "+muxPattern(r.path), h)
	}
	return server.SecureHeaders(mux), nil
}

// muxPattern turns a fiber path into a net/http pattern: ":name" segments
// become "{name}", "/" alone matches only itself, and a path ending in "/"
// stays a prefix.
func muxPattern(path string) string {
	if path == "/" {
		return "/{$}"
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "{" + strings.TrimSuffix(s[1:], "?") + "}"
		}
	}
	return strings.Join(segs, "/")
}

// wallRoutes are the wall screens, their playlists and their static files.
func (a *App) wallRoutes() []route {
	return []route{
		{method: "GET", path: wall.IndexPath, access: screen, page: true, fiber: a.wall.Index()},
		{method: "GET", path: wall.ScreenPath, access: screen, page: true, screenParam: "screen", fiber: a.wall.Screen()},
		{method: "GET", path: wall.PlaylistPath, access: screen, page: true, screenParam: "playlist", fiber: a.wall.Playlist()},
		{method: "GET", path: a.wall.ScriptPath(), access: public, http: a.wall.Script()},
		{method: "GET", path: a.wall.StylePath(), access: public, http: a.wall.Style()},
	}
}

// consoleRoutes are the analyst's console and its API. Its scripts and
// style are public like every static file; pages and answers need a user.
func (a *App) consoleRoutes() []route {
	var rs []route
	for _, r := range a.console.Routes() {
		acc, noStore := user, true
		if strings.HasPrefix(r.Path, "/console/") && (strings.HasSuffix(r.Path, ".js") || strings.HasSuffix(r.Path, ".css")) {
			acc, noStore = public, false
		}
		rt := route{method: r.Method, path: r.Path, access: acc, noStore: noStore, fiber: r.Handler,
			page: r.Path == "/console" || r.Path == "/console/ranking-chart" || r.Path == "/console/orders"}
		if strings.HasPrefix(r.Path, "/api/export/") {
			rt.audit = access.ActionExport
		}
		for _, p := range r.Regions {
			rt.regions = append(rt.regions, regionParam{in: p.In, name: p.Name, list: p.List})
		}
		rs = append(rs, rt)
	}
	return rs
}

// reportRoutes are the special reports: their API, the delivery log and
// the phone page.
func (a *App) reportRoutes() []route {
	rs := []route{
		{method: "GET", path: mobile.PagePath, access: user, page: true, noStore: true, leader: true, http: a.mobile.Page(),
			regions: []regionParam{{in: "query", name: "region"}}},
		{method: "GET", path: a.mobile.ScriptPath(), access: public, http: a.mobile.Script()},
		{method: "GET", path: a.mobile.StylePath(), access: public, http: a.mobile.Style()},
		{method: "GET", path: "/api/deliveries", access: user, roles: reportapi.SilenceRoles(), noStore: true, http: http.HandlerFunc(a.deliveryLog)},
	}
	return append(rs, leaderRoutes(jsonRoutes(a.reportAPI.Routes()))...)
}

// leaderRoutes marks routes as the leader's (route.leader).
func leaderRoutes(rs []route) []route {
	for i := range rs {
		rs[i].leader = true
	}
	return rs
}

// jsonRoutes are the routes of a JSON API package (reportapi,
// dispatchapi) in the table: for signed-in users, never stored, with the
// roles, body limits, region parameters and audit the package names.
func jsonRoutes(in []httpjson.Route) []route {
	var rs []route
	for _, r := range in {
		rt := route{method: r.Method, path: r.Path, access: user, body: r.Body, noStore: true, roles: r.Roles, http: r.Handler}
		if r.Audit {
			rt.audit = access.ActionExport
		}
		for _, name := range r.Regions {
			rt.regions = append(rt.regions, regionParam{in: "query", name: name})
		}
		rs = append(rs, rt)
	}
	return rs
}
