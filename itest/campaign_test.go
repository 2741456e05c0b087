package itest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Long campaigns (issue 13): --retries, --halt, -j, status lines off a
// terminal. Watching from another shell is in watch_test.go.

// flaky fails until it has been run n times (counted in the file $1).
const flaky = `n=$(cat "$1" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$1"; echo "attempt $n"; [ $n -ge ` // + n + " ]"

func flakyScript(t *testing.T, dir string, okAt int) string {
	return writeFile(t, filepath.Join(dir, "flaky.sh"), "#!/bin/sh\n"+flaky+strconv.Itoa(okAt)+" ]\n")
}

// A line that fails twice and then succeeds: with --retries 3 it ends with
// one record (its last attempt's, exit 0), its stdout is the last attempt's,
// and the summary counts the retries.
func TestRetries(t *testing.T) {
	dir := t.TempDir()
	flakyScript(t, dir, 3)
	f := writeFile(t, filepath.Join(dir, "cmds"), "sh flaky.sh count\necho steady\n")
	r := run(t, dir, "", "flux-capacitor", "--retries", "3", "--joblog", "log", "--command_file", f)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", r.code, r.stderr)
	}
	rows := joblog(t, filepath.Join(dir, "log"))
	if len(rows) != 2 || rows["1"][6] != "0" || rows["2"][6] != "0" {
		t.Errorf("job log rows %v, want one record per line, both exit 0", rows)
	}
	if !strings.Contains(r.stdout, "attempt 3") || strings.Contains(r.stdout, "attempt 1") {
		t.Errorf("stdout %q: want the last attempt's output only", r.stdout)
	}
	if strings.Count(r.stderr, "running it again") != 2 || !strings.Contains(r.stderr, "2 retried") {
		t.Errorf("stderr should note 2 retries and count them in the summary:\n%s", r.stderr)
	}

	// Too few retries: the line fails with its last attempt's record.
	dir = t.TempDir()
	flakyScript(t, dir, 3)
	f = writeFile(t, filepath.Join(dir, "cmds"), "sh flaky.sh count\n")
	r = run(t, dir, "", "flux-capacitor", "--retries", "1", "--joblog", "log", "--command_file", f)
	rows = joblog(t, filepath.Join(dir, "log"))
	if r.code != 1 || len(rows) != 1 || rows["1"][6] != "1" || readFile(t, filepath.Join(dir, "count")) != "2\n" {
		t.Errorf("--retries 1: exit %d, rows %v, tries %q; want exit 1, one failed record, 2 tries\n%s",
			r.code, rows, readFile(t, filepath.Join(dir, "count")), r.stderr)
	}

	// A line's own --retries wins over the flag.
	dir = t.TempDir()
	flakyScript(t, dir, 3)
	f = writeFile(t, filepath.Join(dir, "cmds"), "--retries 2 sh flaky.sh count\n")
	r = run(t, dir, "", "flux-capacitor", "--joblog", "log", "--command_file", f)
	if r.code != 0 || joblog(t, filepath.Join(dir, "log"))["1"][6] != "0" {
		t.Errorf("per-line --retries 2: exit %d, want 0\n%s", r.code, r.stderr)
	}

	// A bad count is a bad line, and the others still run.
	f = writeFile(t, filepath.Join(dir, "bad"), "--retries -1 true\ntrue\n")
	r = run(t, dir, "", "flux-capacitor", "--command_file", f)
	if r.code != 2 || !strings.Contains(r.stderr, "line 1: --retries -1: the retry count must be") || !strings.Contains(r.stderr, "1 done") {
		t.Errorf("bad per-line --retries: exit %d\n%s", r.code, r.stderr)
	}
	r = run(t, dir, "", "flux-capacitor", "--retries", "-2", "--command_file", f)
	if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("--retries -2: exit %d, want 2 and one line\n%s", r.code, r.stderr)
	}
}

// With --retries a flux-hierarchy line that fails for any reason runs
// again, as with flux-capacitor, and --stats counts the retries.
func TestHierarchyRetries(t *testing.T) {
	dir := t.TempDir()
	flakyScript(t, dir, 2)
	writeFile(t, filepath.Join(dir, "config.json"), `{"shape":"2"}`)
	f := writeFile(t, filepath.Join(dir, "cmds"), "sh flaky.sh count\ntrue\n")
	r := run(t, dir, "", "flux-hierarchy", "--config=config.json", "--retries", "1", "--stats", "stats.json",
		"--joblog", "log", "--command_file", f)
	rows := joblog(t, filepath.Join(dir, "log"))
	if r.code != 0 || len(rows) != 2 || rows["1"][6] != "0" {
		t.Fatalf("exit %d rows %v, want 0 and two successful records\n%s", r.code, rows, r.stderr)
	}
	if st := readFile(t, filepath.Join(dir, "stats.json")); !strings.Contains(st, `"retried": 1`) {
		t.Errorf("--stats should count the retry:\n%s", st)
	}
}

