package itest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/internal/testbed"
)

// onCores runs one of our commands bound to the given CPUs (taskset), so
// that the instance it starts has exactly that many cores.
func onCores(t *testing.T, dir, cpus, name string, args ...string) result {
	t.Helper()
	if _, err := os.Stat("/usr/bin/taskset"); err != nil {
		testbed.Require(t, "taskset (util-linux)", err.Error())
	}
	return run(t, dir, "", "/usr/bin/taskset", append([]string{"-c", cpus, filepath.Join(bin, name)}, args...)...)
}

// lastEndBefore is the latest end among the job log's rows (other than
// skip) that started before t: a wide line needing every core starts
// as soon as those have ended, if nothing starves it.
func lastEndBefore(t *testing.T, rows map[string][]string, skip string, at float64) float64 {
	t.Helper()
	last := 0.0
	for seq, row := range rows {
		if s, e := rowSpan(t, row); seq != skip && s < at {
			last = max(last, e)
		}
	}
	return last
}

// startedBetween counts the rows (other than skip) that started in
// (from, to): lines that overtook a wide line whose turn had come.
func startedBetween(t *testing.T, rows map[string][]string, skip string, from, to float64) int {
	t.Helper()
	n := 0
	for seq, row := range rows {
		if s, _ := rowSpan(t, row); seq != skip && s > from && s < to {
			n++
		}
	}
	return n
}

// span is a job log row's start and end, in seconds.
func rowSpan(t *testing.T, row []string) (start, end float64) {
	t.Helper()
	s, err1 := strconv.ParseFloat(row[2], 64)
	d, err2 := strconv.ParseFloat(row[3], 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("job log row %q: bad times", row)
	}
	return s, s + d
}

// The experiment on 2 cores: line 1 runs 0.5 s on one core, line 2
// wants both, and 40 short one-core lines follow. Under the default policy
// (EASY) the wide line starts as soon as line 1 ends, whether or not the
// narrow lines have -t; under sched.firstfit it starts only after the
// narrow lines ran out (the starvation the default must not have).
func TestWideLineNotStarved(t *testing.T) {
	dir := t.TempDir()
	var plain, timed strings.Builder
	plain.WriteString("-n1 sleep 0.5\n-n2 echo WIDE\n")
	timed.WriteString(plain.String())
	for range 40 {
		plain.WriteString("-n1 sleep 0.1\n")
		timed.WriteString("-n1 -t 10s sleep 0.1\n")
	}
	writeFile(t, filepath.Join(dir, "plain"), plain.String())
	writeFile(t, filepath.Join(dir, "timed"), timed.String())
	for _, tc := range []struct {
		file, sched string
		starved     bool
	}{{"plain", "", false}, {"timed", "", false}, {"plain", "sched.fcfs", false}, {"plain", "sched.firstfit", true}} {
		args := []string{"--quiet", "--joblog", "jl", "--command_file", tc.file}
		if tc.sched != "" {
			args = append(args, "--sched", tc.sched)
		}
		os.Remove(filepath.Join(dir, "jl"))
		r := onCores(t, dir, "0,1", "flux-capacitor", args...)
		if r.code != 0 {
			t.Fatalf("%s %s: exit %d: %s", tc.file, tc.sched, r.code, r.stderr)
		}
		rows := joblog(t, filepath.Join(dir, "jl"))
		if len(rows) != 42 {
			t.Fatalf("%s: %d job log rows, want 42", tc.file, len(rows))
		}
		_, end1 := rowSpan(t, rows["1"])
		wide, _ := rowSpan(t, rows["2"])
		delay := wide - end1
		// With -t the narrow lines may backfill while line 1 runs (they
		// end long before its planned end); the wide line then waits for
		// the one running when line 1 ends, and no more.
		after := wide - lastEndBefore(t, rows, "2", wide)
		t.Logf("%s under %q: WIDE starts %.3f s after line 1 ends, %.3f s after the last line before it", tc.file, tc.sched, delay, after)
		if !tc.starved && (delay < -0.01 || after > 0.3 || (tc.file == "plain" && delay > 0.4)) {
			t.Errorf("%s under %q: WIDE started %.3f s after line 1 ended, %.3f s after the lines ahead of it; want right after",
				tc.file, tc.sched, delay, after)
		}
		if n := startedBetween(t, rows, "2", end1+0.1, wide); !tc.starved && n > 0 {
			t.Errorf("%s under %q: %d lines started after line 1 ended and before WIDE", tc.file, tc.sched, n)
		}
		if tc.starved && delay < 0.5 {
			t.Errorf("sched.firstfit: WIDE started %.3f s after line 1; the experiment no longer shows starvation", delay)
		}
	}
}

