package itest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The seed's depth 2, by hand: child instances submitted as jobs, each
// running flux-capacitor on its own file.
func TestDepthTwoByHand(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a", "b"} {
		var lines []string
		for i := 0; i < 10; i++ {
			lines = append(lines, fmt.Sprintf("echo %s%d", f, i))
		}
		writeFile(t, filepath.Join(dir, f+".commands"), strings.Join(lines, "\n")+"\n")
	}
	// -N1 alone gives each child instance a whole node (Flux's meaning).
	script := `set -e
ids=$(for x in ./*.commands; do flux submit -N1 flux start sh -c 'flux resource list -v; flux-capacitor --quiet --command_file '$x; done)
for id in $ids; do flux job attach $id; done`
	r := run(t, dir, "", "flux", "start", "--test-size=2", "sh", "-c", script)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	cores := fmt.Sprintf("0-%d", runtime.NumCPU()-1)
	if runtime.NumCPU() == 1 {
		cores = "0"
	}
	if c := len(regexp.MustCompile(`(?m)^0\s+\S+\s+`+cores+`\s`).FindAllString(r.stdout, -1)); c != 2 {
		t.Errorf("each child instance should hold a whole node (cores %s); resource lists:\n%s", cores, r.stdout)
	}
	for _, f := range []string{"a", "b"} {
		for i := 0; i < 10; i++ {
			if !strings.Contains(r.stdout, fmt.Sprintf("%s%d\n", f, i)) {
				t.Errorf("no output of %s line %d:\n%s", f, i, r.stdout)
			}
		}
	}
}

const depth3 = `{"num_levels":3,"levels":[{"num_children":2,"cores_per_child":1},{"num_children":1,"cores_per_child":1}]}`

type statsFile struct {
	Instances []struct {
		Name  string `json:"name"`
		Level int    `json:"level"`
		Leaf  bool   `json:"leaf"`
		Lines int    `json:"lines"`
	} `json:"instances"`
	Total struct {
		Lines  int `json:"lines"`
		Done   int `json:"done"`
		Leaves int `json:"leaves"`
	} `json:"total"`
}

// Depth 3 from a config, on a two-broker instance: every line once in the
// job log, the leaves did the work, a line too large for a leaf runs higher
// up, and --stats describes every instance.
func TestHierarchyDepthThree(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.json"), depth3)
	var lines []string
	for i := 0; i < 40; i++ {
		lines = append(lines, fmt.Sprintf("sh -c 'sleep 0.02; echo line %d'", i))
	}
	lines = append(lines, "-n2 sh -c 'echo big $FLUX_TASK_RANK'")
	f := writeFile(t, filepath.Join(dir, "cmds"), strings.Join(lines, "\n")+"\n")
	r := run(t, dir, "", "flux", "start", "--test-size=2", "flux-hierarchy", "--config=config.json",
		"--quiet", "--joblog", "log", "--stats", "stats.json", "--command_file", f)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if rows := joblog(t, filepath.Join(dir, "log")); len(rows) != 41 {
		t.Errorf("%d job log records, want 41", len(rows))
	}
	if !strings.Contains(r.stdout, "big 0") || !strings.Contains(r.stdout, "big 1") {
		t.Errorf("the -n2 line did not run:\n%s", r.stdout)
	}
	var st statsFile
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "stats.json"))), &st); err != nil {
		t.Fatal(err)
	}
	leafLines := 0
	names := map[string]bool{}
	for _, in := range st.Instances {
		names[in.Name] = true
		if in.Leaf {
			leafLines += in.Lines
		}
	}
	if st.Total.Leaves != 2 || leafLines != 40 || len(names) != 5 || st.Total.Done != 41 {
		t.Errorf("stats: %+v (leaf lines %d, names %v)", st, leafLines, names)
	}
}

// Streaming through a pipe at depth 3: the first line finishes before the
// producer writes the second.
func TestHierarchyStreams(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.json"), depth3)
	assertStreams(t, dir, "flux-hierarchy", "--config=config.json", "--quiet")
}

// kill -9 of one leaf instance mid-run: every line ends in exactly one job
// log record (the lost leaf's started lines as "instance lost", its
// unstarted ones run by its sibling).
func TestHierarchyLostLeaf(t *testing.T) {
	rows, stderr := runKillingLeaf(t)
	lost := strings.Count(stderr, "instance lost")
	failed := 0
	for _, row := range rows {
		if row[6] != "0" {
			failed++
		}
	}
	if failed != lost {
		t.Errorf("%d failed lines, %d reported as instance lost\n%s", failed, lost, stderr)
	}
}

