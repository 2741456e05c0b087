package commands

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/capacitor"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

func capacitorCommand() *cli.Command {
	flags := append([]cli.Flag{
		&cli.StringSliceFlag{Name: "command_file", Aliases: []string{"command-file"},
			Usage: "read command lines from FILE (repeatable; - is standard input); default: standard input"},
		&cli.StringFlag{Name: "joblog", Usage: "write a GNU parallel style job log (Seq Host Starttime JobRuntime Send Receive Exitval Signal Command)"},
		&cli.BoolFlag{Name: "resume", Usage: "skip lines the --joblog says already finished (matched by line number and content)"},
		&cli.BoolFlag{Name: "resume-failed", Usage: "like --resume, but run the lines that failed again too"},
		&cli.BoolFlag{Name: "line-buffer", Usage: "print output lines as they come instead of each task's output at once"},
		&cli.BoolFlag{Name: "label-io", Aliases: []string{"P", "tag"}, Usage: "prefix every output line with its input line number (a line's own --label-io adds the task rank)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bar and no summary line"},
		&cli.IntFlag{Name: "window", Value: 8192, Usage: "lines in flight at most (memory is bounded by this, not by the input's length)"},
	}, jobFlags()...)
	return &cli.Command{
		Name:      "capacitor",
		Usage:     "run a stream of command lines, each with its own resource request, bin-packed on the cores",
		UsageText: "flux-capacitor [options] [--command_file FILE ...]   (lines from standard input when no file is given)",
		Description: `Each line is one job: optional per-line options, then the command, e.g.
    -n1 tar -cf a.tgz a
    -n2 -c2 -t 10m make -j 4
    ./simulate --seed 7 > out.7
Per-line options: -n tasks, -N nodes, -c cores per task, -g GPUs per task, -t time limit (30s, 2m, 1h,
or minutes), --cwd DIR, --env K=V, -o FILE, --label-io; everything after the first non-option word
(or after --) is the command. A command with shell syntax (pipes, redirects, $, globs) runs under
/bin/sh -c, any other is executed directly. Blank lines and # comments are skipped. The options of
flux-capacitor itself are the defaults for every line.

Work starts on the first line, before the input ends; at most --window lines are in flight.
Without FLUX_URI, flux-capacitor starts its own instance on the cores this process may use (its CPU
affinity), so nothing has to be started by hand.

Exit status: 0 all lines succeeded, 1 some task failed, 2 a bad line or bad usage, 130 interrupted
(running tasks are killed; the job log lets --resume run the rest).`,
		Flags:  flags,
		Action: capacitorAction,
	}
}

func capacitorAction(c *cli.Context) error {
	if c.Args().Len() > 0 {
		return exitf(2, "flux-capacitor: unexpected argument %q; command lines come from --command_file FILE or standard input", c.Args().First())
	}
	def, err := jobDefaults(c)
	if err != nil {
		return err
	}
	client, stop, err := capacitorInstance()
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return exitf(1, "flux-capacitor: %v", err)
	}
	defer stop()

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	cfg := capacitor.Config{
		Files:        c.StringSlice("command_file"),
		Stdin:        os.Stdin,
		Defaults:     def,
		Getenv:       os.Getenv,
		Env:          os.Environ(),
		JobLog:       c.String("joblog"),
		Resume:       c.Bool("resume") || c.Bool("resume-failed"),
		ResumeFailed: c.Bool("resume-failed"),
		LineBuffer:   c.Bool("line-buffer"),
		Tag:          c.Bool("label-io"),
		Quiet:        c.Bool("quiet"),
		Progress:     term.IsTerminal(int(os.Stderr.Fd())),
		Window:       c.Int("window"),
		Stdout:       os.Stdout,
		Stderr:       os.Stderr,
	}
	sum, err := capacitor.Run(ctx, client, cfg)
	if errors.Is(err, capacitor.ErrUsage) {
		return exitf(2, "flux-capacitor: %v", err)
	}
	if err != nil {
		os.Stderr.WriteString("flux-capacitor: " + err.Error() + "\n")
		return exitStatus(1)
	}
	if code := sum.ExitCode(ctx.Err() != nil); code != 0 {
		return exitStatus(code)
	}
	return nil
}

// capacitorInstance connects to FLUX_URI, or boots an embedded instance
// on the local cores when there is none.
func capacitorInstance() (*overlay.Client, func(), error) {
	if os.Getenv("FLUX_URI") != "" {
		c, err := connect("capacitor")
		if err != nil {
			return nil, nil, err
		}
		return c, func() { c.Close() }, nil
	}
	return embedded(broker.Config{})
}
