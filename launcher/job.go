package launcher

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// job is one Launch call: its tasks, their processes and how they ended.
type job struct {
	l       *Launcher
	spec    *Spec
	done    func(*Result)
	file    string   // resolved Argv[0]
	viaPath bool     // file came from a PATH search
	pathEnv string   // the PATH it was searched in
	env     *envBase // base environment
	jobVars []string // FLUX_JOB_ID, FLUX_JOB_SIZE
	tasks   []task
	pending atomic.Int32 // tasks not yet finished (reaped and drained, or failed)
	lineMu  sync.Mutex   // serialises Spec.OnLine calls
	counted bool         // counted in l.wg (set before any goroutine sees the job)

	mu         sync.Mutex // guards the fields below and every task's state and pid
	errStatus  int        // status of the first launch failure
	err        string     // its message, "" if none
	lateSig    syscall.Signal
	canceled   bool
	timedOut   bool
	hardKilled bool // the time limit needed SIGKILL
	finished   bool
	timer      *time.Timer
	exitTimer  *time.Timer // Spec.ExitTimeout, from the first task's exit
	exitKilled bool        // the exit timeout fired with tasks still running
	start, end time.Time
}

// maxCPU is the number of CPU ids a unix.CPUSet can hold.
const maxCPU = int(unsafe.Sizeof(unix.CPUSet{})) * 8

type taskState uint8

const (
	pending taskState = iota // not forked yet
	running                  // forked, main process not yet exited
	reaped                   // main process exited (its group may be killed no more)
	failed                   // never forked
)

type task struct {
	Task
	mask   unix.CPUSet
	label  []byte // "<rank>: " when Spec.LabelIO
	state  taskState
	pid    int
	status int // of a failed task: its launch status, or 128+sig if canceled first
	sig    int // of a failed task: the signal that canceled it before it was forked
	ws     unix.WaitStatus

	// The parent's read ends of the output pipes: raw fds (-1: none) until
	// the task has run for readerDelay, then files read by two goroutines
	// (outR, errR). A task that ends sooner is drained by its wait
	// goroutine alone: most tasks are short, and a reader goroutine and
	// poller registration per pipe cost more than the task's own spawn.
	outFD, errFD int
	outR, errR   *os.File
	readerOnce   sync.Once   // starts the readers, or lets wait drain: whichever comes first
	lazy         *time.Timer // starts the readers after readerDelay
	out, errs    capture
	outL, errL   lineSink
	readers      sync.WaitGroup
	files        [3]uintptr
}

func newJob(l *Launcher, spec *Spec, done func(*Result)) *job {
	return &job{l: l, spec: spec, done: done}
}

// prepare validates the spec and does the per-job work once: PATH lookup,
// environment filtering, affinity masks. It returns false on failure.
func (j *job) prepare() bool {
	spec := j.spec
	if len(spec.Argv) == 0 || spec.Argv[0] == "" {
		j.fail(statusSetup, fmt.Sprintf("job %d has no command to run", spec.JobID))
		return false
	}
	if len(spec.Tasks) == 0 {
		j.fail(statusSetup, fmt.Sprintf("job %d has no tasks to start on this node", spec.JobID))
		return false
	}
	if spec.Output == Stream && spec.OnLine == nil {
		j.fail(statusSetup, fmt.Sprintf("job %d asks for streamed output but gives no OnLine callback", spec.JobID))
		return false
	}
	if spec.Env == nil {
		j.env = &j.l.baseEnv
	} else {
		b := newEnvBase(spec.Env)
		j.env = &b
	}
	j.jobVars = jobEnv(spec)

	name := spec.Argv[0]
	j.file = name
	if !strings.Contains(name, "/") {
		j.viaPath = true
		j.pathEnv = j.env.path
		if !j.env.hasPath {
			j.pathEnv = os.Getenv("PATH")
		}
		file, status := lookPath(name, j.pathEnv, spec.Cwd)
		switch status {
		case statusNotFound:
			j.fail(status, name+": command not found")
			return false
		case statusCannotRun:
			j.fail(status, name+": permission denied")
			return false
		}
		j.file = file
	}

	j.tasks = make([]task, len(spec.Tasks))
	j.pending.Store(int32(len(j.tasks)))
	for i := range j.tasks {
		t := &j.tasks[i]
		t.Task = spec.Tasks[i]
		t.outFD, t.errFD = -1, -1 // no pipes (yet); 0 would be stdin
		if len(t.Cores) == 0 {
			t.mask = pool.full
		} else {
			for _, c := range t.Cores {
				if c < 0 || c >= maxCPU {
					j.fail(statusSetup, fmt.Sprintf("task %d: core %d is out of range 0-%d", t.Rank, c, maxCPU-1))
					return false
				}
				t.mask.Set(c)
			}
		}
		if spec.LabelIO {
			t.label = []byte(strconv.Itoa(t.Rank) + ": ")
		}
	}
	return true
}

// fail records a launch failure; the first one is reported.
func (j *job) fail(status int, msg string) {
	j.mu.Lock()
	if j.err == "" {
		j.errStatus, j.err = status, msg
	}
	j.mu.Unlock()
}

func (j *job) failed() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err != ""
}

func (j *job) startTimer() {
	if j.spec.TimeLimit <= 0 {
		return
	}
	j.mu.Lock()
	j.timer = time.AfterFunc(j.spec.TimeLimit, j.timeout)
	j.mu.Unlock()
}

