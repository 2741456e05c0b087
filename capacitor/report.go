package capacitor

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/schollz/progressbar/v3"
)

// Summary counts how every line ended.
type Summary struct {
	Lines    int  // physical input lines read
	Done     int  // exit status 0
	Failed   int  // non-zero status, signal, time limit, command not found
	Errors   int  // never ran: bad line, request too large, instance lost
	Skipped  int  // finished in an earlier run (--resume)
	Canceled int  // killed by Ctrl-C or at the walltime; --resume runs them again
	Deferred int  // not started: their -t did not fit before the walltime
	Drained  bool // stopped at the walltime (--end, or the allocation's end)
	Elapsed  time.Duration

	Retried   int  // attempts run again after a failure (--retries); the lines' records are their last attempt's
	Halted    bool // --halt stopped the run
	HaltCode  int  // the exit status --halt asks for (as GNU parallel's)
	Unstarted int  // lines read but not started because of --halt or Ctrl-C (--resume runs them)
}

// ExitCode is the capacitor's exit status: 130 after Ctrl-C, --halt's
// status when it halted the run, 124 when it stopped at the walltime with
// lines left, 2 when a line was bad, 1 when a task failed, 0 when everything
// succeeded.
func (s Summary) ExitCode(interrupted bool) int {
	switch {
	case interrupted:
		return 130
	case s.Halted:
		return s.HaltCode
	case s.Drained || s.Deferred > 0:
		return 124
	case s.Errors > 0:
		return 2
	case s.Failed > 0:
		return 1
	}
	return 0
}

// reporter owns everything the user sees and the job log. Only the run loop
// calls it.
type reporter struct {
	cfg    Config
	out    *bufio.Writer
	errw   *bufio.Writer
	joblog *JobLog
	bar    *progressbar.ProgressBar
	start  time.Time
	last   time.Time // last progress description update
	sum    Summary
	lineNo []byte // scratch for prefixes
	total  int    // the input's lines when all inputs are files and they were counted; else 0

	lastStatus time.Time // last status line or progress callback
}

// Progress is how far a run is, for status lines and for flux top.
type Progress struct {
	Done    int           `json:"done"`
	Failed  int           `json:"failed"`
	Errors  int           `json:"errors"`
	Retried int           `json:"retried"`
	Running int           `json:"running"` // submitted to the instance (some may wait there for cores)
	Queued  int           `json:"queued"`  // read, waiting here (-j, a retry delay)
	Total   int           `json:"total"`   // the input's lines when known (files), else 0
	Skipped int           `json:"skipped"` // --resume
	Elapsed time.Duration `json:"elapsed"`
	Halted  bool          `json:"halted,omitempty"`
	Jobs    int           `json:"jobs,omitempty"` // -j
}

// Ended is the lines with a final record.
func (p Progress) Ended() int { return p.Done + p.Failed + p.Errors }

// Rate is final records a second.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Ended()) / p.Elapsed.Seconds()
}

// Pending is the lines not started yet: queued here, plus those not read
// yet when the input's length is known.
func (p Progress) Pending() int {
	n := p.Queued
	if p.Total > 0 {
		// Total counts blank and comment lines too; never below what is queued.
		n = max(n, p.Total-p.Ended()-p.Skipped-p.Running)
	}
	return n
}

// ETA is the time left at the rate so far; ok is false when it cannot be
// known (a stream, or nothing ended yet).
func (p Progress) ETA() (time.Duration, bool) {
	r := p.Rate()
	if p.Total <= 0 || r <= 0 {
		return 0, false
	}
	left := p.Total - p.Ended() - p.Skipped
	if left < 0 {
		left = 0
	}
	return time.Duration(float64(left) / r * float64(time.Second)), true
}

// Line is the one-line status: done/failed/running/pending, rate, ETA.
func (p Progress) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d done, %d failed", p.Done, p.Failed+p.Errors)
	if p.Retried > 0 {
		fmt.Fprintf(&b, ", %d retried", p.Retried)
	}
	fmt.Fprintf(&b, ", %d running, %d pending", p.Running, p.Pending())
	if p.Total > 0 {
		fmt.Fprintf(&b, " (of %d lines)", p.Total)
	}
	fmt.Fprintf(&b, "; %.1f lines/s", p.Rate())
	if eta, ok := p.ETA(); ok {
		fmt.Fprintf(&b, ", ETA %s", roundDuration(eta))
	}
	fmt.Fprintf(&b, ", elapsed %s", roundDuration(p.Elapsed))
	if p.Halted {
		b.WriteString("; halting")
	}
	return b.String()
}

