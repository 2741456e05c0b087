package commands

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
)

// The Python package (python/flux) is found relative to the binary, as
// flux-core finds its own: in a source tree or after scripts/build the binary
// is <repo>/bin/flux and the package <repo>/python/flux; installed, it is
// <prefix>/bin/flux and <prefix>/lib/flux/python/flux (or
// <prefix>/share/flux/python/flux). FLUX_PYTHONPATH_PREPEND, as in flux-core,
// adds directories in front of it.
var pythonLayouts = []string{"../python", "../lib/flux/python", "../share/flux/python"}

// pythonDir returns the directory holding the flux package, or "".
func pythonDir() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	bin := filepath.Dir(exe)
	for _, rel := range pythonLayouts {
		dir := filepath.Clean(filepath.Join(bin, rel))
		if _, err := os.Stat(filepath.Join(dir, "flux", "__init__.py")); err == nil {
			return dir
		}
	}
	return ""
}

// fluxEnv returns the variables flux sets for what it runs, in flux-core's
// manner: PYTHONPATH led by FLUX_PYTHONPATH_PREPEND and the package's
// directory. Nothing is set when neither is there.
func fluxEnv() map[string]string {
	var lead []string
	if pre := os.Getenv("FLUX_PYTHONPATH_PREPEND"); pre != "" {
		lead = append(lead, filepath.SplitList(pre)...)
	}
	if dir := pythonDir(); dir != "" {
		lead = append(lead, dir)
	}
	if len(lead) == 0 {
		return nil
	}
	have := filepath.SplitList(os.Getenv("PYTHONPATH"))
	path := make([]string, 0, len(lead)+len(have))
	seen := map[string]bool{}
	for _, p := range append(lead, have...) {
		if p != "" && !seen[p] {
			seen[p] = true
			path = append(path, p)
		}
	}
	return map[string]string{"PYTHONPATH": strings.Join(path, string(os.PathListSeparator))}
}

// setupEnv puts fluxEnv into this process's environment, so that every
// command, the instances it starts and the jobs they run (which inherit the
// submitter's environment) can import the flux package.
func setupEnv() {
	for k, v := range fluxEnv() {
		os.Setenv(k, v)
	}
}

// pythonInterpreter is FLUX_PYTHON, else Debian's /usr/bin/python3 (where
// python3-msgpack installs), else python3 on PATH.
func pythonInterpreter() (string, error) {
	if p := os.Getenv("FLUX_PYTHON"); p != "" {
		return exec.LookPath(p)
	}
	if st, err := os.Stat("/usr/bin/python3"); err == nil && st.Mode()&0o111 != 0 {
		return "/usr/bin/python3", nil
	}
	return exec.LookPath("python3")
}

func pythonCommand() *cli.Command {
	return &cli.Command{
		Name:      "python",
		Usage:     "run python3 with the flux package (flux.Flux, flux.job ...) on its path",
		UsageText: "flux python [PYTHON-ARGS...]",
		Description: `Runs the Python interpreter (FLUX_PYTHON, else /usr/bin/python3, else python3 on PATH)
with every argument passed through, and PYTHONPATH led by this flux's Python package, found next to
the binary: <dir>/../python (a source tree, bin/flux), <dir>/../lib/flux/python or
<dir>/../share/flux/python (installed under a prefix). The package needs only the standard library
and msgpack (Debian's python3-msgpack; without it, a slower built-in codec).
Inside an instance (flux start ...) scripts connect to it through FLUX_URI:
  flux start flux python -c 'import flux; print(flux.job.submit(flux.Flux(), flux.job.JobspecV1.from_command(["true"])))'`,
		SkipFlagParsing: true,
		Action:          pythonAction,
	}
}

func pythonAction(c *cli.Context) error {
	if pythonDir() == "" && os.Getenv("FLUX_PYTHONPATH_PREPEND") == "" {
		return exitf(2, "flux python: cannot find the flux Python package next to this binary (looked in %s relative to its directory); "+
			"set FLUX_PYTHONPATH_PREPEND to the directory holding flux/", strings.Join(pythonLayouts, ", "))
	}
	py, err := pythonInterpreter()
	if err != nil {
		return exitf(2, "flux python: no Python interpreter: %v; install python3 or set FLUX_PYTHON", err)
	}
	setupEnv()
	argv := append([]string{py}, c.Args().Slice()...)
	// exec, as flux-core does: the script's exit status and signals are its own.
	err = syscall.Exec(py, argv, os.Environ())
	return exitf(2, "flux python: cannot run %s: %v", py, err)
}

func envCommand() *cli.Command {
	return &cli.Command{
		Name:      "env",
		Usage:     "print the environment flux sets up (PYTHONPATH ...), or run a command in it",
		UsageText: "flux env [CMD [ARGS...]]",
		Description: `Without a command, prints one "export NAME=\"VALUE\"" line per variable, for a shell to
eval:  eval "$(flux env)"; python3 my_script.py
With a command, runs it in that environment and exits with its status.`,
		SkipFlagParsing: true,
		Action:          envAction,
	}
}

func envAction(c *cli.Context) error {
	setupEnv()
	if c.Args().Len() > 0 {
		path, err := exec.LookPath(c.Args().First())
		if err != nil {
			return exitf(127, "flux env: %s: command not found", c.Args().First())
		}
		err = syscall.Exec(path, c.Args().Slice(), os.Environ())
		return exitf(126, "flux env: cannot run %s: %v", path, err)
	}
	vars := fluxEnv()
	if vars == nil {
		vars = map[string]string{}
	}
	if exe, err := os.Executable(); err == nil {
		// PATH ends with this flux's directory, so scripts find `flux`.
		dir := filepath.Dir(exe)
		path := os.Getenv("PATH")
		if !strings.Contains(string(os.PathListSeparator)+path+string(os.PathListSeparator), string(os.PathListSeparator)+dir+string(os.PathListSeparator)) {
			path += string(os.PathListSeparator) + dir
		}
		vars["PATH"] = path
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("export %s=%q\n", k, vars[k])
	}
	return nil
}
