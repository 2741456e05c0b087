package commands

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/capacitor"
	"github.com/fluxtaskfarm/flux/resources"
	"github.com/fluxtaskfarm/flux/sched"
	"github.com/urfave/cli/v2"
)

// jobFlags are the per-job options shared by submit, run, bulksubmit and
// capacitor (for the capacitor they are the defaults of every line). They
// mean what flux-submit(1) says. They are defined, with the options of a
// command-file line, in capacitor.JobOptions: to add one, an entry there,
// then read it in jobDefaults (and, for lines, in capacitor/options.go).
func jobFlags() []cli.Flag { return optionFlags(capacitor.OnJobFlags) }

// submitFlags are the options of the commands that submit jobs one by one
// (submit, run, bulksubmit): the job flags and a few that only they have.
func submitFlags() []cli.Flag {
	return append(append(jobFlags(), optionFlags(capacitor.OnSubmitFlags)...),
		&cli.StringFlag{Name: "flags", Usage: "job flags, comma-separated: waitable (flux job wait may collect it)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "print the jobspec as JSON instead of submitting"},
	)
}

// optionFlags makes the flags of the options in scope, in the table's
// order, switches first: --help has always shown -l before --input.
func optionFlags(scope capacitor.Scope) []cli.Flag {
	var switches, valued []cli.Flag
	for i := range capacitor.JobOptions {
		o := &capacitor.JobOptions[i]
		if o.Scope&scope == 0 {
			continue
		}
		var aliases []string
		if o.Short != "" {
			aliases = []string{o.Short}
		}
		switch o.Value {
		case capacitor.Switch:
			switches = append(switches, &cli.BoolFlag{Name: o.Name, Aliases: aliases, Usage: o.Usage, DefaultText: o.DefaultText})
		case capacitor.Count:
			valued = append(valued, &cli.IntFlag{Name: o.Name, Aliases: aliases, Usage: o.Usage, DefaultText: o.DefaultText})
		case capacitor.Text:
			valued = append(valued, &cli.StringFlag{Name: o.Name, Aliases: aliases, Usage: o.Usage, DefaultText: o.DefaultText})
		case capacitor.List:
			valued = append(valued, &cli.StringSliceFlag{Name: o.Name, Aliases: aliases, Usage: o.Usage, DefaultText: o.DefaultText})
		}
	}
	return append(switches, valued...)
}

// jobDefaults reads the job flags; a bad value is a usage error (exit 2).
func jobDefaults(c *cli.Context) (capacitor.Defaults, error) {
	name := c.Command.Name
	d := capacitor.Defaults{
		Req: resources.Request{
			Nodes: c.Int("nodes"), Tasks: c.Int("ntasks"),
			CoresPerTask: c.Int("cores-per-task"), GPUsPerTask: c.Int("gpus-per-task"),
		},
		Cwd:    c.String("cwd"),
		Output: c.String("output"),
		Error:  c.String("error"),
		Name:   c.String("job-name"),
	}
	if c.Command.Name != "capacitor" && c.Command.Name != "hierarchy" {
		d.LabelIO = c.Bool("label-io")
	}
	for flag, v := range map[string]int{"-n": d.Req.Tasks, "-N": d.Req.Nodes, "-c": d.Req.CoresPerTask} {
		if c.IsSet(longName(flag)) && v < 1 {
			return d, exitf(2, "flux %s: %s %d: the count must be at least 1", name, flag, v)
		}
	}
	if d.Req.GPUsPerTask < 0 {
		return d, exitf(2, "flux %s: -g %d: the GPU count cannot be negative", name, d.Req.GPUsPerTask)
	}
	if t := c.String("time-limit"); t != "" {
		dur, err := capacitor.ParseDuration(t)
		if err != nil {
			return d, exitf(2, "flux %s: -t %s: %v", name, t, err)
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
	if d.Error != "" && d.Output == "" {
		return d, exitf(2, "flux %s: --error %s needs --output FILE too (output that is not written to a file is kept whole)", name, d.Error)
	}
	for _, kv := range c.StringSlice("setopt") {
		if !strings.Contains(kv, "=") {
			return d, exitf(2, "flux %s: -o %s: %s", name, kv, capacitor.MsgOutputFile)
		}
		norm, msg := capacitor.CheckShellOption(kv)
		if msg != "" {
			return d, exitf(2, "flux %s: -o %s: %s", name, kv, msg)
		}
		d.Shell = append(d.Shell, norm)
	}
	// Environment rules in Flux's order: files, then --env, then removals.
	var rules []string
	for _, f := range c.StringSlice("env-file") {
		r, err := readEnvFile(f)
		if err != nil {
			return d, exitf(2, "flux %s: --env-file %s: %v", name, f, err)
		}
		rules = append(rules, r...)
	}
	rules = append(rules, c.StringSlice("env")...)
	for _, p := range c.StringSlice("env-remove") {
		rules = append(rules, "-"+p)
	}
	for _, e := range rules {
		k, _, hasValue := strings.Cut(e, "=")
		switch {
		case strings.HasPrefix(k, "-") && !hasValue:
			if len(k) == 1 {
				return d, exitf(2, "flux %s: --env -: give a pattern after the -, as in --env=-SLURM_*", name)
			}
		case k == "":
			return d, exitf(2, "flux %s: --env %q: no variable name; use --env KEY=VALUE or --env KEY", name, e)
		case !hasValue:
			e = k + "=" + os.Getenv(k)
		}
		d.Env = append(d.Env, e)
	}
	return d, nil
}

// readEnvFile reads --env rules, one a line; blank lines and # comments are
// skipped.
func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rules []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && l[0] != '#' {
			rules = append(rules, l)
		}
	}
	return rules, sc.Err()
}

// jobTemplate is what submit, run and bulksubmit turn into jobs: the
// defaults from the flags, plus the options only they have.
type jobTemplate struct {
	cmd   string // "submit", for messages
	def   capacitor.Defaults
	input string
	flags string
}

func newJobTemplate(c *cli.Context) (*jobTemplate, error) {
	d, err := jobDefaults(c)
	if err != nil {
		return nil, err
	}
	if d.Cwd == "" {
		// Jobs run where they were submitted from, as in Flux (not in the
		// directory the instance was started in).
		if wd, err := os.Getwd(); err == nil {
			d.Cwd = wd
		}
	}
	t := &jobTemplate{cmd: c.Command.Name, def: d, input: c.String("input"), flags: c.String("flags")}
	for _, f := range strings.Split(t.flags, ",") {
		switch f {
		case "", "waitable":
		default:
			return nil, exitf(2, "flux %s: --flags %s: unknown flag %q; the one we know is waitable", t.cmd, t.flags, f)
		}
	}
	if t.input != "" {
		if _, err := os.Stat(t.input); err != nil {
			return nil, exitf(2, "flux %s: --input %s: %v", t.cmd, t.input, err)
		}
	}
	return t, nil
}

// spec builds one job running argv; subst (may be nil) fills in
// per-job replacements ({cc}, bulksubmit's inputs) in the command and the
// file templates.
func (t *jobTemplate) spec(argv []string, subst func(string) string) (broker.Jobspec, error) {
	if len(argv) == 0 {
		return broker.Jobspec{}, exitf(2, "flux %s: no command given; see flux %s --help", t.cmd, t.cmd)
	}
	d := t.def
	if subst == nil {
		subst = func(s string) string { return s }
	}
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = subst(a)
	}
	req := d.Req
	// -N alone asks for whole nodes, as in Flux.
	req.Exclusive = req.Nodes > 0 && req.Tasks == 0 && req.CoresPerTask == 0 && req.GPUsPerTask == 0
	req = req.Normalize()
	if err := req.Validate(); err != nil {
		return broker.Jobspec{}, exitf(2, "flux %s: %v", t.cmd, err)
	}
	name := subst(d.Name)
	if name == "" {
		name = args[0]
	}
	named := func(s string) string { return strings.ReplaceAll(subst(s), "{{name}}", name) }
	spec := broker.Jobspec{Req: req, Argv: args, Env: d.Env, Cwd: subst(d.Cwd), TimeLimit: d.TimeLimit,
		Output: named(d.Output), Error: named(d.Error), LabelIO: d.LabelIO, Name: name,
		Setopt: d.Shell, PMI: capacitor.ShellValue(d.Shell, "pmi"), Flags: t.flags, Urgency: d.Urgency}
	for _, dep := range d.Deps {
		spec.Dependencies = append(spec.Dependencies, dep.String())
	}
	if t.input != "" {
		// The launcher gives tasks /dev/null; a shell in front opens the file.
		spec.Argv = append([]string{"/bin/sh", "-c", `exec "$@" < "$0"`, subst(t.input)}, args...)
	}
	return spec, nil
}

// longName returns the flag name of a per-job option's short spelling
// ("-n": "ntasks").
func longName(short string) string {
	if o := capacitor.LookupOption(strings.TrimPrefix(short, "-")); o != nil {
		return o.Name
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
