package sched

import (
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// backfill is sched.easy, sched.conservative and sched.hybrid: one
// algorithm, differing only in how many reservations a pass makes (the
// reservation depth D: easy 1, conservative unlimited, hybrid
// reservation-depth).
//
// A pass at time now:
//
//  1. Walk the pending jobs in queue order (urgency, then submission),
//     up to the first held job. Every job is expected to run for its
//     estimate d (-t, else Options.DefaultEstimate).
//  2. While no reservation has been made, a job that fits the free
//     resources starts now, exactly as under firstfit (nothing planned can be
//     delayed yet: without reservations free resources only grow over
//     time).
//  3. At the first job that does not fit, build the plan (profile.go): the
//     free cores and GPUs of every rank over time, from the running jobs'
//     expected ends (start + estimate; a job past its estimate is expected
//     to end now).
//  4. From then on, a job starts now only if the ranks and counts the pool
//     would give it now are free in the plan for its whole window
//     [now, now+d): it ends before every reservation that needs those
//     cores, or uses cores no reservation needs. Starting it takes its
//     window out of the plan.
//  5. A job that does not start gets a reservation while fewer than D have
//     been made: the earliest row of the plan at which some placement on
//     fixed ranks fits for its whole window (the per-rank minimum over the
//     window, placed by the packing rules), which is then taken out of the
//     plan, so later jobs plan around it.
//  6. The pass stops when nothing is free now (no job can start, and the
//     reservations are needed only to explain), or once it has passed over
//     QueueDepth jobs that did not start.
//
// Reservations are not kept between passes: each pass replans from the
// running jobs, in queue order. Jobs behind a reservation never delay it:
// they are placed around it. Under EASY, if jobs end no later than their
// estimates, the one reservation never moves later (the plan it was made on
// only gains resources, and jobs that started since were planned around
// it). Under conservative and hybrid the replan can move a reservation
// later: when an early finish lets an earlier job's reservation move
// forward, that job may take the slot a later one had (the classic
// "compression" keeps old slots instead; not done here).
//
// The pool places a starting job itself (first fit); on one rank that is
// always the plan's choice, on several the pass checks the real allocation
// against the plan and undoes it on a conflict, so a reservation is never
// taken, but such a job may wait although another placement would have let
// it start.
//
// Cost: a pass that starts jobs without blocking costs what firstfit costs; a
// pass that plans costs O(R log R) for R running jobs plus, per job looked
// at, a window scan over the rows it spans times the ranks, and for a
// reservation a search over the rows. QueueDepth bounds the jobs per pass.
type backfill struct{}

// memoEntry is a request and estimate that could not start in this pass.
type memoEntry struct {
	r resources.Request
	d time.Duration
}

func (backfill) schedule(s *Scheduler, now time.Time, out []Start) []Start {
	if s.pool.FreeCores() == 0 || (!s.dirty && s.fresh == nil && !s.clockMoved) {
		return out
	}
	p := &s.prof
	built := false
	passed, nresv := 0, 0
	// On one rank, a job that needs at least as much, for at least as long,
	// as one that could not start cannot start either (the plan only loses
	// resources during a pass); on several ranks the pool's choice of rank
	// varies with the request, so the memo is off.
	var memo [failedMemo]memoEntry
	nmemo := 0
	useMemo := p.nr() == 1
	for n := s.queue.head; n != nil && n.urg != UrgencyHold && passed < s.depth && s.pool.FreeCores() > 0; {
		next := n.next
		r, d := n.job.Req, s.estimate(n)
		if !built {
			if a, ok := s.pool.Alloc(r); ok {
				out = append(out, s.start(n, a, now))
				n = next
				continue
			}
			p.build(s, now)
			built = true
		}
		if !useMemo || !memoHas(memo[:min(nmemo, failedMemo)], r, d) {
			if a, ok := s.tryStart(r, d); ok {
				out = append(out, s.start(n, a, now))
				n = next
				continue
			}
			if useMemo {
				memo[nmemo%failedMemo] = memoEntry{r, d}
				nmemo++
			}
		}
		if nresv < s.resvDepth {
			p.reserve(n.job.ID, r, d)
			nresv++
		}
		passed++
		n = next
	}
	return out
}

// tryStart allocates r from the pool if the allocation keeps every
// reservation of the plan for the window [now, now+d), and records it.
func (s *Scheduler) tryStart(r resources.Request, d time.Duration) (resources.Alloc, bool) {
	p := &s.prof
	if _, _, ok := p.startNow(r, d); !ok {
		return resources.Alloc{}, false
	}
	a, ok := s.pool.Alloc(r)
	if !ok {
		return resources.Alloc{}, false
	}
	// The prediction was checked; check the real allocation (p.mc/p.mg
	// still hold the window minimum).
	p.pl = p.pl[:0]
	for _, sl := range a.Slices {
		p.pl = append(p.pl, placement{Pos: s.rankPos[sl.Rank], Tasks: sl.Tasks})
	}
	if !p.within(p.pl, r) {
		s.pool.Release(a)
		return resources.Alloc{}, false
	}
	p.started(p.pl, r, d)
	return a, true
}

func memoHas(memo []memoEntry, r resources.Request, d time.Duration) bool {
	for _, m := range memo {
		if d >= m.d && r.Nodes == m.r.Nodes && r.Tasks >= m.r.Tasks && r.CoresPerTask >= m.r.CoresPerTask &&
			r.GPUsPerTask >= m.r.GPUsPerTask {
			return true
		}
	}
	return false
}
