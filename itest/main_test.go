package itest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bin is the directory holding the built flux and its flux-capacitor link.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "flux-itest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// As scripts/build lays it out: dir/bin/flux, static, without
	// urfave/cli's docs, and the PMI libraries in dir/lib/flux.
	bin = filepath.Join(dir, "bin")
	args := []string{"build", "-tags", "urfave_cli_no_docs", "-o", filepath.Join(bin, "flux")}
	env := append(os.Environ(), "CGO_ENABLED=0")
	if os.Getenv("FLUX_ITEST_RACE") != "" {
		args = append(args, "-race") // the binary under test reports data races (needs cgo)
		env = os.Environ()
	}
	build := exec.Command("go", append(args, "..")...)
	build.Env = env
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building flux:", err)
		os.Exit(1)
	}
	if err := buildLibPMI(filepath.Join(dir, "lib", "flux")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, name := range []string{"flux-capacitor", "flux-hierarchy"} {
		if err := os.Symlink("flux", filepath.Join(bin, name)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what a command did.
type result struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
}

// cmd prepares one of our commands with PATH led by the built binary and no
// FLUX_URI from the environment of the test run.
func cmd(ctx context.Context, dir string, stdin io.Reader, name string, args ...string) *exec.Cmd {
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(bin, name)
	}
	c := exec.CommandContext(ctx, path, args...)
	c.Dir = dir
	c.Stdin = stdin
	env := []string{"PATH=" + bin + ":" + os.Getenv("PATH")}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "FLUX_URI=") {
			env = append(env, kv)
		}
	}
	c.Env = env
	c.WaitDelay = 5 * time.Second
	return c
}

// run runs a command to completion (at most 60 s).
func run(t *testing.T, dir string, stdin string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var in io.Reader
	if stdin != "" {
		in = strings.NewReader(stdin)
	}
	c := cmd(ctx, dir, in, name, args...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	start := time.Now()
	err := c.Run()
	r := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %v: %v\nstderr: %s", name, args, err, r.stderr)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %v: did not finish in 60 s\nstderr: %s", name, args, r.stderr)
	}
	return r
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// joblog reads a job log into rows keyed by Seq.
func joblog(t *testing.T, path string) map[string][]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(readFile(t, path), "\n"), "\n")
	if lines[0] != "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand" {
		t.Fatalf("job log header = %q", lines[0])
	}
	rows := map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Split(l, "\t")
		if len(f) != 9 {
			t.Fatalf("job log row has %d fields: %q", len(f), l)
		}
		if _, dup := rows[f[0]]; dup {
			t.Fatalf("job log has two records for seq %s", f[0])
		}
		rows[f[0]] = f
	}
	return rows
}
