package sched

// Up puts a rank taken out of service with Down back into service (flux
// resource undrain): what is held on it is released, and queued jobs may
// start there at the next Schedule. A rank that is not down is left alone;
// the return says whether anything changed.
func (s *Scheduler) Up(rank int) bool {
	if !s.down[rank] {
		return false
	}
	delete(s.down, rank)
	kept := s.holds[:0]
	for _, a := range s.holds {
		if len(a.Slices) == 1 && a.Slices[0].Rank == rank {
			s.pool.Release(a)
			continue
		}
		kept = append(kept, a)
	}
	s.holds = kept
	s.ver++
	s.dirty = true
	return true
}
