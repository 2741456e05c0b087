package hierarchy

import (
	"bytes"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/resources"
)

// Reflection twins: the same tags, no hand-written codec.
type syncRequestTwin struct {
	Child   string             `msgpack:"child"`
	Credits int                `msgpack:"credits,omitempty"`
	Results []broker.JobResult `msgpack:"results,omitempty"`
	Started []uint64           `msgpack:"started,omitempty"`
	Stats   []Stats            `msgpack:"stats,omitempty"`
}

type syncReplyTwin struct {
	Env  []string         `msgpack:"env,omitempty"`
	Jobs []broker.Jobspec `msgpack:"jobs,omitempty"`
	EOF  bool             `msgpack:"eof,omitempty"`
}

func TestSyncCodecMatchesReflection(t *testing.T) {
	t0 := time.Unix(1795681946, 757000000)
	reqs := []SyncRequest{
		{Child: "top.3"},
		{Child: "top.0.1", Credits: 48, Started: []uint64{1, 2, 1 << 40}},
		{Child: "x", Results: []broker.JobResult{
			{ID: 7, Cookie: 3, Host: "h", Outcome: broker.Outcome{Status: 1, ExitCode: 1, Start: t0, End: t0.Add(time.Second), Stdout: []byte("out\n")}},
			{Cookie: 4, Outcome: broker.Failed(2, "line 4: bad")},
		}},
		{Child: "y", Credits: -1, Stats: []Stats{{Name: "y", Level: 2, Lines: 10, Start: t0, End: t0, Syncs: 3}}},
	}
	for _, req := range reqs {
		hand, err := req.MarshalMsgpack()
		if err != nil {
			t.Fatal(err)
		}
		twin := syncRequestTwin(req)
		refl, err := msgpack.Marshal(&twin)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(hand, refl) {
			t.Errorf("%+v: hand codec wrote %x, reflection %x", req, hand, refl)
		}
		var back SyncRequest
		if err := back.UnmarshalMsgpack(refl); err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		if back.Child != req.Child || back.Credits != req.Credits || len(back.Results) != len(req.Results) ||
			len(back.Started) != len(req.Started) || len(back.Stats) != len(req.Stats) {
			t.Errorf("round trip of %+v gave %+v", req, back)
		}
		for i, r := range req.Results {
			b := back.Results[i]
			if b.Cookie != r.Cookie || b.Status != r.Status || b.Err != r.Err || !b.Start.Equal(r.Start) || string(b.Stdout) != string(r.Stdout) {
				t.Errorf("result %d: %+v, want %+v", i, b, r)
			}
		}
		for i, s := range req.Started {
			if back.Started[i] != s {
				t.Errorf("started %d: %d, want %d", i, back.Started[i], s)
			}
		}
		if len(req.Stats) > 0 && (back.Stats[0].Name != req.Stats[0].Name || back.Stats[0].Syncs != req.Stats[0].Syncs) {
			t.Errorf("stats: %+v, want %+v", back.Stats, req.Stats)
		}
	}
	replies := []SyncReply{
		{},
		{EOF: true},
		{Env: []string{"A=1", "PATH=/bin"}, Jobs: []broker.Jobspec{
			{Cookie: 1, Argv: []string{"true"}, Req: resources.Request{Tasks: 1, CoresPerTask: 1}},
			{Cookie: 2, Argv: []string{"sh", "-c", "echo $X"}, Req: resources.Request{Nodes: 2, Tasks: 4, Exclusive: true}, TimeLimit: time.Minute, Line: 2},
		}},
	}
	for _, rep := range replies {
		hand, _ := rep.MarshalMsgpack()
		twin := syncReplyTwin(rep)
		refl, _ := msgpack.Marshal(&twin)
		if !bytes.Equal(hand, refl) {
			t.Errorf("%+v: hand codec wrote %x, reflection %x", rep, hand, refl)
		}
		var back SyncReply
		if err := back.UnmarshalMsgpack(refl); err != nil {
			t.Fatal(err)
		}
		if back.EOF != rep.EOF || len(back.Env) != len(rep.Env) || len(back.Jobs) != len(rep.Jobs) {
			t.Errorf("round trip of %+v gave %+v", rep, back)
		}
		for i, j := range rep.Jobs {
			b := back.Jobs[i]
			if b.Cookie != j.Cookie || b.Req != j.Req || len(b.Argv) != len(j.Argv) || b.TimeLimit != j.TimeLimit || b.Line != j.Line {
				t.Errorf("job %d: %+v, want %+v", i, b, j)
			}
		}
	}
}

func TestSyncCodecRefusesGarbage(t *testing.T) {
	var req SyncRequest
	for _, b := range [][]byte{{}, {0x81}, {0x81, 0xa5, 'c', 'h', 'i', 'l', 'd', 0x01}, {0x80, 0x00}} {
		if err := req.UnmarshalMsgpack(b); err == nil {
			t.Errorf("%x: decoded without error", b)
		}
	}
}

func FuzzSyncCodec(f *testing.F) {
	good, _ := SyncRequest{Child: "a", Credits: 3, Started: []uint64{1}, Results: []broker.JobResult{{Cookie: 1}}}.MarshalMsgpack()
	reply, _ := SyncReply{Env: []string{"A=1"}, Jobs: []broker.Jobspec{{Cookie: 1, Argv: []string{"true"}}}, EOF: true}.MarshalMsgpack()
	f.Add(good)
	f.Add(reply)
	f.Fuzz(func(t *testing.T, b []byte) {
		var req SyncRequest
		if req.UnmarshalMsgpack(b) == nil {
			again, err := req.MarshalMsgpack()
			if err != nil {
				t.Fatal(err)
			}
			var back SyncRequest
			if err := back.UnmarshalMsgpack(again); err != nil {
				t.Fatalf("re-encoded request does not decode: %v", err)
			}
		}
		var rep SyncReply
		if rep.UnmarshalMsgpack(b) == nil {
			again, _ := rep.MarshalMsgpack()
			var back SyncReply
			if err := back.UnmarshalMsgpack(again); err != nil {
				t.Fatalf("re-encoded reply does not decode: %v", err)
			}
		}
	})
}
