package sched

import (
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// fcfs is first-come first-served with skipping, Flux sched-simple's policy:
//
//   - pending jobs are considered in submission order, from the head;
//   - each one that fits the free resources now starts now (placed by the
//     resources packing rules);
//   - one that does not fit does not block the jobs behind it, so no core
//     idles while a queued job that fits it is pending;
//   - the pass stops once it has passed over QueueDepth jobs that do not
//     fit. After a pass, then, none of the first QueueDepth pending jobs fits
//     the free resources. QueueDepth=1 is strict FCFS: a pass stops at the
//     first job that does not fit, so jobs start in submission order;
//   - the pass stops early when no core is free (every job needs one).
//
// Cost: a job that fails makes requests it dominates (same -N, at least as
// many tasks, cores and GPUs per task) fail without calling the pool, since
// the pool only shrinks during a pass; and a pass after only Submits looks at
// the new jobs alone (Scheduler.scanStart). With only -n1 jobs a pass costs
// O(jobs started + 1).
type fcfs struct{}

// failedMemo remembers a few requests that failed in this pass.
const failedMemo = 4

func (fcfs) schedule(s *Scheduler, now time.Time, out []Start) []Start {
	n, blocked, ok := s.scanStart()
	if !ok {
		return out
	}
	var failed [failedMemo]resources.Request
	nfailed := 0
	for n != nil && blocked < s.depth && s.pool.FreeCores() > 0 {
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
