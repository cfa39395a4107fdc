package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/console"
	"github.com/yiping-ioc/yiping/dispatch"
	"github.com/yiping-ioc/yiping/dispatch/dispatchapi"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/notify"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/report"
	"github.com/yiping-ioc/yiping/widget"
)

// Dispatch (督办, SPEC.md §9): supervision orders kept in the access
// database, their API in the route table, a loop that sends reminders
// and overdue notices (raising the orders_overdue special report) and
// publishes the screens' order boards (live.OrdersTopic).

// scanEvery is how often the dispatch loop looks for reminders and
// overdue orders and republishes the boards when Options.DispatchEvery is
// not set; an action on an order publishes at once.
const scanEvery = 30 * time.Second

// boardOrders bounds the open orders a board pass reads (10 pages).
const boardOrders = 10 * dispatch.MaxLimit

// boardRows is how many orders a board carries (an orders widget shows
// at most that many).
const boardRows = 30

// orderState is the dispatch side of the App.
type orderState struct {
	desk   *dispatch.Service
	api    *dispatchapi.API
	poke   chan struct{}
	pubMu  sync.Mutex
	boards map[string][]byte // the last board published per region (without as_of)
}

// buildDispatch opens the orders' tables in the access database and the
// desk on the business calendar and the report clock.
func (a *App) buildDispatch(ctx context.Context) error {
	st, err := dispatch.NewStore(ctx, a.accessStore)
	if err != nil {
		return fmt.Errorf("dispatch store: %w", err)
	}
	a.orders = &orderState{poke: make(chan struct{}, 1), boards: map[string][]byte{}}
	if a.orders.desk, err = dispatch.New(dispatch.Config{Store: st, Calendar: a.cal, Now: a.opts.ReportClock, Logger: a.log}); err != nil {
		return err
	}
	a.orders.api, err = dispatchapi.New(dispatchapi.Config{Desk: pokingDesk{a.orders.desk, a.pokeOrders},
		Location: a.loc, ClientAddr: a.guard.clientAddr, RegionName: a.regionName, Logger: a.component("dispatchapi")})
	return err
}

// pokingDesk is the desk the API acts through: every order issued or
// acted on republishes the boards and judges the reports soon.
type pokingDesk struct {
	*dispatch.Service
	changed func()
}

func (d pokingDesk) Issue(ctx context.Context, p *access.Principal, addr string, n dispatch.NewOrder) (dispatch.Order, error) {
	o, err := d.Service.Issue(ctx, p, addr, n)
	if err == nil {
		d.changed()
	}
	return o, err
}

func (d pokingDesk) Apply(ctx context.Context, p *access.Principal, r dispatch.Request) (dispatch.Order, error) {
	o, err := d.Service.Apply(ctx, p, r)
	if err == nil {
		d.changed()
	}
	return o, err
}

// pokeOrders asks the dispatch loop for a pass soon; it never blocks.
func (a *App) pokeOrders() {
	select {
	case a.orders.poke <- struct{}{}:
	default:
	}
}

// dispatchRoutes are the orders' API routes: every one for signed-in
// users (the screens get their boards over the hub), the state-changing
// ones for the roles dispatchapi names.
func (a *App) dispatchRoutes() []route {
	// The leader's: an action publishes the order boards at once.
	return leaderRoutes(jsonRoutes(a.orders.api.Routes()))
}

// canIssue tells the console whether the caller may issue orders to a
// unit of region code (its ranking rows then offer 督办).
func canIssue(ctx context.Context, code string) bool {
	p, ok := access.FromContext(ctx)
	return ok && dispatch.CanIssue(p, code)
}

