package wall

import (
	"context"
	"time"

	"github.com/yiping-ioc/yiping/numtext"

	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/indicator"
	"github.com/yiping-ioc/yiping/live"
	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/scoring"
	"github.com/yiping-ioc/yiping/store"
	"github.com/yiping-ioc/yiping/widget"
)

// pageData is the widget.Data of one page: the engine's results of each
// period a widget asks for, read once, when first asked (whatever period
// a widget needs, a trend's today say, is there), presented by the same
// Presenter as the live payloads. The first error reading the engine is
// kept in err and fails the page.
type pageData struct {
	w       *Wall
	ctx     context.Context
	at      live.Stamp
	periods map[string]*periodData
	err     error
}

// periodData is one period's results.
type periodData struct {
	by     map[[2]string]engine.Result // indicator, region → result
	inputs map[string][]scoring.Input  // region → the composite's inputs
}

func (w *Wall) data(ctx context.Context) *pageData {
	return &pageData{w: w, ctx: ctx, at: w.cfg.Presenter.Stamp(w.cfg.Live.Now()), periods: map[string]*periodData{}}
}

// period returns a period's results, reading them on first use.
func (d *pageData) period(p string) *periodData {
	if pd, ok := d.periods[p]; ok {
		return pd
	}
	pd := &periodData{by: map[[2]string]engine.Result{}, inputs: map[string][]scoring.Input{}}
	d.periods[p] = pd
	ep, err := engine.ParsePeriod(p)
	if err != nil {
		d.fail(err)
		return pd
	}
	rs, err := d.w.cfg.Live.Results(ep, false)
	if err != nil {
		d.fail(err)
		return pd
	}
	for _, r := range rs {
		if r.Dept != "" {
			continue
		}
		pd.by[[2]string{r.Indicator, r.Region}] = r
		pd.inputs[r.Region] = append(pd.inputs[r.Region], scoring.Input{Indicator: r.Indicator, Numerator: r.Numerator, Denominator: r.Denominator, Rate: r.Rate})
	}
	return pd
}

func (d *pageData) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// Value implements widget.Data.
func (d *pageData) Value(ind, reg, period string) live.Value {
	pres := d.w.cfg.Presenter
	if r, ok := d.period(period).by[[2]string{ind, reg}]; ok {
		return pres.Value(r, period, d.at)
	}
	return pres.Empty(ind, reg, period, d.at)
}

// Ranking implements widget.Data.
func (d *pageData) Ranking(ind, parent, period string) live.Ranking {
	pres := d.w.cfg.Presenter
	pd := d.period(period)
	kids := pres.Regions().Children(region.Code(parent))
	if ind == live.Composite {
		scores := make(map[string]live.Score, len(kids))
		for _, k := range kids {
			scores[string(k)] = pres.Score(string(k), period, pd.inputs[string(k)], d.at)
		}
		return pres.RankScores(parent, period, scores, d.at)
	}
	results := make(map[string]engine.Result, len(kids))
	for _, k := range kids {
		if r, ok := pd.by[[2]string{ind, string(k)}]; ok {
			results[string(k)] = r
		}
	}
	return pres.Rank(ind, parent, period, results, d.at)
}

// Series implements widget.Data: the last days of the indicator's daily
// series in the store, up to today.
func (d *pageData) Series(ind, reg string, days int) widget.Series {
	loc := d.w.cfg.Presenter.Location()
	now := time.Unix(0, d.w.cfg.Live.Now()).In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	from := today.AddDate(0, 0, -(days - 1))
	s := widget.Series{Dates: make([]string, days), Points: make([]*float64, days)}
	idx := make(map[string]int, days)
	for i := range s.Dates {
		s.Dates[i] = from.AddDate(0, 0, i).Format("2006-01-02")
		idx[s.Dates[i]] = i
	}
	if d.w.cfg.History == nil {
		return s
	}
	def, _ := indicator.Lookup(ind)
	ps, err := d.w.cfg.History.Series(d.ctx, store.SeriesKey{Indicator: ind, Region: reg, Dept: store.AllDepts, Period: "day"}, from, now, store.RollupDay)
	if err != nil {
		// A screen without its history still shows today: worth a log
		// line, not an error page.
		d.w.cfg.Logger.Warn("trend history", "indicator", ind, "region", reg, "err", err)
		return s
	}
	for _, p := range ps {
		i, ok := idx[p.Time.In(loc).Format("2006-01-02")]
		if !ok {
			continue
		}
		switch {
		case !def.Rate:
			x := numtext.Display(false, p.Numerator)
			s.Points[i] = &x
		case p.Denominator > 0:
			x := numtext.Display(true, p.Numerator/float64(p.Denominator))
			s.Points[i] = &x
		}
	}
	return s
}

// Sources implements widget.Data.
func (d *pageData) Sources() []string { return d.w.cfg.Sources() }

// Reports implements widget.Data.
func (d *pageData) Reports(reg string) widget.ReportBoard {
	if d.w.cfg.Reports != nil {
		return d.w.cfg.Reports(reg)
	}
	return widget.ReportBoard{Region: reg, RegionName: d.regionName(reg), Reports: []widget.ReportItem{}}
}

// Surges implements widget.Data.
func (d *pageData) Surges(reg string) live.SurgeBoard {
	if d.w.cfg.Surges != nil {
		return d.w.cfg.Surges(reg)
	}
	return live.SurgeBoard{Region: reg, RegionName: d.regionName(reg), Rows: []live.SurgeRow{}}
}

// Orders implements widget.Data.
func (d *pageData) Orders(reg string) widget.OrderBoard {
	if d.w.cfg.Orders != nil {
		return d.w.cfg.Orders(reg)
	}
	return widget.OrderBoard{Region: reg, RegionName: d.regionName(reg), Orders: []widget.OrderItem{}}
}

// regionName names a region, its code when the table has no such region.
func (d *pageData) regionName(reg string) string {
	name, ok := d.w.cfg.Presenter.Regions().Name(region.Code(reg))
	if !ok {
		return reg
	}
	return name
}
