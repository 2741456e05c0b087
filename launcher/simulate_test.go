package launcher

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// simSpec is a job whose command does not exist: a simulated job never runs
// it, so a fork would show up as Status 127.
func simSpec(id uint64) *Spec {
	return &Spec{JobID: id, Argv: []string{"flux-simulated-no-such-command"}, Tasks: tasks(2)}
}

func TestSimulateManyJobs(t *testing.T) {
	const d = time.Millisecond
	l := New(Options{Simulate: d})
	const n = 20000
	var wg sync.WaitGroup
	var bad atomic.Int64
	var first atomic.Pointer[Result]
	wg.Add(n)
	t0 := time.Now()
	for i := range n {
		l.Launch(simSpec(uint64(i+1)), func(r *Result) {
			if r.Status != 0 || r.Err != "" || r.Signal != 0 || r.Canceled || r.TimedOut ||
				r.Pids != nil || r.Stdout != nil || r.Stderr != nil ||
				r.Start.IsZero() || r.End.Sub(r.Start) < d {
				bad.Add(1)
				first.CompareAndSwap(nil, r)
			}
			wg.Done()
		})
	}
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d bad results, the first: %+v", bad.Load(), *first.Load())
	}
	t.Logf("%d jobs of %v launched at once ended after %v", n, d, time.Since(t0))
	if l.Running() != 0 {
		t.Errorf("Running() = %d after every done", l.Running())
	}
	waitSimIdle(t, l)
}

// waitSimIdle checks that the simulator goroutine of an idle Launcher exits
// and leaves nothing behind.
func waitSimIdle(t *testing.T, l *Launcher) {
	t.Helper()
	for range 500 {
		sims.mu.Lock()
		s := sims.m[l]
		sims.mu.Unlock()
		if s == nil {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Errorf("the simulator of an idle Launcher is still there")
}

// TestSimulateSlots keeps 1,024 slots busy, as a scheduler would: every done
// launches the next job. The elapsed time must be close to the ideal.
func TestSimulateSlots(t *testing.T) {
	const (
		d     = 2 * time.Millisecond
		slots = 1024
		n     = 50 * slots
	)
	l := New(Options{Simulate: d})
	var next atomic.Uint64
	finished := make(chan struct{})
	var ended atomic.Int64
	var launch func()
	launch = func() {
		id := next.Add(1)
		if id > n {
			return
		}
		l.Launch(simSpec(id), func(r *Result) {
			if r.Status != 0 {
				t.Errorf("job %d: %+v", r.JobID, r)
			}
			if ended.Add(1) == n {
				close(finished)
			}
			launch()
		})
	}
	t0 := time.Now()
	for range slots {
		launch()
	}
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		t.Fatalf("%d of %d jobs ended", ended.Load(), n)
	}
	el := time.Since(t0)
	ideal := n / slots * d
	t.Logf("%d jobs of %v over %d slots: %v (ideal %v, %.0f jobs/s)", n, d, slots, el, ideal, float64(n)/el.Seconds())
	if el > 50*ideal { // generous: -race and other engineers share the 2 cores
		t.Errorf("took %v, ideal %v", el, ideal)
	}
}

// TestSimulateOrder: jobs end in deadline order, whatever the launch order,
// and equal deadlines in launch order.
func TestSimulateOrder(t *testing.T) {
	l := New(Options{Simulate: time.Hour})
	var mu sync.Mutex
	var order []uint64
	var wg sync.WaitGroup
	// Time limits shorter than Simulate set the deadlines: 60, 40, 20 ms, and
	// two at 80 ms.
	limits := []time.Duration{60, 40, 20, 80, 80}
	wg.Add(len(limits))
	for i, ms := range limits {
		spec := simSpec(uint64(i + 1))
		spec.TimeLimit = ms * time.Millisecond
		l.Launch(spec, func(r *Result) {
			if !r.TimedOut || r.Signal != int(syscall.SIGTERM) || r.Status != 143 || r.Canceled {
				t.Errorf("job %d at its time limit: %+v", r.JobID, r)
			}
			if got := r.End.Sub(r.Start); got < spec.TimeLimit {
				t.Errorf("job %d ran %v, its limit is %v", r.JobID, got, spec.TimeLimit)
			}
			mu.Lock()
			order = append(order, r.JobID)
			mu.Unlock()
			wg.Done()
		})
	}
	wg.Wait()
	want := []uint64{3, 2, 1, 4, 5}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("jobs ended in order %v, want %v", order, want)
		}
	}
}

