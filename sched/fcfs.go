package sched

import "time"

// fcfs is strict first-come first-served, as Flux's sched-simple: jobs
// start in queue order (urgency, then submission) and the head that does
// not fit blocks everything behind it, even jobs that would fit the free
// cores now. No job is ever overtaken, so none starves, but cores idle
// while the head waits: backfill (sched.easy) fills them without delaying
// the head.
//
// A pass walks from the head and stops at the first job that does not fit,
// at the first held job, or when no core is free. After a pass that left
// a job blocked, only a state change (a finish, a cancel, a new job ahead
// of it) can start anything; a pass after only Submits behind a blocked
// head costs O(1).
type fcfs struct{}

func (fcfs) schedule(s *Scheduler, now time.Time, out []Start) []Start {
	n, blocked, ok := s.scanStart()
	if !ok || blocked > 0 {
		return out
	}
	for n != nil && n.urg != UrgencyHold && s.pool.FreeCores() > 0 {
		a, ok := s.pool.Alloc(n.job.Req)
		if !ok {
			break
		}
		next := n.next
		out = append(out, s.start(n, a, now))
		n = next
	}
	return out
}
