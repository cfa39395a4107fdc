package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/bulletin"
	"github.com/yiping-ioc/yiping/chrome"
	clusterarchive "github.com/yiping-ioc/yiping/cluster/archive"
	"github.com/yiping-ioc/yiping/console"
	"github.com/yiping-ioc/yiping/login"
	"github.com/yiping-ioc/yiping/notify"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/report"
	"github.com/yiping-ioc/yiping/store"
)

// The scheduled bulletins (快报, 周报, 月报; package bulletin): the
// bulletins file (the built-in sample unless --bulletins is given), a
// Chromium to print with, the archive under the data directory, the
// scheduler run with the other loops, delivery through the special
// reports' dispatcher, and the console's bulletins page and API.

// noChromium is what the console shows, and a run fails with, when no
// Chromium is found.
const noChromium = "未找到 Chromium，无法打印简报（设置 YIPING_CHROME） / Chromium not found: bulletins cannot be printed (set YIPING_CHROME)"

// findChrome returns the Chromium to print with, or "" and the reason
// the console shows when there is none.
func findChrome(getenv func(string) string) (string, string) {
	p, err := chrome.Find(getenv)
	if err != nil {
		if errors.Is(err, chrome.ErrNotFound) && err != chrome.ErrNotFound {
			return "", noChromium + ": " + strings.TrimPrefix(err.Error(), chrome.ErrNotFound.Error()+": ")
		}
		return "", noChromium
	}
	return p, ""
}

// bulletinState is what the app keeps of the bulletins.
type bulletinState struct {
	cfg     *bulletin.Config
	svc     *bulletin.Service
	sched   *bulletin.Scheduler
	page    *console.Bulletins
	clock   bulletin.Clock
	problem string // why nothing can be printed; "" when Chromium was found
	archive *bulletin.Archive
}

// buildBulletins reads the bulletins file (the built-in sample on the
// demo, none otherwise), checks the receivers it names
// against the dispatcher's, and opens the archive, the printer, the
// service, the scheduler and the console page. It runs after
// buildReports (the dispatcher, the special reports).
func (a *App) buildBulletins() error {
	cfg := &bulletin.Config{}
	switch {
	case a.opts.BulletinsFile != "":
		var err error
		if cfg, err = bulletin.Load(a.opts.BulletinsFile); err != nil {
			return fmt.Errorf("bulletins: %w", err)
		}
	case a.opts.Demo:
		// The demo prints the sample's bulletins; a deployment says which
		// it wants.
		cfg = bulletin.Default()
	default:
		a.component("bulletin").Info("no bulletins scheduled: give --bulletins (see bulletin/sample.yaml)")
	}
	if err := cfg.UnknownReceivers(a.dispatch.Receivers()); err != nil {
		return fmt.Errorf("bulletins: %w", err)
	}
	st := &bulletinState{cfg: cfg, clock: a.opts.BulletinClock}
	if st.clock == nil {
		st.clock = bulletin.SystemClock{}
	}
	log := a.component("bulletin")
	chrome, problem := findChrome(a.opts.Getenv)
	st.problem = problem
	if problem != "" && len(cfg.Bulletins) > 0 {
		// Said once here; each run that comes fails with it, once.
		log.Warn("bulletins are scheduled but cannot be printed", "reason", problem)
	}
	archive, err := bulletin.OpenArchive(filepath.Join(a.opts.DataDir, "bulletins"), log)
	if err != nil {
		return err
	}
	st.archive = archive
	builder, err := bulletin.NewBuilder(bulletin.BuilderConfig{
		History: a.hist, Regions: region.Default(), Targets: a.targets, Specials: reportSpecials{a.reports},
		Location: a.loc, Now: st.clock.Now, Logger: log,
	})
	if err != nil {
		return err
	}
	printer := bulletin.NewPrinter(bulletin.PrinterConfig{Chrome: chrome, Logger: log})
	byName := map[string]*bulletin.Bulletin{}
	for _, b := range cfg.Bulletins {
		byName[b.Name] = b
	}
	link := bulletinLink(a.opts.AllowedOrigins)
	if st.svc, err = bulletin.NewService(bulletin.ServiceConfig{
		Builder: builder, Printer: printer, Archive: archive, Targets: a.targets, Logger: log,
		Done: func(ctx context.Context, e bulletin.Entry) {
			if a.node != nil {
				// The next leader must know it was issued (cluster/archive).
				if err := clusterarchive.Share(ctx, a.node.bulletins, archive, e); err != nil {
					log.Warn("bulletin not shared with the cluster yet; the next term's sync retries", "id", e.ID, "err", err)
				}
			}
			if b := byName[e.Bulletin]; b != nil && len(b.Receivers) > 0 {
				a.deliverBulletin(ctx, archive, e, link, b.Receivers)
			}
		},
	}); err != nil {
		printer.Close()
		return err
	}
	a.closers = append(a.closers, func() { st.svc.Close() })
	issue := st.svc.Issue
	if problem != "" {
		issue = func(context.Context, *bulletin.Bulletin, bulletin.Run) error { return errors.New(problem) }
	}
	if st.sched, err = bulletin.NewScheduler(bulletin.SchedulerConfig{
		Bulletins: cfg.Bulletins, Calendar: a.cal, Issue: issue, Issued: st.svc.Issued, Clock: st.clock, Logger: log,
	}); err != nil {
		return err
	}
	st.page, err = console.NewBulletins(console.BulletinsConfig{
		Archive: archive, Bulletins: cfg.Bulletins, Regions: region.Default(), Location: a.loc,
		Covers:     covers,
		Issue:      a.issueBulletinNow,
		Problem:    func() string { return st.problem },
		SessionAPI: login.SessionPath, Logger: log,
	})
	a.bulletins = st
	return err
}

