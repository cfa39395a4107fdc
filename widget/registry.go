package widget

// Kind registers a widget type.
type Kind struct {
	// Name is the type's name in a screen file (type: tiles).
	Name string
	// New returns zero settings of the type, to parse into.
	New func() Spec
	// Script is the type's JavaScript (its .js file beside the .go file),
	// which registers its painter with Wall.kind(Name, ...).
	Script string
}

// Kinds returns every widget type, in the order messages list them.
// Adding a type is one line here.
func Kinds() []Kind {
	return []Kind{
		{Name: "tiles", New: func() Spec { return new(Tiles) }, Script: tilesJS},
		{Name: "map", New: func() Spec { return new(Map) }, Script: mapJS},
		{Name: "ranking", New: func() Spec { return new(Ranking) }, Script: rankingJS},
		{Name: "bar", New: func() Spec { return new(Bar) }, Script: barJS},
		{Name: "gauge", New: func() Spec { return new(Gauge) }, Script: gaugeJS},
		{Name: "ticker", New: func() Spec { return new(Ticker) }, Script: tickerJS},
		{Name: "health", New: func() Spec { return new(Health) }, Script: healthJS},
		{Name: "trend", New: func() Spec { return new(Trend) }, Script: trendJS},
		{Name: "reports", New: func() Spec { return new(Reports) }, Script: reportsJS},
		{Name: "surge", New: func() Spec { return new(Surge) }, Script: surgeJS},
		{Name: "orders", New: func() Spec { return new(Orders) }, Script: ordersJS},
	}
}

// Lookup returns the type named name.
func Lookup(name string) (Kind, bool) {
	for _, k := range Kinds() {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}
