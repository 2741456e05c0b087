package broker

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

type submitReplyTwin struct {
	IDs  []uint64 `msgpack:"ids"`
	Errs []string `msgpack:"errs"`
}

func TestSubmitReplyCodecMatchesReflection(t *testing.T) {
	for _, v := range []SubmitReply{
		{},
		{IDs: []uint64{}, Errs: []string{}},
		{IDs: []uint64{1, 0, 1 << 40}, Errs: []string{"", "line 2: -n 9 asks for 9 cores; the instance has 2", ""}},
	} {
		hand, _ := v.MarshalMsgpack()
		twin := submitReplyTwin(v)
		refl, err := msgpack.Marshal(&twin)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(hand, refl) {
			t.Errorf("%+v: hand %x, reflection %x", v, hand, refl)
		}
		var back SubmitReply
		if err := back.UnmarshalMsgpack(refl); err != nil {
			t.Fatal(err)
		}
		var want submitReplyTwin
		if err := msgpack.Unmarshal(hand, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(submitReplyTwin(back), want) {
			t.Errorf("%+v: hand decodes %+v, reflection %+v", v, back, want)
		}
	}
	var bad SubmitReply
	if err := bad.UnmarshalMsgpack([]byte{0x81, 0xa3, 'i', 'd', 's', 0x91, 0xa1, 'x'}); err == nil {
		t.Error("a string among the ids decoded")
	}
}

func FuzzSubmitReply(f *testing.F) {
	b, _ := SubmitReply{IDs: []uint64{1, 2}, Errs: []string{"", "x"}}.MarshalMsgpack()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r SubmitReply
		if r.UnmarshalMsgpack(b) == nil {
			again, _ := r.MarshalMsgpack()
			var back SubmitReply
			if err := back.UnmarshalMsgpack(again); err != nil || !reflect.DeepEqual(back, r) {
				t.Fatalf("round trip of %+v: %+v, %v", r, back, err)
			}
		}
	})
}
