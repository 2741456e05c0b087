package resources

import (
	"fmt"
	"testing"
)

// BenchmarkAllocRelease measures the hot path: a -n1 request on a pool kept
// nearly full, released in FIFO order as a task farm would.
func BenchmarkAllocRelease(b *testing.B) {
	for _, cores := range []int{2, 64, 1024} {
		b.Run(fmt.Sprintf("cores=%d", cores), func(b *testing.B) {
			p := NewPool(Set{Ranks: []Rank{{Rank: 0, Cores: RangeIDSet(0, cores-1)}}})
			r := Request{Tasks: 1, CoresPerTask: 1}
			ring := make([]Alloc, cores)
			for i := range ring {
				ring[i], _ = p.Alloc(r)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % cores
				p.Release(ring[k])
				a, ok := p.Alloc(r)
				if !ok {
					b.Fatal("alloc failed after a release")
				}
				ring[k] = a
			}
		})
	}
}

func BenchmarkAllocReleaseMultiRank(b *testing.B) {
	var s Set
	for r := range 16 {
		s.Ranks = append(s.Ranks, Rank{Rank: r, Cores: RangeIDSet(0, 63)})
	}
	p := NewPool(s)
	r := Request{Tasks: 1, CoresPerTask: 1}
	ring := make([]Alloc, s.Cores())
	for i := range ring {
		ring[i], _ = p.Alloc(r)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(ring)
		p.Release(ring[k])
		ring[k], _ = p.Alloc(r)
	}
}
