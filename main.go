// Command flux is the task farm's single binary. Invoked as flux-capacitor
// (a symlink) or as `flux capacitor` it runs that command; see commands/.
package main

import (
	"os"

	"github.com/fluxtaskfarm/flux/commands"
)

func main() {
	os.Exit(commands.Main(os.Args))
}
