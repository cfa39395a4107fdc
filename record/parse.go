package record

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/yiping-ioc/yiping/region"
)

// FieldError says which field of a row could not be read and why.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return "field " + e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Parser turns raw values (aligned to Kind.Fields) into records. It interns
// low-cardinality strings such as region and department codes so that
// millions of records share one copy of each. A Parser is not safe for
// concurrent use; give each goroutine its own.
type Parser struct {
	loc *time.Location
	// One intern table per field family: small tables stay in cache, and
	// region codes are only validated the first time they are seen.
	regions, depts, items, categories map[string]string
	fixed                             fixedZone
}

// fixedZone caches the UTC offset of the business zone over the span in
// which it does not change (Asia/Shanghai: since 1991), so local wall times
// convert without time.Date's zone lookup on the hot path.
type fixedZone struct {
	from, to int64 // naive local seconds for which off is valid
	off      int64 // seconds east of UTC
}

// NewParser returns a parser that reads zone-less timestamps in loc, the
// business time zone.
func NewParser(loc *time.Location) *Parser {
	p := &Parser{loc: loc, regions: map[string]string{}, depts: map[string]string{}, items: map[string]string{}, categories: map[string]string{}}
	ref := time.Date(2020, 1, 1, 0, 0, 0, 0, loc)
	start, end := ref.ZoneBounds()
	_, off := ref.Zone()
	p.fixed.off = int64(off)
	// Keep a day of margin on both sides so wall times near a transition
	// take the exact path.
	p.fixed.from = start.Unix() + int64(off) + 86400
	if start.IsZero() {
		p.fixed.from = -1 << 62
	}
	p.fixed.to = end.Unix() + int64(off) - 86400
	if end.IsZero() {
		p.fixed.to = 1 << 62
	}
	return p
}

// Location returns the business time zone.
func (p *Parser) Location() *time.Location { return p.loc }

func intern(m map[string]string, s string) string {
	if v, ok := m[s]; ok {
		return v
	}
	c := strings.Clone(s)
	m[c] = c
	return c
}

// Case reads a case row.
func (p *Parser) Case(v []string) (Case, error) {
	var c Case
	var err *FieldError
	if c.ID, err = p.id("case_id", v[0], MaxIDLen); err != nil {
		return c, err
	}
	if c.Region, err = p.region("region_code", v[1]); err != nil {
		return c, err
	}
	if c.Dept, err = p.text("dept_code", v[2], MaxDeptLen, p.depts); err != nil {
		return c, err
	}
	if c.Item, err = p.text("item_code", v[3], MaxCodeLen, p.items); err != nil {
		return c, err
	}
	if c.Channel, err = enum("channel", v[4], channelNames); err != nil {
		return c, err
	}
	if c.FullOnline, err = optBool("full_online", v[5]); err != nil {
		return c, err
	}
	if c.Submitted, err = p.reqTime("submitted_at", v[6]); err != nil {
		return c, err
	}
	if c.Accepted, err = p.optTime("accepted_at", v[7]); err != nil {
		return c, err
	}
	if c.PromisedDays, err = reqCount("promised_days", v[8]); err != nil {
		return c, err
	}
	if c.Closed, err = p.optTime("closed_at", v[9]); err != nil {
		return c, err
	}
	if c.Status, err = enum("status", v[10], statusNames); err != nil {
		return c, err
	}
	return c, nil
}

// Evaluation reads an evaluation row.
func (p *Parser) Evaluation(v []string) (Evaluation, error) {
	var e Evaluation
	var err *FieldError
	if e.ID, err = p.id("eval_id", v[0], MaxIDLen); err != nil {
		return e, err
	}
	if len(v[1]) > MaxIDLen {
		return e, tooLong("case_id", v[1], MaxIDLen)
	}
	e.CaseID = strings.Clone(v[1])
	if e.Region, err = p.region("region_code", v[2]); err != nil {
		return e, err
	}
	if e.Dept, err = p.text("dept_code", v[3], MaxDeptLen, p.depts); err != nil {
		return e, err
	}
	if e.Channel, err = enum("channel", v[4], channelNames); err != nil {
		return e, err
	}
	if v[5] == "" {
		return e, fieldErr("score", "required value is empty")
	}
	score, perr := strconv.Atoi(v[5])
	if perr != nil || score < 1 || score > 5 {
		return e, fieldErr("score", "%q is not a score 1..5", v[5])
	}
	e.Score = int8(score)
	if e.Evaluated, err = p.reqTime("evaluated_at", v[6]); err != nil {
		return e, err
	}
	if e.Rectified, err = p.optTime("rectified_at", v[7]); err != nil {
		return e, err
	}
	return e, nil
}

