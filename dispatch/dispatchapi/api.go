// Package dispatchapi is the HTTP face of supervision orders (督办, SPEC.md
// §9): the list, one order with its history, issuing, every action of the
// lifecycle, and the CSV export. What an order is and who may do what is
// package dispatch's; who the caller is, the access class and the CSRF
// check are the guard's (app/guard.go), which puts the caller's
// access.Principal in the request's context before any handler here runs.
//
// The guard checks the regions a request names in its query. The region
// of an order named by its id is checked by dispatch itself: an order
// outside the caller's scope is answered 404, as if it did not exist.
//
// Every answer but the export is JSON; an error is {"error": "中文 /
// English"}, naming the field at fault, and, for an action the order's
// state refuses, {"state": "..."} too. Request bodies are read up to
// MaxBody.
//
// The package does not register its routes: Routes lists them, with their
// region parameters and whether the export is audited, for the product's
// one route table.
package dispatchapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/httpjson"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/dispatch"
)

// Paths of the API (fiber syntax, as the route table spells them; the
// handlers read {id} and {action} with r.PathValue).
const (
	ListPath   = "/api/dispatch/orders"
	OrderPath  = "/api/dispatch/orders/:id"
	ActionPath = "/api/dispatch/orders/:id/:action"
	ExportPath = "/api/export/dispatch-orders"
)

// MaxBody bounds a request body: an order or an action with its comment
// (4000 bytes of text, which JSON escapes may make longer).
const MaxBody = 32 << 10

// Desk is what the handlers need of *dispatch.Service, which implements
// it; tests may use a fake.
type Desk interface {
	Issue(ctx context.Context, p *access.Principal, addr string, n dispatch.NewOrder) (dispatch.Order, error)
	Apply(ctx context.Context, p *access.Principal, r dispatch.Request) (dispatch.Order, error)
	Get(ctx context.Context, p *access.Principal, id string) (dispatch.Order, error)
	History(ctx context.Context, p *access.Principal, id string) ([]dispatch.Entry, error)
	List(ctx context.Context, p *access.Principal, f dispatch.Filter) (dispatch.Page, error)
	Export(ctx context.Context, p *access.Principal, f dispatch.Filter, w io.Writer) (int, error)
	Now() time.Time
}

var _ Desk = (*dispatch.Service)(nil)

// Config holds the API's dependencies. Desk is required.
type Config struct {
	Desk Desk
	// Location is the business time zone in which a date without a time
	// (since=2026-06-01) begins, and of the export's file name; nil means
	// time.Local.
	Location *time.Location
	// ClientAddr is the caller's address for the history and the audit
	// log; access.ClientAddr when nil (the app passes its guard's, which
	// believes X-Forwarded-For from trusted proxies only).
	ClientAddr func(*http.Request) string
	// RegionName names an order's unit region for the pages (unit_name);
	// nil leaves unit_name out.
	RegionName func(code string) string
	Logger     *slog.Logger
}

// API serves the handlers.
type API struct {
	cfg Config
}

