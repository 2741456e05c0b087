package itest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/internal/testbed"
)

// Watching a running farm from another shell (issue 13): the per-user run
// directory finds it; flux uri, flux jobs --stats and flux top (in a real
// terminal: tmux) look at it. Every test has its own run directory
// (FLUX_RUNDIR), so that farms of other tests and users are not in view.

// background starts one of our commands in dir with FLUX_RUNDIR=rundir and
// returns it running; it is killed at the end of the test.
func background(t *testing.T, dir, rundir, name string, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	c := cmd(ctx, dir, nil, name, args...)
	c.Env = append(c.Env, "FLUX_RUNDIR="+rundir)
	var errb strings.Builder
	c.Stderr = &errb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		c.Wait()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, errb.String())
		}
	})
	return c
}

// inRundir runs one of our commands to completion with FLUX_RUNDIR set (and
// extra environment).
func inRundir(t *testing.T, dir, rundir string, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := cmd(ctx, dir, nil, name, args...)
	c.Env = append(append(c.Env, "FLUX_RUNDIR="+rundir), env...)
	var out, errb strings.Builder
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return r
}

// waitFor polls fn until it returns true (at most 20 s).
func waitFor(t *testing.T, what string, fn func() bool) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if fn() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

var statsRE = regexp.MustCompile(`^1 running, 1 completed, 1 failed, 0 pending, 0 inactive purged; 1 retried\n`)

func TestWatchFromAnotherShell(t *testing.T) {
	dir, rundir := t.TempDir(), filepath.Join(t.TempDir(), "run") // made 0700 by the farm
	// Line 1 fails once and runs again (retries show in --stats); the
	// sleeps keep the farm running while we look.
	flakyScript(t, dir, 2)
	f := writeFile(t, filepath.Join(dir, "cmds"), "--retries 1 sh flaky.sh count\nsleep 30\n")
	// -j 1: the sleep starts after the flaky line's retry, whatever the cores.
	farm := background(t, dir, rundir, "flux-capacitor", "-j", "1", "--command_file", f)

	var uri string
	waitFor(t, "flux uri to find the farm", func() bool {
		r := inRundir(t, dir, rundir, nil, "flux", "uri")
		uri = strings.TrimSpace(r.stdout)
		return r.code == 0 && strings.HasPrefix(uri, "local://")
	})
	if r := inRundir(t, dir, rundir, nil, "flux", "uri", fmt.Sprintf("pid:%d", farm.Process.Pid)); strings.TrimSpace(r.stdout) != uri {
		t.Errorf("flux uri pid:%d = %q, want %q (%s)", farm.Process.Pid, r.stdout, uri, r.stderr)
	}
	var stats string
	waitFor(t, "flux jobs --stats to show the running lines and the retry", func() bool {
		r := inRundir(t, dir, rundir, nil, "flux", "jobs", "--stats")
		stats = r.stdout
		// The first attempt failed, the retry completed, the sleep runs.
		return r.code == 0 && statsRE.MatchString(stats)
	})
	if !strings.Contains(stats, "sleep 30") {
		t.Errorf("flux jobs --stats lists no jobs:\n%s", stats)
	}
	if r := inRundir(t, dir, rundir, nil, "flux", "jobs", "--stats-only"); r.code != 0 || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("flux jobs --stats-only: exit %d %q, want 0 and the one line", r.code, r.stdout)
	}
	// FLUX_URI from flux uri works as well.
	if r := inRundir(t, dir, rundir, []string{"FLUX_URI=" + uri}, "flux", "jobs", "-a", "--json"); r.code != 0 || !strings.Contains(r.stdout, `"retry":1`) {
		t.Errorf("FLUX_URI=$(flux uri) flux jobs -a: exit %d, want the retried line marked:\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A second farm: flux uri and flux jobs must not guess.
	f2 := writeFile(t, filepath.Join(dir, "cmds2"), "sleep 30\n")
	background(t, dir, rundir, "flux-capacitor", "--command_file", f2)
	waitFor(t, "two farms", func() bool {
		r := inRundir(t, dir, rundir, nil, "flux", "uri")
		return r.code == 1 && strings.Contains(r.stderr, "2 instances are running") && strings.Count(r.stderr, "flux-capacitor") >= 2
	})
	if r := inRundir(t, dir, rundir, nil, "flux", "jobs"); r.code != 1 || !strings.Contains(r.stderr, "pid:PID") {
		t.Errorf("flux jobs with two farms: exit %d %q, want 1 and how to choose", r.code, r.stderr)
	}
	// Bad targets, and flux top without a terminal: one line each, exit 2.
	for _, args := range [][]string{{"uri", "bogus"}, {"uri", "a", "b"}, {"top"}} {
		r := inRundir(t, dir, rundir, nil, "flux", args...)
		if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.HasPrefix(r.stderr, "flux "+args[0]+": ") {
			t.Errorf("flux %v: exit %d %q, want 2 and one line", args, r.code, r.stderr)
		}
	}
	if r := inRundir(t, dir, rundir, nil, "flux", "uri", "pid:1"); r.code != 1 || !strings.Contains(r.stderr, "no instance of yours runs as pid 1") {
		t.Errorf("flux uri pid:1: exit %d %q", r.code, r.stderr)
	}
	// Nothing running: a clear error.
	if r := inRundir(t, dir, filepath.Join(t.TempDir(), "none"), nil, "flux", "jobs"); r.code != 2 || !strings.Contains(r.stderr, "no instance") {
		t.Errorf("flux jobs with nothing running: exit %d %q", r.code, r.stderr)
	}
}

// tmux drives flux top in a real terminal on a private tmux server.
type tmux struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T) *tmux {
	if _, err := exec.LookPath("tmux"); err != nil {
		testbed.Require(t, "tmux", "flux top is tested in a real terminal (Debian package tmux; scripts/test installs it)")
	}
	tm := &tmux{t: t, socket: fmt.Sprintf("flux-itest-%d", os.Getpid())}
	t.Cleanup(func() { exec.Command("tmux", "-L", tm.socket, "kill-server").Run() })
	return tm
}

