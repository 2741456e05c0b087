package mpack

import "fmt"

// Skip consumes one value of any type, however nested, e.g. the value of a
// map key the caller does not know. It never allocates, and on error it
// consumes nothing.
func (r *Reader) Skip() error {
	n, err := valueLen(r.b) // 0 on error: nothing is consumed
	r.b = r.b[n:]
	return err
}

// Raw consumes one value, as Skip does, and returns its encoding without
// copying: the bytes alias the input. It is for a value carried through
// undecoded (an envelope's payload) and for checking that some bytes are
// exactly one value.
func (r *Reader) Raw() ([]byte, error) {
	b := r.b
	n, err := valueLen(b) // 0 on error: nothing is consumed
	r.b = b[n:]
	return b[:n:n], err
}

// valueLen returns the length in bytes of the value at the front of b. It
// keeps a count of values still to skip instead of recursing, so deeply
// nested input cannot exhaust the stack. It works on an offset into b rather
// than through the Reader's methods: every payload sent is checked with it,
// and this way it costs what a loop over the bytes costs.
func valueLen(b []byte) (int, error) {
	off := 0
	for todo := uint64(1); todo > 0; todo-- {
		if off >= len(b) {
			return 0, ErrShort
		}
		c := b[off]
		off++
		var data, items uint64 // bytes to skip; values nested in this one
		size := 0              // bytes of a length or count that follows c
		switch {
		case c <= 0x7f || c >= negFix || c == codeNil || c == codeFalse || c == codeTrue:
		case c&0xf0 == fixMap:
			items = 2 * uint64(c&0x0f)
		case c&0xf0 == fixArray:
			items = uint64(c & 0x0f)
		case c&0xe0 == fixStr:
			data = uint64(c & 0x1f)
		case c == codeBin8 || c == codeStr8:
			size = 1
		case c == codeBin16 || c == codeStr16:
			size = 2
		case c == codeBin32 || c == codeStr32:
			size = 4
		case c >= codeExt8 && c <= codeExt32:
			size = 1 << (c - codeExt8)
			data = 1 // the type byte
		case c == codeFloat32:
			data = 4
		case c == codeFloat64:
			data = 8
		case c >= codeUint8 && c <= codeInt64:
			data = 1 << ((c - codeUint8) & 3) // 1, 2, 4, 8 for uint then int
		case c >= codeFixExt1 && c <= codeFixExt16:
			data = 1<<(c-codeFixExt1) + 1
		case c == codeArray16 || c == codeMap16:
			size = 2
		case c == codeArray32 || c == codeMap32:
			size = 4
		default: // 0xc1, which the format never uses
			return 0, fmt.Errorf("mpack: invalid msgpack code %#02x", c)
		}
		if size > 0 { // a big-endian length or count
			if size > len(b)-off {
				return 0, ErrShort
			}
			var n uint64
			for _, x := range b[off : off+size] {
				n = n<<8 | uint64(x)
			}
			off += size
			switch {
			case c >= codeArray16 && c <= codeArray32:
				items = n
			case c >= codeMap16:
				items = 2 * n
			default:
				data += n
			}
		}
		if data > uint64(len(b)-off) {
			return 0, ErrShort
		}
		off += int(data)
		// Every value still pending takes at least one byte: a count the
		// input cannot hold is an error, which also bounds todo.
		todo += items
		if todo-1 > uint64(len(b)-off) {
			return 0, ErrShort
		}
	}
	return off, nil
}
