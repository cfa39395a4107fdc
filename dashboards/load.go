package dashboards

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/suggest"
)

// Error is one problem in a definition file. Its text is
// "file:line: field path: reason", the form editors and CI logs link to.
type Error struct {
	File string
	Line int    // 1-based; 0 when the problem is the whole file
	Path string // field path such as widgets[2].indicators[1]; "" for the document
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Limits that keep a definition sane and the loader's work bounded.
const (
	maxWidgets        = 64
	maxItems          = 100
	maxErrorsPerFile  = 50
	maxCanvas         = 16384
	defaultWidth      = 1920
	defaultHeight     = 1080
	defaultHeader     = 90
	defaultPeriod     = "month"
	defaultRotate     = 8 * time.Second
	minRotate         = 2 * time.Second
	defaultRows       = 10
	defaultTickerRows = 20
	maxRows           = 100
	maxTickerRows     = 200
	defaultDays       = 30
	minDays, maxDays  = 2, 400
	defaultSeconds    = 60
	minSeconds        = 5
	maxSeconds        = 3600
	maxTiles          = 8
	maxGauges         = 4
	maxIDLen          = 64
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
// every error, sorted by file and line.
func (l *loader) finish() (*Set, error) {
	for _, r := range l.refs {
		l.checkRef(r)
	}
	if len(l.errs) > 0 {
		slices.SortStableFunc(l.errs, func(a, b *Error) int {
			return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
		})
		var out []error
		perFile := 0
		for i, e := range l.errs {
			if i > 0 && e.File != l.errs[i-1].File {
				perFile = 0
			}
			perFile++
			switch {
			case perFile <= maxErrorsPerFile:
				out = append(out, e)
			case perFile == maxErrorsPerFile+1:
				n := 0
				for _, f := range l.errs[i:] {
					if f.File == e.File {
						n++
					}
				}
				out = append(out, &Error{File: e.File, Msg: fmt.Sprintf("%d more errors not shown", n)})
			}
		}
		return nil, errors.Join(out...)
	}
	s := &Set{screens: l.screens, playlists: l.playlists}
	slices.SortFunc(s.screens, func(a, b *Screen) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(s.playlists, func(a, b *Playlist) int { return cmp.Compare(a.ID, b.ID) })
	return s, nil
}

func (l *loader) checkRef(r itemRef) {
	id := r.item.Screen
	where, known := l.ids[id]
	if !known {
		var ids []string
		for k, s := range l.ids {
			if s.screen {
				ids = append(ids, k)
			}
		}
		l.errs = append(l.errs, &Error{File: r.file, Line: r.screenLine, Path: r.path + ".screen",
			Msg: fmt.Sprintf("unknown screen %q%s", id, didYouMean(id, ids))})
		return
	}
	if !where.screen {
		l.errs = append(l.errs, &Error{File: r.file, Line: r.screenLine, Path: r.path + ".screen",
			Msg: fmt.Sprintf("%q is a playlist (%s:%d); a playlist item names a screen", id, where.file, where.line)})
		return
	}
	if r.item.Region == "" {
		return
	}
	var sc *Screen
	for _, s := range l.screens {
		if s.ID == id {
			sc = s
		}
	}
	if sc == nil {
		return // the screen has errors of its own, already reported
	}
	for i, w := range sc.Widgets {
		if w.Region != "" {
			continue
		}
		if why := l.regionFit(w.Type, region.Code(r.item.Region)); why != "" {
			l.errs = append(l.errs, &Error{File: r.file, Line: r.regionLine, Path: r.path + ".region",
				Msg: fmt.Sprintf("screen %s's widgets[%d] (%s) cannot show %s: %s", id, i, w.Type, r.item.Region, why)})
		}
	}
}

// regionFit says why a widget of type typ cannot show region c, or "".
func (l *loader) regionFit(typ string, c region.Code) string {
	switch typ {
	case TypeMap:
		if lv := c.Level(); lv != region.Province && lv != region.City {
			return fmt.Sprintf("a map shows a province or a city, not a %s", lv)
		}
	case TypeRanking, TypeBar:
		if len(l.regions.Children(c)) == 0 {
			return "it has no subdivisions to rank"
		}
	}
	return ""
}

// parser reads one file.
type parser struct {
	l    *loader
	file string
	errs []*Error
}

func (p *parser) errf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 syntax error into an Error. yaml.v3 (v3.0.1)
// numbers the lines of its parser errors ("did not find expected ...") from
// 0 and of its scanner errors from 1, and gives no line for a parser error
// on the first line; this puts both on the 1-based line of the construct
// that failed (the unclosed "[", the line that broke the mapping).
func syntaxError(file string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	parserErr := func(m string) bool {
		for _, pre := range []string{"did not find expected", "found undefined tag handle", "found duplicate %", "found incompatible YAML document"} {
			if strings.HasPrefix(m, pre) {
				return true
			}
		}
		return false
	}
	if m := yamlLineErr.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		if parserErr(m[2]) {
			line++
		}
		return &Error{File: file, Line: line, Msg: "YAML: " + m[2]}
	}
	if parserErr(msg) {
		return &Error{File: file, Line: 1, Msg: "YAML: " + msg}
	}
	return &Error{File: file, Msg: "YAML: " + msg}
}

// decode reads the file's one YAML document. The YAML library is not this
// package's code; should it ever panic on some input, that input is still
// only a bad file.
func decode(data []byte) (doc *yaml.Node, second *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, second, err = nil, nil, fmt.Errorf("yaml: the YAML parser failed on this file: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var d yaml.Node
	if err := dec.Decode(&d); err != nil {
		return nil, nil, err
	}
	var d2 yaml.Node
	if err := dec.Decode(&d2); err == nil {
		return &d, &d2, nil
	} else if !errors.Is(err, io.EOF) {
		return &d, nil, err
	}
	return &d, nil, nil
}

// parseFile reads one definition file and records its screen or playlist
// (when it has no errors) and its errors.
func (l *loader) parseFile(file string, data []byte) {
	p := &parser{l: l, file: file}
	p.parse(data)
	l.errs = append(l.errs, p.errs...)
}

func (p *parser) parse(data []byte) {
	doc, second, err := decode(data)
	switch {
	case errors.Is(err, io.EOF):
		p.errf(nil, "", "empty file; want a YAML mapping with kind: screen or kind: playlist")
		return
	case err != nil:
		p.errs = append(p.errs, syntaxError(p.file, err))
		return
	}
	if second != nil {
		p.errf(second, "", "a second YAML document; a file holds one screen or one playlist")
	}
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			p.errf(nil, "", "empty file; want a YAML mapping with kind: screen or kind: playlist")
			return
		}
		root = root.Content[0]
	}
	root = deref(root)
	if root == nil || root.Kind != yaml.MappingNode {
		p.errf(root, "", "want a YAML mapping with kind: screen or kind: playlist")
		return
	}
	var kind *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := deref(root.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == "kind" {
			kind = deref(root.Content[i+1])
			break
		}
	}
	if kind == nil {
		p.errf(root, "kind", "missing; want kind: screen or kind: playlist")
		return
	}
	k, ok := p.str(kind, "kind")
	if !ok {
		return
	}
	switch k {
	case "screen":
		p.screen(root)
	case "playlist":
		p.playlist(root)
	default:
		p.errf(kind, "kind", "unknown kind %q%s; want screen or playlist", k, didYouMean(k, []string{"screen", "playlist"}))
	}
}

// deref follows aliases (*name) to the anchored node. Aliases cannot form a
// cycle in yaml.v3, but the walk is bounded anyway.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// field is one key of a mapping.
type field struct {
	key, val *yaml.Node
}

// fields reads mapping n: the value of each allowed key, in document order.
// It reports keys that are not allowed: notFor(key) gives the reason for a
// key that is known elsewhere (a field another widget type uses), "" for a
// key that is unknown altogether.
func (p *parser) fields(n *yaml.Node, path string, allowed []string, notFor func(string) string) map[string]field {
	out := map[string]field{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode {
			p.errf(n.Content[i], path, "a key must be a plain name")
			continue
		}
		name := k.Value
		if prev, dup := out[name]; dup {
			p.errf(k, join(path, name), "duplicate key (first on line %d)", prev.key.Line)
			continue
		}
		if !slices.Contains(allowed, name) {
			why := ""
			if notFor != nil {
				why = notFor(name)
			}
			if why == "" {
				why = "unknown key" + didYouMean(name, allowed)
				if !strings.Contains(why, "did you mean") {
					why += " (known: " + strings.Join(allowed, ", ") + ")"
				}
			}
			p.errf(k, join(path, name), "%s", why)
			continue
		}
		if v == nil {
			p.errf(k, join(path, name), "unresolvable alias")
			continue
		}
		out[name] = field{k, v}
	}
	return out
}

// str reads a scalar as a string. Plain numbers are taken as written, so
// region: 620000 needs no quotes.
func (p *parser) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		p.errf(n, path, "want a string")
		return "", false
	}
	return n.Value, true
}

