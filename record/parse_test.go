package record

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

func TestTime(t *testing.T) {
	p := NewParser(shanghai)
	tests := []struct {
		in   string
		want string // RFC 3339 in UTC, or "" for an error
	}{
		{"2026-03-02T09:15:00+08:00", "2026-03-02T01:15:00Z"},
		{"2026-03-02T01:15:00Z", "2026-03-02T01:15:00Z"},
		{"2026-03-02 09:15:00", "2026-03-02T01:15:00Z"},
		{"2026-10-06T09:16:07.697164+08:00", "2026-10-06T01:16:07.697164Z"},
		{"2026-10-06T09:16:07.5-05:30", "2026-10-06T14:46:07.5Z"},
		{"2024-02-29 23:59:59", "2024-02-29T15:59:59Z"},
		// Shanghai kept summer time 1986–1991: the wall time takes the
		// offset in force then, not today's.
		{"1988-07-01 12:00:00", "1988-07-01T03:00:00Z"},
		{"2026-03-02T09:15:00", ""},             // T without an offset
		{"2026/03/02 09:15:00", ""},             // slashes
		{"2026-03-02", ""},                      // bare date
		{"2026-03-02 09:15", ""},                // no seconds
		{"2026-03-02 09:15:00.5", ""},           // fraction in the local form
		{"2026-02-29 10:00:00", ""},             // not a leap year
		{"2026-13-01 10:00:00", ""},             // month
		{"2026-03-02 24:00:00", ""},             // hour
		{"2026-03-02T09:15:00+8:00", ""},        // offset form
		{"2026-03-02T09:15:00.+08:00", ""},      // empty fraction
		{"2026-03-02T09:15:00.1234567891Z", ""}, // 10 fractional digits
		{"２０２６-03-02 09:15:00", ""},
		{"", ""},
	}
	for _, tc := range tests {
		got, err := p.Time(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("Time(%q) = %v, want an error", tc.in, time.Unix(0, got).UTC())
			}
			continue
		}
		if err != nil {
			t.Errorf("Time(%q): %v", tc.in, err)
			continue
		}
		if s := time.Unix(0, got).UTC().Format(time.RFC3339Nano); s != tc.want {
			t.Errorf("Time(%q) = %s, want %s", tc.in, s, tc.want)
		}
	}
}

func TestCaseFields(t *testing.T) {
	p := NewParser(shanghai)
	good := []string{"C1", "620802", "D1", "I1", "mobile", "1", "2026-10-06 09:00:00", "2026-10-06T10:00:00+08:00", "5", "", "accepted"}
	c, err := p.Case(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "C1" || c.Region != "620802" || c.Channel != ChannelMobile || !c.FullOnline || c.Closed != Never || c.PromisedDays != 5 || c.Status != StatusAccepted {
		t.Errorf("parsed %+v", c)
	}
	tests := []struct {
		field int
		value string
		want  string // field named in the error
	}{
		{0, "", "case_id"},
		{1, "62080", "region_code"},
		{1, "6208020011", "region_code"},
		{1, "62o802", "region_code"},
		{4, "fax", "channel"},
		{4, "", "channel"},
		{5, "yes", "full_online"},
		{6, "", "submitted_at"},
		{6, "2026-10-06T09:00:00", "submitted_at"},
		{7, "2026/10/06 10:00:00", "accepted_at"},
		{8, "", "promised_days"},
		{8, "-1", "promised_days"},
		{8, "2.5", "promised_days"},
		{9, "tomorrow", "closed_at"},
		{10, "done", "status"},
	}
	for _, tc := range tests {
		v := append([]string(nil), good...)
		v[tc.field] = tc.value
		_, err := p.Case(v)
		fe, ok := err.(*FieldError)
		if !ok || fe.Field != tc.want {
			t.Errorf("%s=%q: error %v, want a FieldError on %s", KindCase.Fields()[tc.field], tc.value, err, tc.want)
		}
	}
}

func TestBooleansAndOptionalCounts(t *testing.T) {
	p := NewParser(shanghai)
	for in, want := range map[string]bool{"1": true, "0": false, "true": true, "FALSE": false, "是": true, "否": false, "": false} {
		c, err := p.Call([]string{"K", "620100", "2026-10-01 10:00:00", in, ""})
		if err != nil || c.Answered != want || c.WaitSeconds != -1 {
			t.Errorf("answered=%q: %+v %v", in, c, err)
		}
	}
	it, err := p.Item([]string{"I", "620100", "D", "1", "1", "0", "1", "0", "", "3"})
	if err != nil || it.LegalDays != -1 || it.PromisedDays != 3 || it.Visits != 0 {
		t.Errorf("item: %+v %v", it, err)
	}
	if _, err := p.Evaluation([]string{"E", "C", "620100", "D", "window", "6", "2026-10-01 10:00:00", ""}); err == nil || !strings.Contains(err.Error(), "score") {
		t.Errorf("score 6 accepted: %v", err)
	}
	tk, err := p.Ticket([]string{"T", "620100", "U", "民政", "help", "wechat", "2026-10-01 10:00:00", "0", "", "", "", ""})
	if err != nil || tk.DeadlineDays != -1 || tk.Callback != CallbackNone || tk.Assigned != Never {
		t.Errorf("ticket: %+v %v", tk, err)
	}
}

func FuzzTime(f *testing.F) {
	for _, s := range []string{"2026-03-02T09:15:00+08:00", "2026-03-02 09:15:00", "2026-10-06T09:16:07.697164Z", "1991-04-14 02:30:00"} {
		f.Add(s)
	}
	p := NewParser(shanghai)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := p.Time(s)
		if err != nil {
			return
		}
		// Whatever parses must agree with the standard library.
		var want time.Time
		var perr error
		if len(s) == 19 && s[10] == ' ' {
			want, perr = time.ParseInLocation("2006-01-02 15:04:05", s, shanghai)
		} else {
			want, perr = time.Parse(time.RFC3339Nano, s)
		}
		if perr != nil {
			t.Fatalf("Time(%q) accepted what time.Parse rejects: %v", s, perr)
		}
		if want.UnixNano() != got {
			t.Fatalf("Time(%q) = %d, time.Parse gives %d", s, got, want.UnixNano())
		}
	})
}

