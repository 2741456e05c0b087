package sched

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

func cores(n int) resources.Set {
	return resources.Set{Ranks: []resources.Rank{{Rank: 0, Host: "h", Cores: resources.RangeIDSet(0, n-1)}}}
}

func req(n, c int) resources.Request {
	return resources.Request{Tasks: n, CoresPerTask: c}
}

var t0 = time.Unix(1700000000, 0)

func TestNewOptions(t *testing.T) {
	tests := []struct {
		set     resources.Set
		opt     Options
		wantErr string
	}{
		{cores(2), Options{}, ""},
		{cores(2), Options{Policy: "fcfs"}, ""},
		{cores(2), Options{Policy: "sched.fcfs"}, ""},
		{cores(2), Options{Policy: "sched.easy"}, ""},
		{cores(2), Options{Policy: "conservative"}, ""},
		{cores(2), Options{Policy: "sched.hybrid", ReservationDepth: 3}, ""},
		{cores(2), Options{Policy: "sched.foo"}, `unknown scheduler "sched.foo"; valid: sched.fcfs, sched.easy, sched.conservative, sched.hybrid`},
		{cores(2), Options{ReservationDepth: -1}, "reservation depth -1"},
		{cores(2), Options{DefaultEstimate: -time.Second}, "default estimate -1s"},
		{cores(2), Options{QueueDepth: -1}, "queue depth -1"},
		{cores(2), Options{MaxPending: -5}, "max pending -5"},
		{resources.Set{}, Options{}, "no cores"},
	}
	for _, tc := range tests {
		s, err := New(tc.set, tc.opt)
		if tc.wantErr == "" {
			if err != nil || s == nil {
				t.Errorf("New(%+v) = %v", tc.opt, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("New(%+v) error = %v, want %q", tc.opt, err, tc.wantErr)
		}
	}
}

func TestSubmitErrors(t *testing.T) {
	s, _ := New(cores(2), Options{MaxPending: 2})
	err := s.Submit(Job{ID: 1, Req: req(100000, 1)})
	if err == nil || err.Error() != "-n 100000 asks for 100000 cores; the instance has 2" || !errors.Is(err, resources.ErrUnsatisfiable) {
		t.Errorf("infeasible Submit = %v", err)
	}
	if err := s.Submit(Job{ID: 1, Req: req(0, 1)}); err == nil || !strings.Contains(err.Error(), "-n 0") {
		t.Errorf("invalid Submit = %v", err)
	}
	if s.Pending() != 0 {
		t.Fatalf("rejected jobs were queued: %d pending", s.Pending())
	}
	for id := JobID(1); id <= 2; id++ {
		if err := s.Submit(Job{ID: id, Req: req(2, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Submit(Job{ID: 2, Req: req(1, 1)}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate pending Submit = %v", err)
	}
	err = s.Submit(Job{ID: 3, Req: req(1, 1)})
	if !errors.Is(err, ErrQueueFull) || err.Error() != "scheduler queue is full (2 pending); retry after some jobs finish" {
		t.Errorf("full Submit = %v", err)
	}
	// Infeasible beats full: the answer is final.
	if err := s.Submit(Job{ID: 3, Req: req(3, 1)}); !errors.Is(err, resources.ErrUnsatisfiable) {
		t.Errorf("infeasible Submit on a full queue = %v", err)
	}
	starts := s.Schedule(t0, nil)
	if len(starts) != 1 || starts[0].ID != 1 {
		t.Fatalf("Schedule = %+v, want job 1", starts)
	}
	if err := s.Submit(Job{ID: 1, Req: req(1, 1)}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate running Submit = %v", err)
	}
	if err := s.Submit(Job{ID: 3, Req: req(1, 1)}); err != nil {
		t.Errorf("Submit after the queue drained = %v", err)
	}
}

func TestFinishCancel(t *testing.T) {
	s, _ := New(cores(2), Options{})
	for id := JobID(1); id <= 3; id++ {
		if err := s.Submit(Job{ID: id, Req: req(1, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	starts := s.Schedule(t0, nil)
	if len(starts) != 2 || starts[0].ID != 1 || starts[1].ID != 2 || s.Running() != 2 || s.Pending() != 1 || s.FreeCores() != 0 {
		t.Fatalf("first pass: %+v running %d pending %d", starts, s.Running(), s.Pending())
	}
	if err := s.Finish(99); !errors.Is(err, ErrUnknownJob) {
		t.Errorf("Finish(unknown) = %v", err)
	}
	if err := s.Finish(3); !errors.Is(err, ErrUnknownJob) || !strings.Contains(err.Error(), "still pending") {
		t.Errorf("Finish(pending) = %v", err)
	}
	if s.Cancel(1) {
		t.Error("Cancel of a running job succeeded")
	}
	if !s.Cancel(3) || s.Cancel(3) || s.Pending() != 0 {
		t.Error("Cancel of a pending job did not remove it exactly once")
	}
	if err := s.Finish(1); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(1); !errors.Is(err, ErrUnknownJob) {
		t.Errorf("second Finish = %v", err)
	}
	if s.FreeCores() != 1 {
		t.Errorf("FreeCores = %d after one finish", s.FreeCores())
	}
	if got := s.Schedule(t0, nil); len(got) != 0 {
		t.Errorf("the cancelled job started: %+v", got)
	}
	if got := s.Resources(); got.Cores() != 2 {
		t.Errorf("Resources() = %+v", got)
	}
}

func TestFCFSSkipsAndDepth(t *testing.T) {
	tests := []struct {
		depth int
		want  []JobID
	}{
		{0, []JobID{1, 3, 4}}, // 2 (-n3) does not fit the 2 free cores; 3 and 4 go around it
		{1, []JobID{1}},       // strict FCFS: stop at 2
		{2, []JobID{1, 3, 4}}, // one blocked job is within the depth
	}
	for _, tc := range tests {
		s, _ := New(cores(4), Options{QueueDepth: tc.depth})
		jobs := []Job{{ID: 1, Req: req(2, 1)}, {ID: 2, Req: req(3, 1)}, {ID: 3, Req: req(1, 1)}, {ID: 4, Req: req(1, 1)}, {ID: 5, Req: req(1, 1)}}
		for _, j := range jobs {
			if err := s.Submit(j); err != nil {
				t.Fatal(err)
			}
		}
		var got []JobID
		for _, st := range s.Schedule(t0, nil) {
			got = append(got, st.ID)
		}
		if !equalIDs(got, tc.want) {
			t.Errorf("depth %d: started %v, want %v", tc.depth, got, tc.want)
		}
	}
}

func equalIDs(a, b []JobID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWhy(t *testing.T) {
	twoNodes := resources.Set{Ranks: []resources.Rank{
		{Rank: 0, Cores: resources.RangeIDSet(0, 1)},
		{Rank: 1, Cores: resources.RangeIDSet(0, 1), GPUs: resources.NewIDSet(0)},
	}}
	s, _ := New(twoNodes, Options{Policy: "sched.firstfit", QueueDepth: 4})
	submit := func(id JobID, r resources.Request) {
		t.Helper()
		if err := s.Submit(Job{ID: id, Req: r}); err != nil {
			t.Fatal(err)
		}
	}
	submit(1, req(1, 1))
	submit(2, req(1, 1))
	s.Schedule(t0, nil) // 1 on rank 0 core 0, 2 on rank 0 core 1
	submit(3, req(3, 1))
	submit(4, resources.Request{Tasks: 1, CoresPerTask: 1, GPUsPerTask: 1})
	submit(5, req(1, 2))
	submit(6, resources.Request{Nodes: 2, Tasks: 2, CoresPerTask: 1})
	submit(7, req(1, 1))
	tests := []struct {
		id   JobID
		want string
	}{
		{1, ""},
		{99, ""},
		{3, "waiting for 3 cores (2 free)"},
		{4, "fits now; starts at the next scheduling pass"},
		{7, "beyond queue-depth 4 (4 jobs ahead)"},
	}
	for _, tc := range tests {
		if got := s.Why(tc.id); got != tc.want {
			t.Errorf("Why(%d) = %q, want %q", tc.id, got, tc.want)
		}
	}
	// 4 starts on rank 1 core 0 with the GPU and 7 on rank 1 core 1; 3, 5, 6 stay.
	if got := s.Schedule(t0, nil); len(got) != 2 || got[0].ID != 4 || got[1].ID != 7 {
		t.Fatalf("second pass started %+v, want 4 and 7", got)
	}
	submit(8, resources.Request{Tasks: 1, CoresPerTask: 1, GPUsPerTask: 1})
	for _, tc := range []struct {
		id   JobID
		want string
	}{
		{5, "waiting for 2 cores (0 free)"},
		{8, "waiting for 1 core (0 free)"},
	} {
		if got := s.Why(tc.id); got != tc.want {
			t.Errorf("Why(%d) = %q, want %q", tc.id, got, tc.want)
		}
	}
	if err := s.Finish(7); err != nil { // rank 1 core 1 free, the GPU still busy
		t.Fatal(err)
	}
	if got := s.Why(8); got != "waiting for 1 GPU (0 free)" {
		t.Errorf("Why(8) = %q", got)
	}
	if err := s.Finish(1); err != nil { // rank 0 core 0 and rank 1 core 1 free
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   JobID
		want string
	}{
		{5, "waiting for room for 1 task of 2 cores each on single nodes (2 cores free in all, but scattered)"},
		{6, "fits now; starts at the next scheduling pass"},
		{3, "waiting for 3 cores (2 free)"},
	} {
		if got := s.Why(tc.id); got != tc.want {
			t.Errorf("Why(%d) = %q, want %q", tc.id, got, tc.want)
		}
	}

	s2, _ := New(twoNodes, Options{Policy: "firstfit"})
	s2.Submit(Job{ID: 1, Req: req(1, 1)})
	s2.Submit(Job{ID: 2, Req: req(1, 1)})
	s2.Schedule(t0, nil) // rank 0 full, rank 1 free
	s2.Submit(Job{ID: 3, Req: resources.Request{Nodes: 2, Tasks: 2, CoresPerTask: 1}})
	if got := s2.Why(3); got != "waiting for 2 nodes with room for its tasks (2 cores free in all, but not on enough nodes)" {
		t.Errorf("Why(-N2) with one free node = %q", got)
	}
}
