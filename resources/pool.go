package resources

import (
	"cmp"
	"fmt"
	"slices"
)

// Pool is free/used accounting over a Set. It is pure, deterministic and not
// safe for concurrent use: one owner serialises calls.
//
// Per rank it keeps the free core and GPU bitsets plus their counts, so that
// the packing scan compares integers and only touches bitsets of the ranks it
// picks. Positions (indexes into set.Ranks) are used internally; rank numbers
// only at the API.
type Pool struct {
	set   Set
	index []int // rank number -> position, -1 where no such rank

	allC, allG   [][]uint64 // per position: the rank's cores/GPUs (Release checks)
	freeC, freeG [][]uint64 // per position: free cores/GPUs
	nfree        []int      // per position: free core count
	nfreeG       []int      // per position: free GPU count
	low          []int      // per position: freeC words below this are zero

	totalC, totalG int // free counts over all ranks
	first          int // positions below this have no free core
	planner
}

// NewPool returns a pool over s with everything free. Ranks are taken in
// ascending rank order whatever order s lists them in; it panics on a
// negative or duplicate rank number, which no valid Set has.
func NewPool(s Set) *Pool {
	ranks := slices.Clone(s.Ranks)
	slices.SortFunc(ranks, func(a, b Rank) int { return cmp.Compare(a.Rank, b.Rank) })
	n := len(ranks)
	p := &Pool{
		set:   Set{Ranks: ranks},
		allC:  make([][]uint64, n),
		allG:  make([][]uint64, n),
		freeC: make([][]uint64, n),
		freeG: make([][]uint64, n),
		nfree: make([]int, n), nfreeG: make([]int, n),
		low: make([]int, n),
	}
	maxRank := -1
	if n > 0 {
		maxRank = ranks[n-1].Rank
	}
	p.index = make([]int, maxRank+1)
	for i := range p.index {
		p.index[i] = -1
	}
	for i, r := range ranks {
		if r.Rank < 0 || p.index[r.Rank] >= 0 {
			panic(fmt.Sprintf("resources: NewPool: invalid or duplicate rank %d", r.Rank))
		}
		p.index[r.Rank] = i
		p.allC[i], p.allG[i] = r.Cores.w, r.GPUs.w
		p.freeC[i], p.freeG[i] = slices.Clone(r.Cores.w), slices.Clone(r.GPUs.w)
		p.nfree[i], p.nfreeG[i] = r.Cores.Count(), r.GPUs.Count()
		p.totalC += p.nfree[i]
		p.totalG += p.nfreeG[i]
	}
	p.advanceFirst()
	return p
}

// Set returns the set the pool was built over.
func (p *Pool) Set() Set { return Set{Ranks: slices.Clone(p.set.Ranks)} }

// FreeCores returns the number of free cores over all ranks.
func (p *Pool) FreeCores() int { return p.totalC }

// FreeGPUs returns the number of free GPUs over all ranks.
func (p *Pool) FreeGPUs() int { return p.totalG }

// FreeOn returns the free cores and GPUs of a rank (empty for an unknown rank).
func (p *Pool) FreeOn(rank int) (cores, gpus IDSet) {
	i := p.pos(rank)
	if i < 0 {
		return IDSet{}, IDSet{}
	}
	return IDSet{w: trim(slices.Clone(p.freeC[i]))}, IDSet{w: trim(slices.Clone(p.freeG[i]))}
}

func (p *Pool) pos(rank int) int {
	if rank < 0 || rank >= len(p.index) {
		return -1
	}
	return p.index[rank]
}

// Fits reports whether Alloc(r) would succeed now, without changing anything.
func (p *Pool) Fits(r Request) bool {
	if r.Cores() > p.totalC || r.GPUs() > p.totalG {
		return false
	}
	_, ok := p.plan(p.nfree, p.nfreeG, p.first, r)
	return ok
}

// Alloc places r (already normalized and validated) by the packing rules.
// It returns false, changing nothing, when r does not fit now.
func (p *Pool) Alloc(r Request) (Alloc, bool) {
	if r.Cores() > p.totalC || r.GPUs() > p.totalG {
		return Alloc{}, false
	}
	plan, ok := p.plan(p.nfree, p.nfreeG, p.first, r)
	if !ok {
		return Alloc{}, false
	}
	a := Alloc{Slices: make([]Slice, len(plan)), CoresPerTask: r.CoresPerTask, GPUsPerTask: r.GPUsPerTask}
	for k, pl := range plan {
		i := pl.Pos
		nc, ng := pl.Tasks*r.CoresPerTask, pl.Tasks*r.GPUsPerTask
		s := &a.Slices[k]
		s.Rank, s.Tasks = p.set.Ranks[i].Rank, pl.Tasks
		s.Cores, p.low[i] = takeLow(p.freeC[i], nc, p.low[i])
		s.GPUs, _ = takeLow(p.freeG[i], ng, 0)
		p.nfree[i] -= nc
		p.nfreeG[i] -= ng
		p.totalC -= nc
		p.totalG -= ng
	}
	p.advanceFirst()
	return a, true
}

func (p *Pool) advanceFirst() {
	for p.first < len(p.nfree) && p.nfree[p.first] == 0 {
		p.first++
	}
}

// Release returns a's cores and GPUs to the pool. Releasing anything that is
// not currently allocated (a double release, a foreign Alloc) is a broken
// invariant of the caller and panics, before any change is made.
func (p *Pool) Release(a Alloc) {
	for _, s := range a.Slices {
		i := p.pos(s.Rank)
		if i < 0 {
			panic(fmt.Sprintf("resources: Release: rank %d is not in the pool", s.Rank))
		}
		if !allocated(s.Cores.w, p.allC[i], p.freeC[i]) {
			panic(fmt.Sprintf("resources: Release: cores %s on rank %d were not allocated (double release?)", s.Cores, s.Rank))
		}
		if !allocated(s.GPUs.w, p.allG[i], p.freeG[i]) {
			panic(fmt.Sprintf("resources: Release: GPUs %s on rank %d were not allocated (double release?)", s.GPUs, s.Rank))
		}
	}
	for _, s := range a.Slices {
		i := p.pos(s.Rank)
		nc, ng := s.Cores.Count(), s.GPUs.Count()
		for j, x := range s.Cores.w {
			p.freeC[i][j] |= x
			if x != 0 && j < p.low[i] {
				p.low[i] = j
			}
		}
		for j, x := range s.GPUs.w {
			p.freeG[i][j] |= x
		}
		p.nfree[i] += nc
		p.nfreeG[i] += ng
		p.totalC += nc
		p.totalG += ng
		if nc > 0 && i < p.first {
			p.first = i
		}
	}
}

// allocated reports whether ids ⊆ all and ids ∩ free = ∅.
func allocated(ids, all, free []uint64) bool {
	if len(ids) > len(all) {
		return false
	}
	for j, x := range ids {
		if x&^all[j] != 0 || x&free[j] != 0 {
			return false
		}
	}
	return true
}
