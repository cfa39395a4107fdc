package app

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/yiping-ioc/yiping/access"
)

// auditLog serves GET /api/audit for administrators: the audit log, newest
// first, filtered by since/until (RFC 3339), actor, action and target, paged
// with limit and before (the id of the last entry of the previous page).
func (a *App) auditLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f access.AuditFilter
	bad := func(param, want string) {
		deny(w, r, http.StatusBadRequest, "参数 "+param+" 应为"+want+" / parameter "+param+": want "+want)
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				bad(p.name, " RFC 3339 time / an RFC 3339 time such as 2026-12-01T00:00:00+08:00")
				return
			}
			*p.dst = t
		}
	}
	f.Actor, f.Action, f.Target = q.Get("actor"), q.Get("action"), q.Get("target")
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > access.MaxAuditLimit {
			bad("limit", " 1.."+strconv.Itoa(access.MaxAuditLimit)+" / 1 to "+strconv.Itoa(access.MaxAuditLimit))
			return
		}
		f.Limit = n
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			bad("before", "正整数 / a positive entry id")
			return
		}
		f.BeforeID = n
	}
	es, err := a.access.ListAudit(r.Context(), f)
	if err != nil {
		a.log.Error("audit list", "err", err)
		deny(w, r, http.StatusInternalServerError, "读取审计日志失败 / reading the audit log failed")
		return
	}
	if es == nil {
		es = []access.AuditEntry{}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{"entries": es})
}
