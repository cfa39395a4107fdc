package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"text/tabwriter"
	"time"

	"github.com/yiping-ioc/yiping/access"
)

const tokenUsage = `Usage:
  yiping token add (--screen ID | --playlist ID) --region CODE [--note TEXT] [--json]
  yiping token revoke ID
  yiping token list [--json]

A screen token lets a kiosk wall browser that cannot log in show one screen
or one playlist (a dashboards id, e.g. --playlist hall) for one region and
everything below it. "token add" prints the token's id and its secret
(ypt_…): the secret is shown this once and only its hash is kept, so put it
in the kiosk's start URL (?token=…) right away. "token revoke" ends it: the
walls using it close within seconds. Every change is recorded in the audit
log as actor "cli:<your OS user>".

`

func runToken(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := stderr
		if len(args) > 0 {
			w = stdout
		}
		fmt.Fprint(w, tokenUsage+storeUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("token "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, tokenUsage+storeUsage+"\nFlags:\n"); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	var in access.NewToken
	var asJSON bool
	want := 0
	switch sub {
	case "add":
		fs.StringVar(&in.Screen, "screen", "", "the screen id the token opens")
		fs.StringVar(&in.Playlist, "playlist", "", "the playlist id the token opens")
		fs.StringVar(&in.Region, "region", "", "region scope, a GB/T 2260 code")
		fs.StringVar(&in.Note, "note", "", "where the screen is, for the list (at most 200 characters)")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	case "revoke":
		want = 1
	case "list":
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	default:
		fmt.Fprintf(stderr, "yiping token: unknown subcommand %q\n\n%s", sub, tokenUsage)
		return exitUsage
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(pos) != want {
		fmt.Fprintf(stderr, "yiping token %s: want %d argument(s), got %q\n", sub, want, pos)
		return exitUsage
	}
	if sub == "add" && ((in.Screen == "") == (in.Playlist == "") || in.Region == "") {
		fmt.Fprintln(stderr, "yiping token add: give --region and one of --screen and --playlist")
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	env, err := openAccess(ctx, sf, sub == "add", stderr)
	if err != nil {
		fmt.Fprintf(stderr, "yiping token %s: %v\n", sub, err)
		return exitFailure
	}
	defer env.close()

	switch sub {
	case "add":
		err = addToken(ctx, env, in, stdout, stderr, asJSON)
	case "revoke":
		if err = env.svc.RevokeToken(ctx, env.actor, pos[0]); err == nil {
			fmt.Fprintf(stdout, "token %s revoked\n", pos[0])
		}
	case "list":
		err = listTokens(ctx, env.svc, stdout, asJSON)
	}
	if err != nil {
		fmt.Fprintf(stderr, "yiping token %s: %v\n", sub, err)
		return exitFor(err)
	}
	return exitOK
}

func addToken(ctx context.Context, env *adminEnv, in access.NewToken, stdout, stderr io.Writer, asJSON bool) error {
	secret, t, err := env.svc.AddToken(ctx, env.actor, in)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			access.Token
			Secret string `json:"secret"`
		}{t, secret})
	}
	fmt.Fprintf(stdout, "id      %s\nsecret  %s\n", t.ID, secret)
	fmt.Fprintf(stderr, "token %s opens %s for %s; the secret is shown this once\n", t.ID, t.Target(), regionLabel(t.Region))
	return nil
}

func listTokens(ctx context.Context, svc *access.Service, stdout io.Writer, asJSON bool) error {
	ts, err := svc.ListTokens(ctx, nil)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSONList(stdout, ts)
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tOPENS\tREGION\tSTATE\tCREATED\tBY\tLAST USED\tNOTE")
	for _, t := range ts {
		state := "active"
		if t.Revoked() {
			state = "revoked " + when(t.RevokedAt)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Target(), regionLabel(t.Region), state,
			when(t.CreatedAt), printable(t.CreatedBy), when(t.LastUsedAt), printable(t.Note))
	}
	return w.Flush()
}

// when formats a time for a table, in the local zone; "-" for none.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
