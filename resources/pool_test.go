package resources

import (
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// model is the naive view of a pool: the set and, per position, the ids in use.
type model struct {
	set          Set
	usedC, usedG []IDSet
}

func newModel(s Set) *model {
	return &model{set: s, usedC: make([]IDSet, len(s.Ranks)), usedG: make([]IDSet, len(s.Ranks))}
}

func (m *model) free(i int) (IDSet, IDSet) {
	return m.set.Ranks[i].Cores.Minus(m.usedC[i]), m.set.Ranks[i].GPUs.Minus(m.usedG[i])
}

func (m *model) caps(r Request) []int {
	out := make([]int, len(m.set.Ranks))
	for i := range out {
		c, g := m.free(i)
		out[i] = c.Count() / r.CoresPerTask
		if r.GPUsPerTask > 0 {
			out[i] = min(out[i], g.Count()/r.GPUsPerTask)
		}
	}
	return out
}

// subsets calls fn with every subset of 0..n-1 (ascending) until fn returns true.
func subsets(n int, fn func([]int) bool) bool {
	for mask := 0; mask < 1<<n; mask++ {
		var s []int
		for i := 0; i < n; i++ {
			if mask&(1<<i) != 0 {
				s = append(s, i)
			}
		}
		if fn(s) {
			return true
		}
	}
	return false
}

// fits is the brute-force answer to "can r be placed now?", and for Nodes==0
// the fewest ranks a placement needs.
func (m *model) fits(r Request) (ok bool, fewest int) {
	caps := m.caps(r)
	fewest = len(caps) + 1
	subsets(len(caps), func(s []int) bool {
		if r.Nodes > 0 {
			if len(s) != r.Nodes {
				return false
			}
			for k, i := range s {
				share := r.Tasks / r.Nodes
				if k < r.Tasks%r.Nodes {
					share++
				}
				if caps[i] < share {
					return false
				}
			}
			ok = true
			return true
		}
		sum := 0
		for _, i := range s {
			sum += caps[i]
		}
		if sum >= r.Tasks && len(s) < fewest {
			ok, fewest = true, len(s)
		}
		return false
	})
	return ok, fewest
}

func randomSet(rng *rand.Rand) Set {
	var s Set
	nranks := 1 + rng.IntN(4)
	rank := 0
	for range nranks {
		rank += rng.IntN(2) // sometimes sparse rank numbers
		ncores := 1 + rng.IntN(8)
		var cores []int
		for _, id := range rng.Perm(12)[:ncores] {
			cores = append(cores, id*(1+rng.IntN(10))) // scattered ids, some > 64
		}
		gpus := rng.Perm(4)[:rng.IntN(3)]
		s.Ranks = append(s.Ranks, Rank{Rank: rank, Host: "n", Cores: NewIDSet(cores...), GPUs: NewIDSet(gpus...)})
		rank++
	}
	return s
}

func randomRequest(rng *rand.Rand, nranks int) Request {
	r := Request{Tasks: 1 + rng.IntN(6), CoresPerTask: 1 + rng.IntN(3)}
	if rng.IntN(4) == 0 {
		r.GPUsPerTask = 1 + rng.IntN(2)
	}
	if rng.IntN(3) == 0 {
		r.Nodes = 1 + rng.IntN(min(nranks, r.Tasks))
	}
	if rng.IntN(3) == 0 {
		r = Request{Tasks: 1, CoresPerTask: 1} // the common case
	}
	return r
}

func TestPoolAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		set := randomSet(rng)
		p, m := NewPool(set), newModel(set)
		var live []Alloc
		for step := range 200 {
			if len(live) > 0 && rng.IntN(3) == 0 {
				k := rng.IntN(len(live))
				a := live[k]
				live[k] = live[len(live)-1]
				live = live[:len(live)-1]
				p.Release(a)
				for _, s := range a.Slices {
					i := m.pos(s.Rank)
					m.usedC[i], m.usedG[i] = m.usedC[i].Minus(s.Cores), m.usedG[i].Minus(s.GPUs)
				}
			} else {
				r := randomRequest(rng, len(set.Ranks))
				want, fewest := m.fits(r)
				if p.Fits(r) != want {
					t.Fatalf("round %d step %d: Fits(%+v) = %v, model says %v", round, step, r, !want, want)
				}
				a, ok := p.Alloc(r)
				if ok != want {
					t.Fatalf("round %d step %d: Alloc(%+v) = %v, model says %v (free %s)", round, step, r, ok, want, m.describe())
				}
				if ok {
					m.check(t, r, a, fewest)
					live = append(live, a)
				}
			}
			m.compare(t, p)
		}
	}
}

