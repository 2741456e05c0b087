package itest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/internal/testbed"
)

// brokerPid finds the broker process of rank among the children of the
// flux start process parent (never another test's brokers), or 0.
func brokerPid(parent, rank int) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(parent) {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		for _, a := range strings.Split(string(cmdline), "\x00") {
			if a == fmt.Sprintf("broker.rank=%d", rank) {
				return pid
			}
		}
	}
	return 0
}

// A stopped broker stalls nothing: while rank 3 of four is SIGSTOPped, lines
// keep starting on ranks 0-2 at (at least 0.9x) the rate they did before,
// rank 3 is declared lost after the heartbeat timeout, its running lines end
// as "rank 3 lost", the rest run elsewhere, every line has one record, and
// the run ends promptly after its last line (flux start does not wait for
// the stopped process).
func TestStoppedBrokerStallsNothing(t *testing.T) {
	dir := t.TempDir()
	const n = 360
	var lines []string
	for i := 0; i < n; i++ {
		lines = append(lines, `sh -c 'echo $(date +%s.%N) ${FLUX_URI##*flux-start-} >> started; sleep 0.2'`)
	}
	f := writeFile(t, filepath.Join(dir, "cmds"), strings.Join(lines, "\n")+"\n")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := cmd(ctx, dir, nil, "flux", "start", "--test-size=4", "flux-capacitor", "--quiet", "--joblog", "log", "--command_file", f)
	var errb strings.Builder
	c.Stderr = &errb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var victim int
	for deadline := time.Now().Add(10 * time.Second); victim == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		victim = brokerPid(c.Process.Pid, 3)
	}
	if victim == 0 {
		c.Process.Kill()
		c.Wait()
		t.Fatal("rank 3's broker process never appeared")
	}
	time.Sleep(3 * time.Second)
	stopped := time.Now()
	syscall.Kill(victim, syscall.SIGSTOP)
	defer syscall.Kill(victim, syscall.SIGKILL)
	c.Wait()
	ended := time.Now()
	if code := c.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit %d, want 1 (the lines running on rank 3 failed)\nstderr:\n%s", code, errb.String())
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", victim)); err == nil {
		if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", victim)); !strings.Contains(string(st), ") Z ") {
			t.Errorf("the stopped broker (pid %d) outlived flux start", victim)
		}
	}

	rows := joblog(t, filepath.Join(dir, "log"))
	if len(rows) != n {
		t.Fatalf("%d job log records, want %d (one per line)", len(rows), n)
	}
	failed := 0
	for _, row := range rows {
		if row[6] != "0" {
			failed++
		}
	}
	if lost := strings.Count(errb.String(), ": rank 3 lost"); lost != failed {
		t.Errorf("%d lines failed, %d reported as 'rank 3 lost'; want the same\nstderr:\n%s", failed, lost, errb.String())
	}
	if !strings.Contains(errb.String(), "lost rank(s) [3]") {
		t.Errorf("rank 3 was never declared lost:\n%s", errb.String())
	}

	// Start times of lines on ranks 0-2, before and during the stop (rank 3
	// is declared lost about 3 s after it: heartbeats of 1 s, 3 missed).
	var last time.Time
	before, during := 0, 0
	const win = 2500 * time.Millisecond
	for _, l := range strings.Split(strings.TrimSpace(readFile(t, filepath.Join(dir, "started"))), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		sec, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		at := time.Unix(0, int64(sec*1e9))
		if at.After(last) {
			last = at
		}
		if rank := strings.Split(f[1], "-"); len(rank) < 2 || rank[1] == "3" {
			continue
		}
		switch {
		case at.After(stopped.Add(-win)) && at.Before(stopped):
			before++
		case !at.Before(stopped) && at.Before(stopped.Add(win)):
			during++
		}
	}
	t.Logf("lines started on ranks 0-2: %d in the %v before SIGSTOP, %d in the %v after; %d failed; run ended %v after its last line started",
		before, win, during, win, failed, ended.Sub(last).Round(time.Millisecond))
	if before == 0 || float64(during) < 0.9*float64(before) {
		t.Errorf("ranks 0-2 started %d lines in the %v after rank 3 stopped, %d in the %v before; want at least 0.9x", during, win, before, win)
	}
	if d := ended.Sub(last); d > 2500*time.Millisecond {
		t.Errorf("the run ended %v after its last line started (each runs 0.2 s); it waited on the stopped broker", d)
	}
}

