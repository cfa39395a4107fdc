package browsertest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWatchReportsFailedAnswers: a page without an icon makes the browser
// ask for /favicon.ico, whose 404 the watcher reports like any failed
// request; a page that links its icon loads clean.
func TestWatchReportsFailedAnswers(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/bare", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>bare</title><p>no icon`))
	})
	mux.HandleFunc("/iconic", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>iconic</title><link rel="icon" href="/icon.svg"><p>an icon`))
	})
	mux.HandleFunc("/icon.svg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Write([]byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>`))
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>broken</title><link rel="icon" href="/icon.svg"><script src="/missing.js"></script>`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := Chrome(t, Options{})
	watch := Watch(ctx)
	for _, tc := range []struct {
		page string
		want []string // problems, by prefix
	}{
		{"/bare", []string{"HTTP 404 " + srv.URL + "/favicon.ico"}},
		{"/iconic", nil},
		{"/broken", []string{"HTTP 404 " + srv.URL + "/missing.js"}},
	} {
		watch.Reset()
		if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+tc.page)); err != nil {
			t.Fatal(err)
		}
		// The icon is asked for after the load event.
		var got []string
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			got = watch.Problems()
			if len(got) >= len(tc.want) && len(tc.want) > 0 {
				break
			}
		}
		for _, w := range tc.want {
			if !slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(p, w) }) {
				t.Errorf("%s: problems %q, want %s", tc.page, got, w)
			}
		}
		if tc.want == nil && len(got) > 0 {
			t.Errorf("%s: problems %q, want none", tc.page, got)
		}
	}
}
