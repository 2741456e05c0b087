package capacitor

import (
	"strconv"
	"strings"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/client"
	"github.com/fluxtaskfarm/flux/resources"
	"github.com/fluxtaskfarm/flux/sched"
)

// Defaults holds flux-capacitor's own flags. Every line starts from them and
// its own options override them field by field.
type Defaults struct {
	Req       resources.Request
	TimeLimit time.Duration
	Cwd       string
	Env       []string // "K=V"
	Output    string
	Error     string // stderr file template ("" = with stdout)
	LabelIO   bool
	Retries   int                 // a failed line runs again up to this many times
	Name      string              // --job-name
	Shell     []string            // -o KEY=VALUE shell options, checked by CheckShellOption
	Urgency   *int                // --urgency; nil: Flux's default, 16
	Deps      []broker.Dependency // --dependency on job ids (not lines), for every line
}

// optionsHelp is the one list of per-line options, quoted in every message
// about an option the parser does not know.
var optionsHelp = listLineOptions() + "; put -- before a command that starts with -"

// MsgOutputFile is the answer to -o FILE, on a line or as a flag: -o is
// Flux's --setopt.
const MsgOutputFile = "-o takes KEY=VALUE (a shell option); for an output file use --output FILE"

// optKind names one per-line option, whatever spelling the user chose.
type optKind uint8

const (
	optNone optKind = iota // not an option of a line
	optTasks
	optNodes
	optCores
	optGPUs
	optTime
	optCwd
	optEnv
	optOutput
	optLabelIO
	optRetries
	optSetopt
	optError
	optJobName
	optEnvRemove
	optInput
	optUrgency
	optDependency
)

// shortOpts (indexed by the letter after a single dash) and longOpts are
// the line's options of JobOptions by spelling.
var shortOpts, longOpts = indexLineOptions()

func indexLineOptions() (short [128]*JobOption, long map[string]*JobOption) {
	long = make(map[string]*JobOption)
	for i := range JobOptions {
		o := &JobOptions[i]
		if o.Scope&OnLine == 0 {
			continue
		}
		long[o.Name] = o
		if o.Short != "" {
			short[o.Short[0]] = o
		}
	}
	return short, long
}

// listLineOptions names each option of a line by its shortest spelling.
func listLineOptions() string {
	var b strings.Builder
	for i := range JobOptions {
		o := &JobOptions[i]
		if o.Scope&OnLine == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		switch {
		case o.listed != "":
			b.WriteString(o.listed)
		case o.Short != "":
			b.WriteString("-" + o.Short)
		default:
			b.WriteString("--" + o.Name)
		}
	}
	return "options are " + b.String()
}

// lineOpts accumulates the options of one line, as given on the line (zero
// means "not given, use the default"). Both the fast splitter and the shell
// parser feed it the same words, so they cannot disagree on options.
type lineOpts struct {
	req        resources.Request
	timeLimit  time.Duration
	cwd        string
	hasCwd     bool
	output     string
	hasOutput  bool
	errorFile  string
	input      string
	name       string
	shell      []string
	labelIO    bool
	env        []string
	urgency    int
	hasUrg     bool
	deps       []broker.Dependency
	retries    int
	hasRetries bool

	pending     *JobOption // an option still waiting for its value word
	pendingName string     // the spelling the user wrote, for messages
	getenv      func(string) string
}

// wordResult says what step made of a word.
type wordResult uint8

const (
	wordOption  wordResult = iota // consumed as an option or its value
	wordEndOpts                   // "--": the command starts at the next word
	wordCommand                   // the first word of the command
)

