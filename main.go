// Command yiping is the operations command center (一屏) of a digital
// government: it collects platform records, computes the assessment
// indicators, keeps their history and pushes them live to wall screens.
package main

import (
	"os"
	_ "time/tzdata" // the business zone must resolve in minimal images without tzdata
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
