package commands

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/capacitor"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/resources"
	"github.com/fluxtaskfarm/flux/sched"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// streamFlags are the options of a command that runs a stream of lines:
// flux-capacitor, and flux-hierarchy at its top.
func streamFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringSliceFlag{Name: "command_file", Aliases: []string{"command-file"},
			Usage: "read command lines from FILE (repeatable; - is standard input); default: standard input"},
		&cli.StringFlag{Name: "joblog", Usage: "write a GNU parallel style job log (Seq Host Starttime JobRuntime Send Receive Exitval Signal Command)"},
		&cli.BoolFlag{Name: "resume", Usage: "skip lines the --joblog says already finished (matched by line number and content)"},
		&cli.BoolFlag{Name: "resume-failed", Usage: "like --resume, but run the lines that failed again too"},
		&cli.BoolFlag{Name: "line-buffer", Usage: "print output lines as they come instead of each task's output at once"},
		&cli.BoolFlag{Name: "label-io", Aliases: []string{"P", "tag"}, Usage: "prefix every output line with its input line number (a line's own --label-io adds the task rank)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bar and no summary line"},
		&cli.IntFlag{Name: "window", Value: 8192, Usage: "lines in flight at most (memory is bounded by this, not by the input's length)"},
		&cli.StringFlag{Name: "end", Usage: "stop by this time (RFC 3339, or unix seconds); inside Slurm the allocation's end time is the default"},
		&cli.DurationFlag{Name: "walltime-margin", Value: 30 * time.Second, Usage: "drain this long before the end: lines whose -t would not fit are not started, running ones are killed (not logged), the job log is written"},
		&cli.IntFlag{Name: "retries", Usage: "run a line that fails (non-zero exit, signal, time limit, lost rank or child instance) again, up to N more times; the job log keeps its last attempt only (a line's own --retries wins). Unlike GNU parallel's --retries N (N tries in all), N counts the extra tries"},
		&cli.DurationFlag{Name: "retry-delay", Usage: "wait this long before running a failed line again (e.g. 30s)"},
		&cli.StringFlag{Name: "halt", Value: "never", Usage: "stop early, as GNU parallel's --halt: now|soon,fail|success|done=N or =P% (soon lets the running lines finish, now kills them unlogged so --resume reruns them), e.g. soon,fail=10%, now,fail=1"},
		&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "run at most N lines at once, whatever the cores (0: no cap)"},
		&cli.DurationFlag{Name: "status-interval", Value: 60 * time.Second, Usage: "when standard error is not a terminal (no progress bar): a status line (done, failed, running, pending, rate, ETA) this often; 0 turns it off"},
		schedFlag(),
	}, jobFlags()...)
}

func capacitorCommand() *cli.Command {
	return &cli.Command{
		Name:      "capacitor",
		Usage:     "run a stream of command lines, each with its own resource request, bin-packed on the cores",
		UsageText: "flux-capacitor [options] [--command_file FILE ...]   (lines from standard input when no file is given)",
		Description: `Each line is one job: optional per-line options, then the command, e.g.
    -n1 tar -cf a.tgz a
    -n2 -c2 -t 10m make -j 4
    ./simulate --seed 7 > out.7
Per-line options: -n tasks, -N nodes, -c cores per task, -g GPUs per task, -t time limit (30s, 2m, 1h,
or minutes), --cwd DIR, --env K=V (or -PATTERN to remove), --env-remove PATTERN, -o KEY=VALUE (a shell
option, as in flux submit: pmi, cpu-affinity, gpu-affinity, exit-timeout, output.limit), --output FILE,
--error FILE, --input FILE, -l/--label-io, --job-name NAME, --urgency N, --dependency TYPE:ID, --retries N;
everything
after the first non-option word (or after --) is the command. A command with shell syntax (pipes,
redirects, $, globs) runs under /bin/sh -c, any other is executed directly. Blank lines and # comments
are skipped. The options of flux-capacitor itself are the defaults for every line.

Scheduling: lines queue in order of urgency, then line number, under EASY backfill (sched.easy, the
default; see --sched): the first line that does not fit gets a reservation, and later lines start
ahead of it only if they end before it (by their -t; a line without -t is planned as running an
hour), so a wide line in a stream of narrow ones starts as soon as the lines ahead of it end.
--urgency 0 holds a line until flux job urgency raises it. --dependency=afterok:line:12 (also
afterany, afternotok, after) holds a line, inside the window, until line 12 of the same file ended
as named; if it never can (line 12 failed), the line ends unrun with "dependency afterok:line:12
failed" and exit status 1 in the job log. A line may name only earlier lines (else it is a bad
line), so a window full of waiting lines always drains.

Work starts on the first line, before the input ends; at most --window lines are in flight.
Without FLUX_URI, flux-capacitor starts its own instance on the cores this process may use (its CPU
affinity), so nothing has to be started by hand.

Inside a Slurm allocation (SLURM_JOB_ID set, no FLUX_URI) the instance spans the allocation's nodes:
one srun step starts a broker per node (never a step per task), and the run stops before the
allocation's end (see --walltime-margin) so that a next allocation can --resume.

--retries N runs a failed line again (up to N more times, after --retry-delay); its stdout and job
log record are its last attempt's. --halt stops a campaign that is going wrong: soon,fail=10% starts
no new line once a tenth of the lines failed (of the input's lines when it is read from files, else
of the lines ended so far, from the 10th on); now,fail=1 kills the running lines at the first
failure. -j N runs at most N lines at once. Without a terminal (sbatch), a status line goes to
standard error every --status-interval. A running flux-capacitor can be watched from another shell
of the same user: flux top, flux jobs --stats, flux uri (it finds the running instances).

Exit status: 0 all lines succeeded, 1 some task failed, 2 a bad line or bad usage, 130 interrupted
(running tasks are killed; the job log lets --resume run the rest), 124 stopped at the end of the
allocation (--end) with lines left for --resume. After --halt, GNU parallel's: with fail=1 the
failing line's exit status (128+N for signal N), with fail=N or done=N the number of failed lines
(at most 101), with fail=P% that percentage, with success 0.`,
		Flags:  streamFlags(),
		Action: capacitorAction,
	}
}

