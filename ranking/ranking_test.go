package ranking

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func rate(unit string, num, den int64) Row {
	return Row{Unit: unit, Numerator: num, Denominator: den, Rate: true}
}
func count(unit string, n int64) Row { return Row{Unit: unit, Numerator: n} }

type want struct {
	unit string
	rank int
}

func TestRank(t *testing.T) {
	tests := []struct {
		name  string
		rows  []Row
		lower bool
		want  []want
	}{
		{"empty", nil, false, []want{}},
		{"ties share and skip", []Row{rate("a", 9, 10), rate("b", 8, 10), rate("c", 8, 10), rate("d", 7, 10)}, false,
			[]want{{"a", 1}, {"b", 2}, {"c", 2}, {"d", 4}}},
		{"ties at the top", []Row{rate("c", 5, 10), rate("b", 1, 1), rate("a", 3, 3)}, false,
			[]want{{"a", 1}, {"b", 1}, {"c", 3}}},
		{"equal from different counts", []Row{rate("x", 1, 2), rate("y", 2, 4), rate("z", 3, 5), rate("w", 50, 100)}, false,
			[]want{{"z", 1}, {"w", 2}, {"x", 2}, {"y", 2}}},
		{"nulls last without rank", []Row{rate("n1", 0, 0), rate("a", 0, 5), {Unit: "m", Missing: true, Rate: true}, rate("b", 1, 5)}, false,
			[]want{{"b", 1}, {"a", 2}, {"m", 0}, {"n1", 0}}},
		{"all null", []Row{rate("b", 0, 0), rate("a", 0, 0), {Unit: "c", Missing: true}}, false,
			[]want{{"a", 0}, {"b", 0}, {"c", 0}}},
		{"lower is better", []Row{count("a", 5), count("b", 0), count("c", 5), count("d", 12)}, true,
			[]want{{"b", 1}, {"a", 2}, {"c", 2}, {"d", 4}}},
		{"higher count first", []Row{count("a", 5), count("b", 0), count("c", 7)}, false,
			[]want{{"c", 1}, {"a", 2}, {"b", 3}}},
		{"lower is better with nulls", []Row{count("a", 3), {Unit: "b", Missing: true}, count("c", 1)}, true,
			[]want{{"c", 1}, {"a", 2}, {"b", 0}}},
		// 1/3 and 333333333/1000000000 differ only after the 9th digit; a
		// float64 comparison gets it right too, but rounding would not.
		{"close but different", []Row{rate("a", 333333333, 1000000000), rate("b", 1, 3)}, false,
			[]want{{"b", 1}, {"a", 2}}},
		// Products beyond int64: 3e18·3 overflow a 64-bit multiply.
		{"no overflow", []Row{rate("a", 3e18, 3e18+1), rate("b", 2, 3)}, false,
			[]want{{"a", 1}, {"b", 2}}},
		{"negative numerator", []Row{rate("a", -2, 10), rate("b", 1, 10), rate("c", -1, 5)}, false,
			[]want{{"b", 1}, {"a", 2}, {"c", 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Rank(slices.Clone(tc.rows), tc.lower)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d rows, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				if got[i].Unit != w.unit || got[i].Rank != w.rank {
					t.Errorf("row %d = %s rank %d, want %s rank %d (all: %+v)", i, got[i].Unit, got[i].Rank, w.unit, w.rank, got)
				}
			}
		})
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b Row
		want int
	}{
		{rate("", 1, 2), rate("", 2, 4), 0},
		{rate("", 1, 3), rate("", 1, 2), -1},
		{count("", 7), count("", 3), 1},
		{count("", 1), rate("", 2, 2), 0},
		{rate("", math.MaxInt64, math.MaxInt64), rate("", math.MaxInt64-1, math.MaxInt64), 1},
		{rate("", math.MinInt64, 1), rate("", math.MinInt64+1, 1), -1},
		{rate("", -1, 2), rate("", 0, 1), -1},
	}
	for _, tc := range tests {
		if got := Compare(tc.a, tc.b); got != tc.want {
			t.Errorf("Compare(%d/%d, %d/%d) = %d, want %d", tc.a.Numerator, tc.a.Denominator, tc.b.Numerator, tc.b.Denominator, got, tc.want)
		}
		if got := Compare(tc.b, tc.a); got != -tc.want {
			t.Errorf("Compare(%d/%d, %d/%d) = %d, want %d", tc.b.Numerator, tc.b.Denominator, tc.a.Numerator, tc.a.Denominator, got, -tc.want)
		}
	}
}

// TestRankProperties checks random rankings against the definition:
// ranks never decrease, a rank is 1 + the number of strictly better units,
// and nulls are last with rank 0.
func TestRankProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 300; iter++ {
		n := r.IntN(30)
		rows := make([]Row, n)
		for i := range rows {
			den := int64(r.IntN(6))
			rows[i] = rate(string(rune('A'+i)), int64(r.IntN(int(den)+1)), den)
		}
		lower := r.IntN(2) == 0
		got := Rank(slices.Clone(rows), lower)
		seenNull := false
		for i, g := range got {
			if g.Null() {
				seenNull = true
				if g.Rank != 0 {
					t.Fatalf("null %s has rank %d", g.Unit, g.Rank)
				}
				continue
			}
			if seenNull {
				t.Fatalf("value after a null at %d", i)
			}
			better := 0
			for _, o := range rows {
				if o.Null() {
					continue
				}
				c := Compare(o, g)
				if (c > 0 && !lower) || (c < 0 && lower) {
					better++
				}
			}
			if g.Rank != better+1 {
				t.Fatalf("%s rank %d, want %d (%+v)", g.Unit, g.Rank, better+1, got)
			}
		}
	}
}

func TestRankScores(t *testing.T) {
	got := RankScores([]Score{
		{Unit: "d", Null: true}, {Unit: "a", Value: 80}, {Unit: "b", Value: 95},
		{Unit: "c", Value: 80 + 1e-12}, {Unit: "e", Value: math.NaN()}, {Unit: "f", Value: 60},
	})
	want := []want{{"b", 1}, {"a", 2}, {"c", 2}, {"f", 4}, {"d", 0}, {"e", 0}}
	for i, w := range want {
		if got[i].Unit != w.unit || got[i].Rank != w.rank {
			t.Errorf("row %d = %s rank %d, want %s rank %d", i, got[i].Unit, got[i].Rank, w.unit, w.rank)
		}
	}
}

func TestValue(t *testing.T) {
	if v, ok := rate("", 1, 4).Value(); !ok || v != 0.25 {
		t.Errorf("1/4 = %v %v", v, ok)
	}
	if _, ok := rate("", 1, 0).Value(); ok {
		t.Error("x/0 has a value")
	}
	if v, ok := count("", 9).Value(); !ok || v != 9 {
		t.Errorf("count 9 = %v %v", v, ok)
	}
	if _, ok := (Row{Missing: true}).Value(); ok {
		t.Error("missing row has a value")
	}
}
