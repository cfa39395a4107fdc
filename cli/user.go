package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"text/tabwriter"

	"github.com/yiping-ioc/yiping/access"
	"github.com/yiping-ioc/yiping/region"
)

const userUsage = `Usage:
  yiping user add --name NAME --role ROLE --region CODE   password on stdin, one line
  yiping user passwd NAME                                 new password on stdin; ends NAME's sessions
  yiping user disable NAME                                ends all of NAME's sessions at once
  yiping user enable NAME
  yiping user list [--json]

Roles: leader, analyst, operator, admin. CODE is a GB/T 2260 region code
(620000 province, 620800 city, 620802 county, 620802001 township): the user
sees that region and everything below it. Names are a-z, 0-9 and . _ - @
(case-insensitive). Passwords have at least 12 characters and are never
taken on the command line:

  printf '%s\n' "$PASSWORD" | yiping user add --name li --role analyst --region 620802

At a terminal the password is asked twice without echo. Every change is
recorded in the audit log as actor "cli:<your OS user>".

`

func runUser(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := stderr
		if len(args) > 0 {
			w = stdout
		}
		io.WriteString(w, userUsage+storeUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub, args := args[0], args[1:]
	if refusePasswordFlag("user "+sub, args, stderr) {
		return exitUsage
	}
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { io.WriteString(stderr, userUsage+storeUsage+"\nFlags:\n"); fs.PrintDefaults() }
	sf := addStoreFlags(fs)
	var name, role, reg string
	var asJSON bool
	var want int // positional arguments
	switch sub {
	case "add":
		fs.StringVar(&name, "name", "", "user name")
		fs.StringVar(&role, "role", "", "leader, analyst, operator or admin")
		fs.StringVar(&reg, "region", "", "region scope, a GB/T 2260 code")
	case "disable", "enable", "passwd":
		want = 1
	case "list":
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	default:
		fmt.Fprintf(stderr, "yiping user: unknown subcommand %q\n\n%s", sub, userUsage)
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
		fmt.Fprintf(stderr, "yiping user %s: want %d argument(s), got %q\n", sub, want, pos)
		return exitUsage
	}
	if sub == "add" && (name == "" || role == "" || reg == "") {
		fmt.Fprintln(stderr, "yiping user add: --name, --role and --region are required")
		return exitUsage
	}
	if want == 1 {
		name = pos[0]
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// The password is read before the store is opened, so a typing
	// mistake leaves nothing behind.
	var password string
	if sub == "add" || sub == "passwd" {
		if password, err = readPassword(stdin, stderr, name); err != nil {
			fmt.Fprintf(stderr, "yiping user %s: %v\n", sub, err)
			return exitUsage
		}
		if err := access.CheckPassword(password); err != nil {
			fmt.Fprintf(stderr, "yiping user %s: %v\n", sub, err)
			return exitUsage
		}
	}
	env, err := openAccess(ctx, sf, sub == "add", stderr)
	if err != nil {
		fmt.Fprintf(stderr, "yiping user %s: %v\n", sub, err)
		return exitFailure
	}
	defer env.close()

	switch sub {
	case "add":
		var u access.User
		u, err = env.svc.AddUser(ctx, env.actor, access.NewUser{Name: name, Role: access.Role(role), Region: reg, Password: password})
		if err == nil {
			fmt.Fprintf(stdout, "user %s added: %s, region %s\n", u.Name, u.Role, regionLabel(u.Region))
		}
	case "passwd":
		if err = env.svc.SetPassword(ctx, env.actor, name, password); err == nil {
			fmt.Fprintf(stdout, "password of %s set; their sessions have ended\n", name)
		}
	case "disable":
		if err = env.svc.DisableUser(ctx, env.actor, name); err == nil {
			fmt.Fprintf(stdout, "user %s disabled; their sessions have ended\n", name)
		}
	case "enable":
		if err = env.svc.EnableUser(ctx, env.actor, name); err == nil {
			fmt.Fprintf(stdout, "user %s enabled\n", name)
		}
	case "list":
		err = listUsers(ctx, env.svc, stdout, asJSON)
	}
	if err != nil {
		fmt.Fprintf(stderr, "yiping user %s: %v\n", sub, err)
		return exitFor(err)
	}
	return exitOK
}

func listUsers(ctx context.Context, svc *access.Service, stdout io.Writer, asJSON bool) error {
	us, err := svc.ListUsers(ctx, nil)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSONList(stdout, us)
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tROLE\tREGION\tSTATE\tCREATED\tUPDATED")
	for _, u := range us {
		state := "active"
		if u.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, regionLabel(u.Region), state, when(u.CreatedAt), when(u.UpdatedAt))
	}
	return w.Flush()
}

// regionLabel is a code with its name: "620802 崆峒区".
func regionLabel(c region.Code) string {
	if n, ok := region.Default().Name(c); ok {
		return string(c) + " " + n
	}
	return string(c)
}
