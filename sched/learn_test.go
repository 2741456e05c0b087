package sched

import (
	"fmt"
	"testing"
	"time"
)

func TestLearner(t *testing.T) {
	l := NewLearner(2)
	if _, ok := l.Estimate("a"); ok {
		t.Fatal("an estimate before any run")
	}
	l.Observe("a", 4*time.Second)
	l.Observe("a", 8*time.Second)
	if d, ok := l.Estimate("a"); !ok || d != 10*time.Second {
		t.Errorf("a: %v %v, want 10s (8s + a quarter)", d, ok)
	}
	for range learnWindow { // the 8 s run leaves the window
		l.Observe("a", time.Second)
	}
	if d, _ := l.Estimate("a"); d != 1250*time.Millisecond {
		t.Errorf("a after short runs: %v, want 1.25s", d)
	}
	l.Observe("b", 0)
	if d, ok := l.Estimate("b"); !ok || d != time.Millisecond {
		t.Errorf("b: %v %v, want the 1ms floor", d, ok)
	}
	l.Observe("c", time.Second) // a third key forgets the oldest, a
	if _, ok := l.Estimate("a"); ok {
		t.Error("a was not forgotten")
	}
	if _, ok := l.Estimate("c"); !ok {
		t.Error("c was not learned")
	}
	for i := range 100 {
		l.Observe(fmt.Sprint(i), time.Second)
	}
	if len(l.keys) != 2 || len(l.order) != 2 {
		t.Errorf("%d keys kept, want 2", len(l.keys))
	}
	l.Observe("", time.Second)
	if _, ok := l.Estimate(""); ok {
		t.Error("the empty key was learned")
	}
}

// A job queued before any job of its kind finished is planned with the
// learned estimate once one has: short jobs then backfill around a wide
// one that the fixed default would have kept them behind.
func TestLearnedEstimatePlansQueuedJobs(t *testing.T) {
	for _, learn := range []bool{false, true} {
		s, _ := New(cores(2), Options{Policy: "sched.easy", LearnEstimates: learn})
		s.Submit(Job{ID: 1, Req: req(1, 1), Key: "long"})
		s.Schedule(t0, nil)
		s.Submit(Job{ID: 2, Req: req(2, 1), Key: "wide"})
		s.Submit(Job{ID: 3, Req: req(1, 1), Key: "short"})
		if got := s.Schedule(t0.Add(time.Millisecond), nil); len(got) != 0 {
			t.Fatalf("learn=%v: started %+v before anything was learned", learn, got)
		}
		s.Observe("short", time.Second)
		got := s.Schedule(t0.Add(time.Second), nil)
		if started := len(got) == 1 && got[0].ID == 3; started != learn {
			t.Errorf("learn=%v: started %+v", learn, got)
		}
		if at, ok := s.Reserved(2); !ok || !at.Equal(t0.Add(time.Hour)) {
			t.Errorf("learn=%v: the wide job's reservation is %v, %v; want job 1's planned end", learn, at, ok)
		}
	}
}
