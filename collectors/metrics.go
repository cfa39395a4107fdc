package collectors

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the runner's Prometheus series, all labelled by source.
type metrics struct {
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	records  *prometheus.CounterVec
	rejects  *prometheus.CounterVec
	errors   *prometheus.CounterVec
	skipped  *prometheus.CounterVec
}

const ns = "yiping_collector_"

func newMetrics(r *Runner, reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: ns + "runs_total",
			Help: "Finished runs (for push sources: requests) by result: ok, partial, error, panic.",
		}, []string{"source", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    ns + "run_duration_seconds",
			Help:    "Duration of runs (for push sources: requests).",
			Buckets: []float64{.005, .025, .1, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"source"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: ns + "records_total",
			Help: "Records accepted: journaled and filed into the engine.",
		}, []string{"source", "kind"}),
		rejects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: ns + "rejects_total",
			Help: "Rows refused, each with a reason.",
		}, []string{"source", "kind"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: ns + "partial_errors_total",
			Help: "Partial failures inside runs (a file or page that could not be read).",
		}, []string{"source"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: ns + "skipped_runs_total",
			Help: "Scheduled runs not started: the previous run still going (overlap), or backing off after failures (backoff).",
		}, []string{"source", "reason"}),
	}
	for _, s := range r.sources {
		for _, res := range []string{"ok", "partial", "error", "panic"} {
			m.runs.WithLabelValues(s.Name, res)
		}
		for _, why := range []string{"overlap", "backoff"} {
			m.skipped.WithLabelValues(s.Name, why)
		}
		m.errors.WithLabelValues(s.Name)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.runs, m.duration, m.records, m.rejects, m.errors, m.skipped, healthCollector{r}} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("collectors: metrics already registered (one runner per registry): %w", err)
			}
			return nil, fmt.Errorf("collectors: metrics: %w", err)
		}
	}
	return m, nil
}

var (
	descLag = prometheus.NewDesc(ns+"lag_seconds",
		"Seconds since the source's last successful run; absent until it first succeeds.", []string{"source"}, nil)
	descLastSuccess = prometheus.NewDesc(ns+"last_success_timestamp_seconds",
		"Unix time of the source's last successful run.", []string{"source"}, nil)
	descFailing = prometheus.NewDesc(ns+"consecutive_failures",
		"Failed runs in a row; 0 once a run succeeds.", []string{"source"}, nil)
	descRunning = prometheus.NewDesc(ns+"running",
		"1 while a run (or a pushed request) is in progress.", []string{"source"}, nil)
	descLastRun = prometheus.NewDesc(ns+"last_run_timestamp_seconds",
		"Unix time at which the source's last finished run started.", []string{"source"}, nil)
	descLastOK = prometheus.NewDesc(ns+"last_run_ok",
		"1 if the source's last finished run succeeded, 0 if it failed.", []string{"source"}, nil)
)

// healthCollector reads the gauges from Health at scrape time, so a lag
// keeps growing while a source is down even though nothing runs.
type healthCollector struct{ r *Runner }

func (c healthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descLag
	ch <- descLastSuccess
	ch <- descFailing
	ch <- descRunning
	ch <- descLastRun
	ch <- descLastOK
}

func (c healthCollector) Collect(ch chan<- prometheus.Metric) {
	for _, h := range c.r.Health() {
		if h.LagSeconds != nil {
			ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, *h.LagSeconds, h.Source)
			ch <- prometheus.MustNewConstMetric(descLastSuccess, prometheus.GaugeValue, float64(h.LastSuccess.UnixNano())/1e9, h.Source)
		}
		ch <- prometheus.MustNewConstMetric(descFailing, prometheus.GaugeValue, float64(h.ConsecutiveFailures), h.Source)
		running := 0.0
		if h.Running {
			running = 1
		}
		ch <- prometheus.MustNewConstMetric(descRunning, prometheus.GaugeValue, running, h.Source)
		if !h.LastRun.IsZero() {
			ok := 1.0
			if h.ConsecutiveFailures > 0 {
				ok = 0
			}
			ch <- prometheus.MustNewConstMetric(descLastRun, prometheus.GaugeValue, float64(h.LastRun.UnixNano())/1e9, h.Source)
			ch <- prometheus.MustNewConstMetric(descLastOK, prometheus.GaugeValue, ok, h.Source)
		}
	}
}
