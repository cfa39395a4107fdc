package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"unicode"

	"golang.org/x/term"

	"github.com/yiping-ioc/yiping/access"
)

// This file is the plumbing the administrators' commands (user, token,
// audit) share: where the access store is, who is acting, reading a
// password, and printing what users and attackers may have typed.

// storeUsage is the part of each command's help that says where the
// access store is.
const storeUsage = `The access store is the one "yiping serve" uses. Where it is, first match wins:
  1. --access-dsn, else YIPING_ACCESS_DSN: a PostgreSQL DSN (the data directory is then not used);
  2. the SQLite file access.db in the data directory: --data-dir, else YIPING_DATA_DIR,
     else data_dir in the serve configuration file (--config, else YIPING_CONFIG), else ./data.
`

// storeFlags are the flags that say where the access store is.
type storeFlags struct {
	dataDir, dsn, config string
}

func addStoreFlags(fs *flag.FlagSet) *storeFlags {
	var f storeFlags
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory holding access.db (env YIPING_DATA_DIR; default ./data)")
	fs.StringVar(&f.dsn, "access-dsn", "", "PostgreSQL DSN of the access store, instead of SQLite (env YIPING_ACCESS_DSN)")
	fs.StringVar(&f.config, "config", "", "serve configuration file whose data_dir to use (env YIPING_CONFIG)")
	return &f
}

// resolve applies the precedence of storeUsage.
func (f *storeFlags) resolve(getenv func(string) string) (access.StoreConfig, error) {
	if dsn := first(f.dsn, getenv("YIPING_ACCESS_DSN")); dsn != "" {
		return access.StoreConfig{DSN: dsn}, nil
	}
	dir := first(f.dataDir, getenv("YIPING_DATA_DIR"))
	if cfg := first(f.config, getenv("YIPING_CONFIG")); dir == "" && cfg != "" {
		file, err := loadServeFile(cfg)
		if err != nil {
			return access.StoreConfig{}, err
		}
		if file.AccessDSN != "" {
			return access.StoreConfig{DSN: file.AccessDSN}, nil
		}
		dir = file.DataDir
	}
	return access.StoreConfig{DataDir: first(dir, "./data")}, nil
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// adminEnv is what an administrators' command runs with.
type adminEnv struct {
	store *access.SQLStore
	svc   *access.Service
	actor access.Actor
}

// openAccess opens the store and a service over it. Only commands that
// add something may create a new SQLite store: a list or revoke in the
// wrong directory says so instead of quietly making an empty one.
func openAccess(ctx context.Context, f *storeFlags, create bool, stderr io.Writer) (*adminEnv, error) {
	cfg, err := f.resolve(os.Getenv)
	if err != nil {
		return nil, err
	}
	if cfg.DSN == "" {
		path := filepath.Join(cfg.DataDir, access.SQLiteFile)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			if !create {
				return nil, fmt.Errorf("no access store at %s: is the data directory right? (--data-dir, YIPING_DATA_DIR)", path)
			}
			fmt.Fprintf(stderr, "yiping: creating the access store %s\n", path)
		}
	}
	st, err := access.OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := access.New(access.Config{Store: st, Logger: log})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &adminEnv{store: st, svc: svc, actor: access.Actor{Name: "cli:" + osUser()}}, nil
}

func (e *adminEnv) close() { e.store.Close() }

// osUser names the operating-system account running the command, for the
// audit log.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return fmt.Sprintf("uid%d", os.Getuid())
}

// parseInterspersed parses flags that may come before or after the
// positional arguments ("user disable li --data-dir x" and "user disable
// --data-dir x li" alike) and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// refusePasswordFlag rejects a password given as an argument before the
// flag package gets to say "flag provided but not defined".
func refusePasswordFlag(cmd string, args []string, stderr io.Writer) bool {
	for _, a := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == "password" || name == "pass" || name == "p") {
			fmt.Fprintf(stderr, "yiping %s: a password is never taken on the command line (ps and the shell history would show it);\n"+
				"write it on standard input, one line: printf '%%s\\n' \"$PASSWORD\" | yiping %s ...\n", cmd, cmd)
			return true
		}
	}
	return false
}

// readPassword reads the password: typed twice without echo when stdin is
// a terminal, else the first line of stdin (for scripts).
func readPassword(stdin io.Reader, stderr io.Writer, name string) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(stderr, "Password for %s (at least %d characters): ", name, access.MinPasswordLen)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(stderr, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, access.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("no password on standard input (one line; see --help)")
	}
	return line, nil
}

// printable makes a stored string safe for a terminal: control characters
// (an escape sequence in a user name typed at the login form) are shown
// escaped instead of being interpreted.
func printable(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// exitFor maps an access error to an exit status: bad input is a usage
// error, anything else a failure.
func exitFor(err error) int {
	if errors.Is(err, access.ErrInvalid) {
		return exitUsage
	}
	return exitFailure
}

// withInput adapts a command that reads standard input to the command
// table's signature.
func withInput(stdin io.Reader, run func(args []string, stdin io.Reader, stdout, stderr io.Writer) int) func(args []string, stdout, stderr io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int { return run(args, stdin, stdout, stderr) }
}

// writeJSONList prints a list for scripts: indented JSON, [] when empty
// (never null).
func writeJSONList[T any](w io.Writer, items []T) error {
	if items == nil {
		items = []T{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(items)
}
