package sched

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// naive is the test's own view of the instance: which ids each running job
// holds, which jobs are pending in submission order. It answers "does r fit
// now?" by brute force, independently of the resources packing code.
type naive struct {
	t       *testing.T
	set     resources.Set
	usedC   map[int]resources.IDSet // rank -> busy cores
	usedG   map[int]resources.IDSet
	pending []Job // submission order
	seqOf   map[JobID]int
	running map[JobID]resources.Alloc
	started []JobID // global start order
}

func newNaive(t *testing.T, set resources.Set) *naive {
	return &naive{t: t, set: set, usedC: map[int]resources.IDSet{}, usedG: map[int]resources.IDSet{},
		seqOf: map[JobID]int{}, running: map[JobID]resources.Alloc{}}
}

func (m *naive) caps(r resources.Request) []int {
	out := make([]int, len(m.set.Ranks))
	for i, rk := range m.set.Ranks {
		out[i] = rk.Cores.Minus(m.usedC[rk.Rank]).Count() / r.CoresPerTask
		if r.GPUsPerTask > 0 {
			out[i] = min(out[i], rk.GPUs.Minus(m.usedG[rk.Rank]).Count()/r.GPUsPerTask)
		}
	}
	return out
}

func (m *naive) fits(r resources.Request) bool {
	caps := m.caps(r)
	if r.Nodes == 0 {
		sum := 0
		for _, c := range caps {
			sum += c
		}
		return sum >= r.Tasks
	}
	for mask := 0; mask < 1<<len(caps); mask++ {
		k, ok := 0, true
		for i := range caps {
			if mask&(1<<i) == 0 {
				continue
			}
			share := r.Tasks / r.Nodes
			if k < r.Tasks%r.Nodes {
				share++
			}
			if caps[i] < share {
				ok = false
			}
			k++
		}
		if ok && k == r.Nodes {
			return true
		}
	}
	return false
}

func (m *naive) freeCores() int {
	n := 0
	for _, rk := range m.set.Ranks {
		n += rk.Cores.Minus(m.usedC[rk.Rank]).Count()
	}
	return n
}

// started checks one pass's Starts against the model and applies them.
func (m *naive) apply(starts []Start, depth int) {
	t := m.t
	t.Helper()
	lastSeq := -1
	for _, st := range starts {
		i := slices.IndexFunc(m.pending, func(j Job) bool { return j.ID == st.ID })
		if i < 0 {
			t.Fatalf("job %d started but is not pending", st.ID)
		}
		j := m.pending[i]
		if m.seqOf[j.ID] <= lastSeq {
			t.Fatalf("job %d started out of submission order within a pass", st.ID)
		}
		lastSeq = m.seqOf[j.ID]
		a := st.Alloc
		if a.Tasks() != j.Req.Tasks || a.CoresPerTask != j.Req.CoresPerTask || a.GPUsPerTask != j.Req.GPUsPerTask ||
			(j.Req.Nodes > 0 && len(a.Slices) != j.Req.Nodes) {
			t.Fatalf("job %d (%+v) got %+v", j.ID, j.Req, a)
		}
		for _, s := range a.Slices {
			k := slices.IndexFunc(m.set.Ranks, func(r resources.Rank) bool { return r.Rank == s.Rank })
			if k < 0 {
				t.Fatalf("job %d placed on unknown rank %d", j.ID, s.Rank)
			}
			rk := m.set.Ranks[k]
			if s.Cores.Count() != s.Tasks*j.Req.CoresPerTask || s.GPUs.Count() != s.Tasks*j.Req.GPUsPerTask {
				t.Fatalf("job %d: slice %+v has the wrong number of ids", j.ID, s)
			}
			if !s.Cores.Minus(rk.Cores).Empty() || !s.GPUs.Minus(rk.GPUs).Empty() {
				t.Fatalf("job %d: slice %+v uses ids the rank does not have", j.ID, s)
			}
			if !s.Cores.Intersect(m.usedC[s.Rank]).Empty() || !s.GPUs.Intersect(m.usedG[s.Rank]).Empty() {
				t.Fatalf("job %d: rank %d cores %s or GPUs %s double-booked", j.ID, s.Rank, s.Cores, s.GPUs)
			}
			m.usedC[s.Rank] = m.usedC[s.Rank].Union(s.Cores)
			m.usedG[s.Rank] = m.usedG[s.Rank].Union(s.GPUs)
		}
		m.pending = slices.Delete(m.pending, i, i+1)
		m.running[j.ID] = a
		m.started = append(m.started, j.ID)
	}
	// After an fcfs pass no job within the queue depth fits what is free
	// (backfill passes, depth < 0, may leave such jobs for a reservation).
	if depth < 0 {
		return
	}
	for k, j := range m.pending {
		if depth > 0 && k >= depth {
			break
		}
		if m.fits(j.Req) {
			t.Fatalf("job %d (%+v), position %d, fits the free resources after the pass but did not start", j.ID, j.Req, k)
		}
	}
}

func (m *naive) finish(id JobID) {
	for _, s := range m.running[id].Slices {
		m.usedC[s.Rank] = m.usedC[s.Rank].Minus(s.Cores)
		m.usedG[s.Rank] = m.usedG[s.Rank].Minus(s.GPUs)
	}
	delete(m.running, id)
}

func randomSet(rng *rand.Rand) resources.Set {
	var s resources.Set
	for r := range 1 + rng.IntN(4) {
		s.Ranks = append(s.Ranks, resources.Rank{Rank: r, Host: "n",
			Cores: resources.RangeIDSet(0, rng.IntN(8)), GPUs: resources.RangeIDSet(0, rng.IntN(3)-1)})
	}
	return s
}

