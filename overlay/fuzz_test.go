package overlay

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// seedFrames returns the golden frames: real messages to start the fuzzers from.
func seedFrames(f *testing.F) [][]byte {
	paths, _ := filepath.Glob(filepath.Join("testdata", "msg-*.golden"))
	if len(paths) == 0 {
		f.Fatal("no golden files to seed from")
	}
	var frames [][]byte
	for _, p := range paths {
		text, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		b, err := hex.DecodeString(strings.Join(strings.Fields(string(text)), ""))
		if err != nil {
			f.Fatal(err)
		}
		frames = append(frames, b)
	}
	return frames
}

// FuzzDecodeMsg: garbage never panics, and whatever decodes re-encodes to
// bytes that decode to the same message and encode identically again.
func FuzzDecodeMsg(f *testing.F) {
	for _, fr := range seedFrames(f) {
		f.Add(fr[frameHeader:])
	}
	f.Add([]byte{0x80})
	f.Add([]byte{0xdf, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x81, 0xa7, 'p', 'a', 'y', 'l', 'o', 'a', 'd', 0xdd, 0, 0, 0, 2, 0x91, 0x90, 0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m1, err := DecodeMsg(b)
		if err != nil {
			return
		}
		enc1, err := appendMsg(nil, m1)
		if err != nil {
			t.Fatalf("decoded message does not re-encode: %v (%v)", err, m1)
		}
		m2, err := DecodeMsg(enc1)
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v\n%x", err, enc1)
		}
		if !reflect.DeepEqual(m1, m2) {
			t.Fatalf("unstable: %v then %v", m1, m2)
		}
		enc2, _ := appendMsg(nil, m2)
		if !bytes.Equal(enc1, enc2) {
			t.Fatalf("encoding not canonical:\n%x\n%x", enc1, enc2)
		}
	})
}

// FuzzStreamRecv feeds arbitrary bytes to a stream connection, one byte per
// read: Recv never panics, and stops with an error instead of looping.
func FuzzStreamRecv(f *testing.F) {
	frames := seedFrames(f)
	f.Add(bytes.Join(frames, nil))
	f.Add(frames[0][:len(frames[0])-1])
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c := NewStreamConn(&fakeConn{r: &oneByteReader{r: bytes.NewReader(b)}})
		defer c.Close()
		for i := 0; ; i++ {
			_, err := c.Recv()
			if err != nil {
				if i == 0 && len(b) == 0 && !errors.Is(err, io.EOF) {
					t.Fatalf("empty stream: %v, want io.EOF", err)
				}
				return
			}
			if i > len(b) {
				t.Fatalf("%d messages from %d bytes", i, len(b))
			}
		}
	})
}
