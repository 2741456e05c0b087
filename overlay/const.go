package overlay

import (
	"errors"
	"fmt"
	"strings"
)

// ProtocolVersion is the version of the envelope and framing described in
// PROTOCOL.md. It travels in every broker-link hello; bump it, and record
// why in PROTOCOL.md, on any incompatible change.
const ProtocolVersion = 1

// MaxFrame is the largest frame body (the msgpack map, without the 4-byte
// length prefix) that is sent or accepted. A larger length is rejected before
// any allocation, so a corrupt or hostile peer cannot make us allocate 4 GiB.
const MaxFrame = 16 << 20

// MsgType says what a message is. Values are frozen: a retired type's number
// is never reused (PROTOCOL.md).
type MsgType uint8

// Message types. 3 is deliberately unused (Flux's numbering keeps types as
// bits; we keep its values so traces read the same).
const (
	Request  MsgType = 1
	Response MsgType = 2
	Event    MsgType = 4
)

func (t MsgType) String() string {
	switch t {
	case Request:
		return "request"
	case Response:
		return "response"
	case Event:
		return "event"
	}
	return fmt.Sprintf("msgtype(%d)", uint8(t))
}

// Flag modifies a message. Bits are frozen like the types.
type Flag uint16

const (
	FlagStreaming  Flag = 1 << iota // request: the caller expects several responses
	FlagNoResponse                  // request: fire and forget
	FlagMore                        // response: more responses follow for this tag (streaming)
)

func (f Flag) String() string {
	if f == 0 {
		return "0"
	}
	var parts []string
	names := []struct {
		bit  Flag
		name string
	}{{FlagStreaming, "streaming"}, {FlagNoResponse, "noresponse"}, {FlagMore, "more"}}
	for _, n := range names {
		if f&n.bit != 0 {
			parts = append(parts, n.name)
			f &^= n.bit
		}
	}
	if f != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint16(f)))
	}
	return strings.Join(parts, "|")
}

var (
	// ErrFrameTooLarge: a frame's length prefix (or a message to be sent)
	// exceeds MaxFrame. On a stream this is fatal: the connection is closed,
	// because the stream can no longer be trusted to be in sync.
	ErrFrameTooLarge = fmt.Errorf("overlay: frame larger than %d bytes", MaxFrame)
	// ErrClosed: the connection (or client) was closed by this side.
	ErrClosed = errors.New("overlay: connection closed")
	// ErrNoPayload: Msg.Decode was asked to decode a message that carries no
	// payload (the sender passed a nil body).
	ErrNoPayload = errors.New("overlay: message has no payload")
	// ErrSendQueueFull: TrySend found the connection's send queue full; the
	// message was not sent. The peer has stopped reading (or is very slow).
	ErrSendQueueFull = errors.New("overlay: send queue full: the peer is not reading")
)
