package overlay

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/msg-*.golden from the current encoder")

// goldenMsgs are the messages whose frames are frozen in testdata. The files
// hold the whole frame (length prefix included) as hex, 32 bytes a line.
func goldenMsgs(t testing.TB) map[string]*Msg {
	return map[string]*Msg{
		"request": {Type: Request, Topic: "job.submit", Src: -1, Dst: -1, Tag: 1,
			Payload: mustPayload(t, map[string]any{"cmd": []string{"tar", "-cf", "a.tgz", "a"}})},
		"stream-request": {Type: Request, Topic: "job.wait", Src: -1, Dst: 0, Tag: 2, Flags: FlagStreaming},
		"response-more":  {Type: Response, Topic: "job.wait", Src: 0, Dst: -1, Tag: 2, Flags: FlagMore, Payload: mustPayload(t, []int{17, 0})},
		"error":          {Type: Response, Topic: "job.cancel", Src: 0, Dst: -1, Tag: 300, Errnum: int32(syscall.ENOENT), Errstr: "job 12 not found"},
		"end-of-stream":  {Type: Response, Topic: "job.wait", Src: 0, Dst: -1, Tag: 2, Errnum: int32(syscall.ENODATA)},
		"event":          {Type: Event, Topic: "shutdown", Src: 0, Dst: -1, Payload: mustPayload(t, "bye")},
		"noresponse":     {Type: Request, Topic: "log.append", Src: -1, Dst: -1, Flags: FlagNoResponse, Payload: mustPayload(t, "hi")},
	}
}

func TestGoldenEncodings(t *testing.T) {
	for name, m := range goldenMsgs(t) {
		t.Run(name, func(t *testing.T) {
			frame, err := EncodeFrame(nil, m)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "msg-"+name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(hexLines(frame)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			text, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./overlay -run Golden -update to create it)", err)
			}
			want, err := hex.DecodeString(strings.Join(strings.Fields(string(text)), ""))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if !bytes.Equal(frame, want) {
				t.Fatalf("encoding of %s changed; this breaks the wire protocol (PROTOCOL.md).\n got %x\nwant %x\nIf intended, bump ProtocolVersion and rerun with -update.", name, frame, want)
			}
			got, err := DecodeMsg(want[frameHeader:])
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != m.String() || !bytes.Equal(got.Payload, m.Payload) {
				t.Fatalf("golden bytes decode to %v, want %v", got, m)
			}
		})
	}
}

func hexLines(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		n := min(32, len(b))
		sb.WriteString(hex.EncodeToString(b[:n]))
		sb.WriteByte('\n')
		b = b[n:]
	}
	return sb.String()
}