// With --retries the lines the lost leaf was running run again elsewhere.
func TestHierarchyLostLeafRetries(t *testing.T) {
	rows, stderr := runKillingLeaf(t, "--retries", "2")
	for seq, row := range rows {
		if row[6] != "0" {
			t.Errorf("line %s: exit %s with --retries 2\n%s", seq, row[6], stderr)
		}
	}
}

// runKillingLeaf runs 30 lines over two leaves, kills one leaf instance
// mid-run, and returns the job log (checked: one record per line) and stderr.
func runKillingLeaf(t *testing.T, extra ...string) (map[string][]string, string) {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.json"), `{"num_levels":2,"levels":[{"num_children":2,"cores_per_child":1}]}`)
	var lines []string
	for i := 0; i < 30; i++ {
		lines = append(lines, fmt.Sprintf("sh -c 'sleep 0.2; echo %d'", i))
	}
	f := writeFile(t, filepath.Join(dir, "cmds"), strings.Join(lines, "\n")+"\n")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"--config=config.json", "--quiet", "--joblog", "log", "--command_file", f}, extra...)
	c := cmd(ctx, dir, nil, "flux-hierarchy", args...)
	var errb strings.Builder
	c.Stderr = &errb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var victim, programs []int
	for deadline := time.Now().Add(10 * time.Second); len(victim) == 0 && time.Now().Before(deadline); {
		time.Sleep(300 * time.Millisecond)
		for _, pid := range pgrep(t, "--child top.1") {
			if argv(pid)[0] != filepath.Join(bin, "flux") {
				continue // another test run's on this machine: not ours to kill
			}
			switch argv(pid)[1] {
			case "start": // flux start runs the leaf in its own process
				victim = append(victim, pid)
			case "hierarchy":
				programs = append(programs, pid)
			}
		}
	}
	if len(victim) == 0 {
		t.Fatal("no leaf instance top.1 appeared")
	}
	if len(programs) > 0 {
		t.Errorf("leaf top.1 runs as a separate program %v, not inside its flux start", programs)
	}
	// One process is the whole leaf instance: its broker and its leaf.
	syscall.Kill(victim[0], syscall.SIGKILL)
	c.Wait()
	rows := joblog(t, filepath.Join(dir, "log"))
	if len(rows) != 30 {
		t.Fatalf("%d records, want 30 (one per line)\nstderr:\n%s", len(rows), errb.String())
	}
	time.Sleep(300 * time.Millisecond)
	if left := pgrep(t, "--child top."); len(left) > 0 {
		t.Errorf("child processes left: %v", left)
	}
	return rows, errb.String()
}

func argv(pid int) []string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return append(strings.Split(string(b), "\x00"), "", "")
}

// A config that does not fit is refused with the arithmetic, before anything
// runs; Ctrl-C tears the whole tree down.
func TestHierarchyBadConfigAndInterrupt(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "big.json"), `{"num_levels":2,"levels":[{"num_children":2,"cores_per_child":36}]}`)
	r := run(t, dir, "true\n", "flux-hierarchy", "--config=big.json")
	if r.code != 2 || !strings.Contains(r.stderr, "2 children x 36 cores = 72 cores") {
		t.Errorf("exit %d, stderr %q; want 2 and the arithmetic", r.code, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "zero.json"), `{"num_levels":2,"levels":[{"num_children":0,"cores_per_child":1}]}`)
	if r := run(t, dir, "true\n", "flux-hierarchy", "--config=zero.json"); r.code != 2 {
		t.Errorf("zero children: exit %d, stderr %q", r.code, r.stderr)
	}

	writeFile(t, filepath.Join(dir, "config.json"), depth3)
	var lines []string
	for i := 0; i < 20; i++ {
		lines = append(lines, "sleep 30.125")
	}
	f := writeFile(t, filepath.Join(dir, "cmds"), strings.Join(lines, "\n")+"\n")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := cmd(ctx, dir, nil, "flux-hierarchy", "--config=config.json", "--quiet", "--joblog", "log", "--command_file", f)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(pgrep(t, "sleep 30.125")) < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the leaves never started their lines")
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.Process.Signal(syscall.SIGINT)
	c.Wait()
	if code := c.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d after SIGINT, want 130", code)
	}
	time.Sleep(500 * time.Millisecond)
	for _, what := range []string{"sleep 30.125", "--child top", "flux start"} {
		if left := pgrep(t, what); len(left) > 0 {
			t.Errorf("%q still running after Ctrl-C: %v", what, left)
		}
	}
}