// integer reads an integer scalar within [lo, hi].
func (p *parser) integer(n *yaml.Node, path string, lo, hi int) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.errf(n, path, "want an integer from %d to %d", lo, hi)
		return 0, false
	}
	var v int64
	if err := n.Decode(&v); err != nil || v < int64(lo) || v > int64(hi) {
		p.errf(n, path, "%s is out of range; want %d to %d", n.Value, lo, hi)
		return 0, false
	}
	return int(v), true
}

func (p *parser) boolean(n *yaml.Node, path string) (bool, bool) {
	var v bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
		p.errf(n, path, "want true or false")
		return false, false
	}
	return v, true
}

// text reads a title: a plain string (Chinese only) or {zh: ..., en: ...}.
func (p *parser) text(n *yaml.Node, path string) (Text, bool) {
	switch n.Kind {
	case yaml.ScalarNode:
		s, ok := p.str(n, path)
		if ok && strings.TrimSpace(s) == "" {
			p.errf(n, path, "empty; want the Chinese text")
			return Text{}, false
		}
		return Text{ZH: s}, ok
	case yaml.MappingNode:
		f := p.fields(n, path, []string{"zh", "en"}, nil)
		var t Text
		ok := true
		if z, has := f["zh"]; !has {
			p.errf(n, join(path, "zh"), "missing; UI text is Chinese first")
			ok = false
		} else if s, good := p.str(z.val, join(path, "zh")); !good {
			ok = false
		} else if strings.TrimSpace(s) == "" {
			p.errf(z.val, join(path, "zh"), "empty; want the Chinese text")
			ok = false
		} else {
			t.ZH = s
		}
		if e, has := f["en"]; has {
			if s, good := p.str(e.val, join(path, "en")); good {
				t.EN = s
			} else {
				ok = false
			}
		}
		return t, ok
	}
	p.errf(n, path, "want a string or {zh: ..., en: ...}")
	return Text{}, false
}

