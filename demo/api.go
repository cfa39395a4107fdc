package demo

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/record"
)

// API limits: a page holds DefaultLimit records unless the client asks for
// another limit, at most MaxLimit.
const (
	DefaultLimit = 1000
	MaxLimit     = 5000
)

// Handler serves the platform's pull API:
//
//	GET /api/v1/{cases|evaluations|tickets|calls|items}?updated_since=RFC3339&page_token=T&limit=N
//
// answers {"records": [...], "next_page_token": "...", "cursor": "..."}.
// page_size is accepted as another name for limit.
// Records are objects of the canonical field names of SPEC.md section 3
// with string values ("" for null) plus "updated_at", in (updated_at, id)
// order, each record once in its newest version. updated_since selects the
// records changed strictly after it. A full page comes with a
// next_page_token that continues exactly after its last record, ties of
// updated_at included; follow tokens until there is none, then keep
// "cursor" (the updated_at of the last record, or the updated_since given
// when nothing changed) for the next poll. Nothing is lost that way,
// because the demo only ever adds changes later than everything it has
// served (see Demo.Now).
//
// Page-number mode serves the contract of the httppull connector
// (collectors/httppull): when the request has page=N (1-based),
// updated_since is inclusive (records updated at or after it) and the
// answer is the N-th page of limit records in the same order. A collector
// in that mode restarts at page 1 from the last updated_at it saw, and
// pages on only through records that share one second; a page shorter
// than limit is the last.
//
// GET /api/v1/status describes the demo (simulated time, counts, lagging
// counties, today's surges).
func (d *Demo) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/status", d.handleStatus)
	mux.HandleFunc("GET /api/v1/{kind}", d.handleList)
	return mux
}

// Page is one answer of the pull API.
type Page struct {
	Records       []Row  `json:"records"`
	NextPageToken string `json:"next_page_token"`
	Cursor        string `json:"cursor"`
}

// Row is one record of a page: canonical field name → string value, plus
// "updated_at".
type Row map[string]string

// position is where a page starts: after the change (at, id); at = -1
// with id "" starts at the beginning.
type position struct {
	at int64
	id string
}

func (d *Demo) handleList(w http.ResponseWriter, r *http.Request) {
	k, ok := record.ParseKind(r.PathValue("kind"))
	if !ok {
		apiError(w, http.StatusNotFound, fmt.Sprintf("unknown record kind %q: want cases, evaluations, tickets, calls or items", r.PathValue("kind")))
		return
	}
	q := r.URL.Query()
	limit := DefaultLimit
	for _, name := range []string{"limit", "page_size"} {
		if s := q.Get(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				apiError(w, http.StatusBadRequest, fmt.Sprintf("%s %q: want a positive integer", name, s))
				return
			}
			limit = min(n, MaxLimit)
		}
	}
	pageNo := 0 // 0: token mode; ≥ 1: page-number mode
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			apiError(w, http.StatusBadRequest, fmt.Sprintf("page %q: want a positive integer", s))
			return
		}
		pageNo = n
	}
	from := position{at: -1}
	cursor := ""
	if s := q.Get("updated_since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			apiError(w, http.StatusBadRequest, fmt.Sprintf("updated_since %q: want RFC 3339 with an offset", s))
			return
		}
		// Every id sorts before "\xff": the whole second of t is skipped.
		from = position{at: t.Unix(), id: "\xff"}
		if pageNo > 0 {
			// Page-number mode includes updated_since itself: from the
			// first whole second at or after t.
			sec := t.Unix()
			if t.Nanosecond() == 0 {
				sec--
			}
			from.at = sec
		}
		cursor = s
	}
	if s := q.Get("page_token"); s != "" {
		p, err := decodeToken(s)
		if err != nil {
			apiError(w, http.StatusBadRequest, err.Error())
			return
		}
		from = p
		cursor = string(d.m.appendTime(nil, p.at))
	}
	skip := 0
	if pageNo > 0 {
		skip = (pageNo - 1) * limit
	}
	rows, next := d.page(k, from, skip, limit)
	fields := k.Fields()
	b := make([]byte, 0, 64+len(rows)*400)
	b = append(b, `{"records":[`...)
	for i, row := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendObject(b, fields, row)
	}
	b = append(b, `],"next_page_token":`...)
	if len(rows) > 0 {
		last := rows[len(rows)-1]
		cursor = last.updatedAt
		if next {
			b = appendJSONString(b, encodeToken(position{last.at, last.id}))
		} else {
			b = append(b, `""`...)
		}
	} else {
		b = append(b, `""`...)
	}
	b = append(b, `,"cursor":`...)
	b = appendJSONString(b, cursor)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if _, err := w.Write(b); err != nil {
		d.log.Debug("write page", "kind", k.String(), "err", err)
	}
}

