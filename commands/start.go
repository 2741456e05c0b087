package commands

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/broker/boot"
	"github.com/urfave/cli/v2"
)

func startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "start an instance on this host and run CMD inside it",
		UsageText: "flux start [--test-size=N] [-S KEY=VALUE...] [--sched POLICY] [CMD [ARGS...]]",
		Description: `Starts an instance on the cores this process may use (its CPU affinity mask), listening on a
unix socket in a private (0700) directory, and runs CMD with FLUX_URI naming it, so flux submit,
flux run, flux jobs, flux cancel, flux resource list and flux-capacitor inside CMD use this
instance. Without CMD it runs an interactive $SHELL. When CMD exits, jobs still running are killed
and flux start exits with CMD's exit status.

Launched as a PMI job (mpiexec -n 3 flux start ..., srun --mpi=pmi2 -N4 flux start ..., or as a job of
another instance), each flux start is one broker, bootstrapped through the PMI server; rank 0 runs
CMD and the others serve until it exits.

--test-size=N starts N brokers on this host, linked by TCP on 127.0.0.1 as a tree (fanout from
-Stbon.fanout, default 32), each offering all local cores: one instance of N ranks, the way a
multi-node instance behaves, for tests. Every broker's port is bound before any starts and handed to
it as an open socket, so no two can collide (up to 1024 brokers). A rank that is lost (killed,
stopped) is not waited for when the command exits.

The one exception to CMD running as its own process: a child instance of flux-hierarchy (CMD is this
flux's own "hierarchy --child ...") runs inside the flux start process, talking to its broker in
memory, so a tree of 64 leaves is 64 processes, not 128.`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "test-size", Value: 1, Usage: "number of brokers to start on this host"},
			attrFlag(),
			schedFlag(),
		},
		Action: startAction,
	}
}

func startAction(c *cli.Context) error {
	attrs, err := boot.ParseAttrs(c.StringSlice("setattr"))
	if err == nil {
		err = attrs.Validate()
	}
	if err != nil {
		return exitf(2, "flux start: %v", err)
	}
	so, err := schedOptions(c)
	if err != nil {
		return exitf(2, "flux start: %v", err)
	}
	n := c.Int("test-size")
	if n < 1 || n > 1024 {
		return exitf(2, "flux start: --test-size=%d: give a number of brokers from 1 to 1024", n)
	}
	var in *broker.Instance
	stop := func() {}
	if n == 1 && attrs["boot.method"] == "" && broker.HavePMI(os.Getenv) {
		// Launched as a PMI job (mpiexec, srun --mpi=pmi2, a parent
		// instance): one broker per task, bootstrapped through it.
		attrs["boot.method"] = boot.MethodPMI
	}
	if n == 1 {
		in, err = broker.Boot(broker.BootOptions{Attrs: attrs, Sched: so})
		if err == nil {
			stop = func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				in.Close(ctx)
			}
		}
	} else {
		in, stop, err = startTestInstance(n, attrs, so)
	}
	if err != nil {
		return exitf(1, "flux start: %v", err)
	}
	defer stop()
	if err := in.WaitReadyTimeout(60 * time.Second); err != nil {
		return exitf(1, "flux start: %v", err)
	}
	if in.Rank() > 0 {
		// Only rank 0 runs the command; the others serve until it is done.
		<-in.Done()
		if err := in.Err(); err != nil && !errors.Is(err, broker.ErrShutdown) {
			return exitf(1, "flux start: rank %d: %v", in.Rank(), err)
		}
		return nil
	}
	argv := c.Args().Slice()
	if len(argv) == 0 {
		sh := os.Getenv("SHELL")
		if sh == "" {
			sh = "/bin/sh"
		}
		argv = []string{sh}
	}
	if isHierarchyChild(argv) {
		return runInProcess(in, argv)
	}
	return runInitialProgram(argv, in.URI, in.Done())
}

// initialEnv is the environment of the command flux start runs: this
// process's, without the PMI variables that bootstrapped the broker, with
// FLUX_URI naming the new instance and, in a nested instance, the parent's
// URI and the depth.
func initialEnv(uri string) []string {
	env := append(withoutPMI(os.Environ()), "FLUX_URI="+uri)
	level := 0
	if parent := os.Getenv("FLUX_URI"); parent != "" {
		env = append(env, "FLUX_PARENT_URI="+parent)
		level = 1
		if l, err := strconv.Atoi(os.Getenv("FLUX_INSTANCE_LEVEL")); err == nil {
			level = l + 1
		}
	}
	return append(env, "FLUX_INSTANCE_LEVEL="+strconv.Itoa(level))
}

// runInitialProgram runs CMD in the foreground with FLUX_URI set and returns
// its exit status. Ctrl-C reaches CMD from the terminal; flux start itself
// ignores it and forwards SIGTERM and SIGHUP. If the instance dies first,
// CMD gets SIGTERM.
func runInitialProgram(argv []string, uri string, instanceDone <-chan struct{}) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// A nested instance (a job of another one) knows its parent and depth.
	cmd.Env = initialEnv(uri)
	// If flux start dies (kill -9), its command must not live on.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
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
		case <-instanceDone:
			instanceDone = nil
			os.Stderr.WriteString("flux start: the instance stopped; ending " + argv[0] + "\n")
			cmd.Process.Signal(syscall.SIGTERM)
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
