package commands

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/fluxtaskfarm/flux/report"
	"github.com/urfave/cli/v2"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "draw a finished run from its job log: utilisation, runtimes, failures, slowest lines (HTML, SVG or PNG)",
		UsageText: "flux report JOBLOG -o report.html|report.svg|report.png [--cores N] [--stats stats.json] [--defaults OPTS] [--top K]",
		Description: `Reads a job log in GNU parallel's --joblog format (written by flux-capacitor --joblog,
flux-hierarchy --joblog, or GNU parallel --joblog itself; "-" reads standard input) in one pass,
in bounded memory, and draws: cores busy over time against cores available (per host when the log
names several), a histogram of runtimes, failed lines by exit code and signal, the slowest lines
and the totals. The format follows the extension of -o: .html is one self-contained page (inline
SVG, nothing fetched), .svg and .png are one picture with the totals as text.

The log does not record cores. Each line's cores are read from its options as written (-n4 -c2 is
8 cores, by the capacitor's own line parser); a line without options is one core, as GNU parallel's
jobs are. --defaults gives the options flux-capacitor was run with (they set every line's default).
Cores available: --cores N, else the top instance's cores from --stats, else the peak concurrency
seen in the log (rounded up), which understates an allocation the run never filled.

--stats adds a flux-hierarchy tree's instances (its --stats file): lines, rates, syncs, and each
leaf's utilisation (its busy core-seconds over its cores and lifetime).

Lines that are not job log records are skipped and the first is named; the report still shows the
rest and the exit status is 2. Exit status: 0 written, 2 bad usage, unreadable input, an unwritable
report path, or bad lines (report written).`,
		// Flags may come after the log's name (flux report run.log -o r.html),
		// which urfave/cli does not parse; parseReportArgs reads them.
		SkipFlagParsing: true,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "the report to write: FILE.html, FILE.svg or FILE.png"},
			&cli.IntFlag{Name: "cores", Usage: "cores available to the run (default: from --stats, else the peak concurrency)"},
			&cli.StringFlag{Name: "stats", Usage: "the stats file of flux-hierarchy --stats, for a line per instance"},
			&cli.StringFlag{Name: "defaults", Usage: "the line options flux-capacitor was run with, e.g. '-c2'"},
			&cli.IntFlag{Name: "top", Value: report.DefaultTopK, Usage: fmt.Sprintf("slowest lines to list (at most %d)", report.MaxTopK)},
			&cli.StringFlag{Name: "title", Usage: "the report's title (default: the log's name)"},
		},
		Action: reportAction,
	}
}

// reportArgs are flux report's arguments.
type reportArgs struct {
	log, out, stats string
	opt             report.Options
	help            bool
}

// parseReportArgs reads options anywhere among the arguments, as
// --opt VALUE or --opt=VALUE (single dash too); "--" ends them.
func parseReportArgs(args []string) (reportArgs, error) {
	a := reportArgs{opt: report.Options{TopK: report.DefaultTopK}}
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
			a.help = true
			continue
		}
		if len(name) > 1 && name[0] == 'o' && name != "output" && !strings.HasPrefix(w, "--") && !hasVal { // -oreport.html
			name, val, hasVal = "o", name[1:], true
		}
		if !reportValueOpts[name] {
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
			a.out = val
		case "stats":
			a.stats = val
		case "defaults":
			a.opt.Defaults = val
		case "title":
			a.opt.Title = val
		case "cores":
			a.opt.Cores, err = positive(w, val, 1<<30)
		case "top":
			a.opt.TopK, err = positive(w, val, report.MaxTopK)
		}
		if err != nil {
			return a, err
		}
	}
	if a.help {
		return a, nil
	}
	switch {
	case len(pos) == 0:
		return a, errors.New("give the job log to read (a file, or - for standard input)")
	case len(pos) > 1:
		return a, fmt.Errorf("one job log at a time, got %d: %s", len(pos), strings.Join(pos, " "))
	case a.out == "":
		return a, errors.New("give the report to write with -o FILE.html (or .svg, .png)")
	}
	a.log = pos[0]
	return a, nil
}

var reportValueOpts = map[string]bool{"o": true, "output": true, "stats": true, "defaults": true, "title": true, "cores": true, "top": true}

func positive(opt, val string, most int) (int, error) {
	n, err := strconv.Atoi(val)
	if err != nil || n < 1 || n > most {
		return 0, fmt.Errorf("%s %q: want a whole number from 1 to %d", opt, val, most)
	}
	return n, nil
}

func reportAction(c *cli.Context) error {
	a, err := parseReportArgs(c.Args().Slice())
	if err != nil {
		return exitf(2, "flux report: %v (see flux report --help)", err)
	}
	if a.help {
		return cli.ShowCommandHelp(c.Lineage()[1], "report")
	}
	rep, err := report.Make(a.opt, a.log, a.stats, a.out)
	if err != nil {
		return exitf(2, "flux report: %v", err)
	}
	fmt.Fprintf(os.Stderr, "flux report: wrote %s: %d lines, %d failed, %.0f%% of %d cores used over %.1f s\n",
		a.out, rep.Lines, rep.Failed, 100*rep.Utilisation, rep.Cores, rep.Seconds)
	return nil
}