func FuzzRows(f *testing.F) {
	f.Add("C1,620802,D1,I1,mobile,1,2026-10-06 09:00:00,,0,,submitted")
	f.Add("T1,620105,U031,劳动社保,help,phone,2026-09-24 06:13:57,1,,,2026-09-24T06:24:09.407809+08:00,unsatisfied")
	p := NewParser(shanghai)
	f.Fuzz(func(t *testing.T, line string) {
		for k := Kind(0); k < NumKinds; k++ {
			v := strings.Split(line, ",")
			for len(v) < len(k.Fields()) {
				v = append(v, "")
			}
			v = v[:len(k.Fields())]
			err := p.Check(k, v)
			if fe, ok := err.(*FieldError); err != nil && (!ok || fe.Field == "" || fe.Reason == "") {
				t.Fatalf("%s: error %v does not name a field", k, err)
			}
		}
	})
}

// TestTextCaps: every free-text and id field is capped; a value at its cap
// is read, one byte more (or 30 MB) rejects the row with a FieldError
// naming the field and the cap, and nothing of it is kept.
func TestTextCaps(t *testing.T) {
	good := [NumKinds][]string{
		{"C1", "620802", "D1", "I1", "mobile", "1", "2026-10-06 09:00:00", "", "5", "", "submitted"},
		{"E1", "C1", "620802", "D1", "window", "5", "2026-10-06 09:00:00", ""},
		{"T1", "620105", "U1", "劳动社保", "help", "phone", "2026-09-24 06:13:57", "1", "", "", "", ""},
		{"K1", "620100", "2026-10-01 10:00:00", "1", "12"},
		{"I1", "620100", "D1", "1", "1", "0", "1", "0", "", "3"},
	}
	tests := []struct {
		kind  Kind
		field string
		cap   int
	}{
		{KindCase, "case_id", 128},
		{KindCase, "dept_code", 128},
		{KindCase, "item_code", 64},
		{KindEvaluation, "eval_id", 128},
		{KindEvaluation, "case_id", 128},
		{KindEvaluation, "dept_code", 128},
		{KindTicket, "ticket_id", 128},
		{KindTicket, "unit_code", 128},
		{KindTicket, "category", 256},
		{KindCall, "call_id", 128},
		{KindItem, "item_code", 64},
		{KindItem, "dept_code", 128},
	}
	for _, tc := range tests {
		col := slices.Index(tc.kind.Fields(), tc.field)
		// Chinese text: the cap is in bytes, whatever the characters.
		atCap := strings.Repeat("部", tc.cap/3) + strings.Repeat("x", tc.cap%3)
		for _, c := range []struct {
			value string
			ok    bool
		}{{atCap, true}, {atCap + "x", false}, {strings.Repeat("类", 10<<20), false}} {
			p := NewParser(shanghai)
			v := slices.Clone(good[tc.kind])
			v[col] = c.value
			err := p.Check(tc.kind, v)
			if c.ok {
				if err != nil {
					t.Errorf("%s %s of %d bytes: %v", tc.kind, tc.field, len(c.value), err)
				}
				continue
			}
			var fe *FieldError
			want := fmt.Sprintf("%d bytes, longer than the cap of %d bytes", len(c.value), tc.cap)
			if !errors.As(err, &fe) || fe.Field != tc.field || fe.Reason != want {
				t.Errorf("%s %s of %d bytes: error %v, want a FieldError on %s: %s", tc.kind, tc.field, len(c.value), err, tc.field, want)
			}
			for _, table := range []map[string]string{p.depts, p.items, p.categories} {
				for k := range table {
					if len(k) > tc.cap {
						t.Errorf("%s %s: the rejected value was interned", tc.kind, tc.field)
					}
				}
			}
		}
	}
}