// New checks cfg and returns the API.
func New(cfg Config) (*API, error) {
	if cfg.Desk == nil {
		return nil, errors.New("dispatchapi: Desk is required")
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.ClientAddr == nil {
		cfg.ClientAddr = access.ClientAddr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &API{cfg: cfg}, nil
}

// Routes returns every route of the API.
func (a *API) Routes() []httpjson.Route {
	return []httpjson.Route{
		{Method: http.MethodGet, Path: ListPath, Handler: a.List(), Regions: []string{"region"}},
		{Method: http.MethodPost, Path: ListPath, Handler: a.Issue(), Body: MaxBody, Roles: ActorRoles()},
		{Method: http.MethodGet, Path: OrderPath, Handler: a.Order()},
		{Method: http.MethodPost, Path: ActionPath, Handler: a.Act(), Body: MaxBody, Roles: ActorRoles()},
		{Method: http.MethodGet, Path: ExportPath, Handler: a.Export(), Regions: []string{"region"}, Audit: true},
	}
}

// ActorRoles are the roles that may change orders at all: administrators
// and operators (a unit's own operators sign and reply, the issuer's side
// verifies; package dispatch decides which of them may take each action).
// Leaders and analysts read orders only.
func ActorRoles() []access.Role { return []access.Role{access.RoleAdmin, access.RoleOperator} }

var (
	errNoOrder = httpjson.Fail(http.StatusNotFound, "没有这张督办单", "no such order")
	errSignIn  = httpjson.Fail(http.StatusUnauthorized, "请先登录", "sign in first")
)

// translate turns the desk's errors into answers; others stay 500s.
func translate(err error) error {
	var ve *dispatch.ValidationError
	var se *dispatch.StateError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ve):
		return httpjson.Field(ve.Field, ve.Problem, ve.Problem)
	case errors.Is(err, dispatch.ErrNotFound):
		return errNoOrder
	case errors.Is(err, dispatch.ErrForbidden):
		why := strings.TrimPrefix(err.Error(), dispatch.ErrForbidden.Error()+": ")
		return httpjson.Fail(http.StatusForbidden, "无权执行此操作："+why, "not allowed: "+why)
	case errors.As(err, &se):
		p := httpjson.Fail(http.StatusConflict, fmt.Sprintf("督办单当前为「%s」，不能%s", se.State.Name(), se.Action.Name()), se.Error())
		p.Extra = map[string]string{"state": string(se.State)}
		return p
	case errors.Is(err, dispatch.ErrConflict):
		return httpjson.Fail(http.StatusConflict, "督办单已被他人更新，请刷新后重试", "the order changed meanwhile; reload it and try again")
	}
	return err
}

// OrderView is an order as the API shows it: with its timing at the
// instant of the answer and the actions the caller may take now.
type OrderView struct {
	dispatch.Order
	UnitName string            `json:"unit_name,omitempty"`
	Timing   dispatch.Timing   `json:"timing"`
	Can      []dispatch.Action `json:"can"`
}

func (a *API) view(o dispatch.Order, p *access.Principal, now time.Time) OrderView {
	v := OrderView{Order: a.local(o), Timing: o.TimingAt(now), Can: []dispatch.Action{}}
	if a.cfg.RegionName != nil {
		v.UnitName = a.cfg.RegionName(string(o.Unit.Region))
	}
	for _, act := range dispatch.Actions() {
		if dispatch.Check(p, &o, act) == nil {
			v.Can = append(v.Can, act)
		}
	}
	return v
}

// local is o with its instants in the business time zone, so that
// pages show them as the server means them ("2026-10-10T00:00:00+08:00",
// not the store's UTC).
func (a *API) local(o dispatch.Order) dispatch.Order {
	in := func(t *time.Time) {
		if !t.IsZero() {
			*t = t.In(a.cfg.Location)
		}
	}
	for _, t := range []*time.Time{&o.Evidence.AsOf, &o.IssuedAt, &o.TermStart, &o.Deadline, &o.RemindAt,
		&o.SignedAt, &o.RepliedAt, &o.ClosedAt, &o.UpdatedAt} {
		in(t)
	}
	if o.Extension != nil {
		x := *o.Extension
		in(&x.At)
		o.Extension = &x
	}
	return o
}

// localEntries is h with its instants in the business time zone.
func (a *API) localEntries(h []dispatch.Entry) []dispatch.Entry {
	for i := range h {
		h[i].At = h[i].At.In(a.cfg.Location)
		if !h[i].Deadline.IsZero() {
			h[i].Deadline = h[i].Deadline.In(a.cfg.Location)
		}
	}
	return h
}

// ListAnswer is the answer of GET ListPath.
type ListAnswer struct {
	Region string      `json:"region"`
	Orders []OrderView `json:"orders"`
	Total  int         `json:"total"`
	Next   string      `json:"next,omitempty"`
}

