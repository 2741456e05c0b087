// Package commands holds the command-line interface: one thin urfave/cli
// command per file over the package APIs (broker, capacitor, overlay,
// resources). main.go picks the command from argv[0] (flux-capacitor) or the
// first argument (flux capacitor), as Flux does with flux-<cmd> executables.
package commands
