package broker

// history keeps the most recent finished jobs for flux jobs -a and
// flux job attach: at most max jobs, and at most maxBytes of captured output
// over all of them (the oldest jobs' output is dropped first; their records
// stay). It is a ring, so a run of ten million jobs holds the same memory as
// one of a thousand.
type history struct {
	ring     []*job
	next     int // where the next job goes
	n        int
	bytes    int
	maxBytes int
	byID     map[uint64]*job
}

func newHistory(max, maxBytes int) *history {
	return &history{ring: make([]*job, max), maxBytes: maxBytes, byID: make(map[uint64]*job, max)}
}

func (h *history) add(j *job) {
	if j.w != nil && !j.w.keep {
		// A watcher already has the output; keep only the record.
		j.result.Stdout, j.result.Stderr = nil, nil
	}
	j.env, j.w = nil, nil
	if old := h.ring[h.next]; old != nil {
		h.bytes -= outputSize(old)
		delete(h.byID, old.id)
	}
	h.ring[h.next] = j
	h.byID[j.id] = j
	h.bytes += outputSize(j)
	h.next = (h.next + 1) % len(h.ring)
	if h.n < len(h.ring) {
		h.n++
	}
	// Over the byte budget: drop output from the oldest jobs.
	for i := 0; h.bytes > h.maxBytes && i < h.n; i++ {
		old := h.ring[(h.next+len(h.ring)-h.n+i)%len(h.ring)]
		h.bytes -= outputSize(old)
		old.result.Stdout, old.result.Stderr = nil, nil
	}
}

func (h *history) find(id uint64) *job { return h.byID[id] }

// each visits the jobs newest first.
func (h *history) each(fn func(*job)) {
	for i := 1; i <= h.n; i++ {
		fn(h.ring[(h.next-i+len(h.ring))%len(h.ring)])
	}
}

func outputSize(j *job) int {
	if j.result == nil {
		return 0
	}
	return len(j.result.Stdout) + len(j.result.Stderr)
}

// len is the number of jobs kept.
func (h *history) len() int { return h.n }
