package launcher

import (
	"bytes"
	"context"
	"fmt"
	"github.com/fluxtaskfarm/flux/internal/jobid"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// These tests start real processes. They share the process-wide spawner pool
// and check at the end (TestNoZombies) that every child was reaped.

func sh(cmd string) []string { return []string{"/bin/sh", "-c", cmd} }

// run launches spec and waits for its result.
func run(t *testing.T, l *Launcher, spec *Spec) *Result {
	t.Helper()
	ch := make(chan *Result, 1)
	calls := 0
	var mu sync.Mutex
	l.Launch(spec, func(r *Result) {
		mu.Lock()
		calls++
		mu.Unlock()
		ch <- r
	})
	select {
	case r := <-ch:
		time.Sleep(time.Millisecond) // a second call would show up here
		mu.Lock()
		defer mu.Unlock()
		if calls != 1 {
			t.Fatalf("done called %d times", calls)
		}
		return r
	case <-time.After(15 * time.Second):
		t.Fatalf("job %d did not finish", spec.JobID)
	}
	return nil
}

// readyCmd prefixes cmd with creating a file in dir once the task runs;
// waitReady waits for n of them, so signals are not sent before tasks exist.
func readyCmd(dir, cmd string) []string {
	return sh(`: > "` + dir + `/ready.$FLUX_JOB_ID.$FLUX_TASK_RANK"; ` + cmd)
}

func waitReady(t *testing.T, dir string, n int) {
	t.Helper()
	for range 1000 {
		if m, _ := filepath.Glob(filepath.Join(dir, "ready.*")); len(m) >= n {
			time.Sleep(20 * time.Millisecond) // let the shells reach their traps and sleeps
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("tasks did not start")
}

func tasks(n int) []Task {
	ts := make([]Task, n)
	for i := range ts {
		ts[i] = Task{Rank: i, LocalID: i}
	}
	return ts
}

// gone reports whether pid has died: it no longer exists, or is a zombie
// waiting for init (its new parent) to reap it.
func gone(pid int) bool {
	for range 100 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		// pid (comm) S ...: the state follows the last ')'.
		if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func TestStatusAggregation(t *testing.T) {
	l := New(Options{})
	cases := []struct {
		name                     string
		cmd                      string
		status, exitCode, signal int
	}{
		{"all succeed", "exit 0", 0, 0, 0},
		{"max exit code wins", "exit $((FLUX_TASK_RANK * 2 + 1))", 5, 5, 0},
		{"only middle fails", `[ "$FLUX_TASK_RANK" = 1 ] && exit 7; exit 0`, 7, 7, 0},
		{"signal beats exit code", `[ "$FLUX_TASK_RANK" = 2 ] && kill -9 $$; exit 3`, 137, 0, 9},
		{"exit code above 128+sig", `[ "$FLUX_TASK_RANK" = 0 ] && kill -TERM $$; exit 200`, 200, 200, 0},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, l, &Spec{JobID: uint64(100 + i), Argv: sh(c.cmd), Tasks: tasks(3), JobSize: 3})
			if r.Status != c.status || r.ExitCode != c.exitCode || r.Signal != c.signal {
				t.Errorf("status/exit/signal = %d/%d/%d, want %d/%d/%d (err %q, stderr %q)",
					r.Status, r.ExitCode, r.Signal, c.status, c.exitCode, c.signal, r.Err, r.Stderr)
			}
			if len(r.Pids) != 3 || r.Err != "" || r.TimedOut || r.Canceled {
				t.Errorf("pids %v err %q timedout %v canceled %v", r.Pids, r.Err, r.TimedOut, r.Canceled)
			}
			if r.Start.IsZero() || r.End.Before(r.Start) {
				t.Errorf("start %v end %v", r.Start, r.End)
			}
			if r.JobID != uint64(100+i) {
				t.Errorf("JobID %d", r.JobID)
			}
		})
	}
	if n := l.Running(); n != 0 {
		t.Errorf("Running() = %d after all jobs done", n)
	}
}

func TestSelfKill(t *testing.T) {
	l := New(Options{})
	r := run(t, l, &Spec{JobID: 1, Argv: sh("kill -KILL $$"), Tasks: tasks(1)})
	if r.Signal != 9 || r.Status != 137 || r.ExitCode != 0 {
		t.Errorf("got signal %d status %d exit %d, want 9/137/0", r.Signal, r.Status, r.ExitCode)
	}
}

func TestEnvironment(t *testing.T) {
	l := New(Options{})
	spec := &Spec{
		JobID: 42, JobSize: 5, CoresPerTask: 3,
		Argv: sh(`echo "$FLUX_JOB_ID $FLUX_TASK_RANK $FLUX_JOB_SIZE $FLUX_TASK_LOCAL_ID $OMP_NUM_THREADS ${CUDA_VISIBLE_DEVICES-unset} $KEEP"`),
		Env: []string{"PATH=/usr/bin:/bin", "KEEP=yes", "FLUX_TASK_RANK=99", "FLUX_JOB_ID=99",
			"OMP_NUM_THREADS=99", "CUDA_VISIBLE_DEVICES=7"},
		Tasks: []Task{{Rank: 3, LocalID: 0, GPUs: []int{0, 1}}, {Rank: 4, LocalID: 1}},
	}
	r := run(t, l, spec)
	id := jobid.String(42)
	want := id + " 3 5 0 3 0,1 yes\n" + id + " 4 5 1 3 7 yes\n"
	if string(r.Stdout) != want {
		t.Errorf("stdout %q, want %q (stderr %q)", r.Stdout, want, r.Stderr)
	}
	// Only one value per variable reaches the task.
	r = run(t, l, &Spec{JobID: 43, Argv: []string{"env"}, Env: spec.Env, Tasks: tasks(1)})
	if n := strings.Count(string(r.Stdout), "FLUX_TASK_RANK="); n != 1 {
		t.Errorf("FLUX_TASK_RANK appears %d times in %q", n, r.Stdout)
	}
}

func TestInheritedEnvironment(t *testing.T) {
	t.Setenv("FLUX_LAUNCHER_TEST", "inherited")
	l := New(Options{}) // the environment is taken at New
	r := run(t, l, &Spec{JobID: 1, Argv: sh(`echo $FLUX_LAUNCHER_TEST`), Tasks: tasks(1)})
	if string(r.Stdout) != "inherited\n" {
		t.Errorf("stdout %q", r.Stdout)
	}
}

func TestAffinity(t *testing.T) {
	if coreCount() < 2 || !pool.full.IsSet(0) || !pool.full.IsSet(1) {
		t.Skip("needs cores 0 and 1")
	}
	l := New(Options{})
	full := cpuList(&pool.full)
	spec := &Spec{
		JobID: 1,
		Argv:  sh(`grep Cpus_allowed_list /proc/self/status | cut -f2; sleep 0.05; grep Cpus_allowed_list /proc/$$/status | cut -f2`),
		Tasks: []Task{{Rank: 0, Cores: []int{1}}, {Rank: 1, Cores: []int{0}}, {Rank: 2}, {Rank: 3, Cores: []int{0, 1}}},
	}
	r := run(t, l, spec)
	want := "1\n1\n0\n0\n" + full + "\n" + full + "\n0-1\n0-1\n"
	if string(r.Stdout) != want {
		t.Errorf("Cpus_allowed_list per task:\n%s\nwant:\n%s", r.Stdout, want)
	}
	// The launcher's own threads other than the spawners keep the full mask.
	var self unix.CPUSet
	if err := unix.SchedGetaffinity(0, &self); err != nil || self != pool.full {
		t.Errorf("test goroutine's thread mask changed: %s", cpuList(&self))
	}
}

func cpuList(s *unix.CPUSet) string {
	var parts []string
	for c := 0; c < maxCPU; c++ {
		if !s.IsSet(c) {
			continue
		}
		end := c
		for end+1 < maxCPU && s.IsSet(end+1) {
			end++
		}
		if end == c {
			parts = append(parts, strconv.Itoa(c))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", c, end))
		}
		c = end
	}
	return strings.Join(parts, ",")
}

func TestTimeLimit(t *testing.T) {
	l := New(Options{KillGrace: 300 * time.Millisecond})
	t.Run("SIGTERM honoured", func(t *testing.T) {
		begin := time.Now()
		r := run(t, l, &Spec{JobID: 1, Argv: []string{"sleep", "30"}, Tasks: tasks(2), TimeLimit: 200 * time.Millisecond})
		if !r.TimedOut || r.Signal != 15 || r.Status != 143 || r.Canceled {
			t.Errorf("timedout %v signal %d status %d canceled %v, want true/15/143/false", r.TimedOut, r.Signal, r.Status, r.Canceled)
		}
		if d := time.Since(begin); d > 2*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("SIGTERM ignored needs SIGKILL", func(t *testing.T) {
		begin := time.Now()
		r := run(t, l, &Spec{JobID: 2, Argv: sh(`trap '' TERM; echo ready; while :; do sleep 0.05; done`), Tasks: tasks(1), TimeLimit: 400 * time.Millisecond})
		if !r.TimedOut || r.Signal != 9 || r.Status != 137 {
			t.Errorf("timedout %v signal %d status %d, want true/9/137", r.TimedOut, r.Signal, r.Status)
		}
		if d := time.Since(begin); d < 700*time.Millisecond || d > 3*time.Second {
			t.Errorf("took %v, want about limit+grace (0.7s)", d)
		}
		if string(r.Stdout) != "ready\n" {
			t.Errorf("stdout %q", r.Stdout)
		}
	})
	t.Run("finished in time", func(t *testing.T) {
		r := run(t, l, &Spec{JobID: 3, Argv: []string{"true"}, Tasks: tasks(1), TimeLimit: time.Second})
		if r.TimedOut || r.Status != 0 {
			t.Errorf("timedout %v status %d", r.TimedOut, r.Status)
		}
	})
}

func TestKill(t *testing.T) {
	l := New(Options{})
	if l.Kill(12345, syscall.SIGTERM) {
		t.Error("Kill of an unknown job returned true")
	}
	ch := make(chan *Result, 1)
	dir := t.TempDir()
	l.Launch(&Spec{JobID: 7, Argv: readyCmd(dir, "echo started; exec sleep 30"), Tasks: tasks(2)}, func(r *Result) { ch <- r })
	waitReady(t, dir, 2)
	if l.Running() != 1 {
		t.Errorf("Running() = %d, want 1", l.Running())
	}
	if !l.Kill(7, syscall.SIGTERM) {
		t.Fatal("Kill of a running job returned false")
	}
	select {
	case r := <-ch:
		if !r.Canceled || r.Signal != 15 || r.Status != 143 || r.TimedOut {
			t.Errorf("canceled %v signal %d status %d timedout %v", r.Canceled, r.Signal, r.Status, r.TimedOut)
		}
		if string(r.Stdout) != "started\nstarted\n" {
			t.Errorf("stdout %q", r.Stdout)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("killed job did not finish")
	}
	if l.Kill(7, syscall.SIGTERM) {
		t.Error("Kill of a finished job returned true")
	}
}

func TestShutdown(t *testing.T) {
	l := New(Options{KillGrace: 200 * time.Millisecond})
	var mu sync.Mutex
	var results []*Result
	collect := func(r *Result) { mu.Lock(); results = append(results, r); mu.Unlock() }
	dir := t.TempDir()
	l.Launch(&Spec{JobID: 1, Argv: readyCmd(dir, "exec sleep 100"), Tasks: tasks(2)}, collect)
	l.Launch(&Spec{JobID: 2, Argv: readyCmd(dir, `trap '' TERM; sleep 100 & wait; sleep 100`), Tasks: tasks(1)}, collect)
	waitReady(t, dir, 3)

	begin := time.Now()
	l.Shutdown(context.Background())
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
	if l.Running() != 0 {
		t.Errorf("Running() = %d after Shutdown", l.Running())
	}
	mu.Lock()
	if len(results) != 2 {
		t.Fatalf("%d done callbacks ran before Shutdown returned, want 2", len(results))
	}
	for _, r := range results {
		if !r.Canceled || len(r.Pids) == 0 {
			t.Errorf("job %d: canceled %v pids %v", r.JobID, r.Canceled, r.Pids)
		}
		for _, pid := range r.Pids {
			if !gone(pid) {
				t.Errorf("job %d: pid %d still exists after Shutdown", r.JobID, pid)
			}
		}
	}
	mu.Unlock()

	r := run(t, l, &Spec{JobID: 3, Argv: []string{"true"}, Tasks: tasks(1)})
	if r.Err == "" || r.Status == 0 || len(r.Pids) != 0 {
		t.Errorf("Launch after Shutdown: status %d err %q pids %v", r.Status, r.Err, r.Pids)
	}
}

func TestShutdownContextEndsGrace(t *testing.T) {
	l := New(Options{KillGrace: time.Minute})
	ch := make(chan *Result, 1)
	dir := t.TempDir()
	l.Launch(&Spec{JobID: 1, Argv: readyCmd(dir, `trap '' TERM; while :; do sleep 0.05; done`), Tasks: tasks(1)}, func(r *Result) { ch <- r })
	waitReady(t, dir, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	l.Shutdown(ctx)
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("Shutdown ignored its context: took %v", d)
	}
	if r := <-ch; r.Signal != 9 || !r.Canceled {
		t.Errorf("signal %d canceled %v, want 9/true", r.Signal, r.Canceled)
	}
}

func TestNoOrphans(t *testing.T) {
	l := New(Options{})
	begin := time.Now()
	r := run(t, l, &Spec{JobID: 1, Argv: sh(`sleep 100 & echo $!; echo hi`), Tasks: tasks(1)})
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("background child kept the job alive for %v", d)
	}
	lines := strings.Fields(string(r.Stdout))
	if len(lines) != 2 || lines[1] != "hi" || r.Status != 0 {
		t.Fatalf("stdout %q status %d", r.Stdout, r.Status)
	}
	pid, _ := strconv.Atoi(lines[0])
	if !gone(pid) {
		t.Errorf("background sleep (pid %d) outlived its task", pid)
	}
}

func TestEscapedChildDoesNotHoldJob(t *testing.T) {
	if _, err := os.Stat("/usr/bin/setsid"); err != nil {
		t.Skip("no setsid(1)")
	}
	l := New(Options{})
	begin := time.Now()
	// setsid leaves the process group; only the drain timeout ends the job.
	r := run(t, l, &Spec{JobID: 1, Argv: sh(`setsid sleep 3 & echo hi`), Tasks: tasks(1)})
	if d := time.Since(begin); d > drainTimeout+time.Second {
		t.Errorf("escaped child kept the job alive for %v", d)
	}
	if string(r.Stdout) != "hi\n" {
		t.Errorf("stdout %q", r.Stdout)
	}
}

func TestOutputGrouping(t *testing.T) {
	l := New(Options{})
	// Two tasks print interleaved in time; each task's output stays contiguous.
	cmd := `i=0; while [ $i -lt 300 ]; do echo "task $FLUX_TASK_RANK line $i"; echo "e$FLUX_TASK_RANK $i" >&2; i=$((i+1)); done`
	for _, label := range []bool{false, true} {
		r := run(t, l, &Spec{JobID: 1, Argv: sh(cmd), Tasks: []Task{{Rank: 0, Cores: []int{0}}, {Rank: 1, LocalID: 1}}, LabelIO: label})
		var want, wantErr bytes.Buffer
		for rank := range 2 {
			for i := range 300 {
				if label {
					fmt.Fprintf(&want, "%d: ", rank)
					fmt.Fprintf(&wantErr, "%d: ", rank)
				}
				fmt.Fprintf(&want, "task %d line %d\n", rank, i)
				fmt.Fprintf(&wantErr, "e%d %d\n", rank, i)
			}
		}
		if !bytes.Equal(r.Stdout, want.Bytes()) {
			t.Errorf("label=%v: stdout not grouped by task:\n%.300s", label, r.Stdout)
		}
		if !bytes.Equal(r.Stderr, wantErr.Bytes()) {
			t.Errorf("label=%v: stderr not grouped by task:\n%.300s", label, r.Stderr)
		}
	}
}

func TestOutputTruncation(t *testing.T) {
	l := New(Options{OutputLimit: 1000})
	// 200 KB is more than a pipe holds: the task only finishes if the
	// launcher keeps reading past the limit.
	r := run(t, l, &Spec{JobID: 1, Argv: sh(`head -c 200000 /dev/zero | tr '\0' x; echo; echo small >&2`), Tasks: tasks(1)})
	want := strings.Repeat("x", 1000) + "\n[flux: output truncated at 1000 bytes; use --output FILE or --line-buffer]\n"
	if string(r.Stdout) != want {
		t.Errorf("stdout is %d bytes ending %q", len(r.Stdout), r.Stdout[max(0, len(r.Stdout)-80):])
	}
	if string(r.Stderr) != "small\n" || r.Status != 0 {
		t.Errorf("stderr %q status %d", r.Stderr, r.Status)
	}
}

func TestFileMode(t *testing.T) {
	dir := t.TempDir()
	l := New(Options{})
	r := run(t, l, &Spec{
		JobID: 9, Line: 17, Cwd: dir, Output: File, OutputTemplate: "out-{{id}}-{{line}}-{{task.id}}.log",
		Argv: sh(`echo "out $FLUX_TASK_RANK"; echo "err $FLUX_TASK_RANK" >&2`), Tasks: tasks(2),
	})
	if r.Status != 0 || len(r.Stdout) != 0 {
		t.Fatalf("status %d err %q stdout %q", r.Status, r.Err, r.Stdout)
	}
	for rank := range 2 {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("out-%s-17-%d.log", jobid.String(9), rank)))
		if want := fmt.Sprintf("out %d\nerr %d\n", rank, rank); err != nil || string(b) != want {
			t.Errorf("task %d file: %q, %v; want %q", rank, b, err, want)
		}
	}

	// Tasks (and jobs) sharing a path append; nothing is clobbered.
	shared := filepath.Join(dir, "shared.log")
	for id := range 2 {
		run(t, l, &Spec{JobID: uint64(10 + id), Output: File, OutputTemplate: shared,
			Argv: sh(`echo "job $FLUX_JOB_ID task $FLUX_TASK_RANK"`), Tasks: tasks(3)})
	}
	b, _ := os.ReadFile(shared)
	if n := strings.Count(string(b), "\n"); n != 6 {
		t.Errorf("shared file has %d lines, want 6:\n%s", n, b)
	}

	// Default template, relative to Cwd.
	run(t, l, &Spec{JobID: 77, Cwd: dir, Output: File, Argv: []string{"echo", "dflt"}, Tasks: tasks(1)})
	if b, err := os.ReadFile(filepath.Join(dir, "flux-"+jobid.String(77)+".out")); err != nil || string(b) != "dflt\n" {
		t.Errorf("default output file: %q, %v", b, err)
	}

	r = run(t, l, &Spec{JobID: 78, Output: File, OutputTemplate: filepath.Join(dir, "nope", "x.out"), Argv: []string{"true"}, Tasks: tasks(1)})
	if r.Status != 1 || !strings.Contains(r.Err, "cannot open output file") || len(r.Pids) != 0 {
		t.Errorf("unwritable output: status %d err %q pids %v", r.Status, r.Err, r.Pids)
	}
}

func TestStreamMode(t *testing.T) {
	l := New(Options{})
	type got struct {
		task   int
		stderr bool
		line   string
	}
	var mu sync.Mutex
	var lines []got
	spec := &Spec{
		JobID: 1, Output: Stream, LabelIO: true,
		Argv: sh(`printf 'a\nb\nc'; printf 'oops' >&2`), Tasks: []Task{{Rank: 5}},
		OnLine: func(task int, stderr bool, line []byte) {
			mu.Lock()
			lines = append(lines, got{task, stderr, string(line)})
			mu.Unlock()
		},
	}
	r := run(t, l, spec)
	if r.Status != 0 || r.Stdout != nil {
		t.Fatalf("status %d stdout %q", r.Status, r.Stdout)
	}
	var out []string
	var errLines []got
	for _, g := range lines {
		if g.stderr {
			errLines = append(errLines, g)
			continue
		}
		if g.task != 5 {
			t.Errorf("line %q from task %d, want 5", g.line, g.task)
		}
		out = append(out, g.line)
	}
	if want := []string{"5: a\n", "5: b\n", "5: c\n"}; fmt.Sprint(out) != fmt.Sprint(want) {
		t.Errorf("stdout lines %q, want %q", out, want)
	}
	if len(errLines) != 1 || errLines[0].line != "5: oops\n" || errLines[0].task != 5 {
		t.Errorf("stderr lines %+v", errLines)
	}

	// A line longer than 64 KiB arrives in pieces that add up to it.
	var total bytes.Buffer
	spec = &Spec{JobID: 2, Output: Stream, Argv: sh(`head -c 150000 /dev/zero | tr '\0' y; echo`), Tasks: tasks(1),
		OnLine: func(_ int, _ bool, line []byte) {
			if len(line) > maxLine+1 {
				t.Errorf("piece of %d bytes", len(line))
			}
			total.Write(line)
		}}
	run(t, l, spec)
	if total.String() != strings.Repeat("y", 150000)+"\n" {
		t.Errorf("long line reassembled to %d bytes", total.Len())
	}
}

func TestLaunchFailures(t *testing.T) {
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	os.WriteFile(noexec, []byte("#!/bin/sh\necho hi\n"), 0o644)
	badInterp := filepath.Join(dir, "badinterp")
	os.WriteFile(badInterp, []byte("#!/no/such/interpreter\n"), 0o755)
	pathDir := filepath.Join(dir, "bin")
	os.Mkdir(pathDir, 0o755)
	os.WriteFile(filepath.Join(pathDir, "mycmd"), []byte("#!/bin/sh\necho mine\n"), 0o755)

	l := New(Options{})
	cases := []struct {
		name   string
		spec   Spec
		status int
		err    string
	}{
		{"not found", Spec{Argv: []string{"no-such-command-xyz", "a"}}, 127, "no-such-command-xyz: command not found"},
		{"no such file", Spec{Argv: []string{"./no-such-file"}, Cwd: dir}, 127, "./no-such-file: no such file or directory"},
		{"not executable", Spec{Argv: []string{noexec}}, 126, noexec + ": permission denied"},
		{"not executable relative", Spec{Argv: []string{"./noexec"}, Cwd: dir}, 126, "./noexec: permission denied"},
		{"directory", Spec{Argv: []string{dir}}, 126, dir + ": is a directory"},
		{"bad interpreter", Spec{Argv: []string{badInterp}}, 126, badInterp + ": bad interpreter"},
		{"missing cwd", Spec{Argv: []string{"true"}, Cwd: "/nonexistent-dir"}, 1, "cwd /nonexistent-dir: no such file or directory"},
		{"empty argv", Spec{}, 1, "no command"},
		{"core out of range", Spec{Argv: []string{"true"}, Tasks: []Task{{Cores: []int{-1}}}}, 1, "core -1 is out of range"},
		{"PATH from Env", Spec{Argv: []string{"mycmd"}, Env: []string{"PATH=" + pathDir}}, 0, ""},
		{"PATH from Env excludes launcher's", Spec{Argv: []string{"true"}, Env: []string{"PATH=" + pathDir}}, 127, "true: command not found"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := c.spec
			spec.JobID = uint64(i + 1)
			if spec.Tasks == nil && c.name != "empty argv" {
				spec.Tasks = tasks(2)
			}
			r := run(t, l, &spec)
			if r.Status != c.status || !strings.HasPrefix(r.Err, c.err) && !strings.Contains(r.Err, c.err) {
				t.Errorf("status %d err %q, want %d %q", r.Status, r.Err, c.status, c.err)
			}
			if c.status != 0 && (len(r.Pids) != 0 || r.ExitCode != c.status) {
				t.Errorf("pids %v exit code %d", r.Pids, r.ExitCode)
			}
		})
	}
	if l.Running() != 0 {
		t.Errorf("Running() = %d", l.Running())
	}
}

