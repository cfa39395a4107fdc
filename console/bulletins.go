package console

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/yiping-ioc/yiping/assets"
	"github.com/yiping-ioc/yiping/bulletin"
	"github.com/yiping-ioc/yiping/region"
)

// The bulletins page (简报): the archive of the scheduled 快报, 周报 and
// 月报 (package bulletin), searched by period, region, type and text,
// each PDF downloadable, and a form that prints one now. Only what lies
// in the caller's scope is listed or served: the app's guard checks the
// region parameter, and Covers checks every entry.

// Paths of the bulletins page and its API.
const (
	BulletinsPagePath  = "/console/bulletins"
	BulletinsAPIPath   = "/api/bulletins"
	BulletinPDFPath    = "/api/bulletins/:id/pdf"
	BulletinsIssuePath = "/api/bulletins/issue"
)

// ErrBulletinBusy is what Issue returns while another bulletin prints.
var ErrBulletinBusy = errors.New("another bulletin is being printed")

// BulletinsConfig sets up the bulletins page and API.
type BulletinsConfig struct {
	// Archive holds the bulletins (required).
	Archive *bulletin.Archive
	// Bulletins are the configured bulletins, offered by the issue form.
	Bulletins []*bulletin.Bulletin
	// Regions names regions; default region.Default().
	Regions *region.Table
	// Location is the business time zone of the from/to dates; default
	// Asia/Shanghai.
	Location *time.Location
	// Covers reports whether the caller of ctx may see region (its access
	// scope). Required: an entry it does not cover is neither listed nor
	// served.
	Covers func(ctx context.Context, region string) bool
	// Issue prints the latest due period of a bulletin for one region now
	// and archives it; nil turns POST /api/bulletins/issue into 503.
	Issue func(ctx context.Context, name, region string) (bulletin.Entry, error)
	// Problem, when set, says why bulletins cannot be printed (no
	// Chromium): the page shows it, the issue API answers it.
	Problem    func() string
	SessionAPI string
	Logger     *slog.Logger
}

// Bulletins serves the bulletins page and API. Create it with
// NewBulletins; the app routes its handlers.
type Bulletins struct {
	cfg      BulletinsConfig
	tpl      *template.Template
	js, css  assets.PageFile
	printing sync.Mutex
}

//go:embed static/bulletins.html
var bulletinsHTML string

//go:embed static/bulletins.js
var bulletinsJS []byte

//go:embed static/bulletins.css
var bulletinsCSS []byte

// NewBulletins checks cfg and parses the page.
func NewBulletins(cfg BulletinsConfig) (*Bulletins, error) {
	if cfg.Archive == nil || cfg.Covers == nil {
		return nil, errors.New("console: BulletinsConfig needs Archive and Covers")
	}
	if cfg.Regions == nil {
		cfg.Regions = region.Default()
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			return nil, err
		}
		cfg.Location = loc
	}
	if cfg.Problem == nil {
		cfg.Problem = func() string { return "" }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	tpl, err := template.New("bulletins").Parse(bulletinsHTML)
	if err != nil {
		return nil, fmt.Errorf("console: bulletins page: %w", err)
	}
	return &Bulletins{cfg: cfg, tpl: tpl,
		js:  assets.NewPageFile("/console", "bulletins.js", bulletinsJS),
		css: assets.NewPageFile("/console", "bulletins.css", bulletinsCSS)}, nil
}

// ScriptPath and StylePath are where the page's own script and style are
// served (content-hashed).
func (b *Bulletins) ScriptPath() string { return b.js.Path }

// StylePath: see ScriptPath.
func (b *Bulletins) StylePath() string { return b.css.Path }

// Script serves the page's script.
func (b *Bulletins) Script() http.Handler { return b.js }

// Style serves the page's style.
func (b *Bulletins) Style() http.Handler { return b.css }

