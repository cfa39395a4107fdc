package calendar

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// LoadFile reads rules from an iCalendar (.ics) or JSON (.json) file, by
// its extension. Source is set to the path unless a JSON file names its
// own source. Errors are wrapped with the path.
func LoadFile(path string) (Rules, error) {
	var parse func(io.Reader) (Rules, error)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ics":
		parse = ParseICS
	case ".json":
		parse = ParseJSON
	default:
		return Rules{}, fmt.Errorf("calendar rules %s: unknown extension, want .ics or .json", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return Rules{}, fmt.Errorf("calendar rules: %w", err)
	}
	defer f.Close()
	r, err := parse(bufio.NewReader(f))
	if err != nil {
		return Rules{}, fmt.Errorf("calendar rules %s: %w", path, err)
	}
	if r.Source == "" {
		r.Source = path
	}
	return r, nil
}

// ruleSet collects rule dates and refuses a date that is both a holiday
// and a workday: in one file that is a mistake to report, not to resolve.
type ruleSet struct {
	rules Rules
	seen  map[Date]ruleSeen
}

type ruleSeen struct {
	workday bool
	where   string
}

func (s *ruleSet) add(d Date, workday bool, where string) error {
	if y, _, _ := d.Civil(); y < MinYear || y > MaxYear {
		return fmt.Errorf("%s: date %s: year outside %d..%d", where, d, MinYear, MaxYear)
	}
	if prev, ok := s.seen[d]; ok {
		if prev.workday != workday {
			return fmt.Errorf("%s: %s is both a %s (%s) and a %s", where, d, kindName(prev.workday), prev.where, kindName(workday))
		}
		return nil
	}
	if s.seen == nil {
		s.seen = make(map[Date]ruleSeen)
	}
	s.seen[d] = ruleSeen{workday, where}
	if workday {
		s.rules.Workdays = append(s.rules.Workdays, d)
	} else {
		s.rules.Holidays = append(s.rules.Holidays, d)
	}
	return nil
}

func (s *ruleSet) done() Rules {
	slices.Sort(s.rules.Holidays)
	slices.Sort(s.rules.Workdays)
	return s.rules
}

func kindName(workday bool) string {
	if workday {
		return "workday"
	}
	return "holiday"
}

// ParseJSON reads rules as JSON, in either of two forms:
//
//	{"source": "...", "holidays": ["2027-01-01", ...], "workdays": ["2027-02-06", ...]}
//	[{"date": "2027-01-01", "type": "holiday", "name": "元旦"}, {"date": "2027-02-06", "type": "workday"}]
//
// "source" and "name" are optional. Unknown fields, malformed dates, years
// outside MinYear..MaxYear and a date given as both kinds are errors that
// name the entry.
func ParseJSON(r io.Reader) (Rules, error) {
	rules, err := parseJSON(r)
	if err != nil {
		return Rules{}, fmt.Errorf("parse JSON rules: %w", err)
	}
	return rules, nil
}

func parseJSON(r io.Reader) (Rules, error) {
	dec := json.NewDecoder(r)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return Rules{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return Rules{}, errors.New("unexpected data after the top-level value")
	}
	switch raw[0] {
	case '{':
		return parseJSONObject(raw)
	case '[':
		return parseJSONList(raw)
	}
	return Rules{}, errors.New(`want an object {"holidays": [...], "workdays": [...]} or a list [{"date": ..., "type": ...}]`)
}

// strict decodes one JSON value, refusing fields dst does not have.
func strict(raw []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(dst)
}

