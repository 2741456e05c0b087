package itest

import (
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

// slurmEnv is the environment for Slurm commands run by the tests: our
// binaries first on PATH, nothing of an enclosing instance.
func slurmEnv() []string {
	env := []string{"PATH=" + bin + ":/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "FLUX_") && !strings.HasPrefix(kv, "SLURM_") {
			env = append(env, kv)
		}
	}
	return env
}

// slurm runs a Slurm client command in dir and returns its output.
func slurm(t *testing.T, dir string, name string, args ...string) (string, error) {
	t.Helper()
	c := exec.Command(name, args...)
	c.Dir, c.Env = dir, slurmEnv()
	out, err := c.CombinedOutput()
	return string(out), err
}

// sbatchWait submits a batch job and waits for it by polling squeue every
// 200 ms (sbatch --wait backs off to long sleeps: a 10 s job took 40 s).
func sbatchWait(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	out, err := slurm(t, dir, "sbatch", append([]string{"--parsable"}, args...)...)
	if err != nil {
		return out, err
	}
	id := strings.TrimSpace(strings.Split(out, ";")[0])
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		q, err := slurm(t, dir, "squeue", "-h", "-j", id, "-o", "%T")
		if err == nil && strings.TrimSpace(q) == "" || strings.Contains(q, "Invalid job id") {
			return out, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return out, fmt.Errorf("batch job %s did not end in 3 minutes", id)
}

// uriRanks counts the distinct broker ranks in FLUX_URI tails printed by
// tasks ("...flux-<session>-<rank>-XXXX/local").
var uriRank = regexp.MustCompile(`flux-[^/]*-(\d+)-[^/-]*/local`)

func ranksIn(out string) map[string]int {
	m := map[string]int{}
	for _, match := range uriRank.FindAllStringSubmatch(out, -1) {
		m[match[1]]++
	}
	return m
}

// sbatch -N4 --wrap 'flux-capacitor ...' spans all four nodes with one srun
// step, and an MPI line -N2 -n4 runs across two of them.
func TestSlurmSbatch(t *testing.T) {
	testbed.Slurm(t)
	prog := mpiProgram(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "task.sh"), recordTask)
	var lines []string
	for i := 0; i < 40; i++ {
		lines = append(lines, fmt.Sprintf(`sh -c 'echo "$FLUX_URI"; exec sh task.sh %d'`, i))
	}
	lines = append(lines, "-N2 -n4 "+prog)
	writeFile(t, filepath.Join(dir, "cmds"), strings.Join(lines, "\n")+"\n")
	out, err := sbatchWait(t, dir, "-N4", "-o", "job.out",
		"--wrap", "flux-capacitor --quiet --joblog log --command_file cmds; echo capacitor-exit=$?")
	got := readFile(t, filepath.Join(dir, "job.out"))
	if err != nil || !strings.Contains(got, "capacitor-exit=0") {
		t.Fatalf("sbatch: %v %s\njob output:\n%s", err, out, got)
	}
	if r := ranksIn(got); len(r) != 4 {
		t.Errorf("lines ran on broker ranks %v; want all 4 nodes", r)
	}
	checkRanks(t, got, 4)
	if rows := joblog(t, filepath.Join(dir, "log")); len(rows) != 41 {
		t.Errorf("%d records, want 41", len(rows))
	}
	// No two tasks that ran at the same time on one node shared a core.
	// (The testbed's nodes are one machine: the check is per broker rank.)
	byRank := map[string][]span{}
	recs, _ := filepath.Glob(filepath.Join(dir, "rec.*"))
	if len(recs) != 40 {
		t.Fatalf("%d task records, want 40", len(recs))
	}
	for _, p := range recs {
		f := strings.Fields(readFile(t, p))
		if len(f) != 4 {
			t.Fatalf("%s: %q", p, f)
		}
		sp := span{name: filepath.Base(p), cores: parseCPUList(t, f[2])}
		fmt.Sscan(f[0], &sp.start)
		fmt.Sscan(f[1], &sp.end)
		byRank[f[3]] = append(byRank[f[3]], sp)
	}
	for rank, spans := range byRank {
		assertNoOverlap(t, "rank "+rank, spans)
	}
}

