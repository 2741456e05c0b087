package overlay

import (
	"errors"
	"io/fs"
	"syscall"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

type submitBody struct {
	Cmd    []string `msgpack:"cmd"`
	NCores int      `msgpack:"ncores"`
}

func TestRequestRespond(t *testing.T) {
	req, err := NewRequest("job.submit", submitBody{Cmd: []string{"true"}, NCores: 2})
	if err != nil {
		t.Fatal(err)
	}
	if req.Type != Request || req.Src != AnyRank || req.Dst != AnyRank || req.Tag != 0 {
		t.Fatalf("NewRequest envelope: %v", req)
	}
	req.Tag, req.Src = 77, 5
	var body submitBody
	if err := req.Decode(&body); err != nil || body.NCores != 2 || body.Cmd[0] != "true" {
		t.Fatalf("Decode: %+v %v", body, err)
	}

	resp, err := req.Respond(map[string]uint64{"id": 9})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Type != Response || resp.Tag != 77 || resp.Topic != "job.submit" || resp.Dst != 5 || resp.Errnum != 0 {
		t.Fatalf("Respond envelope: %v", resp)
	}

	e := req.RespondError(syscall.EINVAL, "line 17: -n 64 asks for 64 cores; the instance has 2")
	if e.Type != Response || e.Tag != 77 || e.Dst != 5 || e.Errnum != int32(syscall.EINVAL) || len(e.Payload) != 0 {
		t.Fatalf("RespondError envelope: %v", e)
	}

	empty, _ := req.Respond(nil)
	if len(empty.Payload) != 0 {
		t.Fatalf("nil body produced payload %x", []byte(empty.Payload))
	}
	if err := empty.Decode(&body); !errors.Is(err, ErrNoPayload) {
		t.Fatalf("Decode of empty payload: %v, want ErrNoPayload", err)
	}

	raw := msgpack.RawMessage{0x2a}
	fwd, _ := NewRequest("x", raw)
	if &fwd.Payload[0] != &raw[0] {
		t.Fatalf("a RawMessage body should be forwarded as is")
	}
	if _, err := NewRequest("x", make(chan int)); err == nil {
		t.Fatalf("unencodable body accepted")
	}
}

func TestRemoteError(t *testing.T) {
	tests := []struct {
		err  *RemoteError
		text string
		is   []error
	}{
		{&RemoteError{Errnum: syscall.ENOENT, Text: "job 12 not found"}, "job 12 not found", []error{syscall.ENOENT, fs.ErrNotExist}},
		{&RemoteError{Errnum: syscall.EAGAIN}, syscall.EAGAIN.Error(), []error{syscall.EAGAIN}},
	}
	for _, tt := range tests {
		if tt.err.Error() != tt.text {
			t.Errorf("Error() = %q, want %q", tt.err.Error(), tt.text)
		}
		for _, target := range tt.is {
			if !errors.Is(tt.err, target) {
				t.Errorf("errors.Is(%v, %v) = false", tt.err, target)
			}
		}
		if errors.Is(tt.err, syscall.EPROTO) {
			t.Errorf("%v matches EPROTO", tt.err)
		}
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{Request.String(), "request"}, {Event.String(), "event"}, {MsgType(9).String(), "msgtype(9)"},
		{(FlagStreaming | FlagMore).String(), "streaming|more"}, {Flag(0).String(), "0"}, {Flag(0x102).String(), "noresponse|0x100"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q want %q", tt.got, tt.want)
		}
	}
}