func randomReq(rng *rand.Rand) resources.Request {
	if rng.IntN(2) == 0 {
		return resources.Request{Tasks: 1, CoresPerTask: 1}
	}
	r := resources.Request{Tasks: 1 + rng.IntN(6), CoresPerTask: 1 + rng.IntN(3)}
	if rng.IntN(5) == 0 {
		r.GPUsPerTask = 1 + rng.IntN(2)
	}
	if rng.IntN(4) == 0 {
		r.Nodes = 1 + rng.IntN(min(r.Tasks, 4))
	}
	if rng.IntN(40) == 0 {
		r.Tasks = 100 // usually infeasible
	}
	return r
}

// TestSimulate drives the scheduler with a fake clock: jobs arrive, run for
// random durations and finish in time order; after every pass the naive
// model checks the invariants.
func TestSimulate(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 60 {
		set := randomSet(rng)
		depth := []int{0, 1, 2, 5}[round%4]
		simulate(t, rng, set, Options{Policy: "sched.firstfit", QueueDepth: depth}, 400)
		simulate(t, rng, set, Options{Policy: "sched.fcfs"}, 100)
	}
}

// TestSimulateBackfill runs the backfill policies on random multi-rank sets
// with GPUs and -N requests: every start is checked against the naive
// model (no double booking, the right shape), every job runs in the end,
// and Why and Reserved answer for every pending job.
func TestSimulateBackfill(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 17))
	for round := range 60 {
		opt := []Options{{Policy: "sched.easy"}, {Policy: "sched.conservative"},
			{Policy: "sched.hybrid", ReservationDepth: 2, QueueDepth: 3}, {Policy: "sched.easy", QueueDepth: 1}}[round%4]
		opt.DefaultEstimate = 20 * time.Millisecond
		simulate(t, rng, randomSet(rng), opt, 300)
	}
}

func simulate(t *testing.T, rng *rand.Rand, set resources.Set, opt Options, njobs int) {
	s, err := New(set, opt)
	if err != nil {
		t.Fatal(err)
	}
	depth := opt.QueueDepth
	switch opt.Policy {
	case "sched.firstfit":
	case "sched.fcfs":
		depth = 1 // strict FCFS is first fit that stops at the first job that does not fit
	default:
		depth = -1
	}
	m := newNaive(t, set)
	now := t0
	ends := map[JobID]time.Time{}
	nextID := JobID(1)
	var out []Start
	for submitted := 0; submitted < njobs || len(m.pending) > 0 || len(m.running) > 0; {
		// Arrivals: a burst of 0-5 jobs.
		for k := rng.IntN(6); k > 0 && submitted < njobs; k-- {
			j := Job{ID: nextID, Req: randomReq(rng), Estimate: time.Duration(rng.IntN(60)) * time.Millisecond}
			nextID++
			submitted++
			err := s.Submit(j)
			if ferr := set.Feasible(j.Req); ferr != nil {
				if err == nil || err.Error() != ferr.Error() || !errors.Is(err, resources.ErrUnsatisfiable) {
					t.Fatalf("Submit(%+v) = %v, want the Feasible error %q", j.Req, err, ferr)
				}
				continue
			}
			if err != nil {
				t.Fatalf("Submit(%+v) = %v", j.Req, err)
			}
			m.seqOf[j.ID] = int(j.ID)
			m.pending = append(m.pending, j)
		}
		// Now and then cancel a pending job.
		if len(m.pending) > 0 && rng.IntN(20) == 0 {
			k := rng.IntN(len(m.pending))
			id := m.pending[k].ID
			if !s.Cancel(id) || s.Cancel(id) {
				t.Fatalf("Cancel(%d) did not remove it exactly once", id)
			}
			m.pending = slices.Delete(m.pending, k, k+1)
		}
		out = s.Schedule(now, out[:0])
		m.apply(out, depth)
		for _, st := range out {
			ends[st.ID] = now.Add(time.Duration(1+rng.IntN(50)) * time.Millisecond)
		}
		if depth < 0 && rng.IntN(4) == 0 {
			for _, j := range m.pending {
				if s.Why(j.ID) == "" {
					t.Fatalf("no reason for pending job %d", j.ID)
				}
				if at, ok := s.Reserved(j.ID); ok && at.Before(now) {
					t.Fatalf("job %d reserved at %v, before now %v", j.ID, at, now)
				}
			}
		}
		if s.Pending() != len(m.pending) || s.Running() != len(m.running) || s.FreeCores() != m.freeCores() {
			t.Fatalf("counts: pending %d/%d running %d/%d free %d/%d", s.Pending(), len(m.pending),
				s.Running(), len(m.running), s.FreeCores(), m.freeCores())
		}
		// Advance the clock to the next finish (or a short tick) and finish
		// every job due by then, in time order.
		next := now.Add(5 * time.Millisecond)
		for _, e := range ends {
			if e.Before(next) {
				next = e
			}
		}
		now = next
		var due []JobID
		for id, e := range ends {
			if !e.After(now) {
				due = append(due, id)
			}
		}
		slices.SortFunc(due, func(a, b JobID) int { return ends[a].Compare(ends[b])*2 + cmpID(a, b) })
		for _, id := range due {
			if err := s.Finish(id); err != nil {
				t.Fatalf("Finish(%d): %v", id, err)
			}
			m.finish(id)
			delete(ends, id)
		}
	}
	if depth == 1 && !slices.IsSorted(m.started) {
		t.Fatalf("queue-depth 1 reordered starts: %v", m.started)
	}
	if err := s.Finish(nextID + 1); !errors.Is(err, ErrUnknownJob) {
		t.Fatalf("Finish of an unknown id = %v", err)
	}
}

func cmpID(a, b JobID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
