package sched

import (
	"errors"
	"testing"

	"github.com/fluxtaskfarm/flux/resources"
)

// FuzzScheduler reads the input as a script of operations (submit, cancel,
// finish, schedule) on a small two-rank instance and checks every pass
// against the naive model. It hunts for sequences the random simulation
// does not reach (cancels between passes, duplicate ids, finishes of
// pending jobs).
func FuzzScheduler(f *testing.F) {
	f.Add([]byte{0, 1, 1, 0, 2, 2, 3, 0, 2, 1, 3, 0})
	f.Add([]byte{0, 9, 0, 9, 0, 9, 3, 0, 1, 9, 2, 0, 3, 0})
	f.Add([]byte{1, 0, 0x55, 0, 0x21, 3, 0, 2, 0, 3, 1})
	f.Fuzz(func(t *testing.T, script []byte) {
		set := resources.Set{Ranks: []resources.Rank{
			{Rank: 0, Cores: resources.RangeIDSet(0, 3), GPUs: resources.NewIDSet(0)},
			{Rank: 1, Cores: resources.RangeIDSet(0, 2)},
		}}
		depth := 0
		if len(script) > 0 {
			depth = int(script[0] % 4)
			script = script[1:]
		}
		s, err := New(set, Options{Policy: "sched.firstfit", QueueDepth: depth, MaxPending: 6})
		if err != nil {
			t.Fatal(err)
		}
		m := newNaive(t, set)
		nextID := JobID(1)
		for len(script) >= 2 {
			op, arg := script[0]%4, script[1]
			script = script[2:]
			switch op {
			case 0: // submit: arg bits encode the request
				r := resources.Request{Tasks: 1 + int(arg&3), CoresPerTask: 1 + int(arg>>2&1), GPUsPerTask: int(arg >> 3 & 1)}
				if arg&0x40 != 0 {
					r.Nodes = 1 + int(arg>>4&1)
					r.Tasks = max(r.Tasks, r.Nodes)
				}
				id := nextID
				if arg&0x80 != 0 && nextID > 1 {
					id = nextID - 1 // a duplicate, if that job is still around
				}
				err := s.Submit(Job{ID: id, Req: r})
				_, pend := m.seqOf[id]
				_, run := m.running[id]
				dup := (pend && slicesContainsID(m.pending, id)) || run
				ferr := set.Feasible(r)
				switch {
				case ferr != nil:
					if err == nil || err.Error() != ferr.Error() {
						t.Fatalf("Submit(%+v) = %v, want %v", r, err, ferr)
					}
				case dup:
					if !errors.Is(err, ErrDuplicate) {
						t.Fatalf("duplicate Submit(%d) = %v", id, err)
					}
				case len(m.pending) >= 6:
					if !errors.Is(err, ErrQueueFull) {
						t.Fatalf("Submit on a full queue = %v", err)
					}
				case err != nil:
					t.Fatalf("Submit(%+v) = %v", r, err)
				default:
					m.seqOf[id] = int(id)
					m.pending = append(m.pending, Job{ID: id, Req: r})
					if id == nextID {
						nextID++
					}
				}
			case 1: // cancel
				id := JobID(arg) % (nextID + 1)
				want := slicesContainsID(m.pending, id)
				if s.Cancel(id) != want {
					t.Fatalf("Cancel(%d) = %v, want %v", id, !want, want)
				}
				if want {
					for k, j := range m.pending {
						if j.ID == id {
							m.pending = append(m.pending[:k], m.pending[k+1:]...)
							break
						}
					}
				}
			case 2: // finish
				id := JobID(arg) % (nextID + 1)
				_, run := m.running[id]
				err := s.Finish(id)
				if run != (err == nil) {
					t.Fatalf("Finish(%d) = %v, running=%v", id, err, run)
				}
				if run {
					m.finish(id)
				}
			case 3:
				m.apply(s.Schedule(t0, nil), depth)
			}
			if s.Pending() != len(m.pending) || s.Running() != len(m.running) || s.FreeCores() != m.freeCores() {
				t.Fatalf("counts: pending %d/%d running %d/%d free %d/%d", s.Pending(), len(m.pending),
					s.Running(), len(m.running), s.FreeCores(), m.freeCores())
			}
		}
	})
}

func slicesContainsID(jobs []Job, id JobID) bool {
	for _, j := range jobs {
		if j.ID == id {
			return true
		}
	}
	return false
}
