package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/yiping-ioc/yiping/access"
)

func TestTokenCommands(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := RunWithInput([]string{"token", "add", "--playlist", "hall", "--region", "620000", "--note", "大厅 left wall", "--data-dir", dir}, nil, &out, &errb)
	if code != exitOK {
		t.Fatalf("token add: exit %d\n%s", code, errb.String())
	}
	m := regexp.MustCompile(`(?m)^id +([a-z2-7]{8})\nsecret +(ypt_[A-Za-z0-9_-]{22})\n$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("token add printed:\n%s", out.String())
	}
	id, secret := m[1], m[2]
	if !strings.Contains(errb.String(), "shown this once") || strings.Contains(errb.String(), secret) {
		t.Fatalf("stderr: %s", errb.String())
	}
	svc, _ := openStore(t, dir)
	p, err := svc.AuthenticateScreenToken(t.Context(), secret)
	if err != nil || p.Playlist != "hall" || p.Region != "620000" || p.TokenID != id {
		t.Fatalf("the printed secret: %+v %v", p, err)
	}

	runSteps(t, dir, []cliStep{
		{args: []string{"token", "list"}, code: exitOK, out: id + "  playlist:hall  620000 甘肃省  active", notOut: secret},
		{args: []string{"token", "add", "--screen", "overview", "--playlist", "hall", "--region", "620000"}, code: exitUsage, err: "one of --screen and --playlist"},
		{args: []string{"token", "add", "--screen", "overview"}, code: exitUsage, err: "give --region"},
		{args: []string{"token", "add", "--screen", "Over/View", "--region", "620000"}, code: exitUsage, err: "screen: \"Over/View\""},
		{args: []string{"token", "add", "--screen", "overview", "--region", "620000", "--note", "a\tb"}, code: exitUsage, err: "note:"},
		{args: []string{"token", "revoke", "nonsense!"}, code: exitUsage, err: "want the 8-character id"},
		{args: []string{"token", "revoke", "aaaaaaaa"}, code: exitFailure, err: "not found"},
		{args: []string{"token", "revoke"}, code: exitUsage, err: "want 1 argument"},
		{args: []string{"token", "revoke", id}, code: exitOK, out: "token " + id + " revoked"},
		{args: []string{"token", "list"}, code: exitOK, out: "revoked 2"},
		{args: []string{"token", "rotate"}, code: exitUsage, err: "unknown subcommand"},
	})
	// A server that has not seen the token for ValidTTL reads the store
	// afresh (the access package tests that timing with a fake clock).
	svc, _ = openStore(t, dir)
	if _, err := svc.AuthenticateScreenToken(t.Context(), secret); !errors.Is(err, access.ErrRevoked) {
		t.Fatalf("after token revoke: %v", err)
	}
}

func TestTokenJSON(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := RunWithInput([]string{"token", "add", "--screen", "overview", "--region", "620802", "--json", "--data-dir", dir}, nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var added struct {
		ID, Screen, Region, Secret, CreatedBy string `json:",omitempty"`
	}
	if err := json.Unmarshal(out.Bytes(), &added); err != nil || added.Screen != "overview" || !strings.HasPrefix(added.Secret, "ypt_") {
		t.Fatalf("%v %s", err, out.String())
	}
	out.Reset()
	if code := RunWithInput([]string{"token", "list", "--json", "--data-dir", dir}, nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var ts []access.Token
	if err := json.Unmarshal(out.Bytes(), &ts); err != nil || len(ts) != 1 || ts[0].ID != added.ID || ts[0].CreatedBy != "cli:"+osUser() {
		t.Fatalf("%v %s", err, out.String())
	}
	if strings.Contains(out.String(), added.Secret) {
		t.Fatal("the list shows the secret")
	}
}
