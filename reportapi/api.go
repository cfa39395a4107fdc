// Package reportapi is the HTTP face of special reports (特别呈报, SPEC.md
// §8): the archive, one report's history, acknowledging, and silences.
// What a report is and how it lives is package report's; who the caller
// is, the access class and the CSRF check are the guard's (app/guard.go),
// which puts the caller's access.Principal in the request's context before
// any handler here runs.
//
// The guard checks the regions a request names in its query. The regions
// it cannot see — a report's, named by its id, and a silence's, in the
// body — are checked here: a report outside the caller's scope is
// answered 404, as if it did not exist, so that ids reveal nothing.
//
// Every answer is JSON; an error is {"error": "中文 / English"}, naming the
// field at fault. Request bodies are read up to MaxBody.
//
// The package does not register its routes: Routes lists them, with their
// region parameters, for the product's one route table.
package reportapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/httpjson"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/report"
)

// Paths of the API (fiber syntax, as the route table spells them; the
// handlers read {id} with r.PathValue).
const (
	ListPath     = "/api/reports"
	DetailPath   = "/api/reports/:id"
	AckPath      = "/api/reports/:id/ack"
	SilencesPath = "/api/silences"
	ExpirePath   = "/api/silences/:id/expire"
)

// MaxBody bounds a request body: a comment or a silence.
const MaxBody = 8 << 10

// Reports is what the handlers need of report.Manager, which implements
// it; tests may use a fake.
type Reports interface {
	Report(ctx context.Context, id string) (report.Report, error)
	Detail(ctx context.Context, id string) (report.Detail, error)
	List(ctx context.Context, f report.Filter) ([]report.Report, error)
	Ack(ctx context.Context, id, by, comment string) (report.Report, error)
	Silences() []report.Silence
	AddSilence(ctx context.Context, s report.Silence) (report.Silence, error)
	ExpireSilence(ctx context.Context, id, by string) error
	// Now is the manager's clock: a silence given as a duration starts
	// then.
	Now() time.Time
}

// Config holds the API's dependencies. Reports is required.
type Config struct {
	Reports Reports
	// Location is the business time zone in which a date without a time
	// (since=2026-06-01) begins; nil means time.Local.
	Location *time.Location
	Logger   *slog.Logger
}

// API serves the handlers.
type API struct {
	cfg Config
}

// New checks cfg and returns the API.
func New(cfg Config) (*API, error) {
	if cfg.Reports == nil {
		return nil, errors.New("reportapi: Reports is required")
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
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
		{Method: http.MethodGet, Path: DetailPath, Handler: a.Detail()},
		{Method: http.MethodPost, Path: AckPath, Handler: a.Ack(), Body: MaxBody, Roles: AckRoles()},
		{Method: http.MethodGet, Path: SilencesPath, Handler: a.Silences()},
		{Method: http.MethodPost, Path: SilencesPath, Handler: a.AddSilence(), Body: MaxBody, Roles: SilenceRoles()},
		{Method: http.MethodPost, Path: ExpirePath, Handler: a.ExpireSilence(), Body: MaxBody, Roles: SilenceRoles()},
	}
}

// AckRoles are the roles that may acknowledge reports: administrators,
// operators (on duty for it) and leaders (whom the reports are for);
// analysts read them only.
func AckRoles() []access.Role {
	return []access.Role{access.RoleAdmin, access.RoleOperator, access.RoleLeader}
}

// SilenceRoles are the roles that may add and expire silences (and read
// the delivery log): administrators and operators.
func SilenceRoles() []access.Role { return []access.Role{access.RoleAdmin, access.RoleOperator} }

// CanAck reports whether p may acknowledge reports (AckRoles).
func CanAck(p *access.Principal) bool {
	return p != nil && p.Kind == access.KindUser && p.HasRole(AckRoles()...)
}

// CanSilence reports whether p may add and expire silences (SilenceRoles).
func CanSilence(p *access.Principal) bool {
	return p != nil && p.Kind == access.KindUser && p.HasRole(SilenceRoles()...)
}

var (
	errNoReport  = httpjson.Fail(http.StatusNotFound, "没有这条特别呈报", "no such report")
	errNoSilence = httpjson.Fail(http.StatusNotFound, "没有这个静默（或已结束）", "no such silence (or it has ended)")
	errSignIn    = httpjson.Fail(http.StatusUnauthorized, "请先登录", "sign in first")
)

// ListAnswer is the answer of GET ListPath.
type ListAnswer struct {
	Region  string          `json:"region"`
	Reports []report.Report `json:"reports"`
}

// The report states a list may select.
var listStates = []string{report.StateFiring, report.StateAcknowledged, report.StateResolved}

