package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/yiping-ioc/yiping/collectors"
)

// TestDingTalkSign checks the signature against vectors computed apart
// (openssl dgst -sha256 -hmac, and Python's hmac), one with '+' and '/'
// so that the query encoding is tested too.
func TestDingTalkSign(t *testing.T) {
	tests := []struct {
		secret string
		ts     int64
		sign   string
		query  string // as it goes in the URL
	}{
		{"SEC0123456789abcdef", 1700000000000, "TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk=", "TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D"},
		{"SEC0123456789abcdef", 1700000000002, "VGvd0brDJp/nMZtR+XnA3yBIlhowT+TwkRPua0q1/jg=", "VGvd0brDJp%2FnMZtR%2BXnA3yBIlhowT%2BTwkRPua0q1%2Fjg%3D"},
		{"SECd7c9a0e5b1a4", 1733212800000, "2EfPqvMmfBHgEKYrNEy4da5fnU4hiA3XrnKjbPK9Inw=", "2EfPqvMmfBHgEKYrNEy4da5fnU4hiA3XrnKjbPK9Inw%3D"},
	}
	for _, tc := range tests {
		got := DingTalkSign(tc.secret, tc.ts)
		if got != tc.sign {
			t.Errorf("DingTalkSign(%q, %d) = %q, want %q", tc.secret, tc.ts, got, tc.sign)
		}
		// The notifier sends it URL-encoded, after the token.
		var raw string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw = r.URL.RawQuery
			fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
		}))
		d := &DingTalk{URL: srv.URL + "/robot/send?access_token=T", Secret: collectors.Secret(tc.secret), Now: func() time.Time { return time.UnixMilli(tc.ts) }}
		_, err := d.Notify(context.Background(), Message{ID: "x", Title: "t", Markdown: "m"})
		srv.Close()
		if want := fmt.Sprintf("access_token=T&timestamp=%d&sign=%s", tc.ts, tc.query); err != nil || raw != want {
			t.Errorf("query %q (%v), want %q", raw, err, want)
		}
	}
}

// TestPrefixNeverCutsACharacter cuts Chinese, emoji and ASCII at every
// length.
func TestPrefixNeverCutsACharacter(t *testing.T) {
	for _, s := range []string{"特别呈报：崆峒区超期未办结", "ok 👍🏽 done", "plain ascii", ""} {
		for n := 0; n <= len(s)+1; n++ {
			p := prefix(s, n)
			if !utf8.ValidString(p) || len(p) > n || !strings.HasPrefix(s, p) {
				t.Fatalf("prefix(%q, %d) = %q", s, n, p)
			}
			if n < len(s) && len(p) < n-3 {
				t.Fatalf("prefix(%q, %d) = %q: cut more than one character", s, n, p)
			}
		}
	}
}

// TestFit cuts long bodies to each channel's limit, at a character
// boundary, with the truncation note, and leaves short ones alone.
func TestFit(t *testing.T) {
	long := strings.Repeat("群众反映供水问题，涉及多个小区。\n", 800) // ~38 KB
	tests := []struct {
		name     string
		n        Limited
		markdown string
		cut      bool
	}{
		{"dingtalk short", &DingTalk{}, "一条短消息", false},
		{"dingtalk long", &DingTalk{}, long, true},
		{"wecom long", &WeCom{}, long, true},
		{"wecom one long line", &WeCom{}, strings.Repeat("超", 3000), true},
		{"wecom emoji", &WeCom{}, strings.Repeat("👍🏽", 1200), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Message{ID: "r#1", Title: "崆峒区 供水投诉激增", Markdown: tc.markdown, URL: "https://yiping.example/r/1", Severity: SeverityCritical}
			max := tc.n.Limits().MaxBytes
			got, ok := fit(m, tc.n.Size, max)
			if !ok {
				t.Fatal("does not fit")
			}
			if size := tc.n.Size(got); size > max {
				t.Errorf("size %d > %d", size, max)
			}
			if !utf8.ValidString(got.Markdown) {
				t.Errorf("invalid UTF-8 after the cut")
			}
			if cut := strings.HasSuffix(got.Markdown, truncatedNote); cut != tc.cut {
				t.Errorf("truncated = %v, want %v", cut, tc.cut)
			}
			if tc.cut && tc.n.Size(got) < max*9/10-len(truncatedNote) {
				t.Errorf("cut to %d of %d: too much thrown away", tc.n.Size(got), max)
			}
		})
	}
}

// TestDigest: one line per part, the highest severity, the (n more) line,
// a stable id.
func TestDigest(t *testing.T) {
	at := time.Date(2026, 12, 3, 1, 44, 0, 0, time.UTC)
	parts := []Message{
		{ID: "a#1", Title: "甲", Severity: SeverityInfo, RegionCode: "620802", RegionName: "崆峒区", Time: at, URL: "https://y/a"},
		{ID: "b#1", Title: "乙", Severity: SeverityCritical, RegionCode: "620802", RegionName: "崆峒区", Time: at.Add(time.Minute)},
	}
	d := digest(parts, 3, businessZone)
	if d.Severity != SeverityCritical || len(d.Parts) != 2 || d.RegionCode != "620802" || !d.Time.Equal(at.Add(time.Minute)) {
		t.Errorf("digest %+v", d)
	}
	for _, want := range []string{"1. 【提示】[甲](https://y/a) · 崆峒区 · 12-03 09:44", "2. 【紧急】乙 · 崆峒区 · 12-03 09:45", "另有 3 条（3 more）"} {
		if !strings.Contains(d.Markdown, want) {
			t.Errorf("markdown lacks %q:\n%s", want, d.Markdown)
		}
	}
	if again := digest(parts, 3, businessZone); again.ID != d.ID || !strings.HasPrefix(d.ID, "digest-") {
		t.Errorf("ids %q, %q", d.ID, again.ID)
	}
	if got := fmt.Sprint(d.IDs()); got != "[a#1 b#1]" {
		t.Errorf("IDs() = %s", got)
	}
}

// TestBackoff doubles from Initial up to Max and spreads by Jitter.
func TestBackoff(t *testing.T) {
	p := RetryPolicy{Initial: 10 * time.Second, Max: time.Minute, Jitter: 0.2}
	tests := []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{1, 0.5, 10 * time.Second},
		{2, 0.5, 20 * time.Second},
		{3, 0.5, 40 * time.Second},
		{4, 0.5, time.Minute},
		{30, 0.5, time.Minute},
		{1, 0, 8 * time.Second},
		{1, 1, 12 * time.Second},
		{4, 0.75, 66 * time.Second},
	}
	for _, tc := range tests {
		if got := p.Backoff(tc.attempt, tc.r); got != tc.want {
			t.Errorf("Backoff(%d, %v) = %v, want %v", tc.attempt, tc.r, got, tc.want)
		}
	}
	if d := (RetryPolicy{}).withDefaults(); d != DefaultRetry() {
		t.Errorf("defaults %+v", d)
	}
}
