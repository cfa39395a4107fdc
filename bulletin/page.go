package bulletin

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/scoring"
)

//go:embed static
var staticFS embed.FS

// DefaultIssuer is the issuer line of a bulletin's title block.
const DefaultIssuer = "一屏 · 数字政府运行指挥中心"

// pageView is what the template shows.
type pageView struct {
	Data                             *Data
	Issuer                           string
	Icon, FontCSS, CSS, ECharts      string
	Script                           string
	AsOfText, GeneratedText          string
	Lead, LagHeading, SpecialHeading string
	CompositeFigure                  *figure
	Rankings                         []rankingView
	Specials                         []specialView
}

type figure struct {
	N       int
	Caption string
	Note    string
	Option  string
}

type rankingView struct {
	Number  int
	Ranking Ranking
	Figure  figure
}

type specialView struct {
	Time    string
	Special Special
}

// statics holds the page's own script and style sheet, parsed template and
// their content-hashed URLs: built once per Pages.
type statics struct {
	tmpl    *template.Template
	version string
	files   map[string][]byte // by URL path
	css, js string
}

func loadStatics() (*statics, error) {
	tmpl, err := template.ParseFS(staticFS, "static/page.html")
	if err != nil {
		return nil, fmt.Errorf("bulletin: page template: %w", err)
	}
	h := sha256.New()
	files := map[string][]byte{}
	for _, name := range []string{"bulletin.css", "bulletin.js"} {
		b, err := fs.ReadFile(staticFS, "static/"+name)
		if err != nil {
			return nil, fmt.Errorf("bulletin: %w", err)
		}
		h.Write(b)
		files[name] = b
	}
	s := &statics{tmpl: tmpl, version: hex.EncodeToString(h.Sum(nil))[:12], files: map[string][]byte{}}
	for name, b := range files {
		s.files[staticRoot+s.version+"/"+name] = b
	}
	s.css = staticRoot + s.version + "/bulletin.css"
	s.js = staticRoot + s.version + "/bulletin.js"
	return s, nil
}

// URL paths the Pages handler answers besides assets.Root.
const (
	staticRoot = "/bulletin/static/"
	pageRoot   = "/bulletin/page/"
)

// render writes the HTML page of d.
func (s *statics) render(d *Data, issuer string, tiers []scoring.Tier) ([]byte, error) {
	loc := d.Period.Start.Location()
	v := pageView{
		Data: d, Issuer: issuer,
		Icon: assets.Icon(), FontCSS: assets.FontCSS(), ECharts: assets.ECharts(), CSS: s.css, Script: s.js,
		AsOfText:      d.Period.End.Add(-time.Nanosecond).In(loc).Format("2006年1月2日") + " 24:00",
		GeneratedText: d.GeneratedAt.In(loc).Format("2006年1月2日 15:04"),
		Lead:          lead(d),
	}
	n := 0
	sec := 2
	if len(d.Composite) > 0 {
		n++
		opt, err := compositeChart(d.Composite, tiers)
		if err != nil {
			return nil, err
		}
		v.CompositeFigure = &figure{N: n, Caption: "各单位综合指数", Option: opt,
			Note: "柱色为等次（绿：第一等次，红：末等次）；综合指数按各指标目标值与底线加权计算。"}
		sec = 4
	}
	for i, rk := range d.Rankings {
		n++
		opt, err := rankingChart(rk)
		if err != nil {
			return nil, err
		}
		note := "柱色为状态（绿：达标，橙：预警，红：未达底线）"
		if rk.HasTarget {
			note += "；虚线为目标值"
		}
		v.Rankings = append(v.Rankings, rankingView{Number: i + 1, Ranking: rk, Figure: figure{
			N: n, Caption: rk.Indicator.Name + "排名", Option: opt, Note: note + "。"}})
	}
	v.LagHeading = chineseNumber(sec) + "、需关注单位"
	v.SpecialHeading = chineseNumber(sec+1) + "、本期特别呈报"
	for _, sp := range d.Specials {
		v.Specials = append(v.Specials, specialView{Time: sp.FiredAt.In(loc).Format("1月2日 15:04"), Special: sp})
	}
	var b bytes.Buffer
	if err := s.tmpl.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("bulletin: page: %w", err)
	}
	return b.Bytes(), nil
}

