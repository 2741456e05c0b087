package mpack

import (
	"errors"
	"fmt"
	"math"
)

// ErrShort reports input that ends inside a value, or a length or count
// that the rest of the input cannot hold.
var ErrShort = errors.New("mpack: truncated input")

// Reader decodes msgpack values from the front of a byte slice, consuming
// them. After an error its position is unspecified: a decoder gives up on
// the whole input rather than resynchronising.
//
// Each method accepts what msgpack/v5 accepts when decoding into the
// corresponding Go type; in particular nil reads as the zero value, as it
// does there.
type Reader struct {
	b []byte
}

// NewReader returns a Reader over b. It never modifies b; Str, Bytes and
// StrSlice copy out of it, StrBytes does not.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Len returns the number of bytes not yet consumed.
func (r *Reader) Len() int { return len(r.b) }

// next consumes one byte.
func (r *Reader) next() (byte, error) {
	if len(r.b) == 0 {
		return 0, ErrShort
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

// take consumes n bytes and returns them without copying. n is unsigned so
// that a 32-bit length from the input cannot turn negative on the way.
func (r *Reader) take(n uint64) ([]byte, error) {
	if n > uint64(len(r.b)) {
		return nil, ErrShort
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p, nil
}

// be consumes a big-endian unsigned integer of size bytes (1 to 8).
func (r *Reader) be(size int) (uint64, error) {
	if size > len(r.b) {
		return 0, ErrShort
	}
	var v uint64
	for _, x := range r.b[:size] {
		v = v<<8 | uint64(x)
	}
	r.b = r.b[size:]
	return v, nil
}

// wrongType reports a value of another type than the caller asked for. The
// wording ("want a string, got msgpack code 0x01") is the one the overlay's
// envelope decoder always used, which its tests and logs know.
func wrongType(want string, c byte) error {
	return fmt.Errorf("mpack: want %s, got msgpack code %#02x", want, c)
}

// IsNil reports whether the next value is nil, without consuming it.
func (r *Reader) IsNil() bool { return len(r.b) > 0 && r.b[0] == codeNil }

// Nil consumes a nil.
func (r *Reader) Nil() error {
	c, err := r.next()
	if err == nil && c != codeNil {
		err = wrongType("nil", c)
	}
	return err
}

// MapLen consumes a map header and returns its number of key/value pairs; nil
// reads as an empty map. A count the rest of the input cannot hold (each pair
// takes at least two bytes) is an error, so that a caller may size things by
// it.
func (r *Reader) MapLen() (int, error) {
	n, err := r.header("a map", fixMap, codeMap16, codeMap32)
	if err == nil && n > uint64(len(r.b)/2) {
		err = ErrShort
	}
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// ArrayLen consumes an array header and returns its number of values; nil
// reads as an empty array. A count larger than the remaining bytes (each
// value takes at least one) is an error, so that a caller may make a slice of
// that length.
func (r *Reader) ArrayLen() (int, error) {
	n, err := r.header("an array", fixArray, codeArray16, codeArray32)
	if err == nil && n > uint64(len(r.b)) {
		err = ErrShort
	}
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// header consumes the header of a map or an array (want names it for the
// error): its fix form (fix, the high nibble, with the count in the low
// one), its 16- or 32-bit form, or nil, read as 0.
func (r *Reader) header(want string, fix, code16, code32 byte) (uint64, error) {
	c, err := r.next()
	if err != nil {
		return 0, err
	}
	switch {
	case c&0xf0 == fix:
		return uint64(c & 0x0f), nil
	case c == code16:
		return r.be(2)
	case c == code32:
		return r.be(4)
	case c == codeNil:
		return 0, nil
	}
	return 0, wrongType(want, c)
}

// StrBytes consumes a str (or a bin: msgpack/v5 decodes either into a string)
// and returns its bytes without copying: they alias the input. nil reads as
// nil. This is for map keys, which are only compared.
func (r *Reader) StrBytes() ([]byte, error) {
	// Map keys are short: take a fixstr without the general path.
	if len(r.b) > 0 && r.b[0]&0xe0 == fixStr {
		if n := 1 + int(r.b[0]&0x1f); n <= len(r.b) {
			p := r.b[1:n:n]
			r.b = r.b[n:]
			return p, nil
		}
	}
	c, err := r.next()
	if err != nil {
		return nil, err
	}
	var n uint64
	switch {
	case c&0xe0 == fixStr:
		n = uint64(c & 0x1f)
	case c == codeStr8 || c == codeBin8:
		n, err = r.be(1)
	case c == codeStr16 || c == codeBin16:
		n, err = r.be(2)
	case c == codeStr32 || c == codeBin32:
		n, err = r.be(4)
	case c == codeNil:
		return nil, nil
	default:
		return nil, wrongType("a string (str or bin)", c)
	}
	if err != nil {
		return nil, err
	}
	return r.take(n)
}

// Str consumes a str (or bin) and returns a copy; nil reads as "".
func (r *Reader) Str() (string, error) {
	p, err := r.StrBytes()
	if err != nil {
		return "", err
	}
	return string(p), nil
}

// Bytes consumes a bin (or str) and returns a copy. nil reads as nil and an
// empty bin as an empty, non-nil slice, which is what msgpack/v5 does, so a
// field round-trips the same through either codec.
func (r *Reader) Bytes() ([]byte, error) {
	if r.IsNil() {
		r.b = r.b[1:]
		return nil, nil
	}
	p, err := r.StrBytes()
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(p))
	copy(out, p)
	return out, nil
}

// StrSlice consumes an array of str (or bin) and returns copies. nil reads as
// a nil slice and an empty array as an empty, non-nil one, as in msgpack/v5.
func (r *Reader) StrSlice() ([]string, error) {
	if r.IsNil() {
		r.b = r.b[1:]
		return nil, nil
	}
	n, err := r.ArrayLen()
	if err != nil {
		return nil, err
	}
	s := make([]string, n)
	for i := range s {
		if s[i], err = r.Str(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Bool consumes true or false; nil reads as false.
func (r *Reader) Bool() (bool, error) {
	c, err := r.next()
	if err != nil {
		return false, err
	}
	switch c {
	case codeTrue:
		return true, nil
	case codeFalse, codeNil:
		return false, nil
	}
	return false, wrongType("a bool", c)
}

// Int consumes an integer of any msgpack form (nil reads as 0). Unlike
// msgpack/v5, which would wrap it, a uint 64 above MaxInt64 is an error.
func (r *Reader) Int() (int64, error) { return r.IntIn(math.MinInt64, math.MaxInt64) }

// Uint consumes an integer of any msgpack form (nil reads as 0). Unlike
// msgpack/v5, which would wrap it, a negative value is an error.
func (r *Reader) Uint() (uint64, error) {
	u, neg, err := r.integer()
	if err != nil {
		return 0, err
	}
	if neg {
		return 0, fmt.Errorf("mpack: negative integer %d for an unsigned value", int64(u))
	}
	return u, nil
}

// IntIn consumes an integer of any msgpack form (nil reads as 0) and checks
// that it lies in [lo, hi]: a field narrower than int64 is read with its own
// bounds, so a value that would wrap in the conversion is an error instead.
func (r *Reader) IntIn(lo, hi int64) (int64, error) {
	// Most integers in a message are fixints (a type, a tag, a rank, -1):
	// take them without the general path, as StrBytes does a short key.
	if len(r.b) > 0 && (r.b[0] <= 0x7f || r.b[0] >= negFix) {
		if v := int64(int8(r.b[0])); v >= lo && v <= hi {
			r.b = r.b[1:]
			return v, nil
		}
	}
	return r.intIn(lo, hi)
}

// intIn is IntIn's general path, and where its errors are made.
func (r *Reader) intIn(lo, hi int64) (int64, error) {
	u, neg, err := r.integer()
	if err != nil {
		return 0, err
	}
	if !neg && u > 1<<63-1 {
		return 0, fmt.Errorf("mpack: %d out of range [%d, %d]", u, lo, hi)
	}
	if v := int64(u); v < lo || v > hi {
		return 0, fmt.Errorf("mpack: %d out of range [%d, %d]", v, lo, hi)
	}
	return int64(u), nil
}

// integer consumes any integer form. A negative value comes back as its
// two's complement in u, with neg set.
func (r *Reader) integer() (u uint64, neg bool, err error) {
	c, err := r.next()
	if err != nil {
		return 0, false, err
	}
	switch {
	case c <= 0x7f:
		return uint64(c), false, nil
	case c >= negFix:
		return uint64(int64(int8(c))), true, nil
	case c == codeNil:
		return 0, false, nil
	case c >= codeUint8 && c <= codeUint64:
		u, err = r.be(1 << (c - codeUint8))
		return u, false, err
	case c >= codeInt8 && c <= codeInt64:
		size := 1 << (c - codeInt8)
		if u, err = r.be(size); err != nil {
			return 0, false, err
		}
		shift := 64 - 8*uint(size) // sign-extend from size bytes
		v := int64(u<<shift) >> shift
		return uint64(v), v < 0, nil
	}
	return 0, false, wrongType("an integer", c)
}

// ReadMap reads a map whose keys are strings: field is called for each key
// (which aliases the input: valid during the call) with r at the key's
// value, and must read or skip the value. An error names the key.
func (r *Reader) ReadMap(field func(key []byte) error) error {
	n, err := r.MapLen()
	for ; n > 0 && err == nil; n-- {
		var key []byte
		if key, err = r.StrBytes(); err != nil {
			break
		}
		if err = field(key); err != nil {
			err = fmt.Errorf("%q: %w", key, err)
		}
	}
	return err
}

// Whole completes an UnmarshalMsgpack of a what: its input is exactly one
// value, so bytes after it mean the caller handed over the wrong ones.
func (r *Reader) Whole(what string, err error) error {
	if err == nil && r.Len() != 0 {
		err = fmt.Errorf("%d bytes after the value", r.Len())
	}
	if err != nil {
		return fmt.Errorf("decoding %s: %w", what, err)
	}
	return nil
}

// ReadSlice decodes an array whose elements read themselves. Like
// msgpack/v5 it returns nil for nil and an empty, non-nil slice for an empty
// array. The elements are decoded in place, so a batch of jobs costs one
// allocation for the slice, not one per job.
func ReadSlice[T any, P interface {
	*T
	ReadMsgpack(*Reader) error
}](r *Reader) ([]T, error) {
	if r.IsNil() {
		return nil, r.Nil()
	}
	n, err := r.ArrayLen()
	if err != nil {
		return nil, err
	}
	s := make([]T, n)
	for i := range s {
		if err := P(&s[i]).ReadMsgpack(r); err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
	}
	return s, nil
}

// ReadUints is ReadSlice for []uint64.
func ReadUints(r *Reader) ([]uint64, error) {
	if r.IsNil() {
		return nil, r.Nil()
	}
	n, err := r.ArrayLen()
	if err != nil {
		return nil, err
	}
	s := make([]uint64, n)
	for i := range s {
		if s[i], err = r.Uint(); err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
	}
	return s, nil
}
