package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

type computeDoc struct {
	AsOf    string `json:"as_of"`
	Period  string `json:"period"`
	Results []struct {
		Indicator   string   `json:"indicator"`
		Region      string   `json:"region"`
		Dept        string   `json:"dept"`
		Numerator   float64  `json:"numerator"`
		Denominator *float64 `json:"denominator"`
		Value       *float64 `json:"value"`
	} `json:"results"`
}

// diffDocs compares two compute documents under the SPEC.md section 7
// contract: the same (indicator, region, dept) set, equal numerators and
// denominators, values within 1e-9. It returns the differences found.
func diffDocs(got, want computeDoc) []string {
	var diffs []string
	if got.AsOf != want.AsOf || got.Period != want.Period {
		diffs = append(diffs, fmt.Sprintf("header: got %s/%s, want %s/%s", got.AsOf, got.Period, want.AsOf, want.Period))
	}
	type key struct{ ind, reg, dept string }
	idx := map[key]int{}
	for i, r := range got.Results {
		idx[key{r.Indicator, r.Region, r.Dept}] = i
	}
	seen := map[key]bool{}
	for _, w := range want.Results {
		k := key{w.Indicator, w.Region, w.Dept}
		seen[k] = true
		i, ok := idx[k]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("missing %v", k))
			continue
		}
		g := got.Results[i]
		if g.Numerator != w.Numerator || !sameNum(g.Denominator, w.Denominator) || !closeVal(g.Value, w.Value) {
			diffs = append(diffs, fmt.Sprintf("%v: got %v/%v=%v, want %v/%v=%v", k, g.Numerator, show(g.Denominator), show(g.Value), w.Numerator, show(w.Denominator), show(w.Value)))
		}
	}
	for k := range idx {
		if !seen[k] {
			diffs = append(diffs, fmt.Sprintf("unexpected %v", k))
		}
	}
	for i := 1; i < len(got.Results); i++ {
		a, b := got.Results[i-1], got.Results[i]
		if [3]string{a.Indicator, a.Region, a.Dept} == [3]string{b.Indicator, b.Region, b.Dept} || !sort.StringsAreSorted([]string{a.Indicator + "\x00" + a.Region + "\x00" + a.Dept, b.Indicator + "\x00" + b.Region + "\x00" + b.Dept}) {
			diffs = append(diffs, fmt.Sprintf("results not sorted at %d", i))
			break
		}
	}
	sort.Strings(diffs)
	return diffs
}

func sameNum(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func closeVal(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) <= 1e-9
}

func show(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func TestComputeMatchesReferenceOnSample(t *testing.T) {
	cases := []struct {
		expected string
		args     []string
	}{
		{"expected-month.json", []string{"--as-of", "2026-10-09T12:00:00+08:00", "--period", "month"}},
		{"expected-week-by-dept.json", []string{"--as-of", "2026-10-09T12:00:00+08:00", "--period", "week", "--by", "dept"}},
	}
	for _, tc := range cases {
		t.Run(tc.expected, func(t *testing.T) {
			dir := filepath.Join("testdata", "sample")
			var stdout, stderr bytes.Buffer
			code := Run(append([]string{"compute", "--data", dir}, tc.args...), &stdout, &stderr)
			if code != exitOK {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
			}
			var got, want computeDoc
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatalf("output is not JSON: %v", err)
			}
			raw, err := os.ReadFile(filepath.Join(dir, tc.expected))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if d := diffDocs(got, want); len(d) > 0 {
				if len(d) > 30 {
					d = append(d[:30], fmt.Sprintf("... and %d more", len(d)-30))
				}
				t.Errorf("%d differences from the reference:\n%s", len(d), strings.Join(d, "\n"))
			}
		})
	}
}