// --line-buffer through the tree: lines run below the top are captured and
// travel with their results, so no output is lost.
func TestHierarchyLineBuffer(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.json"), depth3)
	var lines []string
	for i := 0; i < 12; i++ {
		lines = append(lines, fmt.Sprintf("echo out %d", i))
	}
	r := run(t, dir, strings.Join(lines, "\n")+"\n", "flux-hierarchy", "--config=config.json", "--quiet", "--line-buffer")
	if r.code != 0 || strings.Count(r.stdout, "out ") != 12 {
		t.Errorf("exit %d, %d of 12 output lines:\n%s%s", r.code, strings.Count(r.stdout, "out "), r.stdout, r.stderr)
	}
}

// A nested instance over two nodes of its parent: its two brokers bootstrap
// through the parent's PMI server, each holds its whole node, and it knows
// its depth.
func TestNestedInstanceOverTwoNodes(t *testing.T) {
	dir := t.TempDir()
	inner := `flux resource list -v; echo level=$FLUX_INSTANCE_LEVEL; flux run -N2 -n2 sh -c 'echo child task $FLUX_TASK_RANK'`
	r := run(t, dir, "", "flux", "start", "--test-size=2", "flux", "run", "-N2", "flux", "start", "sh", "-c", inner)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"\n1 ", "level=1", "child task 0", "child task 1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
}

// A simulated tree as the benchmark measures one (--simulate under flux
// start -Sresource.cores): 20,000 lines through 4 relays of 4 leaves, each
// line once in the job log, none shorter than its simulated time, all run
// by leaves, and in batches: a leaf syncs with its parent far less often
// than once per line, and the relays even less.
func TestHierarchySimulatedBatches(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.json"), `{"shape":"4x4:8"}`)
	const n = 20000
	f := writeFile(t, filepath.Join(dir, "cmds"), strings.Repeat("true\n", n))
	r := run(t, dir, "", "flux", "start", "-Sresource.cores=128", "-Sexec.bind=false", "flux-hierarchy",
		"--simulate", "2ms", "--config=config.json", "--quiet", "--joblog", "log", "--stats", "stats.json", "--command_file", f)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	rows := joblog(t, filepath.Join(dir, "log"))
	if len(rows) != n {
		t.Fatalf("%d job log records, want %d", len(rows), n)
	}
	for seq, row := range rows {
		if secs, err := strconv.ParseFloat(row[3], 64); row[6] != "0" || err != nil || secs < 0.002 {
			t.Fatalf("line %s: exit %s after %s s, want 0 after at least the simulated 0.002", seq, row[6], row[3])
		}
	}
	var st struct {
		Instances []struct {
			Name  string `json:"name"`
			Level int    `json:"level"`
			Leaf  bool   `json:"leaf"`
			Lines int    `json:"lines"`
			Syncs int    `json:"syncs"`
		} `json:"instances"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "stats.json"))), &st); err != nil {
		t.Fatal(err)
	}
	var leaves, leafLines, leafSyncs, relaySyncs int
	for _, in := range st.Instances {
		switch {
		case in.Leaf:
			leaves++
			leafLines += in.Lines
			leafSyncs += in.Syncs
		case in.Level == 2:
			relaySyncs += in.Syncs
		}
	}
	if leaves != 16 || leafLines != n {
		t.Fatalf("%d leaves ran %d lines, want 16 and %d", leaves, leafLines, n)
	}
	// Lines per sync: each carries a batch down and results up.
	if leafSyncs == 0 || n/leafSyncs < 4 || relaySyncs == 0 || n/relaySyncs < 16 {
		t.Errorf("%d lines took %d leaf syncs and %d relay syncs: too few lines per sync", n, leafSyncs, relaySyncs)
	}
	t.Logf("%d lines: %d leaf syncs (%.1f lines each), %d relay syncs (%.1f lines each)",
		n, leafSyncs, float64(n)/float64(leafSyncs), relaySyncs, float64(n)/float64(relaySyncs))
}
