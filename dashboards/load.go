package dashboards

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/widget"
	"github.com/yiping-ioc/yiping/yamlconf"
)

// Error is one problem in a definition file. Its text is
// "file:line: field path: reason", the form editors and CI logs link to.
type Error = yamlconf.Error

// Limits that keep a definition sane and the loader's work bounded. The
// limits of each widget type's own keys are in package widget.
const (
	maxWidgets     = 64
	maxItems       = 100
	maxCanvas      = 16384
	defaultWidth   = 1920
	defaultHeight  = 1080
	defaultHeader  = 90
	defaultPeriod  = "month"
	defaultSeconds = 60
	minSeconds     = 5
	maxSeconds     = 3600
	maxIDLen       = 64
)

// site is where an id was defined.
type site struct {
	file   string
	line   int
	screen bool
}

// itemRef is a playlist item whose screen is checked once every file is read.
type itemRef struct {
	file       string
	path       string // items[i]
	screenLine int
	regionLine int
	item       PlaylistItem
}

// loader accumulates the files of one Set.
type loader struct {
	regions   *region.Table
	errs      []*Error
	screens   []*Screen
	playlists []*Playlist
	ids       map[string]site
	refs      []itemRef
}

func newLoader() *loader {
	return &loader{regions: region.Default(), ids: map[string]site{}}
}

