package launcher

import (
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// BenchmarkLaunchTrue compares the launcher (capturing output, binding each
// worker's tasks to one core, reaping, killing the group) with a plain
// os.StartProcess+Wait loop, both with two workers, as a scheduler keeping
// two cores busy would. ns/op is per process; the launcher must reach at
// least 0.9x the raw loop's throughput.
func BenchmarkLaunchTrue(b *testing.B) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		b.Skip("no true(1) in PATH")
	}
	const workers = 2
	b.Run("raw", func(b *testing.B) {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for next.Add(1) <= int64(b.N) {
					p, err := os.StartProcess(truePath, []string{"true"}, &os.ProcAttr{})
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := p.Wait(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	})
	// A stricter baseline: the same fork/exec call the launcher uses, with
	// nothing else (no pidfd, no pipes, no binding, no group kill).
	b.Run("forkexec", func(b *testing.B) {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for next.Add(1) <= int64(b.N) {
					pid, err := syscall.ForkExec(truePath, []string{"true"}, &syscall.ProcAttr{})
					if err != nil {
						b.Error(err)
						return
					}
					var ws syscall.WaitStatus
					if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	})
	b.Run("launcher", func(b *testing.B) {
		l := New(Options{})
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				done := make(chan *Result, 1)
				spec := Spec{Argv: []string{"true"}, Tasks: []Task{{Cores: benchCores(w)}}, JobSize: 1, CoresPerTask: 1}
				for {
					id := next.Add(1)
					if id > int64(b.N) {
						return
					}
					s := spec
					s.JobID = uint64(id)
					l.Launch(&s, func(r *Result) { done <- r })
					if r := <-done; r.Status != 0 || r.Err != "" {
						b.Errorf("true: status %d, err %q", r.Status, r.Err)
						return
					}
				}
			})
		}
		wg.Wait()
	})
}

func coreCount() int {
	n := pool.full.Count()
	if n < 1 {
		return 1
	}
	return n
}

// benchCores binds worker w's tasks to one core, as the scheduler would;
// FLUX_BENCH_UNBOUND=1 leaves them unbound to measure what binding costs.
func benchCores(w int) []int {
	if os.Getenv("FLUX_BENCH_UNBOUND") != "" {
		return nil
	}
	return []int{w % coreCount()}
}
