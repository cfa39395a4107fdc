package live

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/calendar"
	"github.com/yiping-ioc/yiping/engine"
	"github.com/yiping-ioc/yiping/record"
	"github.com/yiping-ioc/yiping/scoring"
)

// recorder is a fake hub: the last payload of every topic.
type recorder map[string]json.RawMessage

func (r recorder) Publish(topic string, data json.RawMessage) error {
	if _, ok := Parse(topic); !ok {
		panic("publish to a topic Parse does not know: " + topic)
	}
	r[topic] = append(json.RawMessage(nil), data...) // a publisher copies
	return nil
}

func (r recorder) count(prefix string) int {
	n := 0
	for k := range r {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

func shanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func newEngine(t *testing.T, now time.Time) *engine.Engine {
	t.Helper()
	eng, err := engine.New(engine.Config{Calendar: calendar.Default(now.Location()), Now: now.UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func call(id, reg string, at time.Time, answered bool) record.Call {
	c := record.Call{ID: id, Region: reg, Offered: at.UnixNano(), Answered: answered, WaitSeconds: -1}
	if answered {
		c.WaitSeconds = 3
	}
	return c
}

func TestFeedPublishesOnlyChanges(t *testing.T) {
	loc := shanghai(t)
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	eng := newEngine(t, now)
	eng.UpsertCalls([]record.Call{call("k1", "620802", now.Add(-time.Hour), false)})
	pub := recorder{}
	f := NewFeed(FeedConfig{Engine: eng, Publisher: pub, Presenter: NewPresenter(nil, nil, loc)})
	if _, err := f.Cycle(); err != nil {
		t.Fatal(err)
	}
	// 3 call indicators × 3 regions × 5 periods.
	if n := pub.count("ind:"); n != 45 {
		t.Fatalf("first cycle published %d indicator topics, want 45", n)
	}
	var v Value
	json.Unmarshal(pub["ind:answer_rate:620800:day"], &v)
	if v.Numerator != 0 || v.Denominator == nil || *v.Denominator != 1 || v.Value == nil || *v.Value != 0 ||
		v.Text != "0.00%" || v.Status != "red" || v.Date != "2026-10-09" || v.AsOf != "2026-10-09T12:00:00+08:00" {
		t.Errorf("answer_rate day 620800 = %+v", v)
	}
	if n, _ := f.Cycle(); n != 0 {
		t.Errorf("an unchanged cycle published %d payloads", n)
	}
	eng.UpsertCalls([]record.Call{call("k2", "620802", now.Add(-time.Minute), true)})
	clear(pub)
	if _, err := f.Cycle(); err != nil {
		t.Fatal(err)
	}
	if n := pub.count("ind:"); n != 45 {
		t.Errorf("after one answered call published %d values, want 45", n)
	}
	json.Unmarshal(pub["ind:answer_rate:620000:month"], &v)
	if v.Numerator != 1 || *v.Denominator != 2 || *v.Value != 0.5 || v.Text != "50.00%" || *v.Display != 50 {
		t.Errorf("answer_rate month 620000 = %+v, want 1/2", v)
	}
	json.Unmarshal(pub["ind:call_volume:620000:month"], &v)
	if v.Denominator != nil || *v.Value != 2 || v.Text != "2" || v.Status != "" {
		t.Errorf("call_volume month 620000 = %+v", v)
	}
}

func TestFeedPublishesScoresAndRankings(t *testing.T) {
	loc := shanghai(t)
	now := time.Date(2026, 10, 9, 12, 0, 0, 0, loc)
	eng := newEngine(t, now)
	// Two counties of 平凉 (620800): 崆峒区 answers every call, 泾川县 one
	// of two.
	eng.UpsertCalls([]record.Call{
		call("a1", "620802", now.Add(-time.Hour), true),
		call("b1", "620821", now.Add(-time.Hour), true),
		call("b2", "620821", now.Add(-time.Hour), false),
	})
	pub := recorder{}
	targets := scoring.Default()
	f := NewFeed(FeedConfig{Engine: eng, Publisher: pub, Presenter: NewPresenter(targets, nil, loc)})
	if _, err := f.Cycle(); err != nil {
		t.Fatal(err)
	}
	var s Score
	if err := json.Unmarshal(pub["score:620802:month"], &s); err != nil {
		t.Fatalf("score topic: %v (%s)", err, pub["score:620802:month"])
	}
	rs, _ := eng.Results(engine.Month, false)
	var in []scoring.Input
	for _, r := range rs {
		if r.Region == "620802" {
			in = append(in, scoring.Input{Indicator: r.Indicator, Numerator: r.Numerator, Denominator: r.Denominator, Rate: r.Rate})
		}
	}
	want := targets.Composite("county", in)
	if want.Score == nil || s.Score == nil || *s.Score != *want.Score || s.Tier != want.Tier || s.Tier == "" || s.Status != "green" {
		t.Errorf("score = %+v, want %v %s green", s, want.Score, want.Tier)
	}

	var rk Ranking
	if err := json.Unmarshal(pub["rank:answer_rate:620800:month"], &rk); err != nil {
		t.Fatalf("ranking topic: %v", err)
	}
	// Every county of 平凉 is listed; the two with calls first, in order,
	// the others without a value or a rank.
	if len(rk.Rows) < 7 || rk.Rows[0].Region != "620802" || rk.Rows[0].Rank != 1 || rk.Rows[0].Bar != 100 ||
		rk.Rows[1].Region != "620821" || rk.Rows[1].Rank != 2 || rk.Rows[1].Text != "50.00%" || rk.Rows[1].Bar != 50 ||
		rk.Rows[2].Rank != 0 || rk.Rows[2].Value != nil || rk.Rows[2].Text != "—" {
		t.Errorf("ranking = %+v", rk.Rows[:3])
	}
	if rk.Rows[0].Name != "崆峒区" || rk.Rows[1].Status != "red" {
		t.Errorf("ranking rows named/judged wrong: %+v", rk.Rows[:2])
	}
	var cr Ranking
	json.Unmarshal(pub["rank:composite:620800:month"], &cr)
	if len(cr.Rows) < 2 || cr.Rows[0].Region != "620802" || cr.Rows[0].Rank != 1 || cr.Rows[1].Region != "620821" {
		t.Errorf("composite ranking = %+v", cr.Rows[:2])
	}

	clear(pub)
	if n, _ := f.Cycle(); n != 0 || len(pub) != 0 {
		t.Errorf("unchanged cycle published %d", n)
	}
	// 泾川县 answers two more: it overtakes nothing but its value, score
	// and the rankings of 平凉 change; 兰州's rankings do not.
	eng.UpsertCalls([]record.Call{call("b3", "620821", now.Add(-time.Minute), true), call("b4", "620821", now.Add(-time.Minute), true)})
	f.Cycle()
	if _, ok := pub["rank:answer_rate:620800:month"]; !ok {
		t.Error("the ranking of 平凉's counties was not republished")
	}
	if _, ok := pub["rank:answer_rate:620100:month"]; ok {
		t.Error("the ranking of 兰州's counties was republished though none changed")
	}
	var s2 Score
	json.Unmarshal(pub["score:620821:month"], &s2)
	if s2.Score == nil {
		t.Fatal("泾川县's score was not republished")
	}
}

func TestTierStatusFollowsTheConfiguredTiers(t *testing.T) {
	def := NewPresenter(scoring.Default(), nil, time.UTC)
	strict, err := scoring.Load("testdata/strict.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cus := NewPresenter(strict, nil, time.UTC)
	for _, tc := range []struct {
		score        float64
		dflt, custom string
	}{
		{100, "green", "green"},
		{92, "green", "amber"}, // 第一等次 by default; second of the custom tiers
		{80, "amber", "amber"},
		{65, "amber", "red"},
		{10, "red", "red"},
	} {
		if got := def.TierStatus(tc.score); got != tc.dflt {
			t.Errorf("default TierStatus(%v) = %q, want %q", tc.score, got, tc.dflt)
		}
		if got := cus.TierStatus(tc.score); got != tc.custom {
			t.Errorf("custom TierStatus(%v) = %q, want %q", tc.score, got, tc.custom)
		}
	}
	// A value green at the default target is amber at the custom one.
	r := engine.Result{Indicator: "answer_rate", Region: "620802", Numerator: 98, Denominator: 100, Rate: true}
	at := Stamp{}
	if got := def.Value(r, "month", at).Status; got != "green" {
		t.Errorf("default status of 98%% = %q", got)
	}
	if got := cus.Value(r, "month", at).Status; got != "amber" {
		t.Errorf("custom status of 98%% = %q", got)
	}
}

func TestTopics(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Topic
		ok   bool
	}{
		{IndicatorTopic("on_time_rate", "620800", "month"), Topic{Kind: KindIndicator, Indicator: "on_time_rate", Region: "620800", Period: "month"}, true},
		{IndicatorTopic(Composite, "620800", "day"), Topic{Kind: KindScore, Region: "620800", Period: "day"}, true},
		{RankingTopic("answer_rate", "620000", "week"), Topic{Kind: KindRanking, Indicator: "answer_rate", Region: "620000", Period: "week"}, true},
		{TickerTopic("620100"), Topic{Kind: KindTicker, Region: "620100"}, true},
		{HealthTopic("demo-cases"), Topic{Kind: KindHealth, Source: "demo-cases"}, true},
		{ClockTopic, Topic{Kind: KindClock}, true},
		{ReportTopic("620802"), Topic{Kind: KindReport, Region: "620802"}, true},
		{SurgeTopic("620000"), Topic{Kind: KindSurge, Region: "620000"}, true},
		{"ind:x:620000", Topic{}, false},
		{"ind:x::month", Topic{}, false},
		{"ticker:tickets:x", Topic{}, false},
		{"sys:other", Topic{}, false},
		{"", Topic{}, false},
	} {
		got, ok := Parse(tc.name)
		if ok != tc.ok || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("ind:on_time_rate:620800:month")
	f.Add("rank:composite:620000:day")
	f.Fuzz(func(t *testing.T, s string) {
		tp, ok := Parse(s)
		if !ok {
			return
		}
		// What parses rebuilds to itself.
		var back string
		switch tp.Kind {
		case KindIndicator:
			back = IndicatorTopic(tp.Indicator, tp.Region, tp.Period)
		case KindScore:
			back = ScoreTopic(tp.Region, tp.Period)
		case KindRanking:
			back = RankingTopic(tp.Indicator, tp.Region, tp.Period)
		case KindTicker:
			back = TickerTopic(tp.Region)
		case KindHealth:
			back = HealthTopic(tp.Source)
		case KindClock:
			back = ClockTopic
		case KindReport:
			back = ReportTopic(tp.Region)
		case KindSurge:
			back = SurgeTopic(tp.Region)
		}
		if back != s {
			t.Errorf("Parse(%q) rebuilds to %q", s, back)
		}
	})
}
