// Package httppull pulls records from a platform's HTTP API, page by page,
// incrementally by an updated-since cursor.
//
// The platform contract (what a province's API must offer, and what the
// demo platform serves):
//
//	GET <url>?<since_param>=<time>&<page_param>=<n>&<size_param>=<size>
//	→ 200 {"data": [ {record}, ... ]}        (records path configurable)
//
// returning the records updated at or after <time>, sorted by update time
// ascending (ties in a stable order), each carrying its update time in
// <updated_field>. A page shorter than <size> is the last.
//
// Paging is by time, not by page number alone: after each full page the
// next request starts again at page 1 from the last update time seen
// (inclusive, so records sharing that instant are read again, which the
// engine's upsert makes harmless). Records updated while a run pages
// therefore move to the end of the order and are read later instead of
// shifting pages under the reader, and no record is skipped. Only when a
// full page shares one instant does the page number advance. The cursor,
// the last update time seen, is checkpointed after every page, once the
// page's records are applied; overlap re-reads a margin before it for
// platforms whose update times commit out of order.
//
// Failed requests (network errors, 5xx, 429) are retried with exponential
// backoff; when retries run out the run fails, the cursor stays at the
// last checkpoint, and the runner retries the source later with its own
// backoff, catching up from the cursor with no gap.
package httppull

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/recordio"
)

// Sample is a documented example configuration of an HTTP pull source.
//
//go:embed sample.yaml
var Sample string

// Options configure an HTTP pull source.
type Options struct {
	// Kind is the record kind the endpoint serves (cases, tickets, ...).
	Kind string `yaml:"kind"`
	// URL is the endpoint; Query adds fixed parameters to it. Both may
	// carry credentials (user:password@, ?appkey=): they are shown with
	// the password and every query value redacted (collectors.RedactURL).
	URL   string            `yaml:"url"`
	Query map[string]string `yaml:"query,omitempty"`

	// SinceParam, PageParam and SizeParam name the query parameters;
	// defaults updated_since, page, page_size.
	SinceParam string `yaml:"since_param,omitempty"`
	PageParam  string `yaml:"page_param,omitempty"`
	SizeParam  string `yaml:"size_param,omitempty"`
	// PageSize is the records per page (default 500); FirstPage the
	// number of the first page (default 1).
	PageSize  int  `yaml:"page_size,omitempty"`
	FirstPage *int `yaml:"first_page,omitempty"`
	// SinceLayout is how the cursor time is sent: a Go layout, or unix /
	// unix_ms; default RFC 3339.
	SinceLayout string `yaml:"since_layout,omitempty"`

	// Records is the dotted path of the record array in the response
	// ("data", "result.list"); "." for a top-level array. Default data.
	Records string `yaml:"records,omitempty"`
	// UpdatedField is the field of each record holding its update time
	// (the source's name for it); default updated_at. UpdatedLayout reads
	// it: a Go layout, or unix / unix_ms; default RFC 3339, or
	// "2006-01-02 15:04:05" in TimeZone.
	UpdatedField  string `yaml:"updated_field,omitempty"`
	UpdatedLayout string `yaml:"updated_layout,omitempty"`
	// TimeZone is the zone of zone-less times, sent or read; default
	// Asia/Shanghai.
	TimeZone string `yaml:"time_zone,omitempty"`
	// Start is where the first run begins (RFC 3339); empty reads the
	// whole history.
	Start string `yaml:"start,omitempty"`
	// Overlap re-reads this much before the cursor on every run.
	Overlap time.Duration `yaml:"overlap,omitempty"`

	// BearerToken is sent as Authorization: Bearer; or it is read from the
	// environment variable BearerTokenEnv. Headers are sent as given (API
	// keys); all are secrets.
	BearerToken    collectors.Secret            `yaml:"bearer_token,omitempty"`
	BearerTokenEnv string                       `yaml:"bearer_token_env,omitempty"`
	Headers        map[string]collectors.Secret `yaml:"headers,omitempty"`

	// Timeout bounds one request (default 30s). Retries is how many times
	// a failed request is tried again (default 3), waiting Backoff
	// (default 1s), doubled each time up to MaxBackoff (default 30s).
	Timeout    time.Duration `yaml:"timeout,omitempty"`
	Retries    *int          `yaml:"retries,omitempty"`
	Backoff    time.Duration `yaml:"backoff,omitempty"`
	MaxBackoff time.Duration `yaml:"max_backoff,omitempty"`
	// MaxResponseBytes bounds a response body (default 64 MiB).
	MaxResponseBytes int64 `yaml:"max_response_bytes,omitempty"`
}

