package sched

import "github.com/fluxtaskfarm/flux/resources"

// Down takes a rank out of service because its broker was lost: what is
// free on it now, and whatever its running jobs release later, is held and
// never handed out again. Jobs still queued stay queued; one that only fits
// with the lost rank waits (its Why says how many cores it waits for).
func (s *Scheduler) Down(rank int) {
	if s.down == nil {
		s.down = make(map[int]bool)
	}
	if s.down[rank] {
		return
	}
	s.down[rank] = true
	s.hold(rank)
}

// IsDown reports whether rank was taken out of service.
func (s *Scheduler) IsDown(rank int) bool { return s.down[rank] }

func (s *Scheduler) hold(rank int) {
	if a := s.pool.Hold(rank); len(a.Slices) > 0 {
		s.holds = append(s.holds, a)
		s.ver++
		s.dirty = true
	}
}

// rehold holds again what a finished job released on ranks that are down.
func (s *Scheduler) rehold(a resources.Alloc) {
	if len(s.down) == 0 {
		return
	}
	for _, sl := range a.Slices {
		if s.down[sl.Rank] {
			s.hold(sl.Rank)
		}
	}
}
