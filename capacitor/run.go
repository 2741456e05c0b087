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

// pending is a submitted line waiting for its final record.
type pending struct {
	it    item
	id    uint64 // 0 until the submit reply arrives
	start time.Time

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
		replies: make(chan submitReply, 64)}
	if !cfg.End.IsZero() {
		r.drainAt = cfg.End.Add(-cfg.Margin)
	}
	return r.loop(ctx, items, be.Results(), be.Lost(), stopSource, src)
}

type runner struct {
	cfg         Config
	be          Backend
	rep         *reporter
	inflight    map[uint64]*pending // by line number (the job's cookie)
	replies     chan submitReply
	awaiting    int // submit replies not yet received
	interrupted bool
	drainAt     time.Time // the walltime: nothing runs past it
	drained     bool      // stopped at drainAt
	deferred    int       // lines not started because their -t did not fit before drainAt

	outcomes outcomeRing   // recent lines' outcomes, for line dependencies
	waiting  map[int][]int // line -> held lines waiting on it
	ready    []*pending    // held lines whose dependencies were met this event: submitted at its end
	nheld    int           // held lines (not yet submitted)
	inputEnd bool          // the input has ended; the backend is told once no line is held
}

func (r *runner) loop(ctx context.Context, items chan []item, batches <-chan *broker.ResultBatch,
	streamErr <-chan error, stopSource func(), src *source) (Summary, error) {
	in := items
	done := ctx.Done()
	var fatal error
	var walltime <-chan time.Time
	if !r.drainAt.IsZero() {
		t := time.NewTimer(time.Until(r.drainAt))
		defer t.Stop()
		walltime = t.C
	}
	for {
		// Take more input only while the window has room.
		if in != nil && len(r.inflight) >= r.cfg.Window {
			in = nil
		} else if in == nil && items != nil && len(r.inflight) < r.cfg.Window && !r.interrupted {
			in = items
		}
		if items == nil && len(r.inflight) == 0 && r.awaiting == 0 {
			break
		}
		select {
		case batch, ok := <-in:
			if !ok {
				items, in = nil, nil
				r.inputEnd = true
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
			r.interrupt(stopSource)
			items, in = nil, nil
		case <-walltime:
			walltime = nil
			r.drained = true
			r.interrupt(stopSource)
			items, in = nil, nil
		}
		r.endOfInput()
		r.rep.tick(len(r.inflight))
	}
	if src.readErr != nil && fatal == nil {
		fatal = src.readErr
	}
	sum := r.rep.finish(src.stats, r.interrupted && !r.drained, r.drained, r.deferred)
	return sum, fatal
}

// endOfInput tells the backend the input has ended (a tree's children then
// drain and exit), once no line is held waiting to be submitted.
func (r *runner) endOfInput() {
	if !r.inputEnd || r.nheld > 0 {
		return
	}
	r.inputEnd = false
	if e, ok := r.be.(InputEnder); ok {
		e.EndOfInput()
	}
}

// submit sends one batch of lines; bad lines get their final record now,
// and lines that wait for earlier lines are held (depend.go).
func (r *runner) submit(batch []item) {
	jobs := make([]*pending, 0, len(batch))
	now := time.Now()
	for i := range batch {
		it := &batch[i]
		if it.resumed {
			r.lineEnded(it.line.Seq, true, true)
			continue
		}
		if it.err != "" {
			r.rep.lineError(it, it.err)
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
		jobs = append(jobs, p)
	}
	r.send(jobs)
}

// submitReady sends the held lines released during this event.
func (r *runner) submitReady() {
	if len(r.ready) > 0 {
		jobs := r.ready
		r.ready = nil
		r.send(jobs)
	}
}

// spec is the job of line p.
func (r *runner) spec(p *pending) broker.Jobspec {
	l := &p.it.line
	s := broker.Jobspec{
		Cookie: uint64(l.Seq), Req: l.Req, Argv: l.JobArgv(), Env: l.Env, Cwd: l.Cwd,
		TimeLimit: l.TimeLimit, Output: withName(l.Output, l), LabelIO: l.LabelIO, PMI: l.PMI,
		Stream: r.cfg.LineBuffer, Line: l.Seq, Name: lineName(l), Urgency: l.Urgency,
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

// send submits jobs as one batch.
func (r *runner) send(jobs []*pending) {
	if len(jobs) == 0 {
		return
	}
	specs := make([]broker.Jobspec, len(jobs))
	for i, p := range jobs {
		specs[i] = r.spec(p)
	}
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
			if r.interrupted {
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
		if _, ok := r.inflight[uint64(p.it.line.Seq)]; ok {
			delete(r.inflight, uint64(p.it.line.Seq))
			r.rep.lineError(&p.it, why)
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
		if p == nil {
			continue // not ours, or already ended
		}
		delete(r.inflight, res.Cookie)
		r.rep.result(&p.it, res, r.interrupted)
		r.lineEnded(p.it.line.Seq, true, res.Status == 0 && res.Err == "" && !res.Canceled && !res.TimedOut)
	}
	r.submitReady()
	r.rep.flush()
}

// interrupt stops reading and cancels every job in flight; their results
// still come back (canceled) and the loop ends when they have.
func (r *runner) interrupt(stopSource func()) {
	r.interrupted = true
	stopSource()
	r.dropHeld()
	r.cancelInflight()
}

func (r *runner) cancelInflight() {
	var ids []uint64
	for _, p := range r.inflight {
		if p.id != 0 {
			ids = append(ids, p.id)
		}
	}
	r.cancel(ids)
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
