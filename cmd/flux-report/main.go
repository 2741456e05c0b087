// Command flux-report draws a finished run from its job log; `flux report`
// runs it (see the report package). It is a program of its own, not a
// command inside flux, so that its plotting library (gonum/plot, whose
// start-up parses a dozen fonts) is not loaded by every flux process: a
// tree of instances starts one per child.
package main

import (
	"os"

	"github.com/fluxtaskfarm/flux/report"
)

func main() { os.Exit(report.Main(os.Args[1:], os.Stdout, os.Stderr)) }
