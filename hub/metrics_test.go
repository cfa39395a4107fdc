package hub

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/yiping-ioc/yiping/internal/testkit"
)

// metricValue is the value of the gauge or counter name (one series) in reg.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		if len(mf.GetMetric()) != 1 {
			t.Fatalf("%s: %d series", name, len(mf.GetMetric()))
		}
		if g := mf.GetMetric()[0].GetGauge(); g != nil {
			return g.GetValue()
		}
		return mf.GetMetric()[0].GetCounter().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// histogramCount is the number of observations of a histogram in reg.
func histogramCount(t *testing.T, reg *prometheus.Registry, name string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestMetricsTraffic(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, srv := startHub(t, Config{Registerer: reg})
	const a = "ind:x:1:day"
	c1 := dial(t, srv)
	c1.Subscribe(nil, a)
	c1.Until("subscribed") // snapshot + reply

	for i := 1; i <= 3; i++ {
		publish(t, h, a, `"v"`)
	}
	h.Flush()
	c1.Expect(a, h.base+1, false, `"v"`)
	publish(t, h, a, `"w"`)
	h.Flush()
	c1.Expect(a, h.base+2, false, `"w"`)

	c2 := dial(t, srv)
	c2.Subscribe(map[string]uint64{a: h.base + 1}) // replays 1
	if got := c2.Until("subscribed"); len(got) != 1 {
		t.Fatalf("replay: %v", got)
	}
	c3 := dial(t, srv)
	c3.Subscribe(map[string]uint64{a: 12345}) // snapshot
	c3.Until("subscribed")
	c3.Send(map[string]any{"op": "unsubscribe", "topics": []string{a}})
	c3.Until("unsubscribed")

	m := func(name string) float64 { return metricValue(t, reg, name) }
	for _, tc := range []struct {
		name string
		want float64
	}{
		{"yiping_hub_clients", 3},
		{"yiping_hub_subscriptions", 2},
		{"yiping_hub_publishes_total", 4},
		{"yiping_hub_coalesced_total", 2},
	} {
		if got := m(tc.name); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
	for outcome, want := range map[string]float64{"replay": 1, "snapshot": 1} {
		if got := testutil.ToFloat64(h.met.resumes.WithLabelValues(outcome)); got != want {
			t.Errorf("resumes{%s} = %v, want %v", outcome, got, want)
		}
	}
	// Counted after the write returns, which can be after the client read
	// it. c1: snapshot, reply, 2 messages; c2: replay, reply; c3:
	// snapshot, 2 replies.
	testkit.WaitFor(t, "9 messages sent", func() bool { return m("yiping_hub_messages_sent_total") == 9 })
	// Two topic messages written to c1; snapshots and replays are not
	// observed (they carry no fresh publish).
	testkit.WaitFor(t, "2 latency observations", func() bool { return histogramCount(t, reg, "yiping_hub_publish_to_write_seconds") == 2 })
	c1.Conn.Close()
	testkit.WaitFor(t, "c1 to leave", func() bool { return m("yiping_hub_clients") == 2 && m("yiping_hub_subscriptions") == 1 })
}

// TestMetricsDrops: each way of losing a client counts under its reason.
func TestMetricsDrops(t *testing.T) {
	for _, tc := range []struct {
		reason string
		cfg    Config
		run    func(t *testing.T, h *Hub, c *testClient)
	}{
		{"protocol", Config{MaxMessageBytes: 100}, func(t *testing.T, h *Hub, c *testClient) {
			c.Send(map[string]any{"op": "subscribe", "topics": []string{strings.Repeat("x", 200)}})
		}},
		{"ping_timeout", Config{PingEvery: 50 * time.Millisecond}, func(t *testing.T, h *Hub, c *testClient) {
			// c never reads: it answers no ping
		}},
		{"slow", Config{QueueLen: 2}, func(t *testing.T, h *Hub, c *testClient) {
			big := `"` + strings.Repeat("x", 256<<10) + `"`
			for i := 0; i < 200 && h.Stats().Dropped == 0; i++ {
				publish(t, h, "a", big)
				h.Flush()
			}
		}},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			tc.cfg.Registerer = reg
			h, srv := startHub(t, tc.cfg)
			c := dial(t, srv)
			c.Subscribe(nil, "a")
			c.Until("subscribed")
			tc.run(t, h, c)
			testkit.WaitFor(t, "the client to be dropped", func() bool { return h.Stats().Clients == 0 })
			for _, r := range dropReasons {
				want := 0.0
				if r == tc.reason {
					want = 1
				}
				if got := testutil.ToFloat64(h.met.dropped.WithLabelValues(r)); got != want {
					t.Errorf("dropped{%s} = %v, want %v", r, got, want)
				}
			}
		})
	}
}

// TestMetricsOff: without a Registerer the hub keeps no metrics; two hubs
// on one registry do not panic, the second says why it has none.
func TestMetricsOff(t *testing.T) {
	h := New(Config{Coalesce: -1})
	defer h.Close()
	if h.met != nil {
		t.Error("metrics without a Registerer")
	}
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	h1 := New(Config{Coalesce: -1, Registerer: reg})
	defer h1.Close()
	h2 := New(Config{Coalesce: -1, Registerer: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	defer h2.Close()
	if !strings.Contains(logs.String(), "register metrics") {
		t.Errorf("second hub on one registry logged %q", logs.String())
	}
	if err := h1.Publish("a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if got := metricValue(t, reg, "yiping_hub_publishes_total"); got != 1 {
		t.Errorf("publishes_total = %v, want 1 (the first hub's)", got)
	}
}
