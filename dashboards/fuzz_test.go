package dashboards

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/widget"
)

// base is a valid screen beside the fuzzed file, so that fuzzed playlists
// can name a screen that exists.
const base = `kind: screen
id: base
title: 基
region: "620000"
widgets:
  - {type: map, at: [0, 100, 800, 600], color_by: composite}
`

// FuzzParse checks that no file makes the loader panic, that every error
// names the fuzzed file, and that whatever loads keeps the promises the
// renderer relies on.
func FuzzParse(f *testing.F) {
	for _, pat := range []string{"*.yaml", "examples/*.yaml", "testdata/bad/*/*.y*ml"} {
		files, err := filepath.Glob(pat)
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	for _, s := range []string{
		"", "---\n", "kind: screen", "kind: playlist\nid: p\ntitle: t\nitems: [{screen: base, region: \"620102\"}]\n",
		"kind: screen\nid: &a s\ntitle: *a\nregion: *a\nwidgets: [*a]\n",
		"kind: screen\nid: s\ntitle: t\nregion: 620000\nwidgets:\n  - {type: tiles, at: [0, 100, 9223372036854775807, 1], indicators: [case_volume]}\n",
		"{? [a]: b}", "kind: !!binary aGVsbG8=", "\xef\xbb\xbfkind: screen\n", "\t", "kind: screen\nid: s\n<<: {a: 1}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := LoadFS(fstest.MapFS{"base.yaml": {Data: []byte(base)}, "f.yaml": {Data: data}})
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "f.yaml:") && !strings.HasPrefix(line, "f.yaml: ") {
					t.Fatalf("error line %q does not name f.yaml", line)
				}
			}
			return
		}
		checkSet(t, set)
	})
}

// checkSet asserts the promises of a loaded Set.
func checkSet(t *testing.T, set *Set) {
	t.Helper()
	known := func(id string) bool { _, ok := indicator.Lookup(id); return ok }
	inTable := func(c string) bool { _, ok := region.Default().Name(region.Code(c)); return ok }
	for _, s := range set.Screens() {
		if got, ok := set.Screen(s.ID); !ok || got != s {
			t.Fatalf("Screen(%q) does not find it", s.ID)
		}
		if !inTable(s.Region) {
			t.Fatalf("%s: region %q", s.ID, s.Region)
		}
		if _, err := engine.ParsePeriod(s.Period); err != nil {
			t.Fatalf("%s: %v", s.ID, err)
		}
		if len(s.Widgets) == 0 || s.Width <= 0 || s.Height <= 0 {
			t.Fatalf("%s: %d widgets on %d×%d", s.ID, len(s.Widgets), s.Width, s.Height)
		}
		for i, w := range s.Widgets {
			r := w.At
			if r.W <= 0 || r.H <= 0 || r.X < 0 || r.Y < s.Header || r.X+r.W > s.Width || r.Y+r.H > s.Height {
				t.Fatalf("%s widgets[%d]: %+v outside %d×%d below %d", s.ID, i, r, s.Width, s.Height, s.Header)
			}
			for j := range i {
				if s.Widgets[j].At.overlaps(r) {
					t.Fatalf("%s: widgets[%d] overlaps widgets[%d]", s.ID, i, j)
				}
			}
			for _, id := range w.Spec.Shows() {
				if !known(id) {
					t.Fatalf("%s widgets[%d]: indicator %q", s.ID, i, id)
				}
			}
			if w.Region != "" && !inTable(w.Region) {
				t.Fatalf("%s widgets[%d]: region %q", s.ID, i, w.Region)
			}
			switch sp := w.Spec.(type) {
			case *widget.Tiles:
				if n := len(sp.Indicators); n < 1 || n > 8 {
					t.Fatalf("%s widgets[%d]: %d tiles", s.ID, i, n)
				}
			case *widget.Gauge:
				if n := len(sp.Indicators); n < 1 || n > 4 {
					t.Fatalf("%s widgets[%d]: %d gauges", s.ID, i, n)
				}
			case *widget.Ranking:
				if len(sp.Indicators) == 0 || sp.Rotate < 2*time.Second || sp.Rows < 1 {
					t.Fatalf("%s widgets[%d]: ranking %+v", s.ID, i, sp)
				}
			case *widget.Map:
				if c := sp.Colour(); c != live.Composite && !known(c) {
					t.Fatalf("%s widgets[%d]: map coloured by %q", s.ID, i, c)
				}
			case *widget.Bar:
				if !known(sp.Indicator) || sp.Rows < 1 {
					t.Fatalf("%s widgets[%d]: bar %+v", s.ID, i, sp)
				}
			case *widget.Trend:
				if !known(sp.Indicator) || sp.Days < 2 {
					t.Fatalf("%s widgets[%d]: trend %+v", s.ID, i, sp)
				}
			case *widget.Ticker:
				if sp.Source != widget.SourceTickets || sp.Rows < 1 {
					t.Fatalf("%s widgets[%d]: ticker %+v", s.ID, i, sp)
				}
			case *widget.Reports:
				if sp.Rows < 1 || sp.Rows > 50 {
					t.Fatalf("%s widgets[%d]: reports %+v", s.ID, i, sp)
				}
			case *widget.Surge:
				if sp.Rows < 1 || sp.Rows > live.SurgeRows {
					t.Fatalf("%s widgets[%d]: surge %+v", s.ID, i, sp)
				}
			case *widget.Orders:
				if sp.Rows < 1 || sp.Rows > 30 {
					t.Fatalf("%s widgets[%d]: orders %+v", s.ID, i, sp)
				}
			case *widget.Health:
			default:
				t.Fatalf("%s widgets[%d]: type %q (%T)", s.ID, i, w.Type, w.Spec)
			}
		}
	}
	for _, p := range set.Playlists() {
		if len(p.Items) == 0 {
			t.Fatalf("playlist %s has no items", p.ID)
		}
		for i, it := range p.Items {
			if _, ok := set.Screen(it.Screen); !ok || it.Seconds < minSeconds {
				t.Fatalf("playlist %s items[%d]: %+v", p.ID, i, it)
			}
		}
	}
}

func TestDefaultKeepsPromises(t *testing.T) {
	for _, load := range []func() (*Set, error){Default, func() (*Set, error) { return LoadDir("examples") }} {
		set, err := load()
		if err != nil {
			t.Fatal(err)
		}
		checkSet(t, set)
	}
}
