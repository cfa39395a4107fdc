package assets

import (
	"net/http/httptest"
	"regexp"
	"testing"
)

func TestPageFile(t *testing.T) {
	js := NewPageFile("/wall/", "wall.js", []byte("run()"))
	if !regexp.MustCompile(`^/wall/wall\.[0-9a-f]{12}\.js$`).MatchString(js.Path) {
		t.Errorf("path %q, want /wall/wall.<hash>.js", js.Path)
	}
	if other := NewPageFile("/wall", "wall.js", []byte("run();")); other.Path == js.Path {
		t.Errorf("two contents share the path %s", js.Path)
	}
	rec := httptest.NewRecorder()
	js.ServeHTTP(rec, httptest.NewRequest("GET", js.Path, nil))
	if rec.Body.String() != "run()" || rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" || rec.Header().Get("Cache-Control") != immutableCC {
		t.Errorf("served %q with %v", rec.Body.String(), rec.Header())
	}
	if ct := NewPageFile("/m", "mobile.css", nil); !regexp.MustCompile(`^/m/mobile\.[0-9a-f]{12}\.css$`).MatchString(ct.Path) || ct.contentType != "text/css; charset=utf-8" {
		t.Errorf("css page file %+v", ct)
	}
}
