package launcher

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Launcher starts jobs' task processes on this node. It is safe for
// concurrent use.
type Launcher struct {
	opt     Options
	baseEnv envBase // the launcher's environment at New, pre-filtered

	running atomic.Int64   // jobs whose done callback has not been called
	wg      sync.WaitGroup // one per job until its done callback returned

	mu     sync.Mutex      // guards jobs and closed
	jobs   map[uint64]*job // live jobs by id, for Kill and Shutdown
	closed bool            // Shutdown was called: Launch refuses new jobs
}

// New returns a Launcher. Spawner threads are shared by all Launchers of the
// process and started on first use.
func New(opt Options) *Launcher {
	spawners() // pool.full must be known before the first job is prepared
	if opt.KillGrace <= 0 {
		opt.KillGrace = defaultKillGrace
	}
	if opt.OutputLimit == 0 {
		opt.OutputLimit = defaultOutputLimit
	}
	return &Launcher{
		opt:     opt,
		baseEnv: newEnvBase(os.Environ()),
		jobs:    make(map[uint64]*job),
	}
}

// Launch starts spec's tasks and returns without waiting. done is called
// exactly once, from a launcher goroutine, after every task process is reaped
// and every output pipe is drained — also when nothing could be started, with
// Result.Err saying why.
func (l *Launcher) Launch(spec *Spec, done func(*Result)) {
	if l.opt.Simulate > 0 {
		l.simulate(spec, done)
		return
	}
	j := newJob(l, spec, done)
	l.running.Add(1)
	if !l.admit(j, false) || !j.prepare() || !l.admit(j, true) {
		go j.finish()
		return
	}
	j.startTimer()
	for i := range j.tasks {
		submit(spawnReq{j: j, i: i}, j.tasks[i].Cores)
	}
}

// admit checks, under l.mu, that the launcher is not shut down. The first
// call counts the job in l.wg (so Add never races with Shutdown's Wait on a
// zero counter); the second, after prepare, makes it known to Kill and
// Shutdown by id.
func (l *Launcher) admit(j *job, register bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		j.fail(statusSetup, "launcher is shutting down; job not started")
		return false
	case !register:
		l.wg.Add(1)
		j.counted = true
		return true
	case l.jobs[j.spec.JobID] != nil:
		j.fail(statusSetup, fmt.Sprintf("job %d is already running on this node; job ids must be unique", j.spec.JobID))
		return false
	}
	l.jobs[j.spec.JobID] = j
	return true
}

// Kill sends sig to every task process group of the job. It returns false if
// the job is unknown (never launched, or already done). A terminating signal
// (HUP, INT, QUIT, KILL, TERM) marks the job Canceled, and tasks of the job
// not yet forked are not started.
func (l *Launcher) Kill(jobID uint64, sig syscall.Signal) bool {
	l.mu.Lock()
	j := l.jobs[jobID]
	l.mu.Unlock()
	if j == nil {
		return false
	}
	j.signal(sig, terminating(sig))
	return true
}

// Running returns the number of jobs whose done callback has not been called.
func (l *Launcher) Running() int { return int(l.running.Load()) }

// Shutdown refuses new jobs, sends SIGTERM to every live job's process
// groups, SIGKILL after Options.KillGrace (or as soon as ctx ends), and
// returns once every done callback has run.
func (l *Launcher) Shutdown(ctx context.Context) {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.signalAll(syscall.SIGTERM)

	allDone := make(chan struct{})
	go func() {
		l.wg.Wait()
		close(allDone)
	}()
	grace := time.NewTimer(l.opt.KillGrace)
	defer grace.Stop()
	select {
	case <-allDone:
		return
	case <-grace.C:
	case <-ctx.Done():
	}
	l.signalAll(syscall.SIGKILL)
	<-allDone
}

func (l *Launcher) signalAll(sig syscall.Signal) {
	l.mu.Lock()
	jobs := make([]*job, 0, len(l.jobs))
	for _, j := range l.jobs {
		jobs = append(jobs, j)
	}
	l.mu.Unlock()
	for _, j := range jobs {
		j.signal(sig, true)
	}
}

func (l *Launcher) unregister(j *job) {
	l.mu.Lock()
	if l.jobs[j.spec.JobID] == j {
		delete(l.jobs, j.spec.JobID)
	}
	l.mu.Unlock()
}

// terminating reports whether sig asks a job to stop, so that sending it
// counts as canceling the job.
func terminating(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGKILL, syscall.SIGTERM:
		return true
	}
	return false
}
