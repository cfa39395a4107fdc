package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/yiping-ioc/yiping/access"
)

const auditUsage = `Usage:
  yiping audit [--since WHEN] [--until WHEN] [--actor NAME] [--action ACTION] [--target T] [--limit N] [--before ID] [--json]

Prints the audit log, newest first: logins and failed logins, logouts, user
and token changes, exports and (later) dispatch actions, with who, when,
what and from where. WHEN is a time (2026-06-01T08:00:00+08:00), a date in
the local zone (2026-06-01), or a duration back from now (24h, 90m).
Actions: login, login_failed, login_locked, logout, user_add, user_disable,
user_enable, password_set, token_add, token_revoke, export, first_start.
A page ends with the id to pass as --before for the next one.

`

func runAudit(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, auditUsage+storeUsage+"\nFlags:\n"); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	var since, until string
	var f access.AuditFilter
	var asJSON bool
	fs.StringVar(&since, "since", "", "entries at or after WHEN")
	fs.StringVar(&until, "until", "", "entries before WHEN")
	fs.StringVar(&f.Actor, "actor", "", `only this actor (a user name, "token:<id>", "cli:<OS user>")`)
	fs.StringVar(&f.Action, "action", "", "only this action")
	fs.StringVar(&f.Target, "target", "", "only this target")
	fs.IntVar(&f.Limit, "limit", access.DefaultAuditLimit, fmt.Sprintf("at most this many entries (up to %d)", access.MaxAuditLimit))
	fs.Int64Var(&f.BeforeID, "before", 0, "only entries older than this id (the next page)")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "yiping audit: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	now := time.Now()
	for _, p := range []struct {
		flag, val string
		dst       *time.Time
	}{{"since", since, &f.Since}, {"until", until, &f.Until}} {
		if p.val == "" {
			continue
		}
		if *p.dst, err = parseWhen(p.val, now); err != nil {
			fmt.Fprintf(stderr, "yiping audit: --%s: %v\n", p.flag, err)
			return exitUsage
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	env, err := openAccess(ctx, sf, false, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "yiping audit: %v\n", err)
		return exitFailure
	}
	defer env.close()
	es, err := env.svc.ListAudit(ctx, f)
	if err != nil {
		fmt.Fprintf(stderr, "yiping audit: %v\n", err)
		return exitFailure
	}
	if asJSON {
		if err := writeJSONList(stdout, es); err != nil {
			return exitFailure
		}
		return exitOK
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tTIME\tACTOR\tACTION\tTARGET\tFROM\tDETAIL")
	for _, e := range es {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, when(e.At), printable(e.Actor), printable(e.Action),
			dash(printable(e.Target)), dash(printable(e.Addr)), printable(e.Detail))
	}
	w.Flush()
	if len(es) == auditLimit(f.Limit) {
		fmt.Fprintf(stderr, "more: --before %d\n", es[len(es)-1].ID)
	}
	return exitOK
}

func auditLimit(n int) int {
	if n <= 0 {
		return access.DefaultAuditLimit
	}
	return min(n, access.MaxAuditLimit)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// parseWhen reads an RFC 3339 time, a local date, or a duration back from now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("%q: a duration back from now is positive", s)
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if strings.ContainsAny(s, "T:") {
		return time.Time{}, fmt.Errorf("%q: want RFC 3339 with a zone, e.g. 2026-06-01T08:00:00+08:00", s)
	}
	return time.Time{}, fmt.Errorf("%q: want a time (2026-06-01T08:00:00+08:00), a date (2026-06-01) or a duration (24h)", s)
}