// Every --halt form, against GNU parallel's documented behaviour and exit
// status.
func TestHalt(t *testing.T) {
	cases := []struct {
		name, halt string
		jobs       string
		lines      []string
		code       int
		logged     []string // the Seqs with a record
		maxTime    time.Duration
	}{
		// now: the running line is killed, unlogged; the exit status is the failing line's.
		{"now,fail=1", "now,fail=1", "2", []string{"sh -c 'sleep 0.2; exit 3'", "sleep 5", "true", "true"}, 3, []string{"1"}, 4 * time.Second},
		{"GNU 2", "2", "2", []string{"sh -c 'sleep 0.2; exit 3'", "sleep 5", "true"}, 3, []string{"1"}, 4 * time.Second},
		// soon: the running line finishes and is logged; nothing new starts.
		{"soon,fail=1", "soon,fail=1", "2", []string{"sh -c 'sleep 0.2; exit 4'", "sleep 1", "true", "true"}, 4, []string{"1", "2"}, 0},
		{"soon,fail=2", "soon,fail=2", "1", []string{"sh -c 'exit 3'", "sh -c 'exit 4'", "true", "true"}, 2, []string{"1", "2"}, 0},
		{"soon,fail=50%", "soon,fail=50%", "1", []string{"sh -c 'exit 3'", "sh -c 'exit 4'", "true", "true"}, 50, []string{"1", "2"}, 0},
		{"now,fail=25%", "now,fail=25%", "1", []string{"true", "sh -c 'exit 3'", "true", "true"}, 25, []string{"1", "2"}, 0},
		{"now,success=1", "now,success=1", "1", []string{"sh -c 'exit 3'", "true", "sh -c 'exit 5'"}, 0, []string{"1", "2"}, 0},
		{"soon,success=50%", "soon,success=50%", "1", []string{"true", "sh -c 'exit 3'", "true", "true"}, 0, []string{"1", "2", "3"}, 0},
		{"now,done=2", "now,done=2", "1", []string{"sh -c 'exit 3'", "true", "sh -c 'exit 5'"}, 1, []string{"1", "2"}, 0},
		{"soon,done=1", "soon,done=1", "1", []string{"true", "true"}, 0, []string{"1"}, 0},
		{"never", "never", "1", []string{"sh -c 'exit 3'", "true"}, 1, []string{"1", "2"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			// The file by a relative name: the test's directory has commas
			// in it, and urfave/cli splits a repeatable flag's value on them.
			writeFile(t, filepath.Join(dir, "cmds"), strings.Join(c.lines, "\n")+"\n")
			f := "cmds"
			r := run(t, dir, "", "flux-capacitor", "-j", c.jobs, "--halt", c.halt, "--joblog", "log", "--command_file", f)
			rows := joblog(t, filepath.Join(dir, "log"))
			var got []string
			for i := 1; i <= len(c.lines); i++ {
				if rows[strconv.Itoa(i)] != nil {
					got = append(got, strconv.Itoa(i))
				}
			}
			if r.code != c.code || strings.Join(got, ",") != strings.Join(c.logged, ",") {
				t.Errorf("exit %d, logged %v; want exit %d, logged %v\n%s", r.code, got, c.code, c.logged, r.stderr)
			}
			if c.maxTime > 0 && r.elapsed > c.maxTime {
				t.Errorf("took %v: the running line was not killed at once", r.elapsed)
			}
			if c.halt != "never" && !strings.Contains(r.stderr, "halted (--halt ") {
				t.Errorf("stderr does not say it halted:\n%s", r.stderr)
			}
			if c.halt == "never" {
				return
			}
			// --resume runs exactly the lines that have no record.
			r2 := run(t, dir, "", "flux-capacitor", "--joblog", "log", "--resume", "--command_file", f)
			if n := len(joblog(t, filepath.Join(dir, "log"))); n != len(c.lines) {
				t.Errorf("after --resume the log has %d records, want %d\n%s", n, len(c.lines), r2.stderr)
			}
		})
	}
}

