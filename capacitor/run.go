package capacitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/overlay"
)

// Config is one capacitor run.
type Config struct {
	Files        []string // command files in order; none (or "-") = Stdin
	Stdin        io.Reader
	Defaults     Defaults            // flux-capacitor's flags: defaults for every line
	Getenv       func(string) string // for --env NAME
	Env          []string            // every task's base environment
	JobLog       string              // GNU parallel style job log; "" = none
	Resume       bool                // skip lines the job log says finished
	ResumeFailed bool                // with Resume: rerun lines that failed too
	LineBuffer   bool                // stream output lines as they come
	Tag          bool                // prefix output lines with "<line>: "
	Quiet        bool                // no progress bar, no summary
	Progress     bool                // draw a progress bar (a terminal is attached)
	Window       int                 // lines in flight at most (default 8192)
	End          time.Time           // the run must be over by then (an allocation's end); zero = never
	Margin       time.Duration       // drain this long before End (default 30s)
	Batch        int                 // lines per submit message (default 256)
	RetryDelay   time.Duration       // wait this long before running a failed line again (Defaults.Retries, a line's --retries)
	Halt         Halt                // stop the run when a count or share of lines failed, succeeded or ended
	Jobs         int                 // lines running at once at most (-j); 0 = as many as the cores take
	Status       time.Duration       // with no progress bar: a status line on Stderr this often; 0 = none
	OnProgress   func(Progress)      // called from the run loop about once a second (flux top reads it)
	Stdout       io.Writer
	Stderr       io.Writer
	Name         string // the command, in messages (default flux-capacitor)
}

// ErrUsage marks errors that stop a run before anything is submitted
// (errors.Is(err, ErrUsage)); their text is the message for the user.
var ErrUsage = errors.New("usage")

type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == ErrUsage }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// pending is a line in flight: queued here (beyond the -j cap, or waiting
// to be retried), or submitted and waiting for its result.
type pending struct {
	it    item
	id    uint64 // 0 until the submit reply arrives
	start time.Time
	sent  bool      // submitted; its result is due
	tries int       // attempts that failed and were run again
	due   time.Time // a retry waiting for --retry-delay: not before then
	// counted in runner.retriable (sent once, with retries to spare)
	counted bool

	// Line dependencies (depend.go).
	held     bool     // waiting here for lines it depends on; not submitted
	metLines []int    // lines whose dependency is met
	idDeps   []string // after:ID for after:line:N, once that line has an id
}

type submitReply struct {
	jobs  []*pending
	reply broker.SubmitReply
	err   error
}

// Run streams the configured input through the instance behind c and
// returns when every line has its final record, or after ctx is canceled
// (Ctrl-C) once the running jobs are killed and reported.
func Run(ctx context.Context, c *overlay.Client, cfg Config) (Summary, error) {
	return RunBackend(ctx, func() (Backend, error) { return NewInstanceBackend(c) }, cfg)
}

// RunBackend is Run with the jobs going to the backend that open makes (it
// is called once the input and the job log are known to be usable).
func RunBackend(ctx context.Context, open func() (Backend, error), cfg Config) (Summary, error) {
	if cfg.Window <= 0 {
		cfg.Window = 8192
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 256
	}
	if cfg.Batch > cfg.Window {
		cfg.Batch = cfg.Window
	}
	if cfg.Margin <= 0 {
		cfg.Margin = 30 * time.Second
	}
	if cfg.Name == "" {
		cfg.Name = "flux-capacitor"
	}
	ins, err := openInputs(cfg.Files, cfg.Stdin)
	if err != nil {
		return Summary{}, usagef("%v", err)
	}
	var resume *Resume
	if cfg.Resume {
		if cfg.JobLog == "" {
			closeInputs(ins)
			return Summary{}, usagef("--resume needs --joblog FILE (the log of the earlier run)")
		}
		if resume, err = LoadResume(cfg.JobLog, cfg.ResumeFailed); err != nil {
			closeInputs(ins)
			return Summary{}, usagef("%v", err)
		}
	}
	rep, err := newReporter(cfg, ins)
	if err != nil {
		closeInputs(ins)
		return Summary{}, usagef("%v", err)
	}
	defer rep.close()

	be, err := open()
	if err != nil {
		closeInputs(ins)
		return Summary{}, err
	}
	defer be.Close()

	srcCtx, stopSource := context.WithCancel(context.Background())
	defer stopSource()
	items := make(chan []item, 2)
	src := &source{ins: ins, multi: len(ins) > 1, def: cfg.Defaults, getenv: cfg.Getenv, resume: resume,
		batch: cfg.Batch, out: items}
	go src.run(srcCtx)

	r := &runner{cfg: cfg, be: be, rep: rep, inflight: make(map[uint64]*pending),
		replies: make(chan submitReply, 64), stopSource: stopSource, src: src}
	if !cfg.End.IsZero() {
		r.drainAt = cfg.End.Add(-cfg.Margin)
	}
	return r.loop(ctx, items, be.Results(), be.Lost(), src)
}

