package capacitor

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
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
}

// ExitCode is the capacitor's exit status: 130 after Ctrl-C, 124 when it
// stopped at the walltime with lines left, 2 when a line was bad, 1 when a
// task failed, 0 when everything succeeded.
func (s Summary) ExitCode(interrupted bool) int {
	switch {
	case interrupted:
		return 130
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
	if cfg.Progress && !cfg.Quiet {
		total := int64(countLines(ins))
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

func (r *reporter) result(it *item, res *broker.JobResult, interrupted bool) {
	r.write(it, r.out, res.Stdout)
	r.write(it, r.errw, res.Stderr)
	if res.Canceled && interrupted {
		// Not a final record: --resume runs this line again.
		r.sum.Canceled++
		return
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
