package report

import "math"

// Runtime histogram: bin 0 holds runtimes under 1 ms (the log's
// resolution: 0.000), then perDecade logarithmic bins a decade from 1 ms up
// to 10^decades ms; the last bin also takes everything longer.
const (
	perDecade = 10
	decades   = 10 // 1 ms .. 10^10 ms (about 116 days)
	rtBins    = 1 + perDecade*decades
)

// Runtimes is a fixed-size histogram of runtimes with exact count, sum,
// minimum and maximum.
type Runtimes struct {
	Counts   [rtBins]int64
	N        int64
	SumMs    float64
	Min, Max int64 // ms
}

// rtBin is the bin of a runtime in ms.
func rtBin(ms int64) int {
	if ms < 1 {
		return 0
	}
	b := 1 + int(math.Floor(math.Log10(float64(ms))*perDecade+1e-9))
	return min(b, rtBins-1)
}

// BinEdges returns the runtimes (ms) that bin i spans: [lo, hi).
func BinEdges(i int) (lo, hi float64) {
	if i == 0 {
		return 0, 1
	}
	return math.Pow(10, float64(i-1)/perDecade), math.Pow(10, float64(i)/perDecade)
}

// Add counts one runtime.
func (h *Runtimes) Add(ms int64) {
	if h.N == 0 || ms < h.Min {
		h.Min = ms
	}
	if ms > h.Max {
		h.Max = ms
	}
	h.N++
	h.SumMs += float64(ms)
	h.Counts[rtBin(ms)]++
}

// Quantile estimates the q-quantile (0..1) in ms: the geometric middle of
// the bin it falls in, held within the exact minimum and maximum.
func (h *Runtimes) Quantile(q float64) float64 {
	if h.N == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.N)))
	rank = min(max(rank, 1), h.N)
	if rank == h.N {
		return float64(h.Max) // the last is known exactly
	}
	var seen int64
	for i, c := range h.Counts {
		seen += c
		if seen >= rank {
			lo, hi := BinEdges(i)
			v := math.Sqrt(lo * hi)
			if i == 0 {
				v = 0
			}
			return math.Min(math.Max(v, float64(h.Min)), float64(h.Max))
		}
	}
	return float64(h.Max)
}

// Mean is the mean runtime in ms.
func (h *Runtimes) Mean() float64 {
	if h.N == 0 {
		return 0
	}
	return h.SumMs / float64(h.N)
}