// id reads and registers a screen's or playlist's id.
func (p *parser) id(n *yaml.Node, isScreen bool) (string, bool) {
	s, ok := p.str(n, "id")
	if !ok {
		return "", false
	}
	if s == "" || len(s) > maxIDLen || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		p.errf(n, "id", "%q: want 1 to %d of a-z, 0-9 and -", s, maxIDLen)
		return "", false
	}
	if prev, dup := p.l.ids[s]; dup {
		p.errf(n, "id", "duplicate id %q (first in %s:%d)", s, prev.file, prev.line)
		return "", false
	}
	p.l.ids[s] = site{file: p.file, line: n.Line, screen: isScreen}
	return s, true
}

// region reads a region code that must exist in the embedded table.
func (p *parser) region(n *yaml.Node, path string) (string, bool) {
	s, ok := p.str(n, path)
	if !ok {
		return "", false
	}
	c, err := region.ParseCode(s)
	if err != nil {
		p.errf(n, path, "%v", err)
		return "", false
	}
	if _, ok := p.l.regions.Name(c); !ok {
		p.errf(n, path, "unknown region %s (not in the GB/T 2260 table)", s)
		return "", false
	}
	return s, true
}

func (p *parser) period(n *yaml.Node, path string) (string, bool) {
	s, ok := p.str(n, path)
	if !ok {
		return "", false
	}
	if _, err := engine.ParsePeriod(s); err != nil {
		p.errf(n, path, "%v", err)
		return "", false
	}
	return s, true
}