// filter reads a list's or an export's query: region (the region and
// below; default the caller's scope), dept, state (comma-separated or
// repeated), overdue=1, extension=1, issuer, q (text), since and until
// (issue time, RFC 3339 or YYYY-MM-DD in the business time zone,
// [since, until)), limit (1..500, default 50) and after (the next of the
// page before).
func (a *API) filter(q url.Values, p *access.Principal) (dispatch.Filter, error) {
	f := dispatch.Filter{Region: q.Get("region"), Dept: q.Get("dept"), Issuer: q.Get("issuer"), Text: q.Get("q"), After: q.Get("after")}
	if f.Region == "" {
		f.Region = string(p.Region)
	}
	for _, v := range q["state"] {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			st, err := dispatch.ParseState(s)
			if err != nil {
				return f, httpjson.Field("state", fmt.Sprintf("未知状态 %q", s), err.Error())
			}
			if !slices.Contains(f.States, st) {
				f.States = append(f.States, st)
			}
		}
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"overdue", &f.Overdue}, {"extension", &f.Extension}} {
		switch q.Get(b.name) {
		case "", "0", "false":
		case "1", "true":
			*b.dst = true
		default:
			return f, httpjson.Field(b.name, "应为 1 或 0", "want 1 or 0")
		}
	}
	var err error
	if f.Since, err = httpjson.Instant(q.Get("since"), a.cfg.Location); err != nil {
		return f, httpjson.Field("since", "应为 RFC 3339 时间或 YYYY-MM-DD 日期", "want an RFC 3339 time or a YYYY-MM-DD date")
	}
	if f.Until, err = httpjson.Instant(q.Get("until"), a.cfg.Location); err != nil {
		return f, httpjson.Field("until", "应为 RFC 3339 时间或 YYYY-MM-DD 日期", "want an RFC 3339 time or a YYYY-MM-DD date")
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return f, httpjson.Field("until", "应晚于 since", "must be after since")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > dispatch.MaxLimit {
			return f, httpjson.Field("limit", fmt.Sprintf("应为 1 到 %d 的整数", dispatch.MaxLimit), fmt.Sprintf("want a whole number from 1 to %d", dispatch.MaxLimit))
		}
		f.Limit = n
	}
	return f, nil
}

// List serves GET ListPath: a page of the orders in the caller's scope
// the query selects (see filter), overdue first, then by deadline, with
// the total and the next page's after.
func (a *API) List() http.Handler {
	return httpjson.Handler(a.cfg.Logger, "dispatch api", translate, func(r *http.Request, p *access.Principal) (int, any, error) {
		f, err := a.filter(r.URL.Query(), p)
		if err != nil {
			return 0, nil, err
		}
		pg, err := a.cfg.Desk.List(r.Context(), p, f)
		if err != nil {
			return 0, nil, err
		}
		now := a.cfg.Desk.Now()
		out := ListAnswer{Region: f.Region, Orders: make([]OrderView, 0, len(pg.Orders)), Total: pg.Total, Next: pg.Next}
		for _, o := range pg.Orders {
			out.Orders = append(out.Orders, a.view(o, p, now))
		}
		return 0, out, nil
	})
}

// OrderAnswer is the answer of GET OrderPath and of the actions.
type OrderAnswer struct {
	Order   OrderView        `json:"order"`
	History []dispatch.Entry `json:"history"`
}

func (a *API) answer(ctx context.Context, p *access.Principal, o dispatch.Order) (OrderAnswer, error) {
	h, err := a.cfg.Desk.History(ctx, p, o.ID)
	if err != nil {
		return OrderAnswer{}, err
	}
	return OrderAnswer{Order: a.view(o, p, a.cfg.Desk.Now()), History: a.localEntries(h)}, nil
}

// Order serves GET OrderPath: the order with its history; 404 when there
// is none in the caller's scope.
func (a *API) Order() http.Handler {
	return httpjson.Handler(a.cfg.Logger, "dispatch api", translate, func(r *http.Request, p *access.Principal) (int, any, error) {
		o, err := a.cfg.Desk.Get(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return 0, nil, err
		}
		ans, err := a.answer(r.Context(), p, o)
		return 0, ans, err
	})
}

// IssueRequest is the body of POST ListPath. Days is required (0: by the
// end of today).
type IssueRequest struct {
	Unit     dispatch.Unit     `json:"unit"`
	Title    string            `json:"title"`
	Reason   string            `json:"reason"`
	Days     *int              `json:"days"`
	Source   dispatch.Source   `json:"source"`
	Evidence dispatch.Evidence `json:"evidence"`
}

