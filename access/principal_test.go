package access

import (
	"context"
	"testing"

	"github.com/yiping-ioc/yiping/region"
)

func TestCovers(t *testing.T) {
	cases := []struct {
		scope, code string
		want        bool
	}{
		{"620000", "620000", true},
		{"620000", "620800", true},
		{"620000", "620802", true},
		{"620000", "620802001", true},
		{"620800", "620802", true},
		{"620800", "620802001", true},
		{"620802", "620802", true},
		{"620802", "620802001", true},
		{"620802", "620800", false},
		{"620802", "620000", false},
		{"620802", "620821", false},
		{"620802", "620821001", false},
		{"620800", "620100", false},
		{"620000", "630000", false},
		{"620000", "630100", false},
		{"620802001", "620802001", true},
		{"620802001", "620802002", false},
		{"620802001", "620802", false},
		{"441900", "441900003", true}, // a city without counties: its townships are below it
		{"440000", "441900003", true},
		{"620000", "", false},
		{"620000", "62", false},
		{"620000", "62080x", false},
		{"620000", "6208020010", false},
		{"620000", "000000", false},
		{"", "620000", false},
	}
	for _, tc := range cases {
		p := &Principal{Region: regionCode(tc.scope)}
		if got := p.Covers(tc.code); got != tc.want {
			t.Errorf("scope %s covers %q = %v, want %v", tc.scope, tc.code, got, tc.want)
		}
	}
	var nilP *Principal
	if nilP.Covers("620000") || nilP.HasRole(RoleAdmin) || nilP.CheckCSRF("x") {
		t.Error("a nil principal allowed something")
	}
}

func regionCode(s string) region.Code { return region.Code(s) }

func TestHasRole(t *testing.T) {
	p := &Principal{Role: RoleOperator}
	if !p.HasRole(RoleAnalyst, RoleOperator) || p.HasRole(RoleAdmin) || p.HasRole() {
		t.Fatal("HasRole")
	}
}

func TestContext(t *testing.T) {
	if _, ok := FromContext(context.Background()); ok {
		t.Fatal("principal in an empty context")
	}
	p := &Principal{Name: "li"}
	got, ok := FromContext(WithPrincipal(context.Background(), p))
	if !ok || got != p {
		t.Fatal("principal lost")
	}
	if _, ok := FromContext(WithPrincipal(context.Background(), nil)); ok {
		t.Fatal("a nil principal counts")
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range UserRoles() {
		if got, err := ParseRole(string(r)); got != r || err != nil {
			t.Errorf("ParseRole(%s) = %v %v", r, got, err)
		}
	}
	for _, s := range []string{"", "Admin", "screen", "root"} {
		if _, err := ParseRole(s); err == nil {
			t.Errorf("ParseRole(%q) accepted", s)
		}
	}
}
