package launcher

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// sysAttr is shared by every fork; ForkExec only reads it. Each task gets its
// own process group, so one kill(-pgid) reaches everything it started, and
// dies with the launcher (Pdeathsig, tied to the never-exiting spawner thread).
var sysAttr = syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

// fork starts task i. It runs on spawner s's locked thread, so the child
// inherits the affinity set by s.bind.
func (j *job) fork(i int, s *spawner) {
	t := &j.tasks[i]
	spec := j.spec
	defer func() { // the child has its copies (or will never run)
		for _, f := range t.Files {
			f.Close()
		}
	}()
	j.mu.Lock()
	sig := j.lateSig
	j.mu.Unlock()
	if sig != 0 {
		j.taskFailed(t, 128+int(sig), int(sig), "")
		return
	}

	files := [3]uintptr{uintptr(pool.devNull), 0, 0}
	var childFD [2]int // parent's copies of the child's ends, closed after fork
	switch spec.Output {
	case File:
		path, fd, err := j.openOutput(t, j.spec.OutputTemplate)
		if err != nil {
			j.taskFailed(t, statusSetup, 0, fmt.Sprintf("cannot open output file %s: %v; check --output and that the directory exists and is writable", path, err))
			return
		}
		files[1], files[2] = uintptr(fd), uintptr(fd)
		childFD = [2]int{fd, -1}
		if j.spec.ErrorTemplate != "" {
			path, efd, err := j.openOutput(t, j.spec.ErrorTemplate)
			if err != nil {
				syscall.Close(fd)
				j.taskFailed(t, statusSetup, 0, fmt.Sprintf("cannot open error file %s: %v; check --error and that the directory exists and is writable", path, err))
				return
			}
			files[2] = uintptr(efd)
			childFD[1] = efd
		}
	default:
		var err error
		var outW, errW int
		if t.outFD, outW, err = pipe(); err == nil {
			if t.errFD, errW, err = pipe(); err != nil {
				syscall.Close(t.outFD)
				syscall.Close(outW)
			}
		}
		if err != nil {
			t.outFD, t.errFD = -1, -1
			j.taskFailed(t, statusSetup, 0, fmt.Sprintf("cannot create output pipes: %v (raise ulimit -n?)", err))
			return
		}
		files[1], files[2] = uintptr(outW), uintptr(errW)
		childFD = [2]int{outW, errW}
	}
	closeChild := func() {
		for _, fd := range childFD {
			if fd >= 0 {
				syscall.Close(fd)
			}
		}
	}
	closeParent := func() {
		if t.outFD >= 0 {
			syscall.Close(t.outFD)
			syscall.Close(t.errFD)
			t.outFD, t.errFD = -1, -1
		}
	}

	if j.l.opt.NoBind {
		// simulated cores: nothing to bind to
	} else if err := s.bind(&t.mask); err != nil {
		closeChild()
		closeParent()
		j.taskFailed(t, statusSetup, 0, fmt.Sprintf("task %d: cannot bind to cores %s: %v", t.Rank, joinInts(t.Cores), err))
		return
	}
	fds := files[:]
	if len(t.Files) > 0 {
		fds = make([]uintptr, 3, 3+len(t.Files))
		copy(fds, files[:])
		for _, f := range t.Files {
			fds = append(fds, f.Fd())
		}
	}
	pid, err := syscall.ForkExec(j.file, spec.Argv, &syscall.ProcAttr{
		Dir:   spec.Cwd,
		Env:   taskEnv(j.env, j.jobVars, spec, &t.Task),
		Files: fds,
		Sys:   &sysAttr,
	})
	closeChild()
	if err != nil {
		closeParent()
		if j.viaPath && errors.Is(err, syscall.ENOENT) {
			forgetPath(j.pathEnv, spec.Argv[0]) // the cached file is gone
		}
		status, msg := execFailure(spec.Argv[0], j.file, spec.Cwd, j.viaPath, err)
		j.taskFailed(t, status, 0, msg)
		return
	}

	now := time.Now()
	j.mu.Lock()
	t.pid, t.state = pid, running
	if j.start.IsZero() {
		j.start = now
	}
	sig = j.lateSig // Kill or the time limit came while we were forking
	j.mu.Unlock()
	if sig != 0 {
		unix.Kill(-pid, sig)
	}
	if t.outFD >= 0 {
		t.lazy = time.AfterFunc(readerDelay, func() { j.startReaders(t) })
	}
	go j.wait(t)
}

func (j *job) sinks(t *task) (out, errs sink) {
	if j.spec.Output == Stream {
		rank := t.Rank
		t.outL = lineSink{label: t.label, max: maxLine, emit: func(line []byte) { j.emitLine(rank, false, line) }}
		t.errL = lineSink{label: t.label, max: maxLine, emit: func(line []byte) { j.emitLine(rank, true, line) }}
		return &t.outL, &t.errL
	}
	limit := j.l.opt.OutputLimit
	if j.spec.OutputLimit != 0 {
		limit = j.spec.OutputLimit
	}
	t.out = capture{limit: limit, label: t.label}
	t.errs = capture{limit: limit, label: t.label}
	return &t.out, &t.errs
}

