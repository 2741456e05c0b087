package itest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A task script that records when it ran and on which cores.
// The fourth field is the broker the task ran under (from its FLUX_URI).
const recordTask = `#!/bin/sh
s=$(date +%s%N)
sleep 0.05
c=$(grep Cpus_allowed_list /proc/$$/status | cut -f2)
e=$(date +%s%N)
b=$(echo "$FLUX_URI" | sed -n 's|.*/flux-[^/]*-\([0-9]*\)-[^/-]*/local|\1|p')
echo "$s $e $c ${b:-0}" > "rec.$1.$FLUX_TASK_RANK"
`

type span struct {
	name       string
	start, end int64
	cores      map[int]bool
}

func parseCPUList(t *testing.T, s string) map[int]bool {
	t.Helper()
	m := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			t.Fatalf("bad cpu list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				t.Fatalf("bad cpu list %q", s)
			}
		}
		for i := a; i <= b; i++ {
			m[i] = true
		}
	}
	return m
}

// No two tasks that run at the same time share a core, each task is bound to
// exactly the cores it asked for, and every line ran.
func TestNoCoreOverlap(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "task.sh"), recordTask)
	ncpu := runtime.NumCPU()
	var lines []string
	want := 0
	for i := 1; i <= 30; i++ {
		switch {
		case i%10 == 0 && ncpu >= 2:
			lines = append(lines, fmt.Sprintf("-n2 sh task.sh %d", i))
			want += 2
		case i%7 == 0 && ncpu >= 2:
			lines = append(lines, fmt.Sprintf("-c2 sh task.sh %d", i))
			want++
		default:
			lines = append(lines, fmt.Sprintf("sh task.sh %d", i))
			want++
		}
	}
	r := run(t, dir, strings.Join(lines, "\n")+"\n", "flux-capacitor", "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
	}
	recs, _ := filepath.Glob(filepath.Join(dir, "rec.*"))
	if len(recs) != want {
		t.Fatalf("%d task records, want %d", len(recs), want)
	}
	var spans []span
	for _, p := range recs {
		f := strings.Fields(readFile(t, p))
		if len(f) != 4 {
			t.Fatalf("%s: %q", p, f)
		}
		s, _ := strconv.ParseInt(f[0], 10, 64)
		e, _ := strconv.ParseInt(f[1], 10, 64)
		sp := span{name: filepath.Base(p), start: s, end: e, cores: parseCPUList(t, f[2])}
		wantCores := 1
		if n, _ := strconv.Atoi(strings.Split(sp.name, ".")[1]); n%7 == 0 && n%10 != 0 && ncpu >= 2 {
			wantCores = 2
		}
		if len(sp.cores) != wantCores {
			t.Errorf("%s bound to %q, want %d core(s)", sp.name, f[2], wantCores)
		}
		spans = append(spans, sp)
	}
	assertNoOverlap(t, "this host", spans)
}

// assertNoOverlap checks that no two spans that overlap in time share a core.
func assertNoOverlap(t *testing.T, where string, spans []span) {
	t.Helper()
	sort.Slice(spans, func(a, b int) bool { return spans[a].start < spans[b].start })
	for i := range spans {
		for j := i + 1; j < len(spans) && spans[j].start < spans[i].end; j++ {
			for c := range spans[i].cores {
				if spans[j].cores[c] {
					t.Errorf("%s: %s and %s ran at the same time on core %d", where, spans[i].name, spans[j].name, c)
				}
			}
		}
	}
}

// Work starts on the first line, before the producer writes the second.
func TestStreamingStartsBeforeEOF(t *testing.T) {
	assertStreams(t, t.TempDir(), "flux-capacitor", "--quiet")
}

// assertStreams runs a command that reads lines from a pipe and checks that
// the first line runs before the second is written.
func assertStreams(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := cmd(ctx, dir, pr, name, args...)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	fmt.Fprintln(pw, "touch first")
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "first")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			pw.Close()
			c.Wait()
			t.Fatal("the first line did not run while the input was still open")
		}
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Fprintln(pw, "touch second")
	pw.Close()
	if err := c.Wait(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "second")); err != nil {
		t.Fatal("the second line did not run")
	}
}

const badInput = `-n1 true
-x true
-n0 true
-n abc true
-n 100000 true
-N2 true
echo 'unclosed
-n1
-t 5x true
no_such_command_xyz
sh -c 'kill -9 $$'

# a comment
-n1 echo done
`

