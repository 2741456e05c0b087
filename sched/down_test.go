package sched

import (
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// A rank that is down is never used again, even after its running job ends.
func TestDown(t *testing.T) {
	set := resources.Set{Ranks: []resources.Rank{
		{Rank: 0, Cores: resources.RangeIDSet(0, 1)},
		{Rank: 1, Cores: resources.RangeIDSet(0, 1)},
	}}
	s, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	one := resources.Request{Tasks: 1, CoresPerTask: 1}
	now := time.Unix(0, 0)
	for id := JobID(1); id <= 4; id++ {
		if err := s.Submit(Job{ID: id, Req: one}); err != nil {
			t.Fatal(err)
		}
	}
	starts := s.Schedule(now, nil)
	if len(starts) != 4 {
		t.Fatalf("%d started, want 4", len(starts))
	}
	var onRank1 []JobID
	for _, st := range starts {
		if st.Alloc.Slices[0].Rank == 1 {
			onRank1 = append(onRank1, st.ID)
		}
	}
	s.Down(1)
	for _, id := range onRank1 {
		if err := s.Finish(id); err != nil {
			t.Fatal(err)
		}
	}
	if s.FreeCores() != 0 {
		t.Fatalf("free cores %d after rank 1 went down, want 0", s.FreeCores())
	}
	for id := JobID(5); id <= 6; id++ {
		s.Submit(Job{ID: id, Req: one})
	}
	if got := s.Schedule(now, nil); len(got) != 0 {
		t.Fatalf("started %+v on a down rank", got)
	}
	s.Finish(1)
	got := s.Schedule(now, nil)
	if len(got) != 1 || got[0].Alloc.Slices[0].Rank != 0 {
		t.Fatalf("after a rank-0 job ended: %+v, want one start on rank 0", got)
	}
	if !s.IsDown(1) || s.IsDown(0) {
		t.Error("IsDown wrong")
	}
}

// A rank that comes back (its broker rejoined) takes work again, whether it
// went down idle or busy, and Up of a rank that is up changes nothing.
func TestUp(t *testing.T) {
	set := resources.Set{Ranks: []resources.Rank{
		{Rank: 0, Cores: resources.RangeIDSet(0, 1)},
		{Rank: 1, Cores: resources.RangeIDSet(0, 1)},
		{Rank: 2, Cores: resources.RangeIDSet(0, 1)},
	}}
	one := resources.Request{Tasks: 1, CoresPerTask: 1}
	now := time.Unix(0, 0)
	for _, tc := range []struct {
		name string
		busy bool // a job runs on rank 1 when it goes down, and ends while it is down
	}{{"idle", false}, {"busy", true}} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(set, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var onRank1 []JobID
			if tc.busy {
				for id := JobID(1); id <= 6; id++ {
					s.Submit(Job{ID: id, Req: one})
				}
				for _, st := range s.Schedule(now, nil) {
					if st.Alloc.Slices[0].Rank == 1 {
						onRank1 = append(onRank1, st.ID)
					}
				}
			}
			s.Down(1)
			s.Down(2)
			for _, id := range onRank1 {
				s.Finish(id)
			}
			s.Up(1)
			s.Up(1)
			s.Up(0)
			if s.IsDown(1) || !s.IsDown(2) {
				t.Fatalf("IsDown(1)=%v IsDown(2)=%v after Up(1), want false, true", s.IsDown(1), s.IsDown(2))
			}
			want := 2 // rank 1's two cores (rank 0's are busy in the busy case)
			if !tc.busy {
				want = 4
			}
			if s.FreeCores() != want {
				t.Fatalf("free cores %d after Up(1), want %d", s.FreeCores(), want)
			}
			for id := JobID(10); id < 20; id++ {
				s.Submit(Job{ID: id, Req: one})
			}
			for _, st := range s.Schedule(now, nil) {
				if st.Alloc.Slices[0].Rank == 2 {
					t.Fatalf("job %d placed on rank 2, which is still down", st.ID)
				}
			}
			if s.FreeCores() != 0 {
				t.Fatalf("%d cores left free with work queued", s.FreeCores())
			}
		})
	}
}
