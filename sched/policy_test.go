package sched

import (
	"strings"
	"testing"
	"time"
)

// easyVsConservative: 4 cores; job 1 (-n2, 10s) runs; queued: job 2 (-n3,
// 10s), job 3 (-n4, 5s), job 4 (-n1, 25s). Job 2 is reserved at 10s on 3
// cores, leaving 1 core beside it. Conservative also reserves job 3 at 20s
// on all 4 cores, so job 4 (which would hold a core until 25s) must wait;
// EASY reserves only job 2, so job 4 backfills on the spare core.
func easyVsConservative(t *testing.T, opt Options) *Scheduler {
	t.Helper()
	s, err := New(cores(4), opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []Job{{ID: 1, Req: req(2, 1), Estimate: 10 * time.Second}} {
		if err := s.Submit(j); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Schedule(t0, nil); len(got) != 1 {
		t.Fatalf("job 1 did not start: %+v", got)
	}
	for _, j := range []Job{
		{ID: 2, Req: req(3, 1), Estimate: 10 * time.Second},
		{ID: 3, Req: req(4, 1), Estimate: 5 * time.Second},
		{ID: 4, Req: req(1, 1), Estimate: 25 * time.Second},
	} {
		if err := s.Submit(j); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestEasyVsConservative(t *testing.T) {
	tests := []struct {
		policy  string
		started []JobID
		why     map[JobID]string
		resv    map[JobID]time.Duration
	}{
		{"sched.firstfit", []JobID{4}, map[JobID]string{
			2: "waiting for 3 cores (1 free)",
			3: "waiting for 4 cores (1 free)",
		}, nil},
		{"sched.fcfs", nil, map[JobID]string{ // the head (2) blocks 4, which would fit
			2: "waiting for 3 cores (2 free)",
			3: "behind job 2 at the head of the queue (sched.fcfs starts jobs in order; 1 job ahead)",
			4: "behind job 2 at the head of the queue (sched.fcfs starts jobs in order; 2 jobs ahead)",
		}, nil},
		{"sched.easy", []JobID{4}, map[JobID]string{
			2: "waiting for 3 cores (1 free); reserved to start in 10s",
			3: "waiting for 4 cores (1 free)",
		}, map[JobID]time.Duration{2: 10 * time.Second}},
		{"sched.conservative", nil, map[JobID]string{
			2: "waiting for 3 cores (2 free); reserved to start in 10s",
			3: "waiting for 4 cores (2 free); reserved to start in 20s",
			4: "blocked by the reservation of job 3 (starts in 20s); reserved to start in 25s",
		}, map[JobID]time.Duration{2: 10 * time.Second, 3: 20 * time.Second, 4: 25 * time.Second}},
		{"sched.hybrid", nil, map[JobID]string{ // the default depth covers all three
			4: "blocked by the reservation of job 3 (starts in 20s); reserved to start in 25s",
		}, map[JobID]time.Duration{2: 10 * time.Second, 3: 20 * time.Second, 4: 25 * time.Second}},
	}
	for _, tc := range tests {
		s := easyVsConservative(t, Options{Policy: tc.policy})
		var got []JobID
		for _, st := range s.Schedule(t0, nil) {
			got = append(got, st.ID)
		}
		if !equalIDs(got, tc.started) {
			t.Errorf("%s: started %v, want %v", tc.policy, got, tc.started)
		}
		for id, want := range tc.why {
			if w := s.Why(id); w != want {
				t.Errorf("%s: Why(%d) = %q, want %q", tc.policy, id, w, want)
			}
		}
		for id := JobID(2); id <= 4; id++ {
			at, ok := s.Reserved(id)
			want, wok := tc.resv[id]
			if ok != wok || (ok && at.Sub(t0) != want) {
				t.Errorf("%s: Reserved(%d) = %v, %v; want %v, %v", tc.policy, id, at.Sub(t0), ok, want, wok)
			}
		}
	}
}

// TestBackfillFitsBeforeReservation: a job that ends before the reservation
// starts backfills; one that would run past it on cores it needs does not.
func TestBackfillFitsBeforeReservation(t *testing.T) {
	s, _ := New(cores(4), Options{Policy: "easy"})
	s.Submit(Job{ID: 1, Req: req(3, 1), Estimate: 10 * time.Second})
	s.Schedule(t0, nil)
	s.Submit(Job{ID: 2, Req: req(4, 1), Estimate: time.Minute})
	s.Submit(Job{ID: 3, Req: req(1, 1), Estimate: 11 * time.Second}) // would hold a core at 10s
	s.Submit(Job{ID: 4, Req: req(1, 1), Estimate: 10 * time.Second}) // ends exactly at 10s
	got := s.Schedule(t0.Add(time.Second), nil)                      // job 1 now ends in 9s
	if len(got) != 0 {
		t.Fatalf("started %+v before the reservation's window allowed it", got)
	}
	if w := s.Why(3); w != "blocked by the reservation of job 2 (starts in 9s)" {
		t.Errorf("Why(3) = %q", w)
	}
	got = s.Schedule(t0.Add(2*time.Second), nil) // now job 4 ends at 12s > 10s: still no
	if len(got) != 0 {
		t.Fatalf("started %+v", got)
	}
	s.Submit(Job{ID: 5, Req: req(1, 1), Estimate: 8 * time.Second}) // ends at 10s
	got = s.Schedule(t0.Add(2*time.Second), nil)
	if len(got) != 1 || got[0].ID != 5 {
		t.Fatalf("started %+v, want job 5", got)
	}
	// Job 1 overruns its estimate: the plan expects it to end now, so job 2
	// is reserved "now" and nothing else may start on the free core.
	got = s.Schedule(t0.Add(11*time.Second), nil)
	if at, ok := s.Reserved(2); len(got) != 0 || !ok || !at.Equal(t0.Add(11*time.Second)) {
		t.Errorf("overrun: started %+v, Reserved(2) = %v, %v", got, at, ok)
	}
}

func TestFCFSQueueDepthOneNeverReorders(t *testing.T) {
	for _, spec := range []string{"plugin=sched.firstfit queue-depth=1", "sched.fcfs", "sched.fcfs queue-depth=8"} {
		testNeverReorders(t, spec)
	}
}

func testNeverReorders(t *testing.T, spec string) {
	opt, err := ParseOptions(spec)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := New(cores(4), opt)
	sizes := []int{2, 3, 1, 1, 4, 1, 2}
	for i, n := range sizes {
		s.Submit(Job{ID: JobID(i + 1), Req: req(n, 1)})
	}
	var order []JobID
	for now := t0; s.Pending() > 0 || s.Running() > 0; now = now.Add(time.Second) {
		for _, st := range s.Schedule(now, nil) {
			order = append(order, st.ID)
		}
		if s.Running() > 0 { // finish the oldest running job
			for _, id := range order {
				if s.Finish(id) == nil {
					break
				}
			}
		}
	}
	if !equalIDs(order, []JobID{1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("%s started %v", spec, order)
	}
}

func TestSetPolicyKeepsJobs(t *testing.T) {
	s := easyVsConservative(t, Options{})
	if err := s.SetPolicy(Options{Policy: "sched.bogus"}); err == nil || !strings.Contains(err.Error(), "valid: sched.fcfs") {
		t.Fatalf("SetPolicy(bogus) = %v", err)
	}
	if err := s.SetPolicy(Options{Policy: "sched.conservative"}); err != nil {
		t.Fatal(err)
	}
	if s.Pending() != 3 || s.Running() != 1 {
		t.Fatalf("pending %d running %d after SetPolicy", s.Pending(), s.Running())
	}
	if got := s.Schedule(t0, nil); len(got) != 0 {
		t.Errorf("conservative started %+v", got)
	}
	if at, ok := s.Reserved(3); !ok || at.Sub(t0) != 20*time.Second {
		t.Errorf("Reserved(3) = %v, %v", at, ok)
	}
	if err := s.SetPolicy(Options{Policy: "fcfs"}); err != nil {
		t.Fatal(err)
	}
	if got := s.Schedule(t0, nil); len(got) != 0 {
		t.Errorf("strict fcfs after conservative started %+v behind the blocked head", got)
	}
	if err := s.SetPolicy(Options{Policy: "firstfit"}); err != nil {
		t.Fatal(err)
	}
	if got := s.Schedule(t0, nil); len(got) != 1 || got[0].ID != 4 {
		t.Errorf("firstfit after fcfs started %+v, want job 4", got)
	}
	if _, ok := s.Reserved(2); ok {
		t.Error("firstfit reports a reservation")
	}
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		in      string
		want    Options
		wantErr string
	}{
		{"", Options{}, ""},
		{"plugin=sched.easy reservation-depth=8", Options{Policy: "sched.easy", ReservationDepth: 8}, ""},
		{"plugin=hybrid,queue-depth=32, default-estimate=1h", Options{Policy: "sched.hybrid", QueueDepth: 32, DefaultEstimate: time.Hour}, ""},
		{"sched.conservative default-estimate=2d", Options{Policy: "sched.conservative", DefaultEstimate: 48 * time.Hour}, ""},
		{"plugin=sched.fcfs queue-depth=1", Options{Policy: "sched.fcfs", QueueDepth: 1}, ""},
		{"default-estimate=1.5h", Options{DefaultEstimate: 90 * time.Minute}, ""},
		{"plugin=sched.foo", Options{}, `unknown scheduler "sched.foo"; valid: sched.fcfs, sched.easy, sched.conservative, sched.hybrid`},
		{"color=blue", Options{}, `unknown scheduler option "color"; valid: plugin, queue-depth, reservation-depth, default-estimate`},
		{"queue-depth=-1", Options{}, "queue-depth=-1: want a whole number, 0 or more"},
		{"queue-depth=x", Options{}, "queue-depth=x: want a whole number"},
		{"default-estimate=60", Options{}, "default-estimate=60: give a unit, e.g. 60s, 60m or 60h"},
		{"default-estimate=soon", Options{}, "want a duration"},
		{"easy plugin=fcfs", Options{}, `"plugin" is given twice`},
	}
	for _, tc := range tests {
		got, err := ParseOptions(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseOptions(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseOptions(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestOptionsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	o, err := OptionsFromEnv(env(map[string]string{"FLUX_SCHED_OPTS": "plugin=sched.easy"}))
	if err != nil || o.Policy != "sched.easy" {
		t.Errorf("FLUX_SCHED_OPTS: %+v, %v", o, err)
	}
	o, err = OptionsFromEnv(env(map[string]string{"FLUX_SCHED_OPTIONS": "plugin=conservative", "FLUX_SCHED_OPTS": "plugin=easy"}))
	if err != nil || o.Policy != "sched.conservative" {
		t.Errorf("FLUX_SCHED_OPTIONS wins: %+v, %v", o, err)
	}
	_, err = OptionsFromEnv(env(map[string]string{"FLUX_SCHED_OPTIONS": "plugin=x"}))
	if err == nil || !strings.HasPrefix(err.Error(), `FLUX_SCHED_OPTIONS="plugin=x": unknown scheduler "x"`) {
		t.Errorf("bad env: %v", err)
	}
	if o, err := OptionsFromEnv(env(nil)); err != nil || o != (Options{}) {
		t.Errorf("no env: %+v, %v", o, err)
	}
}