// step consumes one plain word (quotes already removed).
func (o *lineOpts) step(w string) (wordResult, string) {
	if o.pending != nil {
		spec, name := o.pending, o.pendingName
		o.pending = nil
		return wordOption, o.apply(spec, name, w)
	}
	if w == "--" {
		return wordEndOpts, ""
	}
	if len(w) < 2 || w[0] != '-' {
		return wordCommand, ""
	}
	if w[1] == '-' {
		name, val, hasVal := strings.Cut(w[2:], "=")
		spec := longOpts[name]
		if spec == nil {
			return wordOption, "unknown option --" + name + "; " + optionsHelp
		}
		if spec.Value == Switch {
			if hasVal {
				return wordOption, "--" + name + " takes no value; write it alone, as in --" + name + " CMD"
			}
			return wordOption, o.apply(spec, w, "")
		}
		if !hasVal {
			o.pending, o.pendingName = spec, w
			return wordOption, ""
		}
		return wordOption, o.apply(spec, "--"+name, val)
	}
	var spec *JobOption
	if c := w[1]; c < 128 {
		spec = shortOpts[c]
	}
	if spec == nil {
		shown := w[:2]
		if w[1] >= 128 {
			shown = w // do not cut a UTF-8 character in half
		}
		return wordOption, "unknown option " + shown + "; " + optionsHelp
	}
	if spec.Value == Switch {
		if len(w) > 2 {
			return wordOption, w[:2] + " takes no value; write it alone, as in " + w[:2] + " CMD"
		}
		return wordOption, o.apply(spec, w, "")
	}
	if len(w) == 2 {
		o.pending, o.pendingName = spec, w
		return wordOption, ""
	}
	return wordOption, o.apply(spec, w[:2], w[2:])
}

// missingValue is the message for an option left without its value at the
// end of the options.
func (o *lineOpts) missingValue() string {
	return o.pendingName + " needs a value, as in " + o.pendingName + " " + o.pending.example
}

// apply records one option's value; it returns a message, or "" if the value
// is good. name is the option as the user spelled it.
func (o *lineOpts) apply(spec *JobOption, name, val string) string {
	switch spec.kind {
	case optTasks, optNodes, optCores, optGPUs:
		n, msg := parseCount(spec, name, val)
		if msg != "" {
			return msg
		}
		switch spec.kind {
		case optTasks:
			o.req.Tasks = n
		case optNodes:
			o.req.Nodes = n
		case optCores:
			o.req.CoresPerTask = n
		default:
			o.req.GPUsPerTask = n
		}
	case optTime:
		d, err := ParseDuration(val)
		if err != nil {
			return name + " " + err.Error()
		}
		if d <= 0 {
			return name + " " + val + ": the time limit must be positive"
		}
		o.timeLimit = d
	case optCwd:
		if val == "" {
			return name + " needs a directory, as in " + name + " DIR"
		}
		o.cwd, o.hasCwd = val, true
	case optOutput, optError:
		if val == "" {
			return name + " needs a file name, as in " + name + " FILE"
		}
		if spec.kind == optError {
			o.errorFile = val
		} else {
			o.output, o.hasOutput = val, true
		}
	case optSetopt:
		if !strings.Contains(val, "=") {
			return MsgOutputFile
		}
		kv, msg := CheckShellOption(val)
		if msg != "" {
			return name + " " + val + ": " + msg
		}
		o.shell = append(o.shell, kv)
	case optInput:
		if val == "" {
			return name + " needs a file name, as in " + name + " FILE"
		}
		o.input = val
	case optJobName:
		if val == "" {
			return name + " needs a name, as in " + name + " NAME"
		}
		o.name = val
	case optEnvRemove:
		if val == "" {
			return name + " needs a pattern, as in " + name + " 'SLURM_*'"
		}
		o.env = append(o.env, "-"+val)
	case optEnv:
		k, _, hasVal := strings.Cut(val, "=")
		if strings.HasPrefix(k, "-") && !hasVal { // --env=-PATTERN removes, as in Flux
			if len(k) == 1 {
				return name + " -: needs a pattern after the -, as in --env=-SLURM_*"
			}
			o.env = append(o.env, val)
			break
		}
		if k == "" {
			return name + " needs a variable name, as in --env NAME=VALUE or --env NAME"
		}
		if !hasVal {
			val = k + "=" + o.getenv(k)
		}
		o.env = append(o.env, val)
	case optLabelIO:
		o.labelIO = true
	case optRetries:
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 || n > MaxRetries {
			return name + " " + val + ": the retry count must be a whole number from 0 to " + strconv.Itoa(MaxRetries)
		}
		o.retries, o.hasRetries = n, true
	case optUrgency:
		u, err := sched.ParseUrgency(val)
		if err != nil {
			return name + " " + err.Error()
		}
		o.urgency, o.hasUrg = u, true
	case optDependency:
		d, err := broker.ParseDependencyWith(val, parseJobID)
		if err != nil {
			return name + " " + err.Error()
		}
		o.deps = append(o.deps, d)
	}
	return ""
}

// MaxRetries bounds --retries: a line that fails a thousand times will not
// succeed the next time either.
const MaxRetries = 1000

