// Package push is the push intake: platforms POST their records to
// /api/ingest/{cases|evaluations|tickets|calls|items} as CSV or JSON lines,
// authenticated by a bearer token, and get back how many rows were
// accepted and rejected, and why.
//
// Every accepted row is in the journal before the answer is sent, so a 200
// means the rows survive a crash. Records are upserted by id, so posting
// the same body again changes nothing: a client that is unsure whether a
// request landed simply sends it again.
package push

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/recordio"
)

// Sample is a documented example configuration of a push source.
//
//go:embed sample.yaml
var Sample string

// Defaults.
const (
	DefaultTokenEnv     = "YIPING_INGEST_TOKEN"
	DefaultMaxBodyBytes = 32 << 20
	DefaultMaxErrors    = 100
	// flushRows bounds the rows held in memory before they are committed.
	flushRows = 4096
)

// Options configure a push source.
type Options struct {
	// Token is the bearer token clients send (Authorization: Bearer ...).
	// When empty, the environment variable named by TokenEnv is read.
	Token collectors.Secret `yaml:"token,omitempty"`
	// TokenEnv names the variable holding the token; default
	// YIPING_INGEST_TOKEN.
	TokenEnv string `yaml:"token_env,omitempty"`
	// MaxBodyBytes bounds a request body; default 32 MiB. The fiber
	// application's BodyLimit must be at least as large.
	MaxBodyBytes int `yaml:"max_body_bytes,omitempty"`
	// MaxErrors caps the row errors listed in an answer (the counts stay
	// exact); default 100.
	MaxErrors int `yaml:"max_errors,omitempty"`
	// MaxUnzipBytes bounds an XLSX body once uncompressed, all its parts
	// together; default 16 × MaxBodyBytes (512 MiB). A body over it, or
	// over the other workbook limits (recordio.Limits: a part expanding
	// more than 100 times, a row of more than 1 MiB of XML), is answered
	// 413 before any row is read.
	MaxUnzipBytes int64 `yaml:"max_unzip_bytes,omitempty"`
	// MaxXLSXRows bounds the rows of an XLSX body's sheet; default
	// 1,048,576 (Excel's own limit).
	MaxXLSXRows int `yaml:"max_xlsx_rows,omitempty"`
}

// unzipFactor is how many times MaxBodyBytes an XLSX body may unzip to by
// default: real workbooks' XML is 5 to 20 times their zip.
const unzipFactor = 16

// Defaults returns the default options.
func Defaults() *Options {
	return &Options{TokenEnv: DefaultTokenEnv, MaxBodyBytes: DefaultMaxBodyBytes, MaxErrors: DefaultMaxErrors}
}

// Type is the "push" connector type, for collectors.Types.
func Type() collectors.Type {
	return collectors.NewType(Defaults, func(o *Options, env collectors.Env) (collectors.Connector, error) {
		return New(*o, env.Getenv)
	})
}

// Source is the connector of a push source. It is a collectors.Receiver:
// it is never polled, its records arrive through Handler.
type Source struct {
	opts   Options
	limits recordio.Limits
	sum    [sha256.Size]byte // of the token
}

var _ collectors.Receiver = (*Source)(nil)

// New checks the options and resolves the token (getenv may be nil for
// os.Getenv-less tests with a literal token).
func New(o Options, getenv func(string) string) (*Source, error) {
	d := Defaults()
	if o.TokenEnv == "" {
		o.TokenEnv = d.TokenEnv
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = d.MaxBodyBytes
	}
	if o.MaxErrors <= 0 {
		o.MaxErrors = d.MaxErrors
	}
	if o.MaxUnzipBytes <= 0 {
		o.MaxUnzipBytes = unzipFactor * int64(o.MaxBodyBytes)
	}
	if o.MaxXLSXRows < 0 {
		return nil, errors.New("max_xlsx_rows: must not be negative")
	}
	tok := string(o.Token)
	if tok == "" && getenv != nil {
		tok = getenv(o.TokenEnv)
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return nil, fmt.Errorf("no token: set token, or the environment variable %s", o.TokenEnv)
	}
	if len(tok) < 16 {
		return nil, errors.New("token too short: use at least 16 characters")
	}
	lim := recordio.Limits{MaxUnzipBytes: o.MaxUnzipBytes, MaxXLSXRows: o.MaxXLSXRows}
	return &Source{opts: o, limits: lim, sum: sha256.Sum256([]byte(tok))}, nil
}

