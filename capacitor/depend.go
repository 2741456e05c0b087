package capacitor

import (
	"fmt"
	"strconv"

	"github.com/fluxtaskfarm/flux/broker"
)

// Line dependencies (--dependency=afterok:line:12) are judged here, not by
// the instance: a line that waits on an earlier one is held by the
// capacitor, inside the window like any line in flight, and submitted once
// every line it names has its final record (or, for after:line:N, once
// that line has a job id, as after:ID for the instance to judge). A line
// whose dependency can never be met ends with one record saying which
// ("dependency afterok:line:12 failed") and is never submitted.
//
// No deadlock: a line can only name earlier lines, which entered the window
// before it and end without needing a slot, so a window full of lines
// waiting on one long line drains when that line ends.
//
// Memory: the outcomes of the last keepOutcomes lines that ended are kept
// in a ring; naming a line that ended longer ago than that is an error for
// the naming line. A line --resume skips counts as ended with success
// (exact with --resume-failed, which skips only lines that succeeded).

// keepOutcomes bounds the outcomes remembered for line dependencies.
const keepOutcomes = 1 << 16

// outcomeRing remembers whether recent lines started and succeeded, or
// were deferred (left for --resume at the walltime): slot seq%keepOutcomes
// holds seq<<3 | deferred<<2 | started<<1 | ok.
type outcomeRing struct{ slots []uint64 }

const outcomeDeferred = 4

func (o *outcomeRing) record(seq int, started, ok bool) {
	o.put(seq, uint64(b2u(started))<<1|uint64(b2u(ok)))
}

func (o *outcomeRing) put(seq int, bits uint64) {
	if o.slots == nil {
		o.slots = make([]uint64, keepOutcomes)
	}
	o.slots[seq%keepOutcomes] = uint64(seq)<<3 | bits
}

func (o *outcomeRing) lookup(seq int) (started, ok, found bool) {
	v, found := o.get(seq)
	return v&2 != 0, v&1 != 0, found && v&outcomeDeferred == 0
}

func (o *outcomeRing) deferred(seq int) bool {
	v, found := o.get(seq)
	return found && v&outcomeDeferred != 0
}

func (o *outcomeRing) get(seq int) (uint64, bool) {
	if o.slots == nil {
		return 0, false
	}
	v := o.slots[seq%keepOutcomes]
	return v & 7, v>>3 == uint64(seq)
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// lineVerdict is what a held line's dependencies say now.
type lineVerdict uint8

const (
	lineReady lineVerdict = iota // all met: submit it
	lineWait                     // some target has not got there yet
	lineEnded                    // it ended here (a dependency failed, or names no job)
)

// judgeLine judges p's line dependencies; the first time (register), it
// also registers p with the lines it waits for. On lineEnded p has its
// final record.
func (r *runner) judgeLine(p *pending, register bool) lineVerdict {
	verdict := lineReady
	for _, d := range p.it.line.Deps {
		if d.Line == 0 || p.met(d) {
			continue
		}
		if started, ok, found := r.outcomes.lookup(d.Line); found {
			met, never := broker.DepCheck(d.Type, started, true, ok)
			switch {
			case never:
				r.depFailed(p, "dependency "+r.depText(p, d)+" failed")
				return lineEnded
			case met:
				p.metLines = append(p.metLines, d.Line)
				continue
			}
		}
		if r.outcomes.deferred(d.Line) {
			// Its line was left for --resume: so is this one.
			delete(r.inflight, uint64(p.it.line.Seq))
			r.setHeld(p, false)
			r.deferred++
			r.outcomes.put(p.it.line.Seq, outcomeDeferred)
			r.wake(p.it.line.Seq, true)
			return lineEnded
		}
		t := r.inflight[uint64(d.Line)]
		if t == nil {
			r.depRefused(p, fmt.Sprintf("--dependency %s: line %d is not a job of this run (a blank or comment line, "+
				"or one that ended more than %d lines ago)", r.depText(p, d), r.lineNo(p, d.Line), keepOutcomes))
			return lineEnded
		}
		if _, direct := r.be.(*instanceBackend); d.Type == broker.DepAfter && t.id != 0 && direct {
			// The instance knows when it starts: let it judge after:ID.
			// (In a tree of instances the id is not the leaf's; there
			// after:line:N waits for the line's final record.)
			p.idDeps = append(p.idDeps, broker.DepAfter+":"+strconv.FormatUint(t.id, 10))
			p.metLines = append(p.metLines, d.Line)
			continue
		}
		verdict = lineWait
		if register {
			if r.waiting == nil {
				r.waiting = make(map[int][]int)
			}
			r.waiting[d.Line] = append(r.waiting[d.Line], p.it.line.Seq)
		}
	}
	return verdict
}

// met reports whether p's dependency on line d.Line was judged met.
func (p *pending) met(d broker.Dependency) bool {
	for _, l := range p.metLines {
		if l == d.Line {
			return true
		}
	}
	return false
}

// depText shows a line dependency as the user wrote it (line numbers
// within the line's own input).
func (r *runner) depText(p *pending, d broker.Dependency) string {
	if d.Line == 0 {
		return d.String()
	}
	return d.Type + ":line:" + strconv.Itoa(r.lineNo(p, d.Line))
}

// lineNo turns a Seq back into the line number within p's input.
func (r *runner) lineNo(p *pending, seq int) int { return seq - (p.it.line.Seq - p.it.local) }

// lineEnded records that line seq has its final record (or, with only
// gotID, its job id) and re-judges the lines waiting on it.
func (r *runner) lineEnded(seq int, started, ok bool) {
	r.outcomes.record(seq, started, ok)
	r.wake(seq, true)
}

// wake re-judges the lines waiting on seq; final says seq has ended (no
// line waits on it any more).
func (r *runner) wake(seq int, final bool) {
	waiting := r.waiting[seq]
	if len(waiting) == 0 {
		return
	}
	if final {
		delete(r.waiting, seq)
	}
	for _, w := range waiting {
		p := r.inflight[uint64(w)]
		if p == nil || !p.held {
			continue
		}
		if r.judgeLine(p, false) == lineReady {
			r.setHeld(p, false)
			r.ready = append(r.ready, p)
		}
	}
}

// depFailed ends held line p without running it.
func (r *runner) depFailed(p *pending, why string) {
	delete(r.inflight, uint64(p.it.line.Seq))
	r.setHeld(p, false)
	r.rep.depFailed(&p.it, why)
	r.lineEnded(p.it.line.Seq, false, false)
}

// setHeld marks p held (waiting here) or not, keeping the count that
// decides when the backend may hear that the input has ended.
func (r *runner) setHeld(p *pending, held bool) {
	if p.held != held {
		p.held = held
		if held {
			r.nheld++
		} else {
			r.nheld--
		}
	}
}

// depRefused ends line p as a bad line (it names no job it could wait for).
func (r *runner) depRefused(p *pending, why string) {
	delete(r.inflight, uint64(p.it.line.Seq))
	r.setHeld(p, false)
	r.rep.lineError(&p.it, why)
	r.lineEnded(p.it.line.Seq, false, false)
}

// dropHeld ends the held lines without a final record, after Ctrl-C or at
// the walltime: --resume runs them again.
func (r *runner) dropHeld() {
	for seq, p := range r.inflight {
		if p.held {
			r.setHeld(p, false)
			delete(r.inflight, seq)
			r.rep.result(&p.it, &broker.JobResult{Outcome: broker.Outcome{Canceled: true}}, true)
		}
	}
	r.waiting = nil
	r.ready = nil
}
