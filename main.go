// Command flux is the task farm's single binary. Invoked as flux-capacitor
// (a symlink) or as `flux capacitor` it runs that command; see commands/.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/fluxtaskfarm/flux/commands"
)

func main() {
	// FLUX_CPUPROFILE=PREFIX writes a CPU profile of every flux process of a
	// run to PREFIX.<pid>, for finding where a tree of instances spends its
	// time (go tool pprof).
	if prefix := os.Getenv("FLUX_CPUPROFILE"); prefix != "" {
		if f, err := os.Create(fmt.Sprintf("%s.%d", prefix, os.Getpid())); err == nil {
			pprof.StartCPUProfile(f)
			code := commands.Main(os.Args)
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(commands.Main(os.Args))
}
