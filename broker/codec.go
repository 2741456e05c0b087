package broker

import (
	"math"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/fluxtaskfarm/flux/internal/mpack"
	"github.com/fluxtaskfarm/flux/resources"
)

// The messages every task goes through (its Jobspec on the way in, its
// JobResult and output on the way out) have a hand-written msgpack codec:
// msgpack/v5's reflection codec cost about a third of the CPU of a tree of
// instances running 100,000 tasks/s.
//
// The codec writes exactly the bytes the reflection codec writes for the
// struct tags in api.go (same keys in declaration order, omitempty fields
// left out, the same integer widths), and reads everything the reflection
// codec reads (keys in any order, unknown keys skipped, nil as a zero value,
// any integer width), so peers of either kind interoperate and the tests can
// check the codec against a reflection twin of each type. A change to a
// struct in api.go must be made here as well; codec_test.go fails until it
// is.
//
// MarshalMsgpack has a value receiver so that msgpack/v5 finds it for a
// value that is not addressable (msgpack.Marshal(req)) as well as behind a
// pointer or inside another struct or slice it encodes by reflection;
// UnmarshalMsgpack needs a pointer. Embedding one of these types in another
// struct would promote the methods and hide the other fields from msgpack.
//
// Decoding resets the value first: a key that is absent reads as the zero
// value, and a key given twice keeps its last value whole (reflection would
// merge into the earlier one).

var (
	_ msgpack.Marshaler   = Jobspec{}
	_ msgpack.Unmarshaler = (*Jobspec)(nil)
	_ msgpack.Marshaler   = SubmitRequest{}
	_ msgpack.Unmarshaler = (*SubmitRequest)(nil)
	_ msgpack.Marshaler   = JobResult{}
	_ msgpack.Unmarshaler = (*JobResult)(nil)
	_ msgpack.Marshaler   = OutputLine{}
	_ msgpack.Unmarshaler = (*OutputLine)(nil)
	_ msgpack.Marshaler   = ResultBatch{}
	_ msgpack.Unmarshaler = (*ResultBatch)(nil)
)

// MarshalMsgpack implements msgpack.Marshaler.
func (j Jobspec) MarshalMsgpack() ([]byte, error) {
	return appendJobspec(make([]byte, 0, jobspecSize(&j)), &j), nil
}

// AppendMsgpack appends j's msgpack encoding to b.
func (j Jobspec) AppendMsgpack(b []byte) []byte { return appendJobspec(b, &j) }

// UnmarshalMsgpack implements msgpack.Unmarshaler: b holds exactly one value.
func (j *Jobspec) UnmarshalMsgpack(b []byte) error {
	r := mpack.NewReader(b)
	return r.Whole("Jobspec", j.ReadMsgpack(r))
}

// ReadMsgpack decodes j from the front of r.
func (j *Jobspec) ReadMsgpack(r *mpack.Reader) error {
	*j = Jobspec{}
	return r.ReadMap(func(key []byte) (err error) {
		switch string(key) {
		case "cookie":
			j.Cookie, err = r.Uint()
		case "req":
			err = readRequest(r, &j.Req)
		case "argv":
			j.Argv, err = r.StrSlice()
		case "env":
			j.Env, err = r.StrSlice()
		case "cwd":
			j.Cwd, err = r.Str()
		case "t":
			var v int64
			v, err = r.Int()
			j.TimeLimit = time.Duration(v)
		case "output":
			j.Output, err = r.Str()
		case "label":
			j.LabelIO, err = r.Bool()
		case "stream":
			j.Stream, err = r.Bool()
		case "line":
			j.Line, err = readInt(r)
		case "pmi":
			j.PMI, err = r.Str()
		case "name":
			j.Name, err = r.Str()
		case "retry":
			j.Retry, err = readInt(r)
		case "error":
			j.Error, err = r.Str()
		case "setopt":
			j.Setopt, err = r.StrSlice()
		case "flags":
			j.Flags, err = r.Str()
		case "urgency":
			if r.IsNil() {
				j.Urgency, err = nil, r.Nil()
				break
			}
			var u int
			u, err = readInt(r)
			j.Urgency = &u
		case "dependency":
			j.Dependencies, err = r.StrSlice()
		default:
			err = r.Skip()
		}
		return err
	})
}