// jobJSON is one job of flux jobs --json (Flux's keys), with the times as
// RFC 3339 text and the state in the broker's words, for the checks below.
type jobJSON struct {
	ID      uint64
	State   string
	Name    string
	Run     string
	End     string
	Urgency int
	Why     string
}

// jobsByID reads flux jobs --json and keys the jobs by submission order
// (1 for the first job submitted): job ids are FLUIDs, which grow with
// submission time.
func jobsByID(t *testing.T, js string) map[uint64]jobJSON {
	t.Helper()
	var wrapped struct {
		Jobs []struct {
			ID      uint64  `json:"id"`
			State   string  `json:"state"`
			Name    string  `json:"name"`
			Run     float64 `json:"t_run"`
			End     float64 `json:"t_inactive"`
			Urgency int     `json:"urgency"`
			Sched   struct {
				Why string `json:"reason_pending"`
			} `json:"sched"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal([]byte(js), &wrapped); err != nil {
		t.Fatalf("flux jobs --json: %v\n%s", err, js)
	}
	stamp := func(f float64) string {
		if f == 0 {
			return ""
		}
		return time.Unix(0, int64(f*1e9)).Format(time.RFC3339Nano)
	}
	states := map[string]string{"SCHED": "pending", "RUN": "running", "INACTIVE": "finished"}
	all := wrapped.Jobs
	sort.Slice(all, func(a, b int) bool { return all[a].ID < all[b].ID })
	out := map[uint64]jobJSON{}
	for i, j := range all {
		out[uint64(i+1)] = jobJSON{ID: j.ID, State: states[j.State], Name: j.Name, Run: stamp(j.Run), End: stamp(j.End),
			Urgency: j.Urgency, Why: j.Sched.Why}
	}
	return out
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return tm
}

// The same experiment through flux start and flux submit, with and
// without -t on the narrow jobs (with it they may backfill while job 1
// runs, as they end before the wide job's reservation).
func TestWideJobThroughSubmit(t *testing.T) {
	for _, limit := range []string{"", "-t 10s"} {
		dir := t.TempDir()
		script := `
set -e
flux submit -n1 sleep 1 > /dev/null
flux submit -n2 echo WIDE > /dev/null
for i in $(seq 20); do flux submit -n1 ` + limit + ` sleep 0.05 > /dev/null; done
flux jobs > jobs.txt
flux queue drain
flux jobs -a --json > jobs.json
`
		r := onCores(t, dir, "0,1", "flux", "start", "sh", "-c", script)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if txt := readFile(t, filepath.Join(dir, "jobs.txt")); !strings.Contains(txt, "reserved to start") {
			t.Errorf("%q: flux jobs does not show the wide job's reservation:\n%s", limit, txt)
		}
		jobs := jobsByID(t, readFile(t, filepath.Join(dir, "jobs.json")))
		end1, wide := parseTime(t, jobs[1].End), parseTime(t, jobs[2].Run)
		last := end1 // the last end of a job that started before the wide one
		for id, j := range jobs {
			if id != 2 && parseTime(t, j.Run).Before(wide) && parseTime(t, j.End).After(last) {
				last = parseTime(t, j.End)
			}
		}
		t.Logf("%q: the wide job started %v after job 1 ended, %v after the last job ahead of it", limit, wide.Sub(end1), wide.Sub(last))
		if d := wide.Sub(end1); d < -10*time.Millisecond || wide.Sub(last) > 300*time.Millisecond || (limit == "" && d > 400*time.Millisecond) {
			t.Errorf("%q: the wide job started %v after job 1 ended, %v after the jobs ahead of it; want right after", limit, d, wide.Sub(last))
		}
		for id := uint64(3); id <= 22 && limit == ""; id++ {
			if parseTime(t, jobs[id].Run).Before(wide) {
				t.Errorf("job %d (-n1 without -t, submitted after the wide job) started before it", id)
			}
		}
	}
}

// Urgency orders the queue; 0 holds a job until flux job urgency raises it.
func TestUrgencyAndHold(t *testing.T) {
	dir := t.TempDir()
	script := `
set -e
flux queue stop -m "queue them all first"
flux submit true > /dev/null                       # 1
flux submit echo A > /dev/null                     # 2: 16
flux submit --urgency=20 echo B > /dev/null        # 3
held=$(flux submit --urgency=hold echo C)         # 4
flux submit --urgency=expedite echo D > /dev/null  # 5
flux jobs --json > before.json
flux queue start
flux queue idle
flux jobs -a --json > idle.json
flux job urgency -v $held 16 2> verbose.txt
flux queue drain
flux jobs -a --json > after.json
set +e
flux job urgency $held 3; echo "inactive $?"
flux submit --urgency=32 true; echo "range $?"
`
	r := onCores(t, dir, "0", "flux", "start", "sh", "-c", script)
	if r.code != 0 {
		t.Fatalf("exit %d: %s\n%s", r.code, r.stdout, r.stderr)
	}
	before := jobsByID(t, readFile(t, filepath.Join(dir, "before.json")))
	if before[4].Why != "held (urgency 0)" || before[4].Urgency != 0 || before[5].Urgency != 31 ||
		before[5].Why != "the queue is stopped: queue them all first (flux queue start)" {
		t.Errorf("before: held job %+v, expedited %+v", before[4], before[5])
	}
	idle := jobsByID(t, readFile(t, filepath.Join(dir, "idle.json")))
	if idle[4].State != "pending" {
		t.Errorf("the held job did not stay pending: %+v", idle[4])
	}
	after := jobsByID(t, readFile(t, filepath.Join(dir, "after.json")))
	order := []uint64{5, 3, 1, 2, 4} // expedite, 20, 16 by submit time, then the released one
	for i := 1; i < len(order); i++ {
		a, b := parseTime(t, after[order[i-1]].Run), parseTime(t, after[order[i]].Run)
		if b.Before(a) {
			t.Errorf("job %d started before job %d; want the order %v", order[i], order[i-1], order)
		}
	}
	if v := readFile(t, filepath.Join(dir, "verbose.txt")); !strings.Contains(v, "old urgency: job held") {
		t.Errorf("flux job urgency -v printed %q", v)
	}
	for _, want := range []string{"inactive 1", "range 2"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s\n%s", want, r.stdout, r.stderr)
		}
	}
}

// Line dependencies in a command file: met, failed (one record, exit 1
// for the line), chained, and refused at submit (forward, self, malformed:
// exit 2 naming the line); the rest of the stream still runs.
func TestLineDependencies(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "cmds"), strings.Join([]string{
		`sh -c 'sleep 0.3; exit 1'`,                     // 1 fails
		`--dependency=afterok:line:1 echo never`,        // 2 can never run
		`--dependency=afternotok:line:1 echo AFTERFAIL`, // 3 runs after 1
		`--dependency=afterany:line:3 echo ANY`,         // 4 after 3
		`--dependency=afterok:line:9 echo forward`,      // 5 bad: forward
		`--dependency afterok:line:6 echo self`,         // 6 bad: itself
		`--dependency=later:line:1 echo bad`,            // 7 bad type
		`--urgency=40 echo bad`,                         // 8 bad urgency
		`echo NINE`,                                     // 9
		`--dependency=afterok:line:2 echo chain`,        // 10: 2 never ran
		`# a comment`,                                   // 11
		`--dependency=afterany:line:11 echo comment`,    // 12 bad: no job on line 11
		`--dependency=after:line:1 echo STARTED1`,       // 13 once line 1 started
	}, "\n")+"\n")
	r := onCores(t, dir, "0,1", "flux-capacitor", "--quiet", "--joblog", "jl", "--command_file", "cmds")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2 (bad lines)\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	rows := joblog(t, filepath.Join(dir, "jl"))
	want := map[string]string{"1": "1", "2": "1", "3": "0", "4": "0", "5": "2", "6": "2", "7": "2", "8": "2", "9": "0", "10": "1", "12": "2", "13": "0"}
	if len(rows) != len(want) {
		t.Errorf("job log has %d records, want %d: %v", len(rows), len(want), rows)
	}
	for seq, exit := range want {
		if rows[seq] == nil || rows[seq][6] != exit {
			t.Errorf("line %s: job log %q, want exit %s", seq, rows[seq], exit)
		}
	}
	_, end1 := rowSpan(t, rows["1"])
	start3, end3 := rowSpan(t, rows["3"])
	start4, _ := rowSpan(t, rows["4"])
	if start3 < end1-0.01 || start4 < end3-0.01 {
		t.Errorf("dependent lines started early: 1 ends %.3f, 3 starts %.3f ends %.3f, 4 starts %.3f", end1, start3, end3, start4)
	}
	for _, w := range []string{
		"line 2: dependency afterok:line:1 failed",
		"line 10: dependency afterok:line:2 failed",
		"line 5: --dependency afterok:line:9: line 9 is not before this line",
		"line 6: --dependency afterok:line:6: line 6 is not before this line",
		`line 7: --dependency "later:line:1": unknown dependency type "later"`,
		`line 8: --urgency "40": want 0 (hold) to 31`,
		"line 12: --dependency afterany:line:11: line 11 is not a job of this run",
	} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	if s13, _ := rowSpan(t, rows["13"]); s13 > end1 {
		t.Errorf("after:line:1 waited for line 1 to end (%.3f), started %.3f", end1, s13)
	}
	for _, w := range []string{"AFTERFAIL", "ANY", "NINE", "STARTED1"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "never") || strings.Contains(r.stdout, "chain") {
		t.Errorf("a line whose dependency failed ran:\n%s", r.stdout)
	}
}