// List serves GET ListPath: the archive, newest first. Query: region (the
// region and below; default the caller's scope), state (firing,
// acknowledged, resolved; comma-separated or repeated; default all),
// since and until (firing time, RFC 3339 or YYYY-MM-DD in the business
// time zone, [since, until)), limit (1..1000, default 100).
func (a *API) List() http.Handler {
	return httpjson.Handler(a.cfg.Logger, "report api", nil, func(r *http.Request, p *access.Principal) (int, any, error) {
		q := r.URL.Query()
		f := report.Filter{Region: q.Get("region")}
		if f.Region == "" {
			f.Region = string(p.Region)
		}
		if _, err := region.ParseCode(f.Region); err != nil {
			return 0, nil, httpjson.Field("region", "不是行政区划代码", err.Error())
		}
		if !p.Covers(f.Region) {
			return 0, nil, outside(f.Region, p)
		}
		for _, v := range q["state"] {
			for s := range strings.SplitSeq(v, ",") {
				if s = strings.TrimSpace(s); s == "" {
					continue
				}
				if !slices.Contains(listStates, s) {
					return 0, nil, httpjson.Field("state", fmt.Sprintf("未知状态 %q（firing、acknowledged、resolved）", s),
						fmt.Sprintf("unknown state %q (firing, acknowledged, resolved)", s))
				}
				if !slices.Contains(f.States, s) {
					f.States = append(f.States, s)
				}
			}
		}
		var err error
		if f.Since, err = httpjson.Instant(q.Get("since"), a.cfg.Location); err != nil {
			return 0, nil, httpjson.Field("since", "应为 RFC 3339 时间或 YYYY-MM-DD 日期", "want an RFC 3339 time or a YYYY-MM-DD date")
		}
		if f.Until, err = httpjson.Instant(q.Get("until"), a.cfg.Location); err != nil {
			return 0, nil, httpjson.Field("until", "应为 RFC 3339 时间或 YYYY-MM-DD 日期", "want an RFC 3339 time or a YYYY-MM-DD date")
		}
		if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
			return 0, nil, httpjson.Field("until", "应晚于 since", "must be after since")
		}
		f.Limit = 100
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				return 0, nil, httpjson.Field("limit", "应为 1 到 1000 的整数", "want a whole number from 1 to 1000")
			}
			f.Limit = n
		}
		rs, err := a.cfg.Reports.List(r.Context(), f)
		if err != nil {
			return 0, nil, fmt.Errorf("list reports of %s: %w", f.Region, err)
		}
		if rs == nil {
			rs = []report.Report{}
		}
		return 0, ListAnswer{Region: f.Region, Reports: rs}, nil
	})
}

func outside(code string, p *access.Principal) *httpjson.Problem {
	return httpjson.Fail(http.StatusForbidden, "区域 "+code+" 不在您的权限范围（"+string(p.Region)+"）内",
		"region "+code+" is outside your scope ("+string(p.Region)+")")
}

// validID reports whether id can be a report's or a silence's id: the
// manager makes hex ids; anything else is no id, and never reaches the
// database.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// visible returns the report of id if the caller's scope covers its
// region; one outside it is not found, like one that does not exist.
func (a *API) visible(ctx context.Context, id string, p *access.Principal) (report.Report, error) {
	if !validID(id) {
		return report.Report{}, errNoReport
	}
	rep, err := a.cfg.Reports.Report(ctx, id)
	switch {
	case errors.Is(err, report.ErrNotFound):
		return report.Report{}, errNoReport
	case err != nil:
		return report.Report{}, fmt.Errorf("report %s: %w", id, err)
	case !p.Covers(rep.Region):
		return report.Report{}, errNoReport
	}
	return rep, nil
}

// Detail serves GET DetailPath: a report with its transitions,
// acknowledgements and notifications; 404 when there is none in the
// caller's scope.
func (a *API) Detail() http.Handler {
	return httpjson.Handler(a.cfg.Logger, "report api", nil, func(r *http.Request, p *access.Principal) (int, any, error) {
		id := r.PathValue("id")
		if _, err := a.visible(r.Context(), id, p); err != nil {
			return 0, nil, err
		}
		d, err := a.cfg.Reports.Detail(r.Context(), id)
		if errors.Is(err, report.ErrNotFound) {
			return 0, nil, errNoReport
		}
		if err != nil {
			return 0, nil, fmt.Errorf("report %s: %w", id, err)
		}
		return 0, d, nil
	})
}

// AckRequest is the body of POST AckPath; an empty body is no comment.
type AckRequest struct {
	Comment string `json:"comment"`
}

