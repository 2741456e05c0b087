package commands

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/resources"
	"github.com/urfave/cli/v2"
)

func startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "start an instance on the local cores and run CMD inside it",
		UsageText: "flux start [--test-size=N] [CMD [ARGS...]]",
		Description: `Starts an instance on the cores this process may use (its CPU affinity mask), listening on a
unix socket in a private (0700) directory, and runs CMD with FLUX_URI naming it, so flux submit,
flux run, flux jobs, flux cancel, flux resource list and flux-capacitor inside CMD use this
instance. Without CMD it runs an interactive $SHELL. When CMD exits, jobs still running are killed
and flux start exits with CMD's exit status.`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "test-size", Value: 1, Usage: "number of brokers to start on this host (only 1 for now)"},
		},
		Action: startAction,
	}
}

func startAction(c *cli.Context) error {
	if n := c.Int("test-size"); n != 1 {
		return exitf(2, "flux start: --test-size=%d: this build runs one broker per instance; use --test-size=1", n)
	}
	res, err := resources.Discover()
	if err != nil {
		return exitf(1, "flux start: discovering local resources: %v", err)
	}
	b, err := broker.New(broker.Config{Resources: res})
	if err != nil {
		return exitf(1, "flux start: %v", err)
	}
	dir, err := os.MkdirTemp("", "flux-")
	if err != nil {
		return exitf(1, "flux start: %v", err)
	}
	defer os.RemoveAll(dir)
	l, uri, err := overlay.ListenLocal(dir)
	if err != nil {
		return exitf(1, "flux start: %v", err)
	}
	b.ServeListener(l)
	defer func() {
		l.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		b.Shutdown(ctx)
	}()

	argv := c.Args().Slice()
	if len(argv) == 0 {
		sh := os.Getenv("SHELL")
		if sh == "" {
			sh = "/bin/sh"
		}
		argv = []string{sh}
	}
	return runInitialProgram(argv, uri)
}

// runInitialProgram runs CMD in the foreground with FLUX_URI set and returns
// its exit status. Ctrl-C reaches CMD from the terminal; flux start itself
// ignores it and forwards SIGTERM and SIGHUP.
func runInitialProgram(argv []string, uri string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "FLUX_URI="+uri)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return exitf(127, "flux start: %s: command not found", argv[0])
		}
		return exitf(126, "flux start: %s: %v", argv[0], err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			if s != syscall.SIGINT {
				cmd.Process.Signal(s)
			}
		case err := <-waited:
			return statusOf(cmd.ProcessState, err)
		}
	}
}

func statusOf(ps *os.ProcessState, err error) error {
	if ps == nil {
		return exitf(1, "flux start: %v", err)
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return exitStatus(128 + int(ws.Signal()))
	}
	if code := ps.ExitCode(); code != 0 {
		return exitStatus(code)
	}
	return nil
}