// issueReport gives the console's issue form a special report (or surge)
// as the caller may see it: console.ErrNoReport when it does not exist or
// lies outside the caller's scope.
func (a *App) issueReport(ctx context.Context, id string) (console.ReportFacts, error) {
	p, ok := access.FromContext(ctx)
	if !ok {
		return console.ReportFacts{}, console.ErrNoReport
	}
	r, err := a.reports.Report(ctx, id)
	if errors.Is(err, report.ErrNotFound) {
		return console.ReportFacts{}, console.ErrNoReport
	}
	if err != nil {
		return console.ReportFacts{}, err
	}
	if !p.Covers(r.Region) {
		return console.ReportFacts{}, console.ErrNoReport
	}
	f := console.ReportFacts{ID: r.ID, Rule: r.Rule, Kind: string(r.Type), Title: r.Title, TitleEN: r.TitleEN, Text: r.Text, TextEN: r.TextEN,
		Region: r.Region, RegionName: r.RegionName, Subject: r.Subject, Indicator: r.Indicator, Period: r.Period,
		Value: r.Value, Threshold: r.Threshold}
	if r.FiredAt != "" {
		if f.FiredAt, err = time.Parse(time.RFC3339, r.FiredAt); err != nil {
			return console.ReportFacts{}, fmt.Errorf("special report %s: fired_at: %w", id, err)
		}
	}
	return f, nil
}