func (m *model) pos(rank int) int {
	for i, r := range m.set.Ranks {
		if r.Rank == rank {
			return i
		}
	}
	return -1
}

func (m *model) describe() string {
	var b strings.Builder
	for i, r := range m.set.Ranks {
		c, g := m.free(i)
		b.WriteString("rank " + itoa(r.Rank) + " cores [" + c.String() + "] gpus [" + g.String() + "]; ")
	}
	return b.String()
}

func itoa(n int) string { return NewIDSet(n).String() }

// check verifies a against r and the packing rules, then records it as used.
func (m *model) check(t *testing.T, r Request, a Alloc, fewest int) {
	t.Helper()
	if a.CoresPerTask != r.CoresPerTask || a.GPUsPerTask != r.GPUsPerTask || a.Tasks() != r.Tasks {
		t.Fatalf("Alloc(%+v) = %+v: wrong shape", r, a)
	}
	if r.Nodes > 0 && len(a.Slices) != r.Nodes {
		t.Fatalf("Alloc(%+v) used %d nodes", r, len(a.Slices))
	}
	caps := m.caps(r)
	if r.Nodes == 0 {
		firstFit := -1
		for i, c := range caps {
			if c >= r.Tasks {
				firstFit = i
				break
			}
		}
		switch {
		case firstFit >= 0 && (len(a.Slices) != 1 || a.Slices[0].Rank != m.set.Ranks[firstFit].Rank):
			t.Fatalf("Alloc(%+v) = %+v, want all tasks on rank %d (first fit)", r, a, m.set.Ranks[firstFit].Rank)
		case len(a.Slices) != fewest:
			t.Fatalf("Alloc(%+v) spread over %d ranks, %d would do", r, len(a.Slices), fewest)
		case firstFit < 0:
			// The chosen ranks are the fewest largest capacities, lower
			// position first on a tie.
			order := make([]int, len(caps))
			for i := range order {
				order[i] = i
			}
			sort.SliceStable(order, func(x, y int) bool { return caps[order[x]] > caps[order[y]] })
			chosen := order[:fewest]
			sort.Ints(chosen)
			for k, s := range a.Slices {
				if s.Rank != m.set.Ranks[chosen[k]].Rank {
					t.Fatalf("Alloc(%+v) spread over %+v, want positions %v (caps %v)", r, a.Slices, chosen, caps)
				}
			}
		}
	}
	prev := -1
	for k, s := range a.Slices {
		i := m.pos(s.Rank)
		if i < 0 || s.Rank <= prev {
			t.Fatalf("Alloc(%+v): slice %d rank %d unknown or out of order", r, k, s.Rank)
		}
		prev = s.Rank
		if s.Tasks < 1 {
			t.Fatalf("Alloc(%+v): empty slice %+v", r, s)
		}
		if r.Nodes > 0 {
			share := r.Tasks / r.Nodes
			if k < r.Tasks%r.Nodes {
				share++
			}
			if s.Tasks != share {
				t.Fatalf("Alloc(%+v): slice %d has %d tasks, block order says %d", r, k, s.Tasks, share)
			}
		}
		freeC, freeG := m.free(i)
		if !s.Cores.Equal(freeC.First(s.Tasks * r.CoresPerTask)) {
			t.Fatalf("Alloc(%+v): rank %d got cores %s, want the lowest free of %s", r, s.Rank, s.Cores, freeC)
		}
		if !s.GPUs.Equal(freeG.First(s.Tasks * r.GPUsPerTask)) {
			t.Fatalf("Alloc(%+v): rank %d got GPUs %s, want the lowest free of %s", r, s.Rank, s.GPUs, freeG)
		}
		if s.Cores.Count() != s.Tasks*r.CoresPerTask || s.GPUs.Count() != s.Tasks*r.GPUsPerTask {
			t.Fatalf("Alloc(%+v): slice %+v has the wrong number of ids (a task spans ranks?)", r, s)
		}
		for local := range s.Tasks {
			if a.TaskCores(k, local).Count() != r.CoresPerTask {
				t.Fatalf("Alloc(%+v): task %d of slice %d has cores %s", r, local, k, a.TaskCores(k, local))
			}
		}
		m.usedC[i], m.usedG[i] = m.usedC[i].Union(s.Cores), m.usedG[i].Union(s.GPUs)
	}
}