// indicatorID reads an indicator id known to package indicator.
func (p *parser) indicatorID(n *yaml.Node, path string) (indicator.Def, bool) {
	s, ok := p.str(n, path)
	if !ok {
		return indicator.Def{}, false
	}
	d, ok := indicator.Lookup(s)
	if !ok {
		p.errf(n, path, "unknown indicator %q%s", s, didYouMean(s, indicatorIDs()))
	}
	return d, ok
}

func indicatorIDs() []string {
	all := indicator.All()
	ids := make([]string, len(all))
	for i, d := range all {
		ids[i] = d.ID
	}
	return ids
}

func (p *parser) screen(root *yaml.Node) {
	f := p.fields(root, "", []string{"kind", "id", "title", "region", "period", "width", "height", "header", "widgets"}, nil)
	s := &Screen{File: p.file, Period: defaultPeriod, Width: defaultWidth, Height: defaultHeight, Header: defaultHeader}
	before := len(p.errs)
	if v, ok := f["id"]; ok {
		s.ID, _ = p.id(v.val, true)
	} else {
		p.errf(root, "id", "missing; want a name of a-z, 0-9 and - (it is the screen's URL)")
	}
	if v, ok := f["title"]; ok {
		s.Title, _ = p.text(v.val, "title")
	} else {
		p.errf(root, "title", "missing; want {zh: ..., en: ...}")
	}
	if v, ok := f["region"]; ok {
		s.Region, _ = p.region(v.val, "region")
	} else {
		p.errf(root, "region", "missing; want a GB/T 2260 code such as 620000")
	}
	if v, ok := f["period"]; ok {
		s.Period, _ = p.period(v.val, "period")
	}
	canvasOK := true
	if v, ok := f["width"]; ok {
		if s.Width, ok = p.integer(v.val, "width", 100, maxCanvas); !ok {
			canvasOK = false
		}
	}
	if v, ok := f["height"]; ok {
		if s.Height, ok = p.integer(v.val, "height", 100, maxCanvas); !ok {
			canvasOK = false
		}
	}
	if v, ok := f["header"]; ok && canvasOK {
		if s.Header, ok = p.integer(v.val, "header", 0, s.Height/2); !ok {
			canvasOK = false
		}
	}
	v, ok := f["widgets"]
	switch {
	case !ok:
		p.errf(root, "widgets", "missing; a screen needs at least one widget")
	case v.val.Kind != yaml.SequenceNode || len(v.val.Content) == 0:
		p.errf(v.val, "widgets", "want a list of 1 to %d widgets", maxWidgets)
	case len(v.val.Content) > maxWidgets:
		p.errf(v.val, "widgets", "%d widgets; a screen holds at most %d", len(v.val.Content), maxWidgets)
	default:
		var placed []placedWidget
		for i, wn := range v.val.Content {
			path := fmt.Sprintf("widgets[%d]", i)
			w, at := p.widget(deref(wn), wn, path, s, canvasOK)
			s.Widgets = append(s.Widgets, w)
			if at != nil {
				placed = append(placed, placedWidget{i, w, at})
			}
		}
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
				p.errf(b.at, fmt.Sprintf("widgets[%d].at", b.index), "%s overlaps %s", b.w.Type, list)
			}
		}
	}
	if len(p.errs) == before {
		p.l.screens = append(p.l.screens, s)
	}
}

// placedWidget is a widget with a valid place, for the overlap check.
type placedWidget struct {
	index int
	w     Widget
	at    *yaml.Node
}

// widgetKeys lists the keys a widget type uses besides type, title and at.
func widgetKeys(typ string) ([]string, bool) {
	switch typ {
	case TypeTiles:
		return []string{"indicators", "region", "period"}, true
	case TypeMap:
		return []string{"color_by", "indicator", "drill", "region", "period"}, true
	case TypeRanking:
		return []string{"indicators", "rotate", "rows", "region", "period"}, true
	case TypeBar:
		return []string{"indicator", "rows", "region", "period"}, true
	case TypeGauge:
		return []string{"indicators", "region", "period"}, true
	case TypeTicker:
		return []string{"source", "rows", "region"}, true
	case TypeHealth:
		return nil, true
	case TypeTrend:
		return []string{"indicator", "days", "region"}, true
	}
	return nil, false
}