func parseJSONObject(raw []byte) (Rules, error) {
	var obj struct {
		Source   string            `json:"source"`
		Holidays []json.RawMessage `json:"holidays"`
		Workdays []json.RawMessage `json:"workdays"`
	}
	if err := strict(raw, &obj); err != nil {
		return Rules{}, err
	}
	var set ruleSet
	for _, list := range []struct {
		name    string
		dates   []json.RawMessage
		workday bool
	}{{"holidays", obj.Holidays, false}, {"workdays", obj.Workdays, true}} {
		for i, el := range list.dates {
			where := fmt.Sprintf("%s[%d]", list.name, i)
			var s string
			if err := json.Unmarshal(el, &s); err != nil {
				return Rules{}, fmt.Errorf("%s: want a \"YYYY-MM-DD\" string, got %s", where, abbrev(el))
			}
			d, err := ParseDate(s)
			if err != nil {
				return Rules{}, fmt.Errorf("%s: %w", where, err)
			}
			if err := set.add(d, list.workday, where); err != nil {
				return Rules{}, err
			}
		}
	}
	rules := set.done()
	rules.Source = obj.Source
	return rules, nil
}

func parseJSONList(raw []byte) (Rules, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return Rules{}, err
	}
	var set ruleSet
	for i, el := range list {
		var e struct {
			Date string `json:"date"`
			Type string `json:"type"`
			Name string `json:"name"`
		}
		if err := strict(el, &e); err != nil {
			return Rules{}, fmt.Errorf("entry [%d]: %w", i, err)
		}
		where := fmt.Sprintf("entry [%d] (%q)", i, e.Date)
		d, err := ParseDate(e.Date)
		if err != nil {
			return Rules{}, fmt.Errorf("entry [%d]: %w", i, err)
		}
		var workday bool
		switch {
		case strings.EqualFold(e.Type, "holiday"):
		case strings.EqualFold(e.Type, "workday"):
			workday = true
		default:
			return Rules{}, fmt.Errorf("%s: type %q, want \"holiday\" or \"workday\"", where, e.Type)
		}
		if err := set.add(d, workday, where); err != nil {
			return Rules{}, err
		}
	}
	return set.done(), nil
}

