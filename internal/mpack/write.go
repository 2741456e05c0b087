package mpack

import (
	"encoding/binary"
	"math"
)

// Each writer appends one value to b and returns the extended slice, so a
// whole message (a batch of jobs, say) grows in one buffer with no per-value
// allocation. The forms chosen are msgpack/v5's, not always the smallest the
// format allows: see AppendUint64.

// AppendNil appends a msgpack nil.
func AppendNil(b []byte) []byte { return append(b, codeNil) }

// AppendBool appends true or false.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, codeTrue)
	}
	return append(b, codeFalse)
}

// AppendMapHeader starts a map of n key/value pairs; the caller appends
// them.
func AppendMapHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, fixMap|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, codeMap16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, codeMap32), uint32(n))
}

// AppendArrayHeader starts an array of n values; the caller appends them.
func AppendArrayHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, fixArray|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, codeArray16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, codeArray32), uint32(n))
}

// AppendInt appends v in the smallest integer form, as msgpack/v5 does for
// a Go int (and any int field).
func AppendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0:
		return AppendUint(b, uint64(v))
	case v >= -32:
		return append(b, byte(v)) // negative fixint
	case v >= math.MinInt8:
		return append(b, codeInt8, byte(v))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, codeInt16), uint16(v))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, codeInt32), uint32(v))
	}
	return AppendInt64(b, v)
}

// AppendUint appends v in the smallest integer form, as msgpack/v5 does for
// a Go uint.
func AppendUint(b []byte, v uint64) []byte {
	switch {
	case v <= math.MaxInt8:
		return append(b, byte(v)) // positive fixint
	case v <= math.MaxUint8:
		return append(b, codeUint8, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, codeUint16), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, codeUint32), uint32(v))
	}
	return AppendUint64(b, v)
}

// AppendUint64 appends v as a 9-byte uint 64, whatever its value: msgpack/v5
// keeps the width of a Go uint64 (field or value) unless told to compact it,
// and this is what keeps a hand codec's bytes identical to its.
func AppendUint64(b []byte, v uint64) []byte {
	return binary.BigEndian.AppendUint64(append(b, codeUint64), v)
}

// AppendInt64 appends v as a 9-byte int 64, which is how msgpack/v5 writes a
// Go int64 or time.Duration.
func AppendInt64(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(append(b, codeInt64), uint64(v))
}

// AppendString appends s as a msgpack str.
func AppendString(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, fixStr|byte(n))
	case n <= math.MaxUint8:
		b = append(b, codeStr8, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, codeStr16), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, codeStr32), uint32(n))
	}
	return append(b, s...)
}

// AppendBytes appends p as msgpack bin; a nil p is written as nil (an empty
// one as an empty bin), so the reader can tell them apart as msgpack/v5's
// does.
func AppendBytes(b []byte, p []byte) []byte {
	if p == nil {
		return AppendNil(b)
	}
	switch n := len(p); {
	case n <= math.MaxUint8:
		b = append(b, codeBin8, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, codeBin16), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, codeBin32), uint32(n))
	}
	return append(b, p...)
}

// AppendStringSlice appends s as an array of str; a nil s is written as nil
// (an empty one as an empty array), as msgpack/v5 does.
func AppendStringSlice(b []byte, s []string) []byte {
	if s == nil {
		return AppendNil(b)
	}
	b = AppendArrayHeader(b, len(s))
	for _, v := range s {
		b = AppendString(b, v)
	}
	return b
}

// B2I is 1 for true and 0 for false: a codec adds one per optional field
// present to the count in its map header.
func B2I(c bool) int {
	if c {
		return 1
	}
	return 0
}
