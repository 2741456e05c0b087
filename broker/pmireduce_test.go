package broker

import (
	"math/rand"
	"testing"

	"github.com/fluxtaskfarm/flux/broker/boot"
	"github.com/fluxtaskfarm/flux/resources"
)

func TestSubtreeShape(t *testing.T) {
	for _, tc := range []struct {
		me, fanout int
		ranks      []int
		need       int
		all        bool
	}{
		{0, 2, []int{3, 4, 5}, 2, true},   // via 1 (3, 4) and 2 (5)
		{1, 2, []int{3, 4, 5}, 2, false},  // 3 and 4; 5 is elsewhere
		{3, 2, []int{3, 4, 5}, 1, false},  // itself
		{1, 2, []int{3, 4}, 2, true},      // the top of the job, without a part
		{2, 2, []int{3, 4}, 0, false},     // not on the way
		{0, 2, []int{0, 1}, 2, true},      // itself and a child
		{0, 32, []int{0, 1, 40}, 2, true}, // itself, and 1 for 1 and 40 below it
		{1, 32, []int{0, 1, 40}, 2, false},
	} {
		need, all := subtreeShape(tc.me, tc.fanout, resources.NewIDSet(tc.ranks...))
		if need != tc.need || all != tc.all {
			t.Errorf("subtreeShape(%d, fanout %d, %v) = %d, %v; want %d, %v", tc.me, tc.fanout, tc.ranks, need, all, tc.need, tc.all)
		}
	}
}

// subtreeShape against the naive model: a contribution from itself when it
// holds a part, one from each child whose subtree holds one, and the
// subtree holds them all.
func TestSubtreeShapeAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewSource(14))
	for i := 0; i < 5000; i++ {
		size, fanout := 1+rng.Intn(200), 1+rng.Intn(8)
		if rng.Intn(4) == 0 {
			fanout = 32
		}
		var ids []int
		for r := 0; r < size; r++ {
			if rng.Intn(3) == 0 {
				ids = append(ids, r)
			}
		}
		if len(ids) == 0 {
			continue
		}
		set := resources.NewIDSet(ids...)
		me := rng.Intn(size)
		want := 0
		if set.Contains(me) {
			want = 1
		}
		for _, c := range boot.Children(me, size, fanout) {
			for _, r := range subtree(c, size, fanout) {
				if set.Contains(r) {
					want++
					break
				}
			}
		}
		in := 0
		for _, r := range subtree(me, size, fanout) {
			if set.Contains(r) {
				in++
			}
		}
		need, all := subtreeShape(me, fanout, set)
		if need != want || all != (in == len(ids)) {
			t.Fatalf("size %d fanout %d me %d ranks %s: got %d, %v; want %d, %v", size, fanout, me, set, need, all, want, in == len(ids))
		}
	}
}
