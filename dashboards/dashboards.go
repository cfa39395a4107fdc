// Package dashboards is the wall-screen definition format: YAML files that say
// which region a screen shows, which indicators, which charts and where each
// sits on the canvas, plus playlists that rotate screens on a wall. Each
// widget type's own keys are read by its type in package widget; this
// package reads the files, the screens and playlists, and what every
// widget has (type, title, at, region, period).
//
// Screens are data, not code, so that each of the 102 command centers of a
// province (province, city, county) configures its own screens without a
// build: `yiping serve --dashboards DIR` loads a directory with LoadDir in
// place of the defaults embedded here (overview, service, hotline and the
// playlist hall).
//
// Loading is strict. A screen on a wall is read by nobody but leaders, so a
// misspelt key or indicator must fail at start, not show an empty panel:
// every problem is reported as "file:line: field path: reason", all problems
// of all files at once (errors.Join), and no input makes the loader panic.
// The renderer (package wall) can therefore trust a loaded Set: every indicator
// exists in package indicator, every region in region.Default(), every
// period parses with engine.ParsePeriod, every widget lies inside its canvas
// and no two widgets overlap.
package dashboards

import (
	"cmp"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/yiping-ioc/yiping/widget"
)

// embedded holds the default screens and playlist of a provincial center.
//
//go:embed *.yaml
var embedded embed.FS

// Text is a label in Chinese with an optional English form: UI text is
// Chinese first, English when a page is asked for with ?lang=en.
type Text struct {
	ZH string `yaml:"zh"`
	EN string `yaml:"en"`
}

// In returns the text for lang: "en" gives the English form when there is
// one; anything else, or a missing English form, gives the Chinese.
func (t Text) In(lang string) string {
	if lang == "en" && t.EN != "" {
		return t.EN
	}
	return t.ZH
}

// Rect is a widget's place on the screen's design canvas, in design pixels
// (the renderer scales the canvas to the wall). YAML: [x, y, w, h].
type Rect struct{ X, Y, W, H int }

// overlaps reports whether r and o share an area; touching edges do not.
func (r Rect) overlaps(o Rect) bool {
	return r.X < o.X+o.W && o.X < r.X+r.W && r.Y < o.Y+o.H && o.Y < r.Y+r.H
}

// Widget is one panel of a screen: what every widget has (type, title,
// place, region and period), and the settings of its type (package
// widget: one file per type, with its keys and their defaults). The loader
// rejects a key its type does not use and fills the defaults, so the
// renderer reads every field as final.
type Widget struct {
	Type   string // the name of a widget.Kind: tiles, map, ranking, ...
	Title  Text   // optional; the renderer defaults it from the type
	At     Rect   // place on the canvas
	Region string // overrides the screen's region for this widget ("" = screen's)
	Period string // overrides the screen's period ("" = screen's)
	// Spec is the type's settings: *widget.Tiles, *widget.Map, ...
	Spec widget.Spec
}

// Screen is one wall screen: a region, a period and widgets on a canvas.
type Screen struct {
	ID            string // from the file's `id`, [a-z0-9-]+, unique within a Set
	File          string // file name it came from (for messages)
	Title         Text
	Region        string // GB/T 2260 code present in region.Default() (e.g. "620000")
	Period        string // day|week|month|quarter|year (engine.ParsePeriod), default "month"
	Width, Height int    // design canvas, default 1920×1080
	// Header is the height of the band at the top of the canvas that the
	// renderer keeps for the title, clock and status, default 90 (0 = none);
	// no widget may reach into it.
	Header  int
	Widgets []Widget
}

// RegionOf returns the region widget w of s shows: its own, else the screen's.
func (s *Screen) RegionOf(w Widget) string { return s.RegionFor(w, "") }

// PeriodOf returns the period widget w of s shows: its own, else the screen's.
func (s *Screen) PeriodOf(w Widget) string { return s.PeriodFor(w, "") }

// RegionFor returns the region widget w of s shows when a request
// overrides the screen's region with override ("" for none): the widget's
// own, else override, else the screen's.
func (s *Screen) RegionFor(w Widget, override string) string {
	return cmp.Or(w.Region, override, s.Region)
}

// PeriodFor returns the period widget w of s shows when a request
// overrides the screen's period with override ("" for none).
func (s *Screen) PeriodFor(w Widget, override string) string {
	return cmp.Or(w.Period, override, s.Period)
}