type runner struct {
	cfg         Config
	be          Backend
	rep         *reporter
	inflight    map[uint64]*pending // by line number (the job's cookie): queued, delayed and submitted lines
	queue       []*pending          // ready to submit, oldest first (from qhead on): held back by -j, or a retry
	qhead       int
	delayed     []*pending // retries waiting for --retry-delay, by due time
	active      int        // submitted lines without a result yet
	replies     chan submitReply
	awaiting    int // submit replies not yet received
	interrupted bool
	drainAt     time.Time // the walltime: nothing runs past it
	drained     bool      // stopped at drainAt
	deferred    int       // lines not started because their -t did not fit before drainAt
	stopSource  func()
	src         *source
	reading     bool // the input is still open (items not closed, not stopped)

	inputDone bool // the input ended
	endSent   bool // the backend was told (InputEnder)
	retriable int  // lines in flight that may still fail and run again (--retries)

	halted     bool // the --halt condition held: no new line starts
	unstarted  int  // lines read but not started because of the halt
	lastStatus int  // the exit status of the latest failed line (halt fail=1)

	outcomes outcomeRing   // recent lines' outcomes, for line dependencies
	waiting  map[int][]int // line -> held lines waiting on it
	ready    []*pending    // held lines whose dependencies were met this event: submitted at its end
	nheld    int           // held lines (not yet submitted)
}

func (r *runner) loop(ctx context.Context, items chan []item, batches <-chan *broker.ResultBatch,
	streamErr <-chan error, src *source) (Summary, error) {
	in := items
	r.reading = true
	done := ctx.Done()
	var fatal error
	var walltime <-chan time.Time
	if !r.drainAt.IsZero() {
		t := time.NewTimer(time.Until(r.drainAt))
		defer t.Stop()
		walltime = t.C
	}
	// The clock for status lines, flux top's progress and retry delays;
	// none when nothing needs it, so a plain run has no timer at all.
	var tick <-chan time.Time
	if (r.cfg.Status > 0 && r.rep.bar == nil && !r.cfg.Quiet) || r.cfg.OnProgress != nil || r.cfg.RetryDelay > 0 {
		period := time.Second
		if r.cfg.Status > 0 && r.cfg.Status < period {
			period = r.cfg.Status
		}
		if r.cfg.RetryDelay > 0 && r.cfg.RetryDelay < period {
			period = r.cfg.RetryDelay / 4
		}
		period = max(period, 10*time.Millisecond)
		t := time.NewTicker(period)
		defer t.Stop()
		tick = t.C
	}
	for {
		if !r.reading {
			items, in = nil, nil
		}
		// Take more input only while the window has room.
		if in != nil && len(r.inflight) >= r.cfg.Window {
			in = nil
		} else if in == nil && items != nil && len(r.inflight) < r.cfg.Window && !r.stopped() {
			in = items
		}
		if items == nil && len(r.inflight) == 0 && r.awaiting == 0 {
			break
		}
		select {
		case batch, ok := <-in:
			if !ok {
				items, in = nil, nil
				r.reading = false
				r.inputDone = true
				r.endOfInput()
				continue
			}
			r.submit(batch)
			r.submitReady()
		case sr := <-r.replies:
			r.awaiting--
			r.submitted(sr)
		case b := <-batches:
			r.results(b)
		case err := <-streamErr:
			fatal = fmt.Errorf("lost the instance: %v", err)
			r.lost(fatal)
			streamErr = nil
		case <-done:
			done = nil
			r.interrupt()
		case <-walltime:
			walltime = nil
			r.drained = true
			r.interrupt()
		case now := <-tick:
			r.retryDue(now)
			r.rep.status(now, r.progress(), r.cfg.OnProgress)
		}
		r.pump()
		r.endOfInput()
		r.rep.tick(r.active)
	}
	if src.readErr != nil && fatal == nil {
		fatal = src.readErr
	}
	sum := r.rep.finish(src.stats, r.interrupted && !r.drained, r.drained, r.deferred)
	if r.halted {
		sum.Halted, sum.Unstarted = true, r.unstarted
		sum.HaltCode = r.cfg.Halt.exitCode(r.haltCounts(), r.lastStatus)
		r.rep.halted(sum, r.cfg.Halt)
	}
	if r.cfg.OnProgress != nil {
		r.cfg.OnProgress(r.progress())
	}
	return sum, fatal
}

