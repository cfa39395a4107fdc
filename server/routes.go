package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/yiping-ioc/yiping/engine"
)

func (s *Server) routes() {
	s.app.Get("/api/indicators", s.handleIndicators)
	s.app.Get("/screens/ranking", s.handleRanking)
}

type resultJSON struct {
	Indicator   string   `json:"indicator"`
	Region      string   `json:"region"`
	Dept        string   `json:"dept"`
	Numerator   int64    `json:"numerator"`
	Denominator *int64   `json:"denominator"`
	Value       *float64 `json:"value"`
}

// handleIndicators returns the live value of every indicator for one
// period, optionally filtered to one indicator and one region.
func (s *Server) handleIndicators(c *fiber.Ctx) error {
	p, err := engine.ParsePeriod(c.Query("period", "month"))
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	byDept := c.Query("by") == "dept"
	rs, err := s.ind.Results(p, byDept)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	ind, reg := c.Query("indicator"), c.Query("region")
	out := make([]resultJSON, 0, len(rs))
	for _, r := range rs {
		if (ind != "" && r.Indicator != ind) || (reg != "" && r.Region != reg) {
			continue
		}
		j := resultJSON{Indicator: r.Indicator, Region: r.Region, Dept: r.Dept, Numerator: r.Numerator}
		if r.Rate {
			d := r.Denominator
			j.Denominator = &d
		}
		if v, ok := r.Value(); ok {
			j.Value = &v
		}
		out = append(out, j)
	}
	return c.JSON(fiber.Map{
		"as_of":   time.Unix(0, s.ind.Now()).Format(time.RFC3339),
		"period":  p.String(),
		"results": out,
	})
}