// Regions returns the regions the screen shows when a request overrides
// its region with override ("" for none): each widget's own region, else
// override, else the screen's; sorted, without repeats. Widgets show
// these regions and their subdivisions (a ranking, a map, a ticker of the
// region and below), never a region above them: an access check by
// region scope checks these.
func (s *Screen) Regions(override string) []string {
	var out []string
	for _, w := range s.Widgets {
		out = append(out, s.RegionFor(w, override))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Indicators returns the ids of every indicator the screen's widgets show,
// sorted and without repeats, so the renderer knows what to subscribe to.
// The composite score is not an indicator and is not listed.
func (s *Screen) Indicators() []string {
	var ids []string
	for _, w := range s.Widgets {
		ids = append(ids, w.Spec.Shows()...)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// PlaylistItem is one step of a playlist: a screen shown for Seconds
// (default 60, at least 5), optionally for another region than its own.
type PlaylistItem struct {
	Screen  string
	Region  string // overrides the screen's region ("" = the screen's)
	Seconds int
}

// Playlist rotates screens on one wall (a hall's display that cycles).
type Playlist struct {
	ID, File string
	Title    Text
	Items    []PlaylistItem
}

// Set is a loaded, validated collection of screens and playlists. Screens
// and playlists share one id space, so an id names one thing. A Set is
// immutable after loading and safe for concurrent use; the pointers it
// returns must be treated as read-only.
type Set struct {
	screens   []*Screen   // sorted by id
	playlists []*Playlist // sorted by id
}

// Screen returns the screen with the id.
func (s *Set) Screen(id string) (*Screen, bool) {
	i, ok := slices.BinarySearchFunc(s.screens, id, func(x *Screen, id string) int { return cmp.Compare(x.ID, id) })
	if !ok {
		return nil, false
	}
	return s.screens[i], true
}

// Screens returns every screen, sorted by id. The slice is the caller's.
func (s *Set) Screens() []*Screen { return slices.Clone(s.screens) }

// Playlist returns the playlist with the id.
func (s *Set) Playlist(id string) (*Playlist, bool) {
	i, ok := slices.BinarySearchFunc(s.playlists, id, func(x *Playlist, id string) int { return cmp.Compare(x.ID, id) })
	if !ok {
		return nil, false
	}
	return s.playlists[i], true
}

// Playlists returns every playlist, sorted by id. The slice is the caller's.
func (s *Set) Playlists() []*Playlist { return slices.Clone(s.playlists) }

// Default loads the screens and playlist embedded in the binary: the
// provincial defaults (overview, service, hotline, playlist hall). An error
// here is a bug of the build, caught by the package's tests.
func Default() (*Set, error) {
	return loadFS(embedded, "")
}

// LoadDir loads every *.yaml and *.yml file directly in dir (not in
// subdirectories): a command center's own set, which replaces the defaults.
// Messages name the files by their path under dir.
func LoadDir(dir string) (*Set, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("dashboards: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("dashboards: %s is not a directory", dir)
	}
	return loadFS(os.DirFS(dir), dir)
}

// LoadFS loads every *.yaml and *.yml file at the root of fsys.
func LoadFS(fsys fs.FS) (*Set, error) {
	return loadFS(fsys, "")
}

// maxFileSize bounds what the loader reads: a screen file is a few KB.
const maxFileSize = 1 << 20

func loadFS(fsys fs.FS, dir string) (*Set, error) {
	var names []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := fs.Glob(fsys, pat)
		if err != nil {
			return nil, fmt.Errorf("dashboards: %w", err)
		}
		names = append(names, m...)
	}
	slices.Sort(names)
	if len(names) == 0 {
		where := dir
		if where == "" {
			where = "the file system"
		}
		return nil, fmt.Errorf("dashboards: no *.yaml or *.yml files in %s", where)
	}
	l := newLoader()
	for _, name := range names {
		shown := name
		if dir != "" {
			shown = filepath.Join(dir, name)
		}
		data, err := readFile(fsys, name)
		if err != nil {
			l.errs = append(l.errs, &Error{File: shown, Msg: err.Error()})
			continue
		}
		l.parseFile(shown, data)
	}
	return l.finish()
}

func readFile(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("is a directory")
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes; a screen file is a few KB", maxFileSize)
	}
	return b, nil
}
