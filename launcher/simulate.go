package launcher

import (
	"container/heap"
	"sync"
	"syscall"
	"time"
)

// Simulated execution (Options.Simulate, Flux's exec.test.run_duration): a job
// forks nothing and "runs" for a fixed time, so that a tree of a thousand
// simulated cores can be measured on a laptop. The cost must stay far below
// the simulated run time at 100,000 jobs a second, so there is no timer or
// goroutine per job: each Launcher with live simulated jobs has ONE goroutine
// that sleeps until the earliest deadline in a min-heap, ends every job due
// by then, and sleeps again. It exits when the heap is empty and is started
// again by the next Launch, so an idle Launcher holds nothing.
//
// A simulated job is a *job like any other, registered in Launcher.jobs and
// counted in running and wg, so Kill, Shutdown, Running and the duplicate-id
// and shut-down checks work unchanged; job.signal hands a simulated job to
// simSignal instead of signalling process groups it does not have.
//
// done is called on the simulator goroutine, one job at a time, in deadline
// order (launch order for equal deadlines). A done that blocks holds back the
// ends of the Launcher's other simulated jobs (their End shows it), never
// their results. Launch and Kill never call done themselves, as with real
// jobs, so a caller may call them with a lock its done callback takes.

// simJob is one simulated job in its Launcher's heap.
type simJob struct {
	j        *job
	start    time.Time
	at       int64  // deadline, nanoseconds of simClock
	seq      uint64 // launch order, breaks ties between equal deadlines
	idx      int    // index in the heap; -1 once popped
	sig      syscall.Signal
	timedOut bool // the deadline is the job's time limit, not Simulate
}

// simulator is the per-Launcher state of simulated execution.
type simulator struct {
	l    *Launcher
	wake chan struct{} // 1-buffered: a new earliest deadline, or a Kill

	mu      sync.Mutex       // guards the fields below
	heap    simHeap          // live jobs by deadline
	live    map[*job]*simJob // the same jobs, for simSignal
	seq     uint64           // last seq handed out
	running bool             // the goroutine runs (and owns the exit decision)
}

// sims holds the simulator of every Launcher with live simulated jobs. Lock
// order: sims.mu, then simulator.mu, then Launcher.mu.
var sims struct {
	mu sync.Mutex
	m  map[*Launcher]*simulator
}

// simEpoch is the zero of simClock; time.Since reads the monotonic clock, so
// deadlines are immune to wall-clock steps.
var simEpoch = time.Now()

func simClock() int64 { return int64(time.Since(simEpoch)) }

// simulate is Launch for Options.Simulate > 0: it admits the job, puts it in
// the heap, and returns. Nothing about the spec is checked beyond what
// admission checks: the command is never run.
func (l *Launcher) simulate(spec *Spec, done func(*Result)) {
	for _, t := range spec.Tasks { // nothing forks: no task inherits them
		for _, f := range t.Files {
			f.Close()
		}
	}
	j := newJob(l, spec, done)
	l.running.Add(1)
	if !l.admit(j, false) {
		go j.finish()
		return
	}
	d, timedOut := l.opt.Simulate, false
	if spec.TimeLimit > 0 && spec.TimeLimit < d {
		d, timedOut = spec.TimeLimit, true
	}
	now := time.Now()
	e := &simJob{j: j, start: now, at: int64(now.Sub(simEpoch) + d), timedOut: timedOut}

	s := lockSimulator(l)
	// Registering under s.mu means Kill can only find the job once it is
	// in the heap, so no Kill is lost.
	if !l.admit(j, true) {
		s.mu.Unlock()
		go j.finish()
		return
	}
	s.seq++
	e.seq = s.seq
	heap.Push(&s.heap, e)
	s.live[j] = e
	first := e.idx == 0
	if !s.running {
		s.running = true
		go s.run()
	} else if first {
		s.poke()
	}
	s.mu.Unlock()
}

