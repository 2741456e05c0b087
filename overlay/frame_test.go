package overlay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func TestEncodeFrameTooLarge(t *testing.T) {
	big := make([]byte, MaxFrame) // bin32 payload: with the envelope it exceeds MaxFrame
	p, err := msgpack.Marshal(big)
	if err != nil {
		t.Fatal(err)
	}
	dst := []byte("prefix")
	out, err := EncodeFrame(dst, &Msg{Type: Request, Topic: "big", Payload: p})
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("err = %v, want ErrFrameTooLarge", err)
	}
	if string(out) != "prefix" {
		t.Fatalf("dst changed on error: %q...", out[:min(len(out), 10)])
	}
	// Just under the limit is fine.
	p, _ = msgpack.Marshal(make([]byte, MaxFrame-100))
	if _, err := EncodeFrame(nil, &Msg{Type: Request, Topic: "big", Payload: p}); err != nil {
		t.Fatalf("frame under MaxFrame refused: %v", err)
	}
}

func TestReadFrame(t *testing.T) {
	frame, _ := EncodeFrame(nil, &Msg{Type: Event, Topic: "t"})
	oversize := binary.BigEndian.AppendUint32(nil, MaxFrame+1)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"whole", frame, nil},
		{"clean eof", nil, io.EOF},
		{"short header", frame[:2], io.ErrUnexpectedEOF},
		{"short body", frame[:len(frame)-1], io.ErrUnexpectedEOF},
		{"oversize", append(oversize, 1, 2, 3), ErrFrameTooLarge},
		{"max uint32", []byte{0xff, 0xff, 0xff, 0xff}, ErrFrameTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]byte, 0, 8)
			got, err := readFrame(&oneByteReader{r: bytes.NewReader(tt.in)}, buf)
			if !errors.Is(err, tt.want) && err != tt.want {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == ErrFrameTooLarge && cap(got) != 8 {
				t.Fatalf("buffer grown to %d before the length was checked", cap(got))
			}
			if tt.want == nil && !bytes.Equal(got, frame[frameHeader:]) {
				t.Fatalf("body %x, want %x", got, frame[frameHeader:])
			}
		})
	}
}