func TestHaltBadSpecs(t *testing.T) {
	dir := t.TempDir()
	for _, spec := range []string{"now", "soon,fail", "soon,fail=0", "later,fail=1", "now,fail=120%", "now,oops=1", "soon,fail=x"} {
		r := run(t, dir, "true\n", "flux-capacitor", "--halt", spec)
		if r.code != 2 || !strings.HasPrefix(r.stderr, "flux-capacitor: --halt "+spec+":") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("--halt %s: exit %d, stderr %q; want 2 and one line naming it", spec, r.code, r.stderr)
		}
	}
}

// -j 1 runs one line at a time, whatever the cores; -j 0 is no cap.
func TestJobsCap(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "cmds"), strings.Repeat("sleep 0.2\n", 5))
	r := run(t, dir, "", "flux-capacitor", "-j", "1", "--joblog", "log", "--command_file", f)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	type span struct{ start, end float64 }
	var spans []span
	for _, row := range joblog(t, filepath.Join(dir, "log")) {
		s, _ := strconv.ParseFloat(row[2], 64)
		d, _ := strconv.ParseFloat(row[3], 64)
		spans = append(spans, span{s, s + d})
	}
	for i := range spans {
		for j := range spans {
			if i != j && spans[i].start < spans[j].start && spans[j].start < spans[i].end-0.01 {
				t.Errorf("-j 1: lines overlap: %v and %v", spans[i], spans[j])
			}
		}
	}
	if r.elapsed < time.Second {
		t.Errorf("-j 1: 5 lines of 0.2 s took %v, want at least 1 s", r.elapsed)
	}
	r = run(t, dir, "", "flux-capacitor", "-j", "-1", "--command_file", f)
	if r.code != 2 || !strings.Contains(r.stderr, "-j -1:") {
		t.Errorf("-j -1: exit %d %q, want 2 and a message", r.code, r.stderr)
	}
}

// Without a terminal a status line goes to stderr every --status-interval.
func TestStatusLines(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "cmds"), strings.Repeat("sleep 0.3\n", 5))
	r := run(t, dir, "", "flux-capacitor", "-j", "1", "--status-interval", "300ms", "--command_file", f)
	n := strings.Count(r.stderr, "lines/s")
	if r.code != 0 || n < 2 || !strings.Contains(r.stderr, "1 running") || !strings.Contains(r.stderr, "(of 5 lines)") ||
		!strings.Contains(r.stderr, "ETA") {
		t.Errorf("exit %d, %d status lines; want several with done/failed/running/pending, rate and ETA:\n%s", r.code, n, r.stderr)
	}
	r = run(t, dir, "", "flux-capacitor", "-j", "1", "--status-interval", "0", "--command_file", f)
	if strings.Contains(r.stderr, "lines/s") {
		t.Errorf("--status-interval 0 printed status lines:\n%s", r.stderr)
	}
}

// --retry-delay waits before the retry; Ctrl-C during the wait ends the run
// at once, and the waiting line has no record, so --resume runs it again.
func TestRetryDelayAndInterrupt(t *testing.T) {
	dir := t.TempDir()
	flakyScript(t, dir, 2)
	f := writeFile(t, filepath.Join(dir, "cmds"), "sh flaky.sh count\n")
	r := run(t, dir, "", "flux-capacitor", "--retries", "1", "--retry-delay", "1s", "--command_file", f)
	if r.code != 0 || r.elapsed < time.Second {
		t.Errorf("exit %d after %v, want 0 after at least the 1 s delay\n%s", r.code, r.elapsed, r.stderr)
	}

	// Line 1 fails only after line 2 has ended, so line 2's record is in
	// the log before the retry notice that the Ctrl-C below waits for (with
	// both ending at once, under load the notice could come first).
	f = writeFile(t, filepath.Join(dir, "cmds2"), "sh -c 'sleep 0.5; exit 1'\ntrue\n")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := cmd(ctx, dir, nil, "flux-capacitor", "--retries", "5", "--retry-delay", "20s", "--joblog", "log", "--command_file", f)
	stderr, err := c.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if strings.Contains(sc.Text(), "running it again (retry 1 of 5)") {
			break
		}
	}
	start := time.Now()
	c.Process.Signal(syscall.SIGINT)
	go io.Copy(io.Discard, stderr)
	c.Wait()
	if code := c.ProcessState.ExitCode(); code != 130 || time.Since(start) > 5*time.Second {
		t.Errorf("after Ctrl-C: exit %d in %v, want 130 at once\n%s", code, time.Since(start), strings.Join(seen, "\n"))
	}
	rows := joblog(t, filepath.Join(dir, "log"))
	if len(rows) != 1 || rows["2"] == nil {
		t.Errorf("job log %v: want only line 2 (line 1 was waiting for its retry)", rows)
	}
	r = run(t, dir, "", "flux-capacitor", "--joblog", "log", "--resume", "--command_file", f)
	if rows := joblog(t, filepath.Join(dir, "log")); r.code != 1 || len(rows) != 2 || rows["1"][6] != "1" {
		t.Errorf("--resume: exit %d rows %v, want line 1 run again (and failed)\n%s", r.code, rows, r.stderr)
	}
}

