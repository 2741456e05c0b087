package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxtaskfarm/flux/capacitor"
	"github.com/urfave/cli/v2"
)

// Version is the tool's version, printed by flux --version.
var Version = "0.1.0"

// exitError carries an exit status through urfave/cli.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }
func (e *exitError) ExitCode() int { return e.code }

func exitf(code int, format string, args ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, args...)}
}

// exitStatus ends a command with a status and no message.
func exitStatus(code int) error { return &exitError{code: code} }

// App builds the flux command tree.
func App() *cli.App {
	return &cli.App{
		Name:    "flux",
		Usage:   "a task farm for HPC allocations: bin-pack a stream of command lines onto cores",
		Version: Version,
		Description: "Commands are also reachable as flux-<command> (a symlink to this binary), " +
			"e.g. flux-capacitor. Inside an instance, FLUX_URI names it; without one, flux-capacitor starts its own " +
			"on the local cores.",
		Commands: append([]*cli.Command{
			startCommand(),
			capacitorCommand(),
			submitCommand(),
			bulksubmitCommand(),
			runCommand(),
			jobsCommand(),
			cancelCommand(),
			resourceCommand(),
			schedSimCommand(),
			brokerCommand(),
			keygenCommand(),
			pingCommand(),
			eventCommand(),
			moduleCommand(),
			rpcCommand(),
			hierarchyCommand(),
			jobCommand(),
			uriCommand(),
			topCommand(),
			queueCommand(),
			pythonCommand(),
			envCommand(),
			reportCommand(),
		}, instanceInfoCommands()...),
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {},
		CommandNotFound: commandNotFound,
		// --env A=1,2 and -o pmi=simple,pmix keep their commas, as in Flux.
		DisableSliceFlagSeparator: true,
	}
}

// Main runs the CLI and returns the process exit status.
func Main(args []string) int { return mainContext(context.Background(), args) }

// mainContext is Main with a context the commands see (c.Context).
func mainContext(ctx context.Context, args []string) int {
	args = byName(args)
	args = normalizeShortFlags(args)
	setupEnv()
	err := App().RunContext(ctx, args)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(os.Stderr, "%s\n", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintf(os.Stderr, "flux: %v\n", err)
	return 2
}

// byName maps argv[0] = flux-capacitor (a symlink) to "flux capacitor".
func byName(args []string) []string {
	if len(args) == 0 {
		return []string{"flux"}
	}
	base := filepath.Base(args[0])
	if cmd, ok := strings.CutPrefix(base, "flux-"); ok && cmd != "" {
		out := append([]string{"flux", cmd}, args[1:]...)
		return out
	}
	return args
}

// valueFlags take the next word as their value: the per-job options that
// take one (from capacitor.JobOptions) and the other commands' flags below.
var valueFlags = withJobOptionValues(map[string]bool{
	"S": true, "command_file": true, "command-file": true,
	"joblog": true, "config": true, "stats": true, "simulate": true, "end": true, "walltime-margin": true, "test-size": true, "window": true, "kill-grace": true, "sched": true, "setattr": true,
	"flags": true, "cc": true, "bcc": true, "define": true, "filter": true, "format": true, "count": true, "since": true, "name": true,
	"signal": true, "s": true, "type": true, "message": true, "m": true, "severity": true, "to": true,
	"exception-exit-code": true, "e": true,
})

func withJobOptionValues(m map[string]bool) map[string]bool {
	for _, o := range capacitor.JobOptions {
		if o.Value != capacitor.Switch {
			m[o.Name] = true
			if o.Short != "" {
				m[o.Short] = true
			}
		}
	}
	return m
}

// normalizeShortFlags rewrites Flux's attached short options (-n4, -t30s)
// into -n=4, which Go's flag parsing understands, for the options of the
// command itself: it stops at the first word that is not an option, so the
// words of the user's command (echo -n2) are never touched.
func normalizeShortFlags(args []string) []string {
	out := append([]string(nil), args...)
	i := 1
	for i < len(out) && !strings.HasPrefix(out[i], "-") { // command words: flux resource list
		if len(out[i]) > 0 && !isCommand(out[i]) {
			return out
		}
		i++
	}
	// Letters that take no value in this command though they do elsewhere
	// (flux jobs -n is --no-header, not --ntasks).
	noValue := map[string]bool{}
	if i > 1 && out[i-1] == "jobs" {
		noValue["n"] = true
	}
	for ; i < len(out); i++ {
		a := out[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		if len(a) > 2 && a[1] == 'S' && a[2] != '=' { // -Skey=value
			out[i] = "-S=" + a[2:]
			continue
		}
		if len(a) > 2 && a[1] != '-' && a[2] != '=' && valueFlags[a[1:2]] && !noValue[a[1:2]] {
			out[i] = a[:2] + "=" + a[2:]
			continue
		}
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && valueFlags[name] && !noValue[name] {
			i++ // skip the value
		}
	}
	return out
}

func isCommand(s string) bool {
	switch s {
	case "start", "capacitor", "submit", "run", "jobs", "cancel", "resource", "list", "broker", "keygen",
		"ping", "event", "pub", "sub", "module", "load", "remove", "sched-sim", "rpc", "hierarchy", "job", "attach",
		"bulksubmit", "status", "wait", "info", "eventlog", "last", "kill", "raise", "id", "urgency",
		"drain", "undrain", "uptime", "dmesg", "overlay", "getattr", "lsattr":
		return true
	}
	return false
}