var widgetTypes = []string{TypeTiles, TypeMap, TypeRanking, TypeBar, TypeGauge, TypeTicker, TypeHealth, TypeTrend}

// widget reads one widget. at is the node of its place when the place is
// valid, for the overlap check, which also covers widgets with other errors.
func (p *parser) widget(n, orig *yaml.Node, path string, s *Screen, canvasOK bool) (w Widget, at *yaml.Node) {
	before := len(p.errs)
	if n == nil || n.Kind != yaml.MappingNode {
		p.errf(orig, path, "want a mapping with type, at and the type's fields")
		return w, nil
	}
	var typeNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == "type" {
			typeNode = deref(n.Content[i+1])
			break
		}
	}
	if typeNode == nil {
		p.errf(n, join(path, "type"), "missing; want one of %s", strings.Join(widgetTypes, ", "))
		return w, nil
	}
	typ, good := p.str(typeNode, join(path, "type"))
	if !good {
		return w, nil
	}
	own, known := widgetKeys(typ)
	if !known {
		p.errf(typeNode, join(path, "type"), "unknown widget type %q%s; want one of %s", typ, didYouMean(typ, widgetTypes), strings.Join(widgetTypes, ", "))
		return w, nil
	}
	w.Type = typ
	allowed := append([]string{"type", "title", "at"}, own...)
	notFor := func(key string) string {
		for _, t := range widgetTypes {
			if keys, _ := widgetKeys(t); slices.Contains(keys, key) {
				return fmt.Sprintf("not used by a %s widget (it takes %s)", typ, strings.Join(allowed, ", "))
			}
		}
		return ""
	}
	f := p.fields(n, path, allowed, notFor)

	if v, has := f["title"]; has {
		w.Title, _ = p.text(v.val, join(path, "title"))
	}
	if v, has := f["at"]; has {
		if r, good := p.rect(v.val, join(path, "at"), s, canvasOK); good {
			w.At, at = r, v.val
		}
	} else {
		p.errf(n, join(path, "at"), "missing; want [x, y, w, h] in design pixels")
	}
	if v, has := f["region"]; has {
		w.Region, _ = p.region(v.val, join(path, "region"))
	}
	if v, has := f["period"]; has {
		w.Period, _ = p.period(v.val, join(path, "period"))
	}

	switch typ {
	case TypeTiles:
		w.Indicators = p.indicatorList(n, f, path, typ, 1, maxTiles, false)
	case TypeRanking:
		w.Indicators = p.indicatorList(n, f, path, typ, 1, len(indicator.All()), false)
		w.Rotate = defaultRotate
		if v, has := f["rotate"]; has {
			w.Rotate, _ = p.duration(v.val, join(path, "rotate"))
		}
		w.Rows = defaultRows
		if v, has := f["rows"]; has {
			w.Rows, _ = p.integer(v.val, join(path, "rows"), 1, maxRows)
		}
	case TypeGauge:
		w.Indicators = p.indicatorList(n, f, path, typ, 1, maxGauges, true)
	case TypeMap:
		cb, hasCB := f["color_by"]
		ind, hasInd := f["indicator"]
		if !hasCB && !hasInd {
			p.errf(n, join(path, "color_by"), "missing; a map needs color_by (composite or an indicator) or indicator")
		}
		if hasCB {
			if s, good := p.str(cb.val, join(path, "color_by")); good {
				if s == ColorComposite {
					w.ColorBy = s
				} else if _, known := indicator.Lookup(s); known {
					w.ColorBy = s
				} else {
					p.errf(cb.val, join(path, "color_by"), "unknown indicator %q%s; want composite or an indicator id",
						s, didYouMean(s, append(indicatorIDs(), ColorComposite)))
				}
			}
		}
		if hasInd {
			if d, good := p.indicatorID(ind.val, join(path, "indicator")); good {
				w.Indicator = d.ID
			}
		}
		if v, has := f["drill"]; has {
			w.Drill, _ = p.boolean(v.val, join(path, "drill"))
		}
	case TypeBar, TypeTrend:
		if v, has := f["indicator"]; has {
			if d, good := p.indicatorID(v.val, join(path, "indicator")); good {
				w.Indicator = d.ID
			}
		} else {
			p.errf(n, join(path, "indicator"), "missing; a %s widget shows one indicator", typ)
		}
		if typ == TypeBar {
			w.Rows = defaultRows
			if v, has := f["rows"]; has {
				w.Rows, _ = p.integer(v.val, join(path, "rows"), 1, maxRows)
			}
		} else {
			w.Days = defaultDays
			if v, has := f["days"]; has {
				w.Days, _ = p.integer(v.val, join(path, "days"), minDays, maxDays)
			}
		}
	case TypeTicker:
		w.Source = SourceTickets
		if v, has := f["source"]; has {
			if s, good := p.str(v.val, join(path, "source")); good && s != SourceTickets {
				p.errf(v.val, join(path, "source"), "unknown source %q; want %s (12345 hotline tickets)", s, SourceTickets)
			}
		}
		w.Rows = defaultTickerRows
		if v, has := f["rows"]; has {
			w.Rows, _ = p.integer(v.val, join(path, "rows"), 1, maxTickerRows)
		}
	}

	// A widget's region must suit its type; the screen's region is checked
	// for the widgets that do not name their own.
	if len(p.errs) == before {
		code, regionNode, field := w.Region, f["region"].val, join(path, "region")
		if code == "" {
			code, regionNode, field = s.Region, n, path
		}
		if code != "" {
			if why := p.l.regionFit(typ, region.Code(code)); why != "" {
				if field == path {
					p.errf(regionNode, field, "%s cannot show the screen's region %s: %s", typ, code, why)
				} else {
					p.errf(regionNode, field, "%s cannot show %s: %s", typ, code, why)
				}
			}
		}
	}
	return w, at
}