// parseCount reads a positive whole number no larger than resources.MaxCount.
func parseCount(spec *JobOption, name, val string) (int, string) {
	n, err := strconv.Atoi(val)
	switch {
	case err != nil && isDigits(val):
		return 0, name + " " + val + ": " + spec.what + " must be at most " + strconv.Itoa(resources.MaxCount)
	case err != nil:
		return 0, name + " " + val + ": " + spec.what + " must be a whole number such as " + spec.example
	case n < 1 && spec.kind == optGPUs:
		return 0, name + " " + val + ": " + spec.what + " must be at least 1 (leave -g out for no GPUs)"
	case n < 1:
		return 0, name + " " + val + ": " + spec.what + " must be at least 1"
	case n > resources.MaxCount:
		return 0, name + " " + val + ": " + spec.what + " must be at most " + strconv.Itoa(resources.MaxCount)
	}
	return n, ""
}

func isDigits(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// finish merges the line's options over the defaults into l, and checks
// what only the whole line can tell (-N against -n).
func (o *lineOpts) finish(def *Defaults, l *Line) string {
	req := o.req
	if req.Nodes == 0 {
		req.Nodes = def.Req.Nodes
	}
	if req.Tasks == 0 {
		req.Tasks = def.Req.Tasks
	}
	if req.CoresPerTask == 0 {
		req.CoresPerTask = def.Req.CoresPerTask
	}
	if req.GPUsPerTask == 0 {
		req.GPUsPerTask = def.Req.GPUsPerTask
	}
	if req.Nodes > 0 && req.Tasks > 0 && req.Nodes > req.Tasks {
		return "-N " + strconv.Itoa(req.Nodes) + " with -n " + strconv.Itoa(req.Tasks) +
			": every node needs at least one task; use -n " + strconv.Itoa(req.Nodes) + " or more, or fewer nodes"
	}
	// -N alone asks for whole nodes, as in Flux.
	req.Exclusive = req.Nodes > 0 && req.Tasks == 0 && req.CoresPerTask == 0 && req.GPUsPerTask == 0
	l.Req = req.Normalize()
	l.TimeLimit = def.TimeLimit
	if o.timeLimit > 0 {
		l.TimeLimit = o.timeLimit
	}
	l.Cwd = def.Cwd
	if o.hasCwd {
		l.Cwd = o.cwd
	}
	l.Output = def.Output
	if o.hasOutput {
		l.Output = o.output
	}
	l.Error = def.Error
	if o.errorFile != "" {
		l.Error = o.errorFile
	}
	if l.Error != "" && l.Output == "" {
		return "--error " + l.Error + " needs --output FILE too (output that is not written to a file is captured whole)"
	}
	l.Name = def.Name
	if o.name != "" {
		l.Name = o.name
	}
	l.LabelIO = def.LabelIO || o.labelIO
	l.Input = o.input
	l.Setopt = mergeShell(def.Shell, o.shell)
	l.PMI = ShellValue(l.Setopt, "pmi")
	l.Env = mergeEnv(def.Env, o.env)
	l.Retries = def.Retries
	if o.hasRetries {
		l.Retries = o.retries
	}
	l.Urgency = def.Urgency
	if o.hasUrg {
		u := o.urgency
		l.Urgency = &u
	}
	l.Deps = def.Deps
	if len(o.deps) > 0 {
		for _, d := range o.deps {
			if d.Line >= l.Seq {
				return "--dependency " + d.String() + ": line " + strconv.Itoa(d.Line) +
					" is not before this line; a line can depend only on earlier lines"
			}
		}
		l.Deps = append(def.Deps[:len(def.Deps):len(def.Deps)], o.deps...)
	}
	return ""
}

// mergeEnv returns the defaults followed by the line's settings, a later
// setting of a key replacing an earlier one in place. With no per-line --env
// (the common case, a million times a run) it shares the defaults' backing
// array, capped so that an append by a caller copies instead of writing into
// the defaults.
func mergeEnv(def, line []string) []string {
	if len(line) == 0 {
		return def[:len(def):len(def)]
	}
	out := make([]string, len(def), len(def)+len(line))
	copy(out, def)
next:
	for _, kv := range line {
		k, _, _ := strings.Cut(kv, "=")
		for i, have := range out {
			if hk, _, _ := strings.Cut(have, "="); hk == k {
				out[i] = kv
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// parseJobID reads a --dependency's job id in any encoding Flux prints
// (decimal, f58, hex).
func parseJobID(s string) (uint64, error) {
	id, err := client.ParseJobID(s)
	return uint64(id), err
}
