package report

// Timeline accumulates busy core-milliseconds over time in a fixed number
// of bins, for several series at once (the total and one per host), in
// memory that does not grow with the number of lines.
//
// The bins cover [origin, origin+n*width). A line outside that span makes
// the width double (neighbouring bins merge) until it fits, growing the
// span to the right or to the left, so the bins always cover the whole run
// seen so far. Adding a line costs O(1) whatever it spans: its whole bins go
// into a difference array (full[i] holds the change of the cores covering
// bin i entirely), its partial first and last bins into part directly.
type Timeline struct {
	n      int
	origin int64 // ms
	width  int64 // ms per bin
	set    bool
	series []timeSeries
}

type timeSeries struct {
	part []float64 // core-ms from lines covering a bin partly
	full []float64 // difference array of cores covering bins entirely (n+1 long)
}

// NewTimeline makes a timeline of n bins (n even, at least 2).
func NewTimeline(n int) *Timeline {
	if n < 2 {
		n = 2
	}
	n += n % 2
	return &Timeline{n: n}
}

// Series adds a series and returns its index.
func (t *Timeline) Series() int {
	t.series = append(t.series, timeSeries{part: make([]float64, t.n), full: make([]float64, t.n+1)})
	return len(t.series) - 1
}

// Add records cores busy on [start, end) (ms) in series s.
func (t *Timeline) Add(s int, start, end int64, cores float64) {
	if end <= start || cores == 0 {
		t.Cover(start, end)
		return
	}
	t.Cover(start, end)
	ser := &t.series[s]
	w := t.width
	i0, i1 := (start-t.origin)/w, (end-1-t.origin)/w
	if i0 == i1 {
		ser.part[i0] += cores * float64(end-start)
		return
	}
	ser.part[i0] += cores * float64(t.origin+(i0+1)*w-start)
	ser.part[i1] += cores * float64(end-(t.origin+i1*w))
	if i0+1 < i1 {
		ser.full[i0+1] += cores
		ser.full[i1] -= cores
	}
}

// Cover makes the bins span [start, end) without adding anything.
func (t *Timeline) Cover(start, end int64) {
	if end < start {
		end = start
	}
	if !t.set {
		// The first line sets the scale: it spans a quarter of the bins,
		// or the bins are a millisecond wide if it is shorter.
		t.set = true
		t.origin = start
		quarter := max(1, int64(t.n)/4)
		t.width = max(1, (end-start+quarter-1)/quarter)
	}
	for start < t.origin {
		t.grow(true)
	}
	for end > t.origin+int64(t.n)*t.width {
		t.grow(false)
	}
}

// grow doubles the width: to the left (the new span ends where the old one
// ended) or to the right (it starts where the old one started).
func (t *Timeline) grow(left bool) {
	off := 0
	if left {
		off = t.n
		t.origin -= int64(t.n) * t.width
	}
	for k := range t.series {
		ser := &t.series[k]
		t.settle(ser)
		merged := make([]float64, t.n)
		for i, v := range ser.part {
			merged[(off+i)/2] += v
		}
		ser.part = merged
	}
	t.width *= 2
}

// settle folds the difference array into part.
func (t *Timeline) settle(ser *timeSeries) {
	run := 0.0
	for i := 0; i < t.n; i++ {
		run += ser.full[i]
		ser.full[i] = 0
		ser.part[i] += run * float64(t.width)
	}
	ser.full[t.n] = 0
}

// Bins returns series s as average busy cores per bin, the time (ms) at
// which the first bin starts, and the bin width (ms). Bins after the last
// covered time are cut off. Empty when nothing was added.
func (t *Timeline) Bins(s int) (cores []float64, origin, width int64) {
	if !t.set {
		return nil, 0, 1
	}
	ser := &t.series[s]
	t.settle(ser)
	out := make([]float64, t.n)
	for i, v := range ser.part {
		out[i] = v / float64(t.width)
	}
	return out, t.origin, t.width
}

// Span is the time the bins cover, in ms.
func (t *Timeline) Span() (origin, end int64) {
	return t.origin, t.origin + int64(t.n)*t.width
}
