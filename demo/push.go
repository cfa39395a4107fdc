package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/record"
)

// PusherConfig sets up a Pusher. Zero fields take the defaults given.
type PusherConfig struct {
	// URL is the intake's base: records of kind k are POSTed to URL/k
	// (http://127.0.0.1:8080/api/ingest → .../api/ingest/tickets).
	URL string
	// Token is sent as "Authorization: Bearer <token>". It is never logged.
	Token string
	// Interval is the time between pushes (default 10s).
	Interval time.Duration
	// Batch is the most records in one request (default 5000).
	Batch int
	// Kinds are the kinds pushed (default all five). Items are pushed as
	// changed items, not as a whole catalog.
	Kinds []record.Kind
	// Since is where pushing starts: changes after it. Zero pushes the
	// whole window first, so that a fresh intake gets the history.
	Since time.Time
	// Client makes the requests (default: a client with a 30s timeout).
	Client *http.Client
	// Logger receives progress and failures (default slog.Default()).
	Logger *slog.Logger
}

// Pusher POSTs the demo's new and changed records to an intake as JSON
// lines (Content-Type application/x-ndjson), one request per kind and
// batch, the way a platform that pushes would. A failed request is
// retried from the same record at the next interval: the intake sees
// every change at least once and in order. Use one Pusher from one
// goroutine.
type Pusher struct {
	d   *Demo
	cfg PusherConfig
	log *slog.Logger
	pos [record.NumKinds]position
}

// NewPusher returns a pusher of d's records to cfg.URL.
func (d *Demo) NewPusher(cfg PusherConfig) (*Pusher, error) {
	if cfg.URL == "" {
		return nil, errors.New("demo pusher: an intake URL is required")
	}
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("demo pusher: intake URL %q: want http:// or https://", cfg.URL)
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 5000
	}
	if cfg.Kinds == nil {
		cfg.Kinds = []record.Kind{record.KindCase, record.KindEvaluation, record.KindTicket, record.KindCall, record.KindItem}
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Pusher{d: d, cfg: cfg, log: cfg.Logger.With("component", "demo-pusher", "url", cfg.URL)}
	for k := range p.pos {
		p.pos[k] = position{at: -1}
		if !cfg.Since.IsZero() {
			p.pos[k] = position{at: cfg.Since.Unix(), id: "\xff"}
		}
	}
	return p, nil
}

// Run pushes at once and then every Interval until ctx is done; failures
// are logged and retried. It returns nil when ctx is done.
func (p *Pusher) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		if n, err := p.PushOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.log.Warn("push failed; retrying at the next interval", "pushed", n, "err", err)
		} else if n > 0 {
			p.log.Debug("pushed", "records", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// PushOnce sends every change not yet pushed and returns how many records
// the intake accepted. It stops at the first failed request.
func (p *Pusher) PushOnce(ctx context.Context) (int, error) {
	total := 0
	for _, k := range p.cfg.Kinds {
		for {
			rows, more := p.d.page(k, p.pos[k], 0, p.cfg.Batch)
			if len(rows) == 0 {
				break
			}
			if err := p.post(ctx, k, rows); err != nil {
				return total, err
			}
			total += len(rows)
			last := rows[len(rows)-1]
			p.pos[k] = position{last.at, last.id}
			if !more {
				break
			}
		}
	}
	return total, nil
}

func (p *Pusher) post(ctx context.Context, k record.Kind, rows []row) error {
	fields := k.Fields()
	b := make([]byte, 0, len(rows)*400)
	for _, r := range rows {
		b = appendObject(b, fields, r)
		b = append(b, '\n')
	}
	url := p.cfg.URL + "/" + k.String()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("push %s: %w", k, err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if p.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.cfg.Token)
	}
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("push %d %s to %s: %w", len(rows), k, url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("push %d %s to %s: %s: %s", len(rows), k, url, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}