// lead says the period's result in a sentence.
func lead(d *Data) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s，%s", d.Period.Label(), d.Region.Name)
	green, below := 0, 0
	for _, l := range d.Overview {
		switch l.Status {
		case scoring.StatusGreen:
			green++
		case scoring.StatusAmber, scoring.StatusRed:
			below++
		}
	}
	fmt.Fprintf(&b, "本期列报指标 %d 项，达标 %d 项，未达目标值 %d 项", len(d.Overview), green, below)
	if d.Total.Score != nil {
		fmt.Fprintf(&b, "，综合指数 %s", d.Total.ScoreText())
		if d.Total.Tier != "" {
			fmt.Fprintf(&b, "（%s）", d.Total.Tier)
		}
	}
	units := map[string]bool{}
	for _, l := range d.Lagging {
		units[l.Unit.Code] = true
	}
	if len(d.Composite) > 0 {
		fmt.Fprintf(&b, "；下辖 %d 个单位中 %d 个有指标需关注", len(d.Composite), len(units))
	}
	fmt.Fprintf(&b, "；本期特别呈报 %d 条。", len(d.Specials))
	return b.String()
}

func chineseNumber(n int) string {
	digits := []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}
	if n >= 0 && n < len(digits) {
		return digits[n]
	}
	return fmt.Sprint(n)
}

// Pages serves bulletin pages to the printing browser, with everything
// they load: the assets of package assets (ECharts, the Noto Sans SC font)
// under assets.Root, the page's script and style sheet, and each page
// under a random, unguessable path while it is printed. It answers only
// GET and HEAD. Mount it on a loopback listener (Service does), never on
// the public port: the pages are not access-checked.
type Pages struct {
	st     *statics
	issuer string
	assets http.Handler

	mu    sync.Mutex
	pages map[string][]byte
}

// NewPages returns an empty Pages. issuer is the title block's issuer
// line; "" means DefaultIssuer.
func NewPages(issuer string) (*Pages, error) {
	st, err := loadStatics()
	if err != nil {
		return nil, err
	}
	if issuer == "" {
		issuer = DefaultIssuer
	}
	return &Pages{st: st, issuer: issuer, assets: assets.Handler(), pages: map[string][]byte{}}, nil
}

// Render returns the HTML page of d.
func (p *Pages) Render(d *Data, tiers []scoring.Tier) ([]byte, error) {
	return p.st.render(d, p.issuer, tiers)
}

// Add serves html at a new random path until remove is called, and
// returns the path.
func (p *Pages) Add(html []byte) (path string, remove func()) {
	var b [16]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	p.mu.Lock()
	p.pages[token] = html
	p.mu.Unlock()
	return pageRoot + token, func() {
		p.mu.Lock()
		delete(p.pages, token)
		p.mu.Unlock()
	}
}

// contentSecurityPolicy is the product's policy (server/headers.go): the
// page holds no inline script and loads nothing from elsewhere.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// ServeHTTP serves the assets, the page's script and style sheet, and the
// pages added.
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, assets.Root):
		p.assets.ServeHTTP(w, r)
	case strings.HasPrefix(path, staticRoot):
		b, ok := p.st.files[path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		ct := "text/css; charset=utf-8"
		if strings.HasSuffix(path, ".js") {
			ct = "text/javascript; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(b)
	case strings.HasPrefix(path, pageRoot):
		p.mu.Lock()
		b, ok := p.pages[strings.TrimPrefix(path, pageRoot)]
		p.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		w.Write(b)
	case path == "/favicon.ico":
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Write(assets.IconSVG())
	default:
		http.NotFound(w, r)
	}
}
