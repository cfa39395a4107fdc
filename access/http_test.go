package access

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestSessionCookie(t *testing.T) {
	cases := []struct {
		tls    bool
		maxAge time.Duration
		want   string
	}{
		{true, 12 * time.Hour, "__Host-yiping_session=tok; Path=/; Max-Age=43200; HttpOnly; Secure; SameSite=Lax"},
		{false, 0, "yiping_session=tok; Path=/; HttpOnly; SameSite=Lax"},
	}
	for _, tc := range cases {
		w := httptest.NewRecorder()
		SetSessionCookie(w, "tok", tc.tls, tc.maxAge)
		if got := w.Header().Get("Set-Cookie"); got != tc.want {
			t.Errorf("tls=%v: %q, want %q", tc.tls, got, tc.want)
		}
		w = httptest.NewRecorder()
		ClearSessionCookie(w, tc.tls)
		if got := w.Header().Get("Set-Cookie"); !strings.Contains(got, "Max-Age=0") || !strings.HasPrefix(got, SessionCookieName(tc.tls)+"=;") {
			t.Errorf("clear tls=%v: %q", tc.tls, got)
		}
	}
}

func TestSessionToken(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: SessionCookiePlain, Value: "plain"})
	if SessionToken(r, false) != "plain" || SessionToken(r, true) != "" {
		t.Fatal("over TLS only the __Host- cookie counts")
	}
	r.AddCookie(&http.Cookie{Name: SessionCookieTLS, Value: "host"})
	if SessionToken(r, true) != "host" {
		t.Fatal("__Host- cookie not read")
	}
}

func TestScreenTokenFromRequest(t *testing.T) {
	cases := []struct {
		url, auth, want string
	}{
		{"/wall/hall?token=ypt_q", "", "ypt_q"},
		{"/wall/hall", "Bearer ypt_h", "ypt_h"},
		{"/wall/hall?token=ypt_q", "bearer  ypt_h ", "ypt_h"},
		{"/wall/hall", "Basic abc", ""},
		{"/wall/hall", "", ""},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", tc.url, nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		if got := ScreenToken(r); got != tc.want {
			t.Errorf("%s %q: %q, want %q", tc.url, tc.auth, got, tc.want)
		}
	}
}

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	cases := []struct {
		name, remote string
		xff          []string
		direct, fwd  string
	}{
		{"direct v4", "192.0.2.7:5555", nil, "192.0.2.7", "192.0.2.7"},
		{"direct v6", "[2001:db8::1]:443", nil, "2001:db8::1", "2001:db8::1"},
		{"untrusted peer's header ignored", "192.0.2.7:1", []string{"203.0.113.9"}, "192.0.2.7", "192.0.2.7"},
		{"one proxy", "10.1.1.1:1", []string{"203.0.113.9"}, "10.1.1.1", "203.0.113.9"},
		{"spoofed left entries", "10.1.1.1:1", []string{"1.2.3.4, 203.0.113.9"}, "10.1.1.1", "203.0.113.9"},
		{"two proxies", "10.1.1.1:1", []string{"203.0.113.9, 10.2.2.2"}, "10.1.1.1", "203.0.113.9"},
		{"two headers", "[::1]:1", []string{"1.2.3.4", "203.0.113.9"}, "::1", "203.0.113.9"},
		{"garbage", "10.1.1.1:1", []string{"<script>"}, "10.1.1.1", "10.1.1.1"},
		{"all trusted", "10.1.1.1:1", []string{"10.3.3.3"}, "10.1.1.1", "10.3.3.3"},
		{"no port", "pipe", nil, "pipe", "pipe"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := ClientAddr(r); got != tc.direct {
			t.Errorf("%s: ClientAddr = %q, want %q", tc.name, got, tc.direct)
		}
		if got := ForwardedClientAddr(r, trusted); got != tc.fwd {
			t.Errorf("%s: ForwardedClientAddr = %q, want %q", tc.name, got, tc.fwd)
		}
	}
}
