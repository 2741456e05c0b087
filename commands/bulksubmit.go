package commands

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

func bulksubmitCommand() *cli.Command {
	return &cli.Command{
		Name:      "bulksubmit",
		Usage:     "submit one job per input, as GNU parallel or xargs would run one command per input",
		UsageText: "flux bulksubmit [OPTIONS] COMMAND... [::: INPUTS... | :::: FILE ...]   (inputs from stdin without :::)",
		Description: `The command (and --output, --error, --job-name, --cwd) is a template: {} is the input (with
several input lists, {0} {1}... are the inputs of each list), {.%} the input without its
extension, {./} its basename, {./%} the basename without extension, {.//} its directory, {seq} the
job's sequence number from 0, {seq1} from 1, {cc} the --cc id. GNU parallel's {.} {/} {//} {/.}
work too, and every attribute takes an index ({1./}). Inputs come from the lists after ::: (words)
or :::: (files, - for stdin); lists are combined in every combination, in order; :::+ and ::::+
link a list to the previous one instead (cycled if shorter). Without lists, inputs are the lines of
standard input. --dry-run prints the commands instead of submitting them. Other options as in flux
submit (--cc, --wait, --watch, --progress, --quiet). --define=NAME=CODE adds {.NAME}: the Python
expression CODE of the input x (python3 evaluates it, once for all inputs). Not supported: templates
in numeric options such as -n {}.`,
		Flags: append(append(submitFlags(), manyFlags()...),
			&cli.StringSliceFlag{Name: "define", Usage: "NAME=CODE (repeatable): {.NAME} is the Python expression CODE of the input x, " +
				"as in --define=p2='2**int(x)' (runs python3 once for all inputs)"}),
		Action: bulksubmitAction,
	}
}

// inputList is one ::: or :::: list; linked lists pair with the previous one.
type inputList struct {
	items  []string
	linked bool
}

// splitInputs separates the command template from the input lists.
func splitInputs(args []string, stdin io.Reader) ([]string, []inputList, error) {
	cmd := args
	var lists []inputList
	for i, a := range args {
		if a == ":::" || a == "::::" || a == ":::+" || a == "::::+" {
			cmd = args[:i]
			rest := args[i:]
			for len(rest) > 0 {
				delim := rest[0]
				j := 1
				for j < len(rest) && !isDelim(rest[j]) {
					j++
				}
				words := rest[1:j]
				rest = rest[j:]
				l := inputList{linked: strings.HasSuffix(delim, "+")}
				if strings.HasPrefix(delim, "::::") {
					for _, f := range words {
						lines, err := readInputFile(f, stdin)
						if err != nil {
							return nil, nil, err
						}
						l.items = append(l.items, lines...)
					}
				} else {
					l.items = words
				}
				if len(l.items) == 0 {
					return nil, nil, fmt.Errorf("%s is followed by no inputs", delim)
				}
				lists = append(lists, l)
			}
			break
		}
	}
	if lists == nil {
		lines, err := readLines(stdin)
		if err != nil {
			return nil, nil, err
		}
		lists = []inputList{{items: lines}}
	}
	if lists[0].linked {
		return nil, nil, fmt.Errorf("the first input list cannot be linked (:::+ or ::::+ links to a list before it)")
	}
	return cmd, lists, nil
}

func isDelim(s string) bool { return s == ":::" || s == "::::" || s == ":::+" || s == "::::+" }