// Every bad line gets a message naming it, the good lines still run, and
// every line except blanks and comments has exactly one job log record.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "cmds"), badInput)
	r := run(t, dir, "", "flux-capacitor", "--quiet", "--joblog", "log", "--command_file", f)
	if r.code != 2 {
		t.Errorf("exit %d, want 2 (bad input)", r.code)
	}
	for _, want := range []string{
		"line 2: unknown option -x",
		"line 3: -n 0",
		"line 4: ",
		"line 5: -n 100000 asks for 100000 cores; the instance has " + strconv.Itoa(runtime.NumCPU()),
		"line 6: -N 2 asks for 2 nodes; the instance has 1",
		"line 7: unclosed quote",
		"line 8: no command",
		"line 9: -t 5x",
		"line 10: no_such_command_xyz: command not found",
		"line 11: killed by signal 9",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q\nstderr:\n%s", want, r.stderr)
		}
	}
	if strings.TrimSpace(r.stdout) != "done" {
		t.Errorf("stdout = %q, want the good line's output", r.stdout)
	}
	rows := joblog(t, filepath.Join(dir, "log"))
	for seq := 1; seq <= 14; seq++ {
		_, ok := rows[strconv.Itoa(seq)]
		if want := seq != 12 && seq != 13; ok != want {
			t.Errorf("seq %d: record present = %v, want %v", seq, ok, want)
		}
	}
	if got := rows["10"][6]; got != "127" {
		t.Errorf("command not found: Exitval %s, want 127", got)
	}
	if got := rows["11"][7]; got != "9" {
		t.Errorf("killed task: Signal %s, want 9", got)
	}
	if got := rows["1"][6]; got != "0" {
		t.Errorf("line 1: Exitval %s, want 0", got)
	}
	if rows["14"][8] != "-n1 echo done" {
		t.Errorf("Command column = %q, want the line as written", rows["14"][8])
	}
}

// An unreadable command file stops the run before anything runs.
func TestUnreadableCommandFile(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good"), "touch ran\n")
	r := run(t, dir, "", "flux-capacitor", "--command_file", good, "--command_file", filepath.Join(dir, "missing"))
	if r.code != 2 || !strings.Contains(r.stderr, "cannot read --command_file") {
		t.Fatalf("exit %d, stderr %q; want 2 and a message naming the file", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("a line ran although the run was refused")
	}
}

func TestExitStatus(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		in   string
		code int
	}{
		{"true\ntrue\n", 0},
		{"true\nfalse\n", 1},
		{"true\n-n0 true\n", 2},
		{"# nothing\n\n", 0},
	} {
		if r := run(t, dir, tc.in, "flux-capacitor", "--quiet"); r.code != tc.code {
			t.Errorf("%q: exit %d, want %d (stderr %s)", tc.in, r.code, tc.code, r.stderr)
		}
	}
}

// -t kills a task at its limit; the log says which signal.
func TestTimeLimit(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, "-t 1s sleep 30\n", "flux-capacitor", "--quiet", "--joblog", "log")
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	if r.elapsed > 15*time.Second {
		t.Errorf("took %v; the 1 s limit was not enforced", r.elapsed)
	}
	if !strings.Contains(r.stderr, "line 1: killed at its time limit") {
		t.Errorf("stderr = %q", r.stderr)
	}
	if rows := joblog(t, filepath.Join(dir, "log")); rows["1"][7] != "15" {
		t.Errorf("Signal column = %s, want 15", rows["1"][7])
	}
}

// Output of concurrent tasks is grouped per task; --tag prefixes the line
// number; --line-buffer streams.
func TestOutputGrouping(t *testing.T) {
	dir := t.TempDir()
	in := "sh -c 'for i in 1 2 3; do echo A$i; sleep 0.05; done'\nsh -c 'for i in 1 2 3; do echo B$i; sleep 0.05; done'\n"
	r := run(t, dir, in, "flux-capacitor", "--quiet")
	if !strings.Contains(r.stdout, "A1\nA2\nA3\n") || !strings.Contains(r.stdout, "B1\nB2\nB3\n") {
		t.Errorf("output not grouped per task:\n%s", r.stdout)
	}
	r = run(t, dir, in, "flux-capacitor", "--quiet", "-P")
	if !strings.Contains(r.stdout, "1: A1\n1: A2\n") || !strings.Contains(r.stdout, "2: B3\n") {
		t.Errorf("--tag output:\n%s", r.stdout)
	}
	r = run(t, dir, in, "flux-capacitor", "--quiet", "--line-buffer")
	if len(strings.Fields(r.stdout)) != 6 {
		t.Errorf("--line-buffer output:\n%s", r.stdout)
	}
}