// covers reports whether the caller of ctx may see region.
func covers(ctx context.Context, reg string) bool {
	p, ok := access.FromContext(ctx)
	return ok && p.Covers(reg)
}

// issueBulletinNow prints the latest due period of bulletin name for one
// of its regions now (the console's "print now").
func (a *App) issueBulletinNow(ctx context.Context, name, reg string) (bulletin.Entry, error) {
	st := a.bulletins
	b, ok := st.cfg.Lookup(name)
	if !ok || !slices.Contains(b.Regions, reg) {
		return bulletin.Entry{}, fmt.Errorf("%w: %s %s", bulletin.ErrNotFound, name, reg)
	}
	run, ok := b.LastRun(st.clock.Now(), a.cal)
	if !ok {
		return bulletin.Entry{}, fmt.Errorf("bulletin %s: no period is due yet", name)
	}
	return st.svc.Produce(ctx, b, reg, run.Period)
}

// runBulletins runs the scheduler until ctx ends, once the polled sources
// have been pulled once (so that a catch-up run at start does not print
// an empty store).
func (a *App) runBulletins(ctx context.Context) {
	if a.node != nil {
		// A new leader first learns what earlier leaders issued, so that
		// it issues (and sends) no period twice. Retried until it works:
		// scheduling without it could send a bulletin again.
		log := a.component("bulletin")
		if !retry(ctx, log, "bulletin archive sync (before scheduling)", func() error {
			n, err := clusterarchive.Sync(ctx, a.node.bulletins, a.bulletins.archive)
			if err == nil {
				log.Info("bulletin archive synced with the cluster", "fetched", n.Down, "shared", n.Up)
			}
			return err
		}) {
			return
		}
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for !a.firstPullsDone() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	// A first start catches up the latest run of every bulletin: wait
	// (a while at most) for the history of those periods, which the
	// backfiller writes a few minutes after a fresh start, rather than
	// archive bulletins of an empty store.
	waited, deadline := false, time.Now().Add(historyWait)
	for !a.bulletinHistoryReady(ctx) && time.Now().Before(deadline) {
		if !waited {
			a.component("bulletin").Info("waiting for the history of the periods due before catching up", "at_most", historyWait.String())
			waited = true
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	if err := a.bulletins.sched.Run(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("bulletin scheduler stopped", "err", err)
	}
}

// historyWait bounds how long the scheduler waits at start for the
// history of the periods it will catch up.
const historyWait = 10 * time.Minute

// bulletinHistoryReady reports whether the history store holds a value
// for the latest due period of every bulletin not yet archived (its first
// region and indicator, as of the period's end).
func (a *App) bulletinHistoryReady(ctx context.Context) bool {
	st := a.bulletins
	for _, b := range st.cfg.Bulletins {
		run, ok := b.LastRun(st.clock.Now(), a.cal)
		if !ok || len(b.Regions) == 0 || len(b.Indicators) == 0 || st.svc.Issued(b, run) {
			continue
		}
		pts, err := a.hist.AsOf(ctx, store.Selector{Indicator: b.Indicators[0], Period: b.Type.StorePeriod(), Regions: b.Regions[:1]},
			run.Period.End.Add(-time.Nanosecond))
		if err != nil || len(pts) == 0 {
			return false
		}
	}
	return true
}

// deliverBulletin tells the bulletin's receivers that it is out: the
// title, period and region with the download link (robots, webhooks) and
// the PDF attached (e-mail, within its size cap).
func (a *App) deliverBulletin(ctx context.Context, archive *bulletin.Archive, e bulletin.Entry, link string, receivers []string) {
	url := link + console.BulletinURL(e.ID)
	text := fmt.Sprintf("%s（%s，%s）已生成，共 %d 页。", e.Title, e.RegionName, e.PeriodLabel, e.Pages)
	m := notify.Message{
		ID: "bulletin-" + e.ID + "#" + e.SHA256[:min(12, len(e.SHA256))], Title: e.Title,
		// The channels add the link (查看详情) from URL.
		Markdown: text, Text: text, URL: url,
		Severity: notify.SeverityInfo, RegionCode: e.Region, RegionName: e.RegionName, Time: e.GeneratedAt,
		Labels: map[string]string{"kind": "bulletin", "bulletin": e.Bulletin, "type": string(e.Type), "period": e.Period},
	}
	if e.Size <= notify.DefaultMaxAttachments {
		if f, _, err := archive.Open(e.ID); err == nil {
			data := make([]byte, e.Size)
			_, err := io.ReadFull(f, data)
			f.Close()
			if err == nil {
				m.Attachments = []notify.Attachment{{Name: e.Title + ".pdf", ContentType: "application/pdf", Data: data}}
			}
		}
	}
	if err := a.dispatch.Send(ctx, m, receivers...); err != nil {
		a.log.Warn("bulletin delivery", "id", e.ID, "err", err)
	}
}

// bulletinLink is the origin bulletin links start with: the first
// allowed origin, else none (a bare path).
func bulletinLink(origins []string) string {
	if len(origins) == 0 {
		return ""
	}
	return strings.TrimSuffix(origins[0], "/")
}

// reportSpecials gives a bulletin the special reports of its period.
type reportSpecials struct{ m *report.Manager }

func (s reportSpecials) Specials(ctx context.Context, reg string, from, to time.Time) ([]bulletin.Special, error) {
	rs, err := s.m.List(ctx, report.Filter{Region: reg, Since: from, Until: to, Limit: 1000})
	if err != nil {
		return nil, err
	}
	out := make([]bulletin.Special, 0, len(rs))
	for _, r := range rs {
		fired, _ := time.Parse(time.RFC3339, r.FiredAt)
		out = append(out, bulletin.Special{
			Title: r.Title, Region: r.Region, RegionName: r.RegionName, Text: r.Text, FiredAt: fired,
			Severity: map[report.Severity]string{report.Critical: "严重", report.Warning: "预警", report.Info: "提示"}[r.Severity],
			State:    map[string]string{"firing": "未解除", "acknowledged": "已确认", "resolved": "已解除"}[r.State],
		})
	}
	return out, nil
}

// bulletinRoutes are the console's bulletins page and its API.
func (a *App) bulletinRoutes() []route {
	p := a.bulletins.page
	region := []regionParam{{in: "query", name: "region"}}
	// The API is the leader's: it prints and archives.
	return []route{
		{method: "GET", path: console.BulletinsPagePath, access: user, page: true, noStore: true, http: p.Page(), regions: region},
		{method: "GET", path: p.ScriptPath(), access: public, http: p.Script()},
		{method: "GET", path: p.StylePath(), access: public, http: p.Style()},
		{method: "GET", path: console.BulletinsAPIPath, access: user, noStore: true, leader: true, http: p.List(), regions: region},
		// Scoped by the entry's region in the handler (404 outside).
		{method: "GET", path: console.BulletinPDFPath, access: user, noStore: true, leader: true, audit: access.ActionExport, http: p.PDF()},
		// Printing now is for the duty desk: administrators and operators.
		{method: "POST", path: console.BulletinsIssuePath, access: user, roles: []access.Role{access.RoleAdmin, access.RoleOperator}, noStore: true, leader: true, http: p.Issue(), regions: region},
	}
}