// dispatchLoop sends the notices due (every DispatchEvery and after
// every action) and publishes the order boards, until ctx ends.
func (a *App) dispatchLoop(ctx context.Context) {
	t := time.NewTicker(a.opts.DispatchEvery)
	defer t.Stop()
	n := orderNotifier{a: a}
	for {
		if sent, err := a.orders.desk.Scan(ctx, n); err != nil && ctx.Err() == nil {
			a.log.Error("dispatch scan", "err", err)
		} else if sent > 0 {
			a.pokeJudge()
		}
		if err := a.publishOrders(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("dispatch boards", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.orders.poke:
		}
	}
}

// orderNotifier turns the desk's notices into the overdue special report
// (the orders_overdue rules judge the overdue orders: the judge is poked)
// and messages to the unit's receivers.
type orderNotifier struct{ a *App }

func (n orderNotifier) Notify(ctx context.Context, no dispatch.Notice) error {
	a := n.a
	if no.Kind == dispatch.EventOverdue {
		a.pokeJudge()
	}
	receivers := a.orderReceivers(no.Order.Unit.Region)
	if len(receivers) == 0 {
		return nil
	}
	o := no.Order
	unit := a.regionName(string(o.Unit.Region))
	if o.Unit.Dept != "" {
		unit += " " + o.Unit.Dept
	}
	deadline := o.Deadline.In(a.loc).Format("2006-01-02 15:04")
	title, sev := "督办单即将到期："+o.Title, notify.SeverityWarning
	text := fmt.Sprintf("%s：督办单 %s「%s」将于 %s 到期，请按时办理回复。", unit, o.ID, o.Title, deadline)
	if no.Kind == dispatch.EventOverdue {
		title, sev = "督办单已超期："+o.Title, notify.SeverityCritical
		text = fmt.Sprintf("%s：督办单 %s「%s」已于 %s 超期，请尽快办理回复。", unit, o.ID, o.Title, deadline)
	}
	link := reportLink(a.opts.AllowedOrigins) + "?region=" + url.QueryEscape(string(o.Unit.Region))
	return a.dispatch.Send(ctx, notify.Message{
		ID: "order-" + o.ID + "-" + no.Kind + "-" + o.TermStart.Format("20060102150405"), Title: title,
		Markdown: "### " + title + "\n\n" + text + "\n", Text: text, URL: link, Severity: sev,
		RegionCode: string(o.Unit.Region), RegionName: a.regionName(string(o.Unit.Region)), Time: no.At,
		Labels: map[string]string{"kind": "dispatch_" + no.Kind, "order": o.ID},
	}, receivers...)
}

// orderReceivers are the receivers the orders_overdue rules name for the
// level of a unit's region: reminders and overdue notices go there.
func (a *App) orderReceivers(code region.Code) []string {
	var out []string
	for _, r := range a.rules.Rules {
		if r.Type != report.OrdersOverdue {
			continue
		}
		for _, name := range r.Receivers[code.Level().String()] {
			if !containsString(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (a *App) regionName(code string) string {
	if name, ok := region.Default().Name(region.Code(code)); ok {
		return name
	}
	return code
}

// openOrders reads the open orders of every unit (at most boardOrders),
// overdue first and then by deadline, at the desk's clock.
func (a *App) openOrders(ctx context.Context, f dispatch.Filter) ([]dispatch.Order, time.Time, error) {
	now := a.orders.desk.Now()
	f.Region, f.Limit = reportRoot, dispatch.MaxLimit
	var out []dispatch.Order
	for len(out) < boardOrders {
		pg, err := a.orders.desk.ListAll(ctx, f)
		if err != nil {
			return nil, now, err
		}
		out = append(out, pg.Orders...)
		if pg.Next == "" {
			break
		}
		f.After = pg.Next
	}
	return out, now, nil
}

var openStates = []dispatch.State{dispatch.StateIssued, dispatch.StateSigned, dispatch.StateReplied, dispatch.StateReturned}

// OverdueOrders implements report.OverdueOrders: the orders past their
// deadline, counted per unit.
func (a *App) OverdueOrders(ctx context.Context, _ time.Time) (map[string]int, error) {
	os, _, err := a.openOrders(ctx, dispatch.Filter{Overdue: true})
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, o := range os {
		out[string(o.Unit.Region)]++
	}
	return out, nil
}

// publishOrders publishes the board of every region with open orders
// (and their ancestors), and of every region whose board was not empty
// before, when it changed.
func (a *App) publishOrders(ctx context.Context) error {
	os, now, err := a.openOrders(ctx, dispatch.Filter{States: openStates})
	if err != nil {
		return err
	}
	a.orders.pubMu.Lock()
	defer a.orders.pubMu.Unlock()
	regions := map[string]bool{}
	for code := range a.orders.boards {
		regions[code] = true
	}
	for _, o := range os {
		regions[string(o.Unit.Region)] = true
		var buf [4]region.Code
		for _, anc := range o.Unit.Region.Ancestors(buf[:0]) {
			regions[string(anc)] = true
		}
	}
	for code := range regions {
		b := a.orderBoardOf(code, os, now)
		asOf := b.AsOf
		b.AsOf = ""
		key, _ := json.Marshal(b)
		if string(key) == string(a.orders.boards[code]) {
			continue
		}
		b.AsOf = asOf
		data, err := json.Marshal(b)
		if err == nil {
			err = a.pub.Publish(live.OrdersTopic(code), data)
		}
		if err != nil {
			a.log.Warn("dispatch: publish", "region", code, "err", err)
			continue
		}
		if b.Open == 0 {
			delete(a.orders.boards, code)
		} else {
			a.orders.boards[code] = key
		}
	}
	return nil
}

// orderBoardOf is the board of region code from the open orders os
// (in list order) at now.
func (a *App) orderBoardOf(code string, os []dispatch.Order, now time.Time) widget.OrderBoard {
	b := widget.OrderBoard{Region: code, RegionName: a.regionName(code), Orders: []widget.OrderItem{}, AsOf: now.In(a.loc).Format(time.RFC3339)}
	for i := range os {
		o := &os[i]
		if !under(string(o.Unit.Region), code) {
			continue
		}
		b.Open++
		tm := o.TimingAt(now)
		if tm == dispatch.TimingOverdue {
			b.Overdue++
		}
		if len(b.Orders) < boardRows {
			b.Orders = append(b.Orders, widget.OrderItem{ID: o.ID, Title: o.Title, Unit: string(o.Unit.Region),
				UnitName: a.regionName(string(o.Unit.Region)), Dept: o.Unit.Dept, State: string(o.State), Timing: string(tm),
				Deadline: o.Deadline.In(a.loc).Format(time.RFC3339), DeadlineText: o.Deadline.In(a.loc).Format("01-02 15:04")})
		}
	}
	return b
}

// orderBoard is the first paint of a wall's orders widget.
func (a *App) orderBoard(code string) widget.OrderBoard {
	os, now, err := a.openOrders(context.Background(), dispatch.Filter{States: openStates})
	if err != nil {
		a.log.Error("order board", "region", code, "err", err)
	}
	return a.orderBoardOf(code, os, now)
}

// under reports whether code is anc or lies below it.
func under(code, anc string) bool {
	if code == anc {
		return true
	}
	var buf [4]region.Code
	for _, a := range region.Code(code).Ancestors(buf[:0]) {
		if string(a) == anc {
			return true
		}
	}
	return false
}
