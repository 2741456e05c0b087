package sched

import (
	"cmp"
	"slices"

	"github.com/fluxtaskfarm/flux/resources"
)

// placement is one rank's share of a planned job: pos indexes the ranks in
// ascending rank order (the pool's order), tasks is how many tasks go there.
type placement struct {
	pos, tasks int
}

// packer applies the resources packing rules (resources/packing.go) to free
// counts per rank instead of a Pool, so that a backfill pass can ask "where
// would this job go if these were the free cores?" at any future time of the
// plan. On the pool's current free counts it predicts Pool.Alloc's choice of
// ranks and task counts exactly; the backfill pass still checks the real
// allocation against the plan, so a disagreement costs a missed backfill,
// never a delayed reservation.
//
// Rules, as in the resources package: a task never spans ranks; with
// Nodes == 0 all tasks go on the lowest rank that holds them all, or else
// over the fewest ranks with the largest capacities (filled in rank order);
// with Nodes == N, tasks in Flux's block order on the first ranks that can
// hold their shares.
type packer struct {
	out   []placement
	order []int
}

func capacity(freeCores, freeGPUs int, r resources.Request) int {
	c := freeCores / r.CoresPerTask
	if r.GPUsPerTask > 0 {
		c = min(c, freeGPUs/r.GPUsPerTask)
	}
	return c
}

// plan places r on ranks with free counts nc/ng. The result aliases p.out
// and is valid until the next call.
func (p *packer) plan(nc, ng []int, r resources.Request) ([]placement, bool) {
	p.out = p.out[:0]
	if r.Nodes > 0 {
		return p.block(nc, ng, r)
	}
	needC, needG := r.Cores(), r.GPUs()
	for i := range nc {
		if nc[i] >= needC && ng[i] >= needG {
			p.out = append(p.out, placement{i, r.Tasks})
			return p.out, true
		}
	}
	p.order = p.order[:0]
	total := 0
	for i := range nc {
		if c := capacity(nc[i], ng[i], r); c > 0 {
			p.order = append(p.order, i)
			total += c
		}
	}
	if total < r.Tasks {
		return nil, false
	}
	capOf := func(i int) int { return capacity(nc[i], ng[i], r) }
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
		p.out = append(p.out, placement{i, t})
		left -= t
	}
	return p.out, true
}

func (p *packer) block(nc, ng []int, r resources.Request) ([]placement, bool) {
	n := r.Nodes
	base, extra := r.Tasks/n, r.Tasks%n
	for i := 0; i < len(nc) && len(p.out) < n; i++ {
		share := base
		if len(p.out) < extra {
			share++
		}
		if capacity(nc[i], ng[i], r) >= share {
			p.out = append(p.out, placement{i, share})
		}
	}
	if len(p.out) < n {
		return nil, false
	}
	return p.out, true
}
