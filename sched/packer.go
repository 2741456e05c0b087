package sched

import "github.com/fluxtaskfarm/flux/resources"

// placement is one rank's share of a planned job (resources.Placement: Pos
// indexes the ranks in ascending rank order, the pool's order).
type placement = resources.Placement

// packer is resources.Planner: the pool's packing rules applied to the free
// counts of a future time of the backfill plan. On the pool's current free
// counts it predicts Pool.Alloc's choice exactly; the backfill pass still
// checks the real allocation against the plan, so a disagreement costs a
// missed backfill, never a delayed reservation.
type packer struct{ resources.Planner }

func (p *packer) plan(nc, ng []int, r resources.Request) ([]placement, bool) {
	return p.Plan(nc, ng, r)
}
