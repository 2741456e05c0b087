package sched

import (
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// A drained rank (Down) gets no new jobs, its running job finishes, and Up
// gives its cores back.
func TestDownThenUp(t *testing.T) {
	set := resources.Set{Ranks: []resources.Rank{
		{Rank: 0, Host: "a", Cores: resources.RangeIDSet(0, 1)},
		{Rank: 1, Host: "b", Cores: resources.RangeIDSet(0, 1)},
	}}
	s, err := New(set, Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	one := resources.Request{Tasks: 1, CoresPerTask: 2}.Normalize()
	s.Submit(Job{ID: 1, Req: one})
	s.Submit(Job{ID: 2, Req: one})
	starts := s.Schedule(now, nil)
	if len(starts) != 2 {
		t.Fatalf("%d starts, want 2", len(starts))
	}
	s.Down(1)
	if s.FreeCores() != 0 {
		t.Errorf("free cores %d with both ranks busy", s.FreeCores())
	}
	onRank1 := JobID(1)
	if starts[1].Alloc.Slices[0].Rank == 1 {
		onRank1 = 2
	}
	if err := s.Finish(onRank1); err != nil {
		t.Fatal(err)
	}
	s.Submit(Job{ID: 3, Req: one})
	if got := s.Schedule(now, nil); len(got) != 0 {
		t.Fatalf("job 3 started on a drained rank: %+v", got)
	}
	if !s.Up(1) || s.Up(1) {
		t.Error("Up should change a down rank once")
	}
	got := s.Schedule(now, nil)
	if len(got) != 1 || got[0].ID != 3 || got[0].Alloc.Slices[0].Rank != 1 {
		t.Fatalf("after Up: %+v, want job 3 on rank 1", got)
	}
}
