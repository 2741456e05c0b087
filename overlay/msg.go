package overlay

import (
	"fmt"
	"syscall"

	"github.com/vmihailenco/msgpack/v5"
)

// Msg is the envelope every message travels in. It is encoded as a msgpack
// map whose keys are the short tags below, written in sorted order, so that
// golden bytes are stable and a reader tolerates keys it does not know
// (PROTOCOL.md). The struct tags document the keys and make a plain
// msgpack.Marshal of a struct embedding Msg agree with EncodeFrame, but the
// actual encoding is hand-written in codec.go (EncodeMsgpack/DecodeMsgpack).
type Msg struct {
	Type    MsgType            `msgpack:"type"`
	Topic   string             `msgpack:"topic"`             // "job.submit", "job.list", an event name...
	Src     int32              `msgpack:"src"`               // sender rank, -1 = a client
	Dst     int32              `msgpack:"dst"`               // destination rank, -1 = any / nearest
	Tag     uint32             `msgpack:"tag"`               // match tag: a response carries its request's tag
	Flags   Flag               `msgpack:"flags,omitempty"`   // FlagStreaming, FlagNoResponse, FlagMore
	Errnum  int32              `msgpack:"errnum,omitempty"`  // 0 = success; POSIX errno values (ENODATA = end of stream)
	Errstr  string             `msgpack:"errstr,omitempty"`  // human text for Errnum
	Payload msgpack.RawMessage `msgpack:"payload,omitempty"` // msgpack-encoded body, topic-specific
}

// AnyRank is the Src of a message from a client and the Dst meaning "any /
// nearest broker".
const AnyRank = -1

// NewRequest builds a request from a client (Src = Dst = AnyRank) with body
// msgpack-encoded as the payload; a nil body means no payload. The Tag is left
// 0: Client assigns it.
func NewRequest(topic string, body any) (*Msg, error) {
	p, err := marshalBody(body)
	if err != nil {
		return nil, fmt.Errorf("overlay: encoding %s request: %w", topic, err)
	}
	return &Msg{Type: Request, Topic: topic, Src: AnyRank, Dst: AnyRank, Payload: p}, nil
}

// Respond builds a successful response to request m: same Tag and Topic,
// addressed back to m.Src. Src is left 0; a broker that is not rank 0 stamps
// its own rank. A streaming server sets FlagMore on every response but the
// last.
func (m *Msg) Respond(body any) (*Msg, error) {
	p, err := marshalBody(body)
	if err != nil {
		return nil, fmt.Errorf("overlay: encoding %s response: %w", m.Topic, err)
	}
	return &Msg{Type: Response, Topic: m.Topic, Dst: m.Src, Tag: m.Tag, Payload: p}, nil
}

// RespondError builds an error response to request m. text may be empty, in
// which case the caller sees the errno's own text.
func (m *Msg) RespondError(errnum syscall.Errno, text string) *Msg {
	return &Msg{Type: Response, Topic: m.Topic, Dst: m.Src, Tag: m.Tag, Errnum: int32(errnum), Errstr: text}
}

// Decode msgpack-decodes the payload into v. Unknown fields in the payload
// are ignored, so a newer sender can add fields. A message without payload
// returns ErrNoPayload.
func (m *Msg) Decode(v any) error {
	if len(m.Payload) == 0 {
		return fmt.Errorf("%w (topic %q)", ErrNoPayload, m.Topic)
	}
	var err error
	if u, ok := v.(msgpack.Unmarshaler); ok {
		// A hand-written codec: msgpack.Unmarshal would first copy the
		// value byte by byte to find its end, which the payload already is.
		err = u.UnmarshalMsgpack(m.Payload)
	} else {
		err = msgpack.Unmarshal(m.Payload, v)
	}
	if err != nil {
		return fmt.Errorf("overlay: decoding %s %s payload: %w", m.Topic, m.Type, err)
	}
	return nil
}

// String is a one-line summary for logs and test failures.
func (m *Msg) String() string {
	s := fmt.Sprintf("%s %q src=%d dst=%d tag=%d", m.Type, m.Topic, m.Src, m.Dst, m.Tag)
	if m.Flags != 0 {
		s += " flags=" + m.Flags.String()
	}
	if m.Errnum != 0 {
		s += fmt.Sprintf(" errnum=%d errstr=%q", m.Errnum, m.Errstr)
	}
	return s + fmt.Sprintf(" payload=%dB", len(m.Payload))
}

func marshalBody(body any) (msgpack.RawMessage, error) {
	if body == nil {
		return nil, nil
	}
	if raw, ok := body.(msgpack.RawMessage); ok {
		// Already encoded (a broker forwarding a payload): no second copy.
		return raw, nil
	}
	if mm, ok := body.(msgpack.Marshaler); ok {
		return mm.MarshalMsgpack()
	}
	return msgpack.Marshal(body)
}

// RemoteError is what a caller gets for a response with Errnum != 0: the
// remote side understood the request and refused it. It is distinct from a
// transport error (a lost connection), which is never a *RemoteError.
// errors.Is(err, syscall.ENOENT) works through Unwrap.
type RemoteError struct {
	Errnum syscall.Errno
	Text   string
}

func (e *RemoteError) Error() string {
	if e.Text != "" {
		return e.Text
	}
	return e.Errnum.Error()
}

// Unwrap returns the errno, so errors.Is(err, syscall.EAGAIN) and
// errors.Is(err, fs.ErrNotExist) behave as for a local errno.
func (e *RemoteError) Unwrap() error { return e.Errnum }

// remoteError returns the *RemoteError carried by response m, or nil.
func remoteError(m *Msg) error {
	if m.Errnum == 0 {
		return nil
	}
	return &RemoteError{Errnum: syscall.Errno(m.Errnum), Text: m.Errstr}
}