func appendJobspec(b []byte, j *Jobspec) []byte {
	n := 2 + mpack.B2I(j.Cookie != 0) + mpack.B2I(len(j.Env) > 0) + mpack.B2I(j.Cwd != "") + mpack.B2I(j.TimeLimit != 0) +
		mpack.B2I(j.Output != "") + mpack.B2I(j.LabelIO) + mpack.B2I(j.Stream) + mpack.B2I(j.Line != 0) + mpack.B2I(j.PMI != "") + mpack.B2I(j.Name != "") +
		mpack.B2I(j.Retry != 0) + mpack.B2I(j.Error != "") + mpack.B2I(len(j.Setopt) > 0) + mpack.B2I(j.Flags != "") +
		mpack.B2I(j.Urgency != nil) + mpack.B2I(len(j.Dependencies) > 0)
	b = mpack.AppendMapHeader(b, n)
	if j.Cookie != 0 {
		b = mpack.AppendUint64(mpack.AppendString(b, "cookie"), j.Cookie)
	}
	b = appendRequest(mpack.AppendString(b, "req"), &j.Req)
	b = mpack.AppendStringSlice(mpack.AppendString(b, "argv"), j.Argv)
	if len(j.Env) > 0 {
		b = mpack.AppendStringSlice(mpack.AppendString(b, "env"), j.Env)
	}
	if j.Cwd != "" {
		b = mpack.AppendString(mpack.AppendString(b, "cwd"), j.Cwd)
	}
	if j.TimeLimit != 0 {
		b = mpack.AppendInt64(mpack.AppendString(b, "t"), int64(j.TimeLimit))
	}
	if j.Output != "" {
		b = mpack.AppendString(mpack.AppendString(b, "output"), j.Output)
	}
	if j.LabelIO {
		b = mpack.AppendBool(mpack.AppendString(b, "label"), true)
	}
	if j.Stream {
		b = mpack.AppendBool(mpack.AppendString(b, "stream"), true)
	}
	if j.Line != 0 {
		b = mpack.AppendInt(mpack.AppendString(b, "line"), int64(j.Line))
	}
	if j.PMI != "" {
		b = mpack.AppendString(mpack.AppendString(b, "pmi"), j.PMI)
	}
	if j.Name != "" {
		b = mpack.AppendString(mpack.AppendString(b, "name"), j.Name)
	}
	if j.Retry != 0 {
		b = mpack.AppendInt(mpack.AppendString(b, "retry"), int64(j.Retry))
	}
	if j.Error != "" {
		b = mpack.AppendString(mpack.AppendString(b, "error"), j.Error)
	}
	if len(j.Setopt) > 0 {
		b = mpack.AppendStringSlice(mpack.AppendString(b, "setopt"), j.Setopt)
	}
	if j.Flags != "" {
		b = mpack.AppendString(mpack.AppendString(b, "flags"), j.Flags)
	}
	if j.Urgency != nil {
		b = mpack.AppendInt(mpack.AppendString(b, "urgency"), int64(*j.Urgency))
	}
	if len(j.Dependencies) > 0 {
		b = mpack.AppendStringSlice(mpack.AppendString(b, "dependency"), j.Dependencies)
	}
	return b
}

// resources.Request is encoded inside Jobspec only; it has no methods of its
// own, so the resources package stays free of codec code.
func appendRequest(b []byte, q *resources.Request) []byte {
	b = mpack.AppendMapHeader(b, 4+mpack.B2I(q.Exclusive))
	b = mpack.AppendInt(mpack.AppendString(b, "N"), int64(q.Nodes))
	b = mpack.AppendInt(mpack.AppendString(b, "n"), int64(q.Tasks))
	b = mpack.AppendInt(mpack.AppendString(b, "c"), int64(q.CoresPerTask))
	b = mpack.AppendInt(mpack.AppendString(b, "g"), int64(q.GPUsPerTask))
	if q.Exclusive {
		b = mpack.AppendBool(mpack.AppendString(b, "x"), true)
	}
	return b
}

func readRequest(r *mpack.Reader, q *resources.Request) error {
	*q = resources.Request{}
	return r.ReadMap(func(key []byte) (err error) {
		switch string(key) {
		case "N":
			q.Nodes, err = readInt(r)
		case "n":
			q.Tasks, err = readInt(r)
		case "c":
			q.CoresPerTask, err = readInt(r)
		case "g":
			q.GPUsPerTask, err = readInt(r)
		case "x":
			q.Exclusive, err = r.Bool()
		default:
			err = r.Skip()
		}
		return err
	})
}

// MarshalMsgpack implements msgpack.Marshaler.
func (s SubmitRequest) MarshalMsgpack() ([]byte, error) {
	n := 16 + stringsSize(s.Env)
	for i := range s.Jobs {
		n += jobspecSize(&s.Jobs[i])
	}
	return appendSubmitRequest(make([]byte, 0, n), &s), nil
}

