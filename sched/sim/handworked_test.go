package sim

import (
	"math"
	"os"
	"testing"

	"github.com/fluxtaskfarm/flux/sched"
)

// TestHandWorkedTraces replays the traces in testdata whose schedules are
// worked out by hand in their header comments, under every policy.
func TestHandWorkedTraces(t *testing.T) {
	type want struct{ makespan, meanWait, maxWait, util float64 }
	tests := []struct {
		file string
		want map[string]want
	}{
		{"fcfs-blocks.swf", map[string]want{
			"fcfs":         {25, 12.5, 20, 0.8},
			"easy":         {20, 3.75, 10, 1},
			"conservative": {20, 3.75, 10, 1},
			"firstfit":     {20, 3.75, 10, 1},
		}},
		{"firstfit-starves.swf", map[string]want{
			"fcfs":     {40, 76.0 / 6, 19, 0.875},
			"easy":     {40, 76.0 / 6, 19, 0.875},
			"firstfit": {40, 40.0 / 6, 29, 0.875},
		}},
		{"easy-vs-conservative.swf", map[string]want{
			"fcfs":         {50, 13.75, 25, 0.475},
			"easy":         {30, 8.75, 25, 95.0 / 120},
			"conservative": {50, 13.75, 25, 0.475},
			"firstfit":     {30, 8.75, 25, 95.0 / 120},
		}},
	}
	for _, tc := range tests {
		f, err := os.Open("testdata/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := ReadSWF(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for pol, w := range tc.want {
			st, err := Replay(tr, sched.Options{Policy: pol}, 0)
			if err != nil {
				t.Fatalf("%s %s: %v", tc.file, pol, err)
			}
			for _, f := range []struct {
				name      string
				got, want float64
			}{{"makespan", st.Makespan, w.makespan}, {"mean wait", st.MeanWait, w.meanWait},
				{"max wait", st.MaxWait, w.maxWait}, {"utilisation", st.Utilization, w.util}} {
				if math.Abs(f.got-f.want) > 1e-9 {
					t.Errorf("%s under %s: %s = %v, want %v", tc.file, pol, f.name, f.got, f.want)
				}
			}
		}
	}
}

// TestLearnedEstimates: on the synthetic mixed-width trace, learned
// estimates raise EASY's utilisation well over the fixed one-hour default
// (short -n1 jobs backfill around waiting -n16 ones) without making the
// wide jobs wait longer; first fit, for contrast, starves them.
func TestLearnedEstimates(t *testing.T) {
	f, err := os.Open("testdata/mixed.swf")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ReadSWF(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	replay := func(pol string, est Estimates) Stats {
		st, err := ReplayEstimates(tr, sched.Options{Policy: pol}, 0, 1, est)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	fixed, learned := replay("easy", Fixed), replay("easy", Learned)
	t.Logf("easy fixed: util %.3f wide max wait %.0f s; learned: util %.3f wide max wait %.0f s",
		fixed.Utilization, fixed.MaxWaitWide, learned.Utilization, learned.MaxWaitWide)
	if learned.Utilization < fixed.Utilization+0.1 {
		t.Errorf("learned estimates: utilisation %.3f, fixed %.3f; want at least 10 points more", learned.Utilization, fixed.Utilization)
	}
	if learned.MaxWaitWide > fixed.MaxWaitWide {
		t.Errorf("learned estimates made wide jobs wait longer: %.0f s, fixed %.0f s", learned.MaxWaitWide, fixed.MaxWaitWide)
	}
	if ff := replay("firstfit", Fixed); ff.MaxWaitWide < 2*learned.MaxWaitWide {
		t.Errorf("first fit's wide max wait %.0f s is not the starvation the trace should show (easy learned: %.0f s)",
			ff.MaxWaitWide, learned.MaxWaitWide)
	}
}
