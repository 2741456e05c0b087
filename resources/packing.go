package resources

import (
	"cmp"
	"math/bits"
	"slices"
)

// Packing rules. They decide which ranks a request lands on and which ids it
// gets; Pool.Alloc and Set.Feasible share them, so "can never fit" and "does
// not fit now" agree.
//
//  1. A task never spans ranks: each task's CoresPerTask cores and
//     GPUsPerTask GPUs come from one rank. A rank can therefore hold
//     min(freeCores/CoresPerTask, freeGPUs/GPUsPerTask) more tasks (its
//     capacity). Cores need not be contiguous.
//  2. A core (or GPU) is never given to two live allocations.
//  3. Nodes == 0 (any number of nodes): if some rank can hold all the tasks,
//     they all go on the lowest such rank (first fit), which keeps small jobs
//     packed at the low end and leaves whole high ranks for big ones.
//     Otherwise the job is spread over as few ranks as possible: the fewest
//     ranks whose capacities add up to Tasks, taking the largest capacities
//     (lower rank first on a tie); the chosen ranks are then filled in
//     ascending rank order, each up to its capacity, the last one getting
//     what remains. Every chosen rank gets at least one task, because
//     fewer ranks would not have been enough.
//  4. Nodes == N: exactly N distinct ranks, tasks in block order as Flux
//     distributes them: with b = Tasks/N and e = Tasks%N, the first e chosen
//     ranks (in rank order) get b+1 tasks and the rest b. Ranks are chosen
//     greedily in ascending order: the first e ranks that can hold b+1, then
//     the first N-e after those that can hold b. Taking the earliest
//     possible ranks leaves the most candidates for the later slots, so the
//     greedy choice finds a placement whenever one exists.
//  5. Within a rank the job takes the lowest free core ids and the lowest
//     free GPU ids; TaskCores hands them out to tasks in ascending groups.
//
// Cost: the first-fit scan starts at the lowest rank with a free core and
// compares two counters per rank; the cores are found by scanning bitset
// words from the lowest word that may have a free bit. A -n1 request costs
// a couple of small allocations (the Slices slice and the IDSet words) and
// no maps.

// Placement is one rank's share of a job: Pos indexes the ranks in ascending
// rank order (Set.Ranks of a Pool), Tasks is how many tasks go there.
type Placement struct {
	Pos, Tasks int
}

// capacity is how many more tasks of r a rank with the given free counts holds.
func capacity(freeCores, freeGPUs int, r Request) int {
	c := freeCores / r.CoresPerTask
	if r.GPUsPerTask > 0 {
		c = min(c, freeGPUs/r.GPUsPerTask)
	}
	return c
}

// planner holds scratch space so that planning allocates nothing in the
// steady state.
type planner struct {
	out   []Placement
	order []int
}

// plan places normalized, valid request r on ranks whose free counts are
// nfree/nfreeG, ignoring positions below first (which have no free core).
// The result aliases p.out and is valid until the next call.
func (p *planner) plan(nfree, nfreeG []int, first int, r Request) ([]Placement, bool) {
	p.out = p.out[:0]
	n := len(nfree)
	if r.Nodes == 0 {
		needC, needG := r.Cores(), r.GPUs()
		for i := first; i < n; i++ {
			if nfree[i] >= needC && nfreeG[i] >= needG {
				p.out = append(p.out, Placement{i, r.Tasks})
				return p.out, true
			}
		}
		return p.spread(nfree, nfreeG, first, r)
	}
	return p.block(nfree, nfreeG, first, r)
}

// spread implements rule 3's multi-rank case.
func (p *planner) spread(nfree, nfreeG []int, first int, r Request) ([]Placement, bool) {
	p.order = p.order[:0]
	total := 0
	for i := first; i < len(nfree); i++ {
		if c := capacity(nfree[i], nfreeG[i], r); c > 0 {
			p.order = append(p.order, i)
			total += c
		}
	}
	if total < r.Tasks {
		return nil, false
	}
	capOf := func(i int) int { return capacity(nfree[i], nfreeG[i], r) }
	slices.SortFunc(p.order, func(a, b int) int {
		if c := cmp.Compare(capOf(b), capOf(a)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	k, sum := 0, 0
	for sum < r.Tasks {
		sum += capOf(p.order[k])
		k++
	}
	chosen := p.order[:k]
	slices.Sort(chosen)
	left := r.Tasks
	for _, i := range chosen {
		t := min(capOf(i), left)
		p.out = append(p.out, Placement{i, t})
		left -= t
	}
	return p.out, true
}

// block implements rule 4.
func (p *planner) block(nfree, nfreeG []int, first int, r Request) ([]Placement, bool) {
	n := r.Nodes
	base, extra := r.Tasks/n, r.Tasks%n
	for i := first; i < len(nfree) && len(p.out) < n; i++ {
		share := base
		if len(p.out) < extra {
			share++
		}
		if capacity(nfree[i], nfreeG[i], r) >= share {
			p.out = append(p.out, Placement{i, share})
		}
	}
	if len(p.out) < n {
		return nil, false
	}
	return p.out, true
}

// takeLow removes the n lowest set bits from free, whose words below `from`
// are all zero, and returns them as a set together with the new lower bound
// on the first nonzero word. free must hold at least n bits.
func takeLow(free []uint64, n, from int) (IDSet, int) {
	if n <= 0 {
		return IDSet{}, from
	}
	i, need := from, n
	for {
		c := bits.OnesCount64(free[i])
		if c >= need {
			break
		}
		need -= c
		i++
	}
	out := make([]uint64, i+1)
	for j := from; j < i; j++ {
		out[j] = free[j]
		free[j] = 0
	}
	last := lowBits(free[i], need)
	out[i] = last
	free[i] &^= last
	if free[i] == 0 {
		i++
	}
	return IDSet{w: out}, i
}

// Planner applies the packing rules to free counts per rank instead of a
// Pool, so that a scheduler can ask "where would this job go if these were
// the free cores?" (at a future time of a backfill plan). On a Pool's
// current free counts it makes exactly the choice Pool.Alloc makes.
type Planner struct{ planner }

// Plan places normalized, valid request r on ranks whose free core and GPU
// counts are nfree and nfreeG (one entry per rank, in ascending rank order).
// The result is valid until the next call.
func (p *Planner) Plan(nfree, nfreeG []int, r Request) ([]Placement, bool) {
	return p.plan(nfree, nfreeG, 0, r)
}
