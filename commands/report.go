package commands

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/urfave/cli/v2"
)

// reportProgram draws the report. It is kept out of this binary on purpose
// (see cmd/flux-report): the plotting library would add to the start-up
// time and memory of every flux process, and a tree starts one per child.
const reportProgram = "flux-report"

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "draw a finished run from its job log: utilisation, runtimes, failures, slowest lines (HTML, SVG or PNG)",
		UsageText: "flux report JOBLOG -o report.html|report.svg|report.png [--cores N] [--stats stats.json] (flux report --help for more)",
		// Everything, --help included, goes to flux-report.
		SkipFlagParsing: true,
		HideHelpCommand: true,
		Action: func(c *cli.Context) error {
			path, err := findReportProgram()
			if err != nil {
				return exitf(2, "flux report: %v", err)
			}
			// Replace this process, as Flux runs its flux-<command>
			// programs: the exit status and output are flux-report's.
			err = syscall.Exec(path, append([]string{path}, c.Args().Slice()...), os.Environ())
			return exitf(2, "flux report: cannot run %s: %v", path, err)
		},
	}
}

// findReportProgram looks for flux-report next to this executable (where
// scripts/build puts it), then on PATH.
func findReportProgram() (string, error) {
	self, err := os.Executable()
	if err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
	}
	isSelf := func(p string) bool { // a flux-report that is a link to flux would run itself forever
		real, err := filepath.EvalSymlinks(p)
		return err == nil && real == self
	}
	if self != "" {
		p := filepath.Join(filepath.Dir(self), reportProgram)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 && !isSelf(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath(reportProgram); err == nil && !isSelf(p) {
		return p, nil
	}
	return "", errors.New(reportProgram + ", the program that draws the report, is not next to flux nor on PATH; " +
		"build it with scripts/build (which puts it in bin/ beside flux)")
}