// A window full of lines waiting on one long line drains when it ends: the
// waiting lines hold window slots, but the line they wait for is already
// in flight, so nothing deadlocks.
func TestDependencyWindowNoDeadlock(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("sleep 0.4\n")
	for i := 2; i <= 40; i++ {
		fmt.Fprintf(&b, "--dependency=afterok:line:1 echo L%d\n", i)
	}
	writeFile(t, filepath.Join(dir, "cmds"), b.String())
	r := onCores(t, dir, "0,1", "flux-capacitor", "--quiet", "--window", "4", "--joblog", "jl", "--command_file", "cmds")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rows := joblog(t, filepath.Join(dir, "jl"))
	_, end1 := rowSpan(t, rows["1"])
	for i := 2; i <= 40; i++ {
		row := rows[strconv.Itoa(i)]
		if row == nil || row[6] != "0" {
			t.Fatalf("line %d: %q", i, row)
		}
		if s, _ := rowSpan(t, row); s < end1-0.01 {
			t.Errorf("line %d started at %.3f, before line 1 ended (%.3f)", i, s, end1)
		}
	}
}

// flux submit --dependency and flux queue: stop keeps submissions, disable
// refuses them with the reason, drain and idle wait.
func TestSubmitDependencyAndQueue(t *testing.T) {
	dir := t.TempDir()
	script := `
set -e
f=$(flux submit sh -c 'sleep 1; exit 3'); echo "$f" > f.id
ok=$(flux submit --dependency=afterok:$f echo NEVER)
notok=$(flux submit --dependency=afternotok:$f --dependency=after:$f echo NOTOK)
flux jobs > deps.txt
flux queue stop -m maintenance
flux queue status > stopped.txt
s=$(flux submit echo STOPPED)
flux jobs > stoppedjobs.txt
flux queue start
flux queue disable going down for repairs
set +e
flux submit true; echo "disabled $?"
flux queue enable
flux submit --dependency=afterok:999 true; echo "unknown $?"
flux submit --dependency=afterok:x true; echo "malformed $?"
set -e
flux queue drain -t 30s
flux job attach $notok
flux job attach $s
set +e
flux job attach $ok; echo "dep $?"
flux submit --dependency=afterok:$f true; echo "already $?"
`
	r := onCores(t, dir, "0,1", "flux", "start", "sh", "-c", script)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	f := strings.TrimSpace(readFile(t, filepath.Join(dir, "f.id")))
	if d := readFile(t, filepath.Join(dir, "deps.txt")); !strings.Contains(d, "waiting for dependency afterok:"+f) ||
		!strings.Contains(d, "waiting for dependency afternotok:"+f) {
		t.Errorf("flux jobs does not say what the dependent jobs wait for:\n%s", d)
	}
	if s := readFile(t, filepath.Join(dir, "stopped.txt")); s != "Job submission is enabled\nScheduling is stopped: maintenance\n" {
		t.Errorf("flux queue status = %q", s)
	}
	if s := readFile(t, filepath.Join(dir, "stoppedjobs.txt")); !strings.Contains(s, "the queue is stopped: maintenance") {
		t.Errorf("flux jobs does not say the queue is stopped:\n%s", s)
	}
	for _, w := range []string{"NOTOK", "STOPPED", "disabled 1", "unknown 1", "malformed 2", "dep 1", "already 1"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stdout lacks %q\nstdout:\n%s\nstderr:\n%s", w, r.stdout, r.stderr)
		}
	}
	for _, w := range []string{"job submission is disabled: going down for repairs", "dependency afterok:" + f + " failed",
		"afterok:" + f + ": job " + f + " failed or was canceled", "in this instance (unknown, or finished"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	if strings.Contains(r.stdout, "NEVER") {
		t.Errorf("a job whose afterok dependency failed ran")
	}
}

