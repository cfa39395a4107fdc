package bulletin

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/scoring"
)

// BenchmarkMonthlyPDF measures what one 月报 costs from the history store
// to the PDF (build, render the page, load it with ECharts and the font,
// print), goal ≤ 3 s, with its peer measured in the same run and the same
// Chromium: printing a blank A4 page, the floor any print pays. The ratio
// says how much the bulletin itself adds.
//
//	YIPING_CHROME=/usr/bin/chromium go test ./bulletin -run '^$' -bench MonthlyPDF -benchtime 10x
func BenchmarkMonthlyPDF(b *testing.B) {
	s := loadSample(b)
	bl, _ := mustParse(b, monthlyYAML).Lookup("gansu-monthly")
	bd, err := NewBuilder(BuilderConfig{History: s.st, Location: s.loc})
	if err != nil {
		b.Fatal(err)
	}
	pages, err := NewPages("")
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(pages)
	defer srv.Close()
	pr := NewPrinter(PrinterConfig{Chrome: chromePath(b)})
	defer pr.Close()
	ctx := context.Background()
	period := PeriodOf(Monthly, time.Date(2026, 9, 1, 0, 0, 0, 0, s.loc), s.loc)
	tiers := scoring.Default().Tiers()

	month := func() {
		d, err := bd.Build(ctx, bl, "620000", period)
		if err != nil {
			b.Fatal(err)
		}
		html, err := pages.Render(d, tiers)
		if err != nil {
			b.Fatal(err)
		}
		path, remove := pages.Add(html)
		defer remove()
		if _, err := pr.Print(ctx, srv.URL+path); err != nil {
			b.Fatal(err)
		}
	}
	blankPath, _ := pages.Add([]byte(`<!DOCTYPE html><html lang="zh-CN" data-ready="1"><head><meta charset="utf-8"><title>blank</title></head><body></body></html>`))
	blank := func() {
		if _, err := pr.Print(ctx, srv.URL+blankPath); err != nil {
			b.Fatal(err)
		}
	}
	month() // start Chromium and warm its caches (ECharts, font) once
	blank()
	var tMonth, tBlank time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		month()
		t1 := time.Now()
		blank()
		tMonth += t1.Sub(t0)
		tBlank += time.Since(t1)
	}
	b.StopTimer()
	n := time.Duration(b.N)
	b.ReportMetric(float64((tMonth / n).Milliseconds()), "ms/month-pdf")
	b.ReportMetric(float64((tBlank / n).Milliseconds()), "ms/blank-pdf")
	b.ReportMetric(float64(tMonth)/float64(tBlank), "ratio")
	// The goal (≤ 3 s) is read off this line, not asserted: a shared
	// machine's noise would make an assertion fail for nothing.
	b.Logf("month bulletin PDF %v (goal ≤ 3 s), blank A4 %v, ratio %.2f", tMonth/n, tBlank/n, float64(tMonth)/float64(tBlank))
}
