package report

import (
	"strings"
	"testing"
)

func TestReceiversSection(t *testing.T) {
	const rules = `receivers:
  - {name: county-robot, type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=abc", secret: SEC123}
rules:
  - name: slow
    title: 接通率低
    type: threshold
    indicator: answer_rate
    period: day
    level: county
    worse_than: floor
    receivers: {county: [county-robot], city: [county-robt]}
`
	_, err := Parse("r.yaml", []byte(rules))
	if err == nil || !strings.Contains(err.Error(), `r.yaml:11: rules[0].receivers.city: unknown receiver "county-robt" (did you mean county-robot?)`) {
		t.Fatalf("err = %v", err)
	}
	rs, err := Parse("r.yaml", []byte(strings.Replace(rules, "county-robt", "county-robot", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Receivers) != 1 || rs.Receivers[0].Name != "county-robot" || rs.Receivers[0].Type != "dingtalk" {
		t.Errorf("receivers = %+v", rs.Receivers)
	}
	if strings.Contains(rs.Receivers[0].Secret.String(), "SEC123") {
		t.Error("the robot's secret prints")
	}
}

func TestUnknownReceivers(t *testing.T) {
	rs := Default()
	if err := rs.UnknownReceivers([]string{"county-duty", "city-duty", "province-duty"}); err != nil {
		t.Errorf("the sample's receivers: %v", err)
	}
	err := rs.UnknownReceivers([]string{"county-duty", "city-dutty"})
	if err == nil || !strings.Contains(err.Error(), `receivers.city: unknown receiver "city-duty" (did you mean city-dutty?)`) || !strings.Contains(err.Error(), "province-duty") {
		t.Errorf("err = %v", err)
	}
}

func TestKeepReceivers(t *testing.T) {
	rs := Default()
	dropped := rs.KeepReceivers([]string{"city-duty"})
	if strings.Join(dropped, ",") != "county-duty,province-duty" {
		t.Errorf("dropped %v", dropped)
	}
	if err := rs.UnknownReceivers([]string{"city-duty"}); err != nil {
		t.Errorf("after KeepReceivers: %v", err)
	}
}