// With learned estimates, short lines queued behind a waiting wide line
// backfill once lines of their command have finished (their learned
// estimate ends before the wide line's reservation); the wide line still
// starts right after the line ahead of it. Without, they wait (an hour
// each, by the default).
func TestLearnedEstimatesBackfill(t *testing.T) {
	dir := t.TempDir()
	// Line 1 holds a core for a second while lines 2-7 teach the command's
	// runtime on the other; WIDE (line 8) then waits for line 1. Line 1
	// starts first, alone: had it started in the same pass as a later
	// line, that line's one-hour default would end exactly at WIDE's
	// reservation, which EASY rightly allows, and the no-backfill check
	// below would depend on how passes fell.
	var b strings.Builder
	b.WriteString("-n1 sleep 1\n")
	for range 6 {
		b.WriteString("-n1 env sleep 0.05\n")
	}
	b.WriteString("-n2 echo WIDE\n")
	for range 20 {
		b.WriteString("-n1 env sleep 0.05\n")
	}
	writeFile(t, filepath.Join(dir, "cmds"), b.String())
	for _, learn := range []bool{false, true} {
		sched := "sched.easy"
		if learn {
			sched += " learn-estimates=on"
		}
		os.Remove(filepath.Join(dir, "jl"))
		r := onCores(t, dir, "0,1", "flux-capacitor", "--quiet", "--sched", sched, "--joblog", "jl", "--command_file", "cmds")
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", sched, r.code, r.stderr)
		}
		rows := joblog(t, filepath.Join(dir, "jl"))
		_, end1 := rowSpan(t, rows["1"])
		wide, _ := rowSpan(t, rows["8"])
		before := 0
		for i := 9; i <= 28; i++ {
			if s, _ := rowSpan(t, rows[strconv.Itoa(i)]); s < wide {
				before++
			}
		}
		after := wide - lastEndBefore(t, rows, "8", wide)
		t.Logf("%s: WIDE starts %.3f s after line 1 ends, %.3f s after the last line before it; %d later lines started before it",
			sched, wide-end1, after, before)
		if d := wide - end1; d < -0.01 || after > 0.3 || (!learn && d > 0.4) {
			t.Errorf("%s: WIDE started %.3f s after line 1 ended, %.3f s after the lines ahead of it; want right after", sched, d, after)
		}
		if n := startedBetween(t, rows, "8", end1+0.1, wide); n > 0 {
			t.Errorf("%s: %d lines started after line 1 ended and before WIDE", sched, n)
		}
		if learn && before < 10 {
			t.Errorf("%s: only %d short lines backfilled before WIDE", sched, before)
		}
		if !learn && before != 0 {
			t.Errorf("%s: %d lines without -t backfilled around WIDE under the fixed one-hour estimate", sched, before)
		}
	}
}