// lockSimulator returns l's simulator, created if needed, with its mu held.
func lockSimulator(l *Launcher) *simulator {
	sims.mu.Lock()
	s := sims.m[l]
	if s == nil {
		if sims.m == nil {
			sims.m = make(map[*Launcher]*simulator)
		}
		s = &simulator{l: l, wake: make(chan struct{}, 1), live: make(map[*job]*simJob)}
		sims.m[l] = s
	}
	s.mu.Lock()
	sims.mu.Unlock()
	return s
}

// simSignal is job.signal for a simulated job. A terminating signal (stop)
// ends the job at once: Status 128+sig, Signal sig, Canceled. Any other
// signal is taken by the simulated tasks without effect, as by a task that
// handles it. A job already due is left to end normally, as a process that
// exited just before the signal came.
func simSignal(j *job, sig syscall.Signal, stop bool) {
	if !stop {
		return
	}
	sims.mu.Lock()
	s := sims.m[j.l]
	if s == nil {
		sims.mu.Unlock()
		return
	}
	s.mu.Lock()
	sims.mu.Unlock()
	defer s.mu.Unlock()
	e := s.live[j]
	if e == nil || e.idx < 0 || e.sig != 0 {
		return
	}
	e.sig, e.timedOut = sig, false
	e.at = simClock()
	heap.Fix(&s.heap, e.idx)
	s.poke()
}

// poke wakes the goroutine without ever blocking. Called with s.mu held.
func (s *simulator) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run is the simulator goroutine: end every due job, sleep until the next
// deadline or a poke, and exit once no job is left.
func (s *simulator) run() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var due []*simJob // reused: the jobs due in one pass
	for {
		s.mu.Lock()
		now := simClock()
		due = due[:0]
		for len(s.heap) > 0 && s.heap[0].at <= now {
			e := heap.Pop(&s.heap).(*simJob)
			delete(s.live, e.j)
			due = append(due, e)
		}
		var wait time.Duration
		if len(s.heap) > 0 {
			wait = time.Duration(s.heap[0].at - now)
		}
		s.mu.Unlock()

		if len(due) > 0 {
			end := time.Now()
			for i, e := range due {
				s.end(e, end)
				due[i] = nil // no reference to a finished job
			}
			continue // the callbacks took time: look again before sleeping
		}
		if wait == 0 {
			if s.exit() {
				return
			}
			continue
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-s.wake:
			timer.Stop()
		}
	}
}

// exit removes the simulator when it has no job left, so an idle Launcher
// holds no goroutine and no entry in sims. A Launch racing with this finds
// either the old simulator still running or none and makes a new one.
func (s *simulator) exit() bool {
	sims.mu.Lock()
	defer sims.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.heap) > 0 {
		return false
	}
	delete(sims.m, s.l)
	s.running = false
	return true
}

// end reports a simulated job, as job.finish does for a real one.
func (s *simulator) end(e *simJob, end time.Time) {
	j := e.j
	r := &Result{JobID: j.spec.JobID, Start: e.start, End: end}
	switch {
	case e.sig != 0:
		r.Signal, r.Status, r.Canceled = int(e.sig), 128+int(e.sig), true
	case e.timedOut:
		r.Signal, r.Status, r.TimedOut = int(syscall.SIGTERM), 128+int(syscall.SIGTERM), true
	}
	j.mu.Lock()
	j.finished = true
	j.start, j.end = e.start, end
	j.mu.Unlock()
	j.l.unregister(j)
	j.l.running.Add(-1)
	defer j.l.wg.Done()
	j.done(r)
}

// simHeap is a min-heap of simulated jobs by deadline, then launch order.
type simHeap []*simJob

func (h simHeap) Len() int { return len(h) }
func (h simHeap) Less(a, b int) bool {
	if h[a].at != h[b].at {
		return h[a].at < h[b].at
	}
	return h[a].seq < h[b].seq
}
func (h simHeap) Swap(a, b int) {
	h[a], h[b] = h[b], h[a]
	h[a].idx, h[b].idx = a, b
}
func (h *simHeap) Push(x any) {
	e := x.(*simJob)
	e.idx = len(*h)
	*h = append(*h, e)
}
func (h *simHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.idx = -1
	return e
}