// bulletinWords are the page's words, Chinese first.
var bulletinWords = map[string]map[string]string{
	"zh": {
		"title": "一屏 · 简报", "back": "返回分析台", "from": "周期起", "to": "周期止", "region": "地区",
		"type": "类型", "all": "全部", "daily": "快报", "weekly": "周报", "monthly": "月报", "text": "关键词",
		"search": "查询", "col_title": "标题", "col_type": "类型", "col_region": "地区", "col_period": "周期",
		"col_pages": "页数", "col_generated": "生成时间", "col_download": "下载", "download": "下载 PDF",
		"none": "没有符合条件的简报", "more": "只显示前 %d 份，请缩小查询范围", "issue": "立即生成",
		"issue_title": "生成简报", "bulletin": "简报", "printing": "正在生成，请稍候…", "issued": "已生成：",
		"failed": "生成失败：", "loading": "加载中…", "error": "出错：", "lang_switch": "English", "logout": "退出登录",
	},
	"en": {
		"title": "Yiping · Bulletins", "back": "Back to the console", "from": "Period from", "to": "Period to", "region": "Region",
		"type": "Type", "all": "All", "daily": "Daily", "weekly": "Weekly", "monthly": "Monthly", "text": "Words",
		"search": "Search", "col_title": "Title", "col_type": "Type", "col_region": "Region", "col_period": "Period",
		"col_pages": "Pages", "col_generated": "Generated", "col_download": "Download", "download": "Download PDF",
		"none": "No bulletin matches", "more": "Only the first %d are shown: narrow the search", "issue": "Print now",
		"issue_title": "Print a bulletin", "bulletin": "Bulletin", "printing": "Printing, please wait…", "issued": "Printed: ",
		"failed": "Printing failed: ", "loading": "Loading…", "error": "Error: ", "lang_switch": "中文", "logout": "Sign out",
	},
}

// bulletinOption is one bulletin and region of the issue form.
type bulletinOption struct{ Value, Label string }

// Page serves GET /console/bulletins: the search form (filled from the
// query), the issue form, and the list, which the script fetches from
// the API. ?lang=en shows it in English.
func (b *Bulletins) Page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		lang := "zh"
		if q.Get("lang") == "en" {
			lang = "en"
		}
		reg := q.Get("region")
		var issue []bulletinOption
		for _, bl := range b.cfg.Bulletins {
			for _, code := range bl.Regions {
				if !b.cfg.Covers(r.Context(), code) {
					continue
				}
				name, _ := b.cfg.Regions.Name(region.Code(code))
				issue = append(issue, bulletinOption{Value: bl.Name + ":" + code,
					Label: fmt.Sprintf("%s · %s %s (%s)", name, bl.Type.Name(), bl.Title, bl.Name)})
			}
		}
		other := url.Values{"lang": {map[string]string{"zh": "en", "en": "zh"}[lang]}}
		for _, k := range []string{"region", "from", "to", "type", "q"} {
			if v := q.Get(k); v != "" {
				other.Set(k, v)
			}
		}
		var buf bytes.Buffer
		err := b.tpl.Execute(&buf, map[string]any{
			"Lang": lang, "T": bulletinWords[lang], "Icon": assets.Icon(), "FontCSS": assets.FontCSS(),
			"FontFamily": template.CSS(assets.FontFamily), "CSS": b.css.Path, "JS": b.js.Path,
			"SessionAPI": b.cfg.SessionAPI, "Region": reg, "From": q.Get("from"), "To": q.Get("to"),
			"Type": q.Get("type"), "Text": q.Get("q"), "Types": bulletin.Types(), "Issue": issue,
			"Problem": b.cfg.Problem(), "LangLink": BulletinsPagePath + "?" + other.Encode(),
			"API": BulletinsAPIPath, "IssueAPI": BulletinsIssuePath,
		})
		if err != nil {
			b.cfg.Logger.Error("bulletins page", "err", err)
			bulletinError(w, http.StatusInternalServerError, "页面生成失败 / rendering the page failed")
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(buf.Bytes())
	})
}

