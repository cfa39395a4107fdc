// Package bulletin makes the scheduled reports of SPEC.md section 8: the
// daily 快报, the weekly 周报 and the monthly 月报 of a region, printed to
// A4 PDF and archived.
//
// # Schedule
//
// A YAML file (sample.yaml; Parse, Load) lists the bulletins: type,
// regions, time of day and a working-day rule — the N-th working day of
// the week or month, or "before the 20th" (the last working day before the
// 20th of the month) — all in the business time zone of a
// calendar.Calendar. When a period is issued is a pure function of the
// period and the calendar (Bulletin.RunAt; NextRun and Following walk the
// issues in order; the rules are written out in schedule.go). Daily
// bulletins may use a cron schedule (robfig/cron) instead. The Scheduler
// issues each period of each bulletin once, on an injected Clock, and at
// start catches up the latest run a restart missed.
//
// # Content
//
// Builder.Build reads the history store (store.Store's AsOf) exactly as of
// the period's last nanosecond: the region's own value of every indicator
// reported, with its target and status (package scoring), 环比 against the
// previous period and 同比 against the same period last year as of their
// ends (shown "—" where the store has nothing); the ranking of the
// region's children per indicator (package ranking, exact), the composite
// score (综合指数) and tier of each; the lagging units (below the target,
// or at the bottom of a ranking); and the period's special reports,
// through the small Specials interface the app backs with package report.
//
// # Page and PDF
//
// Pages renders a Data to an html/template page in zh-CN (every text
// escaped, no inline script: Content-Security-Policy script-src 'self')
// whose charts are composed with go-echarts and drawn in the browser by
// the ECharts of package assets with the SVG renderer and animation off;
// the text is in the Noto Sans SC font of package assets. The page's CSS
// sets A4 with margins, a title block, break-inside: avoid on every chart
// wrapper (and table row), and fixed widths so that what is laid out on
// load is what prints. bulletin.js marks the page ready once the fonts are
// loaded and every chart has finished rendering.
//
// Printer prints in a real headless Chromium through chromedp
// (page.printToPDF, A4, page numbers "n / N" in the footer template),
// started with a fresh profile and no background networking. The page is
// served by Pages on a loopback listener of its own (Service), so
// everything it loads comes from Yiping, with no internet.
//
// # Archive
//
// Archive keeps each bulletin as <id>.pdf with a JSON sidecar <id>.json
// (Entry: type, region, period, title, keywords, pages, size, SHA-256) in
// a directory, written atomically (temporary file, fsync, rename); List
// searches by type, bulletin, region (and below), period and text, Open
// serves the PDF for download, and the index is rebuilt from the sidecars
// when the archive opens.
//
// # Wiring
//
// The app builds a Builder (history store, regions, targets, special
// reports), a Printer, an Archive under its data directory and a Service
// of them, and runs a Scheduler with Service.Issue and Service.Issued;
// Service's Done callback delivers each archived bulletin's link.
package bulletin
