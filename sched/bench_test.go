package sched

import (
	"testing"

	"github.com/fluxtaskfarm/flux/resources"
)

// BenchmarkSchedule100k measures the scheduler's share of a task farm run:
// 100,000 -n1 jobs submitted up front over 1,024 cores, then passes that
// start jobs, each followed by the finish of every started job. Reported
// per job (ns/job = ns/op / 100000).
func BenchmarkSchedule100k(b *testing.B) {
	const njobs, ncores = 100_000, 1024
	set := resources.Set{Ranks: []resources.Rank{{Rank: 0, Cores: resources.RangeIDSet(0, ncores-1)}}}
	r := resources.Request{Tasks: 1, CoresPerTask: 1}
	out := make([]Start, 0, ncores)
	b.ReportAllocs()
	for b.Loop() {
		s, err := New(set, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for id := range JobID(njobs) {
			if err := s.Submit(Job{ID: id + 1, Req: r}); err != nil {
				b.Fatal(err)
			}
		}
		done := 0
		for done < njobs {
			out = s.Schedule(t0, out[:0])
			for _, st := range out {
				if err := s.Finish(st.ID); err != nil {
					b.Fatal(err)
				}
			}
			done += len(out)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/njobs, "ns/job")
}

// BenchmarkScheduleSteady is the streaming shape: one job finishes, one is
// submitted, one pass runs, with 1,024 cores busy and a deep queue behind.
func BenchmarkScheduleSteady(b *testing.B) {
	const ncores = 1024
	set := resources.Set{Ranks: []resources.Rank{{Rank: 0, Cores: resources.RangeIDSet(0, ncores-1)}}}
	r := resources.Request{Tasks: 1, CoresPerTask: 1}
	s, _ := New(set, Options{})
	id := JobID(0)
	for range 2 * ncores {
		id++
		s.Submit(Job{ID: id, Req: r})
	}
	ring := make([]JobID, 0, ncores)
	out := s.Schedule(t0, nil)
	for _, st := range out {
		ring = append(ring, st.ID)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % ncores
		if err := s.Finish(ring[k]); err != nil {
			b.Fatal(err)
		}
		id++
		if err := s.Submit(Job{ID: id, Req: r}); err != nil {
			b.Fatal(err)
		}
		out = s.Schedule(t0, out[:0])
		if len(out) != 1 {
			b.Fatalf("pass started %d jobs, want 1", len(out))
		}
		ring[k] = out[0].ID
	}
}
