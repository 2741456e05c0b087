package sched

import (
	"fmt"
	"strconv"
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// Why explains why a pending job is not running, for `flux jobs`; "" when id
// is not pending. The reasons:
//
//   - "fits now; starts at the next scheduling pass"
//   - "waiting for 4 cores (2 free)" and the other no-fit reasons
//   - "blocked by the reservation of job 7 (starts in 12s)": it fits the
//     free resources, but would still hold them when job 7 needs them
//   - "beyond queue-depth 8 (9 jobs ahead)": passes do not look that far
//   - "held (urgency 0)": it waits for its urgency to be raised
//   - "behind job 7 at the head of the queue (sched.fcfs starts jobs in
//     order; 3 jobs ahead)"
//   - "the queue is stopped": nothing starts until Start
//
// Under backfill a job with a reservation adds "; reserved to start in 1h".
// Times are relative to the last Schedule call. It replays the plan of a
// pass (cached until the state changes), so it is for diagnostics, not the
// hot path.
func (s *Scheduler) Why(id JobID) string {
	target, ok := s.jobs[id]
	if !ok || target.running {
		return ""
	}
	if target.urg == UrgencyHold {
		return "held (urgency 0)"
	}
	if s.stopped {
		return "the queue is stopped"
	}
	r := target.job.Req
	if _, ok := s.policy.(fcfs); ok && s.queue.head != target {
		ahead := 0
		for n := s.queue.head; n != target; n = n.next {
			ahead++
		}
		return fmt.Sprintf("behind job %d at the head of the queue (sched.fcfs starts jobs in order; %s ahead)",
			s.queue.head.job.ID, plural(ahead, "job"))
	}
	if _, ok := s.policy.(backfill); !ok {
		ahead := 0
		for n := s.queue.head; n != target; n = n.next {
			ahead++
		}
		if ahead >= s.depth {
			return beyond(s.depth, ahead)
		}
		if s.pool.Fits(r) {
			return "fits now; starts at the next scheduling pass"
		}
		return s.noFit(r)
	}
	v, ok := s.explain()[id]
	if !ok {
		ahead := 0
		for n := s.queue.head; n != target; n = n.next {
			ahead++
		}
		return beyond(s.depth, ahead)
	}
	if v.kind == vStart {
		return "fits now; starts at the next scheduling pass"
	}
	var why string
	switch {
	case v.blocked:
		why = fmt.Sprintf("blocked by the reservation of job %d (starts %s)", v.by, in(v.byAt))
	case s.pool.Fits(r):
		why = "fits now only on resources that reservations need"
	default:
		why = s.noFit(r)
	}
	if v.kind == vReserved {
		why += "; reserved to start " + in(v.at)
	}
	return why
}

// Reserved returns the start time the backfill plan reserves for pending
// job id (as of the last Schedule call); false when the job has no
// reservation: it is not pending, the policy is fcfs or firstfit, it fits now, or it is
// past the reservation or queue depth.
func (s *Scheduler) Reserved(id JobID) (time.Time, bool) {
	n, ok := s.jobs[id]
	if !ok || n.running {
		return time.Time{}, false
	}
	if _, ok := s.policy.(backfill); !ok {
		return time.Time{}, false
	}
	v := s.explain()[id]
	if v.kind != vReserved {
		return time.Time{}, false
	}
	return s.now.Add(v.at), true
}

// verdict is what a backfill pass decides for one pending job.
type verdict struct {
	kind    uint8         // vStart, vReserved or vWait
	at      time.Duration // vReserved: start offset from the pass's now
	blocked bool          // it fits the pool now but a reservation is in the way
	by      JobID         // ... that of job by
	byAt    time.Duration // ... which starts at this offset
}

const (
	vWait = iota
	vStart
	vReserved
)

// explain replays a backfill pass at s.now without starting anything, and
// returns the verdict for every job it looked at (a job past the queue
// depth has none). The decisions are the pass's: the same walk, the same
// plan, with the packer's prediction standing in for the pool's
// allocation.
func (s *Scheduler) explain() map[JobID]verdict {
	if s.expl != nil && s.explVer == s.ver {
		return s.expl
	}
	if s.expl == nil {
		s.expl = make(map[JobID]verdict)
	}
	clear(s.expl)
	s.explVer = s.ver
	p := &s.prof
	p.build(s, s.now)
	passed, nresv := 0, 0
	for n := s.queue.head; n != nil && n.urg != UrgencyHold && passed < s.depth; n = n.next {
		r, d := n.job.Req, s.estimate(n)
		pl, fits, ok := p.startNow(r, d)
		if ok {
			p.started(pl, r, d)
			s.expl[n.job.ID] = verdict{kind: vStart}
			continue
		}
		var v verdict
		if fits {
			if rv, ok := p.blocker(pl, r, d); ok {
				v.blocked, v.by, v.byAt = true, rv.id, rv.start
			}
		}
		if nresv < s.resvDepth {
			v.kind, v.at = vReserved, p.reserve(n.job.ID, r, d).start
			nresv++
		}
		s.expl[n.job.ID] = v
		passed++
	}
	return s.expl
}

// noFit says why r does not fit the free resources now.
func (s *Scheduler) noFit(r resources.Request) string {
	switch {
	case r.Cores() > s.pool.FreeCores():
		return fmt.Sprintf("waiting for %s (%d free)", plural(r.Cores(), "core"), s.pool.FreeCores())
	case r.GPUs() > s.pool.FreeGPUs():
		return fmt.Sprintf("waiting for %s (%d free)", plural(r.GPUs(), "GPU"), s.pool.FreeGPUs())
	case r.Nodes > 0:
		return fmt.Sprintf("waiting for %s with room for its tasks (%s free in all, but not on enough nodes)",
			plural(r.Nodes, "node"), plural(s.pool.FreeCores(), "core"))
	default:
		return fmt.Sprintf("waiting for room for %s of %s each on single nodes (%s free in all, but scattered)",
			plural(r.Tasks, "task"), plural(r.CoresPerTask, "core"), plural(s.pool.FreeCores(), "core"))
	}
}

func beyond(depth, ahead int) string {
	return fmt.Sprintf("beyond queue-depth %d (%s ahead)", depth, plural(ahead, "job"))
}

// in formats a start offset: "now", "in 12s", "in 1h5m".
func in(d time.Duration) string {
	if d <= 0 {
		return "now"
	}
	sec := int64((d + time.Second - 1) / time.Second)
	h, m, sc := sec/3600, sec/60%60, sec%60
	out := "in "
	if h > 0 {
		out += strconv.FormatInt(h, 10) + "h"
	}
	if m > 0 {
		out += strconv.FormatInt(m, 10) + "m"
	}
	if sc > 0 {
		out += strconv.FormatInt(sc, 10) + "s"
	}
	return out
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