// abbrev shortens a raw JSON value for an error message.
func abbrev(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// ParseICS reads rules from an iCalendar file (RFC 5545), such as the feed
// chinese-days publishes or a calendar exported from Outlook. Each all-day
// VEVENT (DTSTART;VALUE=DATE:20270101, with an optional exclusive DTEND or
// a DURATION in days or weeks, up to 366 days) is classified by its SUMMARY:
// one containing 班 (上班, 调休上班), "workday" or "make-up" is a make-up
// workday; otherwise one containing 休, 假 or "holiday" is a holiday
// (English words in any case). The workday words are checked first because
// 调休上班 contains 休. Events with other summaries, and timed events, are
// ignored. Malformed lines, unbalanced BEGIN/END, bad dates, recurring
// events (RRULE, RDATE) and a date given as both kinds are errors naming
// the line.
func ParseICS(r io.Reader) (Rules, error) {
	rules, err := parseICS(r)
	if err != nil {
		return Rules{}, fmt.Errorf("parse ICS rules: %w", err)
	}
	return rules, nil
}

// icsProp is a content line: NAME;PARAMS:VALUE.
type icsProp struct {
	line   int
	name   string // upper case
	params string // upper case, without the leading ';'
	value  string
}

// icsEvent gathers the properties of one VEVENT that matter here.
type icsEvent struct {
	line                int
	summary             string
	summarySet          bool
	dtstart, dtend, dur *icsProp
	recurring           *icsProp
}

func parseICS(r io.Reader) (Rules, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	var (
		set    ruleSet
		stack  []string // open components
		starts []int    // their BEGIN lines
		ev     *icsEvent
		seen   bool // BEGIN:VCALENDAR met
	)
	handle := func(p icsProp) error {
		if !seen {
			if p.name != "BEGIN" || !strings.EqualFold(p.value, "VCALENDAR") {
				return fmt.Errorf("line %d: want BEGIN:VCALENDAR first", p.line)
			}
			seen = true
		} else if len(stack) == 0 {
			return fmt.Errorf("line %d: %s after END:VCALENDAR", p.line, p.name)
		}
		switch p.name {
		case "BEGIN":
			comp := strings.ToUpper(p.value)
			if comp == "" {
				return fmt.Errorf("line %d: BEGIN without a component name", p.line)
			}
			stack, starts = append(stack, comp), append(starts, p.line)
			if comp == "VEVENT" && len(stack) == 2 {
				ev = &icsEvent{line: p.line}
			}
			return nil
		case "END":
			comp := strings.ToUpper(p.value)
			if len(stack) == 0 || stack[len(stack)-1] != comp {
				if len(stack) == 0 {
					return fmt.Errorf("line %d: END:%s without BEGIN", p.line, comp)
				}
				return fmt.Errorf("line %d: END:%s, but BEGIN:%s at line %d is open", p.line, comp, stack[len(stack)-1], starts[len(starts)-1])
			}
			stack, starts = stack[:len(stack)-1], starts[:len(starts)-1]
			if comp == "VEVENT" && len(stack) == 1 && ev != nil {
				err := ev.addTo(&set)
				ev = nil
				return err
			}
			return nil
		}
		// Only properties of a VEVENT itself, not of a VALARM inside it.
		if ev == nil || len(stack) != 2 {
			return nil
		}
		switch p.name {
		case "SUMMARY":
			if ev.summarySet {
				return fmt.Errorf("line %d: second SUMMARY in the event at line %d", p.line, ev.line)
			}
			ev.summary, ev.summarySet = unescapeText(p.value), true
		case "DTSTART", "DTEND", "DURATION":
			slot := &ev.dtstart
			if p.name == "DTEND" {
				slot = &ev.dtend
			} else if p.name == "DURATION" {
				slot = &ev.dur
			}
			if *slot != nil {
				return fmt.Errorf("line %d: second %s in the event at line %d", p.line, p.name, ev.line)
			}
			*slot = &p
		case "RRULE", "RDATE":
			ev.recurring = &p
		}
		return nil
	}

	var (
		cur     strings.Builder // the logical line being unfolded
		curLine int
		n       int
	)
	flush := func() error {
		if curLine == 0 {
			return nil
		}
		p, err := splitContentLine(cur.String(), curLine)
		cur.Reset()
		curLine = 0
		if err != nil {
			return err
		}
		return handle(p)
	}
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if line != "" && (line[0] == ' ' || line[0] == '\t') {
			if curLine == 0 {
				return Rules{}, fmt.Errorf("line %d: continuation line without a line to continue", n)
			}
			cur.WriteString(line[1:])
			continue
		}
		if err := flush(); err != nil {
			return Rules{}, err
		}
		if line == "" {
			continue // tolerated, though RFC 5545 has no blank lines
		}
		cur.WriteString(line)
		curLine = n
	}
	if err := sc.Err(); err != nil {
		return Rules{}, fmt.Errorf("line %d: %w", n+1, err)
	}
	if err := flush(); err != nil {
		return Rules{}, err
	}
	if !seen {
		return Rules{}, errors.New("no BEGIN:VCALENDAR")
	}
	if len(stack) > 0 {
		return Rules{}, fmt.Errorf("line %d: BEGIN:%s is never closed", starts[len(starts)-1], stack[len(stack)-1])
	}
	return set.done(), nil
}

// splitContentLine splits "NAME;PARAM=x;PARAM="a:b":VALUE"; a colon inside
// a quoted parameter value does not end the parameters.
func splitContentLine(s string, line int) (icsProp, error) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ':':
			if quoted {
				continue
			}
			name, params, _ := strings.Cut(s[:i], ";")
			if !isICSName(name) {
				return icsProp{}, fmt.Errorf("line %d: bad property name %q", line, abbrev([]byte(name)))
			}
			return icsProp{line: line, name: strings.ToUpper(name), params: strings.ToUpper(params), value: s[i+1:]}, nil
		}
	}
	return icsProp{}, fmt.Errorf("line %d: want NAME:VALUE, got %q", line, abbrev([]byte(s)))
}

// isICSName reports whether s is a property name: letters, digits and '-'.
func isICSName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return s != ""
}