func capacitorAction(c *cli.Context) error {
	return runStream(c, "flux-capacitor", func(ctx context.Context, client *overlay.Client, cfg capacitor.Config) (capacitor.Summary, error) {
		return capacitor.Run(ctx, client, cfg)
	})
}

// runStream is the body of flux-capacitor and flux-hierarchy: read the
// flags, find or start the instance, and run the stream through it with
// run, turning the summary into the exit status.
func runStream(c *cli.Context, name string, run func(context.Context, *overlay.Client, capacitor.Config) (capacitor.Summary, error)) error {
	if c.Args().Len() > 0 {
		return exitf(2, "%s: unexpected argument %q; command lines come from --command_file FILE or standard input", name, c.Args().First())
	}
	def, err := jobDefaults(c)
	if err != nil {
		return err
	}
	so, err := schedOptions(c)
	if err != nil {
		return exitf(2, "%s: %v", name, err)
	}
	job, inSlurm, err := resources.SlurmFromEnv(os.Getenv)
	if err != nil {
		return exitf(2, "%s: %v", name, err)
	}
	end, err := walltimeEnd(c, job, inSlurm)
	if err != nil {
		return exitf(2, "%s: %v", name, err)
	}
	halt, err := capacitor.ParseHalt(c.String("halt"))
	if err != nil {
		return exitf(2, "%s: %v", name, err)
	}
	if n := c.Int("jobs"); n < 0 {
		return exitf(2, "%s: -j %d: the number of lines at once must be 0 (no cap) or more", name, n)
	}
	if n := c.Int("retries"); n < 0 || n > capacitor.MaxRetries {
		return exitf(2, "%s: --retries %d: the retry count must be from 0 to %d", name, n, capacitor.MaxRetries)
	}
	if c.Duration("retry-delay") < 0 || c.Duration("status-interval") < 0 {
		return exitf(2, "%s: --retry-delay and --status-interval cannot be negative", name)
	}
	def.Retries = c.Int("retries")
	tuneGC()
	client, stop, err := capacitorInstance(so, job, inSlurm)
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return exitf(1, "%s: %v", name, err)
	}
	defer stop()
	reg := registerRun(name, os.Args[1:])
	defer reg.Remove()

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
		End:          end,
		Margin:       c.Duration("walltime-margin"),
		RetryDelay:   c.Duration("retry-delay"),
		Halt:         halt,
		Jobs:         c.Int("jobs"),
		Status:       c.Duration("status-interval"),
		OnProgress:   func(p capacitor.Progress) { reg.Update(p) },
		Stdout:       os.Stdout,
		Stderr:       os.Stderr,
		Name:         name,
	}
	sum, err := run(ctx, client, cfg)
	if errors.Is(err, capacitor.ErrUsage) {
		return exitf(2, "%s: %v", name, err)
	}
	if err != nil {
		os.Stderr.WriteString(name + ": " + err.Error() + "\n")
		return exitStatus(1)
	}
	if code := sum.ExitCode(ctx.Err() != nil); code != 0 {
		return exitStatus(code)
	}
	return nil
}

// capacitorInstance connects to FLUX_URI; or, inside a Slurm allocation,
// starts an instance over its nodes; or boots an embedded instance on the
// local cores.
func capacitorInstance(so sched.Options, job resources.SlurmJob, inSlurm bool) (*overlay.Client, func(), error) {
	switch {
	case os.Getenv("FLUX_URI") != "":
		startedURI = os.Getenv("FLUX_URI")
		c, err := connect("capacitor")
		if err != nil {
			return nil, nil, err
		}
		return c, func() { c.Close() }, nil
	case inSlurm && len(job.Nodes) > 1:
		return slurmInstance(job, so)
	case inSlurm:
		return slurmLocal(job, so)
	}
	return embedded(resources.Set{}, so)
}

// The top of a run (flux-capacitor, flux-hierarchy) allocates for every
// line (parsing, bookkeeping, results, the job log) while what it keeps is
// small and bounded (the lines in flight), so with Go's default GOGC=100 it
// collected every few thousand lines: a fifth of the top's CPU in a tree
// running 85,000 lines/s. GOGC=400 under a soft limit of gcMemoryLimit
// collects about a quarter as often while the heap is small, and as often
// as needed to stay near the limit when it is not. GOGC or GOMEMLIMIT in
// the environment win.
const gcMemoryLimit = 32 << 20

func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcMemoryLimit)
	}
}

// walltimeEnd is when the run must be over: --end, else the Slurm
// allocation's end time, else never (zero).
func walltimeEnd(c *cli.Context, job resources.SlurmJob, inSlurm bool) (time.Time, error) {
	if v := c.String("end"); v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t, nil
		}
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Unix(secs, 0), nil
		}
		return time.Time{}, fmt.Errorf("--end %s: not a time; use RFC 3339 (2026-11-26T18:00:00Z) or unix seconds", v)
	}
	if !inSlurm {
		return time.Time{}, nil
	}
	end, err := resources.SlurmEndTime(job.JobID, func(name string, args ...string) ([]byte, error) {
		return exec.Command(name, args...).Output()
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "flux-capacitor: cannot learn the allocation's end time (%v); running without a walltime\n", err)
		return time.Time{}, nil
	}
	return end, nil
}
