package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yiping-ioc/yiping/access"
)

// cliStep is one command line and what it must do.
type cliStep struct {
	args       []string
	stdin      string
	code       int
	out, err   string // substrings of stdout and stderr
	notOut     string // a substring stdout must not have
	checkAfter func(t *testing.T)
}

func runSteps(t *testing.T, dir string, steps []cliStep) {
	t.Helper()
	for i, s := range steps {
		args := append(append([]string(nil), s.args...), "--data-dir", dir)
		var out, errb bytes.Buffer
		code := RunWithInput(args, strings.NewReader(s.stdin), &out, &errb)
		if code != s.code || !strings.Contains(out.String(), s.out) || !strings.Contains(errb.String(), s.err) ||
			(s.notOut != "" && strings.Contains(out.String(), s.notOut)) {
			t.Fatalf("step %d: yiping %s\nexit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant stdout with %q, stderr with %q",
				i, strings.Join(s.args, " "), code, s.code, out.String(), errb.String(), s.out, s.err)
		}
		if s.checkAfter != nil {
			s.checkAfter(t)
		}
	}
}

// openStore opens the store the commands wrote, as the server would.
func openStore(t *testing.T, dir string) (*access.Service, access.Store) {
	t.Helper()
	st, err := access.OpenStore(context.Background(), access.StoreConfig{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := access.New(access.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	return svc, st
}

func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	const pw = "correct horse battery\n"
	runSteps(t, dir, []cliStep{
		{args: []string{"user", "list"}, code: exitFailure, err: "no access store at " + filepath.Join(dir, "access.db")},
		{args: []string{"user", "add", "--name", "Li", "--role", "analyst", "--region", "620802"}, stdin: pw,
			code: exitOK, out: "user li added: analyst, region 620802 崆峒区", err: "creating the access store"},
		{args: []string{"user", "add", "--name", "li", "--role", "analyst", "--region", "620802"}, stdin: pw,
			code: exitFailure, err: "already exists"},
		{args: []string{"user", "add", "--name", "wang", "--role", "leader", "--region", "620000", "--password", "hunter2hunter2"},
			code: exitUsage, err: "never taken on the command line"},
		{args: []string{"user", "add", "--name", "wang", "--role", "leader", "--region", "620000", "--password=x"},
			code: exitUsage, err: "never taken on the command line"},
		{args: []string{"user", "add", "--name", "wang", "--role", "leader", "--region", "620000"}, stdin: "short\n",
			code: exitUsage, err: "password: must be at least 12 characters"},
		{args: []string{"user", "add", "--name", "wang", "--role", "leader", "--region", "620000"},
			code: exitUsage, err: "no password on standard input"},
		{args: []string{"user", "add", "--name", "wang", "--role", "boss", "--region", "620000"}, stdin: pw,
			code: exitUsage, err: `role: "boss": want leader, analyst, operator or admin`},
		{args: []string{"user", "add", "--name", "wang", "--role", "leader", "--region", "629999"}, stdin: pw,
			code: exitUsage, err: "region: 629999 is not a division"},
		{args: []string{"user", "add", "--name", "wang", "--role", "leader"}, stdin: pw,
			code: exitUsage, err: "--name, --role and --region are required"},
		// CRLF from a Windows script, and no newline at all, are both one line.
		{args: []string{"user", "add", "--name", "wang", "--role", "leader", "--region", "620000"}, stdin: "a long password\r\n",
			code: exitOK, out: "user wang added"},
		{args: []string{"user", "add", "--name", "zhao", "--role", "admin", "--region", "620800"}, stdin: "no newline at the end",
			code: exitOK, out: "user zhao added"},
		{args: []string{"user", "list"}, code: exitOK, out: "li    analyst  620802 崆峒区  active"},
		{args: []string{"user", "disable", "li"}, code: exitOK, out: "user li disabled"},
		{args: []string{"user", "list"}, code: exitOK, out: "disabled"},
		{args: []string{"user", "disable", "nobody"}, code: exitFailure, err: "not found"},
		{args: []string{"user", "disable"}, code: exitUsage, err: "want 1 argument"},
		{args: []string{"user", "enable", "li"}, code: exitOK, out: "user li enabled", notOut: "disabled"},
		{args: []string{"user", "passwd", "li"}, stdin: "another long password\n", code: exitOK, out: "password of li set"},
		{args: []string{"user", "frobnicate"}, code: exitUsage, err: "unknown subcommand"},
	})

	svc, st := openStore(t, dir)
	if _, err := svc.Login(t.Context(), "li", "another long password", ""); err != nil {
		t.Fatalf("login with the password set by the CLI: %v", err)
	}
	if _, err := svc.Login(t.Context(), "wang", "a long password", ""); err != nil {
		t.Fatalf("CRLF password: %v", err)
	}
	es, err := st.Audit(t.Context(), access.AuditFilter{Actor: "cli:" + osUser()})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for i := len(es) - 1; i >= 0; i-- {
		actions = append(actions, es[i].Action+" "+es[i].Target)
	}
	want := "user_add li,user_add wang,user_add zhao,user_disable li,user_enable li,password_set li"
	if strings.Join(actions, ",") != want {
		t.Fatalf("audit by the CLI: %v\nwant %s", actions, want)
	}
}

func TestUserListJSON(t *testing.T) {
	dir := t.TempDir()
	runSteps(t, dir, []cliStep{{args: []string{"user", "add", "--name", "li", "--role", "operator", "--region", "620100"},
		stdin: "correct horse battery\n", code: exitOK}})
	var out, errb bytes.Buffer
	if code := RunWithInput([]string{"user", "list", "--json", "--data-dir", dir}, nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var us []access.User
	if err := json.Unmarshal(out.Bytes(), &us); err != nil || len(us) != 1 || us[0].Name != "li" || us[0].Role != access.RoleOperator {
		t.Fatalf("%v %s", err, out.String())
	}
	if strings.Contains(out.String(), "argon2") || strings.Contains(out.String(), "hash") {
		t.Fatal("the listing shows the password hash")
	}
}

func TestUserFlagsAnywhere(t *testing.T) {
	dir := t.TempDir()
	runSteps(t, dir, []cliStep{{args: []string{"user", "add", "--name", "li", "--role", "operator", "--region", "620100"},
		stdin: "correct horse battery\n", code: exitOK}})
	var out, errb bytes.Buffer
	// The flag after the name, and the directory from the environment.
	t.Setenv("YIPING_DATA_DIR", dir)
	if code := RunWithInput([]string{"user", "disable", "li"}, nil, &out, &errb); code != exitOK {
		t.Fatalf("env data dir: exit %d: %s", code, errb.String())
	}
	t.Setenv("YIPING_DATA_DIR", "")
	if code := RunWithInput([]string{"user", "enable", "li", "--data-dir", dir}, nil, &out, &errb); code != exitOK {
		t.Fatalf("flag after the name: exit %d: %s", code, errb.String())
	}
}

func TestUserHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := RunWithInput([]string{"user", "--help"}, nil, &out, &errb); code != exitOK ||
		!strings.Contains(out.String(), "yiping user add --name NAME") || !strings.Contains(out.String(), "YIPING_ACCESS_DSN") {
		t.Fatalf("user --help: %d\n%s", code, out.String())
	}
	out.Reset()
	if code := RunWithInput([]string{"user"}, nil, &out, &errb); code != exitUsage {
		t.Fatalf("user alone: %d", code)
	}
	out.Reset()
	if code := Run([]string{"--help"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "  user ") ||
		!strings.Contains(out.String(), "  token ") || !strings.Contains(out.String(), "  audit ") {
		t.Fatalf("yiping --help does not list the commands:\n%s", out.String())
	}
}

func TestStoreFlagsPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "yiping.yaml")
	if err := os.WriteFile(cfgFile, []byte("data_dir: /srv/yiping\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		flags storeFlags
		env   map[string]string
		want  access.StoreConfig
	}{
		{"default", storeFlags{}, nil, access.StoreConfig{DataDir: "./data"}},
		{"env dir", storeFlags{}, map[string]string{"YIPING_DATA_DIR": "/e"}, access.StoreConfig{DataDir: "/e"}},
		{"flag dir over env", storeFlags{dataDir: "/f"}, map[string]string{"YIPING_DATA_DIR": "/e"}, access.StoreConfig{DataDir: "/f"}},
		{"config file", storeFlags{config: cfgFile}, nil, access.StoreConfig{DataDir: "/srv/yiping"}},
		{"config from env", storeFlags{}, map[string]string{"YIPING_CONFIG": cfgFile}, access.StoreConfig{DataDir: "/srv/yiping"}},
		{"env dir over config", storeFlags{config: cfgFile}, map[string]string{"YIPING_DATA_DIR": "/e"}, access.StoreConfig{DataDir: "/e"}},
		{"env dsn", storeFlags{dataDir: "/f"}, map[string]string{"YIPING_ACCESS_DSN": "postgres://e"}, access.StoreConfig{DSN: "postgres://e"}},
		{"flag dsn over env", storeFlags{dsn: "postgres://f"}, map[string]string{"YIPING_ACCESS_DSN": "postgres://e"}, access.StoreConfig{DSN: "postgres://f"}},
	}
	for _, tc := range cases {
		f := tc.flags
		got, err := f.resolve(func(k string) string { return tc.env[k] })
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v %v, want %+v", tc.name, got, err, tc.want)
		}
	}
	f := storeFlags{config: filepath.Join(dir, "missing.yaml")}
	if _, err := f.resolve(func(string) string { return "" }); err == nil {
		t.Error("a missing config file was ignored")
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"li":             "li",
		"平凉 hall":        "平凉 hall",
		"\x1b[31mred":    `\x1b[31mred`,
		"a\nb":           `a\x0ab`,
		"bad \xff utf-8": `bad \xfffd utf-8`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}