// Issue serves POST ListPath: the caller issues an order; 201 with it and
// its history. 403 when the caller may not issue to that unit.
func (a *API) Issue() http.Handler {
	return httpjson.Handler(a.cfg.Logger, "dispatch api", translate, func(r *http.Request, p *access.Principal) (int, any, error) {
		var in IssueRequest
		if err := httpjson.Decode(r, &in, MaxBody, false); err != nil {
			return 0, nil, err
		}
		if in.Days == nil {
			return 0, nil, httpjson.Field("days", "缺少办理时限（工作日）", "missing: the term in working days")
		}
		o, err := a.cfg.Desk.Issue(r.Context(), p, a.cfg.ClientAddr(r), dispatch.NewOrder{Unit: in.Unit, Title: in.Title,
			Reason: in.Reason, Days: *in.Days, Source: in.Source, Evidence: in.Evidence})
		if err != nil {
			return 0, nil, err
		}
		ans, err := a.answer(r.Context(), p, o)
		return http.StatusCreated, ans, err
	})
}

// ActionRequest is the body of POST ActionPath. Version is the order's
// version the caller saw (required: two people acting on what they saw
// cannot both succeed); Comment and Days as dispatch.Request says.
type ActionRequest struct {
	Version int64  `json:"version"`
	Comment string `json:"comment"`
	Days    int    `json:"days"`
}

// Act serves POST ActionPath, action being sign, reply, verify, return,
// extend, approve, refuse or withdraw: the order after it, with its
// history. 403 when the caller may not, 409 when the order's state does
// not allow it (the answer names the state) or it changed since version.
func (a *API) Act() http.Handler {
	return httpjson.Handler(a.cfg.Logger, "dispatch api", translate, func(r *http.Request, p *access.Principal) (int, any, error) {
		act, err := dispatch.ParseAction(r.PathValue("action"))
		if err != nil {
			return 0, nil, httpjson.Fail(http.StatusNotFound, "没有这个操作", "no such action")
		}
		var in ActionRequest
		if err := httpjson.Decode(r, &in, MaxBody, false); err != nil {
			return 0, nil, err
		}
		if in.Version < 1 {
			return 0, nil, httpjson.Field("version", "缺少；请给出所见督办单的版本", "missing: give the version of the order you saw")
		}
		o, err := a.cfg.Desk.Apply(r.Context(), p, dispatch.Request{ID: r.PathValue("id"), Action: act, Version: in.Version,
			Comment: in.Comment, Days: in.Days, Addr: a.cfg.ClientAddr(r)})
		if err != nil {
			return 0, nil, err
		}
		ans, err := a.answer(r.Context(), p, o)
		return 0, ans, err
	})
}

// Export serves GET ExportPath: the orders the query selects (as List,
// without paging) as a CSV file, at most dispatch.MaxExport of them.
func (a *API) Export() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := access.FromContext(r.Context())
		if !ok {
			httpjson.WriteProblem(w, errSignIn)
			return
		}
		f, err := a.filter(r.URL.Query(), p)
		if err == nil {
			// Check the scope before the first byte: afterwards the
			// status is sent.
			_, err = a.cfg.Desk.List(r.Context(), p, dispatch.Filter{Region: f.Region, Limit: 1})
		}
		if err = translate(err); err != nil {
			var pr *httpjson.Problem
			if errors.As(err, &pr) {
				httpjson.WriteProblem(w, pr)
				return
			}
			a.cfg.Logger.Error("dispatch export", "err", err)
			httpjson.WriteProblem(w, httpjson.Fail(http.StatusInternalServerError, "内部错误，请稍后再试", "internal error; try again later"))
			return
		}
		day := a.cfg.Desk.Now().In(a.cfg.Location).Format("2006-01-02")
		name := fmt.Sprintf("dispatch-orders-%s-%s.csv", f.Region, day)
		nameZH := fmt.Sprintf("督办单_%s_%s.csv", f.Region, day)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name})+
			"; filename*=UTF-8''"+url.PathEscape(nameZH))
		if _, err := a.cfg.Desk.Export(r.Context(), p, f, w); err != nil {
			// The status is sent; the truncated file is all we can do.
			a.cfg.Logger.Error("dispatch export", "region", f.Region, "err", err)
		}
	})
}
