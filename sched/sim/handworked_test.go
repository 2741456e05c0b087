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
