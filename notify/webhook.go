package notify

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/yiping-ioc/yiping/collectors"
)

// DefaultTimeout bounds one request to a receiver when its client has
// no timeout of its own.
const DefaultTimeout = 10 * time.Second

// WebhookVersion is the version of the generic webhook's body; it
// changes only when a field changes meaning or goes away.
const WebhookVersion = "1"

// WebhookPayload is the JSON body the generic webhook POSTs:
//
//	{
//	  "version": "1",
//	  "receiver": "ops-webhook",
//	  "id": "rpt-20261203-0007#1",
//	  "title": "崆峒区 超期未办结 12 件",
//	  "markdown": "…", "text": "…",
//	  "url": "https://yiping.example.gov.cn/reports/rpt-20261203-0007",
//	  "severity": "critical",
//	  "region": {"code": "620802", "name": "崆峒区"},
//	  "time": "2026-12-03T09:44:14+08:00",
//	  "labels": {"rule": "overdue"},
//	  "parts": [ … ]
//	}
//
// parts is present only in a digest: the messages it stands for, each in
// the shape of the top level without version, receiver and parts. The
// request carries the id again as the Idempotency-Key header.
type WebhookPayload struct {
	Version  string `json:"version"`
	Receiver string `json:"receiver"`
	WebhookMessage
	Parts []WebhookMessage `json:"parts,omitempty"`
}

// WebhookMessage is one message in a WebhookPayload.
type WebhookMessage struct {
	ID       string            `json:"id"`
	Title    string            `json:"title"`
	Markdown string            `json:"markdown"`
	Text     string            `json:"text"`
	URL      string            `json:"url,omitempty"`
	Severity Severity          `json:"severity,omitempty"`
	Region   WebhookRegion     `json:"region"`
	Time     string            `json:"time,omitempty"` // RFC 3339, business time zone
	Labels   map[string]string `json:"labels,omitempty"`
}

// WebhookRegion is the region a message is about.
type WebhookRegion struct {
	Code string `json:"code,omitempty"`
	Name string `json:"name,omitempty"`
}

// Webhook POSTs a WebhookPayload to a URL.
type Webhook struct {
	// Name is the receiver's name, sent as "receiver".
	Name string
	// URL may carry a token in its query: it is shown redacted.
	URL string
	// Headers are sent with every request (an Authorization, an API key);
	// they are secrets.
	Headers map[string]collectors.Secret
	// PerMinute caps the requests in any minute; 0 is no cap.
	PerMinute int
	// Client sends the requests; nil is a client with DefaultTimeout.
	Client *http.Client
	// Location is the zone of the times sent; nil is Asia/Shanghai.
	Location *time.Location
}

var _ Limited = (*Webhook)(nil)

// Notify POSTs m; a 2xx answer is success.
func (w *Webhook) Notify(ctx context.Context, m Message) (bool, error) {
	h := http.Header{}
	for k, v := range w.Headers {
		h.Set(k, string(v))
	}
	h.Set("Idempotency-Key", m.ID)
	_, _, retry, err := post(ctx, httpClient(w.Client), w.URL, h, w.body(m))
	if err != nil {
		return retry, fmt.Errorf("webhook: %w", err)
	}
	return false, nil
}

// Limits: the configured rate, no size limit.
func (w *Webhook) Limits() Limits { return Limits{PerMinute: w.PerMinute} }

// Size is the length of the request body.
func (w *Webhook) Size(m Message) int { return len(w.body(m)) }

func (w *Webhook) body(m Message) []byte {
	loc := zone(w.Location)
	p := WebhookPayload{Version: WebhookVersion, Receiver: w.Name, WebhookMessage: webhookMessage(m, loc)}
	for _, part := range m.Parts {
		p.Parts = append(p.Parts, webhookMessage(part, loc))
	}
	return marshal(p)
}

func webhookMessage(m Message, loc *time.Location) WebhookMessage {
	w := WebhookMessage{
		ID: m.ID, Title: m.Title, Markdown: m.Markdown, Text: m.Text, URL: m.URL,
		Severity: m.Severity, Region: WebhookRegion{Code: m.RegionCode, Name: m.RegionName}, Labels: m.Labels,
	}
	if !m.Time.IsZero() {
		w.Time = m.Time.In(loc).Format(time.RFC3339)
	}
	return w
}

// httpClient is c, or a client with DefaultTimeout.
func httpClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: DefaultTimeout}
}

// zone is loc, or the business time zone.
func zone(loc *time.Location) *time.Location {
	if loc != nil {
		return loc
	}
	return businessZone
}