// Ack serves POST AckPath: the caller acknowledges the report in their
// own name, with a comment, and gets the report as it is now. Operators,
// leaders and administrators may (403 for analysts); 404 when there is no
// such report in the caller's scope, 409 when it is resolved.
func (a *API) Ack() http.Handler {
	return httpjson.Handler(a.cfg.Logger, "report api", nil, func(r *http.Request, p *access.Principal) (int, any, error) {
		if !CanAck(p) {
			return 0, nil, httpjson.Fail(http.StatusForbidden, "只有值班员、领导和管理员可以确认特别呈报", "only operators, leaders and administrators may acknowledge reports")
		}
		var in AckRequest
		if err := httpjson.Decode(r, &in, MaxBody, true); err != nil {
			return 0, nil, err
		}
		if len(in.Comment) > 2000 {
			return 0, nil, httpjson.Field("comment", "最多 2000 字节", "at most 2000 bytes")
		}
		id := r.PathValue("id")
		if _, err := a.visible(r.Context(), id, p); err != nil {
			return 0, nil, err
		}
		rep, err := a.cfg.Reports.Ack(r.Context(), id, p.Name, in.Comment)
		switch {
		case errors.Is(err, report.ErrNotFound):
			return 0, nil, errNoReport
		case errors.Is(err, report.ErrResolved):
			return 0, nil, httpjson.Fail(http.StatusConflict, "该特别呈报已解除，无需确认", "the report is resolved; there is nothing to acknowledge")
		case errors.Is(err, report.ErrInvalid):
			return 0, nil, httpjson.Fail(http.StatusBadRequest, "确认无效："+managerReason(err), "invalid acknowledgement: "+managerReason(err))
		case err != nil:
			return 0, nil, fmt.Errorf("ack report %s: %w", id, err)
		}
		return 0, rep, nil
	})
}

// managerReason is the manager's explanation of an ErrInvalid, without
// its prefix.
func managerReason(err error) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, report.ErrInvalid.Error()+": "); ok {
		return after
	}
	return msg
}

// SilencesAnswer is the answer of GET SilencesPath.
type SilencesAnswer struct {
	Silences []report.Silence `json:"silences"`
}

// Silences serves GET SilencesPath: the silences in force or to come
// that bear on the caller's scope (those of a region in it, above it, or
// of every region), soonest ending first. Every signed-in user may read
// them: they say why a report is not listed.
func (a *API) Silences() http.Handler {
	return httpjson.Handler(a.cfg.Logger, "report api", nil, func(r *http.Request, p *access.Principal) (int, any, error) {
		out := []report.Silence{}
		for _, s := range a.cfg.Reports.Silences() {
			if bearsOn(s, p) {
				out = append(out, s)
			}
		}
		slices.SortStableFunc(out, func(x, y report.Silence) int { return x.EndsAt.Compare(y.EndsAt) })
		return 0, SilencesAnswer{Silences: out}, nil
	})
}

// bearsOn reports whether a silence can mute reports in the caller's
// scope: it has no region, or its region is in the scope or above it.
func bearsOn(s report.Silence, p *access.Principal) bool {
	if s.Region == "" || p.Covers(s.Region) {
		return true
	}
	above := access.Principal{Region: region.Code(s.Region)}
	return above.Covers(string(p.Region))
}

// mayChange reports whether the caller may expire a silence: its region
// is in their scope; a silence of every region is an administrator's.
func mayChange(s report.Silence, p *access.Principal) bool {
	if s.Region == "" {
		return p.HasRole(access.RoleAdmin)
	}
	return p.Covers(s.Region)
}

// SilenceRequest is the body of POST SilencesPath. Region defaults to the
// caller's scope and must lie inside it; StartsAt (RFC 3339) defaults to
// now; give EndsAt (RFC 3339) or Duration ("2h", "90m"), not both; a
// comment says why.
type SilenceRequest struct {
	Rule     string `json:"rule"`
	Region   string `json:"region"`
	Severity string `json:"severity"`
	StartsAt string `json:"starts_at"`
	EndsAt   string `json:"ends_at"`
	Duration string `json:"duration"`
	Comment  string `json:"comment"`
}

// maxSilence is the longest silence the manager takes.
const maxSilence = 366 * 24 * time.Hour

