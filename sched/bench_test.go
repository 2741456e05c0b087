package sched

import (
	"math/rand/v2"
	"time"

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
// submitted, one pass runs, with 1,024 cores busy and a deep queue behind,
// under sched.firstfit (the old default).
func BenchmarkScheduleSteady(b *testing.B) { benchSteady(b, Options{Policy: "sched.firstfit"}) }

// BenchmarkScheduleSteadyEasy is the capacitor's shape (all -n1, no -t)
// under sched.easy, the default: the head always fits when a core frees,
// so no pass needs a plan and EASY should cost what first fit costs.
func BenchmarkScheduleSteadyEasy(b *testing.B) { benchSteady(b, Options{Policy: "sched.easy"}) }

func benchSteady(b *testing.B, opt Options) {
	const ncores = 1024
	set := resources.Set{Ranks: []resources.Rank{{Rank: 0, Cores: resources.RangeIDSet(0, ncores-1)}}}
	r := resources.Request{Tasks: 1, CoresPerTask: 1}
	s, _ := New(set, opt)
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

// BenchmarkPolicies measures decisions (job starts) per second for each
// policy on a queue of 100,000 jobs over 1,024 cores: a mix of -n1 to -n64
// requests with estimates of 1 to 60 minutes (a tenth without -t), replayed
// with a simulated clock: each step finishes the running job with the
// earliest end (runs are half the estimate) and runs one pass.
func BenchmarkPolicies(b *testing.B) {
	const njobs, ncores = 100_000, 1024
	set := resources.Set{Ranks: []resources.Rank{{Rank: 0, Cores: resources.RangeIDSet(0, ncores-1)}}}
	rng := rand.New(rand.NewPCG(1, 2))
	jobs := make([]Job, njobs)
	for i := range jobs {
		n := 1
		if rng.IntN(4) == 0 {
			n = 1 << rng.IntN(7)
		}
		jobs[i] = Job{ID: JobID(i + 1), Req: req(n, 1), Estimate: time.Duration(1+rng.IntN(60)) * time.Minute}
		if rng.IntN(10) == 0 {
			jobs[i].Estimate = 0
		}
	}
	for _, pol := range []string{"sched.fcfs", "sched.easy", "sched.conservative", "sched.hybrid", "sched.firstfit"} {
		b.Run(pol, func(b *testing.B) {
			decisions := 0
			for b.Loop() {
				b.StopTimer() // the queue is set up outside the timing
				s, err := New(set, Options{Policy: pol})
				if err != nil {
					b.Fatal(err)
				}
				for _, j := range jobs {
					if err := s.Submit(j); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				decisions += replayBench(b, s, jobs, 5000)
			}
			b.ReportMetric(float64(decisions)/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}

// replayBench runs passes until limit jobs have started, finishing the
// earliest-ending running job between passes; it returns the starts.
func replayBench(b *testing.B, s *Scheduler, jobs []Job, limit int) int {
	type end struct {
		at time.Time
		id JobID
	}
	var ends []end
	now := t0
	started := 0
	var out []Start
	for started < limit {
		out = s.Schedule(now, out[:0])
		for _, st := range out {
			d := jobs[st.ID-1].Estimate
			if d == 0 {
				d = DefaultEstimate
			}
			ends = append(ends, end{now.Add(d / 2), st.ID})
		}
		started += len(out)
		if len(ends) == 0 {
			break
		}
		k := 0
		for i := range ends {
			if ends[i].at.Before(ends[k].at) {
				k = i
			}
		}
		now = ends[k].at
		if err := s.Finish(ends[k].id); err != nil {
			b.Fatal(err)
		}
		ends[k] = ends[len(ends)-1]
		ends = ends[:len(ends)-1]
	}
	return started
}
