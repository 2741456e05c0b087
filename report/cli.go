package report

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Usage is flux report's help text.
const Usage = `NAME:
   flux report - draw a finished run from its job log: utilisation, runtimes, failures, slowest lines

USAGE:
   flux report JOBLOG -o report.html|report.svg|report.png [--cores N] [--stats stats.json]
                      [--defaults OPTS] [--top K] [--title TEXT]

DESCRIPTION:
   Reads a job log in GNU parallel's --joblog format (written by flux-capacitor --joblog,
   flux-hierarchy --joblog, or GNU parallel --joblog itself; "-" reads standard input) in one pass,
   in bounded memory, and draws: cores busy over time against cores available (per host when the log
   names several), a histogram of runtimes, failed lines by exit code and signal, the slowest lines
   and the totals. The format follows the extension of -o: .html is one self-contained page (inline
   SVG, nothing fetched), .svg and .png are one picture with the totals as text. Options may come
   before or after the log's name.

   The log does not record cores. Each line's cores are read from its options as written (-n4 -c2 is
   8 cores, by the capacitor's own line parser); a line without options is one core, as GNU parallel's
   jobs are. --defaults gives the options flux-capacitor was run with (they set every line's default).
   Cores available: --cores N, else the top instance's cores from --stats, else the peak concurrency
   seen in the log (rounded up), which understates an allocation the run never filled.

   --stats adds a flux-hierarchy tree's instances (its --stats file): lines, rates, syncs, and each
   leaf's utilisation (its busy core-seconds over its cores and lifetime).

   Lines that are not job log records are skipped and the first is named; the report still shows the
   rest and the exit status is 2. Exit status: 0 written, 2 bad usage, unreadable input, an unwritable
   report path, or bad lines (report written).

   The drawing is done by the program flux-report, which flux runs for flux report (as Flux runs its
   flux-<command> programs): its plotting library stays out of every other flux process's start-up.

OPTIONS:
   -o FILE, --output FILE   the report to write: FILE.html, FILE.svg or FILE.png
   --cores N                cores available to the run (default: from --stats, else the peak concurrency)
   --stats FILE             the stats file of flux-hierarchy --stats, for a line per instance
   --defaults OPTS          the line options flux-capacitor was run with, e.g. '-c2'
   --top K                  slowest lines to list (default 20, at most 1000)
   --title TEXT             the report's title (default: the log's name)
   -h, --help               show this help
`

// Args are flux report's arguments.
type Args struct {
	Log, Out, Stats string
	Opt             Options
	Help            bool
}

var valueOpts = map[string]bool{"o": true, "output": true, "stats": true, "defaults": true, "title": true, "cores": true, "top": true}

// ParseArgs reads options anywhere among the arguments, as --opt VALUE,
// --opt=VALUE or -oFILE (one dash or two); "--" ends them.
func ParseArgs(args []string) (Args, error) {
	a := Args{Opt: Options{TopK: DefaultTopK}}
	var pos []string
	for i := 0; i < len(args); i++ {
		w := args[i]
		if w == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(w, "-") || w == "-" {
			pos = append(pos, w)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(w, "-"), "=")
		if name == "h" || name == "help" {
			a.Help = true
			continue
		}
		if len(name) > 1 && name[0] == 'o' && !valueOpts[name] && !strings.HasPrefix(w, "--") && !hasVal { // -oreport.html
			name, val, hasVal = "o", name[1:], true
		}
		if !valueOpts[name] {
			return a, fmt.Errorf("unknown option %s; the options are -o, --cores, --stats, --defaults, --top, --title", w)
		}
		if !hasVal {
			if i+1 >= len(args) {
				return a, fmt.Errorf("%s needs a value", w)
			}
			i++
			val = args[i]
		}
		var err error
		switch name {
		case "o", "output":
			a.Out = val
		case "stats":
			a.Stats = val
		case "defaults":
			a.Opt.Defaults = val
		case "title":
			a.Opt.Title = val
		case "cores":
			a.Opt.Cores, err = wholeIn(w, val, 1<<30)
		case "top":
			a.Opt.TopK, err = wholeIn(w, val, MaxTopK)
		}
		if err != nil {
			return a, err
		}
	}
	if a.Help {
		return a, nil
	}
	switch {
	case len(pos) == 0:
		return a, errors.New("give the job log to read (a file, or - for standard input)")
	case len(pos) > 1:
		return a, fmt.Errorf("one job log at a time, got %d: %s", len(pos), strings.Join(pos, " "))
	case a.Out == "":
		return a, errors.New("give the report to write with -o FILE.html (or .svg, .png)")
	}
	a.Log = pos[0]
	return a, nil
}

func wholeIn(opt, val string, most int) (int, error) {
	n, err := strconv.Atoi(val)
	if err != nil || n < 1 || n > most {
		return 0, fmt.Errorf("%s %q: want a whole number from 1 to %d", opt, val, most)
	}
	return n, nil
}

// Main is flux report: it parses args, writes the report and returns the
// exit status (0 written; 2 bad usage, bad input or an unwritable path).
func Main(args []string, stdout, stderr io.Writer) int {
	a, err := ParseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "flux report: %v (see flux report --help)\n", err)
		return 2
	}
	if a.Help {
		io.WriteString(stdout, Usage)
		return 0
	}
	rep, err := Make(a.Opt, a.Log, a.Stats, a.Out)
	if err != nil {
		fmt.Fprintf(stderr, "flux report: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "flux report: wrote %s: %d lines, %d failed, %.0f%% of %d cores used over %.1f s\n",
		a.Out, rep.Lines, rep.Failed, 100*rep.Utilisation, rep.Cores, rep.Seconds)
	return 0
}