func TestSimulateKill(t *testing.T) {
	l := New(Options{Simulate: time.Hour})
	results := make(chan *Result, 3)
	for id := uint64(1); id <= 3; id++ {
		l.Launch(simSpec(id), func(r *Result) { results <- r })
	}
	if l.Running() != 3 {
		t.Fatalf("Running() = %d, want 3", l.Running())
	}
	// A signal that does not terminate leaves the job running.
	if !l.Kill(2, syscall.SIGUSR1) {
		t.Fatal("Kill of a live job returned false")
	}
	t0 := time.Now()
	if !l.Kill(2, syscall.SIGKILL) {
		t.Fatal("Kill of a live job returned false")
	}
	var r *Result
	select {
	case r = <-results:
	case <-time.After(5 * time.Second):
		t.Fatal("Kill did not end the job")
	}
	if r.JobID != 2 || r.Status != 137 || r.Signal != 9 || r.ExitCode != 0 || !r.Canceled || r.TimedOut || r.Err != "" {
		t.Errorf("killed job: %+v", r)
	}
	if el := time.Since(t0); el > time.Second {
		t.Errorf("Kill took %v to end the job", el)
	}
	if l.Kill(2, syscall.SIGKILL) || l.Kill(99, syscall.SIGKILL) {
		t.Error("Kill of an ended or unknown job returned true")
	}
	// Launch of a duplicate id fails; the live job is untouched.
	dup := make(chan *Result, 1)
	l.Launch(simSpec(1), func(r *Result) { dup <- r })
	if r := <-dup; r.Status != 1 || r.Err != "job 1 is already running on this node; job ids must be unique" {
		t.Errorf("duplicate id: %+v", r)
	}
	l.Kill(1, syscall.SIGTERM)
	if r := <-results; r.JobID != 1 || r.Status != 143 || !r.Canceled {
		t.Errorf("job 1: %+v", r)
	}
	if l.Running() != 1 {
		t.Errorf("Running() = %d, want 1", l.Running())
	}
	l.Kill(3, syscall.SIGINT)
	<-results
	waitSimIdle(t, l)
}

func TestSimulateShutdown(t *testing.T) {
	l := New(Options{Simulate: time.Hour, KillGrace: time.Hour})
	const n = 100
	var canceled atomic.Int64
	for id := uint64(1); id <= n; id++ {
		l.Launch(simSpec(id), func(r *Result) {
			if r.Canceled && r.Signal == int(syscall.SIGTERM) && r.Status == 143 {
				canceled.Add(1)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t0 := time.Now()
	l.Shutdown(ctx) // returns after every done
	if el := time.Since(t0); el > 5*time.Second || ctx.Err() != nil {
		t.Fatalf("Shutdown took %v", el)
	}
	if canceled.Load() != n || l.Running() != 0 {
		t.Errorf("%d of %d jobs canceled by SIGTERM; Running() = %d", canceled.Load(), n, l.Running())
	}
	after := make(chan *Result, 1)
	l.Launch(simSpec(1), func(r *Result) { after <- r })
	if r := <-after; r.Status != 1 || r.Err == "" {
		t.Errorf("Launch after Shutdown: %+v", r)
	}
	waitSimIdle(t, l)
}

// TestSimulateLaunchersIndependent: a done that blocks on one Launcher does
// not hold back another Launcher's jobs.
func TestSimulateLaunchersIndependent(t *testing.T) {
	a := New(Options{Simulate: time.Millisecond})
	b := New(Options{Simulate: time.Millisecond})
	release := make(chan struct{})
	aDone := make(chan struct{})
	a.Launch(simSpec(1), func(*Result) { <-release; close(aDone) })
	bDone := make(chan struct{})
	b.Launch(simSpec(1), func(*Result) { close(bDone) })
	select {
	case <-bDone:
	case <-time.After(5 * time.Second):
		t.Fatal("b's job waited for a's done callback")
	}
	close(release)
	<-aDone
}

// BenchmarkSimulate measures how many simulated jobs one Launcher ends per
// second with 1,024 slots kept busy (each done launches the next job): with
// 1µs jobs that is the simulator's own cost; with 10ms jobs it is the
// flux-hierarchy scale test (1,024 cores), whose ideal is 102,400 jobs/s.
func BenchmarkSimulate(b *testing.B) {
	for _, tc := range []struct {
		name string
		d    time.Duration
	}{{"1us", time.Microsecond}, {"10ms", 10 * time.Millisecond}} {
		b.Run(tc.name, func(b *testing.B) {
			const slots = 1024
			l := New(Options{Simulate: tc.d})
			n := uint64(b.N)
			var next, ended atomic.Uint64
			finished := make(chan struct{})
			var launch func()
			launch = func() {
				id := next.Add(1)
				if id > n {
					return
				}
				l.Launch(&Spec{JobID: id, Argv: []string{"true"}, Tasks: tasks(1)}, func(*Result) {
					if ended.Add(1) == n {
						close(finished)
					}
					launch()
				})
			}
			b.ResetTimer()
			t0 := time.Now()
			for range slots {
				launch()
			}
			<-finished
			el := time.Since(t0)
			b.ReportMetric(float64(b.N)/el.Seconds(), "jobs/s")
			if tc.d >= time.Millisecond {
				ideal := time.Duration((b.N+slots-1)/slots) * tc.d
				b.ReportMetric(float64(ideal)/float64(el)*100, "%ideal")
			}
		})
	}
}
