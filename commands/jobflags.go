package commands

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/fluxtaskfarm/flux/capacitor"
	"github.com/fluxtaskfarm/flux/resources"
	"github.com/fluxtaskfarm/flux/sched"
	"github.com/urfave/cli/v2"
)

// jobFlags are the per-job options shared by submit, run and capacitor (for
// the capacitor they are the defaults of every line).
func jobFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "ntasks", Aliases: []string{"n"}, DefaultText: "1, or one per node with -N", Usage: "number of tasks"},
		&cli.IntFlag{Name: "nodes", Aliases: []string{"N"}, DefaultText: "as few as fit", Usage: "number of nodes to spread the tasks over"},
		&cli.IntFlag{Name: "cores-per-task", Aliases: []string{"c"}, DefaultText: "1", Usage: "cores per task; sets OMP_NUM_THREADS"},
		&cli.IntFlag{Name: "gpus-per-task", Aliases: []string{"g"}, DefaultText: "none", Usage: "GPUs per task; sets CUDA_VISIBLE_DEVICES"},
		&cli.StringFlag{Name: "time-limit", Aliases: []string{"t"}, Usage: "time limit: 30s, 2m, 1h, or a number of minutes; SIGTERM at the limit, SIGKILL after a grace period"},
		&cli.StringFlag{Name: "cwd", Usage: "working directory of the tasks"},
		&cli.StringSliceFlag{Name: "env", Usage: "KEY=VALUE to set, or KEY to copy from this environment (repeatable)"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the tasks' stdout and stderr to this file; {{id}} job id, {{line}} line number, {{task.id}} task rank"},
		&cli.StringFlag{Name: "urgency", Usage: "0 to 31, or hold (0: the job waits until flux job urgency raises it), default (16), expedite (31); the queue is ordered by urgency, then submit time"},
		&cli.StringSliceFlag{Name: "dependency", Usage: "TYPE:ID (repeatable): start only after job ID started (after), ended (afterany), succeeded (afterok) " +
			"or failed (afternotok); a job whose dependency can no longer be met ends without running. In a command file, TYPE:line:N names an earlier line"},
	}
}

// labelIOFlag is submit's and run's --label-io: label output with the task
// rank. (flux-capacitor's --label-io labels with the input line number.)
func labelIOFlag() cli.Flag {
	return &cli.BoolFlag{Name: "label-io", Usage: "prefix each output line with the task rank"}
}

// jobDefaults reads the job flags; a bad value is a usage error (exit 2).
func jobDefaults(c *cli.Context) (capacitor.Defaults, error) {
	d := capacitor.Defaults{
		Req: resources.Request{
			Nodes: c.Int("nodes"), Tasks: c.Int("ntasks"),
			CoresPerTask: c.Int("cores-per-task"), GPUsPerTask: c.Int("gpus-per-task"),
		},
		Cwd:    c.String("cwd"),
		Output: c.String("output"),
	}
	if c.Command.Name != "capacitor" {
		d.LabelIO = c.Bool("label-io")
	}
	for flag, v := range map[string]int{"-n": d.Req.Tasks, "-N": d.Req.Nodes, "-c": d.Req.CoresPerTask} {
		if c.IsSet(longName(flag)) && v < 1 {
			return d, exitf(2, "flux %s: %s %d: the count must be at least 1", c.Command.Name, flag, v)
		}
	}
	if d.Req.GPUsPerTask < 0 {
		return d, exitf(2, "flux %s: -g %d: the GPU count cannot be negative", c.Command.Name, d.Req.GPUsPerTask)
	}
	if t := c.String("time-limit"); t != "" {
		dur, err := capacitor.ParseDuration(t)
		if err != nil {
			return d, exitf(2, "flux %s: -t %s: %v", c.Command.Name, t, err)
		}
		d.TimeLimit = dur
	}
	if u := c.String("urgency"); c.IsSet("urgency") {
		n, err := sched.ParseUrgency(u)
		if err != nil {
			return d, exitf(2, "flux %s: --urgency %v", c.Command.Name, err)
		}
		d.Urgency = &n
	}
	for _, s := range c.StringSlice("dependency") {
		dep, err := parseDependency(s)
		if err != nil {
			return d, exitf(2, "flux %s: --dependency %v", c.Command.Name, err)
		}
		if dep.Line > 0 {
			return d, exitf(2, "flux %s: --dependency %s: line references belong on a line of a command file; here name a job id", c.Command.Name, s)
		}
		d.Deps = append(d.Deps, dep)
	}
	for _, e := range c.StringSlice("env") {
		name, _, hasValue := strings.Cut(e, "=")
		if name == "" {
			return d, exitf(2, "flux %s: --env %q: no variable name; use --env KEY=VALUE or --env KEY", c.Command.Name, e)
		}
		if !hasValue {
			e = name + "=" + os.Getenv(name)
		}
		d.Env = append(d.Env, e)
	}
	return d, nil
}

func longName(short string) string {
	switch short {
	case "-n":
		return "ntasks"
	case "-N":
		return "nodes"
	case "-c":
		return "cores-per-task"
	}
	return short
}

// requestText shows a request the way a user would type it.
func requestText(r resources.Request) string {
	s := fmt.Sprintf("-n%d", r.Tasks)
	if r.Nodes > 0 {
		s += fmt.Sprintf(" -N%d", r.Nodes)
	}
	if r.CoresPerTask > 1 {
		s += fmt.Sprintf(" -c%d", r.CoresPerTask)
	}
	if r.GPUsPerTask > 0 {
		s += fmt.Sprintf(" -g%d", r.GPUsPerTask)
	}
	return s
}

func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Minute:
		return fmt.Sprintf("%.3fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