// From a salloc shell (no step yet) the same; and srun ... flux start, the
// Flux way, makes an instance of the step's tasks.
func TestSlurmSallocAndSrun(t *testing.T) {
	testbed.Slurm(t)
	dir := t.TempDir()
	var lines []string
	for i := 0; i < 20; i++ {
		lines = append(lines, `sh -c 'sleep 0.1; echo "$FLUX_URI"'`)
	}
	writeFile(t, filepath.Join(dir, "cmds"), strings.Join(lines, "\n")+"\n")
	out, err := slurm(t, dir, "salloc", "-N2", filepath.Join(bin, "flux-capacitor"), "--quiet", "--command_file", "cmds")
	if err != nil {
		t.Fatalf("salloc: %v\n%s", err, out)
	}
	if r := ranksIn(out); len(r) != 2 {
		t.Errorf("salloc -N2: lines ran on ranks %v; want 2\n%s", r, out)
	}
	out, err = slurm(t, dir, "srun", "-N4", "--mpi=pmi2", filepath.Join(bin, "flux"), "start",
		"sh", "-c", "flux resource list -v; flux-capacitor --quiet --command_file cmds")
	if err != nil {
		t.Fatalf("srun flux start: %v\n%s", err, out)
	}
	if r := ranksIn(out); len(r) != 4 {
		t.Errorf("srun -N4 flux start: lines ran on ranks %v; want 4\n%s", r, out)
	}
}

// A walltime that expires mid-run: lines whose -t cannot fit are not
// started, the run drains before the end (exit 124), and --resume in a new
// allocation runs the rest: every line exactly once overall.
func TestSlurmWalltimeThenResume(t *testing.T) {
	testbed.Slurm(t)
	dir := t.TempDir()
	var lines []string
	for i := 1; i <= 30; i++ {
		lines = append(lines, fmt.Sprintf("sh -c 'sleep 1 && echo %d >> ran'", i))
	}
	lines = append(lines, "-t 10m sh -c 'echo long >> ran'")
	writeFile(t, filepath.Join(dir, "cmds"), strings.Join(lines, "\n")+"\n")
	// A one-minute allocation drained 52 s early: about 8 s of work.
	start := time.Now()
	out, _ := sbatchWait(t, dir, "-N1", "-n1", "-c2", "-t", "1", "-o", "first.out",
		"--wrap", "flux-capacitor --quiet --walltime-margin 52s --joblog log --command_file cmds; echo capacitor-exit=$?")
	first := readFile(t, filepath.Join(dir, "first.out"))
	if !strings.Contains(first, "capacitor-exit=124") || !strings.Contains(first, "walltime") {
		t.Fatalf("first allocation (%v): %s\n%s", time.Since(start), out, first)
	}
	ran := strings.Fields(readFile(t, filepath.Join(dir, "ran")))
	if len(ran) == 0 || len(ran) >= 30 {
		t.Fatalf("%d lines finished in the first allocation; the test needs some but not all", len(ran))
	}
	for _, l := range ran {
		if l == "long" {
			t.Fatal("a line whose -t did not fit was started")
		}
	}
	out, err := sbatchWait(t, dir, "-N1", "-n1", "-c2", "-o", "second.out",
		"--wrap", "flux-capacitor --quiet --resume --joblog log --command_file cmds; echo capacitor-exit=$?")
	second := readFile(t, filepath.Join(dir, "second.out"))
	if err != nil || !strings.Contains(second, "capacitor-exit=0") {
		t.Fatalf("resume allocation: %v %s\n%s", err, out, second)
	}
	count := map[string]int{}
	for _, l := range strings.Fields(readFile(t, filepath.Join(dir, "ran"))) {
		count[l]++
	}
	for i := 1; i <= 30; i++ {
		if count[fmt.Sprint(i)] != 1 {
			t.Errorf("line %d ran %d times overall", i, count[fmt.Sprint(i)])
		}
	}
	if count["long"] != 1 {
		t.Errorf("the long line ran %d times overall, want 1", count["long"])
	}
}

// A bad hostlist in the allocation's environment is a clear error before
// anything runs. No Slurm needed: the variables are all the capacitor reads.
func TestSlurmBadHostlist(t *testing.T) {
	dir := t.TempDir()
	c := cmd(t.Context(), dir, strings.NewReader("true\n"), "flux-capacitor")
	c.Env = append(c.Env, "SLURM_JOB_ID=42", "SLURM_JOB_NODELIST=n[3-1]", "SLURM_JOB_CPUS_PER_NODE=4(x3)")
	out, err := c.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "n[3-1]") {
		t.Errorf("exit %v, output %q; want a failure naming the bad hostlist", err, out)
	}
}