// indicatorList reads the indicators of tiles, ranking and gauge widgets.
func (p *parser) indicatorList(n *yaml.Node, f map[string]field, path, typ string, lo, hi int, ratesOnly bool) []string {
	path = join(path, "indicators")
	v, has := f["indicators"]
	if !has {
		p.errf(n, path, "missing; a %s widget takes %d to %d indicators", typ, lo, hi)
		return nil
	}
	if v.val.Kind != yaml.SequenceNode {
		p.errf(v.val, path, "want a list of indicator ids")
		return nil
	}
	if c := len(v.val.Content); c < lo || c > hi {
		p.errf(v.val, path, "%d indicators; a %s widget takes %d to %d", c, typ, lo, hi)
		return nil
	}
	var ids []string
	for i, e := range v.val.Content {
		ep := fmt.Sprintf("%s[%d]", path, i)
		e = deref(e)
		if e == nil {
			p.errf(v.val, ep, "unresolvable alias")
			continue
		}
		d, ok := p.indicatorID(e, ep)
		if !ok {
			continue
		}
		if slices.Contains(ids, d.ID) {
			p.errf(e, ep, "%s is listed twice", d.ID)
			continue
		}
		if ratesOnly && !d.Rate {
			p.errf(e, ep, "%s is a count; a gauge shows a rate", d.ID)
			continue
		}
		ids = append(ids, d.ID)
	}
	return ids
}

func (p *parser) duration(n *yaml.Node, path string) (time.Duration, bool) {
	s, ok := p.str(n, path)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		p.errf(n, path, "%q is not a duration; want a form such as 8s", s)
		return 0, false
	}
	if d < minRotate {
		p.errf(n, path, "%s is too short; want at least %s", s, minRotate)
		return 0, false
	}
	return d, true
}