// roundDuration shows a duration to the second (to 0.1 s below 10 s).
func roundDuration(d time.Duration) string {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func newReporter(cfg Config, ins []input) (*reporter, error) {
	r := &reporter{cfg: cfg, out: bufio.NewWriterSize(cfg.Stdout, 64<<10),
		errw: bufio.NewWriterSize(cfg.Stderr, 16<<10), start: time.Now()}
	if cfg.JobLog != "" {
		jl, err := CreateJobLog(cfg.JobLog, cfg.Resume)
		if err != nil {
			return nil, fmt.Errorf("cannot write --joblog %s: %v", cfg.JobLog, unwrapPathError(err))
		}
		r.joblog = jl
	}
	if (cfg.Progress && !cfg.Quiet) || (cfg.Status > 0 && !cfg.Quiet) || cfg.OnProgress != nil || cfg.Halt.Pct > 0 {
		r.total = max(countLines(ins), 0)
	}
	if cfg.Progress && !cfg.Quiet {
		total := int64(r.total)
		if total == 0 {
			total = -1
		}
		r.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(cfg.Stderr),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("tasks"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetPredictTime(total > 0),
		)
	}
	return r, nil
}

// countLines totals the lines of the inputs when all are regular files, so
// the progress bar can show an ETA; -1 when one is a stream.
func countLines(ins []input) int {
	n := 0
	buf := make([]byte, 256<<10)
	for _, in := range ins {
		if in.name == "" {
			return -1
		}
		f, err := os.Open(in.name)
		if err != nil {
			return -1
		}
		for {
			k, err := f.Read(buf)
			n += bytes.Count(buf[:k], []byte{'\n'})
			if err != nil {
				break
			}
		}
		f.Close()
	}
	return n
}

func (r *reporter) lineError(it *item, why string) {
	r.sum.Errors++
	fmt.Fprintf(r.errw, "%s: %s\n", it.where(), why)
	r.log(Record{Seq: it.line.Seq, Host: "-", Start: time.Now(), Exitval: 2, Command: it.line.Text})
	r.advance()
}

// notice tells the user something about a line that is not its record.
func (r *reporter) notice(it *item, msg string) {
	fmt.Fprintf(r.errw, "%s: %s\n", it.where(), msg)
}

// depFailed is the final record of a line that never ran because a line it
// depends on did not end as it needed: a failure (exit 1), not a bad line.
func (r *reporter) depFailed(it *item, why string) {
	r.sum.Failed++
	fmt.Fprintf(r.errw, "%s: %s\n", it.where(), why)
	r.log(Record{Seq: it.line.Seq, Host: "-", Start: time.Now(), Exitval: 1, Command: it.line.Text})
	r.advance()
}

// result reports a line's last attempt; it returns false when that is no
// final record (killed by Ctrl-C, the walltime or --halt now: --resume runs
// the line again).
func (r *reporter) result(it *item, res *broker.JobResult, interrupted bool) bool {
	r.write(it, r.out, res.Stdout)
	r.write(it, r.errw, res.Stderr)
	if res.Canceled && interrupted {
		// Not a final record: --resume runs this line again.
		r.sum.Canceled++
		return false
	}
	switch {
	case res.Err != "":
		fmt.Fprintf(r.errw, "%s: %s\n", it.where(), res.Err)
	case res.TimedOut:
		fmt.Fprintf(r.errw, "%s: killed at its time limit (%s) by signal %d\n", it.where(), it.line.TimeLimit, res.Signal)
	case res.Canceled:
		fmt.Fprintf(r.errw, "%s: canceled\n", it.where())
	case res.Signal != 0:
		fmt.Fprintf(r.errw, "%s: killed by signal %d\n", it.where(), res.Signal)
	}
	if res.Status == 0 && res.Err == "" {
		r.sum.Done++
	} else {
		r.sum.Failed++
	}
	r.log(Record{Seq: it.line.Seq, Host: res.Host, Start: res.Start, Runtime: res.End.Sub(res.Start),
		Receive: int64(len(res.Stdout) + len(res.Stderr)), Exitval: res.Status, Signal: res.Signal,
		Command: it.line.Text})
	r.advance()
	return true
}

// retrying reports a failed attempt of a line that runs again. Its output
// on stderr is shown (it tells why it failed); its stdout is dropped, so
// that the line's output is its last attempt's. The job log keeps only the
// last attempt's record.
func (r *reporter) retrying(it *item, res *broker.JobResult, try, retries int) {
	r.sum.Retried++
	r.write(it, r.errw, res.Stderr)
	why := "exit " + strconv.Itoa(res.Status)
	switch {
	case res.Err != "":
		why = res.Err
	case res.TimedOut:
		why = fmt.Sprintf("killed at its time limit (%s)", it.line.TimeLimit)
	case res.Signal != 0:
		why = "killed by signal " + strconv.Itoa(res.Signal)
	}
	fmt.Fprintf(r.errw, "%s: %s; running it again (retry %d of %d)\n", it.where(), why, try, retries)
}

// status writes the off-terminal status line every cfg.Status, and hands
// the progress to onProgress about once a second.
func (r *reporter) status(now time.Time, p Progress, onProgress func(Progress)) {
	if onProgress != nil {
		onProgress(p)
	}
	if r.bar != nil || r.cfg.Quiet || r.cfg.Status <= 0 {
		return
	}
	if r.lastStatus.IsZero() {
		r.lastStatus = r.start
	}
	if now.Sub(r.lastStatus) < r.cfg.Status-50*time.Millisecond {
		return
	}
	r.lastStatus = now
	fmt.Fprintf(r.errw, "%s: %s\n", r.cfg.Name, p.Line())
	r.errw.Flush()
}

// halted says why the run stopped early and what --resume will do.
func (r *reporter) halted(s Summary, h Halt) {
	how := "the running lines were let finish"
	if h.Now {
		how = fmt.Sprintf("%d running lines killed (not logged)", s.Canceled)
	}
	hint := "rerun with --resume to run what did not finish"
	if r.cfg.JobLog == "" {
		hint = "use --joblog FILE to be able to --resume"
	}
	fmt.Fprintf(r.errw, "%s: halted (--halt %s): %d failed, %d succeeded; %s, %d lines read and the rest of the input not started; %s; exit status %d\n",
		r.cfg.Name, h, s.Failed+s.Errors, s.Done, how, s.Unstarted, hint, s.HaltCode)
	r.errw.Flush()
}

func (r *reporter) outputLine(it *item, o *broker.OutputLine) {
	w := r.out
	if o.Stderr {
		w = r.errw
	}
	r.write(it, w, o.Data)
	// Streamed output is meant to be seen as it comes.
	w.Flush()
}

// write copies a task's output, each line prefixed with its line number
// under --tag.
func (r *reporter) write(it *item, w *bufio.Writer, data []byte) {
	if len(data) == 0 {
		return
	}
	if !r.cfg.Tag {
		w.Write(data)
		return
	}
	r.lineNo = strconv.AppendInt(r.lineNo[:0], int64(it.line.Seq), 10)
	r.lineNo = append(r.lineNo, ':', ' ')
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data
		if i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		w.Write(r.lineNo)
		w.Write(line)
		if i < 0 {
			w.WriteByte('\n')
		}
	}
}