// A lost broker rejoins: SIGSTOPped until lost, then resumed; later killed
// and started again by hand from the instance's boot.conf. Each time it
// says hello again, flux resource list shows it up, and new jobs run
// there, while the job that was running on it when it was lost stays ended.
// Refused, each with one line, while the instance keeps running: a second
// broker with the same rank, one with another instance's key, and one from
// a boot.conf with another size.
func TestLostBrokerRejoins(t *testing.T) {
	dir := t.TempDir()
	script := `
set -u
p3=$(pgrep -P $PPID -f 'broker.ran[k]=3')
argv=$(tr '\0' '\n' < /proc/$p3/cmdline | tail -n +2 | tr '\n' ' ')
conf=$(tr '\0' '\n' < /proc/$p3/cmdline | sed -n 's/^boot.config_file=//p')
waitstate() { # rank state
	for i in $(seq 100); do
		flux resource list --json | tr -d ' \n' | grep -q "\"rank\":$1,\"state\":\"$2\"" && return 0
		sleep 0.1
	done
	echo "rank $1 never became $2"; flux resource list -v; exit 1
}
id=$(flux submit -N4 -n4 sleep 30)
sleep 0.5
kill -STOP $p3
waitstate 3 lost
flux resource list > lost.txt
flux job attach $id > /dev/null 2> attach.txt; echo "attach rc=$?" >> attach.txt
kill -CONT $p3
waitstate 3 online
flux run -N4 -n4 sh -c 'echo ${FLUX_URI##*flux-start-}' | cut -d- -f2 | sort > ranks1

# a second broker with rank 3 while rank 3 is up
timeout 20 flux $argv 2> dup.err; echo "dup rc=$?" >> dup.err
flux run -N4 -n4 true

kill -9 $p3
waitstate 3 lost
# another instance's key
flux keygen otherkey
sed 's|^key-file = .*|key-file = "'$PWD'/otherkey"|' $conf > otherkey.conf
timeout 20 flux $(echo $argv | sed "s|$conf|$PWD/otherkey.conf|") 2> key.err; echo "key rc=$?" >> key.err
# a boot.conf with another size
sed 's|^tbon-endpoints = \[\(.*\)\]|tbon-endpoints = [\1, "tcp://127.0.0.1:1"]|; s|^key-file = "key"|key-file = "'$(dirname $conf)'/key"|' $conf > size.conf
timeout 20 flux $(echo $argv | sed "s|$conf|$PWD/size.conf|") 2> size.err; echo "size rc=$?" >> size.err

# the real one, started again by hand
flux $argv 2> restarted.err &
waitstate 3 online
flux resource list --json | tr -d ' \n' > back.txt
flux run -N4 -n4 sh -c 'echo ${FLUX_URI##*flux-start-}' | cut -d- -f2 | sort > ranks2
`
	r := run(t, dir, "", "flux", "start", "--test-size=4", "sh", "-c", script)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got := readFile(t, filepath.Join(dir, "lost.txt")); !regexp.MustCompile(`(?m)^\s*down\s+1\s`).MatchString(got) {
		t.Errorf("flux resource list while rank 3 was lost shows no down node:\n%s", got)
	}
	if got := readFile(t, filepath.Join(dir, "attach.txt")); !strings.Contains(got, "rank 3 lost") || strings.Contains(got, "rc=0") {
		t.Errorf("the job running on rank 3 when it was lost should end with 'rank 3 lost':\n%s", got)
	}
	for _, f := range []string{"ranks1", "ranks2"} {
		if got := readFile(t, filepath.Join(dir, f)); got != "0\n1\n2\n3\n" {
			t.Errorf("%s: a -N4 job after the rejoin ran on ranks %q, want 0-3", f, got)
		}
	}
	if got := readFile(t, filepath.Join(dir, "back.txt")); !strings.Contains(got, `"rank":3,"state":"online","since":`) ||
		strings.Contains(got, `"state":"lost"`) || strings.Contains(got, `"down"`) {
		t.Errorf("after the restart, flux resource list --json:\n%s", got)
	}
	for _, tc := range []struct{ file, want string }{
		{"dup.err", "is a second broker running with rank 3?"},
		{"key.err", "failed authentication"},
		{"size.err", "it counts 5 ranks, this instance has 4"},
	} {
		got := readFile(t, filepath.Join(dir, tc.file))
		t.Logf("%s:\n%s", tc.file, got)
		if !strings.Contains(got, tc.want) || strings.Contains(got, "rc=0") || strings.Contains(got, "rc=124") {
			t.Errorf("%s: want a refusal saying %q and a failing exit:\n%s", tc.file, tc.want, got)
		}
	}
	for _, want := range []string{"refused a second link from rank 3", "failed authentication", "refused a hello from rank 3"} {
		if c := strings.Count(r.stderr, want); c != 1 {
			t.Errorf("rank 0 logged %q %d times, want once:\n%s", want, c, r.stderr)
		}
	}
	var rej []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, "rejoined") {
			rej = append(rej, l)
		}
	}
	sort.Strings(rej)
	if len(rej) < 2 {
		t.Errorf("rank 0 logged %d rejoins, want 2:\n%s", len(rej), r.stderr)
	}
}

