package app

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/console"
	"github.com/yiping-ioc/yiping/login"
)

// openapiUndocumented are the routes of the table that the OpenAPI
// document leaves out of its paths, each with the reason; the test fails
// for a route missing from the document unless it is listed here, and for
// an entry here that no route serves.
var openapiUndocumented = map[string]string{
	"GET " + assets.Root: "a prefix route: every file under /assets/<version>/… (ECharts, maps, fonts, the icon), " +
		"whose paths span several segments, which an OpenAPI path template cannot express; info.description documents it",
}

// openapiAccess names the access classes as the document's x-yiping-access
// does.
var openapiAccess = map[accessClass]string{public: "public", screen: "screen", user: "user", admin: "admin", ingest: "ingest"}

// openapiContentHash is the content hash in the path of a page's script
// or style (/wall/wall.0123456789ab.js), documented as {hash}.
var openapiContentHash = regexp.MustCompile(`\.[0-9a-f]{12}\.(js|css)$`)

// openapiPath is the OpenAPI path of a route: fiber ":param" segments
// become "{param}", a content hash "{hash}".
func openapiPath(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "{" + strings.TrimSuffix(s[1:], "?") + "}"
		}
	}
	return openapiContentHash.ReplaceAllString(strings.Join(segs, "/"), ".{hash}.$1")
}

// openapiSecurity is the security an operation of rt must document, as
// alternatives ("sessionCookie+csrf"), each a set of schemes (an admin
// route's session schemes require the role admin: "sessionCookie[admin]"),
// sorted. Public routes take none. It mirrors guard.wrap.
func openapiSecurity(rt route) []string {
	var alts []string
	switch rt.access {
	case public:
		return []string{}
	case ingest:
		return []string{"ingestToken"}
	}
	role := ""
	if rt.access == admin {
		role = "[admin]"
	}
	for _, s := range []string{"sessionCookie", "sessionCookieTLS"} {
		alt := []string{s + role}
		if unsafeMethod(rt.method) {
			alt = append(alt, "csrf") // a session's state-changing request
		}
		slices.Sort(alt)
		alts = append(alts, strings.Join(alt, "+"))
	}
	if rt.access == screen {
		alts = append(alts, "screenToken", "screenTokenQuery", "screenCookie")
	}
	if rt.access == admin && rt.path == "/metrics" {
		alts = append(alts, "metricsToken")
	}
	slices.Sort(alts)
	return alts
}

// openapiOperation is what the test reads of an operation.
type openapiOperation struct {
	Access     string                      `json:"x-yiping-access"`
	Roles      []string                    `json:"x-yiping-roles"`
	Security   *[]map[string][]string      `json:"security"`
	Parameters []struct{ Name, In string } `json:"parameters"`
	Responses  map[string]json.RawMessage  `json:"responses"`
}

// documentedSecurity is op's security in the form of openapiSecurity.
func (op openapiOperation) documentedSecurity() []string {
	alts := []string{}
	for _, req := range *op.Security {
		var alt []string
		for scheme, roles := range req {
			if len(roles) > 0 {
				scheme += "[" + strings.Join(roles, ",") + "]"
			}
			alt = append(alt, scheme)
		}
		slices.Sort(alt)
		alts = append(alts, strings.Join(alt, "+"))
	}
	slices.Sort(alts)
	return alts
}