// AppendMsgpack appends s's msgpack encoding to b.
func (s SubmitRequest) AppendMsgpack(b []byte) []byte { return appendSubmitRequest(b, &s) }

// UnmarshalMsgpack implements msgpack.Unmarshaler: b holds exactly one value.
func (s *SubmitRequest) UnmarshalMsgpack(b []byte) error {
	r := mpack.NewReader(b)
	return r.Whole("SubmitRequest", s.ReadMsgpack(r))
}

// ReadMsgpack decodes s from the front of r.
func (s *SubmitRequest) ReadMsgpack(r *mpack.Reader) error {
	*s = SubmitRequest{}
	return r.ReadMap(func(key []byte) (err error) {
		switch string(key) {
		case "env":
			s.Env, err = r.StrSlice()
		case "jobs":
			s.Jobs, err = mpack.ReadSlice[Jobspec](r)
		case "watcher":
			s.Watcher, err = r.Uint()
		case "same_env":
			s.SameEnv, err = r.Bool()
		default:
			err = r.Skip()
		}
		return err
	})
}

func appendSubmitRequest(b []byte, s *SubmitRequest) []byte {
	b = mpack.AppendMapHeader(b, 2+mpack.B2I(s.Watcher != 0)+mpack.B2I(s.SameEnv))
	b = mpack.AppendStringSlice(mpack.AppendString(b, "env"), s.Env)
	b = mpack.AppendString(b, "jobs")
	if s.Jobs == nil {
		b = mpack.AppendNil(b)
	} else {
		b = mpack.AppendArrayHeader(b, len(s.Jobs))
		for i := range s.Jobs {
			b = appendJobspec(b, &s.Jobs[i])
		}
	}
	if s.Watcher != 0 {
		b = mpack.AppendUint64(mpack.AppendString(b, "watcher"), s.Watcher)
	}
	if s.SameEnv {
		b = mpack.AppendBool(mpack.AppendString(b, "same_env"), true)
	}
	return b
}

// MarshalMsgpack implements msgpack.Marshaler.
func (jr JobResult) MarshalMsgpack() ([]byte, error) {
	return appendJobResult(make([]byte, 0, jobResultSize(&jr)), &jr), nil
}

// AppendMsgpack appends jr's msgpack encoding to b.
func (jr JobResult) AppendMsgpack(b []byte) []byte { return appendJobResult(b, &jr) }

// UnmarshalMsgpack implements msgpack.Unmarshaler: b holds exactly one value.
func (jr *JobResult) UnmarshalMsgpack(b []byte) error {
	r := mpack.NewReader(b)
	return r.Whole("JobResult", jr.ReadMsgpack(r))
}

// ReadMsgpack decodes jr from the front of r.
func (jr *JobResult) ReadMsgpack(r *mpack.Reader) error {
	*jr = JobResult{}
	return r.ReadMap(func(key []byte) (err error) {
		switch string(key) {
		case "id":
			jr.ID, err = r.Uint()
		case "cookie":
			jr.Cookie, err = r.Uint()
		case "host":
			jr.Host, err = r.Str()
		default:
			err = readOutcomeField(r, key, &jr.Outcome)
		}
		return err
	})
}

// appendJobResult writes the Outcome's fields into the result's own map,
// after Host, which is where msgpack/v5 inlines an embedded struct.
func appendJobResult(b []byte, jr *JobResult) []byte {
	o := &jr.Outcome
	n := 2 + mpack.B2I(jr.Cookie != 0) + 4 + mpack.B2I(o.Signal != 0) + mpack.B2I(o.TimedOut) + mpack.B2I(o.Canceled) +
		mpack.B2I(len(o.Stdout) > 0) + mpack.B2I(len(o.Stderr) > 0) + mpack.B2I(o.Err != "")
	b = mpack.AppendMapHeader(b, n)
	b = mpack.AppendUint64(mpack.AppendString(b, "id"), jr.ID)
	if jr.Cookie != 0 {
		b = mpack.AppendUint64(mpack.AppendString(b, "cookie"), jr.Cookie)
	}
	b = mpack.AppendString(mpack.AppendString(b, "host"), jr.Host)
	b = mpack.AppendInt(mpack.AppendString(b, "status"), int64(o.Status))
	b = mpack.AppendInt(mpack.AppendString(b, "exit"), int64(o.ExitCode))
	if o.Signal != 0 {
		b = mpack.AppendInt(mpack.AppendString(b, "signal"), int64(o.Signal))
	}
	if o.TimedOut {
		b = mpack.AppendBool(mpack.AppendString(b, "timeout"), true)
	}
	if o.Canceled {
		b = mpack.AppendBool(mpack.AppendString(b, "canceled"), true)
	}
	b = mpack.AppendTime(mpack.AppendString(b, "start"), o.Start)
	b = mpack.AppendTime(mpack.AppendString(b, "end"), o.End)
	if len(o.Stdout) > 0 {
		b = mpack.AppendBytes(mpack.AppendString(b, "stdout"), o.Stdout)
	}
	if len(o.Stderr) > 0 {
		b = mpack.AppendBytes(mpack.AppendString(b, "stderr"), o.Stderr)
	}
	if o.Err != "" {
		b = mpack.AppendString(mpack.AppendString(b, "err"), o.Err)
	}
	return b
}

