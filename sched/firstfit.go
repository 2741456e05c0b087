package sched

import (
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// firstfit is first fit in queue order (sched.firstfit), the policy
// sched.fcfs used to be:
//
//   - pending jobs are considered in queue order, from the head;
//   - each one that fits the free resources now starts now (placed by the
//     resources packing rules);
//   - one that does not fit does not block the jobs behind it, so no core
//     idles while a queued job that fits it is pending;
//   - the pass stops once it has passed over QueueDepth jobs that do not
//     fit. After a pass, then, none of the first QueueDepth pending jobs fits
//     the free resources. QueueDepth=1 is strict FCFS (sched.fcfs);
//   - the pass stops early when no core is free (every job needs one), and
//     at the first held job (held jobs sort last).
//
// It can starve a wide job: in a stream of -n1 jobs on a busy machine a
// freed core always goes to a narrow job behind the wide one, which waits
// until the narrow ones run out. Use it only where that cannot happen (all
// jobs of one size) or does not matter; sched.easy is the default.
//
// Cost: a job that fails makes requests it dominates (same -N, at least as
// many tasks, cores and GPUs per task) fail without calling the pool, since
// the pool only shrinks during a pass; and a pass after only Submits looks at
// the new jobs alone (Scheduler.scanStart). With only -n1 jobs a pass costs
// O(jobs started + 1).
type firstfit struct{}

// failedMemo remembers a few requests that failed in this pass.
const failedMemo = 4

func (firstfit) schedule(s *Scheduler, now time.Time, out []Start) []Start {
	n, blocked, ok := s.scanStart()
	if !ok {
		return out
	}
	var failed [failedMemo]resources.Request
	nfailed := 0
	for n != nil && blocked < s.depth && s.pool.FreeCores() > 0 && n.urg != UrgencyHold {
		next := n.next
		r := n.job.Req
		if !dominated(failed[:min(nfailed, failedMemo)], r) {
			if a, ok := s.pool.Alloc(r); ok {
				out = append(out, s.start(n, a, now))
				n = next
				continue
			}
			failed[nfailed%failedMemo] = r
			nfailed++
		}
		blocked++
		n = next
	}
	return out
}

// dominated reports whether r needs at least as much as some request that
// already failed in this pass, on the same number of nodes: then r fails too.
func dominated(failed []resources.Request, r resources.Request) bool {
	for _, f := range failed {
		if r.Nodes == f.Nodes && r.Tasks >= f.Tasks && r.CoresPerTask >= f.CoresPerTask && r.GPUsPerTask >= f.GPUsPerTask {
			return true
		}
	}
	return false
}
