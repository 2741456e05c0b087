package itest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildEchoModule compiles the test module program once per test.
func buildEchoModule(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "echomod")
	b := exec.Command("go", "build", "-o", out, "./testdata/echomod")
	if msg, err := b.CombinedOutput(); err != nil {
		t.Fatalf("building the echo module: %v\n%s", err, msg)
	}
	return out
}

// Four brokers in a binary tree: every rank is online, routing reaches the
// deepest one, a job spans them all, events and modules work from any rank.
func TestTestSizeInstance(t *testing.T) {
	dir := t.TempDir()
	mod := buildEchoModule(t)
	script := fmt.Sprintf(`
set -e
flux resource list -v
flux ping -c 2 3
flux run -N4 -n8 sh -c 'echo "task $FLUX_TASK_RANK on ${FLUX_URI##*flux-start-}"' | sort > tasks
flux event sub -c 1 'job.*' > events &
sleep 0.5
flux run true
wait
flux module load %s
sleep 0.3
flux module list
flux run -N4 -n4 sh -c 'flux rpc echo "{\"from\": $FLUX_TASK_RANK}"' | sort > echoes
flux module load sched.easy
flux module list
`, mod)
	r := run(t, dir, "", "flux", "start", "--test-size=4", "-Stbon.fanout=2", "sh", "-c", script)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"RANK", "\n3 ", "3!broker.ping pad=0 seq=1", "echomod", "sched.easy  builtin"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	tasks := readFile(t, filepath.Join(dir, "tasks"))
	ranks := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(tasks), "\n") {
		f := strings.Fields(l) // task N on <pid>-<rank>-...
		if len(f) == 4 {
			ranks[strings.Split(f[3], "-")[1]] = true
		}
	}
	if len(ranks) != 4 || strings.Count(tasks, "task ") != 8 {
		t.Errorf("an -N4 -n8 job should run 8 tasks on 4 ranks; got ranks %v:\n%s", ranks, tasks)
	}
	if ev := readFile(t, filepath.Join(dir, "events")); !strings.Contains(ev, `"topic":"job.state"`) {
		t.Errorf("no job.state event: %q", ev)
	}
	echoes := readFile(t, filepath.Join(dir, "echoes"))
	for i := 0; i < 4; i++ {
		if !strings.Contains(echoes, fmt.Sprintf(`{"echo":{"from":%d},"module":"echomod"}`, i)) {
			t.Errorf("task %d (on rank %d) got no echo through its own broker:\n%s", i, i, echoes)
		}
	}
}

// The capacitor spreads single-core lines over every broker.
func TestCapacitorOverBrokers(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := 0; i < 60; i++ {
		lines = append(lines, `sh -c 'sleep 0.05; echo ${FLUX_URI##*flux-start-}'`)
	}
	f := writeFile(t, filepath.Join(dir, "cmds"), strings.Join(lines, "\n")+"\n")
	r := run(t, dir, "", "flux", "start", "--test-size=3", "flux-capacitor", "--quiet", "--joblog", "log", "--command_file", f)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	ranks := map[string]int{}
	for _, l := range strings.Fields(r.stdout) {
		ranks[strings.Split(l, "-")[1]]++
	}
	if len(ranks) != 3 {
		t.Errorf("lines ran on ranks %v; want all of 0, 1 and 2", ranks)
	}
	if rows := joblog(t, filepath.Join(dir, "log")); len(rows) != 60 {
		t.Errorf("%d job log records, want 60", len(rows))
	}
}

// kill -9 of one broker mid-run: its running lines fail with "rank N lost",
// the others finish elsewhere, every line has exactly one record, and the
// lost broker's tasks die with it.
func TestBrokerKilledMidRun(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := 0; i < 40; i++ {
		lines = append(lines, fmt.Sprintf(`sh -c 'sleep 0.4; echo %d ${FLUX_URI##*flux-start-}'`, i))
	}
	f := writeFile(t, filepath.Join(dir, "cmds"), strings.Join(lines, "\n")+"\n")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := cmd(ctx, dir, nil, "flux", "start", "--test-size=3", "flux-capacitor", "--quiet", "--joblog", "log", "--command_file", f)
	var out, errb strings.Builder
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var victim int
	for deadline := time.Now().Add(10 * time.Second); victim == 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		if pids := pgrep(t, "broker.rank=2"); len(pids) > 0 && time.Since(deadline.Add(-10*time.Second)) > time.Second {
			victim = pids[0]
		}
	}
	if victim == 0 {
		t.Fatal("rank 2's broker process never appeared")
	}
	syscall.Kill(victim, syscall.SIGKILL)
	c.Wait()
	if code := c.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit %d, want 1 (some lines failed)\nstderr:\n%s", code, errb.String())
	}
	rows := joblog(t, filepath.Join(dir, "log"))
	if len(rows) != 40 {
		t.Fatalf("%d job log records, want 40 (one per line)", len(rows))
	}
	failed := 0
	for _, row := range rows {
		if row[6] != "0" {
			failed++
		}
	}
	if lost := strings.Count(errb.String(), ": rank 2 lost"); lost == 0 || lost != failed {
		t.Errorf("%d lines failed, %d reported as 'rank 2 lost'; want the same, and some\nstderr:\n%s", failed, lost, errb.String())
	}
	if strings.Count(out.String(), "\n") != 40-failed {
		t.Errorf("%d lines printed output, want %d", strings.Count(out.String(), "\n"), 40-failed)
	}
	time.Sleep(200 * time.Millisecond)
	if pids := pgrep(t, "sleep 0.4"); len(pids) > 0 {
		t.Errorf("tasks outlived the run: %v", pids)
	}
}

// A bad boot.conf stops a broker at start with a message naming the problem.
func TestBootConfErrors(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if r := run(t, dir, "", "flux", "keygen", key); r.code != 0 {
		t.Fatalf("keygen: %s", r.stderr)
	}
	if st, _ := os.Stat(key); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	for _, tc := range []struct{ conf, want string }{
		{`tbon-endpoints = ["tcp://192.0.2.10:8020", "tcp://192.0.2.11:8020"]` + "\nkey-file = \"key\"\n", "no endpoint in"},
		{`tbon-endpoints = ["tcp://127.0.0.1:8020", "tcp://127.0.0.1:8020"]` + "\nkey-file = \"key\"\n", "are both tcp://127.0.0.1:8020"},
		{`tbon-endpoints = ["tcp://127.0.0.1"]` + "\nkey-file = \"key\"\n", "no port"},
		{`tbon-endpoint = ["tcp://127.0.0.1:1"]` + "\n", `unknown key "tbon-endpoint"`},
	} {
		conf := writeFile(t, filepath.Join(dir, "boot.conf"), tc.conf)
		r := run(t, dir, "", "flux", "broker", "-Sboot.method=config", "-Sboot.config_file="+conf)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want a failure mentioning %q", tc.conf, r.code, r.stderr, tc.want)
		}
	}
}
