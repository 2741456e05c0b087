package mpack

import "fmt"

// Skip consumes one value of any type, however nested, e.g. the value of a
// map key the caller does not know. It keeps a count of values still to
// skip instead of recursing, so deeply nested input cannot exhaust the
// stack, and it never allocates.
func (r *Reader) Skip() error {
	s := *r // on error, leave r where it was
	for todo := uint64(1); todo > 0; todo-- {
		c, err := s.next()
		if err != nil {
			return err
		}
		var data, items uint64 // bytes to skip; values nested in this one
		switch {
		case c <= 0x7f || c >= negFix || c == codeNil || c == codeFalse || c == codeTrue:
		case c&0xf0 == fixMap:
			items = 2 * uint64(c&0x0f)
		case c&0xf0 == fixArray:
			items = uint64(c & 0x0f)
		case c&0xe0 == fixStr:
			data = uint64(c & 0x1f)
		case c == codeBin8 || c == codeStr8:
			data, err = s.be(1)
		case c == codeBin16 || c == codeStr16:
			data, err = s.be(2)
		case c == codeBin32 || c == codeStr32:
			data, err = s.be(4)
		case c >= codeExt8 && c <= codeExt32:
			data, err = s.be(1 << (c - codeExt8))
			data++ // the type byte
		case c == codeFloat32:
			data = 4
		case c == codeFloat64:
			data = 8
		case c >= codeUint8 && c <= codeInt64:
			data = 1 << ((c - codeUint8) & 3) // 1, 2, 4, 8 for uint then int
		case c >= codeFixExt1 && c <= codeFixExt16:
			data = 1<<(c-codeFixExt1) + 1
		case c == codeArray16:
			items, err = s.be(2)
		case c == codeArray32:
			items, err = s.be(4)
		case c == codeMap16:
			items, err = s.be(2)
			items *= 2
		case c == codeMap32:
			items, err = s.be(4)
			items *= 2
		default: // 0xc1, which the format never uses
			return fmt.Errorf("mpack: invalid format %#02x", c)
		}
		if err != nil {
			return err
		}
		if _, err := s.take(data); err != nil {
			return err
		}
		// Every value still pending takes at least one byte: a count the
		// input cannot hold is an error, which also bounds todo.
		todo += items
		if todo-1 > uint64(len(s.b)) {
			return ErrShort
		}
	}
	*r = s
	return nil
}
