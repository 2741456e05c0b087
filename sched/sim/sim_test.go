package sim

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/sched"
)

func readSmall(t *testing.T) Trace {
	t.Helper()
	f, err := os.Open("testdata/small.swf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := ReadSWF(f)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestReplaySmall checks the figures of testdata/small.swf, worked out by
// hand. 4 cores; job 1 (-n2, 10 s), job 2 (-n4, 10 s, asks 20 s), job 3 (-n2,
// 5 s, at 1 s), job 4 (-n1, 20 s, no requested time, at 2 s); job 5 asks for
// 8 cores and job 6 has no run time: both skipped.
//
// fcfs (strict): job 2 does not fit beside job 1 and blocks 3 and 4: 1 at
// 0, 2 at 10 (ends 20), 3 and 4 at 20 (end 25 and 40). Waits 0, 10, 19, 18:
// mean 11.75. Slowdowns 1, 2, 24/10, 38/20: mean 7.3/4 = 1.825. Work 20+40+
// 10+20 = 90 core-s over 4*40: 0.5625. It loses to backfill on waits.
//
// firstfit: 1 at 0, 3 at 1 (ends 6), 4 at 6 when 3 frees cores (ends 26), 2
// at 26 (ends 36): the wide job waits for every narrow one. Waits 0, 26, 0,
// 4: mean 7.5. Bounded slowdowns 1, 36/10, 1 (5 s is under the 10 s bound),
// 24/20: mean 6.8/4 = 1.7. Work 90 core-s over 4*36: 0.625.
//
// easy: job 2 is reserved at 10 s; job 3 backfills (ends 6 < 10); job 4
// would hold a core past 10 s and waits; 2 runs 10-20, then 4 runs 20-40.
// Waits 0, 10, 0, 18: mean 7. Slowdowns 1, 2, 1, 38/20: mean 5.9/4 = 1.475.
// Utilization 90/(4*40) = 0.5625. Conservative reserves job 4 at 20 s:
// the same schedule.
func TestReplaySmall(t *testing.T) {
	tr := readSmall(t)
	if tr.MaxProcs != 4 || len(tr.Jobs) != 6 {
		t.Fatalf("trace: MaxProcs %d, %d jobs", tr.MaxProcs, len(tr.Jobs))
	}
	if j := tr.Jobs[1]; j.Procs != 4 || j.Estimate != 20*time.Second || j.Line != 6 {
		t.Errorf("job 2 = %+v: want 4 procs from field 5, a 20 s estimate, line 6", j)
	}
	if j := tr.Jobs[3]; j.Estimate != 20*time.Second {
		t.Errorf("job 4 estimate = %v, want the run time", j.Estimate)
	}
	tests := []struct {
		policy                    string
		makespan, wait, bsd, util float64
	}{
		{"sched.fcfs", 40, 11.75, 1.825, 0.5625},
		{"sched.firstfit", 36, 7.5, 1.7, 0.625},
		{"sched.easy", 40, 7, 1.475, 0.5625},
		{"sched.conservative", 40, 7, 1.475, 0.5625},
	}
	for _, tc := range tests {
		st, err := Replay(tr, sched.Options{Policy: tc.policy}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if st.Jobs != 4 || st.TooLarge != 1 || st.Invalid != 1 || st.Cores != 4 {
			t.Errorf("%s: counts %+v", tc.policy, st)
		}
		for _, f := range []struct {
			name      string
			got, want float64
		}{{"makespan", st.Makespan, tc.makespan}, {"mean wait", st.MeanWait, tc.wait},
			{"mean bounded slowdown", st.MeanBoundedSlowdown, tc.bsd}, {"utilization", st.Utilization, tc.util}} {
			if math.Abs(f.got-f.want) > 1e-9 {
				t.Errorf("%s: %s = %v, want %v", tc.policy, f.name, f.got, f.want)
			}
		}
	}
	// Two nodes of 2 cores: job 2 spans both; the same schedule (the
	// default policy, easy).
	st, err := ReplayNodes(tr, sched.Options{}, 4, 2)
	if err != nil || st.Makespan != 40 || st.Nodes != 2 || st.Policy != "sched.easy" {
		t.Errorf("2 nodes: %+v, %v", st, err)
	}
	// --cores smaller than a job: skipped.
	st, err = Replay(tr, sched.Options{}, 2)
	if err != nil || st.TooLarge != 2 || st.Jobs != 3 {
		t.Errorf("2 cores: %+v, %v", st, err)
	}
}

func TestReplayErrors(t *testing.T) {
	tr := Trace{Jobs: []TraceJob{{Procs: 1, Run: time.Second}}}
	if _, err := Replay(tr, sched.Options{}, 0); err == nil || !strings.Contains(err.Error(), "MaxProcs") {
		t.Errorf("no machine size: %v", err)
	}
	if _, err := Replay(tr, sched.Options{Policy: "sched.nope"}, 4); err == nil || !strings.Contains(err.Error(), "valid: sched.fcfs") {
		t.Errorf("bad policy: %v", err)
	}
	if _, err := ReplayNodes(tr, sched.Options{}, 2, 3); err == nil {
		t.Error("3 nodes of 2 cores accepted")
	}
}

func TestReadSWFErrors(t *testing.T) {
	good := "1 0 -1 10 2 -1 -1 2 10 -1 1 1 1 1 1 1 -1 -1"
	tests := []struct {
		in, want string
	}{
		{"; MaxProcs: x\n", `line 1: MaxProcs header "x" is not a whole number`},
		{"; hi\n1 2 3\n", "line 2: 3 fields; an SWF job line has 18 (at least 9 are needed)"},
		{good + "\n\n1 0 -1 10 x -1 -1 2 10\n", `line 3: field 5 (allocated processors) is not a number: "x"`},
		{"1 0 -1 ten 2 -1 -1 2 10\n", `line 1: field 4 (run time) is not a number: "ten"`},
		{"1 -5 -1 10 2 -1 -1 2 10\n", `line 1: field 2 (submit time) is negative`},
		{"1 0 -1 10 2 -1 -1 2 NaN\n", `line 1: field 9 (requested time) is not a number`},
	}
	for _, tc := range tests {
		_, err := ReadSWF(strings.NewReader(tc.in))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("ReadSWF(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
	tr, err := ReadSWF(strings.NewReader(";MaxProcs:8\n" + good + "\n"))
	if err != nil || tr.MaxProcs != 8 || len(tr.Jobs) != 1 || tr.Jobs[0].Run != 10*time.Second {
		t.Errorf("good trace: %+v, %v", tr, err)
	}
}

// FuzzReadSWF: ReadSWF never panics, errors name a line, and whatever it
// accepts replays without error on a small machine.
func FuzzReadSWF(f *testing.F) {
	data, _ := os.ReadFile("testdata/small.swf")
	f.Add(string(data))
	f.Add("; MaxProcs: 2\n1 0 -1 3 1 -1 -1 -1 -1\n2 0.5 -1 0 2 -1 -1 2 1\n")
	f.Add("1 0 -1 1e3 1 -1 -1 1 1e400\n")
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := ReadSWF(strings.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error without a line number: %v", err)
			}
			return
		}
		if len(tr.Jobs) > 200 {
			return
		}
		for i := range tr.Jobs { // keep the replay small
			tr.Jobs[i].Submit %= time.Hour
			tr.Jobs[i].Run %= time.Hour
			tr.Jobs[i].Estimate %= time.Hour
		}
		for _, p := range []string{"sched.fcfs", "sched.easy"} {
			st, err := Replay(tr, sched.Options{Policy: p}, 4)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if st.Utilization < 0 || st.Utilization > 1+1e-9 || st.MeanBoundedSlowdown < 1 && st.Jobs > 0 {
				t.Fatalf("%s: implausible %+v", p, st)
			}
		}
	})
}
