package httpjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
)

type body struct {
	Name string `json:"name"`
	Days int    `json:"days"`
}

func TestDecode(t *testing.T) {
	for _, c := range []struct {
		name, ct, body string
		emptyOK        bool
		status         int // 0: accepted
		want           string
	}{
		{"valid", "application/json", `{"name":"崆峒","days":3}`, false, 0, ""},
		{"valid, no content type", "", `{"days":3}`, false, 0, ""},
		{"charset", "application/json; charset=utf-8", `{"days":3}`, false, 0, ""},
		{"form", "application/x-www-form-urlencoded", `days=3`, false, 415, "application/json"},
		{"too large", "application/json", `{"name":"` + strings.Repeat("x", 100) + `"}`, false, 413, "64"},
		{"empty", "application/json", " \n", false, 400, "missing JSON body"},
		{"empty allowed", "application/json", "", true, 0, ""},
		{"unknown field", "application/json", `{"dyas":3}`, false, 400, "field dyas: unknown field"},
		{"wrong type", "application/json", `{"days":"3"}`, false, 400, "field days: wrong type, want int"},
		{"not an object", "application/json", `[1]`, false, 400, "not a valid JSON object"},
		{"trailing data", "application/json", `{"days":3} {}`, false, 400, "data after the JSON object"},
		{"broken", "application/json", `{"days":`, false, 400, "not a valid JSON object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
			if c.ct != "" {
				r.Header.Set("Content-Type", c.ct)
			}
			var v body
			err := Decode(r, &v, 64, c.emptyOK)
			var p *Problem
			switch {
			case c.status == 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case c.status == 0:
			case !errors.As(err, &p):
				t.Fatalf("error %v, want a problem %d", err, c.status)
			case p.Status != c.status || !strings.Contains(p.Error(), c.want):
				t.Errorf("%d %q, want %d containing %q", p.Status, p.Error(), c.status, c.want)
			}
		})
	}
}

// TestDecodeReadsNoMoreThanItsBound: a body far beyond the bound is not
// read whole.
func TestDecodeReadsNoMoreThanItsBound(t *testing.T) {
	src := &countingReader{r: strings.NewReader(`{"name":"` + strings.Repeat("x", 1<<20) + `"}`)}
	r := httptest.NewRequest("POST", "/", src)
	var p *Problem
	if err := Decode(r, &body{}, 1024, false); !errors.As(err, &p) || p.Status != 413 {
		t.Fatalf("%v, want 413", err)
	}
	if src.n > 1024+4096 {
		t.Errorf("read %d bytes of a 1 MiB body with a 1 KiB bound", src.n)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func FuzzDecode(f *testing.F) {
	f.Add(`{"name":"a","days":1}`)
	f.Add(`{"days":"x"}`)
	f.Fuzz(func(t *testing.T, s string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(s))
		var v body
		if err := Decode(r, &v, 256, false); err != nil {
			var p *Problem
			if !errors.As(err, &p) || p.Status < 400 || p.Status > 499 {
				t.Fatalf("%q: %v is not a 4xx problem", s, err)
			}
		}
	})
}

func TestHandler(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	errDomain := errors.New("domain: no such thing")
	translate := func(err error) error {
		if errors.Is(err, errDomain) {
			p := Fail(http.StatusNotFound, "没有", "none")
			p.Extra = map[string]string{"state": "issued"}
			return p
		}
		return err
	}
	for _, c := range []struct {
		name     string
		signedIn bool
		status   int
		v        any
		err      error
		code     int
		body     string
	}{
		{"not signed in", false, 0, "x", nil, 401, `{"error":"请先登录 / sign in first"}`},
		{"value", true, 0, map[string]int{"n": 1}, nil, 200, `{"n":1}`},
		{"created", true, 201, map[string]int{"n": 1}, nil, 201, `{"n":1}`},
		{"no content", true, 0, nil, nil, 204, ``},
		{"problem", true, 0, nil, Field("days", "应为正数", "must be positive"), 400, `{"error":"字段 days：应为正数 / field days: must be positive"}`},
		{"translated", true, 0, nil, errDomain, 404, `{"error":"没有 / none","state":"issued"}`},
		{"internal", true, 0, nil, errors.New("disk on fire"), 500, `{"error":"内部错误，请稍后再试 / internal error; try again later"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := Handler(log, "test api", translate, func(*http.Request, *access.Principal) (int, any, error) { return c.status, c.v, c.err })
			r := httptest.NewRequest("GET", "/x", nil)
			if c.signedIn {
				r = r.WithContext(access.WithPrincipal(r.Context(), &access.Principal{Kind: access.KindUser, Name: "li"}))
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != c.code || strings.TrimSpace(rec.Body.String()) != c.body {
				t.Errorf("%d %s, want %d %s", rec.Code, rec.Body, c.code, c.body)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			if c.body != "" && !json.Valid(rec.Body.Bytes()) {
				t.Errorf("not JSON: %s", rec.Body)
			}
		})
	}
	if !strings.Contains(logs.String(), "disk on fire") || strings.Count(logs.String(), "\n") != 1 {
		t.Errorf("want one log line for the 500, got %q", logs.String())
	}
}

func TestInstant(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	for _, c := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"", time.Time{}, false},
		{"2026-10-01", time.Date(2026, 10, 1, 0, 0, 0, 0, sh), false},
		{"2026-10-01T08:00:00Z", time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC), false},
		{"2026-13-01", time.Time{}, true},
		{"yesterday", time.Time{}, true},
	} {
		got, err := Instant(c.in, sh)
		if (err != nil) != c.bad || !got.Equal(c.want) {
			t.Errorf("Instant(%q) = %v, %v", c.in, got, err)
		}
	}
}