func (j *job) emitLine(rank int, stderr bool, line []byte) {
	j.lineMu.Lock()
	defer j.lineMu.Unlock()
	j.spec.OnLine(rank, stderr, line)
}

// openOutput opens a File mode task's output file for appending, so tasks
// and jobs sharing a path add to it instead of clobbering each other.
func (j *job) openOutput(t *task, tmpl string) (string, int, error) {
	if tmpl == "" {
		tmpl = DefaultOutputTemplate
	}
	path := expandTemplate(tmpl, j.spec.JobID, j.spec.Line, t.Rank)
	if j.spec.Cwd != "" && !filepath.IsAbs(path) {
		path = filepath.Join(j.spec.Cwd, path)
	}
	fd, err := syscall.Open(path, syscall.O_CREAT|syscall.O_WRONLY|syscall.O_APPEND|syscall.O_CLOEXEC, 0o644)
	return path, fd, err
}

// pipe returns a pipe whose read end is non-blocking (served by the Go
// netpoller, so a reader costs no thread) and whose write end, given to the
// child, stays blocking. Both are close-on-exec until ForkExec dup2s the
// write end onto the child's stdout or stderr, so concurrent forks on other
// spawner threads do not inherit them (which would delay EOF).
// pipe returns a pipe's read end (non-blocking, close-on-exec) and write end
// (blocking, for the child).
func pipe() (r, w int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return -1, -1, err
	}
	if _, err := unix.FcntlInt(uintptr(p[0]), unix.F_SETFL, unix.O_NONBLOCK); err != nil {
		syscall.Close(p[0])
		syscall.Close(p[1])
		return -1, -1, err
	}
	return p[0], p[1], nil
}

// readerDelay is how long a task runs before its output gets reader
// goroutines; a task that writes more than a pipe holds (64 KiB) in that
// time waits for them at most this long.
const readerDelay = 5 * time.Millisecond

// startReaders gives a still-running task's pipes their reader goroutines,
// unless its wait goroutine has already drained them.
func (j *job) startReaders(t *task) {
	t.readerOnce.Do(func() {
		t.outR, t.errR = os.NewFile(uintptr(t.outFD), "|"), os.NewFile(uintptr(t.errFD), "|")
		outS, errS := j.sinks(t)
		t.readers.Add(2)
		go func() { drain(t.outR, outS); t.readers.Done() }()
		go func() { drain(t.errR, errS); t.readers.Done() }()
	})
}

// drainNow reads what a pipe holds without the poller. It reports false
// when a writer is still there (EAGAIN: a process that escaped the group),
// leaving the sink open.
func drainNow(fd int, s sink) bool {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	for {
		n, err := syscall.Read(fd, *bp)
		switch {
		case n > 0:
			s.write((*bp)[:n])
		case err == syscall.EINTR:
		case err == syscall.EAGAIN:
			return false
		default: // EOF, or an error: nothing more will come
			s.close()
			return true
		}
	}
}

// wait reaps task t's main process. It first waits without reaping: while
// the main process is a zombie its pid, and so its process group id, cannot
// be reused, which makes killing the group safe. Killing the group removes
// any background process the task left (no orphans) and closes the pipes
// they held. Then the output is drained.
func (j *job) wait(t *task) {
	var info unix.Siginfo
	var err error
	for {
		err = unix.Waitid(unix.P_PID, t.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	if err == nil {
		unix.Kill(-t.pid, unix.SIGKILL)
	}
	j.mu.Lock()
	t.state = reaped
	j.mu.Unlock()
	var ws unix.WaitStatus
	if err == nil {
		for {
			_, err = unix.Wait4(t.pid, &ws, 0, nil)
			if err != unix.EINTR {
				break
			}
		}
	}
	now := time.Now()
	j.mu.Lock()
	if err != nil {
		ws = unix.WaitStatus(statusSetup << 8) // exited with statusSetup
		if j.err == "" {
			j.errStatus = statusSetup
			j.err = fmt.Sprintf("task %d (pid %d): exit status lost: %v (was the process reaped by someone else?)", t.Rank, t.pid, err)
		}
	}
	t.ws = ws
	if now.After(j.end) {
		j.end = now
	}
	j.firstExit()
	j.mu.Unlock()
	if t.outFD >= 0 {
		ours := false
		t.readerOnce.Do(func() { ours = true })
		// Only a process that left the group (setsid) can still hold the
		// pipes; it must not keep the job alive.
		deadline := now.Add(drainTimeout)
		if ours {
			t.lazy.Stop()
			outS, errS := j.sinks(t)
			for _, p := range []struct {
				fd int
				s  sink
			}{{t.outFD, outS}, {t.errFD, errS}} {
				if drainNow(p.fd, p.s) {
					syscall.Close(p.fd)
					continue
				}
				f := os.NewFile(uintptr(p.fd), "|")
				f.SetReadDeadline(deadline)
				drain(f, p.s)
				f.Close()
			}
		} else {
			t.outR.SetReadDeadline(deadline)
			t.errR.SetReadDeadline(deadline)
			t.readers.Wait()
			t.outR.Close()
			t.errR.Close()
		}
	}
	j.taskDone()
}