// readOutcomeField decodes one key of an Outcome inlined in a JobResult,
// skipping keys that are not the Outcome's either.
func readOutcomeField(r *mpack.Reader, key []byte, o *Outcome) (err error) {
	switch string(key) {
	case "status":
		o.Status, err = readInt(r)
	case "exit":
		o.ExitCode, err = readInt(r)
	case "signal":
		o.Signal, err = readInt(r)
	case "timeout":
		o.TimedOut, err = r.Bool()
	case "canceled":
		o.Canceled, err = r.Bool()
	case "start":
		o.Start, err = r.Time()
	case "end":
		o.End, err = r.Time()
	case "stdout":
		o.Stdout, err = r.Bytes()
	case "stderr":
		o.Stderr, err = r.Bytes()
	case "err":
		o.Err, err = r.Str()
	default:
		err = r.Skip()
	}
	return err
}

// MarshalMsgpack implements msgpack.Marshaler.
func (l OutputLine) MarshalMsgpack() ([]byte, error) {
	return appendOutputLine(make([]byte, 0, 32+len(l.Data)), &l), nil
}

// AppendMsgpack appends l's msgpack encoding to b.
func (l OutputLine) AppendMsgpack(b []byte) []byte { return appendOutputLine(b, &l) }

// UnmarshalMsgpack implements msgpack.Unmarshaler: b holds exactly one value.
func (l *OutputLine) UnmarshalMsgpack(b []byte) error {
	r := mpack.NewReader(b)
	return r.Whole("OutputLine", l.ReadMsgpack(r))
}

// ReadMsgpack decodes l from the front of r.
func (l *OutputLine) ReadMsgpack(r *mpack.Reader) error {
	*l = OutputLine{}
	return r.ReadMap(func(key []byte) (err error) {
		switch string(key) {
		case "id":
			l.ID, err = r.Uint()
		case "cookie":
			l.Cookie, err = r.Uint()
		case "task":
			l.Task, err = readInt(r)
		case "stderr":
			l.Stderr, err = r.Bool()
		case "data":
			l.Data, err = r.Bytes()
		default:
			err = r.Skip()
		}
		return err
	})
}

func appendOutputLine(b []byte, l *OutputLine) []byte {
	b = mpack.AppendMapHeader(b, 3+mpack.B2I(l.Cookie != 0)+mpack.B2I(l.Stderr))
	b = mpack.AppendUint64(mpack.AppendString(b, "id"), l.ID)
	if l.Cookie != 0 {
		b = mpack.AppendUint64(mpack.AppendString(b, "cookie"), l.Cookie)
	}
	b = mpack.AppendInt(mpack.AppendString(b, "task"), int64(l.Task))
	if l.Stderr {
		b = mpack.AppendBool(mpack.AppendString(b, "stderr"), true)
	}
	return mpack.AppendBytes(mpack.AppendString(b, "data"), l.Data)
}

// MarshalMsgpack implements msgpack.Marshaler.
func (rb ResultBatch) MarshalMsgpack() ([]byte, error) {
	n := 16 + 9*len(rb.Started)
	for i := range rb.Output {
		n += 32 + len(rb.Output[i].Data)
	}
	for i := range rb.Results {
		n += jobResultSize(&rb.Results[i])
	}
	return appendResultBatch(make([]byte, 0, n), &rb), nil
}

// AppendMsgpack appends rb's msgpack encoding to b.
func (rb ResultBatch) AppendMsgpack(b []byte) []byte { return appendResultBatch(b, &rb) }

// UnmarshalMsgpack implements msgpack.Unmarshaler: b holds exactly one value.
func (rb *ResultBatch) UnmarshalMsgpack(b []byte) error {
	r := mpack.NewReader(b)
	return r.Whole("ResultBatch", rb.ReadMsgpack(r))
}

