package resources

import "testing"

func TestHold(t *testing.T) {
	set := Set{Ranks: []Rank{
		{Rank: 0, Cores: RangeIDSet(0, 3)},
		{Rank: 1, Cores: RangeIDSet(0, 3), GPUs: NewIDSet(0)},
	}}
	p := NewPool(set)
	a, ok := p.Alloc(Request{Nodes: 2, Tasks: 2, CoresPerTask: 1})
	if !ok {
		t.Fatal("alloc failed")
	}
	h := p.Hold(1)
	if got := h.Slices[0].Cores.String(); got != "1-3" || h.Slices[0].GPUs.String() != "0" {
		t.Fatalf("hold took cores %q GPUs %q, want 1-3 and 0", got, h.Slices[0].GPUs)
	}
	if p.FreeCores() != 3 {
		t.Fatalf("free cores %d, want 3 (rank 0 only)", p.FreeCores())
	}
	if _, ok := p.Alloc(Request{Tasks: 1, CoresPerTask: 1, GPUsPerTask: 1}); ok {
		t.Error("a GPU of the held rank was handed out")
	}
	for i := 0; i < 3; i++ {
		b, ok := p.Alloc(Request{Tasks: 1, CoresPerTask: 1})
		if !ok || b.Slices[0].Rank != 0 {
			t.Fatalf("alloc %d: %v %+v; want rank 0", i, ok, b)
		}
	}
	if _, ok := p.Alloc(Request{Tasks: 1, CoresPerTask: 1}); ok {
		t.Error("allocated beyond what is not held")
	}
	p.Release(a)
	p.Release(h)
	if p.FreeCores() != 5 {
		t.Errorf("free cores after releasing the hold: %d, want 5", p.FreeCores())
	}
	if got := p.Hold(7); len(got.Slices) != 0 {
		t.Errorf("hold of an unknown rank: %+v", got)
	}
}