// endOfInput tells the backend that no more lines come, once the input
// ended, every line read was submitted (none held for line dependencies,
// none held back by -j) and no line in flight can be run again by
// --retries: a tree's children drain and exit when told, and could not run
// a line sent after.
func (r *runner) endOfInput() {
	if !r.inputDone || r.endSent || r.nheld > 0 || r.retriable > 0 || r.qhead < len(r.queue) || len(r.delayed) > 0 {
		return
	}
	r.endSent = true
	if e, ok := r.be.(InputEnder); ok {
		e.EndOfInput()
	}
}

// stopped says no new line may start: Ctrl-C, the walltime, or --halt.
func (r *runner) stopped() bool { return r.interrupted || r.halted }

// killing says canceled results are not final records (--resume runs those
// lines again): after Ctrl-C, at the walltime, or at --halt now.
func (r *runner) killing() bool { return r.interrupted || (r.halted && r.cfg.Halt.Now) }

// submit queues one batch of lines; bad lines get their final record now,
// and lines that wait for earlier lines are held (depend.go).
func (r *runner) submit(batch []item) {
	now := time.Now()
	for i := range batch {
		it := &batch[i]
		if it.resumed {
			r.lineEnded(it.line.Seq, true, true)
			continue
		}
		if r.stopped() {
			r.unstarted++
			continue
		}
		if it.err != "" {
			r.rep.lineError(it, it.err)
			r.ended(false, 2)
			r.lineEnded(it.line.Seq, false, false)
			continue
		}
		l := &it.line
		if !r.drainAt.IsZero() && l.TimeLimit > 0 && now.Add(l.TimeLimit).After(r.drainAt) {
			// It could not finish before the end: leave it for --resume
			// (and the lines that depend on it).
			r.deferred++
			r.outcomes.put(l.Seq, outcomeDeferred)
			r.wake(l.Seq, true)
			continue
		}
		p := &pending{it: *it, start: now}
		r.inflight[uint64(l.Seq)] = p
		if len(l.Deps) > 0 {
			switch r.judgeLine(p, true) {
			case lineWait:
				r.setHeld(p, true)
				continue
			case lineEnded:
				continue
			}
		}
		r.queue = append(r.queue, p)
	}
}

// submitReady queues the held lines released during this event (pump
// sends them, as -j allows).
func (r *runner) submitReady() {
	if len(r.ready) > 0 {
		r.queue = append(r.queue, r.ready...)
		r.ready = nil
	}
}

// pump submits queued lines, as many as -j allows, in batches.
func (r *runner) pump() {
	for r.qhead < len(r.queue) && !r.stopped() {
		n := len(r.queue) - r.qhead
		if r.cfg.Jobs > 0 {
			n = min(n, r.cfg.Jobs-r.active)
		}
		if n <= 0 {
			break
		}
		n = min(n, r.cfg.Batch)
		r.send(r.queue[r.qhead : r.qhead+n])
		for i := r.qhead; i < r.qhead+n; i++ {
			r.queue[i] = nil
		}
		r.qhead += n
	}
	// Reuse the array: when empty, from the start; when half of it is
	// behind qhead, by moving the rest down (under -j the queue may never
	// empty, and appending past qhead forever would grow with the input).
	switch {
	case r.qhead == len(r.queue):
		r.queue, r.qhead = r.queue[:0], 0
	case r.qhead > 0 && r.qhead >= len(r.queue)/2:
		n := copy(r.queue, r.queue[r.qhead:])
		clear(r.queue[n:])
		r.queue, r.qhead = r.queue[:n], 0
	}
}

// spec is the job of line p.
func (r *runner) spec(p *pending) broker.Jobspec {
	l := &p.it.line
	s := broker.Jobspec{
		Cookie: uint64(l.Seq), Req: l.Req, Argv: l.JobArgv(), Env: l.Env, Cwd: l.Cwd,
		TimeLimit: l.TimeLimit, Output: withName(l.Output, l), LabelIO: l.LabelIO, PMI: l.PMI,
		Stream: r.cfg.LineBuffer, Line: l.Seq, Name: lineName(l), Urgency: l.Urgency, Retry: p.tries,
		Error: withName(l.Error, l), Setopt: l.Setopt,
	}
	for _, d := range l.Deps {
		if d.Line == 0 {
			s.Dependencies = append(s.Dependencies, d.String())
		}
	}
	s.Dependencies = append(s.Dependencies, p.idDeps...)
	return s
}

