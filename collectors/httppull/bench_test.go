package httppull_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/collectors/httppull"
	"github.com/yiping-ioc/yiping/internal/testkit"
	"github.com/yiping-ioc/yiping/internal/testkit/testengine"
	"github.com/yiping-ioc/yiping/journal"
	"github.com/yiping-ioc/yiping/record"
)

// staticCases serves n cases, each already encoded, by updated_since and
// page, so that the benchmark measures the puller rather than the server.
func staticCases(b *testing.B, n int) *httptest.Server {
	b.Helper()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	times := make([]time.Time, n)
	recs := make([][]byte, n)
	channels := []string{"online", "mobile", "window", "self_service"}
	regions := []string{"620802", "620821", "620102", "620100"}
	for i := range n {
		times[i] = base.Add(time.Duration(i) * time.Second)
		closed := ""
		if i%3 != 0 {
			closed = fmt.Sprintf("2026-03-%02d 16:00:00", 1+(i+3)%28)
		}
		recs[i], _ = json.Marshal(map[string]any{
			"case_id": fmt.Sprintf("C%08d", i), "region_code": regions[i%4], "dept_code": fmt.Sprintf("D%d", i%7),
			"item_code": fmt.Sprintf("I%d", i%50), "channel": channels[i%4], "full_online": i%2 == 0,
			"submitted_at": fmt.Sprintf("2026-03-%02d 09:15:00", 1+i%28), "accepted_at": fmt.Sprintf("2026-03-%02d 10:00:00", 1+i%28),
			"promised_days": i % 10, "closed_at": closed, "status": "accepted",
			"updated_at": times[i].Format(time.RFC3339),
		})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		from := 0
		if s := q.Get("updated_since"); s != "" {
			t, _ := time.Parse(time.RFC3339, s)
			from = sort.Search(n, func(i int) bool { return !times[i].Before(t) })
		}
		page, _ := strconv.Atoi(q.Get("page"))
		size, _ := strconv.Atoi(q.Get("page_size"))
		from = min(from+(page-1)*size, n)
		to := min(from+size, n)
		var buf bytes.Buffer
		buf.WriteString(`{"data":[`)
		for i := from; i < to; i++ {
			if i > from {
				buf.WriteByte(',')
			}
			buf.Write(recs[i])
		}
		buf.WriteString("]}")
		w.Header().Set("Content-Type", "application/json")
		w.Write(buf.Bytes())
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkHTTPPull pulls 20,000 cases from scratch, in pages of 1,000,
// from an httptest server over loopback: decoding, mapping, parsing,
// journaling (fsync per page) and filing into the engine.
func BenchmarkHTTPPull(b *testing.B) {
	const n = 20000
	srv := staticCases(b, n)
	for range b.N {
		b.StopTimer()
		j, err := journal.Open(b.TempDir(), quiet)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := j.Replay(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
		pl, err := httppull.New(httppull.Options{Kind: "cases", URL: srv.URL, PageSize: 1000}, collectors.Env{Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		eng := testengine.New(b, asOf)
		cfg := collectors.Config{Location: testkit.Shanghai(b), Sources: []collectors.Source{{Name: "bench", Type: "httppull", Schedule: "@every 1h", Connector: pl}}}
		r, err := collectors.NewRunner(cfg, eng, j, quiet, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := r.RunNow(context.Background(), "bench")
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if got := eng.Len()[record.KindCase]; got != n || res.Rejected != 0 {
			b.Fatalf("pulled %d cases, %d rejected", got, res.Rejected)
		}
		j.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
}
