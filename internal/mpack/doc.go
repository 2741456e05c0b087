// Package mpack holds the few msgpack primitives that the hand-written codecs
// of the hot message types (overlay's envelope, broker's Jobspec, JobResult
// and friends, hierarchy's sync messages) are built on: append-style writers
// and a Reader over a byte slice. It is the project's one msgpack codec
// below msgpack/v5's reflection; it imports nothing of the project, so any
// package may use it.
//
// The writers produce exactly the bytes github.com/vmihailenco/msgpack/v5
// produces for the same Go value. Byte-for-byte equality, rather than mere
// decodability, is what lets a test prove that a hand codec and the
// reflection codec agree, and keeps a peer that still uses reflection (or an
// older build) seeing the same wire format it always saw.
//
// The Reader decodes untrusted input: it never panics, never recurses on the
// input's nesting, and never allocates for a length the rest of the input
// could not hold. It accepts every form msgpack/v5's decoder accepts for the
// same Go type (any integer width, nil for a zero value, bin for a string and
// str for bytes), so whatever a reflection peer writes, the hand codec reads.
package mpack
