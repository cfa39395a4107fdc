// Package cli is Yiping's command line: the commands (serve, compute, and
// the administrators' user and token commands), their flags, environment
// variables and configuration file. main is os.Exit(cli.Run(...)).
package cli

import (
	"fmt"
	"io"
	"strings"
)

// Exit statuses shared by the subcommands.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	// exitPartial means the command finished but skipped unreadable rows.
	exitPartial = 3
)

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands lists the commands; stdin is what the ones that read standard
// input get (nil when only listing them).
func commands(stdin io.Reader) []command {
	return []command{
		{"serve", "run the command center: collectors, engine, store, API and wall screens", runServe},
		{"compute", "compute every indicator from an export directory and print JSON (SPEC.md §7)", runCompute},
		{"user", "manage users: add, passwd, disable, enable, list (passwords on stdin)", withInput(stdin, runUser)},
		{"token", "manage the screen tokens of kiosk walls: add, revoke, list", withInput(stdin, runToken)},
		{"audit", "print the audit log: logins, user and token changes, exports", withInput(stdin, runAudit)},
		{"version", "print the version", func(_ []string, stdout, _ io.Writer) int {
			fmt.Fprintln(stdout, "yiping", version)
			return exitOK
		}},
	}
}

// version is set at build time with -ldflags "-X github.com/yiping-ioc/yiping/cli.version=...".
var version = "dev"

func usage(w io.Writer) {
	fmt.Fprint(w, `yiping — 一屏 operations command center

Usage:
  yiping <command> [flags]

Commands:
`)
	for _, c := range commands(nil) {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "yiping <command> --help" for the flags of a command.

Examples:
  yiping serve                         # http://localhost:8080, state in ./data
  yiping compute --data ./export --as-of 2026-06-30T18:00:00+08:00 --period month
`)
}

// Run is RunWithInput with an empty standard input.
func Run(args []string, stdout, stderr io.Writer) int {
	return RunWithInput(args, strings.NewReader(""), stdout, stderr)
}

// RunWithInput is the whole program behind main, so tests can drive it:
// args are the command line without the program name, stdin what the
// commands that read standard input (a password) read; the result is the
// exit status.
func RunWithInput(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands(stdin) {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "yiping: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}
