package mpack

import "testing"

// FuzzReader: random input never panics any method, and whatever a method
// accepts, msgpack/v5 reads as the same value of the same length.
func FuzzReader(f *testing.F) {
	for _, b := range corpus(f) {
		if len(b) <= 512 { // large seeds make every mutation and minimisation slow
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, c := range readerCases {
			checkAgainstRef(t, c, b, false)
		}
		r := NewReader(b)
		for r.Len() > 0 && r.Skip() == nil {
		}
	})
}
