package calendar

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func dates(t testing.TB, ss ...string) []Date {
	t.Helper()
	var out []Date
	for _, s := range ss {
		out = append(out, mustDate(t, s))
	}
	return out
}

func checkRules(t *testing.T, got Rules, holidays, workdays []Date) {
	t.Helper()
	if !slices.Equal(got.Holidays, holidays) {
		t.Errorf("holidays = %v, want %v", got.Holidays, holidays)
	}
	if !slices.Equal(got.Workdays, workdays) {
		t.Errorf("workdays = %v, want %v", got.Workdays, workdays)
	}
}

// The package's own ICS feed (2024–2026) must say what cn.json says.
func TestChineseDaysICSMatchesJSON(t *testing.T) {
	r, err := LoadFile("testdata/chinese-days.ics")
	if err != nil {
		t.Fatal(err)
	}
	if r.Source != "testdata/chinese-days.ics" {
		t.Errorf("Source = %q", r.Source)
	}
	from := DateOf(2024, 1, 1)
	keep := func(ds []Date) []Date {
		return slices.DeleteFunc(slices.Clone(ds), func(d Date) bool { return d < from })
	}
	def := defaultRules()
	checkRules(t, r, keep(def.Holidays), keep(def.Workdays))
	if len(r.Holidays) != 89 || len(r.Workdays) != 19 {
		t.Errorf("ICS 2024–2026: %d holidays, %d workdays", len(r.Holidays), len(r.Workdays))
	}
}

const icsHeader = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"

func TestParseICS(t *testing.T) {
	ics := icsHeader +
		"BEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0800\r\nTZOFFSETTO:+0800\r\nDTSTART:19700101T000000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n" +
		// A three-day holiday, DTEND exclusive.
		"BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20270101\r\nDTEND;VALUE=DATE:20270104\r\nSUMMARY:元旦(休)\r\nEND:VEVENT\r\n" +
		// 调休上班 contains 休 but is a workday; a folded SUMMARY line.
		"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270206\r\nSUMMARY:春节调休\r\n 上班\r\nEND:VEVENT\r\n" +
		// English, any case, DURATION in days, and a VALARM whose SUMMARY must not count.
		"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270501\r\nDURATION:P2D\r\nSUMMARY:Labour Day HOLIDAY\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nSUMMARY:上班 reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270508\r\nSUMMARY:Make-up Workday\r\nEND:VEVENT\r\n" +
		// A bare 8-digit DTSTART without VALUE=DATE, LF line ending.
		"BEGIN:VEVENT\nDTSTART:20271001\nDTEND:20271002\nSUMMARY:国庆节假期\nEND:VEVENT\n" +
		// Ignored: unknown summaries and timed events.
		"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270301\r\nSUMMARY:植树节\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nDTSTART;TZID=Asia/Shanghai:20270302T090000\r\nDTEND;TZID=Asia/Shanghai:20270302T100000\r\nSUMMARY:假期安排会议\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nDTSTART:20270303T010000Z\r\nSUMMARY:Holiday party\r\nEND:VEVENT\r\n" +
		// A VEVENT nested in a VEVENT is not the calendar's own event.
		"BEGIN:VEVENT\r\nSUMMARY:休\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\nDTSTART;VALUE=DATE:20271102\r\nEND:VEVENT\r\n" +
		// A quoted parameter containing a colon; the summary is escaped.
		"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE;X-NOTE=\"a:b\":20271009\r\nSUMMARY:国庆节\\, 班\r\nEND:VEVENT\r\n" +
		"END:VCALENDAR\r\n"
	r, err := ParseICS(strings.NewReader("\uFEFF" + ics))
	if err != nil {
		t.Fatal(err)
	}
	checkRules(t, r,
		dates(t, "2027-01-01", "2027-01-02", "2027-01-03", "2027-05-01", "2027-05-02", "2027-10-01", "2027-11-02"),
		dates(t, "2027-02-06", "2027-05-08", "2027-10-09"))
}

