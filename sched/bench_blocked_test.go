package sched

import (
	"fmt"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// BenchmarkScheduleBlocked measures one Schedule pass with a deep queue of
// blocked jobs: 1k, 100k and 1M pending. 64 cores: a -n32 job runs for an
// hour, 31 one-core fillers run, one core is free. The queue's head wants
// all 64 cores; behind it every job wants 2 (so none fits the free core).
// Each op finishes a filler and submits an expedited one (urgency 31: it
// goes to the head, so the pass must look from the head), then runs a
// pass at a later time (so the backfill policies replan): the filler
// starts, the head blocks, and the pass walks on.
//
// The backfill policies look at most queue-depth (1024) jobs past the
// head and fcfs stops at the head, so their cost must not grow with the
// queue; sched.firstfit walks the whole queue (each blocked job costs a
// comparison with the last failed request, no pool call) and grows
// linearly, which is one more reason it is not the default.
func BenchmarkScheduleBlocked(b *testing.B) {
	for _, pol := range []string{"sched.easy", "sched.fcfs", "sched.conservative", "sched.firstfit"} {
		for _, n := range []int{1_000, 100_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/%s", pol, count(n)), func(b *testing.B) { benchBlocked(b, pol, n) })
		}
	}
}

func count(n int) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1_000:
		return fmt.Sprintf("%dk", n/1_000)
	}
	return fmt.Sprint(n)
}

func benchBlocked(b *testing.B, pol string, pending int) {
	set := resources.Set{Ranks: []resources.Rank{{Rank: 0, Cores: resources.RangeIDSet(0, 63)}}}
	s, err := New(set, Options{Policy: pol, MaxPending: pending + 64})
	if err != nil {
		b.Fatal(err)
	}
	id := JobID(0)
	submit := func(j Job) {
		id++
		j.ID = id
		if err := s.Submit(j); err != nil {
			b.Fatal(err)
		}
	}
	now := t0
	submit(Job{Req: req(32, 1), Estimate: time.Hour})
	var fillers []JobID
	for range 31 {
		submit(Job{Req: req(1, 1), Estimate: time.Minute})
		fillers = append(fillers, id)
	}
	if got := s.Schedule(now, nil); len(got) != 32 {
		b.Fatalf("setup started %d jobs, want 32", len(got))
	}
	submit(Job{Req: req(64, 1), Estimate: time.Hour})
	for range pending - 1 {
		submit(Job{Req: req(2, 1), Estimate: 2 * time.Hour})
	}
	out := s.Schedule(now, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := i % len(fillers)
		if err := s.Finish(fillers[k]); err != nil {
			b.Fatal(err)
		}
		submit(Job{Req: req(1, 1), Estimate: time.Minute, Urgency: UrgencyExpedite})
		now = now.Add(time.Millisecond)
		out = s.Schedule(now, out[:0])
		if len(out) != 1 || out[0].ID != id {
			b.Fatalf("pass %d started %+v, want the expedited filler %d", i, out, id)
		}
		fillers[k] = id
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/pass")
	if s.Pending() != pending {
		b.Fatalf("%d pending, want %d", s.Pending(), pending)
	}
}
