package bulletin

import (
	"os"
	"strings"
	"testing"
)

func TestSampleFile(t *testing.T) {
	data, err := os.ReadFile("sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("sample.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Bulletins) != 4 {
		t.Fatalf("%d bulletins", len(c.Bulletins))
	}
	m, _ := c.Lookup("gansu-monthly")
	if m.Type != Monthly || m.Workday != 3 || m.At() != "09:00" || m.Title != "甘肃省政务服务数据月报" || len(m.Indicators) != len(DefaultIndicators()) {
		t.Errorf("%+v", m)
	}
	cm, _ := c.Lookup("city-monthly")
	if cm.Before != 20 || cm.Bottom != 2 || len(cm.Regions) != 2 {
		t.Errorf("%+v", cm)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"bulletins:\n  - name: a\n    type: montly\n", `t.yaml:3: bulletins[0].type: "montly" (did you mean monthly?)`},
		{"bulletins:\n  - name: a\n    type: monthly\n    regions: [\"620000\"]\n    at: \"09:00\"\n    workdy: 3\n", `t.yaml:6: bulletins[0].workdy: unknown key (did you mean workday?)`},
		{"bulletins:\n  - name: a\n    type: monthly\n    regions: [\"620000\"]\n    at: \"09:00\"\n", `t.yaml:2: bulletins[0].workday: missing`},
		{"bulletins:\n  - name: a\n    type: monthly\n    regions: [\"620000\"]\n    at: \"09:00\"\n    workday: 3\n    before: 20\n", `t.yaml:7: bulletins[0].before: set either workday or before`},
		{"bulletins:\n  - name: a\n    type: weekly\n    regions: [\"620000\"]\n    at: \"9:00\"\n", `t.yaml:5: bulletins[0].at: "9:00": want a time of day HH:MM`},
		{"bulletins:\n  - name: a\n    type: weekly\n    regions: [\"620000\"]\n    at: \"09:00\"\n    before: 20\n", `t.yaml:6: bulletins[0].before: not a key of a weekly bulletin`},
		{"bulletins:\n  - name: a\n    type: daily\n    regions: [\"620000\"]\n    cron: \"61 8 * * *\"\n", `t.yaml:5: bulletins[0].cron: "61 8 * * *"`},
		{"bulletins:\n  - name: a\n    type: daily\n    regions: [\"620000\"]\n    cron: \"CRON_TZ=UTC 0 8 * * *\"\n", `a time zone prefix is not allowed`},
		{"bulletins:\n  - name: a\n    type: daily\n    regions: [\"62000\"]\n    at: \"08:00\"\n", `t.yaml:4: bulletins[0].regions[0]: "62000" is not a region code`},
		{"bulletins:\n  - name: a\n    type: daily\n    regions: [\"620000\"]\n    at: \"08:00\"\n    indicators: [on_time_rat]\n", `t.yaml:6: bulletins[0].indicators[0]: unknown indicator "on_time_rat" (did you mean on_time_rate?)`},
		{"bulletins:\n  - {name: a, type: daily, regions: [\"620000\"], at: \"08:00\"}\n  - {name: a, type: daily, regions: [\"620000\"], at: \"08:00\"}\n", `t.yaml:3: bulletins[1].name: duplicate bulletin name "a" (first on line 2)`},
		{"bulletin: []\n", `t.yaml:1: bulletin: unknown key (did you mean bulletins?)`},
	}
	for _, c := range cases {
		_, err := Parse("t.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %s", c.yaml, err, c.want)
		}
	}
	if c, err := Parse("t.yaml", []byte("# nothing\n")); err != nil || len(c.Bulletins) != 0 {
		t.Errorf("empty file: %v %v", c, err)
	}
}

// TestUnknownReceivers: receivers are names checked against the rules
// file's, each unknown one with its file, line and a did-you-mean.
func TestUnknownReceivers(t *testing.T) {
	c, err := Parse("t.yaml", []byte("bulletins:\n  - name: a\n    type: daily\n    regions: [\"620000\"]\n    at: \"08:00\"\n    receivers:\n      - ops-webhook\n      - provnce-duty\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Bulletins[0].Receivers; len(got) != 2 || got[0] != "ops-webhook" {
		t.Fatalf("receivers %v", got)
	}
	if err := c.UnknownReceivers([]string{"ops-webhook", "provnce-duty"}); err != nil {
		t.Error(err)
	}
	err = c.UnknownReceivers([]string{"ops-webhook", "province-duty"})
	if want := `t.yaml:8: bulletins[0].receivers[1]: unknown receiver "provnce-duty" (did you mean province-duty?)`; err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if _, err := Parse("t.yaml", []byte("bulletins:\n  - {name: a, type: daily, regions: [\"620000\"], at: \"08:00\", receivers: [x, x]}\n")); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("duplicate receiver: %v", err)
	}
}
