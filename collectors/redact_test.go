package collectors

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://zwfw.example.gov.cn/api/v1/cases", "https://zwfw.example.gov.cn/api/v1/cases"},
		{"https://u:pw@h:8443/api?appkey=K&page=2", "https://u:<redacted>@h:8443/api?appkey=<redacted>&page=<redacted>"},
		{"https://TOKEN@h/x", "https://<redacted>@h/x"},
		{"http://h/x?flag&empty=&k=v#access_token=T", "http://h/x?<redacted>&empty=&k=<redacted>#<redacted>"},
		{"postgres://yiping:p@ss:w0rd@db:5432/zwfw?sslmode=disable&password=X", "postgres://yiping:<redacted>@db:5432/zwfw?sslmode=<redacted>&password=<redacted>"},
		{"http://h/path/with@sign", "http://h/path/with@sign"},
		{"/relative?k=v", "/relative?k=<redacted>"},
		{"%zz://bad url?k=v", "%zz://bad url?k=<redacted>"},
	}
	for _, tc := range tests {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if again := RedactURL(RedactURL(tc.in)); again != tc.want {
			t.Errorf("RedactURL twice on %q = %q", tc.in, again)
		}
	}
}

func TestRedactText(t *testing.T) {
	tests := []struct{ in, want string }{
		{`Get "https://u:pw@h/api?appkey=K": dial tcp: refused`, `Get "https://u:<redacted>@h/api?appkey=<redacted>": dial tcp: refused`},
		{"GET https://h/api?appkey=K: 500", "GET https://h/api?appkey=<redacted>: 500"},
		{"see https://h/a?k=v.", "see https://h/a?k=<redacted>."},
		{"host=db user=u password=s3cret dbname=z", "host=db user=u password=<redacted> dbname=z"},
		{"token=abc, sign=xyz; apikey=1)", "token=<redacted>, sign=<redacted>; apikey=<redacted>)"},
		{"no secrets here: 3 rows", "no secrets here: 3 rows"},
	}
	for _, tc := range tests {
		if got := RedactText(tc.in); got != tc.want {
			t.Errorf("RedactText(%q) =\n %q, want\n %q", tc.in, got, tc.want)
		}
		if again := RedactText(tc.want); again != tc.want {
			t.Errorf("RedactText is not idempotent on %q: %q", tc.want, again)
		}
	}
}

func TestRedactErrorUnwraps(t *testing.T) {
	inner := &url.Error{Op: "Get", URL: "https://h/x?appkey=K", Err: context.DeadlineExceeded}
	err := RedactError(fmt.Errorf("page 1: %w", inner))
	if err.Error() != `page 1: Get "https://h/x?appkey=<redacted>": context deadline exceeded` {
		t.Errorf("message %q", err)
	}
	var ue *url.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ue) {
		t.Errorf("RedactError hides what it wraps")
	}
	if RedactError(err) != err || RedactError(nil) != nil {
		t.Errorf("RedactError is not idempotent")
	}
	if plain := errors.New("x"); RedactError(plain) != plain {
		t.Errorf("an error without secrets is wrapped")
	}
}
