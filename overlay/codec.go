package overlay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/vmihailenco/msgpack/v5"
)

// The envelope codec is hand-written rather than reflection-driven for three
// reasons: keys must come out sorted (msgpack/v5 writes struct fields in
// declaration order), decoding untrusted bytes must never panic or allocate
// more than the input, and it is on the hot path of every task.

// Envelope keys, in the sorted order they are written. Frozen: see PROTOCOL.md.
const (
	keyDst     = "dst"
	keyErrnum  = "errnum"
	keyErrstr  = "errstr"
	keyFlags   = "flags"
	keyPayload = "payload"
	keySrc     = "src"
	keyTag     = "tag"
	keyTopic   = "topic"
	keyType    = "type"
)

// appendMsg appends m's msgpack encoding to dst.
func appendMsg(dst []byte, m *Msg) ([]byte, error) {
	if len(m.Payload) > 0 {
		// A payload that is not exactly one msgpack value would desynchronise
		// the peer's decoder; catch it here, where the bug is.
		n, err := skipValue(m.Payload)
		if err != nil || n != len(m.Payload) {
			return dst, fmt.Errorf("overlay: %s %q payload is not a single msgpack value", m.Type, m.Topic)
		}
	}
	n := 5 // dst, src, tag, topic, type are always written
	if m.Errnum != 0 {
		n++
	}
	if m.Errstr != "" {
		n++
	}
	if m.Flags != 0 {
		n++
	}
	if len(m.Payload) > 0 {
		n++
	}
	dst = append(dst, 0x80|byte(n)) // fixmap: at most 9 keys
	dst = appendInt(appendStr(dst, keyDst), int64(m.Dst))
	if m.Errnum != 0 {
		dst = appendInt(appendStr(dst, keyErrnum), int64(m.Errnum))
	}
	if m.Errstr != "" {
		dst = appendStr(appendStr(dst, keyErrstr), m.Errstr)
	}
	if m.Flags != 0 {
		dst = appendInt(appendStr(dst, keyFlags), int64(m.Flags))
	}
	if len(m.Payload) > 0 {
		dst = append(appendStr(dst, keyPayload), m.Payload...)
	}
	dst = appendInt(appendStr(dst, keySrc), int64(m.Src))
	dst = appendInt(appendStr(dst, keyTag), int64(m.Tag))
	dst = appendStr(appendStr(dst, keyTopic), m.Topic)
	dst = appendInt(appendStr(dst, keyType), int64(m.Type))
	return dst, nil
}

// appendInt writes v in the smallest msgpack integer form.
func appendInt(b []byte, v int64) []byte {
	switch {
	case v >= 0 && v <= 0x7f:
		return append(b, byte(v))
	case v < 0 && v >= -32:
		return append(b, byte(int8(v)))
	case v > 0 && v <= math.MaxUint8:
		return append(b, 0xcc, byte(v))
	case v > 0 && v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(v))
	case v > 0 && v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(v))
	case v > 0:
		return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(v))
	case v >= math.MinInt8:
		return append(b, 0xd0, byte(int8(v)))
	case v >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(int16(v)))
	case v >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(int32(v)))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(v))
}