// shown is a copy of the options fit to show: the URL and query values
// redacted. The type has none of Options' methods.
type shown Options

func (o Options) shown() shown {
	c := shown(o)
	c.URL = collectors.RedactURL(o.URL)
	if o.Query != nil {
		c.Query = make(map[string]string, len(o.Query))
		for k := range o.Query {
			c.Query[k] = collectors.Redacted
		}
	}
	return c
}

// MarshalYAML writes the options with the URL's password and the query
// values redacted, for collectors.Config.String.
func (o Options) MarshalYAML() (any, error) { return o.shown(), nil }

// String formats the options as %+v would, redacted.
func (o Options) String() string { return fmt.Sprintf("%+v", o.shown()) }

// GoString formats the options as %#v would, redacted.
func (o Options) GoString() string { return fmt.Sprintf("%#v", o.shown()) }

// LogValue logs the options redacted.
func (o Options) LogValue() slog.Value { return slog.AnyValue(o.shown()) }

// Defaults returns the default options.
func Defaults() *Options {
	first, retries := 1, 3
	return &Options{
		SinceParam: "updated_since", PageParam: "page", SizeParam: "page_size",
		PageSize: 500, FirstPage: &first, SinceLayout: time.RFC3339,
		Records: "data", UpdatedField: "updated_at", TimeZone: "Asia/Shanghai",
		Timeout: 30 * time.Second, Retries: &retries, Backoff: time.Second, MaxBackoff: 30 * time.Second,
		MaxResponseBytes: 64 << 20,
	}
}

// Type is the "httppull" connector type, for collectors.Types.
func Type() collectors.Type {
	return collectors.NewType(Defaults, func(o *Options, env collectors.Env) (collectors.Connector, error) {
		return New(*o, env)
	})
}

// Puller is the connector of an HTTP pull source.
type Puller struct {
	o       Options
	kind    record.Kind
	base    *url.URL
	loc     *time.Location
	start   time.Time
	records []string
	token   string
	client  *http.Client
	log     *slog.Logger
	secrets []string // credentials that a response could echo back
}

// New checks the options. Zero values take the defaults.
func New(o Options, env collectors.Env) (*Puller, error) {
	d := Defaults()
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.SinceParam, d.SinceParam)
	def(&o.PageParam, d.PageParam)
	def(&o.SizeParam, d.SizeParam)
	def(&o.SinceLayout, d.SinceLayout)
	def(&o.Records, d.Records)
	def(&o.UpdatedField, d.UpdatedField)
	def(&o.TimeZone, d.TimeZone)
	if o.PageSize <= 0 {
		o.PageSize = d.PageSize
	}
	if o.FirstPage == nil {
		o.FirstPage = d.FirstPage
	}
	if o.Retries == nil {
		o.Retries = d.Retries
	}
	if o.Timeout <= 0 {
		o.Timeout = d.Timeout
	}
	if o.Backoff <= 0 {
		o.Backoff = d.Backoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = d.MaxBackoff
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = d.MaxResponseBytes
	}
	p := &Puller{o: o, log: env.Logger}
	if p.log == nil {
		p.log = slog.Default()
	}
	var ok bool
	if p.kind, ok = record.ParseKind(o.Kind); !ok {
		return nil, fmt.Errorf("kind %q: want cases, evaluations, tickets, calls or items", o.Kind)
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url %q: want an absolute http(s) URL", collectors.RedactURL(o.URL))
	}
	p.base = u
	if p.loc, err = time.LoadLocation(o.TimeZone); err != nil {
		return nil, fmt.Errorf("time_zone: %w", err)
	}
	if o.Start != "" {
		if p.start, err = time.Parse(time.RFC3339, o.Start); err != nil {
			return nil, fmt.Errorf("start: %w", err)
		}
	}
	if o.Records != "." {
		p.records = strings.Split(o.Records, ".")
	}
	if *o.Retries < 0 {
		return nil, errors.New("retries: must not be negative")
	}
	p.token = string(o.BearerToken)
	if p.token == "" && o.BearerTokenEnv != "" && env.Getenv != nil {
		p.token = env.Getenv(o.BearerTokenEnv)
		if p.token == "" {
			return nil, fmt.Errorf("bearer_token_env: %s is empty", o.BearerTokenEnv)
		}
	}
	p.secrets = secrets(u, o, p.token)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	p.client = &http.Client{Transport: tr}
	return p, nil
}

