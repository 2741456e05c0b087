package resources

import (
	"fmt"
	"math/bits"
	"strconv"
)

// MaxID is the largest id an IDSet holds. Core, GPU and rank ids are small;
// the bound keeps a hostile or mistyped "0-99999999999" from allocating
// gigabytes.
const MaxID = 1 << 20

// IDSet is a set of small non-negative ints (core ids, GPU ids, ranks) stored
// as a bitset. It is a value type, immutable by convention: every method
// returns a new set and never modifies its receiver, so sets may be shared.
// The zero value is the empty set.
//
// Invariant: w has no trailing zero words (an empty set has len(w) == 0), so
// two equal sets have equal words and Equal is a word compare.
type IDSet struct {
	w []uint64
}

// NewIDSet returns the set of ids. It panics on an id outside 0..MaxID: ids
// come from code, not users (users go through ParseIDSet).
func NewIDSet(ids ...int) IDSet {
	top := -1
	for _, id := range ids {
		checkID(id)
		top = max(top, id)
	}
	if top < 0 {
		return IDSet{}
	}
	w := make([]uint64, top/64+1)
	for _, id := range ids {
		w[id/64] |= 1 << (uint(id) % 64)
	}
	return IDSet{w: w}
}

// RangeIDSet returns lo..hi inclusive; empty when hi < lo.
func RangeIDSet(lo, hi int) IDSet {
	if hi < lo {
		return IDSet{}
	}
	checkID(lo)
	checkID(hi)
	w := make([]uint64, hi/64+1)
	setRange(w, lo, hi)
	return IDSet{w: w}
}

func checkID(id int) {
	if id < 0 || id > MaxID {
		panic(fmt.Sprintf("resources: id %d outside 0..%d", id, MaxID))
	}
}

// setRange sets bits lo..hi (inclusive) in w, which must be long enough.
func setRange(w []uint64, lo, hi int) {
	for lo <= hi {
		i := lo / 64
		off := uint(lo % 64)
		n := hi - lo + 1
		if n >= 64-int(off) {
			w[i] |= ^uint64(0) << off
			lo += 64 - int(off)
			continue
		}
		w[i] |= (uint64(1)<<uint(n) - 1) << off
		lo += n
	}
}

// trim drops trailing zero words to restore the invariant.
func trim(w []uint64) []uint64 {
	n := len(w)
	for n > 0 && w[n-1] == 0 {
		n--
	}
	if n == 0 {
		return nil
	}
	return w[:n]
}

// Count returns the number of ids in s.
func (s IDSet) Count() int {
	n := 0
	for _, x := range s.w {
		n += bits.OnesCount64(x)
	}
	return n
}

// Empty reports whether s has no ids.
func (s IDSet) Empty() bool { return len(s.w) == 0 }

// Contains reports whether id is in s.
func (s IDSet) Contains(id int) bool {
	if id < 0 || id/64 >= len(s.w) {
		return false
	}
	return s.w[id/64]&(1<<(uint(id)%64)) != 0
}

// IDs returns the ids of s in ascending order.
func (s IDSet) IDs() []int {
	out := make([]int, 0, s.Count())
	for i, x := range s.w {
		for x != 0 {
			out = append(out, i*64+bits.TrailingZeros64(x))
			x &= x - 1
		}
	}
	return out
}

// Union returns s ∪ o.
func (s IDSet) Union(o IDSet) IDSet {
	a, b := s.w, o.w
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(b) == 0 {
		return IDSet{w: a}
	}
	w := make([]uint64, len(a))
	copy(w, a)
	for i, x := range b {
		w[i] |= x
	}
	return IDSet{w: w}
}

// Minus returns s \ o.
func (s IDSet) Minus(o IDSet) IDSet {
	if len(s.w) == 0 || len(o.w) == 0 {
		return s
	}
	w := make([]uint64, len(s.w))
	copy(w, s.w)
	for i := 0; i < len(w) && i < len(o.w); i++ {
		w[i] &^= o.w[i]
	}
	return IDSet{w: trim(w)}
}

// Intersect returns s ∩ o.
func (s IDSet) Intersect(o IDSet) IDSet {
	n := min(len(s.w), len(o.w))
	if n == 0 {
		return IDSet{}
	}
	w := make([]uint64, n)
	for i := range w {
		w[i] = s.w[i] & o.w[i]
	}
	return IDSet{w: trim(w)}
}

// Equal reports whether s and o hold the same ids.
func (s IDSet) Equal(o IDSet) bool {
	if len(s.w) != len(o.w) {
		return false
	}
	for i, x := range s.w {
		if o.w[i] != x {
			return false
		}
	}
	return true
}

// First returns the n lowest ids of s (all of s if n >= Count, empty if n <= 0).
func (s IDSet) First(n int) IDSet {
	if n <= 0 {
		return IDSet{}
	}
	for i, x := range s.w {
		c := bits.OnesCount64(x)
		if c < n {
			n -= c
			continue
		}
		w := make([]uint64, i+1)
		copy(w, s.w[:i])
		w[i] = lowBits(x, n)
		return IDSet{w: w}
	}
	return s
}

// lowBits returns the n lowest set bits of x (n <= popcount(x)).
func lowBits(x uint64, n int) uint64 {
	var out uint64
	for ; n > 0; n-- {
		low := x & -x
		out |= low
		x &^= low
	}
	return out
}

// String returns the canonical form: ascending, comma-separated, every run of
// consecutive ids as "lo-hi" ("0-3,7", "4-5"); "" when empty. This is what
// Flux's idset_encode(IDSET_FLAG_RANGE) prints, without RFC 22's brackets.
func (s IDSet) String() string {
	if len(s.w) == 0 {
		return ""
	}
	buf := make([]byte, 0, 16)
	first := true
	emit := func(lo, hi int) {
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = strconv.AppendInt(buf, int64(lo), 10)
		if hi > lo {
			buf = append(buf, '-')
			buf = strconv.AppendInt(buf, int64(hi), 10)
		}
	}
	start, prev := -1, -2
	for i, x := range s.w {
		for x != 0 {
			id := i*64 + bits.TrailingZeros64(x)
			x &= x - 1
			if id != prev+1 {
				if start >= 0 {
					emit(start, prev)
				}
				start = id
			}
			prev = id
		}
	}
	emit(start, prev)
	return string(buf)
}

// GoString makes %#v and test failures readable.
func (s IDSet) GoString() string { return "IDSet(" + strconv.Quote(s.String()) + ")" }