// flux sched-sim on the hand-worked traces: FCFS loses to backfill where
// it must, first fit starves the wide job, and bad options exit 2.
func TestSchedSimTraces(t *testing.T) {
	dir := t.TempDir()
	traces, err := filepath.Abs("../sched/sim/testdata")
	if err != nil {
		t.Fatal(err)
	}
	sim := func(policy, trace string, extra ...string) map[string]float64 {
		t.Helper()
		args := append(append([]string{"sched-sim", "--json", "--policy", policy}, extra...), filepath.Join(traces, trace))
		r := run(t, dir, "", "flux", args...)
		if r.code != 0 {
			t.Fatalf("sched-sim %s %s: exit %d: %s", policy, trace, r.code, r.stderr)
		}
		var st map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
			t.Fatalf("sched-sim --json: %v: %s", err, r.stdout)
		}
		out := map[string]float64{}
		for k, v := range st {
			if f, ok := v.(float64); ok {
				out[k] = f
			}
		}
		return out
	}
	for _, trace := range []string{"fcfs-blocks.swf", "easy-vs-conservative.swf"} {
		fcfs, easy := sim("fcfs", trace), sim("easy", trace)
		if fcfs["mean_wait"] <= easy["mean_wait"] || fcfs["makespan"] <= easy["makespan"] {
			t.Errorf("%s: fcfs %v does not lose to easy %v", trace, fcfs, easy)
		}
	}
	ff, easy := sim("firstfit", "firstfit-starves.swf"), sim("sched.easy", "firstfit-starves.swf")
	if ff["max_wait_wide"] != 29 || easy["max_wait_wide"] != 9 {
		t.Errorf("firstfit-starves.swf: the wide job waits %v under firstfit, %v under easy; want 29 and 9", ff["max_wait_wide"], easy["max_wait_wide"])
	}
	fixed, learned := sim("easy", "mixed.swf", "--estimates", "fixed"), sim("easy", "mixed.swf", "--estimates", "learned")
	if learned["utilization"] <= fixed["utilization"] {
		t.Errorf("mixed.swf: learned utilisation %v, fixed %v", learned["utilization"], fixed["utilization"])
	}
	for _, args := range [][]string{{"--policy", "bogus"}, {"--estimates", "guess"}} {
		r := run(t, dir, "", "flux", append([]string{"sched-sim"}, append(args, filepath.Join(traces, "fcfs-blocks.swf"))...)...)
		if r.code != 2 || !strings.Contains(r.stderr, args[0]) {
			t.Errorf("sched-sim %v: exit %d, stderr %q; want 2 naming %s", args, r.code, r.stderr, args[0])
		}
	}
}