// EnvSource returns a push source named "push" with the canonical field
// names, when the environment variable YIPING_INGEST_TOKEN is set: push
// intake without a configuration file. ok is false when it is not set.
func EnvSource(getenv func(string) string) (src collectors.Source, ok bool, err error) {
	if getenv == nil || strings.TrimSpace(getenv(DefaultTokenEnv)) == "" {
		return collectors.Source{}, false, nil
	}
	p, err := New(*Defaults(), getenv)
	if err != nil {
		return collectors.Source{}, false, fmt.Errorf("%s: %w", DefaultTokenEnv, err)
	}
	return collectors.Source{Name: "push", Type: "push", Options: Defaults(), Connector: p}, true, nil
}

// Collect is never called for a push source; it keeps the cursor.
func (s *Source) Collect(_ context.Context, cursor string, _ collectors.Accumulator) (string, error) {
	return cursor, nil
}

// Receives marks the source as not polled.
func (s *Source) Receives() {}

// Intake is what the handler needs from the collectors' runner.
type Intake interface {
	Ingest(ctx context.Context, source string, fn func(collectors.Accumulator) error) (collectors.Result, error)
	Sources() []collectors.Source
}

// Routes mounts POST /api/ingest/:kind on r for the push sources of in.
func Routes(r fiber.Router, in Intake) error {
	h, err := Handler(in)
	if err != nil {
		return err
	}
	r.Post("/api/ingest/:kind", h)
	return nil
}

// client is one push source, known by its token.
type client struct {
	name string
	src  *Source
}

// Handler returns the intake handler for every push source of in; the
// token a request carries tells which source it comes from. The route
// must have a :kind parameter.
func Handler(in Intake) (fiber.Handler, error) {
	var clients []client
	for _, s := range in.Sources() {
		p, ok := s.Connector.(*Source)
		if !ok {
			continue
		}
		for _, c := range clients {
			if c.src.sum == p.sum {
				return nil, fmt.Errorf("push sources %s and %s have the same token", c.name, s.Name)
			}
		}
		clients = append(clients, client{name: s.Name, src: p})
	}
	if len(clients) == 0 {
		return nil, errors.New("push: no push source configured")
	}
	return func(c *fiber.Ctx) error { return handle(c, in, clients) }, nil
}

