package capacitor

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
)

// recBackend runs nothing: each job ends a moment after it is submitted,
// with the status status(line, attempt) gives. It records how many jobs
// were in it at once. The run loop is real; only the instance is not.
type recBackend struct {
	mu         sync.Mutex
	in         int
	maxIn      int
	attempts   map[uint64]int
	retryField map[uint64]int // the last Jobspec.Retry seen per line
	order      []uint64       // lines in the order they were submitted
	status     func(line uint64, attempt int) int
	results    chan *broker.ResultBatch
	lost       chan error
}

func newRec(status func(uint64, int) int) *recBackend {
	return &recBackend{attempts: map[uint64]int{}, retryField: map[uint64]int{}, status: status,
		results: make(chan *broker.ResultBatch, 1024), lost: make(chan error)}
}

func (f *recBackend) Submit(jobs []broker.Jobspec, env []string, done func(broker.SubmitReply, error)) error {
	f.mu.Lock()
	reply := broker.SubmitReply{IDs: make([]uint64, len(jobs)), Errs: make([]string, len(jobs))}
	var rb broker.ResultBatch
	for i, j := range jobs {
		f.attempts[j.Cookie]++
		f.order = append(f.order, j.Cookie)
		f.retryField[j.Cookie] = j.Retry
		reply.IDs[i] = j.Cookie
		now := time.Now()
		rb.Results = append(rb.Results, broker.JobResult{Cookie: j.Cookie, Host: "fake",
			Outcome: broker.Outcome{Status: f.status(j.Cookie, f.attempts[j.Cookie]), Start: now, End: now}})
	}
	f.in += len(jobs)
	f.maxIn = max(f.maxIn, f.in)
	f.mu.Unlock()
	go func() {
		done(reply, nil)
		time.Sleep(100 * time.Microsecond)
		f.mu.Lock()
		f.in -= len(jobs)
		f.mu.Unlock()
		f.results <- &rb
	}()
	return nil
}

func (f *recBackend) Results() <-chan *broker.ResultBatch { return f.results }
func (f *recBackend) Lost() <-chan error                  { return f.lost }
func (f *recBackend) Cancel(ids []uint64)                 {}
func (f *recBackend) Close()                              {}

func runFake(t *testing.T, f *recBackend, lines string, cfg Config) (Summary, string) {
	t.Helper()
	dir := t.TempDir()
	cmds := filepath.Join(dir, "cmds")
	os.WriteFile(cmds, []byte(lines), 0o644)
	cfg.Files, cfg.JobLog = []string{cmds}, filepath.Join(dir, "log")
	cfg.Stdout, cfg.Stderr, cfg.Quiet = io.Discard, io.Discard, true
	sum, err := RunBackend(context.Background(), func() (Backend, error) { return f, nil }, cfg)
	if err != nil {
		t.Fatal(err)
	}
	log, _ := os.ReadFile(cfg.JobLog)
	return sum, string(log)
}

func TestRunJobsCap(t *testing.T) {
	for _, jobs := range []int{1, 3, 0} {
		f := newRec(func(uint64, int) int { return 0 })
		sum, _ := runFake(t, f, strings.Repeat("true\n", 300), Config{Jobs: jobs, Window: 64, Batch: 16})
		if sum.Done != 300 {
			t.Errorf("-j %d: %d done, want 300", jobs, sum.Done)
		}
		if jobs > 0 && f.maxIn > jobs {
			t.Errorf("-j %d: %d lines in the instance at once", jobs, f.maxIn)
		}
		if jobs == 0 && f.maxIn <= 3 {
			t.Errorf("-j 0: at most %d lines at once; want no cap", f.maxIn)
		}
	}
}

func TestRunRetries(t *testing.T) {
	// Line 1 fails twice, line 2 always; line 3 succeeds.
	f := newRec(func(line uint64, attempt int) int {
		switch {
		case line == 1 && attempt <= 2, line == 2:
			return 1
		}
		return 0
	})
	sum, log := runFake(t, f, "a\nb\nc\n", Config{Defaults: Defaults{Retries: 2}})
	if sum.Done != 2 || sum.Failed != 1 || sum.Retried != 4 {
		t.Errorf("summary %+v: want 2 done, 1 failed, 4 retried", sum)
	}
	if f.attempts[1] != 3 || f.attempts[2] != 3 || f.attempts[3] != 1 || f.retryField[1] != 2 {
		t.Errorf("attempts %v, Retry fields %v: want 3, 3, 1 and the retry number sent", f.attempts, f.retryField)
	}
	if n := strings.Count(log, "\n"); n != 4 {
		t.Errorf("job log has %d lines, want a header and one record per line:\n%s", n, log)
	}
}

// Under -j a retry runs next, before the lines not started yet.
func TestRunRetryFirstUnderJobs(t *testing.T) {
	f := newRec(func(line uint64, attempt int) int {
		if line == 1 && attempt == 1 {
			return 1
		}
		return 0
	})
	runFake(t, f, "a\nb\nc\n", Config{Jobs: 1, Defaults: Defaults{Retries: 1}})
	if fmt.Sprint(f.order) != "[1 1 2 3]" {
		t.Errorf("submitted in the order %v, want [1 1 2 3]", f.order)
	}
}

func TestRunHaltSoon(t *testing.T) {
	f := newRec(func(line uint64, _ int) int {
		if line == 2 {
			return 5
		}
		return 0
	})
	h, _ := ParseHalt("soon,fail=1")
	sum, log := runFake(t, f, strings.Repeat("x\n", 10), Config{Jobs: 1, Halt: h})
	if !sum.Halted || sum.HaltCode != 5 || sum.Done != 1 || sum.Failed != 1 || len(f.attempts) != 2 {
		t.Errorf("summary %+v, lines started %d: want a halt after line 2 with its status 5", sum, len(f.attempts))
	}
	if sum.ExitCode(false) != 5 {
		t.Errorf("exit code %d, want 5", sum.ExitCode(false))
	}
	if strings.Count(log, "\n") != 3 {
		t.Errorf("job log:\n%s\nwant lines 1 and 2 only", log)
	}
}

// Under -j the queue never empties while the input lasts; its array must
// not grow with the input.
func TestRunQueueBounded(t *testing.T) {
	f := newRec(func(uint64, int) int { return 0 })
	r := &runner{cfg: Config{Jobs: 1, Batch: 8}, be: f, inflight: map[uint64]*pending{}, replies: make(chan submitReply, 64)}
	for i := 0; i < 10; i++ {
		r.queue = append(r.queue, &pending{it: item{line: Line{Seq: i}}})
	}
	for i := 10; i < 500; i++ {
		r.queue = append(r.queue, &pending{it: item{line: Line{Seq: i}}})
		r.active = 0
		r.pump()
		<-r.replies
		<-f.results
		if cap(r.queue) > 64 {
			t.Fatalf("after %d lines the queue's array holds %d", i, cap(r.queue))
		}
	}
}
