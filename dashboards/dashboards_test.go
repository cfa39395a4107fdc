package dashboards

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/widget"
)

func TestDefault(t *testing.T) {
	set, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	var ids []string
	for _, s := range set.Screens() {
		ids = append(ids, s.ID)
	}
	if want := []string{"hotline", "overview", "service"}; !slices.Equal(ids, want) {
		t.Errorf("screens %v, want %v", ids, want)
	}

	ov, ok := set.Screen("overview")
	if !ok {
		t.Fatal("no overview screen")
	}
	if ov.Title.In("zh") != "甘肃省政务服务一屏统揽" || ov.Title.In("en") != "Gansu government services at a glance" {
		t.Errorf("overview title %+v", ov.Title)
	}
	if ov.Region != "620000" || ov.Period != "month" || ov.Width != 1920 || ov.Height != 1080 || ov.Header != 90 {
		t.Errorf("overview region/period/canvas: %s %s %d×%d header %d", ov.Region, ov.Period, ov.Width, ov.Height, ov.Header)
	}
	byType := map[string]widget.Spec{}
	for _, w := range ov.Widgets {
		byType[w.Type] = w.Spec
	}
	if m := byType["map"].(*widget.Map); m.ColorBy != live.Composite || !m.Drill {
		t.Errorf("overview map %+v, want composite with drill", m)
	}
	r := byType["ranking"].(*widget.Ranking)
	if r.Rotate != 8*time.Second || r.Rows != 14 ||
		!slices.Equal(r.Indicators, []string{"on_time_rate", "satisfaction_rate", "answer_rate", "full_online_case_rate"}) {
		t.Errorf("overview ranking %+v", r)
	}
	if tk := byType["ticker"].(*widget.Ticker); tk.Source != widget.SourceTickets || tk.Rows != 20 {
		t.Errorf("overview ticker %+v, want the defaults source tickets, 20 rows", tk)
	}
	if tiles := byType["tiles"].(*widget.Tiles); len(tiles.Indicators) != 6 {
		t.Errorf("overview tiles %v", tiles.Indicators)
	}
	for _, w := range ov.Widgets {
		if w.At.Y < ov.Header {
			t.Errorf("overview %s at %+v reaches into the header", w.Type, w.At)
		}
	}

	sv, _ := set.Screen("service")
	for _, w := range sv.Widgets {
		if tr, ok := w.Spec.(*widget.Trend); ok && (tr.Indicator != "case_volume" || tr.Days != 30) {
			t.Errorf("service trend %+v", tr)
		}
	}
	hl, _ := set.Screen("hotline")
	if got := hl.Indicators(); !slices.Contains(got, "ticket_satisfaction_rate") || slices.Contains(got, live.Composite) {
		t.Errorf("hotline indicators %v", got)
	}

	pls := set.Playlists()
	if len(pls) != 1 || pls[0].ID != "hall" {
		t.Fatalf("playlists %v, want hall", pls)
	}
	want := []PlaylistItem{{Screen: "overview", Seconds: 60}, {Screen: "service", Seconds: 45}, {Screen: "hotline", Seconds: 45}}
	if !slices.Equal(pls[0].Items, want) {
		t.Errorf("hall items %+v, want %+v", pls[0].Items, want)
	}
	if _, ok := set.Playlist("overview"); ok {
		t.Error("Playlist(overview) found a playlist")
	}
	if _, ok := set.Screen("hall"); ok {
		t.Error("Screen(hall) found a screen")
	}
}

func TestLoadDirExample(t *testing.T) {
	set, err := LoadDir("examples")
	if err != nil {
		t.Fatalf("LoadDir(examples): %v", err)
	}
	s, ok := set.Screen("lanzhou")
	if !ok || len(set.Screens()) != 1 {
		t.Fatalf("screens %v, want lanzhou", set.Screens())
	}
	if s.Region != "620100" || s.Period != "week" || s.File != filepath.Join("examples", "lanzhou.yaml") {
		t.Errorf("lanzhou: region %s period %s file %s", s.Region, s.Period, s.File)
	}
	var gauge Widget
	for _, w := range s.Widgets {
		if w.Type == "gauge" {
			gauge = w
		}
	}
	if s.RegionOf(gauge) != "620000" || s.PeriodOf(gauge) != "week" || s.RegionOf(s.Widgets[0]) != "620100" {
		t.Errorf("RegionOf/PeriodOf: %s %s %s", s.RegionOf(gauge), s.PeriodOf(gauge), s.RegionOf(s.Widgets[0]))
	}
	// The city screen shows the province's figures beside its own, for
	// whichever city it is shown.
	for _, tc := range []struct {
		override string
		want     []string
	}{
		{"", []string{"620000", "620100"}},
		{"620800", []string{"620000", "620800"}},
	} {
		if got := s.Regions(tc.override); !slices.Equal(got, tc.want) {
			t.Errorf("Regions(%q) = %v, want %v", tc.override, got, tc.want)
		}
	}
}

func TestLoadDirErrors(t *testing.T) {
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, want string }{
		{filepath.Join(empty, "missing"), "dashboards: stat " + filepath.Join(empty, "missing") + ": no such file or directory"},
		{empty, "dashboards: no *.yaml or *.yml files in " + empty},
	} {
		_, err := LoadDir(tc.dir)
		if err == nil || err.Error() != tc.want {
			t.Errorf("LoadDir(%s) = %v, want %s", tc.dir, err, tc.want)
		}
	}
	// A .yml file is read too, and named by its path under the directory.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.yml"), []byte("kind: screen\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadDir(dir)
	if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, "x.yml")+":1: id: missing") {
		t.Errorf("LoadDir with x.yml = %v", err)
	}
}

func TestTextIn(t *testing.T) {
	for _, tc := range []struct {
		t          Text
		lang, want string
	}{
		{Text{"热线", "Hotline"}, "en", "Hotline"},
		{Text{"热线", "Hotline"}, "zh", "热线"},
		{Text{"热线", "Hotline"}, "", "热线"},
		{Text{"热线", ""}, "en", "热线"},
	} {
		if got := tc.t.In(tc.lang); got != tc.want {
			t.Errorf("%+v.In(%q) = %q, want %q", tc.t, tc.lang, got, tc.want)
		}
	}
}

func TestErrorsAreTyped(t *testing.T) {
	_, err := LoadFS(fstest.MapFS{"a.yaml": {Data: []byte("kind: screen\nid: a\n")}})
	var e *Error
	if !errors.As(err, &e) || e.File != "a.yaml" || e.Line != 1 {
		t.Fatalf("errors.As(%v) = %+v", err, e)
	}
}