// Ticket reads a 12345 ticket row.
func (p *Parser) Ticket(v []string) (Ticket, error) {
	var t Ticket
	var err *FieldError
	if t.ID, err = p.id("ticket_id", v[0], MaxIDLen); err != nil {
		return t, err
	}
	if t.Region, err = p.region("region_code", v[1]); err != nil {
		return t, err
	}
	if t.Unit, err = p.text("unit_code", v[2], MaxDeptLen, p.depts); err != nil {
		return t, err
	}
	if t.Category, err = p.text("category", v[3], MaxCategoryLen, p.categories); err != nil {
		return t, err
	}
	if t.Kind, err = enum("kind", v[4], ticketKindNames); err != nil {
		return t, err
	}
	if t.Channel, err = enum("channel", v[5], ticketChannelNames); err != nil {
		return t, err
	}
	if t.Received, err = p.reqTime("received_at", v[6]); err != nil {
		return t, err
	}
	if t.Direct, err = optBool("direct", v[7]); err != nil {
		return t, err
	}
	if t.Assigned, err = p.optTime("assigned_at", v[8]); err != nil {
		return t, err
	}
	if t.DeadlineDays, err = optCount("deadline_days", v[9]); err != nil {
		return t, err
	}
	if t.Closed, err = p.optTime("closed_at", v[10]); err != nil {
		return t, err
	}
	if v[11] != "" {
		if t.Callback, err = enum("callback", v[11], callbackNames); err != nil {
			return t, err
		}
	}
	return t, nil
}

// Call reads a 12345 call row.
func (p *Parser) Call(v []string) (Call, error) {
	var c Call
	var err *FieldError
	if c.ID, err = p.id("call_id", v[0], MaxIDLen); err != nil {
		return c, err
	}
	if c.Region, err = p.region("region_code", v[1]); err != nil {
		return c, err
	}
	if c.Offered, err = p.reqTime("offered_at", v[2]); err != nil {
		return c, err
	}
	if c.Answered, err = optBool("answered", v[3]); err != nil {
		return c, err
	}
	if c.WaitSeconds, err = optCount("wait_seconds", v[4]); err != nil {
		return c, err
	}
	return c, nil
}

// Item reads a catalog row.
func (p *Parser) Item(v []string) (Item, error) {
	var it Item
	var err *FieldError
	if it.Code, err = p.id("item_code", v[0], MaxCodeLen); err != nil {
		return it, err
	}
	if it.Region, err = p.region("region_code", v[1]); err != nil {
		return it, err
	}
	if it.Dept, err = p.text("dept_code", v[2], MaxDeptLen, p.depts); err != nil {
		return it, err
	}
	if it.OnlineAvailable, err = optBool("online_available", v[3]); err != nil {
		return it, err
	}
	if it.FullOnline, err = optBool("full_online", v[4]); err != nil {
		return it, err
	}
	if it.MobileAvailable, err = optBool("mobile_available", v[5]); err != nil {
		return it, err
	}
	if it.InHall, err = optBool("in_hall", v[6]); err != nil {
		return it, err
	}
	if it.Visits, err = reqCount("visits", v[7]); err != nil {
		return it, err
	}
	if it.LegalDays, err = optCount("legal_days", v[8]); err != nil {
		return it, err
	}
	if it.PromisedDays, err = optCount("promised_days", v[9]); err != nil {
		return it, err
	}
	return it, nil
}

// Caps on the length of text values, in bytes of UTF-8 (the package
// documentation gives the reasons). A longer value rejects its row.
const (
	// MaxIDLen caps record ids (case_id, eval_id, ticket_id, call_id,
	// and an evaluation's case_id).
	MaxIDLen = 128
	// MaxCodeLen caps item codes (item_code).
	MaxCodeLen = 64
	// MaxDeptLen caps department and unit codes (dept_code, unit_code),
	// which some platforms fill with the department's name.
	MaxDeptLen = 128
	// MaxCategoryLen caps a ticket's category.
	MaxCategoryLen = 256
)

func tooLong(field, s string, limit int) *FieldError {
	return fieldErr(field, "%d bytes, longer than the cap of %d bytes", len(s), limit)
}

// id reads a required identifier of at most limit bytes.
func (p *Parser) id(field, s string, limit int) (string, *FieldError) {
	if s == "" {
		return "", fieldErr(field, "required value is empty")
	}
	if len(s) > limit {
		return "", tooLong(field, s, limit)
	}
	return strings.Clone(s), nil
}

// text reads an optional text value of at most limit bytes, interned in
// table: the cap is checked first, so an oversized value is never kept.
func (p *Parser) text(field, s string, limit int, table map[string]string) (string, *FieldError) {
	if len(s) > limit {
		return "", tooLong(field, s, limit)
	}
	return intern(table, s), nil
}

func (p *Parser) region(field, s string) (string, *FieldError) {
	if s == "" {
		return "", fieldErr(field, "required value is empty")
	}
	if v, ok := p.regions[s]; ok {
		return v, nil
	}
	if _, err := region.ParseCode(s); err != nil {
		return "", fieldErr(field, "%v", err)
	}
	return intern(p.regions, s), nil
}