// send submits lines to the backend as one batch.
func (r *runner) send(batch []*pending) {
	specs := make([]broker.Jobspec, len(batch))
	jobs := make([]*pending, len(batch))
	now := time.Now()
	for i, p := range batch {
		specs[i] = r.spec(p)
		if !p.counted && p.it.line.Retries > 0 {
			p.counted = true
			r.retriable++
		}
		p.sent, p.id, p.start = true, 0, now
		jobs[i] = p
	}
	r.active += len(jobs)
	r.awaiting++
	replies := r.replies
	err := r.be.Submit(specs, r.cfg.Env, func(reply broker.SubmitReply, err error) {
		replies <- submitReply{jobs: jobs, reply: reply, err: err}
	})
	if err != nil {
		r.awaiting--
		r.submitted(submitReply{jobs: jobs, err: err})
	}
}

// submitted records the job ids; lines the instance refused end here.
func (r *runner) submitted(sr submitReply) {
	var late []uint64 // submitted after Ctrl-C: cancel them too
	for i, p := range sr.jobs {
		var why string
		switch {
		case sr.err != nil:
			why = "not submitted: " + sr.err.Error()
		case i >= len(sr.reply.IDs):
			why = "not submitted: the instance sent a short reply"
		case sr.reply.IDs[i] == 0:
			why = sr.reply.Errs[i]
		default:
			p.id = sr.reply.IDs[i]
			if r.killing() {
				late = append(late, p.id)
			}
			if u := p.it.line.Urgency; u != nil && *u == 0 {
				r.rep.notice(&p.it, fmt.Sprintf("held (urgency 0) as job %d: it starts only once `flux job urgency %d 16` "+
					"raises it in this instance (the FLUX_URI its tasks see); the run ends after it", p.id, p.id))
			}
			if r.waiting != nil {
				r.wake(p.it.line.Seq, false) // after:line:N can now be after:ID
			}
			continue
		}
		if q := r.inflight[uint64(p.it.line.Seq)]; q == p && p.sent {
			r.forget(p)
			p.sent = false
			r.active--
			r.rep.lineError(&p.it, why)
			r.ended(false, 2)
			r.lineEnded(p.it.line.Seq, false, false)
		}
	}
	r.cancel(late)
	r.submitReady()
}

func (r *runner) results(b *broker.ResultBatch) {
	for i := range b.Output {
		o := &b.Output[i]
		if p := r.inflight[o.Cookie]; p != nil {
			r.rep.outputLine(&p.it, o)
		}
	}
	for i := range b.Results {
		res := &b.Results[i]
		p := r.inflight[res.Cookie]
		if p == nil || !p.sent {
			continue // not ours, or already ended
		}
		p.sent = false
		r.active--
		failed := res.Status != 0 || res.Err != ""
		if failed && !(res.Canceled && r.killing()) && !r.stopped() && p.tries < p.it.line.Retries {
			p.tries++
			if p.tries == p.it.line.Retries {
				r.retriable--
			}
			r.rep.retrying(&p.it, res, p.tries, p.it.line.Retries)
			r.retry(p)
			continue
		}
		r.forget(p)
		final := r.rep.result(&p.it, res, r.killing())
		if final {
			r.ended(!failed, res.Status)
		}
		r.lineEnded(p.it.line.Seq, true, res.Status == 0 && res.Err == "" && !res.Canceled && !res.TimedOut)
	}
	r.submitReady()
	r.rep.flush()
}

// forget removes a line that ended (or will never start) from the lines in
// flight.
func (r *runner) forget(p *pending) {
	delete(r.inflight, uint64(p.it.line.Seq))
	if p.counted && p.tries < p.it.line.Retries {
		r.retriable--
	}
}

// retry runs a failed line again: at once, or after --retry-delay.
func (r *runner) retry(p *pending) {
	if r.cfg.RetryDelay <= 0 {
		r.queueFront(p)
		return
	}
	p.due = time.Now().Add(r.cfg.RetryDelay)
	r.delayed = append(r.delayed, p)
}