// appendObject appends a record as a JSON object, fields in SPEC.md order
// and "updated_at" last. The pull API and the pusher share it.
func appendObject(b []byte, fields []string, r row) []byte {
	b = append(b, '{')
	for i, f := range fields {
		b = appendJSONString(b, f)
		b = append(b, ':')
		b = appendJSONString(b, r.vals[i])
		b = append(b, ',')
	}
	b = append(b, `"updated_at":`...)
	b = appendJSONString(b, r.updatedAt)
	return append(b, '}')
}

// appendJSONString appends s as a JSON string. Values are UTF-8 (Chinese
// categories pass through as they are); quotes, backslashes and control
// characters are escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// row is one record as served.
type row struct {
	at        int64
	id        string
	updatedAt string
	vals      []string // aligned to Kind.Fields
}

// page returns up to limit records of kind k after position from, past
// the first skip of them, and whether more follow.
func (d *Demo) page(k record.Kind, from position, skip, limit int) ([]row, bool) {
	s := d.series(k)
	unlock := s.rlock()
	defer unlock()
	keys := s.keys()
	// First change after from: later second, or same second and larger id.
	i := sort.Search(len(keys), func(i int) bool {
		e := keys[i]
		if e.at != from.at {
			return e.at > from.at
		}
		id, ok := s.id(e.seq)
		return ok && id > from.id
	})
	var out []row
	for ; i < len(keys); i++ {
		e := keys[i]
		if at, ok := s.latest(e.seq); !ok || at != e.at {
			continue // superseded by a later change of the record, served there
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(out) == limit {
			return out, true
		}
		id, _ := s.id(e.seq)
		out = append(out, row{at: e.at, id: id, updatedAt: string(d.m.appendTime(nil, e.at)), vals: s.fields(nil, e.seq)})
	}
	return out, false
}

// Tokens carry the position itself (updated_at and id), not an offset, so
// that they stay valid while records change and after a restart.
func encodeToken(p position) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(p.at, 10) + "," + p.id))
}

func decodeToken(s string) (position, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		at, id, ok := strings.Cut(string(b), ",")
		if n, perr := strconv.ParseInt(at, 10, 64); ok && perr == nil && id != "" {
			return position{n, id}, nil
		}
	}
	return position{}, errors.New("page_token: not a token this API gave")
}

type apiErr struct {
	Error string `json:"error"`
}

func apiError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(apiErr{msg})
}

// Status is the answer of GET /api/v1/status.
type Status struct {
	Province string         `json:"province"`
	Now      string         `json:"now"`
	Backfill string         `json:"backfill"`
	Records  map[string]int `json:"records"`
	Lagging  []string       `json:"lagging_counties"`
	Surges   []Surge        `json:"surges_today"`
}

func (d *Demo) handleStatus(w http.ResponseWriter, _ *http.Request) {
	st := d.Stats()
	out := Status{Province: d.m.regions[0].code, Now: st.Now.Format(time.RFC3339), Backfill: st.Backfill.String(),
		Records: map[string]int{}, Lagging: d.Lagging()}
	for k := record.Kind(0); k < record.NumKinds; k++ {
		out.Records[k.String()] = st.Records[k]
	}
	day := d.m.dayOf(st.Now.Unix())
	out.Surges = d.Surges(time.Unix(d.m.dayStart(day), 0), time.Unix(d.m.dayStart(day+1), 0))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(out)
}
