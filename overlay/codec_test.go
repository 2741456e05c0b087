package overlay

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func mustPayload(t testing.TB, v any) msgpack.RawMessage {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMsgRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		m    Msg
	}{
		{"zero", Msg{}},
		{"request", Msg{Type: Request, Topic: "job.submit", Src: -1, Dst: -1, Tag: 1,
			Payload: mustPayload(t, map[string]any{"cmd": []string{"tar", "-cf", "a.tgz", "a"}, "ncores": 1})}},
		{"streaming", Msg{Type: Request, Topic: "job.wait", Src: -1, Dst: 0, Tag: 7, Flags: FlagStreaming}},
		{"more", Msg{Type: Response, Topic: "job.wait", Dst: -1, Tag: 7, Flags: FlagMore, Payload: mustPayload(t, 42)}},
		{"error", Msg{Type: Response, Topic: "job.cancel", Dst: -1, Tag: 9, Errnum: int32(syscall.ENOENT), Errstr: "job 12 not found"}},
		{"event", Msg{Type: Event, Topic: "job.state", Src: 3, Dst: -1, Payload: mustPayload(t, "done")}},
		{"extremes", Msg{Type: 255, Topic: strings.Repeat("t", 70000), Src: math.MinInt32, Dst: math.MaxInt32,
			Tag: math.MaxUint32, Flags: math.MaxUint16, Errnum: math.MinInt32, Errstr: strings.Repeat("e", 300)}},
		{"mid ints", Msg{Type: 200, Src: -33, Dst: 40000, Tag: 300, Errnum: -129, Flags: 255}},
		{"nil payload value", Msg{Type: Request, Topic: "x", Payload: msgpack.RawMessage{0xc0}}},
		{"nested payload", Msg{Type: Response, Payload: mustPayload(t, []any{map[string]any{"a": []any{1.5, true, nil, []byte{1, 2}}}})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := appendMsg(nil, &tt.m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeMsg(b)
			if err != nil {
				t.Fatalf("DecodeMsg: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.m) {
				t.Fatalf("round trip:\n got %v\nwant %v", got, &tt.m)
			}
			// msgpack.Marshal of a Msg must be the envelope encoding too.
			viaLib, err := msgpack.Marshal(&tt.m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(viaLib, b) {
				t.Fatalf("msgpack.Marshal differs from appendMsg")
			}
			var back Msg
			if err := msgpack.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, tt.m) {
				t.Fatalf("msgpack.Unmarshal: %v, %v", err, &back)
			}
		})
	}
}

// TestDecodeForeignEncoder checks tolerance: a map written by the generic
// msgpack library, keys in another order, with fields we do not know and
// integers in wide forms, still decodes.
func TestDecodeForeignEncoder(t *testing.T) {
	type future struct {
		Type    uint64             `msgpack:"type"`
		Extra   map[string]any     `msgpack:"zz_new"`
		Topic   string             `msgpack:"topic"`
		Tag     int64              `msgpack:"tag"`
		Src     int64              `msgpack:"src"`
		Dst     int16              `msgpack:"dst"`
		Payload msgpack.RawMessage `msgpack:"payload"`
		Route   []uint32           `msgpack:"route"`
	}
	in := future{Type: 1, Extra: map[string]any{"x": []any{1, "y"}}, Topic: "job.list", Tag: 5, Src: -1, Dst: -1,
		Payload: mustPayload(t, map[string]int{"max": 10}), Route: []uint32{0, 1, 2}}
	b, err := msgpack.Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	m, err := DecodeMsg(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Msg{Type: Request, Topic: "job.list", Tag: 5, Src: -1, Dst: -1, Payload: in.Payload}
	if !reflect.DeepEqual(*m, want) {
		t.Fatalf("got %v want %v", m, &want)
	}
	var body map[string]int
	if err := m.Decode(&body); err != nil || body["max"] != 10 {
		t.Fatalf("Decode: %v %v", body, err)
	}
}

func TestDecodeMsgErrors(t *testing.T) {
	good, _ := appendMsg(nil, &Msg{Type: Request, Topic: "a", Tag: 1})
	tests := []struct {
		name string
		in   []byte
		want string // substring of the error
	}{
		{"empty", nil, "truncated"},
		{"not a map", []byte{0x93, 1, 2, 3}, "not a msgpack map"},
		{"truncated", good[:len(good)-1], "truncated"},
		{"trailing", append(append([]byte{}, good...), 0xc0), "trailing"},
		{"int key", []byte{0x81, 0x01, 0x02}, "want a string"},
		{"string for int", []byte{0x81, 0xa3, 't', 'a', 'g', 0xa1, 'x'}, "want an integer"},
		{"type out of range", []byte{0x81, 0xa4, 't', 'y', 'p', 'e', 0xcd, 0x01, 0x00}, "out of range"},
		{"negative tag", []byte{0x81, 0xa3, 't', 'a', 'g', 0xff}, "out of range"},
		{"huge uint64", []byte{0x81, 0xa3, 's', 'r', 'c', 0xcf, 0xff, 0, 0, 0, 0, 0, 0, 0}, "out of range"},
		{"int for topic", []byte{0x81, 0xa5, 't', 'o', 'p', 'i', 'c', 0x01}, "want a string"},
		{"invalid code in payload", []byte{0x81, 0xa7, 'p', 'a', 'y', 'l', 'o', 'a', 'd', 0xc1}, "invalid msgpack code"},
		{"map32 claims 4G entries", []byte{0xdf, 0xff, 0xff, 0xff, 0xff}, "truncated"},
		{"payload array claims 4G items", []byte{0x81, 0xa7, 'p', 'a', 'y', 'l', 'o', 'a', 'd', 0xdd, 0xff, 0xff, 0xff, 0xff}, "truncated"},
		{"str32 claims 4GB", []byte{0x81, 0xa5, 't', 'o', 'p', 'i', 'c', 0xdb, 0xff, 0xff, 0xff, 0xff}, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeMsg(tt.in)
			if err == nil {
				t.Fatalf("DecodeMsg(%x) = %v, want error", tt.in, m)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestDecodeNilFieldsAndUnknownKeys(t *testing.T) {
	// {"tag": nil, "topic": nil, "zz": {"a": [1]}, "type": 4}
	in := []byte{0x84, 0xa3, 't', 'a', 'g', 0xc0, 0xa5, 't', 'o', 'p', 'i', 'c', 0xc0,
		0xa2, 'z', 'z', 0x81, 0xa1, 'a', 0x91, 0x01, 0xa4, 't', 'y', 'p', 'e', 0x04}
	m, err := DecodeMsg(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Msg{Type: Event}); !reflect.DeepEqual(*m, want) {
		t.Fatalf("got %v want %v", m, &want)
	}
}

// TestDecodeBinAsString: a string written as msgpack bin (as some writers
// do for bytes they hold) reads as the string, in a key or a value, as
// msgpack/v5 reads it; our writer always uses str.
func TestDecodeBinAsString(t *testing.T) {
	// {bin "topic": bin "job.list", "type": 1}
	in := []byte{0x82, 0xc4, 5, 't', 'o', 'p', 'i', 'c', 0xc4, 8, 'j', 'o', 'b', '.', 'l', 'i', 's', 't', 0xa4, 't', 'y', 'p', 'e', 0x01}
	m, err := DecodeMsg(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Msg{Type: Request, Topic: "job.list"}); !reflect.DeepEqual(*m, want) {
		t.Fatalf("got %v want %v", m, &want)
	}
	b, _ := appendMsg(nil, m)
	if bytes.Contains(b, []byte{0xc4}) {
		t.Fatalf("re-encoded with a bin: % x", b)
	}
}

func TestDecodeMsgDoesNotAliasInput(t *testing.T) {
	b, _ := appendMsg(nil, &Msg{Type: Request, Topic: "job.submit", Payload: mustPayload(t, "body")})
	m, err := DecodeMsg(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0
	}
	var s string
	if err := m.Decode(&s); err != nil || s != "body" || m.Topic != "job.submit" {
		t.Fatalf("decoded message changed with its input buffer: %v %q %v", m, s, err)
	}
}

func TestEncodeRejectsBadPayload(t *testing.T) {
	for _, p := range []msgpack.RawMessage{{0xc1}, {0x92, 0x01}, {0x01, 0x02}} {
		if _, err := appendMsg(nil, &Msg{Type: Request, Topic: "x", Payload: p}); err == nil {
			t.Errorf("payload %x accepted; it is not exactly one msgpack value", []byte(p))
		}
	}
}

// TestPayloadOfEveryKind: a payload of any msgpack type and form travels in
// the envelope unchanged, and one cut short is refused. (Where a value ends
// is internal/mpack's Raw, tested there against the msgpack library.)
func TestPayloadOfEveryKind(t *testing.T) {
	values := []any{nil, true, false, 0, 127, -32, -33, 255, 65535, 1 << 20, int64(1) << 40, -1 << 40,
		float32(1.5), 2.5, "", "short", strings.Repeat("s", 40), strings.Repeat("s", 300), strings.Repeat("s", 70000),
		[]byte{}, []byte{1, 2, 3}, make([]byte, 300), make([]byte, 70000), []int{1, 2}, make([]int, 20), make([]int, 70000),
		map[string]int{"a": 1}, map[int]string{1: "a", 2: "b", 3: "c", 4: "d", 5: "e", 6: "f", 7: "g", 8: "h", 9: "i", 10: "j", 11: "k", 12: "l", 13: "m", 14: "n", 15: "o", 16: "p"},
		[]any{[]any{[]any{map[string]any{"deep": []any{nil}}}}},
	}
	var payloads []msgpack.RawMessage
	for _, v := range values {
		payloads = append(payloads, mustPayload(t, v))
	}
	// Extensions: a time.Time is ext -1 in msgpack/v5, and raw ext forms.
	for _, e := range [][]byte{
		{0xd4, 1, 0}, {0xd5, 1, 0, 0}, {0xd6, 1, 0, 0, 0, 0}, {0xd7, 1, 0, 0, 0, 0, 0, 0, 0, 0},
		append([]byte{0xd8, 1}, make([]byte, 16)...), {0xc7, 2, 1, 0, 0}, {0xc8, 0, 1, 5, 9}, {0xc9, 0, 0, 0, 1, 5, 9},
	} {
		payloads = append(payloads, e)
	}
	for _, p := range payloads {
		m := Msg{Type: Event, Topic: "t", Payload: p}
		b, err := appendMsg(nil, &m)
		if err != nil {
			t.Errorf("payload % x: %v", p[:min(16, len(p))], err)
			continue
		}
		if got, err := DecodeMsg(b); err != nil {
			t.Errorf("payload % x: DecodeMsg: %v", p[:min(16, len(p))], err)
		} else if !bytes.Equal(got.Payload, p) {
			t.Errorf("payload % x came back as % x", p[:min(16, len(p))], got.Payload[:min(16, len(got.Payload))])
		}
		if _, err := appendMsg(nil, &Msg{Type: Event, Topic: "t", Payload: p[:len(p)-1]}); len(p) > 1 && err == nil {
			t.Errorf("payload % x cut short is accepted", p[:min(16, len(p))])
		}
	}
}