// silence checks a request and makes the silence p would create.
func (in SilenceRequest) silence(p *access.Principal, now time.Time) (report.Silence, error) {
	s := report.Silence{Rule: strings.TrimSpace(in.Rule), Region: strings.TrimSpace(in.Region),
		Severity: strings.TrimSpace(in.Severity), Comment: strings.TrimSpace(in.Comment), CreatedBy: p.Name}
	if s.Region == "" {
		s.Region = string(p.Region)
	}
	if _, err := region.ParseCode(s.Region); err != nil {
		return s, httpjson.Field("region", "不是行政区划代码", err.Error())
	}
	if !p.Covers(s.Region) {
		return s, outside(s.Region, p)
	}
	if _, ok := report.ParseSeverity(s.Severity); s.Severity != "" && !ok {
		return s, httpjson.Field("severity", fmt.Sprintf("未知级别 %q（info、warning、critical）", s.Severity),
			fmt.Sprintf("unknown severity %q (info, warning, critical)", s.Severity))
	}
	if len(s.Rule) > 200 {
		return s, httpjson.Field("rule", "最多 200 字节", "at most 200 bytes")
	}
	start := now
	if in.StartsAt != "" {
		t, err := time.Parse(time.RFC3339, in.StartsAt)
		if err != nil {
			return s, httpjson.Field("starts_at", "应为 RFC 3339 时间", "want an RFC 3339 time")
		}
		s.StartsAt, start = t, t
	}
	switch {
	case in.EndsAt != "" && in.Duration != "":
		return s, httpjson.Field("duration", "给出 ends_at 或 duration 之一，不要同时给出", "give ends_at or duration, not both")
	case in.EndsAt != "":
		t, err := time.Parse(time.RFC3339, in.EndsAt)
		if err != nil {
			return s, httpjson.Field("ends_at", "应为 RFC 3339 时间", "want an RFC 3339 time")
		}
		s.EndsAt = t
	case in.Duration != "":
		d, err := time.ParseDuration(in.Duration)
		if err != nil || d <= 0 || d > maxSilence {
			return s, httpjson.Field("duration", "应为正的时长（如 2h、90m），最长一年", "want a positive duration (2h, 90m), at most a year")
		}
		s.EndsAt = start.Add(d)
	default:
		return s, httpjson.Field("ends_at", "缺少；给出 ends_at 或 duration", "missing; give ends_at or duration")
	}
	if !s.EndsAt.After(start) || !s.EndsAt.After(now) {
		return s, httpjson.Field("ends_at", "应晚于开始时间和当前时间", "must be after starts_at and now")
	}
	if s.EndsAt.Sub(start) > maxSilence {
		return s, httpjson.Field("ends_at", "静默最长一年", "a silence lasts at most a year")
	}
	if s.Comment == "" {
		return s, httpjson.Field("comment", "缺少；请说明静默的原因", "missing; say why")
	}
	if len(s.Comment) > 2000 {
		return s, httpjson.Field("comment", "最多 2000 字节", "at most 2000 bytes")
	}
	return s, nil
}

// AddSilence serves POST SilencesPath (operators and administrators): the
// silence, created by the caller, applies at once; 201 with the silence.
func (a *API) AddSilence() http.Handler {
	return httpjson.Handler(a.cfg.Logger, "report api", nil, func(r *http.Request, p *access.Principal) (int, any, error) {
		if !CanSilence(p) {
			return 0, nil, httpjson.Fail(http.StatusForbidden, "只有值班员和管理员可以设置静默", "only operators and administrators may add silences")
		}
		var in SilenceRequest
		if err := httpjson.Decode(r, &in, MaxBody, false); err != nil {
			return 0, nil, err
		}
		s, err := in.silence(p, a.cfg.Reports.Now())
		if err != nil {
			return 0, nil, err
		}
		s, err = a.cfg.Reports.AddSilence(r.Context(), s)
		switch {
		case errors.Is(err, report.ErrInvalid):
			return 0, nil, httpjson.Fail(http.StatusBadRequest, "静默无效："+managerReason(err), "invalid silence: "+managerReason(err))
		case err != nil:
			return 0, nil, fmt.Errorf("add silence: %w", err)
		}
		return http.StatusCreated, s, nil
	})
}

// ExpireSilence serves POST ExpirePath (operators and administrators):
// the silence ends now, in the caller's name; 204. A silence that does
// not bear on the caller's scope is not found; one of a region above it
// is not theirs to end (403).
func (a *API) ExpireSilence() http.Handler {
	return httpjson.Handler(a.cfg.Logger, "report api", nil, func(r *http.Request, p *access.Principal) (int, any, error) {
		if !CanSilence(p) {
			return 0, nil, httpjson.Fail(http.StatusForbidden, "只有值班员和管理员可以结束静默", "only operators and administrators may expire silences")
		}
		id := r.PathValue("id")
		all := a.cfg.Reports.Silences()
		i := slices.IndexFunc(all, func(s report.Silence) bool { return s.ID == id })
		if !validID(id) || i < 0 {
			return 0, nil, errNoSilence
		}
		s := all[i]
		if !bearsOn(s, p) {
			return 0, nil, errNoSilence
		}
		if !mayChange(s, p) {
			where := s.Region
			if where == "" {
				where = "*"
			}
			return 0, nil, outside(where, p)
		}
		err := a.cfg.Reports.ExpireSilence(r.Context(), id, p.Name)
		switch {
		case errors.Is(err, report.ErrNotFound):
			return 0, nil, errNoSilence
		case err != nil:
			return 0, nil, fmt.Errorf("expire silence %s: %w", id, err)
		}
		return 0, nil, nil
	})
}
