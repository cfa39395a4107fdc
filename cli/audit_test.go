package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/yiping-ioc/yiping/access"
)

func TestAuditCommand(t *testing.T) {
	dir := t.TempDir()
	runSteps(t, dir, []cliStep{
		{args: []string{"audit"}, code: exitFailure, err: "no access store"},
		{args: []string{"user", "add", "--name", "li", "--role", "admin", "--region", "620000"}, stdin: "correct horse battery\n", code: exitOK},
		{args: []string{"token", "add", "--screen", "overview", "--region", "620000"}, code: exitOK},
	})
	svc, _ := openStore(t, dir)
	svc.Login(t.Context(), "li", "wrong password!!", "192.0.2.1")
	svc.Login(t.Context(), "\x1b[2Jevil", "wrong password!!", "192.0.2.1") // an escape sequence aimed at the admin's terminal

	actor := "cli:" + osUser()
	runSteps(t, dir, []cliStep{
		{args: []string{"audit"}, code: exitOK, out: "login_failed  li", err: ""},
		{args: []string{"audit", "--action", "user_add"}, code: exitOK, out: actor + "  user_add  li", notOut: "token_add"},
		{args: []string{"audit", "--actor", actor, "--action", "token_add"}, code: exitOK, out: "screen:overview region=620000"},
		{args: []string{"audit", "--since", "1h", "--until", time.Now().Add(time.Minute).Format(time.RFC3339)}, code: exitOK, out: "user_add"},
		{args: []string{"audit", "--since", "2999-01-01"}, code: exitOK, notOut: "user_add"},
		{args: []string{"audit", "--action", "login_failed"}, code: exitOK, out: `\x1b[2jevil`, notOut: "\x1b"},
		{args: []string{"audit", "--limit", "1"}, code: exitOK, err: "more: --before "},
		{args: []string{"audit", "--since", "yesterday"}, code: exitUsage, err: "--since"},
		{args: []string{"audit", "extra"}, code: exitUsage, err: "unexpected argument"},
	})

	var out, errb bytes.Buffer
	if code := RunWithInput([]string{"audit", "--json", "--data-dir", dir}, nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var es []access.AuditEntry
	if err := json.Unmarshal(out.Bytes(), &es); err != nil || len(es) != 4 || es[0].Addr != "192.0.2.1" {
		t.Fatalf("%v %s", err, out.String())
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"24h", now.Add(-24 * time.Hour), true},
		{"90m", now.Add(-90 * time.Minute), true},
		{"2026-05-01T08:00:00+08:00", time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), true},
		{"2026-05-01", time.Date(2026, 5, 1, 0, 0, 0, 0, time.Local), true},
		{"-1h", time.Time{}, false},
		{"2026-05-01 08:00", time.Time{}, false},
		{"yesterday", time.Time{}, false},
	}
	for _, tc := range cases {
		got, err := parseWhen(tc.in, now)
		if (err == nil) != tc.ok || (tc.ok && !got.Equal(tc.want)) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if err != nil && !strings.Contains(err.Error(), tc.in) {
			t.Errorf("error %q does not quote the input", err)
		}
	}
}
