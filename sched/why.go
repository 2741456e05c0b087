package sched

import (
	"fmt"
	"strconv"
)

// Why explains why a pending job is not running, for `flux jobs`; "" when id
// is not pending. It walks the queue, so it is for diagnostics, not the hot
// path.
func (s *Scheduler) Why(id JobID) string {
	target, ok := s.jobs[id]
	if !ok || target.running {
		return ""
	}
	ahead := 0
	for n := s.queue.head; n != target; n = n.next {
		ahead++
	}
	if ahead >= s.depth {
		return fmt.Sprintf("behind %s in the queue (queue-depth %d)", plural(ahead, "job"), s.depth)
	}
	r := target.job.Req
	switch {
	case r.Cores() > s.pool.FreeCores():
		return fmt.Sprintf("waiting for %s (%d free)", plural(r.Cores(), "core"), s.pool.FreeCores())
	case r.GPUs() > s.pool.FreeGPUs():
		return fmt.Sprintf("waiting for %s (%d free)", plural(r.GPUs(), "GPU"), s.pool.FreeGPUs())
	case s.pool.Fits(r):
		return "fits now; starts at the next scheduling pass"
	case r.Nodes > 0:
		return fmt.Sprintf("waiting for %s with room for its tasks (%s free in all, but not on enough nodes)",
			plural(r.Nodes, "node"), plural(s.pool.FreeCores(), "core"))
	default:
		return fmt.Sprintf("waiting for room for %s of %s each on single nodes (%s free in all, but scattered)",
			plural(r.Tasks, "task"), plural(r.CoresPerTask, "core"), plural(s.pool.FreeCores(), "core"))
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