// -j and --halt hold for flux-hierarchy too: the top caps and stops what it
// sends down the tree.
func TestHierarchyHaltAndJobs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.json"), `{"shape":"2"}`)
	f := writeFile(t, filepath.Join(dir, "cmds"), strings.Repeat("sleep 0.3\n", 4))
	r := run(t, dir, "", "flux-hierarchy", "--config=config.json", "-j", "1", "--command_file", f)
	if r.code != 0 || r.elapsed < 1200*time.Millisecond {
		t.Errorf("-j 1: exit %d in %v, want 0 in at least 1.2 s (one line at a time)\n%s", r.code, r.elapsed, r.stderr)
	}
	f = writeFile(t, filepath.Join(dir, "cmds2"), "sh -c 'sleep 0.3; exit 7'\nsleep 10\nsleep 10\n")
	r = run(t, dir, "", "flux-hierarchy", "--config=config.json", "--halt", "now,fail=1", "--joblog", "log", "--command_file", f)
	rows := joblog(t, filepath.Join(dir, "log"))
	if r.code != 7 || len(rows) != 1 || r.elapsed > 8*time.Second {
		t.Errorf("--halt now,fail=1: exit %d in %v, rows %v; want 7 at once with one record\n%s", r.code, r.elapsed, rows, r.stderr)
	}
}

// A line running on a broker that dies fails with "rank N lost"; with
// --retries it runs again on the ranks that are left, and every line ends
// successfully with one record.
func TestRetriesLostRank(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := 0; i < 30; i++ {
		lines = append(lines, fmt.Sprintf(`sh -c 'sleep 0.4; echo %d'`, i))
	}
	f := writeFile(t, filepath.Join(dir, "cmds"), strings.Join(lines, "\n")+"\n")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := cmd(ctx, dir, nil, "flux", "start", "--test-size=3", "flux-capacitor", "--quiet", "--retries", "2", "--joblog", "log", "--command_file", f)
	var errb strings.Builder
	c.Stderr = &errb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	// Rank 2 of this test's instance (the binary's path tells ours from
	// other instances on the machine).
	var victim int
	for deadline := time.Now().Add(10 * time.Second); victim == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, pid := range pgrep(t, "broker.rank=2") {
			if cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.HasPrefix(string(cl), filepath.Join(bin, "flux")) {
				victim = pid
			}
		}
	}
	if victim == 0 {
		t.Fatal("rank 2's broker process never appeared")
	}
	time.Sleep(700 * time.Millisecond) // lines are running there
	syscall.Kill(victim, syscall.SIGKILL)
	c.Wait()
	rows := joblog(t, filepath.Join(dir, "log"))
	if code := c.ProcessState.ExitCode(); code != 0 || len(rows) != 30 {
		t.Fatalf("exit %d with %d records, want 0 and 30\n%s", code, len(rows), errb.String())
	}
	for seq, row := range rows {
		if row[6] != "0" {
			t.Errorf("line %s: exit %s", seq, row[6])
		}
	}
	if !strings.Contains(errb.String(), "rank 2 lost") || !strings.Contains(errb.String(), "running it again (retry 1 of 2)") {
		t.Errorf("stderr does not show the lost rank's lines retried:\n%s", errb.String())
	}
}

// A line that depends on one that is retried waits for its last attempt:
// afterok holds when the retry succeeds.
func TestRetriesWithLineDependency(t *testing.T) {
	dir := t.TempDir()
	flakyScript(t, dir, 2)
	f := writeFile(t, filepath.Join(dir, "cmds"), "sh flaky.sh count\n--dependency=afterok:line:1 echo after\n")
	r := run(t, dir, "", "flux-capacitor", "--retries", "1", "--joblog", "log", "--command_file", f)
	rows := joblog(t, filepath.Join(dir, "log"))
	if r.code != 0 || len(rows) != 2 || rows["2"][6] != "0" || !strings.Contains(r.stdout, "after") {
		t.Errorf("exit %d rows %v stdout %q: want line 2 run after line 1's successful retry\n%s", r.code, rows, r.stdout, r.stderr)
	}
}