// scripts/faults runs a stream through each fault (kill -9, SIGSTOP and
// SIGCONT, a garbage peer, a connection flood, a network partition between
// test hosts) and prints a table; no line may be lost, and each lost rank
// must come back.
func TestFaultScript(t *testing.T) {
	testbed.Netns(t, 8) // partition runs on tbhost5-8; this holds the hosts (or skips loudly)
	root, err := testbed.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	c := cmd(ctx, t.TempDir(), nil, "bash", filepath.Join(root, "scripts", "faults"), "-n", "300")
	c.Path = "/bin/bash"
	c.Env = append(c.Env, "FLUX="+filepath.Join(bin, "flux"), "FAULTS_DIR="+t.TempDir())
	out, err := c.CombinedOutput()
	t.Logf("scripts/faults:\n%s", out)
	if err != nil {
		t.Fatalf("scripts/faults: %v", err)
	}
	rows := map[string][]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) == 8 && f[0] != "FAULT" {
			rows[f[0]] = f
		}
	}
	for _, name := range []string{"kill", "stop", "garbage", "flood", "partition"} {
		r := rows[name]
		if r == nil {
			t.Errorf("no row for %s", name)
			continue
		}
		if r[1] != "300" || r[5] != "0" {
			t.Errorf("%s: %v: want 300 submitted and 0 lost", name, r)
		}
		if done, _ := strconv.Atoi(r[2]); done < 290 {
			t.Errorf("%s: only %s lines completed", name, r[2])
		}
		if r[6] == "-" || r[7] == "-" {
			t.Errorf("%s: the rank was not declared lost or did not come back: %v", name, r)
		}
	}
}

// The loop never waits on a peer: with heartbeats too slow to notice
// (-Stbon.heartbeat=60s), a stopped broker is lost once the messages queued
// for it reach the limit (64 MiB here: big events), and it rejoins when
// resumed.
func TestSendQueueFullPeerLost(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "event.json"), `{"pad":"`+strings.Repeat("x", 110000)+`"}`)
	script := `
p3=$(pgrep -P $PPID -f 'broker.ran[k]=3')
kill -STOP $p3
ev=$(cat event.json)
for i in $(seq 1500); do
	flux event pub big "$ev" || exit 1
	if [ $((i % 50)) = 0 ] && flux resource list --json | tr -d ' \n' | grep -q '"rank":3,"state":"lost"'; then echo "lost after $i events"; break; fi
done
kill -CONT $p3
for i in $(seq 100); do flux resource list --json | tr -d ' \n' | grep -q '"rank":3,"state":"online"' && echo "rank 3 online" && break; sleep 0.1; done
`
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	c := cmd(ctx, dir, nil, "flux", "start", "--test-size=4", "-Stbon.heartbeat=60s", "sh", "-c", script)
	var out, errb strings.Builder
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "lost after") {
		t.Errorf("rank 3 was never lost:\n%s\n%s", out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "rank 3 is not reading (its send queue is full)") ||
		!strings.Contains(errb.String(), "it stopped reading") {
		t.Errorf("the loss was not put down to the full send queue:\n%s", errb.String())
	}
	if !strings.Contains(out.String(), "rank 3 online") {
		t.Errorf("rank 3 did not rejoin after SIGCONT:\n%s", out.String())
	}
}

