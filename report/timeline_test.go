package report

import (
	"math"
	"math/rand"
	"testing"
)

// TestTimelineMatchesNaive checks the bins against a model that keeps
// every millisecond: whatever order the lines come in (growing the span to
// the left and to the right), each bin holds exactly the core-ms busy in it.
func TestTimelineMatchesNaive(t *testing.T) {
	for seed := int64(1); seed <= 200; seed++ {
		rng := rand.New(rand.NewSource(seed))
		const span = 5000
		naive := make([]float64, 2*span)
		tl := NewTimeline(2 * (1 + rng.Intn(40)))
		s := tl.Series()
		for i := 0; i < 1+rng.Intn(60); i++ {
			start := int64(rng.Intn(span)) + span/2
			end := start + int64(rng.Intn(span/2)*rng.Intn(2)) // some lines take no time
			cores := float64(1 + rng.Intn(4))
			tl.Add(s, start, end, cores)
			for ms := start; ms < end; ms++ {
				naive[ms] += cores
			}
		}
		bins, origin, width := tl.Bins(s)
		if width <= 0 || len(bins) != tl.n {
			t.Fatalf("seed %d: width %d, %d bins", seed, width, len(bins))
		}
		var sumBins, sumNaive float64
		for i, avg := range bins {
			var want float64
			for ms := origin + int64(i)*width; ms < origin+int64(i+1)*width; ms++ {
				if ms >= 0 && ms < int64(len(naive)) {
					want += naive[ms]
				}
			}
			if got := avg * float64(width); math.Abs(got-want) > 1e-6 {
				t.Fatalf("seed %d: bin %d [%d,%d) holds %v core-ms, want %v", seed, i,
					origin+int64(i)*width, origin+int64(i+1)*width, got, want)
			}
			sumBins += avg * float64(width)
		}
		for _, v := range naive {
			sumNaive += v
		}
		if math.Abs(sumBins-sumNaive) > 1e-6 {
			t.Fatalf("seed %d: bins hold %v core-ms, the lines %v", seed, sumBins, sumNaive)
		}
	}
}

func TestTimelineSpansEverything(t *testing.T) {
	tl := NewTimeline(8)
	s := tl.Series()
	tl.Add(s, 1000, 1004, 1) // sets 1 ms bins
	tl.Add(s, 0, 10, 2)      // grows left
	tl.Add(s, 5000, 9000, 1) // grows right
	o, e := tl.Span()
	if o > 0 || e < 9000 {
		t.Fatalf("span [%d,%d) does not cover [0,9000)", o, e)
	}
	bins, _, width := tl.Bins(s)
	var sum float64
	for _, v := range bins {
		sum += v * float64(width)
	}
	if sum != 4+20+4000 {
		t.Fatalf("sum %v core-ms, want 4024", sum)
	}
}

func TestRuntimes(t *testing.T) {
	var h Runtimes
	for _, ms := range []int64{0, 1, 9, 10, 11, 100, 1000, 1 << 40} {
		h.Add(ms)
	}
	if h.N != 8 || h.Min != 0 || h.Max != 1<<40 {
		t.Fatalf("%+v", h)
	}
	for ms, bin := range map[int64]int{0: 0, 1: 1, 9: 10, 10: 11, 11: 11, 100: 21, 1000: 31, 1 << 40: rtBins - 1} {
		if got := rtBin(ms); got != bin {
			t.Errorf("rtBin(%d) = %d, want %d", ms, got, bin)
		}
		if ms > 0 && ms < 1<<40 {
			lo, hi := BinEdges(bin)
			if float64(ms) < lo*(1-1e-9) || float64(ms) >= hi {
				t.Errorf("%d ms in bin %d [%v,%v)", ms, bin, lo, hi)
			}
		}
	}
	var u Runtimes
	for i := 0; i < 1000; i++ {
		u.Add(100) // all 100 ms
	}
	u.Add(5000)
	if q := u.Quantile(0.5); q < 100/1.13 || q > 100*1.13 {
		t.Errorf("median %v, want about 100 (within a bin)", q)
	}
	if q := u.Quantile(1); q != 5000 {
		t.Errorf("max quantile %v, want 5000", q)
	}
}

func TestTopK(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	top := NewTopK(5)
	var all []int64
	for seq := int64(1); seq <= 1000; seq++ {
		rt := int64(rng.Intn(300))
		all = append(all, rt)
		top.Add(&Record{Seq: seq, Runtime: rt, Command: []byte("cmd")}, 1)
	}
	got := top.Sorted()
	if len(got) != 5 {
		t.Fatalf("kept %d", len(got))
	}
	// The naive model: sort by runtime descending, then seq ascending.
	for i, s := range got {
		better := 0
		for seq, rt := range all {
			if rt > s.Runtime || rt == s.Runtime && int64(seq+1) < s.Seq {
				better++
			}
		}
		if better != i {
			t.Errorf("rank %d: line %d (%d ms) has %d lines above it", i, s.Seq, s.Runtime, better)
		}
	}
}

func TestTopKCutsCommand(t *testing.T) {
	top := NewTopK(1)
	long := make([]byte, 5000)
	top.Add(&Record{Seq: 1, Runtime: 1, Command: long}, 1)
	if got := top.Sorted()[0].Command; len(got) != maxCommand {
		t.Fatalf("kept %d bytes of the command", len(got))
	}
}
