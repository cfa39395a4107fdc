package access

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Names the HTTP layer shares with the pages and the wall script.
const (
	// SessionCookieTLS is the session cookie's name over TLS: the
	// __Host- prefix makes the browser refuse it unless it is Secure,
	// Path=/ and without Domain, so no subdomain or plain-HTTP page can
	// plant one.
	SessionCookieTLS = "__Host-yiping_session"
	// SessionCookiePlain is its name without TLS (a developer's machine,
	// or behind a TLS-terminating proxy the server cannot see).
	SessionCookiePlain = "yiping_session"
	// CSRFHeader carries the session's CSRF token on every state-changing
	// request made by script; CSRFField carries it in a form.
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
	// ScreenTokenParam is the query parameter a kiosk URL carries its
	// screen token in (…/wall/hall?token=ypt_…); a script may send it as
	// "Authorization: Bearer ypt_…" instead.
	ScreenTokenParam = "token"
)

// SessionCookieName returns the session cookie's name for a request that
// arrived over TLS or not.
func SessionCookieName(tls bool) string {
	if tls {
		return SessionCookieTLS
	}
	return SessionCookiePlain
}

// NewSessionCookie returns the session cookie: HttpOnly (no script reads
// it), SameSite=Lax (not sent on cross-site posts), Path=/, Secure over
// TLS. maxAge 0 makes a browser-session cookie; otherwise it lasts maxAge
// (use the absolute timeout).
func NewSessionCookie(token string, tls bool, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name: SessionCookieName(tls), Value: token, Path: "/",
		HttpOnly: true, Secure: tls, SameSite: http.SameSiteLaxMode,
	}
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
	}
	return c
}

// SetSessionCookie sets the session cookie on a response.
func SetSessionCookie(w http.ResponseWriter, token string, tls bool, maxAge time.Duration) {
	http.SetCookie(w, NewSessionCookie(token, tls, maxAge))
}

// ClearSessionCookie tells the browser to drop the session cookie.
func ClearSessionCookie(w http.ResponseWriter, tls bool) {
	c := NewSessionCookie("", tls, 0)
	c.MaxAge = -1
	http.SetCookie(w, c)
}

// SessionToken returns the session cookie's value from r, or "". Over TLS
// only the __Host- cookie counts.
func SessionToken(r *http.Request, tls bool) string {
	c, err := r.Cookie(SessionCookieName(tls))
	if err != nil {
		return ""
	}
	return c.Value
}

// ScreenToken returns a screen token from r's Authorization header
// ("Bearer ypt_…") or its ScreenTokenParam query parameter, or "".
func ScreenToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
	}
	return r.URL.Query().Get(ScreenTokenParam)
}

// ClientAddr returns the IP address r came from (its RemoteAddr without the
// port). Behind a reverse proxy use ForwardedClientAddr.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ForwardedClientAddr returns the client's address for a request that may
// have come through proxies in trusted: when the peer is trusted, the
// right-most X-Forwarded-For entry that is not a trusted proxy (entries to
// its left are whatever the client claimed, so they are never believed).
// Otherwise it is ClientAddr.
func ForwardedClientAddr(r *http.Request, trusted []netip.Prefix) string {
	peer := ClientAddr(r)
	isTrusted := func(s string) bool {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !isTrusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		if _, err := netip.ParseAddr(h); err != nil {
			return peer // garbage from beyond the trusted hops
		}
		if !isTrusted(h) {
			return h
		}
		peer = h
	}
	return peer
}