func (j *job) timeout() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.finished || !j.signalLocked(syscall.SIGTERM) {
		return
	}
	j.timedOut = true
	j.lateSig = syscall.SIGTERM
	j.timer = time.AfterFunc(j.l.opt.KillGrace, func() {
		j.mu.Lock()
		defer j.mu.Unlock()
		if !j.finished && j.signalLocked(syscall.SIGKILL) {
			j.hardKilled = true
			j.lateSig = syscall.SIGKILL
		}
	})
}

// signal sends sig to the job's live process groups. With stop, the job
// counts as canceled (if anything was still alive) and tasks not yet forked
// will not be, or get sig as soon as they are.
func (j *job) signal(sig syscall.Signal, stop bool) {
	if j.l.opt.Simulate > 0 {
		simSignal(j, sig, stop) // no process group to signal
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	alive := j.signalLocked(sig)
	if stop && !j.finished {
		j.lateSig = sig
		if alive {
			j.canceled = true
		}
	}
}

// signalLocked signals every running task's group and reports whether any
// task is running or still to be forked. A task's pid is only used while the
// task is running: its main process is then alive or an unreaped zombie, so
// neither the pid nor the group id can have been reused.
func (j *job) signalLocked(sig syscall.Signal) (alive bool) {
	for i := range j.tasks {
		t := &j.tasks[i]
		switch t.state {
		case running:
			unix.Kill(-t.pid, sig)
			alive = true
		case pending:
			alive = true
		}
	}
	return alive
}

// taskFailed ends a task that was never forked: a launch failure with msg,
// or, with sig, a task canceled before its turn came.
func (j *job) taskFailed(t *task, status, sig int, msg string) {
	j.mu.Lock()
	t.state = failed
	t.status, t.sig = status, sig
	if msg != "" && j.err == "" {
		j.errStatus, j.err = status, msg
	}
	j.mu.Unlock()
	j.taskDone()
}

func (j *job) taskDone() {
	if j.pending.Add(-1) == 0 {
		j.finish()
	}
}

// finish reports the job; it runs once, after the last task is done.
func (j *job) finish() {
	j.mu.Lock()
	j.finished = true
	if j.timer != nil {
		j.timer.Stop()
	}
	if j.exitTimer != nil {
		j.exitTimer.Stop()
	}
	if j.end.IsZero() {
		j.end = time.Now()
	}
	j.mu.Unlock()
	res := j.result()
	j.l.unregister(j)
	j.l.running.Add(-1)
	if j.counted {
		defer j.l.wg.Done()
	}
	j.done(res)
}

// result aggregates the tasks' outcomes. Called once nothing else touches
// the job.
func (j *job) result() *Result {
	r := &Result{JobID: j.spec.JobID, Start: j.start, End: j.end, Status: -1}
	for i := range j.tasks {
		t := &j.tasks[i]
		var status, code, sig int
		switch {
		case t.state == failed:
			status, code, sig = t.status, t.status, t.sig
			if sig != 0 {
				code = 0 // canceled before it was forked
			}
		case t.ws.Signaled():
			sig = int(t.ws.Signal())
			status = 128 + sig
		default:
			code = t.ws.ExitStatus()
			status = code
		}
		if status > r.Status {
			r.Status, r.ExitCode, r.Signal = status, code, sig
		}
		if t.pid != 0 {
			r.Pids = append(r.Pids, t.pid)
		}
	}
	if r.Status < 0 {
		r.Status = 0
	}
	if j.err != "" {
		r.Err = j.err
		r.Status, r.ExitCode, r.Signal = j.errStatus, j.errStatus, 0
	}
	if j.exitKilled && r.Err == "" {
		// Status stays the tasks' (the killed ones' signals).
		r.Err = fmt.Sprintf("exit-timeout: a task exited and the others still ran %s later; they were killed", j.spec.ExitTimeout)
	}
	if j.timedOut {
		r.TimedOut = true
		r.Signal = int(syscall.SIGTERM)
		if j.hardKilled {
			r.Signal = int(syscall.SIGKILL)
		}
		r.Status, r.ExitCode = 128+r.Signal, 0
	}
	r.Canceled = j.canceled
	if j.spec.Output == Capture {
		r.Stdout = concat(j.tasks, func(t *task) []byte { return t.out.buf })
		r.Stderr = concat(j.tasks, func(t *task) []byte { return t.errs.buf })
	}
	return r
}

// concat joins the tasks' buffers in task order, without copying when only
// one task said anything.
func concat(tasks []task, buf func(*task) []byte) []byte {
	var only []byte
	n, parts := 0, 0
	for i := range tasks {
		if b := buf(&tasks[i]); len(b) > 0 {
			only = b
			n += len(b)
			parts++
		}
	}
	if parts <= 1 {
		return only
	}
	out := make([]byte, 0, n)
	for i := range tasks {
		out = append(out, buf(&tasks[i])...)
	}
	return out
}

// firstExit starts the exit timeout when the first task of a job of
// several exits (-o exit-timeout, as Flux's shell option): the tasks still
// running then get SIGTERM, and SIGKILL after the kill grace. Called with
// j.mu held.
func (j *job) firstExit() {
	if j.spec.ExitTimeout <= 0 || j.exitTimer != nil || len(j.tasks) < 2 {
		return
	}
	j.exitTimer = time.AfterFunc(j.spec.ExitTimeout, func() {
		j.mu.Lock()
		defer j.mu.Unlock()
		if j.finished || !j.signalLocked(syscall.SIGTERM) {
			return
		}
		j.exitKilled = true
		time.AfterFunc(j.l.opt.KillGrace, func() {
			j.mu.Lock()
			defer j.mu.Unlock()
			if !j.finished {
				j.signalLocked(syscall.SIGKILL)
			}
		})
	})
}
