package push_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/yiping-ioc/yiping/collectors/push"
)

// casesBody returns a CSV body of n cases with ids from offset.
func casesBody(offset, n int) string {
	var b strings.Builder
	b.WriteString("case_id,region_code,dept_code,item_code,channel,full_online,submitted_at,accepted_at,promised_days,closed_at,status\n")
	channels := []string{"online", "mobile", "window", "self_service"}
	regions := []string{"620802", "620821", "620102", "620100"}
	for i := offset; i < offset+n; i++ {
		fmt.Fprintf(&b, "C%08d,%s,D%d,I%d,%s,%d,2026-03-%02d 09:15:00,2026-03-%02d 10:00:00,%d,%s,%s\n",
			i, regions[i%4], i%7, i%50, channels[i%4], i%2, 1+i%28, 1+i%28, i%10,
			map[bool]string{true: fmt.Sprintf("2026-03-%02d 16:00:00", 1+(i+3)%28), false: ""}[i%3 != 0],
			map[bool]string{true: "closed", false: "accepted"}[i%3 != 0])
	}
	return b.String()
}

// BenchmarkPushIntake posts CSV bodies of 1,000 cases over loopback HTTP
// to a real listener; every request is parsed, journaled with fsync and
// filed into the engine before it is answered. clients is the number of
// concurrent posters (a multiple of GOMAXPROCS, as RunParallel makes them).
func BenchmarkPushIntake(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	for _, par := range []int{1, 4} {
		clients := par * procs
		if par == 1 {
			clients = 1
		}
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			const rows = 1000
			f := newFixture(b, push.Options{}, nil)
			url := serve(b, f.app) + "/api/ingest/cases"
			bodies := make([]string, 16)
			for i := range bodies {
				bodies[i] = casesBody(i*rows, rows)
			}
			var next atomic.Int64
			post := func(client *http.Client) bool {
				body := bodies[next.Add(1)%int64(len(bodies))]
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
				req.Header.Set("Content-Type", "text/csv")
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return false
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return false
				}
				return true
			}
			b.ResetTimer()
			if clients == 1 {
				client := &http.Client{}
				for range b.N {
					if !post(client) {
						return
					}
				}
			} else {
				b.SetParallelism(par)
				b.RunParallel(func(pb *testing.PB) {
					client := &http.Client{}
					for pb.Next() {
						if !post(client) {
							return
						}
					}
				})
			}
			b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
