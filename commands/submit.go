package commands

import (
	"strconv"
	"strings"

	"github.com/fluxtaskfarm/flux/resources"
	"github.com/urfave/cli/v2"
)

func submitCommand() *cli.Command {
	return &cli.Command{
		Name:      "submit",
		Usage:     "submit a job (or, with --cc, many copies) and print its id",
		UsageText: "flux submit [OPTIONS] [--cc=IDSET] [--wait] CMD [ARGS...]",
		Description: `The job runs CMD with ARGS (executed directly, no shell; use sh -c '...' for shell syntax) with
the resources asked for, and its id is printed in f58 (ƒ2bG3oV; "f" when the locale is not UTF-8
or FLUX_F58_FORCE_ASCII is set). Follow it with flux jobs, flux job attach ID, flux job status ID,
flux cancel ID. Output not sent to a file (--output) is kept by the instance for the last 1000 jobs.

-o/--setopt KEY=VALUE sets a shell option, as in Flux; for an output file use --output FILE.
--cc=IDSET (e.g. 1-100) submits one copy per id, with {cc} in the command and the templates replaced
by the id and FLUX_JOB_CC set in its environment (--bcc: the same without FLUX_JOB_CC).
--wait waits for every job and exits with the largest exit status (--watch also prints their output);
Ctrl-C stops the waiting, not the jobs. Differences from Flux: an unknown -o key is an error;
--error needs --output.`,
		Flags:  append(submitFlags(), manyFlags()...),
		Action: submitAction,
	}
}

// manyFlags are flux submit's options for many jobs and for waiting.
func manyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "cc", Usage: "submit one copy of the job per id in IDSET (1-10,20); {cc} is the id"},
		&cli.StringFlag{Name: "bcc", Usage: "like --cc, but do not set FLUX_JOB_CC"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not print the job ids"},
		&cli.BoolFlag{Name: "wait", Usage: "wait for every job to end; exit with the largest exit status"},
		&cli.BoolFlag{Name: "watch", Usage: "like --wait, and print the jobs' output as it comes"},
		&cli.BoolFlag{Name: "progress", Usage: "show a progress line on stderr (job states with --wait)"},
		&cli.BoolFlag{Name: "jps", Usage: "with --progress, show the rate in jobs per second instead of the time"},
	}
}

// ccSet reads --cc or --bcc; ok is false when neither is given.
func ccSet(c *cli.Context) (ids []int, setEnv bool, err error) {
	flag, setEnv := "cc", true
	if c.IsSet("bcc") {
		if c.IsSet("cc") {
			return nil, false, exitf(2, "flux %s: give --cc or --bcc, not both", c.Command.Name)
		}
		flag, setEnv = "bcc", false
	}
	v := c.String(flag)
	if !c.IsSet(flag) {
		return nil, false, nil
	}
	set, perr := resources.ParseIDSet(v)
	if perr != nil || set.Empty() {
		why := "empty"
		if perr != nil {
			why = perr.Error()
		}
		return nil, false, exitf(2, "flux %s: --%s %s: not an id set (%s); write ids and ranges such as 1-100 or 0,4-7", c.Command.Name, flag, v, why)
	}
	return set.IDs(), setEnv, nil
}

// ccSubst replaces {cc} (and {{cc}} in templates) with id.
func ccSubst(id int) func(string) string {
	s := strconv.Itoa(id)
	return func(v string) string {
		if !strings.Contains(v, "{cc}") {
			return v
		}
		return strings.ReplaceAll(strings.ReplaceAll(v, "{{cc}}", s), "{cc}", s)
	}
}

func submitAction(c *cli.Context) error {
	tmpl, err := newJobTemplate(c)
	if err != nil {
		return err
	}
	ccs, setEnv, err := ccSet(c)
	if err != nil {
		return err
	}
	var prog *progressLine
	if c.Bool("progress") && !c.Bool("dry-run") {
		prog = newProgressLine(max(len(ccs), 1), c.Bool("jps"))
	}
	s := newSubmitter("submit", c.Bool("quiet"), c.Bool("wait"), c.Bool("watch"), c.Bool("dry-run"), prog)
	argv := c.Args().Slice()
	if _, err := tmpl.spec(argv, nil); err != nil { // check once before connecting
		return err
	}
	if err := s.open(); err != nil {
		return err
	}
	if ccs == nil {
		spec, _ := tmpl.spec(argv, nil)
		if err := s.add(spec); err != nil {
			return err
		}
	}
	for _, id := range ccs {
		spec, err := tmpl.spec(argv, ccSubst(id))
		if err != nil {
			return err
		}
		if setEnv {
			spec.Env = append(spec.Env[:len(spec.Env):len(spec.Env)], "FLUX_JOB_CC="+strconv.Itoa(id))
		}
		if err := s.add(spec); err != nil {
			return err
		}
	}
	status, err := s.finish()
	if err != nil {
		return err
	}
	if status != 0 {
		return exitStatus(status)
	}
	return nil
}
