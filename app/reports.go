package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/console"
	"github.com/yiping-ioc/yiping/dispatch"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/login"
	"github.com/yiping-ioc/yiping/mobile"
	"github.com/yiping-ioc/yiping/notify"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/report"
	"github.com/yiping-ioc/yiping/reportapi"
	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/trend"
	"github.com/yiping-ioc/yiping/widget"
)

// The special reports (特别呈报): the rules judged after every feed cycle
// that published something and on a slow tick, their lifecycle kept in the
// access database, notifications through the dispatcher, boards on the
// report topics.

// reportRoot is the deployment's top region, where reports of sources
// (which have no region) are filed.
const reportRoot = "620000"

// evaluateEvery judges the time-based rules (silent sources, escalation,
// repeats, quiet hours ending) when no value changes.
const evaluateEvery = 15 * time.Second

// buildReports reads the rules (the built-in sample unless a file is
// given), the receivers they name (the rules file's own, and on the demo
// its robot), and opens the manager and the dispatcher.
func (a *App) buildReports(ctx context.Context) error {
	rules := report.Default()
	if a.opts.RulesFile != "" {
		var err error
		if rules, err = report.Load(a.opts.RulesFile); err != nil {
			return fmt.Errorf("rules: %w", err)
		}
	}
	a.rules = rules
	cfgs := rules.Receivers
	have := map[string]bool{}
	for _, c := range cfgs {
		have[c.Name] = true
	}
	var receivers []notify.Receiver
	built, err := notify.BuildReceivers(cfgs, notify.BuildOptions{Location: a.loc})
	if err != nil {
		return fmt.Errorf("rules %s: receivers: %w", rules.File, err)
	}
	receivers = append(receivers, built...)
	if a.demo != nil {
		// The demo's duty officers at every level read the demo
		// platform's DingTalk robot.
		for _, name := range []string{"county-duty", "city-duty", "province-duty"} {
			if !have[name] {
				receivers = append(receivers, notify.Receiver{Name: name, Notifier: &notify.DingTalk{URL: a.demo.RobotURL, Secret: collectors.Secret(a.demo.RobotSecret), Location: a.loc}})
			}
		}
	}
	names := make([]string, 0, len(receivers))
	for _, r := range receivers {
		names = append(names, r.Name)
	}
	if a.opts.RulesFile == "" {
		// The built-in rules name the demo's duty officers; without the
		// demo nobody is notified, and the screens still show them.
		if dropped := rules.KeepReceivers(names); len(dropped) > 0 {
			a.log.Info("special reports go to the screens only: the built-in rules name receivers that are not configured; give --rules with a receivers section",
				"receivers", strings.Join(dropped, ","))
		}
	} else if err := rules.UnknownReceivers(names); err != nil {
		return err
	}
	if a.deliveries, err = notify.NewSQLLog(ctx, a.accessStore); err != nil {
		return err
	}
	if a.dispatch, err = notify.New(notify.Config{Receivers: receivers, Log: a.deliveries, Logger: a.component("notify"), Location: a.loc}); err != nil {
		return err
	}
	a.reports, err = report.New(ctx, report.Config{
		Rules: rules, Store: a.accessStore, Calendar: a.cal, Regions: region.Default(), Targets: a.targets,
		Past: historyPast{a.hist}, Sender: dispatchSender{d: a.dispatch, link: reportLink(a.opts.AllowedOrigins)}, Publisher: a.pub, Root: reportRoot,
		Now: a.opts.ReportClock, Logger: a.component("report"),
	})
	if err != nil {
		return err
	}
	if a.reportAPI, err = reportapi.New(reportapi.Config{Reports: a.reports, Location: a.loc, Logger: a.component("reportapi")}); err != nil {
		return err
	}
	// The phone page's orders are the dispatch boards (buildDispatch runs
	// next; the page asks only when serving).
	// Its report cards link operators to the console's issue form (督办).
	a.mobile, err = mobile.New(mobile.Config{Reports: a.reports, Orders: a.orderBoard, WebSocket: "/ws", SessionAPI: login.SessionPath,
		CanIssue: dispatch.CanIssue, IssuePage: console.OrdersPath})
	return err
}