// Line dependencies under flux-hierarchy: lines released after the input
// ended still reach a leaf (the tree is told the input ended only once no
// line waits), and each line gets one record.
func TestHierarchyLineDependencies(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.json"), `{"num_levels":2,"levels":[{"num_children":2,"cores_per_child":1}]}`)
	writeFile(t, filepath.Join(dir, "cmds"), strings.Join([]string{
		`sh -c 'sleep 0.3; exit 1'`,
		`--dependency=afternotok:line:1 echo AFTER`,
		`--dependency=afterok:line:1 echo NEVER`,
		`--dependency=after:line:1 echo STARTED`,
		`--dependency=afterany:line:2 echo CHAIN`,
	}, "\n")+"\n")
	r := onCores(t, dir, "0,1", "flux-hierarchy", "--config=config.json", "--quiet", "--joblog", "jl", "--command_file", "cmds")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	rows := joblog(t, filepath.Join(dir, "jl"))
	for seq, exit := range map[string]string{"1": "1", "2": "0", "3": "1", "4": "0", "5": "0"} {
		if rows[seq] == nil || rows[seq][6] != exit {
			t.Errorf("line %s: %q, want exit %s", seq, rows[seq], exit)
		}
	}
	for _, w := range []string{"AFTER", "STARTED", "CHAIN"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
		}
	}
}