// Collect pulls every record updated since cursor, page by page,
// checkpointing after each page.
func (p *Puller) Collect(ctx context.Context, cursor string, acc collectors.Accumulator) (string, error) {
	since := p.start
	if cursor != "" {
		t, err := time.Parse(time.RFC3339Nano, cursor)
		if err != nil {
			return cursor, fmt.Errorf("cursor %q: %w", cursor, err)
		}
		since = t
	}
	req := since
	if !req.IsZero() && p.o.Overlap > 0 {
		req = req.Add(-p.o.Overlap)
	}
	fields := acc.Fields(p.kind)
	// The update time is read with the record's fields: its column is
	// one of them if the mapping reads it, else one more.
	req2 := fields
	ui := slices.IndexFunc(fields, func(f string) bool { return sameName(f, p.o.UpdatedField) })
	if ui < 0 {
		req2 = append(slices.Clone(fields), p.o.UpdatedField)
		ui = len(fields)
	}
	page := *p.o.FirstPage
	for {
		recs, err := p.fetch(ctx, req, page)
		if err != nil {
			return cursor, err
		}
		maxT, undated := req, 0
		rd, err := recordio.NewReader(bytes.NewReader(recs.lines), fmt.Sprintf("page %d", page), recordio.JSONL, req2)
		if err != nil {
			return cursor, err
		}
		for {
			row, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var re *recordio.RowError
				if errors.As(err, &re) {
					acc.Reject(p.kind, re.Field, fmt.Sprintf("page %d record %d: %s", page, re.Line, re.Reason))
					continue
				}
				return cursor, err
			}
			if t, ok := p.updated(row.Values[ui]); ok {
				if t.After(maxT) {
					maxT = t
				}
			} else {
				undated++
			}
			_ = acc.AddRow(p.kind, row.Values[:len(fields)]) // a bad row is counted; it is the source's to fix
		}
		for range recs.notObjects {
			acc.Reject(p.kind, "", fmt.Sprintf("page %d: a record is not a JSON object", page))
		}
		if undated > 0 {
			acc.AddError(fmt.Errorf("page %d: %d records without a readable %s; they do not move the cursor", page, undated, p.o.UpdatedField))
		}
		if maxT.After(since) {
			since = maxT
		}
		next := cursor
		if !since.IsZero() {
			next = since.UTC().Format(time.RFC3339Nano)
		}
		if err := acc.Checkpoint(ctx, next); err != nil {
			return cursor, err
		}
		cursor = next
		if recs.n < p.o.PageSize {
			return cursor, nil
		}
		if maxT.After(req) {
			req, page = maxT, *p.o.FirstPage
		} else {
			page++ // a full page sharing one instant: page through it
		}
	}
}

func sameName(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// updated reads a record's update time.
func (p *Puller) updated(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	switch p.o.UpdatedLayout {
	case "unix", "unix_ms":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		if p.o.UpdatedLayout == "unix" {
			return time.Unix(n, 0), true
		}
		return time.UnixMilli(n), true
	case "":
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, true
		}
		t, err := time.ParseInLocation("2006-01-02 15:04:05", s, p.loc)
		return t, err == nil
	}
	t, err := time.ParseInLocation(p.o.UpdatedLayout, s, p.loc)
	return t, err == nil
}

func (p *Puller) sinceValue(t time.Time) string {
	switch p.o.SinceLayout {
	case "unix":
		return strconv.FormatInt(t.Unix(), 10)
	case "unix_ms":
		return strconv.FormatInt(t.UnixMilli(), 10)
	}
	return t.In(p.loc).Format(p.o.SinceLayout)
}

// fetch gets one page, retrying failures that a retry can cure.
func (p *Puller) fetch(ctx context.Context, since time.Time, page int) (*pageData, error) {
	u := *p.base
	q := u.Query()
	for k, v := range p.o.Query {
		q.Set(k, v)
	}
	if !since.IsZero() {
		q.Set(p.o.SinceParam, p.sinceValue(since))
	}
	q.Set(p.o.PageParam, strconv.Itoa(page))
	q.Set(p.o.SizeParam, strconv.Itoa(p.o.PageSize))
	u.RawQuery = q.Encode()
	wait := p.o.Backoff
	for attempt := 0; ; attempt++ {
		recs, retryAfter, err := p.get(ctx, u.String())
		if err == nil {
			return recs, nil
		}
		var perm *permanentError
		if errors.As(err, &perm) || attempt >= *p.o.Retries || ctx.Err() != nil {
			return nil, err
		}
		pause := max(wait, retryAfter)
		p.log.Warn("request failed; retrying", "url", collectors.RedactURL(u.String()), "attempt", attempt+1, "retry_in", pause.String(), "err", err)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (while waiting to retry after: %v)", ctx.Err(), err)
		case <-t.C:
		}
		wait = min(wait*2, p.o.MaxBackoff)
	}
}