func enum[T ~uint8](field, s string, names map[string]T) (T, *FieldError) {
	if s == "" {
		return 0, fieldErr(field, "required value is empty")
	}
	v, ok := names[s]
	if !ok {
		return 0, fieldErr(field, "unknown value %q", s)
	}
	return v, nil
}

func optBool(field, s string) (bool, *FieldError) {
	switch s {
	case "", "0", "否", "false", "FALSE", "False":
		return false, nil
	case "1", "是", "true", "TRUE", "True":
		return true, nil
	}
	return false, fieldErr(field, "%q is not a boolean (1/0, true/false, 是/否)", s)
}

// maxCount bounds day counts and seconds: a larger value is a data error,
// and the bound keeps deadline arithmetic far from overflow.
const maxCount = 100000

func reqCount(field, s string) (int32, *FieldError) {
	if s == "" {
		return 0, fieldErr(field, "required value is empty")
	}
	return optCount(field, s)
}

// optCount reads a non-negative integer; empty gives -1 (null).
func optCount(field, s string) (int32, *FieldError) {
	if s == "" {
		return -1, nil
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' || n > maxCount {
			return 0, fieldErr(field, "%q is not a non-negative integer up to %d", s, maxCount)
		}
		n = n*10 + int(c-'0')
	}
	if n > maxCount {
		return 0, fieldErr(field, "%q is not a non-negative integer up to %d", s, maxCount)
	}
	return int32(n), nil
}

func (p *Parser) reqTime(field, s string) (int64, *FieldError) {
	if s == "" {
		return 0, fieldErr(field, "required value is empty")
	}
	return p.optTime(field, s)
}

func (p *Parser) optTime(field, s string) (int64, *FieldError) {
	if s == "" {
		return Never, nil
	}
	t, err := p.Time(s)
	if err != nil {
		return 0, fieldErr(field, "%v", err)
	}
	return t, nil
}

// ErrTimeFormat is wrapped by every timestamp error.
var ErrTimeFormat = errors.New("want RFC 3339 with an offset (2026-03-02T09:15:00+08:00) or YYYY-MM-DD HH:MM:SS")

// Time reads a timestamp in one of the two accepted forms (SPEC.md section
// 3): RFC 3339 with an offset or Z, fractional seconds optional; or
// "YYYY-MM-DD HH:MM:SS" in the business zone. It returns Unix nanoseconds.
// Anything else, including a "T" form without an offset, is an error.
func (p *Parser) Time(s string) (int64, error) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return 0, fmt.Errorf("%q: %w", s, ErrTimeFormat)
	}
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	h, ok4 := digits(s[11:13])
	mi, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, fmt.Errorf("%q: %w", s, ErrTimeFormat)
	}
	if y < 1900 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || sec > 59 {
		return 0, fmt.Errorf("%q: date or time out of range", s)
	}
	days := daysFromCivil(y, mo, d)
	naive := days*86400 + int64(h*3600+mi*60+sec)
	switch s[10] {
	case ' ':
		if len(s) != 19 {
			return 0, fmt.Errorf("%q: %w", s, ErrTimeFormat)
		}
		if naive >= p.fixed.from && naive <= p.fixed.to {
			return (naive - p.fixed.off) * 1e9, nil
		}
		return time.Date(y, time.Month(mo), d, h, mi, sec, 0, p.loc).UnixNano(), nil
	case 'T':
	default:
		return 0, fmt.Errorf("%q: %w", s, ErrTimeFormat)
	}
	rest := s[19:]
	var nanos int64
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := int64(1e8)
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			if i > 9 {
				return 0, fmt.Errorf("%q: more than 9 fractional digits", s)
			}
			nanos += int64(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == 1 {
			return 0, fmt.Errorf("%q: %w", s, ErrTimeFormat)
		}
		rest = rest[i:]
	}
	var off int64
	switch {
	case rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, fmt.Errorf("%q: bad UTC offset", s)
		}
		off = int64(oh*3600 + om*60)
		if rest[0] == '-' {
			off = -off
		}
	case rest == "":
		return 0, fmt.Errorf("%q: no UTC offset: %w", s, ErrTimeFormat)
	default:
		return 0, fmt.Errorf("%q: %w", s, ErrTimeFormat)
	}
	return (naive-off)*1e9 + nanos, nil
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns days since 1970-01-01 of a proleptic Gregorian date
// (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}

// Check reads v as a row of kind k and reports the first unreadable field,
// keeping nothing: for callers that only validate (mappings, generators).
func (p *Parser) Check(k Kind, v []string) error {
	var err error
	switch k {
	case KindCase:
		_, err = p.Case(v)
	case KindEvaluation:
		_, err = p.Evaluation(v)
	case KindTicket:
		_, err = p.Ticket(v)
	case KindCall:
		_, err = p.Call(v)
	case KindItem:
		_, err = p.Item(v)
	default:
		err = fmt.Errorf("unknown record kind %d", k)
	}
	return err
}
