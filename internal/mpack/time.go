package mpack

import (
	"encoding/binary"
	"fmt"
	"time"
)

// AppendTime appends t as the msgpack timestamp extension (type -1), in the
// form msgpack/v5 picks: 32 bits for whole seconds in [0, 2^32), 64 bits
// for seconds in [0, 2^34) with nanoseconds, and 96 bits otherwise
// (including the zero time, which is before 1970). The location is not
// encoded: t comes back in the reader's local time (UTC if zero).
func AppendTime(b []byte, t time.Time) []byte {
	secs := uint64(t.Unix())
	if secs>>34 == 0 {
		data := uint64(t.Nanosecond())<<34 | secs
		if data>>32 == 0 {
			return binary.BigEndian.AppendUint32(append(b, codeFixExt4, extTime), uint32(data))
		}
		return binary.BigEndian.AppendUint64(append(b, codeFixExt8, extTime), data)
	}
	b = append(b, codeExt8, 12, extTime)
	b = binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
	return binary.BigEndian.AppendUint64(b, secs)
}

// Time consumes a time in any form msgpack/v5 decodes into a time.Time: the
// timestamp extension in its 32, 64 and 96-bit forms (under any ext header,
// and with type 13 as well as -1, as DecodeTime allows), nil (the zero time),
// and the legacy forms DecodeTime still reads, a [seconds, nanoseconds] array
// and an RFC 3339 string. Like msgpack/v5 it returns local time, except that
// a zero time is UTC, so that it compares equal to time.Time{}.
func (r *Reader) Time() (time.Time, error) {
	if len(r.b) == 0 {
		return time.Time{}, ErrShort
	}
	var (
		t   time.Time
		err error
	)
	switch c := r.b[0]; {
	case c == codeNil:
		r.b = r.b[1:]
		return time.Time{}, nil
	case c == fixArray|2:
		r.b = r.b[1:]
		var sec, nsec int64
		if sec, err = r.Int(); err == nil {
			if nsec, err = r.Int(); err == nil {
				t = time.Unix(sec, nsec)
			}
		}
	case c&0xe0 == fixStr || c == codeStr8 || c == codeStr16 || c == codeStr32:
		var p []byte
		if p, err = r.StrBytes(); err == nil {
			t, err = time.Parse(time.RFC3339Nano, string(p))
		}
	default:
		t, err = r.timestampExt()
	}
	if err != nil {
		return time.Time{}, err
	}
	if t.IsZero() {
		t = t.UTC()
	}
	return t, nil
}

func (r *Reader) timestampExt() (time.Time, error) {
	c, err := r.next()
	if err != nil {
		return time.Time{}, err
	}
	var n uint64
	switch {
	case c >= codeFixExt1 && c <= codeFixExt16:
		n = 1 << (c - codeFixExt1)
	case c >= codeExt8 && c <= codeExt32:
		n, err = r.be(1 << (c - codeExt8))
	default:
		return time.Time{}, wrongType("a time", c)
	}
	if err != nil {
		return time.Time{}, err
	}
	typ, err := r.next()
	if err != nil {
		return time.Time{}, err
	}
	p, err := r.take(n)
	if err != nil {
		return time.Time{}, err
	}
	if typ != extTime && typ != extNodeTime {
		return time.Time{}, fmt.Errorf("mpack: want a time, got ext type %d", int8(typ))
	}
	// Out-of-range nanoseconds are not rejected, as msgpack/v5 does not:
	// time.Unix carries them into the seconds.
	switch len(p) {
	case 4:
		return time.Unix(int64(binary.BigEndian.Uint32(p)), 0), nil
	case 8:
		v := binary.BigEndian.Uint64(p)
		return time.Unix(int64(v&(1<<34-1)), int64(v>>34)), nil
	case 12:
		nsec := binary.BigEndian.Uint32(p)
		return time.Unix(int64(binary.BigEndian.Uint64(p[4:])), int64(nsec)), nil
	}
	return time.Time{}, fmt.Errorf("mpack: timestamp of %d bytes", len(p))
}
