package capacitor

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
)

// fakeBackend runs jobs without processes: a job whose command is "fail"
// exits 1, "slow" ends after 50 ms, anything else exits 0 at once. It
// records the order in which jobs were submitted.
type fakeBackend struct {
	mu        sync.Mutex
	nextID    uint64
	submitted []uint64 // cookies
	results   chan *broker.ResultBatch
	lost      chan error
}

func newFake() *fakeBackend {
	return &fakeBackend{results: make(chan *broker.ResultBatch, 1024), lost: make(chan error, 1)}
}

func (f *fakeBackend) Submit(jobs []broker.Jobspec, env []string, done func(broker.SubmitReply, error)) error {
	f.mu.Lock()
	reply := broker.SubmitReply{IDs: make([]uint64, len(jobs)), Errs: make([]string, len(jobs))}
	for i, j := range jobs {
		f.nextID++
		reply.IDs[i] = f.nextID
		f.submitted = append(f.submitted, j.Cookie)
	}
	f.mu.Unlock()
	go func() {
		done(reply, nil)
		for i, j := range jobs {
			status := 0
			switch j.Argv[0] {
			case "fail":
				status = 1
			case "slow":
				time.Sleep(50 * time.Millisecond)
			}
			now := time.Now()
			f.results <- &broker.ResultBatch{Results: []broker.JobResult{{ID: reply.IDs[i], Cookie: j.Cookie, Host: "fake",
				Outcome: broker.Outcome{Status: status, ExitCode: status, Start: now, End: now}}}}
		}
	}()
	return nil
}

func (f *fakeBackend) Results() <-chan *broker.ResultBatch { return f.results }
func (f *fakeBackend) Lost() <-chan error                  { return f.lost }
func (f *fakeBackend) Cancel(ids []uint64)                 {}
func (f *fakeBackend) Close()                              {}

// The runner's line dependencies against a fake instance: every line ends
// in exactly one record, lines wait for the lines they name, failures
// propagate down a chain, and a window of 2 full of waiting lines drains.
func TestLineDependencyRunner(t *testing.T) {
	dir := t.TempDir()
	lines := []string{
		"slow",                              // 1
		"--dependency=afterok:line:1 ok",    // 2
		"--dependency=afterok:line:2 ok",    // 3 (chain)
		"--dependency=afternotok:line:1 ok", // 4 never: 1 succeeds
		"--dependency=afterok:line:4 ok",    // 5 never: 4 never ran
		"--dependency=afterany:line:4 ok",   // 6 runs: 4 ended
		"--dependency=after:line:1 ok",      // 7 runs: 1 started
		"fail",                              // 8
		"--dependency=afternotok:line:8 ok", // 9 runs
		"--dependency=after:line:5 ok",      // 10 never: 5 never started
		"--dependency=afterok:line:1 --dependency=afterok:line:8 ok", // 11 never: 8 failed
	}
	for range 10 {
		lines = append(lines, "--dependency=afterok:line:1 ok") // 12-21: a full window waiting on 1
	}
	file := filepath.Join(dir, "cmds")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fake := newFake()
	var out, errb bytes.Buffer
	logPath := filepath.Join(dir, "log")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sum, err := RunBackend(ctx, func() (Backend, error) { return fake, nil }, Config{
		Files: []string{file}, Window: 2, Batch: 1, Quiet: true, Stdout: &out, Stderr: &errb, JobLog: logPath})
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the run did not end: a deadlock")
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	exit := map[string]string{}
	for _, row := range strings.Split(strings.TrimSpace(string(log)), "\n")[1:] {
		f := strings.Split(row, "\t")
		if _, dup := exit[f[0]]; dup {
			t.Errorf("two records for line %s", f[0])
		}
		exit[f[0]] = f[6]
	}
	want := map[string]string{"1": "0", "2": "0", "3": "0", "4": "1", "5": "1", "6": "0", "7": "0", "8": "1", "9": "0", "10": "1", "11": "1"}
	for i := 12; i <= 21; i++ {
		want[strconv.Itoa(i)] = "0"
	}
	for seq, e := range want {
		if exit[seq] != e {
			t.Errorf("line %s: exit %q, want %s", seq, exit[seq], e)
		}
	}
	if len(exit) != len(want) {
		t.Errorf("%d records, want %d", len(exit), len(want))
	}
	if sum.Failed != 5 || sum.Done != 16 || sum.Errors != 0 {
		t.Errorf("summary %+v", sum)
	}
	// Nothing that depends on line 1 was submitted before line 1's record
	// (after:line:1 aside, which needs it only started).
	fake.mu.Lock()
	defer fake.mu.Unlock()
	for i, c := range fake.submitted {
		if c == 1 {
			break
		}
		t.Errorf("line %d was submitted (position %d) before line 1", c, i)
	}
	for _, w := range []string{"line 4: dependency afternotok:line:1 failed", "line 5: dependency afterok:line:4 failed",
		"line 10: dependency after:line:5 failed", "line 11: dependency afterok:line:8 failed"} {
		if !strings.Contains(errb.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, errb.String())
		}
	}
}
