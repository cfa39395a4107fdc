package demo

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/internal/testkit"
)

// TestPagingContract pages a day of every kind with small pages and
// checks the result against one big page: same records, same order, none
// lost or repeated, and page boundaries that fall between records with
// equal updated_at (which a cursor of updated_at alone would lose).
func TestPagingContract(t *testing.T) {
	loc := testkit.Shanghai(t)
	d, _ := newTestDemo(t, time.Date(2026, 3, 10, 11, 0, 0, 0, loc), 6*time.Hour, nil)
	h := d.Handler()
	for _, kind := range kindNames {
		t.Run(kind, func(t *testing.T) {
			whole, _ := pull(t, h, kind, "", MaxLimit)
			if len(whole) == 0 {
				t.Fatal("no records")
			}
			all := rows(t, whole)
			idf := idField[indexOf(kindNames, kind)]
			for i := 1; i < len(all); i++ {
				a, b := all[i-1], all[i]
				if a["updated_at"] > b["updated_at"] || a["updated_at"] == b["updated_at"] && a[idf] >= b[idf] {
					t.Fatalf("not in (updated_at, id) order: %v then %v", a, b)
				}
			}
			for _, limit := range []int{3, 7} {
				q := url.Values{"limit": {fmt.Sprint(limit)}}
				var got []Row
				tiesAtBoundary := 0
				for {
					page := get(t, h, kind, q)
					if len(page.Records) > limit {
						t.Fatalf("limit %d: a page of %d", limit, len(page.Records))
					}
					pr := rows(t, page.Records)
					if len(got) > 0 && len(pr) > 0 && got[len(got)-1]["updated_at"] == pr[0]["updated_at"] {
						tiesAtBoundary++
					}
					got = append(got, pr...)
					if page.NextPageToken == "" {
						break
					}
					if page.Cursor != pr[len(pr)-1]["updated_at"] {
						t.Fatalf("cursor %q, want the last record's updated_at %q", page.Cursor, pr[len(pr)-1]["updated_at"])
					}
					q.Set("page_token", page.NextPageToken)
				}
				if len(got) != len(all) {
					t.Fatalf("limit %d: %d records, want %d", limit, len(got), len(all))
				}
				for i := range all {
					if got[i][idf] != all[i][idf] || got[i]["updated_at"] != all[i]["updated_at"] {
						t.Fatalf("limit %d: record %d is %v, want %v", limit, i, got[i], all[i])
					}
				}
				t.Logf("limit %d: %d records, %d page boundaries inside equal updated_at", limit, len(got), tiesAtBoundary)
				if kind == "calls" && tiesAtBoundary == 0 {
					t.Errorf("limit %d: no page boundary fell inside equal timestamps; the test proves nothing about ties", limit)
				}
			}
		})
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// TestIncrementalPolling polls every kind with the returned cursor while
// simulated time advances in irregular steps, as the HTTP-pull collector
// does, and checks that what it ends up with is exactly what the demo
// holds: every record, in its newest version.
func TestIncrementalPolling(t *testing.T) {
	loc := testkit.Shanghai(t)
	d, clk := newTestDemo(t, time.Date(2026, 3, 10, 8, 0, 0, 0, loc), 12*time.Hour, nil)
	h := d.Handler()
	steps := []time.Duration{0, time.Second, 59 * time.Second, time.Minute, 7 * time.Minute, 45 * time.Minute, 3 * time.Hour, 8 * time.Hour}
	for _, kind := range kindNames {
		t.Run(kind, func(t *testing.T) {
			idf := idField[indexOf(kindNames, kind)]
			have := map[string]Row{}
			cursor := ""
			for _, step := range steps {
				clk.Add(step)
				d.Advance()
				raws, next := pull(t, h, kind, cursor, 500)
				inRun := map[string]bool{}
				for _, r := range rows(t, raws) {
					id := r[idf]
					if inRun[id] {
						t.Fatalf("%s %s served twice in one poll", kind, id)
					}
					inRun[id] = true
					if old, ok := have[id]; ok && old["updated_at"] >= r["updated_at"] {
						t.Fatalf("%s %s came again without a newer updated_at: %v then %v", kind, id, old, r)
					}
					have[id] = r
				}
				if cursor != "" && next < cursor {
					t.Fatalf("cursor went back from %s to %s", cursor, next)
				}
				cursor = next
			}
			final, _ := pull(t, h, kind, "", MaxLimit)
			want := rows(t, final)
			if len(have) != len(want) {
				t.Fatalf("polling collected %d records, the demo holds %d", len(have), len(want))
			}
			for _, w := range want {
				g := have[w[idf]]
				for f, v := range w {
					if g[f] != v {
						t.Fatalf("%s %s: polled %v, want %v", kind, w[idf], g, w)
					}
				}
			}
			t.Logf("%d records, all current", len(want))
		})
	}
}

// TestUpdatedSince checks the boundary: strictly after updated_since.
func TestUpdatedSince(t *testing.T) {
	loc := testkit.Shanghai(t)
	d, _ := newTestDemo(t, time.Date(2026, 3, 10, 11, 0, 0, 0, loc), 2*time.Hour, nil)
	h := d.Handler()
	raws, _ := pull(t, h, "calls", "", MaxLimit)
	all := rows(t, raws)
	// a second with several calls
	var tie string
	for i := 1; i < len(all); i++ {
		if all[i]["updated_at"] == all[i-1]["updated_at"] {
			tie = all[i]["updated_at"]
			break
		}
	}
	if tie == "" {
		t.Fatal("no two calls in the same second")
	}
	tt, _ := time.Parse(time.RFC3339, tie)
	count := func(pred func(string) bool) int {
		n := 0
		for _, r := range all {
			if pred(r["updated_at"]) {
				n++
			}
		}
		return n
	}
	tests := []struct {
		since string
		want  int
	}{
		{tie, count(func(u string) bool { return u > tie })},
		{tt.UTC().Format(time.RFC3339), count(func(u string) bool { return u > tie })},
		{tt.Add(-time.Second).Format(time.RFC3339), count(func(u string) bool { return u >= tie })},
		{tt.Add(-500 * time.Millisecond).Format(time.RFC3339Nano), count(func(u string) bool { return u >= tie })},
		{"2000-01-01T00:00:00Z", len(all)},
		{"2100-01-01T00:00:00+08:00", 0},
	}
	for _, tc := range tests {
		got, cursor := pull(t, h, "calls", tc.since, MaxLimit)
		if len(got) != tc.want {
			t.Errorf("updated_since=%s: %d records, want %d", tc.since, len(got), tc.want)
		}
		if tc.want == 0 && cursor != tc.since {
			t.Errorf("updated_since=%s with nothing newer: cursor %q, want it back", tc.since, cursor)
		}
	}
}

func TestAPIErrors(t *testing.T) {
	loc := testkit.Shanghai(t)
	d, _ := newTestDemo(t, time.Date(2026, 3, 10, 11, 0, 0, 0, loc), time.Hour, nil)
	h := d.Handler()
	tests := []struct {
		method, target string
		code           int
		want           string
	}{
		{"GET", "/api/v1/banjian", http.StatusNotFound, "unknown record kind"},
		{"GET", "/api/v1/cases?limit=0", http.StatusBadRequest, "limit"},
		{"GET", "/api/v1/cases?limit=x", http.StatusBadRequest, "limit"},
		{"GET", "/api/v1/cases?updated_since=2026-03-10", http.StatusBadRequest, "updated_since"},
		{"GET", "/api/v1/cases?updated_since=2026-03-10T08:00:00", http.StatusBadRequest, "updated_since"},
		{"GET", "/api/v1/cases?page_token=nonsense", http.StatusBadRequest, "page_token"},
		{"POST", "/api/v1/cases", http.StatusMethodNotAllowed, ""},
		{"GET", "/api/v1/cases?limit=999999", http.StatusOK, `"records"`},
		{"GET", "/api/v1/status", http.StatusOK, `"lagging_counties":["620821","621126","621223"]`},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.target, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("%s %s: %d %.200s, want %d with %q", tt.method, tt.target, rec.Code, rec.Body, tt.code, tt.want)
		}
		if tt.code == http.StatusBadRequest {
			var e struct{ Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Errorf("%s: error body %q is not {\"error\": ...}", tt.target, rec.Body)
			}
		}
	}
	page := get(t, h, "cases", url.Values{"limit": {"999999"}})
	if len(page.Records) > MaxLimit {
		t.Errorf("limit=999999 gave %d records, want at most %d", len(page.Records), MaxLimit)
	}
}

// TestConcurrentUse reads every kind while time advances (run it with
// -race): readers never see a half-generated minute.
func TestConcurrentUse(t *testing.T) {
	loc := testkit.Shanghai(t)
	d, clk := newTestDemo(t, time.Date(2026, 3, 10, 9, 0, 0, 0, loc), 2*time.Hour, nil)
	h := d.Handler()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, kind := range kindNames {
		wg.Go(func() {
			cursor := ""
			for {
				select {
				case <-stop:
					return
				default:
				}
				req := httptest.NewRequest("GET", "/api/v1/"+kind+"?limit=200&updated_since="+url.QueryEscape(cursor), nil)
				if cursor == "" {
					req = httptest.NewRequest("GET", "/api/v1/"+kind+"?limit=200", nil)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				var page rawPage
				if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
					t.Errorf("%s: %v", kind, err)
					return
				}
				cursor = page.Cursor
			}
		})
	}
	for range 30 {
		clk.Add(7 * time.Minute)
		d.Advance()
		_ = d.Stats()
	}
	close(stop)
	wg.Wait()
}
