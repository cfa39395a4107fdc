// Package login is the sign-in page and the session API: log in, log out,
// and who is signed in (for the pages' header). Who someone is and what
// they may see is package access's; this package is its HTTP face.
package login

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/region"
)

// Paths of the page and the API.
const (
	PagePath    = "/login"
	SignInPath  = "/api/login"
	SignOutPath = "/api/logout"
	SessionPath = "/api/session"
	// MaxBody bounds a sign-in request: a name and a password.
	MaxBody = 4 << 10
)

//go:embed static/login.html
var pageHTML string

//go:embed static/login.js
var loginJS []byte

//go:embed static/login.css
var loginCSS []byte

// Config holds the dependencies of the handlers. Service is required.
type Config struct {
	Service *access.Service
	// Regions names a principal's region; nil means region.Default().
	Regions *region.Table
	// Secure reports whether a request arrived over TLS (itself or
	// through a trusted proxy): the session cookie is then Secure and
	// __Host- prefixed. Nil: r.TLS != nil.
	Secure func(r *http.Request) bool
	// ClientAddr is the caller's address for rate limits and the audit
	// log; nil: access.ClientAddr.
	ClientAddr func(r *http.Request) string
	Logger     *slog.Logger
}

// Login serves the sign-in page and the session API.
type Login struct {
	cfg     Config
	page    *template.Template
	js, css assets.PageFile
}

// New builds the handlers.
func New(cfg Config) (*Login, error) {
	if cfg.Service == nil {
		return nil, errors.New("login: Service is required")
	}
	if cfg.Regions == nil {
		cfg.Regions = region.Default()
	}
	if cfg.Secure == nil {
		cfg.Secure = func(r *http.Request) bool { return r.TLS != nil }
	}
	if cfg.ClientAddr == nil {
		cfg.ClientAddr = access.ClientAddr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	tpl, err := template.New("login").Parse(pageHTML)
	if err != nil {
		return nil, fmt.Errorf("login: page template: %w", err)
	}
	return &Login{cfg: cfg, page: tpl, js: assets.NewPageFile("/login", "login.js", loginJS), css: assets.NewPageFile("/login", "login.css", loginCSS)}, nil
}

// ScriptPath and StylePath are the content-hashed paths of the page's
// script and style.
func (l *Login) ScriptPath() string { return l.js.Path }

// StylePath is the path of the page's style.
func (l *Login) StylePath() string { return l.css.Path }

// Script serves the page script.
func (l *Login) Script() http.Handler { return l.js }

// Style serves the page style.
func (l *Login) Style() http.Handler { return l.css }

var texts = map[string]map[string]string{
	"zh": {
		"title": "一屏 · 登录", "subtitle": "运营指挥中心", "name": "用户名", "password": "密码", "submit": "登录",
		"lang_switch": "English",
		"bad":         "用户名或密码错误。", "disabled": "该账号已停用，请联系管理员。", "limited": "尝试次数过多，请 %s 秒后再试。",
		"bad_request": "请求格式错误：需要 JSON {name, password}。", "failed": "登录失败，请稍后再试。",
	},
	"en": {
		"title": "Yiping · Sign in", "subtitle": "Operations command center", "name": "User name", "password": "Password", "submit": "Sign in",
		"lang_switch": "中文",
		"bad":         "Wrong user name or password.", "disabled": "This account is disabled; ask an administrator.", "limited": "Too many attempts; try again in %s seconds.",
		"bad_request": "Bad request: want JSON {name, password}.", "failed": "Signing in failed; try again later.",
	},
}

func lang(r *http.Request) string {
	if r.URL.Query().Get("lang") == "en" {
		return "en"
	}
	return "zh"
}

// SafeNext returns next when it is a path on this site ("/console?x=1"),
// else "/": a sign-in page must not send anyone to another site.
func SafeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n\t") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

// Page serves the sign-in page at PagePath; ?next= is where to go after.
func (l *Login) Page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lg := lang(r)
		next := SafeNext(r.URL.Query().Get("next"))
		other := "en"
		if lg == "en" {
			other = "zh"
		}
		data := map[string]any{
			"Lang": lg, "T": texts[lg], "Next": next, "Icon": assets.Icon(), "FontCSS": assets.FontCSS(),
			"CSS": l.css.Path, "JS": l.js.Path,
			"LangLink": PagePath + "?" + url.Values{"lang": {other}, "next": {next}}.Encode(),
		}
		var buf bytes.Buffer
		if err := l.page.Execute(&buf, data); err != nil {
			l.cfg.Logger.Error("login page", "err", err)
			http.Error(w, "login page", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(buf.Bytes())
	})
}

