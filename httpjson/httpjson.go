// Package httpjson is the plumbing the JSON APIs share (special reports,
// dispatch, bulletins): the signed-in caller, bounded and strict request
// bodies, bilingual error answers and no-store JSON answers. One place, so
// every API bounds its bodies and names the field at fault the same way.
package httpjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/access"
)

// Problem is an answer that is not a success: a status and a message in
// both languages ("zh / en"), with any more fields of the error body.
type Problem struct {
	Status int
	ZH, EN string
	// Extra are more fields of the answer's JSON object beside "error"
	// (dispatch names the order's state that refused an action).
	Extra map[string]string
}

func (p *Problem) Error() string { return p.ZH + " / " + p.EN }

// Fail is a problem answered with status.
func Fail(status int, zh, en string) *Problem { return &Problem{Status: status, ZH: zh, EN: en} }

// Field is a 400 naming the field at fault.
func Field(name, zh, en string) *Problem {
	return Fail(http.StatusBadRequest, "字段 "+name+"："+zh, "field "+name+": "+en)
}

// Route is one route of a JSON API for the product's route table: every
// one is for signed-in users, and its answers are not stored.
type Route struct {
	Method, Path string
	Handler      http.Handler
	// Body is the largest request body; 0 for none.
	Body int64
	// Regions are the query parameters that name a region, for the
	// guard's scope check (an absent one becomes the caller's own).
	Regions []string
	// Roles, when set, are the roles that may call it: others are refused
	// 403 before the handler runs (which checks again).
	Roles []access.Role
	// Audit says a successful call is an export the audit log records.
	Audit bool
}

// Func answers a request of a signed-in caller: a value written as JSON
// with status (0: 200; a nil value: 204 and no body), a *Problem
// answered as itself, any other error as a logged 500.
type Func func(r *http.Request, p *access.Principal) (status int, v any, err error)

// Handler serves fn. translate, when not nil, first turns the domain's
// errors into problems (it returns others unchanged); name labels the
// log line of a 500.
func Handler(log *slog.Logger, name string, translate func(error) error, fn Func) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := access.FromContext(r.Context())
		if !ok {
			WriteProblem(w, Fail(http.StatusUnauthorized, "请先登录", "sign in first"))
			return
		}
		status, v, err := fn(r, p)
		if err != nil && translate != nil {
			err = translate(err)
		}
		var pr *Problem
		switch {
		case errors.As(err, &pr):
			WriteProblem(w, pr)
		case err != nil:
			log.Error(name, "method", r.Method, "path", r.URL.Path, "err", err)
			WriteProblem(w, Fail(http.StatusInternalServerError, "内部错误，请稍后再试", "internal error; try again later"))
		case v == nil:
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(orDefault(status, http.StatusNoContent))
		default:
			Write(w, orDefault(status, http.StatusOK), v)
		}
	})
}

func orDefault(s, def int) int {
	if s == 0 {
		return def
	}
	return s
}

// Write answers v as JSON with status; API answers are never stored.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// WriteProblem answers p: {"error": "zh / en", ...Extra}.
func WriteProblem(w http.ResponseWriter, p *Problem) {
	body := map[string]string{"error": p.Error()}
	for k, v := range p.Extra {
		if k != "error" {
			body[k] = v
		}
	}
	Write(w, p.Status, body)
}

// Decode reads a JSON object of at most max bytes into v: the body is
// read through a limit (never whole), unknown fields and data after the
// object are refused, and a wrong type names its field. emptyOK lets an
// empty body stand for zero values.
func Decode(r *http.Request, v any, max int64, emptyOK bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return Fail(http.StatusUnsupportedMediaType, "请求体应为 JSON（application/json）", "want a JSON body (application/json)")
		}
	}
	tooLarge := Fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("请求体超过 %d 字节", max), fmt.Sprintf("body larger than %d bytes", max))
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	// The route's own bound (server.LimitBody) may stop the read first.
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return tooLarge
	case err != nil:
		return Fail(http.StatusBadRequest, "读取请求体失败", "reading the body failed")
	case int64(len(body)) > max:
		return tooLarge
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		if emptyOK {
			return nil
		}
		return Fail(http.StatusBadRequest, "缺少 JSON 请求体", "missing JSON body")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return Field(typeErr.Field, "类型错误，应为 "+typeErr.Type.String(), "wrong type, want "+typeErr.Type.String())
	case err != nil && strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Field(name, "未知字段", "unknown field")
	case err != nil:
		return Fail(http.StatusBadRequest, "请求体不是有效的 JSON 对象", "the body is not a valid JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Fail(http.StatusBadRequest, "JSON 对象之后还有内容", "data after the JSON object")
	}
	return nil
}

// Instant reads a since/until parameter: RFC 3339, or a date
// (YYYY-MM-DD) beginning in loc; "" is the zero time (none).
func Instant(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.ParseInLocation(time.DateOnly, s, loc)
}