// finish checks what spans files (playlist items) and returns the Set or
// every error, sorted by file and line, at most yamlconf.MaxErrors a file.
func (l *loader) finish() (*Set, error) {
	for _, r := range l.refs {
		l.checkRef(r)
	}
	if err := yamlconf.Join(l.errs); err != nil {
		return nil, err
	}
	s := &Set{screens: l.screens, playlists: l.playlists}
	slices.SortFunc(s.screens, func(a, b *Screen) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(s.playlists, func(a, b *Playlist) int { return cmp.Compare(a.ID, b.ID) })
	return s, nil
}

func (l *loader) checkRef(r itemRef) {
	id := r.item.Screen
	fail := func(line int, path, format string, args ...any) {
		l.errs = append(l.errs, &Error{File: r.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	where, known := l.ids[id]
	if !known {
		var ids []string
		for k, s := range l.ids {
			if s.screen {
				ids = append(ids, k)
			}
		}
		fail(r.screenLine, r.path+".screen", "unknown screen %q%s", id, yamlconf.DidYouMean(id, ids))
		return
	}
	if !where.screen {
		fail(r.screenLine, r.path+".screen", "%q is a playlist (%s:%d); a playlist item names a screen", id, where.file, where.line)
		return
	}
	if r.item.Region == "" {
		return
	}
	i := slices.IndexFunc(l.screens, func(s *Screen) bool { return s.ID == id })
	if i < 0 {
		return // the screen has errors of its own, already reported
	}
	for j, w := range l.screens[i].Widgets {
		if w.Region != "" {
			continue
		}
		if why := l.regionFit(w.Spec, region.Code(r.item.Region)); why != "" {
			fail(r.regionLine, r.path+".region", "screen %s's widgets[%d] (%s) cannot show %s: %s", id, j, w.Type, r.item.Region, why)
		}
	}
}

// regionFit says why a widget cannot show region c, or "".
func (l *loader) regionFit(spec widget.Spec, c region.Code) string {
	if f, ok := spec.(widget.RegionFitter); ok {
		return f.Fit(c, l.regions)
	}
	return ""
}

// parser reads one file.
type parser struct {
	l    *loader
	file string
	r    *yamlconf.Reader
}

// parseFile reads one definition file and records its screen or playlist
// (when it has no errors) and its errors.
func (l *loader) parseFile(file string, data []byte) {
	p := &parser{l: l, file: file, r: yamlconf.NewReader(file)}
	p.parse(data)
	l.errs = append(l.errs, p.r.Errors()...)
}

const wantKind = "want a YAML mapping with kind: screen or kind: playlist"

func (p *parser) parse(data []byte) {
	before := p.r.Len()
	root := p.r.Document(data)
	switch {
	case root == nil && p.r.Len() == before:
		p.r.Errorf(nil, "", "empty file; %s", wantKind)
		return
	case root == nil:
		return // a syntax error, recorded
	case root.Kind != yaml.MappingNode:
		p.r.Errorf(root, "", "%s", wantKind)
		return
	}
	var kind *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := yamlconf.Deref(root.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == "kind" {
			kind = yamlconf.Deref(root.Content[i+1])
			break
		}
	}
	if kind == nil {
		p.r.Errorf(root, "kind", "missing; want kind: screen or kind: playlist")
		return
	}
	k, ok := p.r.Str(kind, "kind")
	if !ok {
		return
	}
	switch k {
	case "screen":
		p.screen(root)
	case "playlist":
		p.playlist(root)
	default:
		p.r.Errorf(kind, "kind", "unknown kind %q%s; want screen or playlist", k, yamlconf.DidYouMean(k, []string{"screen", "playlist"}))
	}
}

// text reads a title: a plain string (Chinese only) or {zh: ..., en: ...}.
func (p *parser) text(n *yaml.Node, path string) (Text, bool) {
	switch n.Kind {
	case yaml.ScalarNode:
		s, ok := p.r.Str(n, path)
		if ok && strings.TrimSpace(s) == "" {
			p.r.Errorf(n, path, "empty; want the Chinese text")
			return Text{}, false
		}
		return Text{ZH: s}, ok
	case yaml.MappingNode:
		f := p.r.Fields(n, path, []string{"zh", "en"}, nil)
		var t Text
		ok := true
		zh := yamlconf.JoinPath(path, "zh")
		if z, has := f["zh"]; !has {
			p.r.Errorf(n, zh, "missing; UI text is Chinese first")
			ok = false
		} else if s, good := p.r.Str(z.Val, zh); !good {
			ok = false
		} else if strings.TrimSpace(s) == "" {
			p.r.Errorf(z.Val, zh, "empty; want the Chinese text")
			ok = false
		} else {
			t.ZH = s
		}
		if e, has := f["en"]; has {
			if s, good := p.r.Str(e.Val, yamlconf.JoinPath(path, "en")); good {
				t.EN = s
			} else {
				ok = false
			}
		}
		return t, ok
	}
	p.r.Errorf(n, path, "want a string or {zh: ..., en: ...}")
	return Text{}, false
}

// id reads and registers a screen's or playlist's id.
func (p *parser) id(n *yaml.Node, isScreen bool) (string, bool) {
	s, ok := p.r.Str(n, "id")
	if !ok {
		return "", false
	}
	if s == "" || len(s) > maxIDLen || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		p.r.Errorf(n, "id", "%q: want 1 to %d of a-z, 0-9 and -", s, maxIDLen)
		return "", false
	}
	if prev, dup := p.l.ids[s]; dup {
		p.r.Errorf(n, "id", "duplicate id %q (first in %s:%d)", s, prev.file, prev.line)
		return "", false
	}
	p.l.ids[s] = site{file: p.file, line: n.Line, screen: isScreen}
	return s, true
}

// region reads a region code that must exist in the embedded table.
func (p *parser) region(n *yaml.Node, path string) (string, bool) {
	s, ok := p.r.Str(n, path)
	if !ok {
		return "", false
	}
	c, err := region.ParseCode(s)
	if err != nil {
		p.r.Errorf(n, path, "%v", err)
		return "", false
	}
	if _, ok := p.l.regions.Name(c); !ok {
		p.r.Errorf(n, path, "unknown region %s (not in the GB/T 2260 table)", s)
		return "", false
	}
	return s, true
}

func (p *parser) period(n *yaml.Node, path string) (string, bool) {
	s, ok := p.r.Str(n, path)
	if !ok {
		return "", false
	}
	if _, err := engine.ParsePeriod(s); err != nil {
		p.r.Errorf(n, path, "%v", err)
		return "", false
	}
	return s, true
}

func (p *parser) screen(root *yaml.Node) {
	f := p.r.Fields(root, "", []string{"kind", "id", "title", "region", "period", "width", "height", "header", "widgets"}, nil)
	s := &Screen{File: p.file, Period: defaultPeriod, Width: defaultWidth, Height: defaultHeight, Header: defaultHeader}
	before := p.r.Len()
	if v, ok := f["id"]; ok {
		s.ID, _ = p.id(v.Val, true)
	} else {
		p.r.Errorf(root, "id", "missing; want a name of a-z, 0-9 and - (it is the screen's URL)")
	}
	if v, ok := f["title"]; ok {
		s.Title, _ = p.text(v.Val, "title")
	} else {
		p.r.Errorf(root, "title", "missing; want {zh: ..., en: ...}")
	}
	if v, ok := f["region"]; ok {
		s.Region, _ = p.region(v.Val, "region")
	} else {
		p.r.Errorf(root, "region", "missing; want a GB/T 2260 code such as 620000")
	}
	if v, ok := f["period"]; ok {
		s.Period, _ = p.period(v.Val, "period")
	}
	canvasOK := true
	if v, ok := f["width"]; ok {
		if s.Width, ok = p.r.Int(v.Val, "width", 100, maxCanvas); !ok {
			canvasOK = false
		}
	}
	if v, ok := f["height"]; ok {
		if s.Height, ok = p.r.Int(v.Val, "height", 100, maxCanvas); !ok {
			canvasOK = false
		}
	}
	if v, ok := f["header"]; ok && canvasOK {
		if s.Header, ok = p.r.Int(v.Val, "header", 0, s.Height/2); !ok {
			canvasOK = false
		}
	}
	v, ok := f["widgets"]
	switch {
	case !ok:
		p.r.Errorf(root, "widgets", "missing; a screen needs at least one widget")
	case v.Val.Kind != yaml.SequenceNode || len(v.Val.Content) == 0:
		p.r.Errorf(v.Val, "widgets", "want a list of 1 to %d widgets", maxWidgets)
	case len(v.Val.Content) > maxWidgets:
		p.r.Errorf(v.Val, "widgets", "%d widgets; a screen holds at most %d", len(v.Val.Content), maxWidgets)
	default:
		var placed []placedWidget
		for i, wn := range v.Val.Content {
			path := yamlconf.Index("widgets", i)
			w, at := p.widget(yamlconf.Deref(wn), wn, path, s, canvasOK)
			s.Widgets = append(s.Widgets, w)
			if at != nil {
				placed = append(placed, placedWidget{i, w, at})
			}
		}
		p.overlaps(placed)
	}
	if p.r.Len() == before {
		p.l.screens = append(p.l.screens, s)
	}
}

// placedWidget is a widget with a valid place, for the overlap check.
type placedWidget struct {
	index int
	w     Widget
	at    *yaml.Node
}

// overlaps reports each widget that overlaps one before it, naming them all.
func (p *parser) overlaps(placed []placedWidget) {
	for j, b := range placed {
		var hit []string
		for _, a := range placed[:j] {
			if a.w.At.overlaps(b.w.At) {
				hit = append(hit, fmt.Sprintf("widgets[%d] (%s, line %d)", a.index, a.w.Type, a.at.Line))
			}
		}
		if len(hit) > 0 {
			list := hit[0]
			if len(hit) > 1 {
				list = strings.Join(hit[:len(hit)-1], ", ") + " and " + hit[len(hit)-1]
			}
			p.r.Errorf(b.at, yamlconf.JoinPath(yamlconf.Index("widgets", b.index), "at"), "%s overlaps %s", b.w.Type, list)
		}
	}
}

// widget reads one widget: what every widget has here, the rest by its
// type (package widget). at is the node of its place when the place is
// valid, for the overlap check, which also covers widgets with other
// errors.
func (p *parser) widget(n, orig *yaml.Node, path string, s *Screen, canvasOK bool) (w Widget, at *yaml.Node) {
	before := p.r.Len()
	spec, in, ok := widget.Begin(p.r, n, orig, path)
	if !ok {
		return w, nil
	}
	w.Type, w.Spec = in.Type(), spec
	if v, has := in.Field("title"); has {
		w.Title, _ = p.text(v, in.Path("title"))
	}
	if v, has := in.Field("at"); has {
		if r, good := p.rect(v, in.Path("at"), s, canvasOK); good {
			w.At, at = r, v
		}
	} else {
		in.Missing("at", "want [x, y, w, h] in design pixels")
	}
	regionNode, hasRegion := in.Field("region")
	if hasRegion {
		w.Region, _ = p.region(regionNode, in.Path("region"))
	}
	if v, has := in.Field("period"); has {
		w.Period, _ = p.period(v, in.Path("period"))
	}
	spec.Parse(in)

	// A widget's region must suit its type; the screen's region is checked
	// for the widgets that do not name their own.
	if p.r.Len() > before {
		return w, at
	}
	switch {
	case w.Region != "":
		if why := p.l.regionFit(spec, region.Code(w.Region)); why != "" {
			p.r.Errorf(regionNode, in.Path("region"), "%s cannot show %s: %s", w.Type, w.Region, why)
		}
	case s.Region != "":
		if why := p.l.regionFit(spec, region.Code(s.Region)); why != "" {
			p.r.Errorf(n, path, "%s cannot show the screen's region %s: %s", w.Type, s.Region, why)
		}
	}
	return w, at
}

// rect reads [x, y, w, h] and checks it lies inside the canvas, below the
// header band.
func (p *parser) rect(n *yaml.Node, path string, s *Screen, canvasOK bool) (Rect, bool) {
	const want = "want [x, y, w, h]: 4 integers in design pixels"
	if n.Kind != yaml.SequenceNode || len(n.Content) != 4 {
		p.r.Errorf(n, path, want)
		return Rect{}, false
	}
	var v [4]int
	for i, e := range n.Content {
		e = yamlconf.Deref(e)
		if e == nil || e.Kind != yaml.ScalarNode || e.ShortTag() != "!!int" {
			p.r.Errorf(n, path, want)
			return Rect{}, false
		}
		var x int64
		if err := e.Decode(&x); err != nil || x < -maxCanvas || x > maxCanvas {
			p.r.Errorf(n, path, "%s is out of range", e.Value)
			return Rect{}, false
		}
		v[i] = int(x)
	}
	r := Rect{X: v[0], Y: v[1], W: v[2], H: v[3]}
	switch {
	case r.W <= 0 || r.H <= 0:
		p.r.Errorf(n, path, "width and height must be positive, got %d×%d", r.W, r.H)
		return r, false
	case r.X < 0 || r.Y < 0:
		p.r.Errorf(n, path, "x and y must not be negative, got %d, %d", r.X, r.Y)
		return r, false
	case !canvasOK:
		return r, true
	case r.X+r.W > s.Width || r.Y+r.H > s.Height:
		p.r.Errorf(n, path, "reaches %d, %d, outside the %d×%d canvas", r.X+r.W, r.Y+r.H, s.Width, s.Height)
		return r, false
	case r.Y < s.Header:
		p.r.Errorf(n, path, "y %d is inside the %d-pixel header band kept for the title, clock and status", r.Y, s.Header)
		return r, false
	}
	return r, true
}

func (p *parser) playlist(root *yaml.Node) {
	f := p.r.Fields(root, "", []string{"kind", "id", "title", "items"}, nil)
	pl := &Playlist{File: p.file}
	before := p.r.Len()
	if v, ok := f["id"]; ok {
		pl.ID, _ = p.id(v.Val, false)
	} else {
		p.r.Errorf(root, "id", "missing; want a name of a-z, 0-9 and - (it is the playlist's URL)")
	}
	if v, ok := f["title"]; ok {
		pl.Title, _ = p.text(v.Val, "title")
	} else {
		p.r.Errorf(root, "title", "missing; want {zh: ..., en: ...}")
	}
	var refs []itemRef
	v, ok := f["items"]
	switch {
	case !ok:
		p.r.Errorf(root, "items", "missing; a playlist needs at least one item")
	case v.Val.Kind != yaml.SequenceNode || len(v.Val.Content) == 0:
		p.r.Errorf(v.Val, "items", "want a list of 1 to %d items {screen, seconds, region}", maxItems)
	case len(v.Val.Content) > maxItems:
		p.r.Errorf(v.Val, "items", "%d items; a playlist holds at most %d", len(v.Val.Content), maxItems)
	default:
		for i, in := range v.Val.Content {
			if ref, ok := p.item(in, yamlconf.Index("items", i), pl); ok {
				refs = append(refs, ref)
			}
		}
	}
	// Items are checked against the screens even when the playlist has
	// errors of its own, so that one run reports everything.
	p.l.refs = append(p.l.refs, refs...)
	if p.r.Len() == before {
		p.l.playlists = append(p.l.playlists, pl)
	}
}

// item reads one playlist item into pl; ok when it names a screen, to be
// checked once every file is read.
func (p *parser) item(in *yaml.Node, path string, pl *Playlist) (itemRef, bool) {
	n := yamlconf.Deref(in)
	if n == nil || n.Kind != yaml.MappingNode {
		p.r.Errorf(in, path, "want a mapping {screen, seconds, region}")
		return itemRef{}, false
	}
	it := PlaylistItem{Seconds: defaultSeconds}
	ref := itemRef{file: p.file, path: path, screenLine: n.Line, regionLine: n.Line}
	g := p.r.Fields(n, path, []string{"screen", "region", "seconds"}, nil)
	if sv, has := g["screen"]; has {
		it.Screen, _ = p.r.Str(sv.Val, yamlconf.JoinPath(path, "screen"))
		ref.screenLine = sv.Val.Line
	} else {
		p.r.Errorf(n, yamlconf.JoinPath(path, "screen"), "missing; want a screen id")
	}
	if rv, has := g["region"]; has {
		it.Region, _ = p.region(rv.Val, yamlconf.JoinPath(path, "region"))
		ref.regionLine = rv.Val.Line
	}
	if sv, has := g["seconds"]; has {
		it.Seconds, _ = p.r.Int(sv.Val, yamlconf.JoinPath(path, "seconds"), minSeconds, maxSeconds)
	}
	pl.Items = append(pl.Items, it)
	ref.item = it
	return ref, it.Screen != ""
}