func TestOutputTemplateAndEnv(t *testing.T) {
	dir := t.TempDir()
	in := "--output out.{{line}}.txt echo hi\n" +
		"-n2 sh -c 'echo $FLUX_TASK_RANK/$FLUX_JOB_SIZE/$FLUX_TASK_LOCAL_ID/$OMP_NUM_THREADS'\n" +
		"--env FOO=bar sh -c 'echo foo=$FOO'\n"
	r := run(t, dir, in, "flux-capacitor", "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := readFile(t, filepath.Join(dir, "out.1.txt")); got != "hi\n" {
		t.Errorf("out.1.txt = %q", got)
	}
	for _, want := range []string{"0/2/0/1\n", "1/2/1/1\n", "foo=bar\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
}

// The seed's own example: find's output piped into flux-capacitor.
func TestFindPipe(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"a", "b", "c"} {
		os.MkdirAll(filepath.Join(dir, "data", d), 0o755)
		writeFile(t, filepath.Join(dir, "data", d, "f"), d)
	}
	r := run(t, dir, "", "/bin/sh", "-c",
		`find data -mindepth 1 -maxdepth 1 -type d -printf '-n1 tar -cf %p.tgz %p\n' | flux-capacitor --quiet`)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, d := range []string{"a", "b", "c"} {
		if _, err := os.Stat(filepath.Join(dir, "data", d+".tgz")); err != nil {
			t.Errorf("%s.tgz missing", d)
		}
	}
}

// Ctrl-C kills what runs and exits 130; --resume then runs only what did not
// finish, so every line runs to completion exactly once overall.
func TestInterruptThenResume(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := 1; i <= 20; i++ {
		lines = append(lines, fmt.Sprintf("sh -c 'sleep 0.2 && echo %d >> ran'", i))
	}
	f := writeFile(t, filepath.Join(dir, "cmds"), strings.Join(lines, "\n")+"\n")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := cmd(ctx, dir, nil, "flux-capacitor", "--quiet", "--joblog", "log", "--command_file", f)
	var errb strings.Builder
	c.Stderr = &errb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	c.Process.Signal(syscall.SIGINT)
	c.Wait()
	if code := c.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d after SIGINT, want 130; stderr %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("no interruption notice: %s", errb.String())
	}
	first := strings.Fields(readFile(t, filepath.Join(dir, "ran")))
	if len(first) == 0 || len(first) >= 20 {
		t.Fatalf("%d lines finished before the interrupt; the test needs some but not all", len(first))
	}
	r := run(t, dir, "", "flux-capacitor", "--resume", "--joblog", "log", "--command_file", f)
	if r.code != 0 {
		t.Fatalf("resume: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("%d skipped", len(first))) {
		t.Errorf("resume summary does not count %d skipped lines: %s", len(first), r.stderr)
	}
	count := map[string]int{}
	for _, n := range strings.Fields(readFile(t, filepath.Join(dir, "ran"))) {
		count[n]++
	}
	for i := 1; i <= 20; i++ {
		if n := count[strconv.Itoa(i)]; n != 1 {
			t.Errorf("line %d ran %d times overall, want 1", i, n)
		}
	}
	if rows := joblog(t, filepath.Join(dir, "log")); len(rows) != 20 {
		t.Errorf("job log has %d records after resume, want 20", len(rows))
	}
}

// A task's background children do not outlive it.
func TestNoOrphans(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, "sh -c 'sleep 301.25 & echo started'\n", "flux-capacitor", "--quiet")
	if r.code != 0 || !strings.Contains(r.stdout, "started") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if pids := pgrep(t, "sleep 301.25"); len(pids) > 0 {
		t.Errorf("background child still running: pids %v", pids)
	}
}

// pgrep finds live (non-zombie) processes whose command line contains s.
func pgrep(t *testing.T, s string) []int {
	t.Helper()
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(strings.ReplaceAll(string(cmdline), "\x00", " "), s) {
			continue
		}
		// Another test run's flux (another checkout on a shared machine) is
		// none of ours: never count it, never signal it.
		argv0, _, _ := strings.Cut(string(cmdline), "\x00")
		if base := filepath.Base(argv0); (base == "flux" || strings.HasPrefix(base, "flux-")) &&
			filepath.IsAbs(argv0) && !strings.HasPrefix(argv0, bin+"/") {
			continue
		}
		status, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if strings.Contains(string(status), "State:\tZ") {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}