// judge runs the special-report rules whenever the feed published
// something (Changed pokes it) and every evaluateEvery, until ctx ends.
func (a *App) judge(ctx context.Context) {
	if a.node != nil {
		// A new leader judges from what the previous one left in the
		// shared database, not from what it loaded when it started.
		if !retry(ctx, a.log, "special reports: reloading the shared state before judging", func() error { return a.reports.Reload(ctx) }) {
			return
		}
	}
	t := time.NewTicker(evaluateEvery)
	defer t.Stop()
	in := report.Inputs{Values: engineValues{a.eng}, Sources: a.runner, Detector: a.surges(), Orders: a}
	for {
		if err := a.reports.Evaluate(ctx, a.opts.ReportClock(), in); err != nil && ctx.Err() == nil {
			a.log.Error("special reports", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.judgeNow:
		}
	}
}

// pokeJudge asks for an evaluation soon; it never blocks.
func (a *App) pokeJudge() {
	select {
	case a.judgeNow <- struct{}{}:
	default:
	}
}

// reportBoard is the first paint of a wall's reports widget.
func (a *App) reportBoard(reg string) widget.ReportBoard {
	var out widget.ReportBoard
	b, err := json.Marshal(a.reports.Board(reg))
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		a.log.Error("report board", "region", reg, "err", err)
	}
	return out
}

// deliveryLog serves GET /api/deliveries for operators and administrators:
// the notification attempts, newest first, by receiver or report.
func (a *App) deliveryLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := notify.DeliveryFilter{Receiver: q.Get("receiver"), Message: q.Get("report")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			deny(w, r, http.StatusBadRequest, "参数 limit 应为 1..1000 / parameter limit: want 1 to 1000")
			return
		}
		f.Limit = n
	}
	ds, err := a.deliveries.List(r.Context(), f)
	if err != nil {
		a.log.Error("delivery log", "err", err)
		deny(w, r, http.StatusInternalServerError, "读取投递日志失败 / reading the delivery log failed")
		return
	}
	if ds == nil {
		ds = []notify.LoggedDelivery{}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{"deliveries": ds})
}

// engineValues gives the rules the engine's current values.
type engineValues struct{ eng *engine.Engine }

func (v engineValues) Results(_ context.Context, p engine.Period) ([]engine.Result, error) {
	return v.eng.Results(p, false)
}

// historyPast gives drop rules the previous period's values from the
// history store.
type historyPast struct{ st store.Store }

func (h historyPast) AsOf(ctx context.Context, ind, reg, period string, t time.Time) (int64, int64, bool, error) {
	pts, err := h.st.AsOf(ctx, store.Selector{Indicator: ind, Period: period, Regions: []string{reg}}, t)
	if err != nil {
		return 0, 0, false, err
	}
	for _, p := range pts {
		if p.Dept == store.AllDepts && p.Region == reg {
			return int64(p.Numerator), p.Denominator, true, nil
		}
	}
	return 0, 0, false, nil
}

// dispatchSender hands a report's notification to the dispatcher, one
// message to the receivers it names; the dispatcher queues and returns.
type dispatchSender struct {
	d *notify.Dispatcher
	// link is where a message's "查看详情" points: the phone page under
	// the first allowed origin, so a phone can open it from DingTalk or
	// WeCom; only the path when no origin is configured.
	link string
}

func (s dispatchSender) Send(ctx context.Context, n report.Notification) error {
	if len(n.Receivers) == 0 {
		return nil
	}
	sev := notify.SeverityWarning
	switch n.Severity {
	case report.Critical:
		sev = notify.SeverityCritical
	case report.Info:
		sev = notify.SeverityInfo
	}
	var md strings.Builder
	md.WriteString("### " + n.Title + "\n\n" + n.Text + "\n")
	for _, r := range n.Reports {
		fmt.Fprintf(&md, "\n- %s %s：%s", r.RegionName, r.Title, r.Text)
	}
	return s.d.Send(ctx, notify.Message{
		ID: n.ID, Title: n.Title, Markdown: md.String(), Text: n.Text, URL: s.link + "?region=" + url.QueryEscape(n.Region),
		Severity: sev, RegionCode: n.Region, RegionName: n.RegionName, Time: n.At,
		Labels: map[string]string{"rule": n.Rule, "kind": n.Kind, "level": n.Level},
	}, n.Receivers...)
}

// surges is the hotline surge detector the surge rules read.
func (a *App) surges() report.Surges { return trendSurges{a.counts} }

// trendSurges gives the surge rules what the detector sees now, with the
// default detector settings (NB-CUSUM; docs/SPECIAL-REPORTS.md).
type trendSurges struct{ c *trend.Counts }

func (t trendSurges) Surges(now time.Time) []report.SurgeFinding {
	var out []report.SurgeFinding
	for _, s := range t.c.Surges(now, trend.Config{}) {
		out = append(out, report.SurgeFinding{Category: s.Category, Region: s.Region, Count: int64(s.Count), Expected: s.Expected, Score: s.Score, Since: s.Since})
	}
	return out
}

// reportLink is the phone page's address in notifications: absolute
// under the first allowed origin (the address the hall's users reach
// Yiping by), else the bare path.
func reportLink(origins []string) string {
	if len(origins) == 0 {
		return mobile.PagePath
	}
	return strings.TrimSuffix(origins[0], "/") + mobile.PagePath
}