// TestOpenAPIMatchesRouteTable walks the route table and fails for a route
// the OpenAPI document (console's embedded openapi.json) lacks, unless
// openapiUndocumented lists it with a reason, and for a documented
// operation no route serves. For each route it checks the operation's
// access class (x-yiping-access) and security against the route's access
// class, the answers the guard gives (401, 403, the sign-in redirect of a
// page, 413 for a route that takes a body, 429 for signing in) and the
// region parameters; and it checks the security schemes against the names
// the server uses.
func TestOpenAPIMatchesRouteTable(t *testing.T) {
	a, err := New(t.Context(), Options{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), HistoryEvery: time.Hour,
		Getenv: func(k string) string {
			if k == "YIPING_INGEST_TOKEN" {
				return ingestToken // so that the push intake is routed
			}
			return ""
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)

	var doc struct {
		Info struct {
			Description string `json:"description"`
		} `json:"info"`
		Paths      map[string]map[string]openapiOperation `json:"paths"`
		Components struct {
			SecuritySchemes map[string]struct {
				Type, In, Name, Scheme string
			} `json:"securitySchemes"`
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(console.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}

	// The schemes name what the server reads.
	for name, want := range map[string]string{
		"sessionCookie":    "apiKey cookie " + access.SessionCookiePlain,
		"sessionCookieTLS": "apiKey cookie " + access.SessionCookieTLS,
		"csrf":             "apiKey header " + access.CSRFHeader,
		"screenToken":      "http bearer",
		"screenTokenQuery": "apiKey query " + access.ScreenTokenParam,
		"screenCookie":     "apiKey cookie " + screenCookie,
		"ingestToken":      "http bearer",
		"metricsToken":     "http bearer",
	} {
		s, ok := doc.Components.SecuritySchemes[name]
		got := strings.Join(strings.Fields(s.Type+" "+s.In+" "+s.Name+" "+strings.ToLower(s.Scheme)), " ")
		if !ok || got != want {
			t.Errorf("securitySchemes.%s: %q, want %q", name, got, want)
		}
	}
	if n := len(doc.Components.SecuritySchemes); n != 8 {
		t.Errorf("%d security schemes, want 8", n)
	}

	routes := a.routes()
	served := map[string]bool{}
	intake := false
	for _, rt := range routes {
		key := rt.method + " " + rt.path
		intake = intake || rt.access == ingest
		if reason, ok := openapiUndocumented[key]; ok {
			served[key] = true
			if !strings.Contains(doc.Info.Description, rt.path) {
				t.Errorf("%s is left out of the paths (%s) but info.description does not mention it", key, reason)
			}
			continue
		}
		path, method := openapiPath(rt.path), strings.ToLower(rt.method)
		served[method+" "+path] = true
		op, ok := doc.Paths[path][method]
		if !ok {
			t.Errorf("route %s (%s) is not in openapi.json", key, path)
			continue
		}
		where := rt.method + " " + path
		if op.Access != openapiAccess[rt.access] {
			t.Errorf("%s: x-yiping-access %q, want %q", where, op.Access, openapiAccess[rt.access])
		}
		var roles []string
		for _, r := range rt.roles {
			roles = append(roles, string(r))
		}
		if !slices.Equal(op.Roles, roles) {
			t.Errorf("%s: x-yiping-roles %v, want the route's roles %v", where, op.Roles, roles)
		}
		if op.Security == nil {
			t.Errorf("%s: no security (a public route documents security: [])", where)
		} else if got, want := op.documentedSecurity(), openapiSecurity(rt); !slices.Equal(got, want) {
			t.Errorf("%s (%s): security %v, want %v", where, openapiAccess[rt.access], got, want)
		}
		for _, c := range openapiResponses(rt) {
			if op.Responses[c.code] == nil {
				t.Errorf("%s: no %s response (%s)", where, c.code, c.why)
			} else if c.ref != "" && !strings.Contains(string(op.Responses[c.code]), `"#/components/responses/`+c.ref+`"`) &&
				!strings.Contains(string(op.Responses[c.code]), `"#/components/schemas/ErrorMessage"`) {
				t.Errorf("%s: the %s response is neither the shared %s nor an ErrorMessage", where, c.code, c.ref)
			}
			if c.ref != "" && doc.Components.Responses[c.ref] == nil {
				t.Errorf("components.responses.%s missing", c.ref)
			}
		}
		for _, rp := range rt.regions {
			if !slices.ContainsFunc(op.Parameters, func(p struct{ Name, In string }) bool { return p.Name == rp.name && p.In == rp.in }) {
				t.Errorf("%s: region parameter %s (in %s) not documented", where, rp.name, rp.in)
			}
		}
	}
	if !intake {
		t.Error("the push intake is not in the route table: the test does not cover it")
	}
	for key := range openapiUndocumented {
		if !served[key] {
			t.Errorf("openapiUndocumented lists %s, which no route serves", key)
		}
	}
	documented := 0
	for path, ops := range doc.Paths {
		for method := range ops {
			documented++
			if !served[method+" "+path] {
				t.Errorf("openapi.json documents %s %s, which no route serves", method, path)
			}
		}
	}
	if want := len(routes) - len(openapiUndocumented); documented != want {
		t.Errorf("openapi.json documents %d operations, the route table has %d routes to document", documented, want)
	}
}

// openapiResponse is an answer an operation must document.
type openapiResponse struct{ code, ref, why string }

// openapiResponses are the answers the guard (and the body limit) give
// for rt.
func openapiResponses(rt route) []openapiResponse {
	var rs []openapiResponse
	if rt.access != public {
		rs = append(rs, openapiResponse{"401", "Unauthorized", "no valid credentials"})
	}
	switch {
	case rt.access == public || rt.access == ingest:
	case rt.access == user || rt.access == admin:
		rs = append(rs, openapiResponse{"403", "Forbidden", fmt.Sprintf("a %s route refuses other callers", openapiAccess[rt.access])})
	case unsafeMethod(rt.method):
		rs = append(rs, openapiResponse{"403", "Forbidden", "origin and CSRF checks"})
	case len(rt.regions) > 0 || rt.screenParam != "":
		rs = append(rs, openapiResponse{"403", "Forbidden", "region scope or screen token binding"})
	}
	if rt.page && rt.access != public {
		rs = append(rs, openapiResponse{"303", "", "a browser without a session goes to the sign-in page"})
	}
	if rt.body > 0 {
		rs = append(rs, openapiResponse{"413", "", fmt.Sprintf("a body over %d bytes", rt.body)})
	}
	if rt.path == login.SignInPath && rt.method == http.MethodPost {
		rs = append(rs, openapiResponse{"429", "", "failed sign-ins are rate limited"})
	}
	return rs
}