func TestDuplicateJobID(t *testing.T) {
	l := New(Options{})
	ch := make(chan *Result, 1)
	l.Launch(&Spec{JobID: 5, Argv: []string{"sleep", "30"}, Tasks: tasks(1)}, func(r *Result) { ch <- r })
	r := run(t, l, &Spec{JobID: 5, Argv: []string{"true"}, Tasks: tasks(1)})
	if !strings.Contains(r.Err, "already running") || r.Status != 1 {
		t.Errorf("duplicate id: status %d err %q", r.Status, r.Err)
	}
	l.Kill(5, syscall.SIGKILL)
	if r := <-ch; r.Signal != 9 {
		t.Errorf("first job signal %d", r.Signal)
	}
}

// TestLauncherDeathKillsTasks re-runs this test binary as a launcher that
// starts a task and then exits abruptly (no Shutdown): Pdeathsig, armed on a
// spawner thread that lives as long as the process, must kill the task.
func TestLauncherDeathKillsTasks(t *testing.T) {
	if dir := os.Getenv("FLUX_LAUNCHER_HELPER_DIR"); dir != "" {
		l := New(Options{})
		l.Launch(&Spec{JobID: 1, Argv: sh(`echo $$ > "` + dir + `/pid.tmp"; mv "` + dir + `/pid.tmp" "` + dir + `/pid"; exec sleep 100`), Tasks: tasks(1)}, func(*Result) {})
		for range 1000 {
			if _, err := os.Stat(dir + "/pid"); err == nil {
				time.Sleep(50 * time.Millisecond) // let sh exec sleep
				os.Exit(0)
			}
			time.Sleep(10 * time.Millisecond)
		}
		os.Exit(3)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLauncherDeathKillsTasks$")
	cmd.Env = append(os.Environ(), "FLUX_LAUNCHER_HELPER_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper launcher: %v\n%s", err, out)
	}
	b, err := os.ReadFile(dir + "/pid")
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid <= 0 {
		t.Fatalf("bad pid file %q", b)
	}
	if !gone(pid) {
		unix.Kill(pid, unix.SIGKILL)
		t.Errorf("task (pid %d) outlived its launcher", pid)
	}
}

