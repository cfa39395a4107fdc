// Command yiping is the operations command center (一屏) of a digital
// government: it collects platform records, computes the assessment
// indicators, keeps their history and pushes them live to wall screens.
// Everything it does lives behind cli.Run.
package main

import (
	"os"
	_ "time/tzdata" // the business zone must resolve in minimal images without tzdata

	"github.com/yiping-ioc/yiping/cli"
)

func main() {
	os.Exit(cli.RunWithInput(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
