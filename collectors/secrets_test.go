package collectors_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	yc "github.com/yiping-ioc/yiping/collectors"
	"github.com/yiping-ioc/yiping/collectors/all"
	"github.com/yiping-ioc/yiping/collectors/httppull"
	"github.com/yiping-ioc/yiping/internal/testkit/testengine"
)

// The credentials of the test sources: none may be shown anywhere.
var credentials = []string{"SECRET123", "hunter2pw", "SIGNATURE987", "HEADERKEY555", "BEARER777", "PANICKEY42", "PARTIALKEY7"}

// connFunc adapts a function to a connector.
type connFunc func(ctx context.Context, cursor string, acc yc.Accumulator) (string, error)

func (f connFunc) Collect(ctx context.Context, cursor string, acc yc.Accumulator) (string, error) {
	return f(ctx, cursor, acc)
}

// TestErrorsShowNoCredentials runs HTTP pull sources whose URL carries
// credentials (user:password@, ?appkey=) against a platform that fails in
// every way (refused connection, 500 and 401 pages echoing the request),
// plus connectors that report such URLs themselves, and looks for the
// credentials in everything a person or a screen sees: the error, Health()
// (which the health: topic publishes), the /api/collectors JSON and the
// runner's and connectors' logs. Go's url.Error quoted the whole URL.
func TestErrorsShowNoCredentials(t *testing.T) {
	echo := func(status int) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			fmt.Fprintf(w, "bad request %s (key %s)", r.URL.String(), r.URL.Query().Get("appkey"))
		}))
	}
	s500, s401 := echo(http.StatusInternalServerError), echo(http.StatusUnauthorized)
	defer s500.Close()
	defer s401.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	pull := func(name, base string) yc.Source {
		o := *httppull.Defaults()
		retries := 1
		o.Kind, o.Retries, o.Backoff, o.Timeout = "cases", &retries, time.Millisecond, 5*time.Second
		o.URL = strings.Replace(base, "http://", "http://yiping:hunter2pw@", 1) + "/api/cases?appkey=SECRET123&format=json"
		o.Query = map[string]string{"sign": "SIGNATURE987"}
		o.Headers = map[string]yc.Secret{"X-Api-Key": "HEADERKEY555"}
		o.BearerToken = "BEARER777"
		p, err := httppull.New(o, yc.Env{Name: name, Logger: log.With("source", name)})
		if err != nil {
			t.Fatal(err)
		}
		return yc.Source{Name: name, Type: "httppull", Schedule: "@every 1h", Options: &o, Connector: p}
	}
	leaky := "https://yiping:hunter2pw@zwfw.example.gov.cn/api?appkey=PARTIALKEY7"
	sources := []yc.Source{
		pull("refused", closed.URL),
		pull("error-page", s500.URL),
		pull("unauthorized", s401.URL),
		{Name: "partial", Type: "custom", Schedule: "@every 1h", Connector: connFunc(func(ctx context.Context, c string, acc yc.Accumulator) (string, error) {
			acc.AddError(fmt.Errorf("page 2: GET %s: timeout", leaky))
			return c, nil
		})},
		{Name: "panics", Type: "custom", Schedule: "@every 1h", Connector: connFunc(func(context.Context, string, yc.Accumulator) (string, error) {
			panic("cannot reach https://zwfw.example.gov.cn/api?appkey=PANICKEY42")
		})},
		{Name: "dsn", Type: "custom", Schedule: "@every 1h", Connector: connFunc(func(context.Context, string, yc.Accumulator) (string, error) {
			return "", errors.New("connect host=db user=yiping password=hunter2pw dbname=zwfw: refused")
		})},
	}
	r, err := yc.NewRunner(yc.Config{Sources: sources}, testengine.New(t, "2026-03-31 18:00:00"), nil, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	for _, s := range sources {
		_, err := r.RunNow(context.Background(), s.Name)
		if s.Name != "partial" && err == nil {
			t.Fatalf("%s: the run did not fail", s.Name)
		}
		if err != nil {
			shown = append(shown, err.Error())
		}
	}
	health, _ := json.Marshal(r.Health())
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/api/collectors", r.HealthHandler())
	resp, err := app.Test(httptest.NewRequest(http.MethodGet, "/api/collectors", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	api, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cfg := yc.Config{Sources: sources[:1]}
	var cfgLog bytes.Buffer
	slog.New(slog.NewTextHandler(&cfgLog, nil)).Info("config", "options", sources[0].Options)
	outputs := map[string]string{
		"errors":          strings.Join(shown, "\n"),
		"Health()":        string(health),
		"/api/collectors": string(api),
		"logs":            logs.String(),
		"Config.String":   cfg.String(),
		"options %+v":     fmt.Sprintf("%+v %v %#v", sources[0].Options, *sources[0].Options.(*httppull.Options), sources[0].Options),
		"options logged":  cfgLog.String(),
	}
	for name, out := range outputs {
		for _, c := range credentials {
			if strings.Contains(out, c) {
				t.Errorf("%s shows %s:\n%s", name, c, out)
			}
		}
	}
	// What is not secret stays, so the errors still say where.
	for _, h := range r.Health()[:3] {
		if !strings.Contains(h.LastError, "/api/cases?appkey=") || !strings.Contains(h.LastError, "127.0.0.1") {
			t.Errorf("%s: the error lost the host or path: %s", h.Source, h.LastError)
		}
	}
	if !strings.Contains(string(health), "zwfw.example.gov.cn/api") {
		t.Errorf("the partial failure lost its host: %s", health)
	}
	t.Logf("%s", health)
}

// TestConfigStringShowsNoCredentials: a configuration file's URLs print
// with their credentials redacted.
func TestConfigStringShowsNoCredentials(t *testing.T) {
	doc := `sources:
  - name: gs-cases
    type: httppull
    schedule: "@every 30s"
    httppull:
      kind: cases
      url: https://yiping:hunter2pw@zwfw.example.gov.cn/api/v1/cases?appkey=SECRET123
      query: {sign: SIGNATURE987}
`
	cfg, err := yc.ParseConfig([]byte(doc), "collectors.yaml", all.Types())
	if err != nil {
		t.Fatal(err)
	}
	out := cfg.String()
	for _, c := range credentials {
		if strings.Contains(out, c) {
			t.Errorf("Config.String shows %s:\n%s", c, out)
		}
	}
	if !strings.Contains(out, "zwfw.example.gov.cn/api/v1/cases?appkey=") {
		t.Errorf("Config.String lost the URL:\n%s", out)
	}
}