// rect reads [x, y, w, h] and checks it lies inside the canvas, below the
// header band.
func (p *parser) rect(n *yaml.Node, path string, s *Screen, canvasOK bool) (Rect, bool) {
	if n.Kind != yaml.SequenceNode || len(n.Content) != 4 {
		p.errf(n, path, "want [x, y, w, h]: 4 integers in design pixels")
		return Rect{}, false
	}
	var v [4]int
	for i, e := range n.Content {
		e = deref(e)
		if e == nil || e.Kind != yaml.ScalarNode || e.ShortTag() != "!!int" {
			p.errf(n, path, "want [x, y, w, h]: 4 integers in design pixels")
			return Rect{}, false
		}
		var x int64
		if err := e.Decode(&x); err != nil || x < -maxCanvas || x > maxCanvas {
			p.errf(n, path, "%s is out of range", e.Value)
			return Rect{}, false
		}
		v[i] = int(x)
	}
	r := Rect{X: v[0], Y: v[1], W: v[2], H: v[3]}
	switch {
	case r.W <= 0 || r.H <= 0:
		p.errf(n, path, "width and height must be positive, got %d×%d", r.W, r.H)
		return r, false
	case r.X < 0 || r.Y < 0:
		p.errf(n, path, "x and y must not be negative, got %d, %d", r.X, r.Y)
		return r, false
	case !canvasOK:
		return r, true
	case r.X+r.W > s.Width || r.Y+r.H > s.Height:
		p.errf(n, path, "reaches %d, %d, outside the %d×%d canvas", r.X+r.W, r.Y+r.H, s.Width, s.Height)
		return r, false
	case r.Y < s.Header:
		p.errf(n, path, "y %d is inside the %d-pixel header band kept for the title, clock and status", r.Y, s.Header)
		return r, false
	}
	return r, true
}

func (p *parser) playlist(root *yaml.Node) {
	f := p.fields(root, "", []string{"kind", "id", "title", "items"}, nil)
	pl := &Playlist{File: p.file}
	before := len(p.errs)
	if v, ok := f["id"]; ok {
		pl.ID, _ = p.id(v.val, false)
	} else {
		p.errf(root, "id", "missing; want a name of a-z, 0-9 and - (it is the playlist's URL)")
	}
	if v, ok := f["title"]; ok {
		pl.Title, _ = p.text(v.val, "title")
	} else {
		p.errf(root, "title", "missing; want {zh: ..., en: ...}")
	}
	var refs []itemRef
	v, ok := f["items"]
	switch {
	case !ok:
		p.errf(root, "items", "missing; a playlist needs at least one item")
	case v.val.Kind != yaml.SequenceNode || len(v.val.Content) == 0:
		p.errf(v.val, "items", "want a list of 1 to %d items {screen, seconds, region}", maxItems)
	case len(v.val.Content) > maxItems:
		p.errf(v.val, "items", "%d items; a playlist holds at most %d", len(v.val.Content), maxItems)
	default:
		for i, in := range v.val.Content {
			path := fmt.Sprintf("items[%d]", i)
			n := deref(in)
			if n == nil || n.Kind != yaml.MappingNode {
				p.errf(in, path, "want a mapping {screen, seconds, region}")
				continue
			}
			it := PlaylistItem{Seconds: defaultSeconds}
			ref := itemRef{file: p.file, path: path, screenLine: n.Line, regionLine: n.Line}
			g := p.fields(n, path, []string{"screen", "region", "seconds"}, nil)
			if sv, has := g["screen"]; has {
				it.Screen, _ = p.str(sv.val, join(path, "screen"))
				ref.screenLine = sv.val.Line
			} else {
				p.errf(n, join(path, "screen"), "missing; want a screen id")
			}
			if rv, has := g["region"]; has {
				it.Region, _ = p.region(rv.val, join(path, "region"))
				ref.regionLine = rv.val.Line
			}
			if sv, has := g["seconds"]; has {
				it.Seconds, _ = p.integer(sv.val, join(path, "seconds"), minSeconds, maxSeconds)
			}
			pl.Items = append(pl.Items, it)
			if it.Screen != "" {
				ref.item = it
				refs = append(refs, ref)
			}
		}
	}
	// Items are checked against the screens even when the playlist has
	// errors of its own, so that one run reports everything.
	p.l.refs = append(p.l.refs, refs...)
	if len(p.errs) == before {
		p.l.playlists = append(p.l.playlists, pl)
	}
}

// didYouMean is " (did you mean X?)" for the candidate s most likely
// misspells, or "".
func didYouMean(s string, candidates []string) string {
	if best := suggest.Closest(s, candidates); best != "" {
		return " (did you mean " + best + "?)"
	}
	return ""
}
