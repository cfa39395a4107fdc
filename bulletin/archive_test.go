package bulletin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestArchive(t *testing.T) {
	loc := shanghai(t)
	dir := t.TempDir()
	a, err := OpenArchive(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	put := func(name string, typ Type, region, regionName string, at time.Time, kw ...string) Entry {
		p := PeriodOf(typ, at, loc)
		e, err := a.Put(Entry{ID: EntryID(name, region, p), Bulletin: name, Type: typ, Region: region, RegionName: regionName,
			Title: regionName + typ.Name() + "（" + p.Label() + "）", Period: p.Key(), PeriodStart: p.Start, PeriodEnd: p.End,
			Keywords: kw}, []byte("%PDF-1.4 "+name+region+p.Key()))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	sep := time.Date(2026, 9, 10, 0, 0, 0, 0, loc)
	put("gansu-monthly", Monthly, "620000", "甘肃省", sep, "按时办结率", "白银市")
	put("gansu-monthly", Monthly, "620000", "甘肃省", sep.AddDate(0, 1, 0), "接通率")
	put("city-monthly", Monthly, "620800", "平凉市", sep, "崆峒区")
	put("gansu-weekly", Weekly, "620000", "甘肃省", sep)
	e := put("gansu-daily", Daily, "620000", "甘肃省", sep)
	// Issued again: replaced, not added.
	put("gansu-daily", Daily, "620000", "甘肃省", sep, "再次")

	ids := func(es []Entry) string {
		var s []string
		for _, e := range es {
			s = append(s, e.ID)
		}
		return strings.Join(s, " ")
	}
	cases := []struct {
		q    Query
		want string
	}{
		{Query{Type: Monthly}, "gansu-monthly_620000_2026-10 gansu-monthly_620000_2026-09 city-monthly_620800_2026-09"},
		{Query{Region: "620800"}, "city-monthly_620800_2026-09"},
		{Query{Region: "620000", Type: Monthly}, "gansu-monthly_620000_2026-10 gansu-monthly_620000_2026-09 city-monthly_620800_2026-09"},
		{Query{Text: "白银"}, "gansu-monthly_620000_2026-09"},
		{Query{Text: "平凉 月报"}, "city-monthly_620800_2026-09"},
		{Query{Text: "平凉 周报"}, ""},
		{Query{Text: "再次"}, "gansu-daily_620000_2026-09-10"},
		{Query{Type: Monthly, From: time.Date(2026, 10, 5, 0, 0, 0, 0, loc)}, "gansu-monthly_620000_2026-10"},
		{Query{To: time.Date(2026, 9, 10, 0, 0, 0, 0, loc), Type: Weekly}, "gansu-weekly_620000_W2026-09-07"},
		{Query{Bulletin: "gansu-daily"}, "gansu-daily_620000_2026-09-10"},
	}
	check := func(a *Archive) {
		t.Helper()
		for _, c := range cases {
			if got := ids(a.List(c.q)); got != c.want {
				t.Errorf("%+v: %q, want %q", c.q, got, c.want)
			}
		}
	}
	check(a)

	// A crash mid-write leaves a temporary file; a sidecar without its
	// PDF and a broken sidecar are left out.
	os.WriteFile(filepath.Join(dir, ".tmp-x.pdf-123"), []byte("half"), 0o600)
	os.WriteFile(filepath.Join(dir, "gansu-daily_620000_2026-09-11.json"), []byte(`{"id":"gansu-daily_620000_2026-09-11"}`), 0o600)
	os.WriteFile(filepath.Join(dir, "gansu-daily_620000_2026-09-12.json"), []byte(`{`), 0o600)
	b, err := OpenArchive(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	check(b)
	if _, err := os.Stat(filepath.Join(dir, ".tmp-x.pdf-123")); !os.IsNotExist(err) {
		t.Error("temporary file not removed")
	}
	if len(b.List(Query{})) != 5 {
		t.Errorf("%d entries after restart", len(b.List(Query{})))
	}
	f, got, err := b.Open(e.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got.Size == 0 || len(got.SHA256) != 64 {
		t.Errorf("entry %+v", got)
	}
	for _, id := range []string{"../etc/passwd", "nope", "gansu-daily_620000_2026-09-11"} {
		if _, _, err := b.Open(id); err == nil {
			t.Errorf("Open(%q): no error", id)
		}
	}
}