// RowError is one refused row in an answer.
type RowError struct {
	Line   int    `json:"line"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// Answer is the JSON body of a 200 answer.
type Answer struct {
	Accepted int        `json:"accepted"`
	Rejected int        `json:"rejected"`
	Errors   []RowError `json:"errors"`
	// ErrorsTruncated says Errors lists only the first MaxErrors.
	ErrorsTruncated bool `json:"errors_truncated,omitempty"`
	// MissingColumns lists canonical or mapped columns absent from a CSV
	// or XLSX header.
	MissingColumns []string `json:"missing_columns,omitempty"`
}

func handle(c *fiber.Ctx, in Intake, clients []client) error {
	cl, ok := authenticate(c.Get(fiber.HeaderAuthorization), clients)
	if !ok {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="yiping ingest"`)
		return fail(c, fiber.StatusUnauthorized, "missing or wrong bearer token")
	}
	kind, ok := record.ParseKind(c.Params("kind"))
	if !ok {
		return fail(c, fiber.StatusNotFound, fmt.Sprintf("unknown record kind %q (want cases, evaluations, tickets, calls or items)", c.Params("kind")))
	}
	format, err := formatOf(c.Get(fiber.HeaderContentType), c.Query("format"))
	if err != nil {
		return fail(c, fiber.StatusUnsupportedMediaType, err.Error())
	}
	body := c.Body()
	if len(body) > cl.src.opts.MaxBodyBytes {
		return fail(c, fiber.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes exceeds the limit of %d; split it", len(body), cl.src.opts.MaxBodyBytes))
	}
	replace := c.QueryBool("replace")
	if replace && kind != record.KindItem {
		return fail(c, fiber.StatusBadRequest, "replace=true is only for items (a whole catalog)")
	}
	ans := Answer{Errors: []RowError{}}
	var headerErr error
	res, err := in.Ingest(c.UserContext(), cl.name, func(acc collectors.Accumulator) error {
		rd, err := cl.src.limits.NewReader(bytes.NewReader(body), "request", format, acc.Fields(kind))
		if err != nil {
			headerErr = err
			return err
		}
		defer rd.Close()
		ans.MissingColumns = rd.Missing()
		if replace {
			acc.BeginCatalog()
		}
		note := func(line int, field, reason string) {
			if len(ans.Errors) < cl.src.opts.MaxErrors {
				ans.Errors = append(ans.Errors, RowError{Line: line, Field: field, Reason: reason})
			} else {
				ans.ErrorsTruncated = true
			}
		}
		pending := 0
		for {
			row, err := rd.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				var re *recordio.RowError
				if errors.As(err, &re) {
					acc.Reject(kind, re.Field, re.Reason)
					note(re.Line, re.Field, re.Reason)
					continue
				}
				return err
			}
			if err := acc.AddRow(kind, row.Values); err != nil {
				var fe *record.FieldError
				if errors.As(err, &fe) {
					note(row.Line, fe.Field, fe.Reason)
				} else {
					note(row.Line, "", err.Error())
				}
				continue
			}
			if pending++; pending >= flushRows && !replace {
				if err := acc.Flush(c.UserContext()); err != nil {
					return err
				}
				pending = 0
			}
		}
	})
	ans.Accepted, ans.Rejected = res.Accepted, res.Rejected
	var limit *recordio.LimitError
	switch {
	case errors.As(err, &limit):
		// A workbook too large once uncompressed: like a body over
		// max_body_bytes, the remedy is to split it.
		return c.Status(fiber.StatusRequestEntityTooLarge).JSON(fiber.Map{
			"error": fmt.Sprintf("%s; split the workbook or send CSV", err), "limit": limit.Limit, "accepted": ans.Accepted,
		})
	case headerErr != nil:
		return fail(c, fiber.StatusBadRequest, headerErr.Error())
	case err != nil:
		// Some rows may be committed; sending the whole body again is
		// safe, since records are upserted by id.
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{
			"error": "not stored, send again: " + err.Error(), "accepted": ans.Accepted,
		})
	}
	return c.JSON(ans)
}

// authenticate finds the client whose token the header carries, comparing
// digests in constant time against every client.
func authenticate(header string, clients []client) (client, bool) {
	const prefix = "bearer "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return client{}, false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(header[len(prefix):])))
	found := -1
	for i := range clients {
		if subtle.ConstantTimeCompare(sum[:], clients[i].src.sum[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return client{}, false
	}
	return clients[found], true
}

// formatOf picks the body format from the query (format=csv|jsonl|xlsx)
// or the Content-Type.
func formatOf(contentType, query string) (recordio.Format, error) {
	switch strings.ToLower(query) {
	case "csv":
		return recordio.CSV, nil
	case "jsonl", "ndjson":
		return recordio.JSONL, nil
	case "xlsx":
		return recordio.XLSX, nil
	case "":
	default:
		return 0, fmt.Errorf("format %q: want csv, jsonl or xlsx", query)
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, fmt.Errorf("Content-Type %q: want text/csv or application/x-ndjson", contentType)
	}
	switch mt {
	case "text/csv", "application/csv", "text/comma-separated-values":
		return recordio.CSV, nil
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonl",
		"application/jsonlines", "application/x-jsonlines", "application/json-lines":
		return recordio.JSONL, nil
	case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
		return recordio.XLSX, nil
	}
	return 0, fmt.Errorf("Content-Type %q: want text/csv, application/x-ndjson (JSON lines) or an XLSX workbook", mt)
}

func fail(c *fiber.Ctx, status int, msg string) error {
	return c.Status(status).JSON(fiber.Map{"error": msg})
}