func readInputFile(name string, stdin io.Reader) ([]string, error) {
	if name == "-" {
		return readLines(stdin)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLines(f)
}

func readLines(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// combinations calls fn with every combination of the inputs, the first
// list varying slowest, linked lists advancing with the list before them.
func combinations(lists []inputList, fn func([]string) error) error {
	// Groups: an unlinked list and the linked lists after it.
	type group struct{ lists []inputList }
	var groups []group
	for _, l := range lists {
		if l.linked {
			groups[len(groups)-1].lists = append(groups[len(groups)-1].lists, l)
			continue
		}
		groups = append(groups, group{lists: []inputList{l}})
	}
	idx := make([]int, len(groups))
	vals := make([]string, len(lists))
	for {
		k := 0
		for g, gr := range groups {
			for _, l := range gr.lists {
				vals[k] = l.items[idx[g]%len(l.items)]
				k++
			}
		}
		if err := fn(vals); err != nil {
			return err
		}
		g := len(groups) - 1
		for ; g >= 0; g-- {
			idx[g]++
			if idx[g] < len(groups[g].lists[0].items) {
				break
			}
			idx[g] = 0
		}
		if g < 0 {
			return nil
		}
	}
}

// formatInput fills one template with one combination of inputs. It returns
// an error naming a replacement it does not know.
func formatInput(tmpl string, vals []string, seq int, cc string) (string, error) {
	return formatInputWith(tmpl, vals, seq, cc, nil)
}

// formatInputWith is formatInput with --define'd attributes (defs[name][x]).
func formatInputWith(tmpl string, vals []string, seq int, cc string, defs map[string]map[string]string) (string, error) {
	if !strings.ContainsAny(tmpl, "{}") {
		return tmpl, nil
	}
	var b strings.Builder
	next := 0 // {} takes the inputs in turn, as Python's format does
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c == '}' && i+1 < len(tmpl) && tmpl[i+1] == '}' {
			b.WriteByte('}')
			i++
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(tmpl) && tmpl[i+1] == '{' { // {{...}}: a mustache template, for the instance
			end := strings.Index(tmpl[i:], "}}")
			if end < 0 {
				return "", fmt.Errorf("unclosed {{ in %q", tmpl)
			}
			field := tmpl[i : i+end+2]
			if field == "{{cc}}" && cc != "" {
				field = cc
			}
			b.WriteString(field)
			i += end + 1
			continue
		}
		end := strings.IndexByte(tmpl[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unclosed { in %q (write {{ for a literal brace)", tmpl)
		}
		field := tmpl[i+1 : i+end]
		i += end
		v, err := inputField(field, vals, &next, seq, cc, defs)
		if err != nil {
			return "", fmt.Errorf("{%s} in %q: %v", field, tmpl, err)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

func inputField(field string, vals []string, next *int, seq int, cc string, defs map[string]map[string]string) (string, error) {
	switch field {
	case "seq":
		return strconv.Itoa(seq), nil
	case "seq1":
		return strconv.Itoa(seq + 1), nil
	case "cc":
		return cc, nil
	}
	// [index][attribute]: "", "0", ".%", "1./", ".", "/" ...
	j := 0
	for j < len(field) && field[j] >= '0' && field[j] <= '9' {
		j++
	}
	var n int
	if j > 0 {
		n, _ = strconv.Atoi(field[:j])
	} else {
		n = *next
		*next++
	}
	if n >= len(vals) {
		return "", fmt.Errorf("there are %d input lists; indexes go from 0 to %d", len(vals), len(vals)-1)
	}
	v := vals[n]
	switch attr := field[j:]; attr {
	case "":
		return v, nil
	case ".%", ".":
		return strings.TrimSuffix(v, filepath.Ext(v)), nil
	case "./", "/":
		return filepath.Base(v), nil
	case "./%", "/.":
		base := filepath.Base(v)
		return strings.TrimSuffix(base, filepath.Ext(base)), nil
	case ".//", "//":
		return filepath.Dir(v), nil
	default:
		if name, ok := strings.CutPrefix(attr, "."); ok && defs[name] != nil {
			return defs[name][v], nil
		}
		return "", fmt.Errorf("unknown replacement; use {} {0} {.%%} {./} {./%%} {.//} {seq} {seq1} {cc}")
	}
}

func bulksubmitAction(c *cli.Context) error {
	tmpl, err := newJobTemplate(c)
	if err != nil {
		return err
	}
	cmd, lists, err := splitInputs(c.Args().Slice(), os.Stdin)
	if err != nil {
		return exitf(2, "flux bulksubmit: %v", err)
	}
	if len(cmd) == 0 {
		return exitf(2, "flux bulksubmit: no command given; usage: %s", c.Command.UsageText)
	}
	ccs, setEnv, err := ccSet(c)
	if err != nil {
		return err
	}
	defs, err := evalDefines(c.StringSlice("define"), lists)
	if err != nil {
		return exitf(2, "flux bulksubmit: %v", err)
	}
	total := 1
	for _, l := range lists {
		if !l.linked {
			total *= len(l.items)
		}
	}
	total *= max(len(ccs), 1)
	var prog *progressLine
	if c.Bool("progress") && !c.Bool("dry-run") {
		prog = newProgressLine(total, c.Bool("jps"))
	}
	dry := c.Bool("dry-run")
	s := newSubmitter("bulksubmit", c.Bool("quiet"), c.Bool("wait"), c.Bool("watch"), false, prog)
	if !dry {
		if err := s.open(); err != nil {
			return err
		}
	}
	seq := 0
	err = combinations(lists, func(vals []string) error {
		ids := ccs
		if ids == nil {
			ids = []int{-1}
		}
		for _, id := range ids {
			cc := ""
			if id >= 0 {
				cc = strconv.Itoa(id)
			}
			var ferr error
			subst := func(v string) string {
				out, err := formatInputWith(v, vals, seq, cc, defs)
				if err != nil && ferr == nil {
					ferr = err
				}
				return out
			}
			spec, err := tmpl.spec(cmd, subst)
			if err != nil {
				return err
			}
			if ferr != nil {
				return exitf(2, "flux bulksubmit: %v", ferr)
			}
			seq++
			if dry {
				fmt.Printf("bulksubmit: submit %s\n", strings.Join(spec.Argv, " "))
				continue
			}
			if id >= 0 && setEnv {
				spec.Env = append(spec.Env[:len(spec.Env):len(spec.Env)], "FLUX_JOB_CC="+cc)
			}
			if err := s.add(spec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if dry {
		return nil
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

// evalDefines evaluates each --define NAME=CODE for every input with one
// python3 process, as Flux evaluates them in its own Python: the result
// maps NAME, then the input, to the text of the value.
func evalDefines(specs []string, lists []inputList) (map[string]map[string]string, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	code := map[string]string{}
	for _, d := range specs {
		name, expr, ok := strings.Cut(d, "=")
		if !ok || name == "" || expr == "" || strings.ContainsAny(name, ".{}: ") {
			return nil, fmt.Errorf("--define %q: give NAME=CODE, as in --define=p2='2**int(x)'", d)
		}
		code[name] = expr
	}
	seen := map[string]bool{}
	var items []string
	for _, l := range lists {
		for _, it := range l.items {
			if !seen[it] {
				seen[it] = true
				items = append(items, it)
			}
		}
	}
	in, _ := json.Marshal(map[string]any{"defs": code, "items": items})
	const prog = `import json, sys
req = json.load(sys.stdin)
out = {}
for name, code in req["defs"].items():
    vals = []
    for x in req["items"]:
        try:
            vals.append(str(eval(code, {"__builtins__": __builtins__}, {"x": x})))
        except Exception as e:
            sys.stderr.write("--define %s=%s: %s: %s (x=%r)\n" % (name, code, type(e).__name__, e, x))
            sys.exit(2)
    out[name] = vals
json.dump(out, sys.stdout)
`
	cmd := exec.Command("python3", "-c", prog)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return nil, fmt.Errorf("--define needs python3 to evaluate its code: %v", err)
	}
	var res map[string][]string
	if err := json.Unmarshal(outb, &res); err != nil {
		return nil, fmt.Errorf("--define: reading python3's answer: %v", err)
	}
	defs := map[string]map[string]string{}
	for name, vals := range res {
		m := make(map[string]string, len(items))
		for i, it := range items {
			if i < len(vals) {
				m[it] = vals[i]
			}
		}
		defs[name] = m
	}
	return defs, nil
}
