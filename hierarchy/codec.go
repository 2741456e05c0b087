package hierarchy

import (
	"github.com/vmihailenco/msgpack/v5"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/internal/mpack"
)

// SyncRequest and SyncReply carry every line down and every result up a
// tree, so they use broker's hand-written codec for their lines and results
// (see broker/codec.go) instead of msgpack/v5's reflection, which calls it
// once per element and copies each. The encoding is the one reflection
// writes for their tags; Stats, sent once per child, still go by reflection.

var (
	_ msgpack.Marshaler   = SyncRequest{}
	_ msgpack.Unmarshaler = (*SyncRequest)(nil)
	_ msgpack.Marshaler   = SyncReply{}
	_ msgpack.Unmarshaler = (*SyncReply)(nil)
)

// MarshalMsgpack implements msgpack.Marshaler.
func (s SyncRequest) MarshalMsgpack() ([]byte, error) {
	n := 1 + mpack.B2I(s.Credits != 0) + mpack.B2I(len(s.Results) > 0) + mpack.B2I(len(s.Started) > 0) + mpack.B2I(len(s.Stats) > 0)
	b := mpack.AppendMapHeader(make([]byte, 0, 64+200*len(s.Results)+10*len(s.Started)), n)
	b = mpack.AppendString(mpack.AppendString(b, "child"), s.Child)
	if s.Credits != 0 {
		b = mpack.AppendInt(mpack.AppendString(b, "credits"), int64(s.Credits))
	}
	if len(s.Results) > 0 {
		b = mpack.AppendArrayHeader(mpack.AppendString(b, "results"), len(s.Results))
		for i := range s.Results {
			b = s.Results[i].AppendMsgpack(b)
		}
	}
	if len(s.Started) > 0 {
		b = mpack.AppendArrayHeader(mpack.AppendString(b, "started"), len(s.Started))
		for _, c := range s.Started {
			b = mpack.AppendUint64(b, c)
		}
	}
	if len(s.Stats) > 0 {
		raw, err := msgpack.Marshal(s.Stats)
		if err != nil {
			return nil, err
		}
		b = append(mpack.AppendString(b, "stats"), raw...)
	}
	return b, nil
}

// UnmarshalMsgpack implements msgpack.Unmarshaler.
func (s *SyncRequest) UnmarshalMsgpack(b []byte) error {
	*s = SyncRequest{}
	r := mpack.NewReader(b)
	return r.Whole("sync request", r.ReadMap(func(key []byte) (err error) {
		switch string(key) {
		case "child":
			s.Child, err = r.Str()
		case "credits":
			var v int64
			v, err = r.Int()
			s.Credits = int(v)
		case "results":
			s.Results, err = mpack.ReadSlice[broker.JobResult](r)
		case "started":
			s.Started, err = mpack.ReadUints(r)
		case "stats":
			from := len(b) - r.Len()
			if err = r.Skip(); err == nil {
				err = msgpack.Unmarshal(b[from:len(b)-r.Len()], &s.Stats)
			}
		default:
			err = r.Skip()
		}
		return err
	}))
}

// MarshalMsgpack implements msgpack.Marshaler.
func (s SyncReply) MarshalMsgpack() ([]byte, error) {
	n := mpack.B2I(len(s.Env) > 0) + mpack.B2I(len(s.Jobs) > 0) + mpack.B2I(s.EOF)
	b := mpack.AppendMapHeader(make([]byte, 0, 16+64*len(s.Jobs)), n)
	if len(s.Env) > 0 {
		b = mpack.AppendStringSlice(mpack.AppendString(b, "env"), s.Env)
	}
	if len(s.Jobs) > 0 {
		b = mpack.AppendArrayHeader(mpack.AppendString(b, "jobs"), len(s.Jobs))
		for i := range s.Jobs {
			b = s.Jobs[i].AppendMsgpack(b)
		}
	}
	if s.EOF {
		b = mpack.AppendBool(mpack.AppendString(b, "eof"), true)
	}
	return b, nil
}

// UnmarshalMsgpack implements msgpack.Unmarshaler.
func (s *SyncReply) UnmarshalMsgpack(b []byte) error {
	*s = SyncReply{}
	r := mpack.NewReader(b)
	return r.Whole("sync reply", r.ReadMap(func(key []byte) (err error) {
		switch string(key) {
		case "env":
			s.Env, err = r.StrSlice()
		case "jobs":
			s.Jobs, err = mpack.ReadSlice[broker.Jobspec](r)
		case "eof":
			s.EOF, err = r.Bool()
		default:
			err = r.Skip()
		}
		return err
	}))
}
