package report

import "container/heap"

// maxCommand bounds the command text kept for a slow line.
const maxCommand = 300

// Slow is one of the slowest lines.
type Slow struct {
	Seq     int64
	Host    string
	Start   int64 // ms
	Runtime int64 // ms
	Exitval int
	Signal  int
	Cores   int
	Command string // cut at maxCommand bytes
}

// TopK keeps the k lines with the longest runtimes seen so far in a
// min-heap: a line slower than the fastest kept replaces it, so memory is k
// entries whatever the input. Ties keep the earlier line.
type TopK struct {
	k int
	h slowHeap
}

// NewTopK keeps k lines (at least 1).
func NewTopK(k int) *TopK { return &TopK{k: max(k, 1)} }

// Add offers a line; its text is copied only when it is kept.
func (t *TopK) Add(r *Record, cores int) {
	if len(t.h) == t.k && !t.h.slower(r.Runtime, r.Seq, t.h[0]) {
		return
	}
	cmd := r.Command
	if len(cmd) > maxCommand {
		cmd = cmd[:maxCommand]
	}
	s := Slow{Seq: r.Seq, Host: string(r.Host), Start: r.Start, Runtime: r.Runtime,
		Exitval: r.Exitval, Signal: r.Signal, Cores: cores, Command: string(cmd)}
	if len(t.h) < t.k {
		heap.Push(&t.h, s)
		return
	}
	t.h[0] = s
	heap.Fix(&t.h, 0)
}

// Sorted returns the kept lines, slowest first.
func (t *TopK) Sorted() []Slow {
	h := append(slowHeap(nil), t.h...)
	out := make([]Slow, len(h))
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&h).(Slow)
	}
	return out
}

// slowHeap is a min-heap: the root is the line that leaves first (the
// fastest, and of equal runtimes the latest).
type slowHeap []Slow

// slower reports whether a line (runtime rt, seq) ranks above s.
func (slowHeap) slower(rt, seq int64, s Slow) bool {
	return rt > s.Runtime || rt == s.Runtime && seq < s.Seq
}

func (h slowHeap) Len() int           { return len(h) }
func (h slowHeap) Less(i, j int) bool { return h.slower(h[j].Runtime, h[j].Seq, h[i]) }
func (h slowHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *slowHeap) Push(x any)        { *h = append(*h, x.(Slow)) }
func (h *slowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
