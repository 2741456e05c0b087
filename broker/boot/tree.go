package boot

import "fmt"

// The tree-based overlay network (TBON) is a complete k-ary tree over ranks
// 0..size-1 in breadth-first order, as in Flux: the parent of rank r is
// (r-1)/k and its children are r*k+1 .. r*k+k (those below size). Fanout 1
// is a chain, fanout 2 a binary tree, fanout >= size-1 a flat tree (rank 0
// is every other rank's parent). The functions are pure; a fanout below 1 or
// a negative rank is a programming error and panics (Attrs.Validate and
// ParseConfig reject such fanouts before they get here).

func checkTree(rank, fanout int) {
	if fanout < 1 {
		panic(fmt.Sprintf("boot: tree fanout %d < 1", fanout))
	}
	if rank < 0 {
		panic(fmt.Sprintf("boot: negative rank %d", rank))
	}
}

// Parent is the parent of rank, or -1 for rank 0.
func Parent(rank, fanout int) int {
	checkTree(rank, fanout)
	if rank == 0 {
		return -1
	}
	return (rank - 1) / fanout
}

// Children are the children of rank in a tree of size ranks, in rank order
// (nil for a leaf or a rank outside the tree).
func Children(rank, size, fanout int) []int {
	checkTree(rank, fanout)
	first := rank*fanout + 1
	if rank >= size || first >= size || first <= rank { // the last test catches overflow
		return nil
	}
	last := first + fanout - 1
	if last >= size || last < first {
		last = size - 1
	}
	kids := make([]int, 0, last-first+1)
	for c := first; c <= last; c++ {
		kids = append(kids, c)
	}
	return kids
}

// Depth is the number of links between rank and rank 0.
func Depth(rank, fanout int) int {
	checkTree(rank, fanout)
	d := 0
	for rank > 0 {
		rank = (rank - 1) / fanout
		d++
	}
	return d
}

// ancestorAt walks up from rank while it is greater than limit and returns
// where it stops: root itself when rank is in root's subtree (every ancestor
// of r is smaller than r, so the walk passes root if it is on the path).
func ancestorAt(rank, root, fanout int) (at, below int) {
	below = -1
	for rank > root {
		below = rank
		rank = (rank - 1) / fanout
	}
	return rank, below
}

// InSubtree reports whether rank is in the subtree rooted at root (a rank
// is in its own subtree). Ranks outside 0..size-1 are in no subtree.
func InSubtree(rank, root, size, fanout int) bool {
	checkTree(0, fanout)
	if rank < 0 || root < 0 || rank >= size || root >= size {
		return false
	}
	at, _ := ancestorAt(rank, root, fanout)
	return at == root
}

// NextHop is the neighbour of from on the tree path to to: the child of
// from whose subtree holds to, or else from's parent. It returns from when
// from == to, and -1 when either rank is outside 0..size-1.
func NextHop(from, to, size, fanout int) int {
	checkTree(0, fanout)
	if from < 0 || to < 0 || from >= size || to >= size {
		return -1
	}
	if from == to {
		return from
	}
	if at, below := ancestorAt(to, from, fanout); at == from {
		return below
	}
	return (from - 1) / fanout
}
