package overlay

import (
	"errors"
	"fmt"
	"math"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/fluxtaskfarm/flux/internal/mpack"
)

// The envelope codec is hand-written rather than reflection-driven for three
// reasons: keys must come out sorted (msgpack/v5 writes struct fields in
// declaration order), decoding untrusted bytes must never panic or allocate
// more than the input, and it is on the hot path of every task. It is built
// on internal/mpack, the primitives broker's and hierarchy's codecs use too,
// whose Reader keeps those promises for every value it reads or skips.

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
		r := mpack.NewReader(m.Payload)
		if r.Skip() != nil || r.Len() != 0 {
			return dst, fmt.Errorf("overlay: %s %q payload is not a single msgpack value", m.Type, m.Topic)
		}
	}
	// dst, src, tag, topic and type are always written: at most 9 keys.
	n := 5 + mpack.B2I(m.Errnum != 0) + mpack.B2I(m.Errstr != "") + mpack.B2I(m.Flags != 0) + mpack.B2I(len(m.Payload) > 0)
	dst = mpack.AppendMapHeader(dst, n)
	dst = mpack.AppendInt(mpack.AppendString(dst, keyDst), int64(m.Dst))
	if m.Errnum != 0 {
		dst = mpack.AppendInt(mpack.AppendString(dst, keyErrnum), int64(m.Errnum))
	}
	if m.Errstr != "" {
		dst = mpack.AppendString(mpack.AppendString(dst, keyErrstr), m.Errstr)
	}
	if m.Flags != 0 {
		dst = mpack.AppendUint(mpack.AppendString(dst, keyFlags), uint64(m.Flags))
	}
	if len(m.Payload) > 0 {
		dst = append(mpack.AppendString(dst, keyPayload), m.Payload...)
	}
	dst = mpack.AppendInt(mpack.AppendString(dst, keySrc), int64(m.Src))
	dst = mpack.AppendUint(mpack.AppendString(dst, keyTag), uint64(m.Tag))
	dst = mpack.AppendString(mpack.AppendString(dst, keyTopic), m.Topic)
	dst = mpack.AppendUint(mpack.AppendString(dst, keyType), uint64(m.Type))
	return dst, nil
}

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
	r := mpack.NewReader(b)
	n, err := envelopeLen(r, b)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		key, err := r.StrBytes()
		if err != nil {
			return fmt.Errorf("key %d: %w", i, err)
		}
		if err := field(r, m, key); err != nil {
			return fmt.Errorf("%q: %w", key, err)
		}
	}
	if r.Len() != 0 {
		return fmt.Errorf("%d trailing bytes after the envelope", r.Len())
	}
	return nil
}

// envelopeLen reads the envelope's map header. Unlike a map field, which
// may be nil, the envelope itself must be a map.
func envelopeLen(r *mpack.Reader, b []byte) (int, error) {
	if r.IsNil() {
		return 0, fmt.Errorf("envelope is not a msgpack map (first byte %#02x)", b[0])
	}
	n, err := r.MapLen()
	if err != nil && !errors.Is(err, mpack.ErrShort) {
		return 0, fmt.Errorf("envelope is not a msgpack map (first byte %#02x)", b[0])
	}
	return n, err
}

// field decodes the value of key into m. key aliases the input: switching on
// string(key) does not allocate.
func field(r *mpack.Reader, m *Msg, key []byte) error {
	var err error
	var v int64
	switch string(key) {
	case keyType:
		v, err = r.IntIn(0, math.MaxUint8)
		m.Type = MsgType(v)
	case keyTopic:
		m.Topic, err = r.Str()
	case keySrc:
		v, err = r.IntIn(math.MinInt32, math.MaxInt32)
		m.Src = int32(v)
	case keyDst:
		v, err = r.IntIn(math.MinInt32, math.MaxInt32)
		m.Dst = int32(v)
	case keyTag:
		v, err = r.IntIn(0, math.MaxUint32)
		m.Tag = uint32(v)
	case keyFlags:
		v, err = r.IntIn(0, math.MaxUint16)
		m.Flags = Flag(v)
	case keyErrnum:
		v, err = r.IntIn(math.MinInt32, math.MaxInt32)
		m.Errnum = int32(v)
	case keyErrstr:
		m.Errstr, err = r.Str()
	case keyPayload:
		var p []byte
		if p, err = r.Raw(); err == nil {
			// Copy: the frame buffer is reused by the stream reader.
			m.Payload = append(msgpack.RawMessage(nil), p...)
		}
	default:
		err = r.Skip()
	}
	return err
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
