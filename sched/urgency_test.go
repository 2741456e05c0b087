package sched

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// startOrder runs jobs (all of one core) on one core, one at a time, and
// returns the order they started in.
func startOrder(t *testing.T, s *Scheduler) []JobID {
	t.Helper()
	var order []JobID
	for now := t0; s.Pending() > 0 || s.Running() > 0; now = now.Add(time.Second) {
		out := s.Schedule(now, nil)
		if len(out) == 0 && s.Running() == 0 {
			break // only held jobs are left
		}
		for _, st := range out {
			order = append(order, st.ID)
			if err := s.Finish(st.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	return order
}

func TestUrgencyOrder(t *testing.T) {
	for _, pol := range PolicyNames() {
		s, _ := New(cores(1), Options{Policy: pol})
		for _, j := range []Job{
			{ID: 1},                         // default 16
			{ID: 2, Urgency: 31},            // expedited: first
			{ID: 3, Urgency: 8},             // after every 16
			{ID: 4},                         // 16, after 1
			{ID: 5, Held: true},             // never
			{ID: 6, Urgency: 31},            // after 2
			{ID: 7, Urgency: 8},             // after 3
			{ID: 8, Held: true, Urgency: 9}, // Held wins
		} {
			j.Req = req(1, 1)
			if err := s.Submit(j); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := startOrder(t, s), []JobID{2, 6, 1, 4, 3, 7}; !equalIDs(got, want) {
			t.Errorf("%s: started %v, want %v", pol, got, want)
		}
		if s.Pending() != 2 || s.Why(5) != "held (urgency 0)" {
			t.Errorf("%s: pending %d, Why(5) = %q", pol, s.Pending(), s.Why(5))
		}
		// Releasing a held job puts it by its submission time among its
		// new urgency's jobs.
		if err := s.SetUrgency(8, 16); err != nil {
			t.Fatal(err)
		}
		if err := s.SetUrgency(5, 16); err != nil {
			t.Fatal(err)
		}
		if got := startOrder(t, s); !equalIDs(got, []JobID{5, 8}) {
			t.Errorf("%s: released jobs started %v, want [5 8]", pol, got)
		}
	}
}

// TestSetUrgencyMoves: raising a job's urgency moves it ahead; lowering it
// moves it behind, by submission order within the level.
func TestSetUrgencyMoves(t *testing.T) {
	s, _ := New(cores(1), Options{Policy: "sched.fcfs"})
	for id := JobID(1); id <= 5; id++ {
		s.Submit(Job{ID: id, Req: req(1, 1)})
	}
	steps := []struct {
		id  JobID
		urg int
	}{{4, 20}, {2, 20}, {1, 3}, {5, 0}}
	for _, st := range steps {
		if err := s.SetUrgency(st.id, st.urg); err != nil {
			t.Fatal(err)
		}
	}
	if u, ok := s.Urgency(2); !ok || u != 20 {
		t.Errorf("Urgency(2) = %d, %v", u, ok)
	}
	// 20: 2, 4 (by submission); 16: 3; 3: 1; held: 5
	if got := startOrder(t, s); !equalIDs(got, []JobID{2, 4, 3, 1}) {
		t.Errorf("started %v, want [2 4 3 1]", got)
	}
	if err := s.SetUrgency(5, 32); !errors.Is(err, ErrUrgency) {
		t.Errorf("SetUrgency(32) = %v", err)
	}
	if err := s.SetUrgency(99, 3); !errors.Is(err, ErrNotPending) {
		t.Errorf("SetUrgency(unknown) = %v", err)
	}
	if err := s.Submit(Job{ID: 9, Req: req(1, 1), Urgency: -1}); !errors.Is(err, ErrUrgency) {
		t.Errorf("Submit(urgency -1) = %v", err)
	}
}

// TestExpediteAheadOfBlockedHead: a job submitted with a higher urgency
// goes ahead of a blocked head, even after passes that looked only at the
// tail (the incremental scan must see it).
func TestExpediteAheadOfBlockedHead(t *testing.T) {
	for _, pol := range []string{"sched.fcfs", "sched.easy", "sched.firstfit"} {
		s, _ := New(cores(2), Options{Policy: pol})
		s.Submit(Job{ID: 1, Req: req(1, 1), Estimate: time.Minute})
		s.Schedule(t0, nil)
		s.Submit(Job{ID: 2, Req: req(2, 1), Estimate: time.Minute}) // blocked head
		s.Submit(Job{ID: 3, Req: req(1, 1), Estimate: time.Hour})   // would delay 2
		if got := s.Schedule(t0, nil); len(got) != 0 && pol != "sched.firstfit" {
			t.Fatalf("%s: started %+v", pol, got)
		}
		if pol == "sched.firstfit" {
			continue
		}
		s.Submit(Job{ID: 4, Req: req(1, 1), Urgency: UrgencyExpedite, Estimate: time.Hour})
		if got := s.Schedule(t0, nil); len(got) != 1 || got[0].ID != 4 {
			t.Errorf("%s: expedited job: started %+v, want job 4", pol, got)
		}
	}
}

func TestStopStart(t *testing.T) {
	s, _ := New(cores(2), Options{})
	s.Submit(Job{ID: 1, Req: req(1, 1)})
	s.Stop()
	if got := s.Schedule(t0, nil); len(got) != 0 || !s.Stopped() {
		t.Fatalf("stopped queue started %+v", got)
	}
	s.Submit(Job{ID: 2, Req: req(1, 1)})
	if w := s.Why(2); w != "the queue is stopped" {
		t.Errorf("Why = %q", w)
	}
	s.Start()
	if got := s.Schedule(t0, nil); len(got) != 2 {
		t.Errorf("after Start: started %+v, want both", got)
	}
}

func TestParseUrgency(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "16": 16, "31": 31, "hold": 0, "default": 16, "expedite": 31, "7": 7} {
		if got, err := ParseUrgency(in); err != nil || got != want {
			t.Errorf("ParseUrgency(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "32", "-1", "x", "1.5", "HOLD", " 3"} {
		if _, err := ParseUrgency(in); err == nil {
			t.Errorf("ParseUrgency(%q) accepted", in)
		}
	}
}

// TestQueueOrderAgainstSort drives the queue with random submits (random
// urgencies and holds), urgency changes, cancels and starts, and after
// every step compares it with the naive order: a stable sort by urgency,
// highest first, then submission.
func TestQueueOrderAgainstSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 13))
	for round := range 200 {
		s, _ := New(cores(4), Options{Policy: "sched.fcfs"})
		type mj struct {
			id  JobID
			urg int
		}
		var model []mj // submission order
		next := JobID(1)
		for step := range 60 {
			switch op := rng.IntN(10); {
			case op < 5:
				u := rng.IntN(UrgencyMax + 1)
				if err := s.Submit(Job{ID: next, Req: req(1, 1), Urgency: u, Held: u == 0}); err != nil {
					t.Fatal(err)
				}
				if u == 0 {
					u = UrgencyHold
				}
				model = append(model, mj{next, u})
				next++
			case op < 7 && len(model) > 0:
				k := rng.IntN(len(model))
				u := rng.IntN(UrgencyMax + 1)
				if err := s.SetUrgency(model[k].id, u); err != nil {
					t.Fatal(err)
				}
				model[k].urg = u
			case op < 8 && len(model) > 0:
				k := rng.IntN(len(model))
				if !s.Cancel(model[k].id) {
					t.Fatalf("Cancel(%d) failed", model[k].id)
				}
				model = slices.Delete(model, k, k+1)
			case op < 9 && len(model) > 0: // a pass on an empty machine starts the unheld head(s)
				for _, st := range s.Schedule(t0, nil) {
					k := slices.IndexFunc(model, func(m mj) bool { return m.id == st.ID })
					if k < 0 {
						t.Fatalf("started %d, not pending", st.ID)
					}
					model = slices.Delete(model, k, k+1)
					if err := s.Finish(st.ID); err != nil {
						t.Fatal(err)
					}
				}
			}
			want := slices.Clone(model)
			slices.SortStableFunc(want, func(a, b mj) int { return b.urg - a.urg })
			var got []JobID
			for n := s.queue.head; n != nil; n = n.next {
				got = append(got, n.job.ID)
				if n.next != nil && n.next.prev != n {
					t.Fatalf("round %d step %d: broken back link at %d", round, step, n.job.ID)
				}
			}
			var wantIDs []JobID
			for _, m := range want {
				wantIDs = append(wantIDs, m.id)
			}
			if !equalIDs(got, wantIDs) {
				t.Fatalf("round %d step %d: queue %v, want %v (model %+v)", round, step, got, wantIDs, model)
			}
			for u := range s.queue.last {
				l := s.queue.last[u]
				if l != nil && (int(l.urg) != u || (l.next != nil && int(l.next.urg) == u)) {
					t.Fatalf("round %d step %d: last[%d] is job %d of urgency %d", round, step, u, l.job.ID, l.urg)
				}
			}
		}
	}
}