func (m *model) compare(t *testing.T, p *Pool) {
	t.Helper()
	total := 0
	for i, r := range m.set.Ranks {
		c, g := m.free(i)
		pc, pg := p.FreeOn(r.Rank)
		if !pc.Equal(c) || !pg.Equal(g) {
			t.Fatalf("rank %d: pool says free %s/%s, model %s/%s", r.Rank, pc, pg, c, g)
		}
		total += c.Count()
	}
	if p.FreeCores() != total {
		t.Fatalf("FreeCores = %d, model %d", p.FreeCores(), total)
	}
}

func TestPoolReleasePanics(t *testing.T) {
	set := Set{Ranks: []Rank{{Rank: 0, Cores: RangeIDSet(0, 3), GPUs: NewIDSet(0)}}}
	tests := []struct {
		name string
		do   func(p *Pool)
	}{
		{"double release", func(p *Pool) {
			a, _ := p.Alloc(Request{Tasks: 1, CoresPerTask: 1})
			p.Release(a)
			p.Release(a)
		}},
		{"never allocated", func(p *Pool) {
			p.Release(Alloc{Slices: []Slice{{Rank: 0, Tasks: 1, Cores: NewIDSet(2)}}, CoresPerTask: 1})
		}},
		{"foreign core", func(p *Pool) {
			p.Alloc(Request{Tasks: 4, CoresPerTask: 1})
			p.Release(Alloc{Slices: []Slice{{Rank: 0, Tasks: 1, Cores: NewIDSet(9)}}, CoresPerTask: 1})
		}},
		{"unknown rank", func(p *Pool) {
			p.Release(Alloc{Slices: []Slice{{Rank: 3, Tasks: 1, Cores: NewIDSet(0)}}, CoresPerTask: 1})
		}},
		{"free GPU", func(p *Pool) {
			a, _ := p.Alloc(Request{Tasks: 1, CoresPerTask: 1})
			a.Slices[0].GPUs = NewIDSet(0)
			p.Release(a)
		}},
	}
	for _, tc := range tests {
		p := NewPool(set)
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Release did not panic", tc.name)
				}
			}()
			tc.do(p)
		}()
	}
	// A refused release changes nothing.
	p := NewPool(set)
	a, _ := p.Alloc(Request{Tasks: 2, CoresPerTask: 1})
	bad := Alloc{Slices: append([]Slice{}, a.Slices...), CoresPerTask: 1}
	bad.Slices = append(bad.Slices, Slice{Rank: 7, Tasks: 1, Cores: NewIDSet(0)})
	func() {
		defer func() { _ = recover() }()
		p.Release(bad)
	}()
	if p.FreeCores() != 2 {
		t.Errorf("a panicking Release changed the pool: %d free, want 2", p.FreeCores())
	}
}

func TestPoolSpreadAndSet(t *testing.T) {
	set := Set{Ranks: []Rank{
		{Rank: 2, Cores: RangeIDSet(0, 1)},
		{Rank: 0, Cores: RangeIDSet(0, 3)},
		{Rank: 1, Cores: RangeIDSet(0, 2)},
	}}
	p := NewPool(set)
	if got := p.Set(); got.Ranks[0].Rank != 0 || got.Ranks[2].Rank != 2 {
		t.Errorf("Set() not in rank order: %+v", got)
	}
	// 8 tasks do not fit one rank; the fewest ranks are 0 (4) and 1 (3) plus... 9 cores total.
	a, ok := p.Alloc(Request{Tasks: 8, CoresPerTask: 1})
	if !ok {
		t.Fatal("8 tasks on 9 cores did not fit")
	}
	want := []struct{ rank, tasks int }{{0, 4}, {1, 3}, {2, 1}}
	for k, w := range want {
		if a.Slices[k].Rank != w.rank || a.Slices[k].Tasks != w.tasks {
			t.Errorf("slice %d = rank %d tasks %d, want rank %d tasks %d", k, a.Slices[k].Rank, a.Slices[k].Tasks, w.rank, w.tasks)
		}
	}
	p.Release(a)
	// 5 tasks: ranks 0 and 1 suffice (largest capacities), filled in rank order.
	a, _ = p.Alloc(Request{Tasks: 5, CoresPerTask: 1})
	if len(a.Slices) != 2 || a.Slices[0].Rank != 0 || a.Slices[0].Tasks != 4 || a.Slices[1].Rank != 1 || a.Slices[1].Tasks != 1 {
		t.Errorf("5 tasks spread as %+v, want rank 0 x4, rank 1 x1", a.Slices)
	}
}

func TestNewPoolPanicsOnDuplicateRank(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewPool with a duplicate rank did not panic")
		}
	}()
	NewPool(Set{Ranks: []Rank{{Rank: 1, Cores: NewIDSet(0)}, {Rank: 1, Cores: NewIDSet(0)}}})
}
