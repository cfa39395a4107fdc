package live

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/yiping-ioc/yiping/numtext"

	"github.com/yiping-ioc/yiping/region"
	"github.com/yiping-ioc/yiping/trend"
)

// SurgeBoard is the payload of a surge topic: the ticket categories
// surging now in a region and below, strongest first, each with its count
// and the baseline it is judged against (趋势感知).
type SurgeBoard struct {
	Region     string     `json:"region"`
	RegionName string     `json:"region_name"`
	Rows       []SurgeRow `json:"rows"`
	AsOf       string     `json:"as_of"`
}

// SurgeRow is one surging category in one region.
type SurgeRow struct {
	Category   string  `json:"category"`
	Region     string  `json:"region"`
	RegionName string  `json:"region_name"`
	Window     string  `json:"window"` // day (today so far) or hour (the last 60 minutes)
	Method     string  `json:"method"` // the detector that alarmed: ears_c1, ears_c2, ears_c3 or nb_cusum
	Count      int     `json:"count"`
	Expected   float64 `json:"expected"` // the baseline, one decimal
	Excess     float64 `json:"excess"`   // Count − Expected, one decimal
	Score      float64 `json:"score"`
	Since      string  `json:"since"` // RFC 3339 in the business time zone
	// The numbers as screens show them, written here so the page only
	// paints: the baseline ("9.5"), the excess with its sign ("+32.5"),
	// the time the surge began ("09:10", in the business time zone).
	ExpectedText string `json:"expected_text"`
	ExcessText   string `json:"excess_text"`
	SinceClock   string `json:"since_clock"`
	// Text says it: "供水 42 件（基线 9.5）".
	Text   string `json:"text"`
	TextEN string `json:"text_en"`
}

// SurgeRows is how many rows a board lists.
const SurgeRows = 8

// SurgeDetector is what the surge publisher reads (*trend.Counts).
type SurgeDetector interface {
	Surges(now time.Time, cfg trend.Config) []trend.Surge
}

// SurgePublisherConfig sets up a SurgePublisher. Detector, Publisher and
// Presenter are required.
type SurgePublisherConfig struct {
	Detector  SurgeDetector
	Config    trend.Config
	Publisher Publisher
	Presenter *Presenter
	// Every is how often surges are judged; default 30 s (the counts go
	// by the minute).
	Every  time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// SurgePublisher publishes every region's surge board when it changes.
type SurgePublisher struct {
	cfg  SurgePublisherConfig
	last map[string][]byte // region → last rows published
}

// NewSurgePublisher returns a surge publisher.
func NewSurgePublisher(cfg SurgePublisherConfig) *SurgePublisher {
	if cfg.Every <= 0 {
		cfg.Every = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &SurgePublisher{cfg: cfg, last: map[string][]byte{}}
}

// Board presents the surges of a region and below, for a page's first
// paint.
func (s *SurgePublisher) Board(reg string) SurgeBoard {
	now := s.cfg.Now()
	return s.board(reg, s.cfg.Detector.Surges(now, s.cfg.Config), now)
}

func (s *SurgePublisher) board(reg string, surges []trend.Surge, now time.Time) SurgeBoard {
	p := s.cfg.Presenter
	b := SurgeBoard{Region: reg, RegionName: p.name(reg), Rows: []SurgeRow{}, AsOf: now.In(p.Location()).Format(time.RFC3339)}
	for _, sg := range surges { // strongest first
		if len(b.Rows) == SurgeRows {
			break
		}
		if !under(sg.Region, reg) {
			continue
		}
		exp := math.Round(sg.Expected*10) / 10
		excess := math.Round((float64(sg.Count)-exp)*10) / 10
		since := sg.Since.In(p.Location())
		name := p.name(sg.Region)
		b.Rows = append(b.Rows, SurgeRow{
			Category: sg.Category, Region: sg.Region, RegionName: name, Window: string(sg.Window), Method: string(sg.Method),
			Count: sg.Count, Expected: exp, Excess: excess, Score: math.Round(sg.Score*100) / 100,
			Since:        since.Format(time.RFC3339),
			ExpectedText: strconv.FormatFloat(exp, 'f', -1, 64), ExcessText: numtext.SignedTrim(excess), SinceClock: since.Format("15:04"),
			Text:   fmt.Sprintf("%s %s %d 件（基线 %.1f）", name, sg.Category, sg.Count, exp),
			TextEN: fmt.Sprintf("%s %s %d tickets (baseline %.1f)", name, sg.Category, sg.Count, exp),
		})
	}
	return b
}

// under reports whether code is reg or lies below it.
func under(code, reg string) bool {
	for c := region.Code(code); ; {
		if string(c) == reg {
			return true
		}
		p, ok := c.Parent()
		if !ok {
			return false
		}
		c = p
	}
}

// Cycle judges the surges once and publishes the boards that changed: of
// every region with a surge at or below it, and of those that had one
// last time.
func (s *SurgePublisher) Cycle() error {
	now := s.cfg.Now()
	surges := s.cfg.Detector.Surges(now, s.cfg.Config)
	regions := map[string]bool{}
	for r := range s.last {
		regions[r] = true
	}
	for _, sg := range surges {
		for _, r := range ancestry(sg.Region) {
			regions[r] = true
		}
	}
	for reg := range regions {
		b := s.board(reg, surges, now)
		rows, err := json.Marshal(b.Rows)
		if err != nil {
			return err
		}
		if prev, ok := s.last[reg]; ok && bytes.Equal(prev, rows) {
			continue
		}
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		if err := s.cfg.Publisher.Publish(SurgeTopic(reg), data); err != nil {
			return err
		}
		if len(b.Rows) == 0 {
			delete(s.last, reg) // published empty once; nothing to watch
		} else {
			s.last[reg] = rows
		}
	}
	return nil
}

// Run judges every Every until ctx ends.
func (s *SurgePublisher) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Every)
	defer t.Stop()
	for {
		if err := s.Cycle(); err != nil {
			s.cfg.Logger.Error("surges", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
