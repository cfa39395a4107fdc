package server

import (
	"net/http"
)

// ContentSecurityPolicy is the policy of every response: scripts, styles,
// fonts and maps come from this server only (wall screens run on intranets
// with no internet anyway), no inline or injected script runs, and no other
// site may frame a page. Styles may be inline: the screens position their
// widgets with style attributes and ECharts styles its SVG.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'self'"

// SecureHeaders sets the security headers on every response: the content
// security policy, no MIME sniffing, no framing by other sites, no
// referrer leaving the site.
func SecureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "SAMEORIGIN")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// NoStore marks the responses of next as not to be kept by browsers or
// proxies: API answers and exports carry data of a region the next user of
// the machine may not be allowed to see.
func NoStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// LimitBody refuses a body announced larger than max with 413 before
// anything is read, and stops reading one that turns out larger.
func LimitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			TooLarge(w, max)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		next.ServeHTTP(w, r)
	})
}