func (r *reporter) log(rec Record) {
	if r.joblog != nil {
		if err := r.joblog.Write(rec); err != nil {
			fmt.Fprintf(r.errw, "%s: writing the job log: %v\n", r.cfg.Name, err)
			r.joblog = nil
		}
	}
}

func (r *reporter) advance() {
	if r.bar != nil {
		r.bar.Add(1)
	}
}

// flush pushes out what a batch of results produced, and makes the job log
// durable up to here, so a crash loses at most one batch of records.
func (r *reporter) flush() {
	r.out.Flush()
	r.errw.Flush()
	if r.joblog != nil {
		r.joblog.Flush()
	}
}

func (r *reporter) tick(inflight int) {
	if r.bar == nil {
		return
	}
	now := time.Now()
	if now.Sub(r.last) < 200*time.Millisecond {
		return
	}
	r.last = now
	r.bar.Describe(fmt.Sprintf("done %d failed %d running %d", r.sum.Done, r.sum.Failed+r.sum.Errors, inflight))
}

func (r *reporter) finish(st sourceStats, interrupted, drained bool, deferred int) Summary {
	r.sum.Lines, r.sum.Skipped = st.lines, st.skipped
	r.sum.Drained, r.sum.Deferred = drained, deferred
	r.sum.Elapsed = time.Since(r.start)
	if r.bar != nil {
		r.bar.Finish()
		r.bar.Clear()
	}
	r.flush()
	s := r.sum
	if !r.cfg.Quiet {
		ran := s.Done + s.Failed
		rate := float64(ran) / s.Elapsed.Seconds()
		fmt.Fprintf(r.errw, "%s: %d done, %d failed, %d errors", r.cfg.Name, s.Done, s.Failed, s.Errors)
		if s.Retried > 0 {
			fmt.Fprintf(r.errw, ", %d retried", s.Retried)
		}
		if s.Skipped > 0 {
			fmt.Fprintf(r.errw, ", %d skipped (--resume)", s.Skipped)
		}
		fmt.Fprintf(r.errw, " in %.2fs (%.0f tasks/s)\n", s.Elapsed.Seconds(), rate)
	}
	if drained || deferred > 0 {
		hint := "run again with --resume (in a new allocation) for the rest"
		if r.cfg.JobLog == "" {
			hint = "use --joblog FILE to be able to --resume"
		}
		fmt.Fprintf(r.errw, "%[5]s: walltime: stopped at %[2]s with %[1]d unfinished lines canceled (running ones killed), %[3]d lines not started because their -t did not fit; %[4]s\n",
			s.Canceled, r.cfg.End.Add(-r.cfg.Margin).Format("15:04:05"), deferred, hint, r.cfg.Name)
	}
	if interrupted {
		hint := "rerun with --resume to run what did not finish"
		if r.cfg.JobLog == "" {
			hint = "use --joblog FILE to be able to --resume"
		}
		fmt.Fprintf(r.errw, "%s: interrupted: %d unfinished lines canceled (running ones killed), the rest not started; %s\n", r.cfg.Name, s.Canceled, hint)
	}
	r.errw.Flush()
	return s
}

func (r *reporter) close() {
	if r.joblog != nil {
		r.joblog.Close()
	}
}

var _ io.Writer = (*bufio.Writer)(nil)