func TestParseICSErrors(t *testing.T) {
	ev := func(body string) string {
		return icsHeader + "BEGIN:VEVENT\r\n" + body + "END:VEVENT\r\nEND:VCALENDAR\r\n"
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "no BEGIN:VCALENDAR"},
		{"not ICS", "{\"holidays\": []}\n", `line 1: bad property name "{\"holidays\""`},
		{"CSV", "date,type\n", "line 1: want NAME:VALUE"},
		{"no calendar first", "VERSION:2.0\r\n", "line 1: want BEGIN:VCALENDAR first"},
		{"unclosed calendar", icsHeader, "line 1: BEGIN:VCALENDAR is never closed"},
		{"unclosed event", icsHeader + "BEGIN:VEVENT\r\nSUMMARY:休\r\n", "line 4: BEGIN:VEVENT is never closed"},
		{"mismatched END", icsHeader + "BEGIN:VEVENT\r\nEND:VTODO\r\n", "line 5: END:VTODO, but BEGIN:VEVENT at line 4 is open"},
		{"content after END:VCALENDAR", icsHeader + "END:VCALENDAR\r\nBEGIN:VEVENT\r\n", "line 5: BEGIN after END:VCALENDAR"},
		{"line without colon", ev("SUMMARY 休\r\n"), "line 5: want NAME:VALUE"},
		{"continuation first", " BEGIN:VCALENDAR\r\n", "line 1: continuation line"},
		{"no DTSTART", ev("SUMMARY:元旦(休)\r\n"), "line 4: event \"元旦(休)\" has no DTSTART"},
		{"bad date", ev("DTSTART;VALUE=DATE:20271301\r\nSUMMARY:休\r\n"), `line 5: DTSTART: date "2027-13-01": no such day`},
		{"dashed date", ev("DTSTART;VALUE=DATE:2027-01-01\r\nSUMMARY:休\r\n"), `line 5: DTSTART "2027-01-01": want a date YYYYMMDD`},
		{"date-time with VALUE=DATE", ev("DTSTART;VALUE=DATE:20270101T000000\r\nSUMMARY:休\r\n"), "line 5: DTSTART"},
		{"DTEND before DTSTART", ev("DTSTART;VALUE=DATE:20270105\r\nDTEND;VALUE=DATE:20270101\r\nSUMMARY:休\r\n"), "line 6: event spans -4 days"},
		{"DTEND equal", ev("DTSTART;VALUE=DATE:20270105\r\nDTEND;VALUE=DATE:20270105\r\nSUMMARY:休\r\n"), "line 6: event spans 0 days"},
		{"too long", ev("DTSTART;VALUE=DATE:20270101\r\nDTEND;VALUE=DATE:20290101\r\nSUMMARY:休\r\n"), "line 6: event spans 731 days, want 1..366"},
		{"DTEND date-time", ev("DTSTART;VALUE=DATE:20270101\r\nDTEND:20270102T000000\r\nSUMMARY:休\r\n"), "line 6: DTEND is a date-time"},
		{"bad duration", ev("DTSTART;VALUE=DATE:20270101\r\nDURATION:PT24H\r\nSUMMARY:休\r\n"), `line 6: DURATION "PT24H"`},
		{"DTEND and DURATION", ev("DTSTART;VALUE=DATE:20270101\r\nDTEND;VALUE=DATE:20270102\r\nDURATION:P1D\r\nSUMMARY:休\r\n"), "line 7: event has both DTEND and DURATION"},
		{"two DTSTART", ev("DTSTART;VALUE=DATE:20270101\r\nDTSTART;VALUE=DATE:20270102\r\nSUMMARY:休\r\n"), "line 6: second DTSTART in the event at line 4"},
		{"recurring", ev("DTSTART;VALUE=DATE:20270101\r\nRRULE:FREQ=YEARLY\r\nSUMMARY:元旦(休)\r\n"), "line 6: recurring events (RRULE) are not supported"},
		{"year out of range", ev("DTSTART;VALUE=DATE:23000101\r\nSUMMARY:休\r\n"), "line 5: date 2300-01-01: year outside 1900..2199"},
		{"conflict", icsHeader +
			"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\nDTEND;VALUE=DATE:20270103\r\nSUMMARY:休\r\nEND:VEVENT\r\n" +
			"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270102\r\nSUMMARY:班\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
			"line 10: 2027-01-02 is both a holiday (line 5) and a workday"},
	}
	for _, tt := range tests {
		_, err := ParseICS(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", tt.name, err, tt.want)
		}
	}
	// Unknown events are not checked.
	if _, err := ParseICS(strings.NewReader(ev("DTSTART;VALUE=DATE:bogus\r\nSUMMARY:生日\r\n"))); err != nil {
		t.Errorf("unknown event: %v", err)
	}
}

func TestParseJSON(t *testing.T) {
	obj := `{"source": "省政府通知", "holidays": ["2027-01-02", "2027-01-01", "2027-01-01"], "workdays": ["2027-02-06"]}`
	r, err := ParseJSON(strings.NewReader(obj))
	if err != nil {
		t.Fatal(err)
	}
	checkRules(t, r, dates(t, "2027-01-01", "2027-01-02"), dates(t, "2027-02-06"))
	if r.Source != "省政府通知" {
		t.Errorf("Source = %q", r.Source)
	}

	list := `[{"date": "2027-01-01", "type": "holiday", "name": "元旦"}, {"date": "2027-02-06", "type": "Workday"}]`
	r, err = ParseJSON(strings.NewReader(list))
	if err != nil {
		t.Fatal(err)
	}
	checkRules(t, r, dates(t, "2027-01-01"), dates(t, "2027-02-06"))

	for _, empty := range []string{`{}`, `[]`, `{"holidays": null}`, " \n{\"workdays\": []}\n"} {
		if r, err := ParseJSON(strings.NewReader(empty)); err != nil || len(r.Holidays)+len(r.Workdays) != 0 {
			t.Errorf("ParseJSON(%q) = %v, %v", empty, r, err)
		}
	}
}

func TestParseJSONErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{``, "parse JSON rules: EOF"},
		{`null`, "want an object"},
		{`"2027-01-01"`, "want an object"},
		{`{"holidays": ["2027-01-01"]} {}`, "unexpected data after the top-level value"},
		{`{"holidays": ["2027-01-01"]`, "parse JSON rules"},
		{`{"holiday": ["2027-01-01"]}`, `unknown field "holiday"`},
		{`{"holidays": "2027-01-01"}`, "cannot unmarshal"},
		{`{"holidays": ["2027-01-01", "2027-1-2"]}`, `holidays[1]: date "2027-1-2": want YYYY-MM-DD`},
		{`{"workdays": ["2027-02-30"]}`, `workdays[0]: date "2027-02-30": no such day`},
		{`{"workdays": [20270206]}`, `workdays[0]: want a "YYYY-MM-DD" string, got 20270206`},
		{`{"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}`, "workdays[0]: 2027-01-01 is both a holiday (holidays[0]) and a workday"},
		{`{"holidays": ["1899-12-31"]}`, "holidays[0]: date 1899-12-31: year outside 1900..2199"},
		{`[{"date": "2027-01-01", "type": "rest"}]`, `entry [0] ("2027-01-01"): type "rest", want "holiday" or "workday"`},
		{`[{"date": "2027-01-01", "type": "holiday"}, {"date": "2027-01-01", "kind": "holiday"}]`, `entry [1]: json: unknown field "kind"`},
		{`[{"type": "holiday"}]`, `entry [0]: date "": want YYYY-MM-DD`},
		{`[{"date": "2027-01-01", "type": "holiday"}, "2027-01-02"]`, "entry [1]: json: cannot unmarshal string"},
		{`[{"date": "2027-01-01", "type": "holiday"}, {"date": "2027-01-01", "type": "workday"}]`, `entry [1] ("2027-01-01"): 2027-01-01 is both a holiday (entry [0] ("2027-01-01")) and a workday`},
	}
	for _, tt := range tests {
		_, err := ParseJSON(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseJSON(%s) error = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "local.JSON")
	if err := os.WriteFile(jsonPath, []byte(`{"holidays": ["2027-03-08"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := LoadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if r.Source != jsonPath || !slices.Equal(r.Holidays, dates(t, "2027-03-08")) {
		t.Errorf("LoadFile = %+v", r)
	}
	c := Default(time.UTC).WithRules(r)
	if c.IsWorkday(mustDate(t, "2027-03-08")) {
		t.Error("loaded holiday not applied")
	}
	bad := filepath.Join(dir, "bad.ics")
	if err := os.WriteFile(bad, []byte(icsHeader+"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:2027\r\nSUMMARY:休\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(bad)
	if err == nil || !strings.HasPrefix(err.Error(), "calendar rules "+bad+": parse ICS rules: line 5:") {
		t.Errorf("error = %v", err)
	}
}

// checkParsed checks what New relies on: dates in MinYear..MaxYear, sorted,
// unique, never both kinds. (Calling New itself costs a millisecond, which
// makes the fuzzer's minimization crawl.)
func checkParsed(t *testing.T, r Rules) {
	seen := map[Date]bool{}
	for _, ds := range [][]Date{r.Holidays, r.Workdays} {
		if !slices.IsSorted(ds) {
			t.Fatalf("unsorted %v", ds)
		}
		for _, d := range ds {
			if y, _, _ := d.Civil(); y < MinYear || y > MaxYear {
				t.Fatalf("date %s out of range", d)
			}
			if seen[d] {
				t.Fatalf("date %s twice", d)
			}
			seen[d] = true
		}
	}
}

// The fuzz targets check that no input panics and that whatever parses is
// usable by New.
func FuzzParseICS(f *testing.F) {
	if b, err := os.ReadFile("testdata/chinese-days.ics"); err == nil {
		f.Add(string(b))
	}
	f.Add(icsHeader + "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270101\r\nDTEND;VALUE=DATE:20270104\r\nSUMMARY:元旦(休)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	f.Add(icsHeader + "BEGIN:VEVENT\r\nDTSTART:20270101\r\nDURATION:P1W\r\nSUMMARY:班\r\n x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	f.Add("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;X=\"a:b\":20270101T000000Z\nSUMMARY:holiday\\,\\n\nEND:VEVENT\nEND:VCALENDAR")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseICS(strings.NewReader(in))
		if err == nil {
			checkParsed(t, r)
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	f.Add(string(cnJSON))
	f.Add(`[{"date": "2027-01-01", "type": "holiday", "name": "元旦"}, {"date": "2027-02-06", "type": "workday"}]`)
	f.Add(`{"holidays": ["2027-01-01"], "workdays": [1]}`)
	f.Add(`[1, null, {}]`)
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseJSON(strings.NewReader(in))
		if err == nil {
			checkParsed(t, r)
		}
	})
}
