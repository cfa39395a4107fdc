package hub

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the hub's Prometheus series, registered on Config.Registerer.
// Gauges and most counters read the hub's own atomic counters when scraped,
// so they cost the fan-out nothing; the histogram is observed once per
// topic message written.
type metrics struct {
	dropped *prometheus.CounterVec
	resumes *prometheus.CounterVec
	latency prometheus.Histogram
}

// Reasons a client is dropped, outcomes of a resume (label values).
var (
	dropReasons    = []string{"slow", "ping_timeout", "write_failed", "protocol"}
	resumeOutcomes = []string{"replay", "snapshot", "ahead"}
)

const metricPrefix = "yiping_hub_"

// newMetrics returns nil when reg is nil: no metrics.
func newMetrics(h *Hub, reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricPrefix + "clients_dropped_total",
			Help: "Clients disconnected by the hub, by reason: slow (queue full), ping_timeout (no pong within 2×PingEvery), write_failed (a write failed or took longer than WriteTimeout), protocol (websocket protocol error or oversized message).",
		}, []string{"reason"}),
		resumes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricPrefix + "resumes_total",
			Help: "Topics subscribed with a \"since\" seq, by outcome: replay (the missed messages, possibly none), snapshot (too many missed, or from another process) or ahead (the client saw a later message on another node: nothing is sent).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    metricPrefix + "publish_to_write_seconds",
			Help:    "From the first Publish a topic message carries (coalescing included) to its write to a client's socket, per client.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	for _, r := range dropReasons {
		m.dropped.WithLabelValues(r)
	}
	for _, o := range resumeOutcomes {
		m.resumes.WithLabelValues(o)
	}
	collectors := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: metricPrefix + "clients",
			Help: "Websocket clients connected now.",
		}, func() float64 { return float64(h.nClients.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: metricPrefix + "subscriptions",
			Help: "Subscriptions now: (client, topic) pairs.",
		}, func() float64 { return float64(h.nSubs.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: metricPrefix + "messages_sent_total",
			Help: "Messages written to clients: topic messages, snapshots, replays and replies (not pings).",
		}, func() float64 { return float64(h.sent.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: metricPrefix + "publishes_total",
			Help: "Publish calls accepted.",
		}, func() float64 { return float64(h.published.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: metricPrefix + "coalesced_total",
			Help: "Publishes that produced no message of their own: a later publish to the topic replaced them before the flush.",
		}, func() float64 { return float64(h.coalesced.Load()) }),
		m.dropped, m.resumes, m.latency,
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			h.log.Error("register metrics (one hub per registry)", "err", err)
		}
	}
	return m
}

func (m *metrics) drop(reason string) {
	if m != nil {
		m.dropped.WithLabelValues(reason).Inc()
	}
}

func (m *metrics) resume(outcome string) {
	if m != nil {
		m.resumes.WithLabelValues(outcome).Inc()
	}
}