// TestNoZombies: once every done callback has run, every child the launcher
// started in this test binary so far has been reaped (tests run one at a time).
func TestNoZombies(t *testing.T) {
	l := New(Options{})
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		l.Launch(&Spec{JobID: uint64(i), Argv: sh(fmt.Sprintf("true & exit %d", i%3)), Tasks: tasks(2)}, func(*Result) { wg.Done() })
	}
	wg.Wait()
	if pid, err := unix.Wait4(-1, nil, unix.WNOHANG, nil); err != unix.ECHILD {
		t.Errorf("wait4(-1) = %d, %v: a child was left unreaped", pid, err)
	}
}

// A task inherits Task.Files as fds 3... and gets Task.Env; PMI_* of the
// base environment never reaches it.
func TestTaskFilesAndEnv(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	l := New(Options{})
	spec := &Spec{
		JobID: 77, Argv: []string{"sh", "-c", `echo "fd3 $EXTRA $PMI_FD" >&3; echo "stale=${PMI_RANK:-none}"`},
		Env:   []string{"PATH=/usr/bin:/bin", "PMI_RANK=9", "PMI_FD=99"},
		Tasks: []Task{{Rank: 0, Env: []string{"EXTRA=yes", "PMI_FD=3"}, Files: []*os.File{w}}},
	}
	res := run(t, l, spec)
	if res.Status != 0 {
		t.Fatalf("status %d: %s %s", res.Status, res.Err, res.Stderr)
	}
	buf := make([]byte, 64)
	n, _ := r.Read(buf)
	if got := string(buf[:n]); got != "fd3 yes 3\n" {
		t.Errorf("fd 3 got %q", got)
	}
	if got := string(res.Stdout); got != "stale=none\n" {
		t.Errorf("stdout %q: a PMI_* variable of the base environment leaked", got)
	}
}