// permanentError is a failure that retrying will not cure (4xx, a
// response of the wrong shape).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// pageData is one page's records as JSON lines, ready for recordio's
// scanner: one object per line.
type pageData struct {
	lines      []byte
	n          int // records, objects or not
	notObjects int
}

func (p *Puller) get(ctx context.Context, u string) (page *pageData, retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, p.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, &permanentError{err}
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range p.o.Headers {
		req.Header.Set(k, string(v))
	}
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	shown := collectors.RedactURL(u)
	resp, err := p.client.Do(req)
	if err != nil {
		// A *url.Error quotes the whole URL, query and all: keep only
		// what it wraps (dial, TLS, timeout), which says what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, 0, fmt.Errorf("GET %s: %w", shown, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		err := fmt.Errorf("GET %s: %s: %s", shown, resp.Status, p.scrub(strings.TrimSpace(string(snippet))))
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
				retryAfter = min(time.Duration(s)*time.Second, p.o.MaxBackoff)
			}
			return nil, retryAfter, err
		}
		return nil, 0, &permanentError{err}
	}
	page, err = p.decode(json.NewDecoder(io.LimitReader(resp.Body, p.o.MaxResponseBytes)))
	if err != nil {
		var perm *permanentError
		if errors.As(err, &perm) {
			return nil, 0, &permanentError{fmt.Errorf("GET %s: %w", shown, perm.err)}
		}
		// A body cut short by the network is worth another try.
		return nil, 0, fmt.Errorf("GET %s: read response: %w", shown, err)
	}
	return page, 0, nil
}

// decode streams the response: it walks the tokens down the records path
// and copies each record out as one line, without building a map per
// record (which would cost more than everything else a page goes
// through). The records are validated by recordio's scanner afterwards.
func (p *Puller) decode(dec *json.Decoder) (*pageData, error) {
	for depth, key := range p.records {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if tok != json.Delim('{') {
			return nil, &permanentError{fmt.Errorf("response has no object at %q", strings.Join(p.records[:depth+1], "."))}
		}
		found := false
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			if k == key {
				found = true
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
		}
		if !found {
			return &pageData{}, nil // no records key: an empty page
		}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	out := &pageData{}
	switch tok {
	case nil:
		return out, nil // null: an empty page
	case json.Delim('['):
	default:
		return nil, &permanentError{fmt.Errorf("%q is not an array", p.o.Records)}
	}
	var buf bytes.Buffer
	var r json.RawMessage
	for dec.More() {
		r = r[:0]
		if err := dec.Decode(&r); err != nil {
			return nil, err
		}
		out.n++
		if len(r) == 0 || r[0] != '{' {
			out.notObjects++
			continue
		}
		if bytes.IndexByte(r, '\n') >= 0 {
			json.Compact(&buf, r) // a pretty-printed record: one line
		} else {
			buf.Write(r)
		}
		buf.WriteByte('\n')
	}
	// The rest of the document is not needed; a truncated body shows up
	// as an error above, inside the array.
	out.lines = buf.Bytes()
	return out, nil
}

// secrets lists the credentials of a source: the URL's password and query
// values, the fixed query values, the token and the headers. Values under
// four bytes are left out: too likely to be ordinary words of a message,
// and not credentials.
func secrets(u *url.URL, o Options, token string) []string {
	var out []string
	add := func(v string) {
		if len(v) >= 4 {
			out = append(out, v)
		}
	}
	if pw, ok := u.User.Password(); ok {
		add(pw)
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			add(v)
		}
	}
	for _, v := range o.Query {
		add(v)
	}
	for _, v := range o.Headers {
		add(string(v))
	}
	add(token)
	return out
}

// scrub removes the source's credentials from text the platform sent
// back: an error page may echo the request ("invalid appkey K").
func (p *Puller) scrub(s string) string {
	for _, v := range p.secrets {
		s = strings.ReplaceAll(s, v, collectors.Redacted)
	}
	return s
}
