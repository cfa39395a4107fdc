package widget

import (
	_ "embed"

	"github.com/yiping-ioc/yiping/live"
)

//go:embed health.js
var healthJS string

// Health shows the state of every data source (collector), as the server
// judges it (live.Health's state). YAML: no keys of its own.
type Health struct{}

// Keys implements Spec.
func (*Health) Keys() []string { return nil }

// Parse implements Spec.
func (*Health) Parse(*Input) {}

// Shows implements Spec.
func (*Health) Shows() []string { return nil }

var healthWords = Words{
	"zh": {"title": "数据源状态", "ok": "正常", "never": "尚未采集", "failing": "失败", "stale": "延迟",
		"s": "秒前", "min": "分钟前", "h": "小时前"},
	"en": {"title": "Data sources", "ok": "OK", "never": "Not yet collected", "failing": "Failing", "stale": "Delayed",
		"s": " s ago", "min": " min ago", "h": " h ago"},
}

var healthHTML = mustTemplate("health", `<ul class="health">{{range .}}<li data-source="{{.Name}}" data-health=""><i class="dot"></i><span class="src-name">{{.Name}}</span><span class="src-state"></span></li>{{end}}</ul>`)

// healthConfig is what health.js reads.
type healthConfig struct {
	Sources []source          `json:"sources"`
	T       map[string]string `json:"t"`
}

// source is a collector source and its health topic.
type source struct {
	Name  string `json:"name"`
	Topic string `json:"topic"`
}

// Render implements Spec.
func (*Health) Render(pg *Page, b Box) (View, error) {
	words := healthWords.In(pg.Lang)
	cfg := healthConfig{T: words}
	for _, s := range pg.Data.Sources() {
		cfg.Sources = append(cfg.Sources, source{Name: s, Topic: live.HealthTopic(s)})
	}
	html, err := render(healthHTML, cfg.Sources)
	return View{Title: words["title"], HTML: html, Config: cfg}, err
}