func (tm *tmux) run(args ...string) string {
	out, err := exec.Command("tmux", append([]string{"-L", tm.socket}, args...)...).CombinedOutput()
	if err != nil && args[0] != "capture-pane" {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (tm *tmux) screen() string { return tm.run("capture-pane", "-p", "-t", "top") }

// waitScreen waits until the screen holds every string in want.
func (tm *tmux) waitScreen(what string, want ...string) string {
	tm.t.Helper()
	var s string
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		s = tm.screen()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(s, w)
		}
		if ok {
			return s
		}
	}
	tm.t.Fatalf("%s: the screen never showed %q:\n%s", what, want, s)
	return ""
}

func TestTopInTmux(t *testing.T) {
	tm := newTmux(t)
	dir, rundir := t.TempDir(), filepath.Join(t.TempDir(), "run")
	writeFile(t, filepath.Join(dir, "config.json"), `{"shape":"2"}`)
	f := writeFile(t, filepath.Join(dir, "cmds"), strings.Repeat("sleep 1\n", 40))
	farm := background(t, dir, rundir, "flux-hierarchy", "--config=config.json", "--command_file", f)
	waitFor(t, "the hierarchy's children", func() bool {
		r := inRundir(t, dir, rundir, nil, "flux", "uri", "--list")
		return strings.Count(r.stdout, "child of") == 2
	})
	top := fmt.Sprintf("cd %s && PATH=%s:$PATH FLUX_RUNDIR=%s flux top pid:%d; echo flux top exited $?; sleep 30",
		dir, bin, rundir, farm.Process.Pid)
	tm.run("new-session", "-d", "-s", "top", "-x", "110", "-y", "30", top)
	s := tm.waitScreen("the top level", "top   flux-hierarchy", "lines [", "of 40 lines", "lines/s", "ETA",
		"cores [", "rank 0 [", "top.0 *", "top.1 *")
	if !strings.Contains(s, "JOBID") {
		t.Errorf("no job list header:\n%s", s)
	}
	// Enter opens the child under the cursor (the newest, top.1); it runs
	// the lines itself.
	tm.run("send-keys", "-t", "top", "Enter")
	s = tm.waitScreen("the child instance", "top > ", "depth: 1", "sleep 1")
	if strings.Contains(s, "top.0 *") {
		t.Errorf("still showing the top's jobs after Enter:\n%s", s)
	}
	// q goes back to the parent, and q again quits.
	tm.run("send-keys", "-t", "top", "q")
	tm.waitScreen("back at the top", "top   flux-hierarchy", "depth: 0")
	tm.run("send-keys", "-t", "top", "j")
	tm.run("send-keys", "-t", "top", "q")
	tm.waitScreen("flux top quits", "flux top exited 0")
}

// With two farms running and no TARGET, flux top asks which to show.
func TestTopAsksWhichInstance(t *testing.T) {
	tm := newTmux(t)
	dir, rundir := t.TempDir(), filepath.Join(t.TempDir(), "run")
	f := writeFile(t, filepath.Join(dir, "cmds"), "sleep 30\n")
	first := background(t, dir, rundir, "flux-capacitor", "--command_file", f)
	waitFor(t, "the first farm", func() bool { return inRundir(t, dir, rundir, nil, "flux", "uri").code == 0 })
	second := background(t, dir, rundir, "flux-capacitor", "--command_file", f)
	waitFor(t, "the second farm", func() bool {
		return strings.Count(inRundir(t, dir, rundir, nil, "flux", "uri", "--list").stdout, "flux-capacitor") == 2
	})
	top := fmt.Sprintf("cd %s && PATH=%s:$PATH FLUX_RUNDIR=%s flux top; echo flux top exited $?; sleep 30", dir, bin, rundir)
	tm.run("new-session", "-d", "-s", "top", "-x", "120", "-y", "30", top)
	tm.waitScreen("the question", "Which one? [1-2", fmt.Sprintf("pid %d", first.Process.Pid), fmt.Sprintf("pid %d", second.Process.Pid))
	tm.run("send-keys", "-t", "top", "2", "Enter")
	tm.waitScreen("the second farm", fmt.Sprintf("flux-capacitor (pid %d)", second.Process.Pid), "sleep 30")
	tm.run("send-keys", "-t", "top", "q")
	tm.waitScreen("flux top quits", "flux top exited 0")
}