// BulletinJSON is one bulletin of GET /api/bulletins.
type BulletinJSON struct {
	ID          string    `json:"id"`
	Bulletin    string    `json:"bulletin"`
	Type        string    `json:"type"`
	TypeName    string    `json:"type_name"`
	Title       string    `json:"title"`
	Region      string    `json:"region"`
	RegionName  string    `json:"region_name"`
	Period      string    `json:"period"`
	PeriodLabel string    `json:"period_label"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	GeneratedAt time.Time `json:"generated_at"`
	Pages       int       `json:"pages"`
	Size        int64     `json:"size"`
	URL         string    `json:"url"`
}

// BulletinURL is the download path of an archived bulletin.
func BulletinURL(id string) string {
	return strings.Replace(BulletinPDFPath, ":id", url.PathEscape(id), 1)
}

func bulletinJSON(e bulletin.Entry) BulletinJSON {
	return BulletinJSON{ID: e.ID, Bulletin: e.Bulletin, Type: string(e.Type), TypeName: e.Type.Name(), Title: e.Title,
		Region: e.Region, RegionName: e.RegionName, Period: e.Period, PeriodLabel: e.PeriodLabel,
		PeriodStart: e.PeriodStart, PeriodEnd: e.PeriodEnd, GeneratedAt: e.GeneratedAt, Pages: e.Pages, Size: e.Size,
		URL: BulletinURL(e.ID)}
}

// maxBulletinText bounds the search words.
const maxBulletinText = 200

// List serves GET /api/bulletins: the archive's bulletins of region (the
// caller's own when absent) and below, newest period first, filtered by
// type, bulletin, period (from, to: dates, the periods overlapping
// [from, to]) and text; at most limit (1..1000, default 100), with more
// true when there are others.
func (b *Bulletins) List() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		for k := range q {
			switch k {
			case "region", "type", "bulletin", "from", "to", "q", "limit":
			default:
				bulletinError(w, http.StatusBadRequest, fmt.Sprintf("未知参数 %s / unknown parameter %s", k, k))
				return
			}
		}
		bq := bulletin.Query{Region: q.Get("region"), Bulletin: q.Get("bulletin"), Text: q.Get("q"), Limit: 100}
		if bq.Region != "" {
			if _, err := region.ParseCode(bq.Region); err != nil {
				bulletinError(w, http.StatusBadRequest, "参数 region 不是地区代码 / parameter region: not a region code")
				return
			}
		}
		if t := q.Get("type"); t != "" {
			bq.Type = bulletin.Type(t)
			if !bq.Type.Valid() {
				bulletinError(w, http.StatusBadRequest, "参数 type 应为 daily、weekly 或 monthly / parameter type: want daily, weekly or monthly")
				return
			}
		}
		if len(bq.Text) > maxBulletinText {
			bulletinError(w, http.StatusBadRequest, fmt.Sprintf("参数 q 过长 / parameter q: at most %d bytes", maxBulletinText))
			return
		}
		for _, p := range []struct {
			name string
			dst  *time.Time
			next bool
		}{{"from", &bq.From, false}, {"to", &bq.To, true}} {
			v := q.Get(p.name)
			if v == "" {
				continue
			}
			d, err := time.ParseInLocation("2006-01-02", v, b.cfg.Location)
			if err != nil {
				bulletinError(w, http.StatusBadRequest, fmt.Sprintf("参数 %s 应为日期 YYYY-MM-DD / parameter %s: want a date YYYY-MM-DD", p.name, p.name))
				return
			}
			if p.next { // to is inclusive: the periods starting on that day count
				d = d.AddDate(0, 0, 1)
			}
			*p.dst = d
		}
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				bulletinError(w, http.StatusBadRequest, "参数 limit 应为 1..1000 / parameter limit: want 1 to 1000")
				return
			}
			bq.Limit = n
		}
		limit := bq.Limit
		bq.Limit = min(limit+1, 1000) // one more says whether there are more
		out := []BulletinJSON{}
		more := false
		for _, e := range b.cfg.Archive.List(bq) {
			if !b.cfg.Covers(r.Context(), e.Region) {
				continue
			}
			if len(out) == limit {
				more = true
				break
			}
			out = append(out, bulletinJSON(e))
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(map[string]any{"bulletins": out, "more": more, "problem": b.cfg.Problem()})
	})
}

// PDF serves GET /api/bulletins/:id/pdf: the archived PDF as a download
// named by its title (RFC 5987 filename*), 404 for an id the archive does
// not hold or the caller's scope does not cover.
func (b *Bulletins) PDF() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		f, e, err := b.cfg.Archive.Open(id)
		if err == nil && !b.cfg.Covers(r.Context(), e.Region) {
			f.Close()
			err = bulletin.ErrNotFound // not "forbidden": outside the scope it does not exist
		}
		if err != nil {
			if !errors.Is(err, bulletin.ErrNotFound) {
				b.cfg.Logger.Error("bulletin download", "id", id, "err", err)
				bulletinError(w, http.StatusInternalServerError, "读取简报失败 / reading the bulletin failed")
				return
			}
			bulletinError(w, http.StatusNotFound, "没有这份简报 / no such bulletin")
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", ContentDisposition(e.Title+".pdf", e.ID+".pdf"))
		http.ServeContent(w, r, "", e.GeneratedAt, f)
	})
}

// ContentDisposition is an attachment header naming the file name (any
// text: RFC 5987 filename*) with an ASCII fallback for old clients.
func ContentDisposition(name, ascii string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' || r == '"' {
			return '_'
		}
		return r
	}, strings.ToValidUTF8(name, "_"))
	var enc strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0) {
			enc.WriteByte(c)
			continue
		}
		fmt.Fprintf(&enc, "%%%02X", c)
	}
	ascii = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, ascii)
	return `attachment; filename="` + ascii + `"; filename*=UTF-8''` + enc.String()
}

// Issue serves POST /api/bulletins/issue?bulletin=…&region=…: prints the
// bulletin's latest due period for the region now (one at a time; 409
// while another prints) and answers the archived entry. The app allows it
// to operators and administrators.
func (b *Bulletins) Issue() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		name, reg := q.Get("bulletin"), q.Get("region")
		if name == "" || reg == "" {
			bulletinError(w, http.StatusBadRequest, "需要参数 bulletin 和 region / parameters bulletin and region are required")
			return
		}
		if p := b.cfg.Problem(); p != "" || b.cfg.Issue == nil {
			if p == "" {
				p = "未配置简报 / bulletins are not configured"
			}
			bulletinError(w, http.StatusServiceUnavailable, p)
			return
		}
		if !b.printing.TryLock() {
			bulletinError(w, http.StatusConflict, "正在生成另一份简报，请稍后再试 / another bulletin is being printed, try again shortly")
			return
		}
		defer b.printing.Unlock()
		e, err := b.cfg.Issue(r.Context(), name, reg)
		switch {
		case errors.Is(err, bulletin.ErrNotFound):
			bulletinError(w, http.StatusNotFound, fmt.Sprintf("没有简报 %s 的地区 %s / no bulletin %s for region %s", name, reg, name, reg))
			return
		case errors.Is(err, ErrBulletinBusy):
			bulletinError(w, http.StatusConflict, "正在生成另一份简报，请稍后再试 / another bulletin is being printed, try again shortly")
			return
		case err != nil:
			b.cfg.Logger.Error("bulletin issue", "bulletin", name, "region", reg, "err", err)
			bulletinError(w, http.StatusInternalServerError, "生成失败 / printing failed: "+err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(bulletinJSON(e))
	})
}

// bulletinError answers an API error as {"error": "…"}.
func bulletinError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
