package overlay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// frameHeader is the size of the big-endian length prefix.
const frameHeader = 4

// EncodeFrame appends one frame (4-byte big-endian length, then the msgpack
// envelope) to dst. A message whose encoding exceeds MaxFrame is refused with
// ErrFrameTooLarge and dst is returned unchanged.
func EncodeFrame(dst []byte, m *Msg) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	out, err := appendMsg(dst, m)
	if err != nil {
		return dst[:start], err
	}
	n := len(out) - start - frameHeader
	if n > MaxFrame {
		return out[:start], fmt.Errorf("%w: %s %q is %d bytes; send large data out of band", ErrFrameTooLarge, m.Type, m.Topic, n)
	}
	binary.BigEndian.PutUint32(out[start:], uint32(n))
	return out, nil
}

// readFrame reads one frame body into buf (grown as needed) and returns it.
// io.EOF means the peer closed cleanly between frames; a frame cut short is
// io.ErrUnexpectedEOF. The length is checked before buf is grown.
func readFrame(r io.Reader, buf []byte) ([]byte, error) {
	var hdr [frameHeader]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return buf, err // io.EOF only if no byte of the header arrived
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxFrame {
		return buf, fmt.Errorf("%w: peer announced %d bytes", ErrFrameTooLarge, n)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return buf, err
	}
	return buf, nil
}
