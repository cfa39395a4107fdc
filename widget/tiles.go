package widget

import (
	_ "embed"

	"github.com/yiping-ioc/yiping/live"
)

//go:embed tiles.js
var tilesJS string

// maxTiles bounds a tiles widget: more would be too small to read.
const maxTiles = 8

// Tiles shows one number tile per indicator, coloured by its status
// against the targets. YAML: indicators (1..8), region, period.
type Tiles struct {
	Indicators []string
}

// Keys implements Spec.
func (*Tiles) Keys() []string { return []string{"indicators", "region", "period"} }

// Parse implements Spec.
func (t *Tiles) Parse(in *Input) { t.Indicators = in.Indicators(1, maxTiles, false) }

// Shows implements Spec.
func (t *Tiles) Shows() []string { return t.Indicators }

var tilesHTML = mustTemplate("tiles", `<div class="tiles">{{range .}}<div class="tile"><div class="tile-label">{{.Label}}</div><div class="tile-value">{{template "val" .}}</div></div>{{end}}</div>`)

// tilesConfig is what tiles.js reads: the topic of each tile, in order.
type tilesConfig struct {
	Topics []string `json:"topics"`
}

// Render implements Spec.
func (t *Tiles) Render(pg *Page, b Box) (View, error) {
	var cfg tilesConfig
	tiles := make([]val, 0, len(t.Indicators))
	for _, ind := range t.Indicators {
		v := valueVal(pg.Data.Value(ind, b.Region, b.Period))
		v.Label = pg.IndicatorName(ind)
		tiles = append(tiles, v)
		cfg.Topics = append(cfg.Topics, live.IndicatorTopic(ind, b.Region, b.Period))
	}
	html, err := render(tilesHTML, tiles)
	return View{HTML: html, Config: cfg}, err
}