// unescapeText undoes RFC 5545 TEXT escaping.
func unescapeText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if s[i] == 'n' || s[i] == 'N' {
				b.WriteByte('\n')
			} else {
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// classify decides an event from its summary: workday, holiday or neither.
func classify(summary string) (workday, ok bool) {
	s := strings.ToLower(summary)
	switch {
	case strings.Contains(s, "班") || strings.Contains(s, "workday") || strings.Contains(s, "make-up"):
		return true, true
	case strings.Contains(s, "休") || strings.Contains(s, "假") || strings.Contains(s, "holiday"):
		return false, true
	}
	return false, false
}

// maxEventDays bounds an event's span: holidays are days, not years, and
// the bound keeps a typo from producing a century of rest days.
const maxEventDays = 366

// addTo adds the event's dates to set, if it is an all-day event with a
// summary that names a holiday or a workday.
func (ev *icsEvent) addTo(set *ruleSet) error {
	workday, ok := classify(ev.summary)
	if !ok {
		return nil
	}
	if ev.dtstart == nil {
		return fmt.Errorf("line %d: event %q has no DTSTART", ev.line, ev.summary)
	}
	start, allDay, err := icsDate(ev.dtstart)
	if err != nil || !allDay {
		return err // a timed event is not a day rule
	}
	days := int64(1)
	switch {
	case ev.dtend != nil && ev.dur != nil:
		return fmt.Errorf("line %d: event has both DTEND and DURATION", ev.dur.line)
	case ev.dtend != nil:
		end, endAllDay, err := icsDate(ev.dtend)
		if err != nil {
			return err
		}
		if !endAllDay {
			return fmt.Errorf("line %d: DTEND is a date-time but DTSTART is a date", ev.dtend.line)
		}
		days = int64(end) - int64(start)
	case ev.dur != nil:
		if days, err = icsDays(ev.dur); err != nil {
			return err
		}
	}
	last := ev.dtstart
	if ev.dtend != nil {
		last = ev.dtend
	} else if ev.dur != nil {
		last = ev.dur
	}
	if days < 1 || days > maxEventDays {
		return fmt.Errorf("line %d: event spans %d days, want 1..%d", last.line, days, maxEventDays)
	}
	if ev.recurring != nil {
		return fmt.Errorf("line %d: recurring events (%s) are not supported; list each year's dates", ev.recurring.line, ev.recurring.name)
	}
	where := "line " + strconv.Itoa(ev.dtstart.line)
	for i := range days {
		if err := set.add(start+Date(i), workday, where); err != nil {
			return err
		}
	}
	return nil
}

// icsDate reads a DTSTART or DTEND: a DATE (20270101) is an all-day date;
// a DATE-TIME (20270101T090000, optionally Z) is valid but not all-day.
func icsDate(p *icsProp) (d Date, allDay bool, err error) {
	v := p.value
	isDigits := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return s != ""
	}
	dateParam := strings.Contains(p.params, "VALUE=DATE") && !strings.Contains(p.params, "VALUE=DATE-TIME")
	switch {
	case len(v) == 8 && isDigits(v):
		d, err := ParseDate(v[:4] + "-" + v[4:6] + "-" + v[6:])
		if err != nil {
			return 0, false, fmt.Errorf("line %d: %s: %w", p.line, p.name, err)
		}
		return d, true, nil
	case !dateParam && (len(v) == 15 || len(v) == 16 && v[15] == 'Z') && v[8] == 'T' && isDigits(v[:8]) && isDigits(v[9:15]):
		return 0, false, nil
	}
	return 0, false, fmt.Errorf("line %d: %s %q: want a date YYYYMMDD", p.line, p.name, abbrev([]byte(v)))
}

// icsDays reads a DURATION of whole days or weeks: P3D, P1W, +P2D.
func icsDays(p *icsProp) (int64, error) {
	v := strings.TrimPrefix(p.value, "+")
	if len(v) >= 3 && v[0] == 'P' && (v[len(v)-1] == 'D' || v[len(v)-1] == 'W') {
		n, err := strconv.ParseInt(v[1:len(v)-1], 10, 32)
		if err == nil && n >= 0 && v[1] != '+' && v[1] != '-' {
			if v[len(v)-1] == 'W' {
				n *= 7
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("line %d: DURATION %q: want whole days or weeks such as P3D", p.line, abbrev([]byte(p.value)))
}