// SessionInfo is the answer of SessionPath and of a successful sign-in.
type SessionInfo struct {
	Kind       string `json:"kind"` // user or screen
	Name       string `json:"name"`
	Role       string `json:"role"`
	Region     string `json:"region"`
	RegionName string `json:"region_name"`
	// CSRF is the token every state-changing request of this session
	// sends back in the X-CSRF-Token header.
	CSRF string `json:"csrf,omitempty"`
}

func (l *Login) info(p *access.Principal) SessionInfo {
	name, _ := l.cfg.Regions.Name(p.Region)
	return SessionInfo{Kind: string(p.Kind), Name: p.Name, Role: string(p.Role), Region: string(p.Region), RegionName: name, CSRF: p.CSRF}
}

// SignIn serves POST SignInPath: JSON {name, password} → a session
// cookie and SessionInfo; 401 for a wrong name or password, 403 for a
// disabled account, 429 with Retry-After when rate limited.
func (l *Login) SignIn() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := texts[lang(r)]
		var in struct {
			Name     string `json:"name"`
			Password string `json:"password"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, MaxBody))
		if err := dec.Decode(&in); err != nil {
			writeError(w, http.StatusBadRequest, t["bad_request"])
			return
		}
		res, err := l.cfg.Service.Login(r.Context(), in.Name, in.Password, l.cfg.ClientAddr(r))
		var rl *access.RateLimitError
		switch {
		case errors.As(err, &rl):
			w.Header().Set("Retry-After", rl.RetryAfterSeconds())
			writeError(w, http.StatusTooManyRequests, fmt.Sprintf(t["limited"], rl.RetryAfterSeconds()))
			return
		case errors.Is(err, access.ErrDisabled):
			writeError(w, http.StatusForbidden, t["disabled"])
			return
		case errors.Is(err, access.ErrBadCredentials), errors.Is(err, access.ErrInvalid), errors.Is(err, access.ErrNotFound):
			writeError(w, http.StatusUnauthorized, t["bad"])
			return
		case err != nil:
			l.cfg.Logger.Error("login", "err", err)
			writeError(w, http.StatusInternalServerError, t["failed"])
			return
		}
		_, absolute := l.cfg.Service.Timeouts()
		access.SetSessionCookie(w, res.Token, l.cfg.Secure(r), absolute)
		p := &access.Principal{Kind: access.KindUser, Name: res.User.Name, Role: res.User.Role, Region: res.User.Region, CSRF: res.CSRF}
		writeJSON(w, http.StatusOK, l.info(p))
	})
}

// SignOut serves POST SignOutPath for a signed-in user (the caller's
// principal is in the request context; the CSRF check is the router's).
func (l *Login) SignOut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := access.FromContext(r.Context())
		if err := l.cfg.Service.Logout(r.Context(), p, l.cfg.ClientAddr(r)); err != nil {
			l.cfg.Logger.Error("logout", "err", err)
		}
		access.ClearSessionCookie(w, l.cfg.Secure(r))
		w.WriteHeader(http.StatusNoContent)
	})
}

// Session serves GET SessionPath: who is signed in.
func (l *Login) Session() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := access.FromContext(r.Context())
		if !ok {
			writeError(w, http.StatusUnauthorized, "not signed in")
			return
		}
		writeJSON(w, http.StatusOK, l.info(p))
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
