package boot

import (
	"reflect"
	"testing"
)

// naiveTree builds the TBON explicitly: ranks are handed out in breadth-first
// order, each broker taking up to k children before the next one does.
type naiveTree struct {
	parent   []int
	children [][]int
	depth    []int
}

func buildNaive(size, k int) naiveTree {
	t := naiveTree{parent: make([]int, size), children: make([][]int, size), depth: make([]int, size)}
	t.parent[0] = -1
	queue := []int{0}
	next := 1
	for len(queue) > 0 && next < size {
		p := queue[0]
		queue = queue[1:]
		for i := 0; i < k && next < size; i++ {
			t.parent[next] = p
			t.depth[next] = t.depth[p] + 1
			t.children[p] = append(t.children[p], next)
			queue = append(queue, next)
			next++
		}
	}
	return t
}

// path is the rank sequence from a to b found by BFS over the tree's links.
func (t naiveTree) path(a, b int) []int {
	prev := map[int]int{a: -1}
	queue := []int{a}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n == b {
			break
		}
		nbrs := append([]int{}, t.children[n]...)
		if t.parent[n] >= 0 {
			nbrs = append(nbrs, t.parent[n])
		}
		for _, m := range nbrs {
			if _, ok := prev[m]; !ok {
				prev[m] = n
				queue = append(queue, m)
			}
		}
	}
	var p []int
	for n := b; n != -1; n = prev[n] {
		p = append([]int{n}, p...)
	}
	return p
}

func (t naiveTree) inSubtree(r, root int) bool {
	if r == root {
		return true
	}
	for _, c := range t.children[root] {
		if t.inSubtree(r, c) {
			return true
		}
	}
	return false
}

func TestTreeAgainstNaive(t *testing.T) {
	for size := 1; size <= 40; size++ {
		for k := 1; k <= 8; k++ {
			n := buildNaive(size, k)
			for r := 0; r < size; r++ {
				if got := Parent(r, k); got != n.parent[r] {
					t.Fatalf("size %d k %d: Parent(%d) = %d, want %d", size, k, r, got, n.parent[r])
				}
				if got := Children(r, size, k); !reflect.DeepEqual(got, n.children[r]) {
					t.Fatalf("size %d k %d: Children(%d) = %v, want %v", size, k, r, got, n.children[r])
				}
				if got := Depth(r, k); got != n.depth[r] {
					t.Fatalf("size %d k %d: Depth(%d) = %d, want %d", size, k, r, got, n.depth[r])
				}
				for to := 0; to < size; to++ {
					if got, want := InSubtree(to, r, size, k), n.inSubtree(to, r); got != want {
						t.Fatalf("size %d k %d: InSubtree(%d, root %d) = %v, want %v", size, k, to, r, got, want)
					}
					p := n.path(r, to)
					want := r
					if len(p) > 1 {
						want = p[1]
					}
					if got := NextHop(r, to, size, k); got != want {
						t.Fatalf("size %d k %d: NextHop(%d -> %d) = %d, want %d (path %v)", size, k, r, to, got, want, p)
					}
				}
			}
			// out of range
			if Children(size, size, k) != nil || InSubtree(size, 0, size, k) || InSubtree(0, -1, size, k) ||
				NextHop(0, size, size, k) != -1 || NextHop(-1, 0, size, k) != -1 {
				t.Fatalf("size %d k %d: out-of-range ranks accepted", size, k)
			}
		}
	}
}

func TestTreeShapes(t *testing.T) {
	// chain
	if got := Children(3, 10, 1); !reflect.DeepEqual(got, []int{4}) || Depth(9, 1) != 9 {
		t.Errorf("chain: %v %d", got, Depth(9, 1))
	}
	// flat: fanout >= size
	if got := Children(0, 5, 32); !reflect.DeepEqual(got, []int{1, 2, 3, 4}) || Depth(4, 32) != 1 || NextHop(3, 4, 5, 32) != 0 {
		t.Errorf("flat: %v", got)
	}
	// large sizes route in O(depth)
	if hop := NextHop(0, 1_000_000, 1_000_001, 2); Parent(hop, 2) != 0 || !InSubtree(1_000_000, hop, 1_000_001, 2) {
		t.Errorf("big binary tree: hop %d", hop)
	}
}

func TestTreePanics(t *testing.T) {
	for name, f := range map[string]func(){
		"fanout 0":      func() { Parent(1, 0) },
		"negative rank": func() { Depth(-1, 2) },
		"nexthop k=0":   func() { NextHop(0, 1, 2, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
