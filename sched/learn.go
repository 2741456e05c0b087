package sched

import "time"

// Learner estimates a job's run time from the run times of finished jobs
// with the same key (the broker uses the command's first word, argv[0]):
// the longest of the last learnWindow runs, plus a quarter. A job without
// -t is then planned with what its command has taken lately instead of the
// fixed default, so that short lines can backfill around a wide one. It is
// pure and bounded: at most maxKeys keys, the oldest key forgotten first.
//
// A learned estimate can be too short (the next run takes longer); the
// plan then treats the job as ending "now", so nothing new starts on cores
// a reservation needs, and the reservation slips by that job's overrun
// alone: no job starves.
type Learner struct {
	keys    map[string]*runs
	order   []string // keys in insertion order, a ring: next is the oldest
	next    int
	maxKeys int
}

// learnWindow is how many recent runs per key are remembered.
const learnWindow = 16

// DefaultLearnKeys bounds the keys a Learner remembers.
const DefaultLearnKeys = 4096

type runs struct {
	d [learnWindow]time.Duration
	n int // runs seen (the ring holds min(n, learnWindow))
}

// NewLearner returns a Learner that remembers at most maxKeys keys.
func NewLearner(maxKeys int) *Learner {
	if maxKeys < 1 {
		maxKeys = DefaultLearnKeys
	}
	return &Learner{keys: make(map[string]*runs), maxKeys: maxKeys}
}

// Observe records that a job with key ran for d.
func (l *Learner) Observe(key string, d time.Duration) {
	if key == "" || d < 0 {
		return
	}
	r := l.keys[key]
	if r == nil {
		if len(l.order) < l.maxKeys {
			l.order = append(l.order, key)
		} else {
			delete(l.keys, l.order[l.next])
			l.order[l.next] = key
			l.next = (l.next + 1) % l.maxKeys
		}
		r = &runs{}
		l.keys[key] = r
	}
	r.d[r.n%learnWindow] = d
	r.n++
}

// Estimate is the learned run time for key: the longest recent run plus a
// quarter (at least a millisecond); false before any run of key finished.
func (l *Learner) Estimate(key string) (time.Duration, bool) {
	r := l.keys[key]
	if r == nil {
		return 0, false
	}
	var longest time.Duration
	for _, d := range r.d[:min(r.n, learnWindow)] {
		longest = max(longest, d)
	}
	return max(longest+longest/4, time.Millisecond), true
}
