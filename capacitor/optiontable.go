package capacitor

// The per-job options (-n, --cwd, --dependency...) are spelled the same on a
// command-file line and as flags of flux submit, run, bulksubmit,
// flux-capacitor and flux-hierarchy. JobOptions is the one place their
// names, aliases, value kinds and help texts are written: the line parser
// (options.go) and the commands' flag lists (commands/jobflags.go) are both
// built from it, so adding an option is an entry here plus the code that
// acts on its value.

// Scope says where an option is accepted.
type Scope uint8

const (
	// OnLine: on a command-file line.
	OnLine Scope = 1 << iota
	// OnJobFlags: a flag of every command that makes jobs (submit, run,
	// bulksubmit; for flux-capacitor and flux-hierarchy, the default of
	// every line).
	OnJobFlags
	// OnSubmitFlags: a flag of submit, run and bulksubmit only.
	// flux-capacitor's own -l and --retries mean something else (label with
	// the line number; the default of every line) and are its own flags.
	OnSubmitFlags
)

// ValueKind is how an option takes its value.
type ValueKind uint8

const (
	// Switch takes no value: -l.
	Switch ValueKind = iota
	// Count is a whole number: -n 4.
	Count
	// Text is one word: -t 30m.
	Text
	// List is a word that may be given again: --env A=1 --env B=2.
	List
)

// JobOption is one per-job option.
type JobOption struct {
	Name  string // the long spelling, without its dashes
	Short string // the one-letter spelling, or ""
	Value ValueKind
	Scope Scope
	// Usage and DefaultText are the flag's --help text.
	Usage, DefaultText string

	kind    optKind // what a line's value sets (options on a line)
	listed  string  // the option in optionsHelp, when not -Short or --Name
	what    string  // "the task count", for a bad count's message
	example string  // a sample value, for a missing value's message
}

// JobOptions lists the options in the order the parser's messages and the
// flags' --help list them. It is not to be modified.
var JobOptions = []JobOption{
	{Name: "ntasks", Short: "n", Value: Count, Scope: OnLine | OnJobFlags,
		Usage: "number of tasks", DefaultText: "1, or one per node with -N",
		kind: optTasks, what: "the task count", example: "4"},
	{Name: "nodes", Short: "N", Value: Count, Scope: OnLine | OnJobFlags,
		Usage: "number of nodes to spread the tasks over", DefaultText: "as few as fit",
		kind: optNodes, what: "the node count", example: "2"},
	{Name: "cores-per-task", Short: "c", Value: Count, Scope: OnLine | OnJobFlags,
		Usage: "cores per task; sets OMP_NUM_THREADS", DefaultText: "1",
		kind: optCores, what: "the cores per task", example: "2"},
	{Name: "gpus-per-task", Short: "g", Value: Count, Scope: OnLine | OnJobFlags,
		Usage: "GPUs per task; sets CUDA_VISIBLE_DEVICES", DefaultText: "none",
		kind: optGPUs, what: "the GPUs per task", example: "1"},
	{Name: "time-limit", Short: "t", Value: Text, Scope: OnLine | OnJobFlags,
		Usage: "time limit: 30s, 2m, 1h, or a number of minutes; SIGTERM at the limit, SIGKILL after a grace period",
		kind:  optTime, example: "30m"},
	{Name: "cwd", Value: Text, Scope: OnLine | OnJobFlags,
		Usage: "working directory of the tasks", DefaultText: "the current directory (for flux-capacitor: the instance's)",
		kind: optCwd, example: "DIR"},
	{Name: "env", Value: List, Scope: OnLine | OnJobFlags,
		Usage: "KEY=VALUE to set, KEY to copy from this environment, -PATTERN to remove (repeatable)",
		kind:  optEnv, example: "NAME=VALUE"},
	{Name: "env-remove", Value: List, Scope: OnLine | OnJobFlags,
		Usage: "remove the variables matching the glob PATTERN from the job's environment (repeatable)",
		kind:  optEnvRemove, example: "PATTERN"},
	{Name: "env-file", Value: List, Scope: OnJobFlags, // a file of the submitting user, not of a line
		Usage: "read --env rules from FILE, one a line (repeatable)"},
	{Name: "setopt", Short: "o", Value: List, Scope: OnLine | OnJobFlags,
		Usage: "shell option KEY=VALUE (repeatable): " +
			"pmi=off|simple, cpu-affinity=off|on|per-task, gpu-affinity=off|on|per-task, exit-timeout=DURATION|none (per node), output.limit=SIZE. " +
			"Unlike Flux, an unknown key is an error (we have no shell plugins to pass it to)",
		kind: optSetopt, listed: "-o KEY=VALUE", example: "KEY=VALUE"},
	{Name: "output", Value: Text, Scope: OnLine | OnJobFlags,
		Usage: "write the tasks' stdout (and stderr, without --error) to this file; " +
			"{{id}} job id (f58; {{id.dec}} {{id.hex}}), {{name}}, {{cc}}, {{line}} line number, {{task.id}} task rank",
		kind: optOutput, example: "FILE"},
	{Name: "error", Value: Text, Scope: OnLine | OnJobFlags,
		Usage: "write the tasks' stderr to this file (same templates; needs --output)",
		kind:  optError, example: "FILE"},
	{Name: "input", Value: Text, Scope: OnLine | OnSubmitFlags,
		Usage: "the tasks' standard input comes from FILE (default: none)",
		kind:  optInput, example: "FILE"},
	{Name: "label-io", Short: "l", Value: Switch, Scope: OnLine | OnSubmitFlags,
		Usage: "prefix each output line with the task rank",
		kind:  optLabelIO},
	{Name: "job-name", Value: Text, Scope: OnLine | OnJobFlags,
		Usage: "the job's name in flux jobs (default: the command's first word)",
		kind:  optJobName, example: "NAME"},
	{Name: "urgency", Value: Text, Scope: OnLine | OnJobFlags,
		Usage: "0 to 31, or hold (0: the job waits until flux job urgency raises it), default (16), expedite (31); the queue is ordered by urgency, then submit time",
		kind:  optUrgency, example: "16"},
	{Name: "dependency", Value: List, Scope: OnLine | OnJobFlags,
		Usage: "TYPE:ID (repeatable): start only after job ID started (after), ended (afterany), succeeded (afterok) " +
			"or failed (afternotok); a job whose dependency can no longer be met ends without running. In a command file, TYPE:line:N names an earlier line",
		kind: optDependency, example: "afterok:line:12"},
	{Name: "retries", Value: Count, Scope: OnLine, // flux-capacitor's --retries is its own flag: the default of every line
		kind: optRetries, example: "3"},
}

// LookupOption returns the option spelled name ("n", "ntasks"), or nil.
func LookupOption(name string) *JobOption {
	for i := range JobOptions {
		if o := &JobOptions[i]; o.Name == name || (o.Short != "" && o.Short == name) {
			return o
		}
	}
	return nil
}