func appendStr(b []byte, s string) []byte {
	switch n := len(s); {
	case n <= 31:
		b = append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		b = append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

var errShort = errors.New("truncated")

// DecodeMsg decodes one frame body (no length prefix). Unknown keys are
// skipped so newer peers can add fields; a field out of its type's range, a
// non-string key or trailing bytes are errors. The returned Msg shares no
// memory with b, so the caller may reuse b.
func DecodeMsg(b []byte) (*Msg, error) {
	m := new(Msg)
	if err := decodeMsgInto(m, b); err != nil {
		return nil, fmt.Errorf("overlay: malformed message (%d bytes): %w", len(b), err)
	}
	return m, nil
}

func decodeMsgInto(m *Msg, b []byte) error {
	d := decoder{b: b}
	n, err := d.mapLen()
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		key, err := d.strBytes()
		if err != nil {
			return fmt.Errorf("key %d: %w", i, err)
		}
		if err := d.field(m, key); err != nil {
			return fmt.Errorf("%q: %w", key, err)
		}
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%d trailing bytes after the envelope", len(d.b))
	}
	return nil
}

// decoder reads msgpack values from the front of b.
type decoder struct{ b []byte }

// field decodes the value of key into m. key aliases the input: switching on
// string(key) does not allocate.
func (d *decoder) field(m *Msg, key []byte) error {
	var err error
	switch string(key) {
	case keyType:
		var v int64
		v, err = d.intIn(0, math.MaxUint8)
		m.Type = MsgType(v)
	case keyTopic:
		m.Topic, err = d.str()
	case keySrc:
		var v int64
		v, err = d.intIn(math.MinInt32, math.MaxInt32)
		m.Src = int32(v)
	case keyDst:
		var v int64
		v, err = d.intIn(math.MinInt32, math.MaxInt32)
		m.Dst = int32(v)
	case keyTag:
		var v int64
		v, err = d.intIn(0, math.MaxUint32)
		m.Tag = uint32(v)
	case keyFlags:
		var v int64
		v, err = d.intIn(0, math.MaxUint16)
		m.Flags = Flag(v)
	case keyErrnum:
		var v int64
		v, err = d.intIn(math.MinInt32, math.MaxInt32)
		m.Errnum = int32(v)
	case keyErrstr:
		m.Errstr, err = d.str()
	case keyPayload:
		var n int
		n, err = skipValue(d.b)
		if err == nil {
			// Copy: the frame buffer is reused by the stream reader.
			m.Payload = append(msgpack.RawMessage(nil), d.b[:n]...)
			d.b = d.b[n:]
		}
	default:
		var n int
		n, err = skipValue(d.b)
		if err == nil {
			d.b = d.b[n:]
		}
	}
	return err
}

func (d *decoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.b) {
		return nil, errShort
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p, nil
}

func (d *decoder) mapLen() (int, error) {
	p, err := d.take(1)
	if err != nil {
		return 0, err
	}
	var n int
	switch c := p[0]; {
	case c&0xf0 == 0x80:
		n = int(c & 0x0f)
	case c == 0xde:
		if p, err = d.take(2); err == nil {
			n = int(binary.BigEndian.Uint16(p))
		}
	case c == 0xdf:
		if p, err = d.take(4); err == nil {
			n = int(binary.BigEndian.Uint32(p))
		}
	default:
		return 0, fmt.Errorf("envelope is not a msgpack map (first byte %#02x)", c)
	}
	// Each entry takes at least two bytes: refuse impossible counts early.
	if err == nil && n > len(d.b)/2 {
		err = errShort
	}
	return n, err
}

func (d *decoder) str() (string, error) {
	p, err := d.strBytes()
	if err != nil || p == nil {
		return "", err
	}
	return string(p), nil
}

// strBytes reads a string (nil for a msgpack nil) without copying it.
func (d *decoder) strBytes() ([]byte, error) {
	p, err := d.take(1)
	if err != nil {
		return nil, err
	}
	var n int
	switch c := p[0]; {
	case c&0xe0 == 0xa0:
		n = int(c & 0x1f)
	case c == 0xd9:
		if p, err = d.take(1); err == nil {
			n = int(p[0])
		}
	case c == 0xda:
		if p, err = d.take(2); err == nil {
			n = int(binary.BigEndian.Uint16(p))
		}
	case c == 0xdb:
		if p, err = d.take(4); err == nil {
			n = int(binary.BigEndian.Uint32(p))
		}
	case c == 0xc0:
		return nil, nil // nil reads as the zero value
	default:
		return nil, fmt.Errorf("want a string, got msgpack code %#02x", c)
	}
	if err != nil {
		return nil, err
	}
	return d.take(n)
}

// intIn reads any msgpack integer (or nil, read as 0) and checks it lies in
// [lo, hi].
func (d *decoder) intIn(lo, hi int64) (int64, error) {
	p, err := d.take(1)
	if err != nil {
		return 0, err
	}
	c := p[0]
	var v int64
	switch {
	case c <= 0x7f:
		v = int64(c)
	case c >= 0xe0:
		v = int64(int8(c))
	case c == 0xc0:
		v = 0
	case c >= 0xcc && c <= 0xd3:
		size := 1 << ((c - 0xcc) & 3) // cc..cf and d0..d3 are 1,2,4,8 bytes
		if p, err = d.take(size); err != nil {
			return 0, err
		}
		var u uint64
		for _, x := range p {
			u = u<<8 | uint64(x)
		}
		if c <= 0xcf { // unsigned
			if u > math.MaxInt64 {
				return 0, fmt.Errorf("%d out of range [%d, %d]", u, lo, hi)
			}
			v = int64(u)
		} else { // signed: sign-extend from size bytes
			shift := 64 - 8*uint(size)
			v = int64(u<<shift) >> shift
		}
	default:
		return 0, fmt.Errorf("want an integer, got msgpack code %#02x", c)
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("%d out of range [%d, %d]", v, lo, hi)
	}
	return v, nil
}

// skipValue returns the length in bytes of the msgpack value at the front of
// b. It is iterative (a counter of values still to skip, not recursion), so
// deeply nested garbage cannot exhaust the stack, and it never allocates.
func skipValue(b []byte) (int, error) {
	off := 0
	for todo := 1; todo > 0; todo-- {
		if off >= len(b) {
			return 0, errShort
		}
		c := b[off]
		off++
		var data, items int // bytes of data to skip; nested values to add
		switch {
		case c <= 0x7f || c >= 0xe0 || (c >= 0xc0 && c <= 0xc3 && c != 0xc1):
			// fixint, nil, bool
		case c&0xf0 == 0x80:
			items = 2 * int(c&0x0f)
		case c&0xf0 == 0x90:
			items = int(c & 0x0f)
		case c&0xe0 == 0xa0:
			data = int(c & 0x1f)
		case c == 0xc4 || c == 0xd9: // bin8, str8
			n, err := beUint(b, &off, 1)
			if err != nil {
				return 0, err
			}
			data = n
		case c == 0xc5 || c == 0xda: // bin16, str16
			n, err := beUint(b, &off, 2)
			if err != nil {
				return 0, err
			}
			data = n
		case c == 0xc6 || c == 0xdb: // bin32, str32
			n, err := beUint(b, &off, 4)
			if err != nil {
				return 0, err
			}
			data = n
		case c >= 0xc7 && c <= 0xc9: // ext8/16/32: length, type byte, data
			n, err := beUint(b, &off, 1<<(c-0xc7))
			if err != nil {
				return 0, err
			}
			data = n + 1
		case c == 0xca:
			data = 4
		case c == 0xcb:
			data = 8
		case c >= 0xcc && c <= 0xd3:
			data = 1 << ((c - 0xcc) & 3)
		case c >= 0xd4 && c <= 0xd8: // fixext 1,2,4,8,16 plus the type byte
			data = 1<<(c-0xd4) + 1
		case c == 0xdc || c == 0xde:
			n, err := beUint(b, &off, 2)
			if err != nil {
				return 0, err
			}
			items = n
			if c == 0xde {
				items *= 2
			}
		case c == 0xdd || c == 0xdf:
			n, err := beUint(b, &off, 4)
			if err != nil {
				return 0, err
			}
			items = n
			if c == 0xdf {
				items *= 2
			}
		default: // 0xc1 is "never used"
			return 0, fmt.Errorf("invalid msgpack code %#02x", c)
		}
		if data > len(b)-off {
			return 0, errShort
		}
		off += data
		// Every pending value needs at least one byte: this bounds todo by
		// len(b) and rejects absurd counts before we loop over them.
		todo += items
		if todo-1 > len(b)-off {
			return 0, errShort
		}
	}
	return off, nil
}

func beUint(b []byte, off *int, size int) (int, error) {
	if size > len(b)-*off {
		return 0, errShort
	}
	var u uint64
	for _, x := range b[*off : *off+size] {
		u = u<<8 | uint64(x)
	}
	*off += size
	if u > math.MaxInt32 {
		return 0, errShort // larger than any frame can hold
	}
	return int(u), nil
}

// EncodeMsgpack makes msgpack.Marshal of a Msg (or of a struct holding one)
// produce exactly the envelope encoding.
func (m *Msg) EncodeMsgpack(enc *msgpack.Encoder) error {
	b, err := appendMsg(nil, m)
	if err != nil {
		return err
	}
	_, err = enc.Writer().Write(b)
	return err
}

// DecodeMsgpack is the inverse of EncodeMsgpack.
func (m *Msg) DecodeMsgpack(dec *msgpack.Decoder) error {
	raw, err := dec.DecodeRaw()
	if err != nil {
		return err
	}
	*m = Msg{}
	if err := decodeMsgInto(m, raw); err != nil {
		return fmt.Errorf("overlay: malformed message: %w", err)
	}
	return nil
}