// 256 brokers boot on one host (every port bound before any broker starts,
// so none collide), and one job spans them all.
func TestStart256Brokers(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, "", "flux", "start", "--test-size=256", "-Stbon.fanout=2", "sh", "-c",
		`flux run -N256 -n256 sh -c 'echo ${FLUX_URI##*flux-start-}' | cut -d- -f2 | sort -u | wc -l`)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "256" {
		t.Fatalf("exit %d, %q distinct ranks ran the job (want 256)\nstderr:\n%s", r.code, strings.TrimSpace(r.stdout), r.stderr)
	}
	t.Logf("boot, a 256-rank job and shutdown took %v", r.elapsed.Round(time.Millisecond))
}

// A setting every broker shares that is wrong fails the start once, in flux
// start's words, not once per broker.
func TestStartErrorPrintedOnce(t *testing.T) {
	r := run(t, t.TempDir(), "", "flux", "start", "--test-size=8", "-Sbroker.key_file=/nonexistent/key", "true")
	if r.code == 0 || strings.Count(r.stderr, "/nonexistent/key") != 1 || !strings.HasPrefix(r.stderr, "flux start: ") {
		t.Errorf("exit %d, stderr %q: want one line from flux start", r.code, r.stderr)
	}
}

// A lost broker in the middle of the tree takes its subtree with it, and
// brings it back: rank 1 of eight (fanout 2: children 3 and 4, grandchild
// 7) is stopped until lost, then resumed; every rank comes back online and a
// job spans all eight again.
func TestLostSubtreeRejoins(t *testing.T) {
	script := `
st() { flux resource list --json | tr -d ' \n' | grep -o '"rank":[0-9]*,"state":"[a-z]*"' | sed 's/"rank"://; s/,"state"://; s/"//g' | tr '\n' ' '; echo; }
waitall() { for i in $(seq 100); do [ "$(st)" = "$1" ] && return 0; sleep 0.1; done; echo "never: $1"; st; exit 1; }
p1=$(pgrep -P $PPID -f 'broker.ran[k]=1$')
kill -STOP $p1
waitall "0online 1lost 2online 3lost 4lost 5online 6online 7lost "
kill -CONT $p1
waitall "0online 1online 2online 3online 4online 5online 6online 7online "
flux run -N8 -n8 sh -c 'echo ${FLUX_URI##*flux-start-}' | cut -d- -f2 | sort -n | tr '\n' ' '
`
	r := run(t, t.TempDir(), "", "flux", "start", "--test-size=8", "-Stbon.fanout=2", "sh", "-c", script)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "0 1 2 3 4 5 6 7" {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "lost rank(s) [1 3 4 7]") {
		t.Errorf("the subtree of rank 1 was not lost as one:\n%s", r.stderr)
	}
}

// A drained rank that is lost and rejoins stays drained: rejoining puts
// back the cores of a rank that was in service, not of one an operator took
// out; `flux resource undrain` does that.
func TestDrainedRankRejoinsDrained(t *testing.T) {
	dir := t.TempDir()
	script := `
set -u
p2=$(pgrep -P $PPID -f 'broker.ran[k]=2')
waitstate() { # rank state
	for i in $(seq 100); do
		flux resource list --json | tr -d ' \n' | grep -q "\"rank\":$1,\"state\":\"$2\"" && return 0
		sleep 0.1
	done
	echo "rank $1 never became $2"; flux resource list -v; exit 1
}
flux resource drain 2 maintenance
kill -STOP $p2
waitstate 2 lost
kill -CONT $p2
waitstate 2 online
flux resource list --json | tr -d ' \n' > back.txt
id=$(flux submit -N3 -n3 true)
sleep 1
flux jobs -n -o '{state}' $id > pending.txt
flux resource undrain 2
flux job attach $id; echo "attach rc=$?" > attach.txt
`
	r := run(t, dir, "", "flux", "start", "--test-size=3", "sh", "-c", script)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got := readFile(t, filepath.Join(dir, "back.txt")); !strings.Contains(got, `"drained":[{"rank":2`) {
		t.Errorf("after rank 2 rejoined, flux resource list --json shows it not drained:\n%s", got)
	}
	if got := strings.TrimSpace(readFile(t, filepath.Join(dir, "pending.txt"))); got != "SCHED" && got != "PENDING" && got != "DEPEND" {
		t.Errorf("a -N3 job on a drained rank 2 should wait, its state is %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "attach.txt")); got != "attach rc=0\n" {
		t.Errorf("after undrain the -N3 job should run: %q\nstderr:\n%s", got, r.stderr)
	}
}
