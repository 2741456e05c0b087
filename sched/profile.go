package sched

import (
	"cmp"
	"slices"
	"sort"
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// profile is a backfill pass's plan: the free cores and GPUs of every rank
// over time, as a table of rows. Row i holds the free counts from now+at[i]
// until the next row's time (the last row lasts forever). Row 0 is what the
// pool has free now; each later row adds what running jobs free at their
// expected end (start + estimate). A job past its estimate is expected to end
// "now": its resources appear in a second row at offset 0, which a job can
// be reserved on but not started on (the pool does not have them yet).
// Starting or reserving a job subtracts its per-rank share from the rows its
// window [start, start+estimate) covers, splitting a row at the window's end
// when needed. Rows only ever lose resources during a pass.
//
// Sizes: rows <= 2 + running jobs + 2*reservations; a row is one int per
// rank for cores and one for GPUs.
type profile struct {
	totC, totG []int // per position: all the rank's cores and GPUs (fixed)

	at     []time.Duration // row start, offset from now; non-decreasing
	c, g   []int           // free counts, row-major: row i is [i*nr, (i+1)*nr)
	sc, sg []int           // per row: total free cores and GPUs (a quick filter)
	cur    []int           // per position: the pool's free cores now, no reservations
	curG   []int
	mc, mg []int // scratch: the per-rank minimum over a window

	ends []runEnd
	resv []reservation
	rpl  []placement // the reservations' placements, resv[i].pl indexes it
	pl   []placement // scratch: a copy of the packer's answer
	pk   packer
}

type runEnd struct {
	at time.Duration
	n  *node
}

// reservation is a job planned to start later, for Why and Reserved.
type reservation struct {
	id         JobID
	start, end time.Duration
	pl0, pl1   int // its placement is rpl[pl0:pl1]
}

func (p *profile) nr() int { return len(p.totC) }

// build fills the table for the running jobs of s at time now.
func (p *profile) build(s *Scheduler, now time.Time) {
	nr := p.nr()
	p.cur = append(p.cur[:0], p.totC...)
	p.curG = append(p.curG[:0], p.totG...)
	p.ends = p.ends[:0]
	for n := s.running; n != nil; n = n.next {
		for _, sl := range n.alloc.Slices {
			i := s.rankPos[sl.Rank]
			p.cur[i] -= sl.Tasks * n.alloc.CoresPerTask
			p.curG[i] -= sl.Tasks * n.alloc.GPUsPerTask
		}
		p.ends = append(p.ends, runEnd{max(n.start.Add(s.estimate(n)).Sub(now), 0), n})
	}
	slices.SortFunc(p.ends, func(a, b runEnd) int { return cmp.Compare(a.at, b.at) })
	p.at = append(p.at[:0], 0)
	p.c = append(p.c[:0], p.cur...)
	p.g = append(p.g[:0], p.curG...)
	p.sc, p.sg = append(p.sc[:0], sum(p.cur)), append(p.sg[:0], sum(p.curG))
	p.resv, p.rpl = p.resv[:0], p.rpl[:0]
	p.mc, p.mg = append(p.mc[:0], p.cur...), append(p.mg[:0], p.curG...)
	for _, e := range p.ends {
		last := len(p.at) - 1
		if last == 0 || p.at[last] != e.at { // row 0 stays what the pool has
			p.at = append(p.at, e.at)
			p.c = append(p.c, p.c[last*nr:(last+1)*nr]...)
			p.g = append(p.g, p.g[last*nr:(last+1)*nr]...)
			p.sc, p.sg = append(p.sc, p.sc[last]), append(p.sg, p.sg[last])
			last++
		}
		a := e.n.alloc
		for _, sl := range a.Slices {
			i := last*nr + s.rankPos[sl.Rank]
			p.c[i] += sl.Tasks * a.CoresPerTask
			p.g[i] += sl.Tasks * a.GPUsPerTask
			p.sc[last] += sl.Tasks * a.CoresPerTask
			p.sg[last] += sl.Tasks * a.GPUsPerTask
		}
	}
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// last returns the last row of the window of length d starting at row k.
func (p *profile) last(k int, d time.Duration) int {
	end := p.at[k] + d
	return k + sort.Search(len(p.at)-k-1, func(i int) bool { return p.at[k+1+i] >= end })
}

// windowMin sets mc/mg to the per-rank minimum over rows k..m.
func (p *profile) windowMin(k, m int) {
	nr := p.nr()
	copy(p.mc, p.c[k*nr:(k+1)*nr])
	copy(p.mg, p.g[k*nr:(k+1)*nr])
	for row := k + 1; row <= m; row++ {
		for i := range nr {
			p.mc[i] = min(p.mc[i], p.c[row*nr+i])
			p.mg[i] = min(p.mg[i], p.g[row*nr+i])
		}
	}
}

// within reports whether placement pl of r fits the window minimum.
func (p *profile) within(pl []placement, r resources.Request) bool {
	for _, x := range pl {
		if x.Tasks*r.CoresPerTask > p.mc[x.Pos] || x.Tasks*r.GPUsPerTask > p.mg[x.Pos] {
			return false
		}
	}
	return true
}

// split returns the row that starts exactly at offset end, inserting a copy
// of the row in force at end when there is none. end > 0.
func (p *profile) split(end time.Duration) int {
	i := sort.Search(len(p.at), func(i int) bool { return p.at[i] >= end })
	if i < len(p.at) && p.at[i] == end {
		return i
	}
	nr := p.nr()
	p.at = slices.Insert(p.at, i, end)
	p.sc = slices.Insert(p.sc, i, p.sc[i-1])
	p.sg = slices.Insert(p.sg, i, p.sg[i-1])
	for _, t := range []*[]int{&p.c, &p.g} {
		x := append(*t, make([]int, nr)...)
		copy(x[(i+1)*nr:], x[i*nr:])
		copy(x[i*nr:(i+1)*nr], x[(i-1)*nr:i*nr])
		*t = x
	}
	return i
}

// take subtracts placement pl of r from the window of length d starting at
// row k, and returns the window's end row (exclusive).
func (p *profile) take(k int, d time.Duration, pl []placement, r resources.Request) int {
	e := p.split(p.at[k] + d)
	nr := p.nr()
	for row := k; row < e; row++ {
		for _, x := range pl {
			nc, ng := x.Tasks*r.CoresPerTask, x.Tasks*r.GPUsPerTask
			p.c[row*nr+x.Pos] -= nc
			p.g[row*nr+x.Pos] -= ng
			p.sc[row] -= nc
			p.sg[row] -= ng
		}
	}
	return e
}

// startNow is the placement r would get from the pool now (the packer's
// prediction on the current free counts), if that placement leaves every
// reservation intact for the whole window of length d; pl aliases p.pl.
func (p *profile) startNow(r resources.Request, d time.Duration) (pl []placement, fitsPool, ok bool) {
	pred, fits := p.pk.plan(p.cur, p.curG, r)
	if !fits {
		return nil, false, false
	}
	p.pl = append(p.pl[:0], pred...)
	p.windowMin(0, p.last(0, d))
	return p.pl, true, p.within(p.pl, r)
}

// started records that r started now on pl for an expected d.
func (p *profile) started(pl []placement, r resources.Request, d time.Duration) {
	p.take(0, d, pl, r)
	for _, x := range pl {
		p.cur[x.Pos] -= x.Tasks * r.CoresPerTask
		p.curG[x.Pos] -= x.Tasks * r.GPUsPerTask
	}
}

// reserve finds the earliest row at which r fits for its whole window of
// length d beside everything planned so far, and plans it there. The last
// row (everything ended) has the whole machine minus nothing, so a job that
// passed Set.Feasible always fits somewhere.
func (p *profile) reserve(id JobID, r resources.Request, d time.Duration) reservation {
	needC, needG := r.Cores(), r.GPUs()
	for k := 0; k < len(p.at); {
		m := p.last(k, d)
		bad := -1
		for row := m; row >= k; row-- {
			if p.sc[row] < needC || p.sg[row] < needG {
				bad = row
				break
			}
		}
		if bad >= 0 { // every window that starts at or before bad contains it
			k = bad + 1
			continue
		}
		p.windowMin(k, m)
		if pl, ok := p.pk.plan(p.mc, p.mg, r); ok {
			p.take(k, d, pl, r)
			rv := reservation{id: id, start: p.at[k], end: p.at[k] + d, pl0: len(p.rpl)}
			p.rpl = append(p.rpl, pl...)
			rv.pl1 = len(p.rpl)
			p.resv = append(p.resv, rv)
			return rv
		}
		k++
	}
	panic("sched: a feasible job fits nowhere in the backfill plan (broken invariant)")
}

// blocker is the reservation that keeps a job with placement pl of r from
// starting now for d: at the first row of the window where pl does not fit,
// the latest-starting reservation in force there on one of pl's ranks.
func (p *profile) blocker(pl []placement, r resources.Request, d time.Duration) (reservation, bool) {
	nr := p.nr()
	for row := 0; row <= p.last(0, d); row++ {
		short := false
		for _, x := range pl {
			if x.Tasks*r.CoresPerTask > p.c[row*nr+x.Pos] || x.Tasks*r.GPUsPerTask > p.g[row*nr+x.Pos] {
				short = true
			}
		}
		if !short {
			continue
		}
		var best reservation
		found := false
		for _, rv := range p.resv {
			if rv.start > p.at[row] || rv.end <= p.at[row] || (found && rv.start < best.start) {
				continue
			}
			for _, x := range p.rpl[rv.pl0:rv.pl1] {
				if slices.ContainsFunc(pl, func(y placement) bool { return y.Pos == x.Pos }) {
					best, found = rv, true
					break
				}
			}
		}
		return best, found
	}
	return reservation{}, false
}
