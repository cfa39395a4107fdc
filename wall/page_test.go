package wall

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/net/html"

	"github.com/yiping-ioc/yiping/dashboards"
)

// hostile is a screen whose titles try to break out of every context they
// are written in.
const hostile = `kind: screen
id: hostile
title:
  zh: "</script><script>alert(1)</script>"
  en: "\"><img src=x onerror=alert(1)>"
region: "620000"
widgets:
  - type: tiles
    title: "<img src=x onerror=alert(2)>"
    at: [20, 100, 1880, 150]
    indicators: [case_volume]
  - type: map
    title: "</script><script>alert(3)</script>"
    at: [20, 265, 900, 600]
    color_by: composite
    drill: true
  - type: ranking
    at: [940, 265, 400, 600]
    indicators: [on_time_rate]
  - type: bar
    at: [1360, 265, 540, 600]
    indicator: on_time_rate
  - type: gauge
    at: [20, 880, 400, 180]
    indicators: [answer_rate]
  - type: trend
    at: [440, 880, 600, 180]
    indicator: case_volume
  - type: ticker
    at: [1060, 880, 500, 180]
  - type: health
    at: [1580, 880, 320, 180]
`

// TestPagesHoldNoInlineScript parses every page the wall serves: a script
// element either loads a file of the server's (src) or holds JSON data,
// no element has an event handler attribute and no URL is javascript:,
// so a Content-Security-Policy of script-src 'self' holds; and a title
// made of markup is shown as text.
func TestPagesHoldNoInlineScript(t *testing.T) {
	set, err := dashboards.LoadFS(fstest.MapFS{"hostile.yaml": {Data: []byte(hostile)}})
	if err != nil {
		t.Fatal(err)
	}
	def := newApp(t, sampleLive())
	bad := appOf(t, Config{Screens: set, Live: sampleLive(), Sources: func() []string { return []string{`"><script>alert(4)</script>`} }})
	for _, tc := range []struct {
		name, url string
		app       *fiber.App
	}{
		{"index", "/screens", def},
		{"index en", "/screens?lang=en", def},
		{"overview", "/screens/overview", def},
		{"service", "/screens/service", def},
		{"hotline in English", "/screens/hotline?lang=en", def},
		{"in a playlist", "/screens/overview?playlist=hall&i=0", def},
		{"hostile", "/screens/hostile", bad},
		{"hostile in English", "/screens/hostile?lang=en", bad},
		{"hostile index", "/screens", bad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, tc.app, tc.url)
			if code != 200 {
				t.Fatalf("status %d: %.300s", code, body)
			}
			doc, err := html.Parse(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			var h1 string
			for n := range doc.Descendants() {
				if n.Type != html.ElementNode {
					continue
				}
				for _, a := range n.Attr {
					if strings.HasPrefix(a.Key, "on") {
						t.Errorf("<%s %s=%q>: an event handler attribute", n.Data, a.Key, a.Val)
					}
					if (a.Key == "href" || a.Key == "src") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
						t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
					}
				}
				switch n.Data {
				case "img", "iframe", "object", "embed":
					t.Errorf("a <%s> element: markup from data", n.Data)
				case "h1":
					if n.FirstChild != nil {
						h1 = n.FirstChild.Data
					}
				case "script":
					checkScript(t, n)
				}
			}
			if tc.url == "/screens/hostile" && h1 != "</script><script>alert(1)</script>" {
				t.Errorf("the title shows as %q, want its text", h1)
			}
		})
	}
}

// checkScript fails unless n loads a file of the server's or holds JSON.
func checkScript(t *testing.T, n *html.Node) {
	t.Helper()
	attr := map[string]string{}
	for _, a := range n.Attr {
		attr[a.Key] = a.Val
	}
	text := ""
	if n.FirstChild != nil {
		text = n.FirstChild.Data
	}
	switch {
	case attr["src"] != "":
		if !strings.HasPrefix(attr["src"], "/") || strings.HasPrefix(attr["src"], "//") || strings.TrimSpace(text) != "" {
			t.Errorf("<script src=%q>%s</script>: not a file of the server's", attr["src"], text)
		}
	case attr["type"] == "application/json":
		if !json.Valid([]byte(text)) {
			t.Errorf("<script type=application/json> holds no JSON: %.200s", text)
		}
		// encoding/json's HTML-safe escaping: nothing in the data can
		// close the element.
		if strings.ContainsAny(text, "<>") {
			t.Errorf("JSON data holds < or >: %.200s", text)
		}
	default:
		t.Errorf("inline script: %.200s", text)
	}
}

// TestTrendShowsTodayAlone: a trend's today value is drawn on a screen
// where no other widget shows the day period (it was empty: the day's
// values were read before the trend asked for them).
func TestTrendShowsTodayAlone(t *testing.T) {
	set, err := dashboards.LoadFS(fstest.MapFS{"t.yaml": {Data: []byte(`kind: screen
id: t
title: 趋势
region: "620000"
widgets:
  - {type: trend, at: [20, 100, 1000, 400], indicator: case_volume, days: 7}
`)}})
	if err != nil {
		t.Fatal(err)
	}
	app := appOf(t, Config{Screens: set, Live: sampleLive()})
	_, body := get(t, app, "/screens/t")
	if want := `data-indicator="case_volume" data-region="620000" data-period="day" data-value="163101" data-num="163101" data-den="">163,101<`; !strings.Contains(body, want) {
		t.Errorf("today's value is not drawn: want %s", want)
	}
	var cfg struct {
		Topic string   `json:"topic"`
		Dates []string `json:"dates"`
		Chart struct {
			Option struct {
				Series []struct {
					Data []struct {
						Value any `json:"value"`
					} `json:"data"`
				} `json:"series"`
			} `json:"option"`
		} `json:"chart"`
	}
	widgetConfig(t, body, "trend", &cfg)
	if cfg.Topic != "ind:case_volume:620000:day" || len(cfg.Dates) != 7 {
		t.Errorf("trend follows %q over %d dates", cfg.Topic, len(cfg.Dates))
	}
	if d := cfg.Chart.Option.Series[0].Data; len(d) != 7 || d[6].Value != 163101.0 || d[5].Value != "-" {
		t.Errorf("trend points %v, want today's 163101 last", d)
	}
}