// ReadMsgpack decodes rb from the front of r.
func (rb *ResultBatch) ReadMsgpack(r *mpack.Reader) error {
	*rb = ResultBatch{}
	return r.ReadMap(func(key []byte) (err error) {
		switch string(key) {
		case "watcher":
			rb.Watcher, err = r.Uint()
		case "output":
			rb.Output, err = mpack.ReadSlice[OutputLine](r)
		case "results":
			rb.Results, err = mpack.ReadSlice[JobResult](r)
		case "started":
			rb.Started, err = mpack.ReadUints(r)
		default:
			err = r.Skip()
		}
		return err
	})
}

func appendResultBatch(b []byte, rb *ResultBatch) []byte {
	n := mpack.B2I(rb.Watcher != 0) + mpack.B2I(len(rb.Output) > 0) + mpack.B2I(len(rb.Results) > 0) + mpack.B2I(len(rb.Started) > 0)
	b = mpack.AppendMapHeader(b, n)
	if rb.Watcher != 0 {
		b = mpack.AppendUint64(mpack.AppendString(b, "watcher"), rb.Watcher)
	}
	if len(rb.Output) > 0 {
		b = mpack.AppendArrayHeader(mpack.AppendString(b, "output"), len(rb.Output))
		for i := range rb.Output {
			b = appendOutputLine(b, &rb.Output[i])
		}
	}
	if len(rb.Results) > 0 {
		b = mpack.AppendArrayHeader(mpack.AppendString(b, "results"), len(rb.Results))
		for i := range rb.Results {
			b = appendJobResult(b, &rb.Results[i])
		}
	}
	if len(rb.Started) > 0 {
		b = mpack.AppendArrayHeader(mpack.AppendString(b, "started"), len(rb.Started))
		for _, c := range rb.Started {
			b = mpack.AppendUint64(b, c)
		}
	}
	return b
}

// MarshalMsgpack sizes its buffer from these estimates (the strings and
// bytes plus a typical overhead, which is most of a message) rather than
// growing it from nothing, which copied a batch a dozen times over.

func jobspecSize(j *Jobspec) int {
	return 48 + stringsSize(j.Argv) + stringsSize(j.Env) + len(j.Cwd) + len(j.Output) + len(j.PMI) + len(j.Name) + len(j.Error) +
		stringsSize(j.Setopt) + len(j.Flags) + stringsSize(j.Dependencies)
}

func jobResultSize(jr *JobResult) int {
	return 96 + len(jr.Host) + len(jr.Stdout) + len(jr.Stderr) + len(jr.Err)
}

func stringsSize(s []string) int {
	n := 0
	for _, v := range s {
		n += 5 + len(v) // at most a str 32 header
	}
	return n
}

// readInt reads an int field; it can only fail to fit where int is 32 bits.
func readInt(r *mpack.Reader) (int, error) {
	v, err := r.IntIn(math.MinInt, math.MaxInt)
	return int(v), err
}

// SubmitReply answers every batch of lines with an id and an error per
// line, so it has the hand-written codec too.
var (
	_ msgpack.Marshaler   = SubmitReply{}
	_ msgpack.Unmarshaler = (*SubmitReply)(nil)
)

// MarshalMsgpack implements msgpack.Marshaler.
func (s SubmitReply) MarshalMsgpack() ([]byte, error) {
	n := 16 + 9*len(s.IDs)
	for _, e := range s.Errs {
		n += 5 + len(e)
	}
	b := mpack.AppendMapHeader(make([]byte, 0, n), 2)
	b = mpack.AppendString(b, "ids")
	if s.IDs == nil {
		b = mpack.AppendNil(b)
	} else {
		b = mpack.AppendArrayHeader(b, len(s.IDs))
		for _, id := range s.IDs {
			b = mpack.AppendUint64(b, id)
		}
	}
	b = mpack.AppendStringSlice(mpack.AppendString(b, "errs"), s.Errs)
	return b, nil
}

// UnmarshalMsgpack implements msgpack.Unmarshaler.
func (s *SubmitReply) UnmarshalMsgpack(b []byte) error {
	*s = SubmitReply{}
	r := mpack.NewReader(b)
	err := r.ReadMap(func(key []byte) (err error) {
		switch string(key) {
		case "ids":
			s.IDs, err = mpack.ReadUints(r)
		case "errs":
			s.Errs, err = r.StrSlice()
		default:
			err = r.Skip()
		}
		return err
	})
	return r.Whole("SubmitReply", err)
}