// retryDue moves the delayed retries whose time has come to the queue.
func (r *runner) retryDue(now time.Time) {
	n := 0
	for n < len(r.delayed) && !r.delayed[n].due.After(now) {
		n++
	}
	// Last first, so that at the queue's front they stay in their order.
	for i := n - 1; i >= 0; i-- {
		r.queueFront(r.delayed[i])
		r.delayed[i] = nil
	}
	if n > 0 {
		r.delayed = append(r.delayed[:0], r.delayed[n:]...)
	}
}

// queueFront puts a retry before the lines not started yet: under -j it
// runs next, rather than after everything read so far.
func (r *runner) queueFront(p *pending) {
	if r.qhead > 0 {
		r.qhead--
		r.queue[r.qhead] = p
		return
	}
	r.queue = append(r.queue, nil)
	copy(r.queue[1:], r.queue)
	r.queue[0] = p
}

// ended counts a final record toward --halt, and halts when the condition
// holds.
func (r *runner) ended(ok bool, status int) {
	if !ok {
		r.lastStatus = status
	}
	if r.cfg.Halt.Why == HaltNever || r.halted || r.interrupted {
		return
	}
	if r.cfg.Halt.reached(r.haltCounts()) {
		r.halt()
	}
}

func (r *runner) haltCounts() haltCounts {
	s := &r.rep.sum
	return haltCounts{failed: s.Failed + s.Errors, succeeded: s.Done, total: r.rep.total}
}

// halt stops the run for --halt: nothing more is read or started; lines
// queued here are dropped (not logged: --resume runs them), and with now
// the running ones are killed.
func (r *runner) halt() {
	r.halted = true
	r.reading = false
	r.stopSource()
	r.dropQueued()
	r.dropHeld()
	if r.cfg.Halt.Now {
		r.cancelInflight()
	}
}

// dropQueued forgets the lines that wait here and were never started.
func (r *runner) dropQueued() {
	for _, p := range r.queue[r.qhead:] {
		r.forget(p)
		r.unstarted++
	}
	for _, p := range r.delayed {
		r.forget(p)
		r.unstarted++
	}
	r.queue, r.qhead, r.delayed = nil, 0, nil
}

// interrupt stops reading and cancels every job in flight; their results
// still come back (canceled) and the loop ends when they have.
func (r *runner) interrupt() {
	r.interrupted = true
	r.reading = false
	r.stopSource()
	r.dropQueued()
	r.dropHeld()
	r.cancelInflight()
}

func (r *runner) cancelInflight() {
	var ids []uint64
	for _, p := range r.inflight {
		if p.sent && p.id != 0 {
			ids = append(ids, p.id)
		}
	}
	r.cancel(ids)
}

// progress is a snapshot for status lines and flux top.
func (r *runner) progress() Progress {
	s := &r.rep.sum
	return Progress{Done: s.Done, Failed: s.Failed, Errors: s.Errors, Retried: s.Retried,
		Running: r.active, Queued: len(r.inflight) - r.active, Total: r.rep.total, Skipped: int(r.src.skippedNow.Load()),
		Elapsed: time.Since(r.rep.start), Halted: r.halted, Jobs: r.cfg.Jobs}
}

func (r *runner) cancel(ids []uint64) {
	if len(ids) > 0 {
		r.be.Cancel(ids)
	}
}

// lost ends every line in flight when the instance went away.
func (r *runner) lost(err error) {
	for seq, p := range r.inflight {
		delete(r.inflight, seq)
		r.rep.lineError(&p.it, err.Error())
	}
	r.queue, r.qhead, r.delayed, r.active, r.retriable = nil, 0, nil, 0, 0
}

// UsageError marks err as a usage error (errors.Is(err, ErrUsage)), for
// callers that find one before any line runs.
func UsageError(err error) error { return &usageError{err.Error()} }

// lineName is what flux jobs shows for a line: its --job-name, else the
// command as written.
func lineName(l *Line) string {
	if l.Name != "" {
		return l.Name
	}
	return l.Command
}

// withName fills in {{name}} of a file template (the instance knows ids,
// lines and tasks, not names).
func withName(tmpl string, l *Line) string {
	if !strings.Contains(tmpl, "{{name}}") {
		return tmpl
	}
	name := l.Name
	if name == "" {
		first, _, _ := strings.Cut(l.Command, " ")
		name = filepath.Base(first) // Flux's default job name: the command's first word
	}
	return strings.ReplaceAll(tmpl, "{{name}}", name)
}
