package broker

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/fluxtaskfarm/flux/internal/mpack"
	"github.com/fluxtaskfarm/flux/resources"
)

// Reflection twins: the same fields and tags without the codec methods, so
// msgpack/v5 encodes them by reflection. A defined type does not inherit
// methods, so a twin declared from the real type follows every change to
// it; the two that hold hot types in slices must be spelled out, and
// TestTwinsMirrorTypes keeps them in step.
type (
	jobspecTwin    Jobspec
	jobResultTwin  JobResult
	outputLineTwin OutputLine

	submitRequestTwin struct {
		Env     []string      `msgpack:"env"`
		Jobs    []jobspecTwin `msgpack:"jobs"`
		Watcher uint64        `msgpack:"watcher,omitempty"`
		SameEnv bool          `msgpack:"same_env,omitempty"`
	}
	resultBatchTwin struct {
		Watcher uint64           `msgpack:"watcher,omitempty"`
		Output  []outputLineTwin `msgpack:"output,omitempty"`
		Results []jobResultTwin  `msgpack:"results,omitempty"`
		Started []uint64         `msgpack:"started,omitempty"`
	}
)

func convSlice[T, U any](s []T, f func(T) U) []U {
	if s == nil {
		return nil
	}
	out := make([]U, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}

func submitToTwin(s SubmitRequest) submitRequestTwin {
	return submitRequestTwin{Env: s.Env, Watcher: s.Watcher, SameEnv: s.SameEnv,
		Jobs: convSlice(s.Jobs, func(j Jobspec) jobspecTwin { return jobspecTwin(j) })}
}

func submitFromTwin(s submitRequestTwin) SubmitRequest {
	return SubmitRequest{Env: s.Env, Watcher: s.Watcher, SameEnv: s.SameEnv,
		Jobs: convSlice(s.Jobs, func(j jobspecTwin) Jobspec { return Jobspec(j) })}
}

func batchToTwin(b ResultBatch) resultBatchTwin {
	return resultBatchTwin{Watcher: b.Watcher, Started: b.Started,
		Output:  convSlice(b.Output, func(l OutputLine) outputLineTwin { return outputLineTwin(l) }),
		Results: convSlice(b.Results, func(r JobResult) jobResultTwin { return jobResultTwin(r) })}
}

func batchFromTwin(b resultBatchTwin) ResultBatch {
	return ResultBatch{Watcher: b.Watcher, Started: b.Started,
		Output:  convSlice(b.Output, func(l outputLineTwin) OutputLine { return OutputLine(l) }),
		Results: convSlice(b.Results, func(r jobResultTwin) JobResult { return JobResult(r) })}
}

// hotType is one hot type with its twin, for the tests that run over all of
// them. Values go through any so that one table covers five types.
type hotType struct {
	name     string
	twinZero func() any                // a new *twin
	toTwin   func(any) any             // T -> twin value
	fromTwin func(any) any             // *twin -> T value
	random   func(*rand.Rand) any      // a T value
	hand     func(any) ([]byte, error) // T's MarshalMsgpack
	handDec  func([]byte) (any, error) // T's UnmarshalMsgpack, returning a T value
	samples  func() []any              // hand-picked T values
}

func newHotType[T any, P interface {
	*T
	msgpack.Marshaler
	msgpack.Unmarshaler
}, W any](toTwin func(T) W, fromTwin func(W) T, samples ...T) hotType {
	return hotType{
		name:     reflect.TypeFor[T]().Name(),
		twinZero: func() any { return new(W) },
		toTwin:   func(v any) any { return toTwin(v.(T)) },
		fromTwin: func(w any) any { return fromTwin(*w.(*W)) },
		random: func(r *rand.Rand) any {
			var v T
			fill(r, reflect.ValueOf(&v).Elem())
			return v
		},
		hand: func(v any) ([]byte, error) { x := v.(T); return P(&x).MarshalMsgpack() },
		handDec: func(b []byte) (any, error) {
			var v T
			err := P(&v).UnmarshalMsgpack(b)
			return v, err
		},
		samples: func() []any {
			out := make([]any, len(samples))
			for i, s := range samples {
				out[i] = s
			}
			return out
		},
	}
}

var (
	t0 = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	t1 = t0.Add(1500 * time.Millisecond).In(time.FixedZone("here", -7*3600))
)

var hotTypes = []hotType{
	newHotType(func(j Jobspec) jobspecTwin { return jobspecTwin(j) },
		func(j jobspecTwin) Jobspec { return Jobspec(j) },
		Jobspec{},
		Jobspec{Argv: []string{"true"}, Req: resources.Request{Tasks: 1, CoresPerTask: 1}, Cookie: 7},
		Jobspec{Argv: []string{}, Env: []string{}},
		Jobspec{Cookie: math.MaxUint64, Req: resources.Request{Nodes: 2, Tasks: 64, CoresPerTask: 4, GPUsPerTask: 1, Exclusive: true},
			Argv: []string{"sh", "-c", strings.Repeat("echo x; ", 40)}, Env: []string{"A=1", "B="}, Cwd: "/tmp",
			TimeLimit: 90 * time.Second, Output: "out.{{id}}", LabelIO: true, Stream: true, Line: -3, PMI: "on", Name: "é☃",
			Error: "err.{{id}}", Setopt: []string{"cpu-affinity=off", "pmi=on"}, Flags: "waitable"},
		Jobspec{Setopt: []string{}},
		Jobspec{Req: resources.Request{Nodes: -1, Tasks: math.MinInt64, CoresPerTask: math.MaxInt64}, TimeLimit: -1},
		Jobspec{Argv: []string{"x"}, Urgency: new(int), Dependencies: []string{"afterok:1", "after:2"}},
		Jobspec{Argv: []string{"x"}, Urgency: func() *int { u := 31; return &u }()},
	),
	newHotType(submitToTwin, submitFromTwin,
		SubmitRequest{},
		SubmitRequest{Env: []string{}, Jobs: []Jobspec{}},
		SubmitRequest{Env: []string{"PATH=/bin"}, Jobs: []Jobspec{{Argv: []string{"a"}}, {}, {Cookie: 1}}, Watcher: 99, SameEnv: true},
		SubmitRequest{Jobs: make([]Jobspec, 17)}, // array 16
	),
	newHotType(func(r JobResult) jobResultTwin { return jobResultTwin(r) },
		func(r jobResultTwin) JobResult { return JobResult(r) },
		JobResult{},
		JobResult{ID: 1, Cookie: 2, Host: "h", Outcome: Outcome{Start: t0, End: t1}},
		JobResult{ID: 3, Host: "node17", Outcome: Outcome{Status: 137, ExitCode: -1, Signal: 9, TimedOut: true, Canceled: true,
			Start: time.Unix(1, 0), End: time.Unix(1<<35, 5), Stdout: []byte("out\n"), Stderr: bytes.Repeat([]byte{0}, 300), Err: "boom"}},
		JobResult{Outcome: Outcome{Stdout: []byte{}, Stderr: []byte{}}},
		JobResult{Outcome: Failed(127, "foo: command not found")},
		JobResult{Outcome: Killed(15)},
	),
	newHotType(func(l OutputLine) outputLineTwin { return outputLineTwin(l) },
		func(l outputLineTwin) OutputLine { return OutputLine(l) },
		OutputLine{},
		OutputLine{Data: []byte{}},
		OutputLine{ID: 5, Cookie: 6, Task: 7, Stderr: true, Data: []byte("line\n")},
		OutputLine{ID: 1 << 40, Task: -1, Data: bytes.Repeat([]byte("z"), 70000)}, // bin 32
	),
	newHotType(batchToTwin, batchFromTwin,
		ResultBatch{},
		ResultBatch{Watcher: 4},
		ResultBatch{Output: []OutputLine{}, Results: []JobResult{}, Started: []uint64{}},
		ResultBatch{Output: []OutputLine{{ID: 1, Data: []byte("x")}}, Results: []JobResult{{ID: 1, Host: "h", Outcome: Outcome{Start: t0, End: t1}}},
			Started: []uint64{0, 1, math.MaxUint64}},
	),
}

// fill sets v to a random value, each field independently (a third of the
// time its zero value, so omitempty is exercised). It panics on a kind it
// does not know, so a new kind of field in a hot type gets noticed here.
func fill(r *rand.Rand, v reflect.Value) {
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(randomTime(r)))
		return
	}
	zero := r.IntN(3) == 0
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(!zero)
	case reflect.Int, reflect.Int64:
		if !zero {
			v.SetInt(randomInt(r))
		}
	case reflect.Uint64:
		if !zero {
			v.SetUint(uint64(randomInt(r)))
		}
	case reflect.Uint8:
		v.SetUint(r.Uint64())
	case reflect.String:
		if !zero {
			v.SetString(randomString(r))
		}
	case reflect.Slice:
		switch r.IntN(4) {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			n := 1 + r.IntN(4)
			if r.IntN(8) == 0 {
				n = 16 + r.IntN(300) // past the fix forms
			}
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := range n {
				fill(r, s.Index(i))
			}
			v.Set(s)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(r, v.Field(i))
			}
		}
	case reflect.Pointer:
		if !zero {
			p := reflect.New(v.Type().Elem())
			fill(r, p.Elem())
			v.Set(p)
		}
	default:
		panic(fmt.Sprintf("fill: no generator for %s", v.Type()))
	}
}

func randomInt(r *rand.Rand) int64 {
	edges := []int64{1, -1, 127, 128, 255, 256, -32, -33, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64}
	if r.IntN(2) == 0 {
		return edges[r.IntN(len(edges))]
	}
	return r.Int64() >> r.IntN(64)
}

func randomString(r *rand.Rand) string {
	switch r.IntN(5) {
	case 0:
		return strings.Repeat("s", []int{31, 32, 255, 256, 70000}[r.IntN(5)])
	case 1:
		return "é☃\xff\xfe" // not valid UTF-8: msgpack str carries bytes
	}
	b := make([]byte, 1+r.IntN(12))
	for i := range b {
		b[i] = byte('a' + r.IntN(26))
	}
	return string(b)
}

func randomTime(r *rand.Rand) time.Time {
	switch r.IntN(7) {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(r.Int64N(1<<32), 0) // 32-bit form
	case 2:
		return time.Unix(r.Int64N(1<<34), r.Int64N(1e9)) // 64-bit form
	case 3:
		return time.Unix(-r.Int64N(1<<40), r.Int64N(1e9)) // 96-bit form
	case 4:
		return time.Now()
	case 5:
		return time.Date(1+r.IntN(9999), time.Month(1+r.IntN(12)), 1, 0, 0, 0, r.IntN(1e9), time.FixedZone("z", 3600*(r.IntN(25)-12)))
	}
	return time.Unix(r.Int64N(1<<34), 0).UTC()
}

// normalized returns a deep copy of v prepared for reflect.DeepEqual: times
// in UTC (a time's location is not encoded, so decoders return Local), and
// with emptyToNil, empty omitempty slices nil, since encoding leaves them
// out and decoding then leaves them nil.
func normalized(v reflect.Value, emptyToNil bool) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			p := reflect.New(v.Type().Elem())
			p.Elem().Set(normalized(v.Elem(), emptyToNil))
			out.Set(p)
		}
	case reflect.Slice:
		if !v.IsNil() {
			s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			for i := range v.Len() {
				s.Index(i).Set(normalized(v.Index(i), emptyToNil))
			}
			out.Set(s)
		}
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			out.Set(reflect.ValueOf(t.UTC()))
			break
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			fv := normalized(v.Field(i), emptyToNil)
			if emptyToNil && fv.Kind() == reflect.Slice && fv.Len() == 0 && strings.Contains(f.Tag.Get("msgpack"), "omitempty") {
				fv = reflect.Zero(fv.Type())
			}
			out.Field(i).Set(fv)
		}
	default:
		out.Set(v)
	}
	return out
}

// same compares two values of one type, normalized.
func same(a, b any, emptyToNil bool) bool {
	return reflect.DeepEqual(normalized(reflect.ValueOf(a), emptyToNil).Interface(),
		normalized(reflect.ValueOf(b), emptyToNil).Interface())
}

// values returns the hand-picked values of h and n random ones.
func (h hotType) values(n int) []any {
	vs := h.samples()
	r := rand.New(rand.NewPCG(1, uint64(len(h.name))))
	for range n {
		vs = append(vs, h.random(r))
	}
	return vs
}

func (h hotType) reflectDecode(t *testing.T, b []byte) any {
	t.Helper()
	w := h.twinZero()
	if err := msgpack.Unmarshal(b, w); err != nil {
		t.Fatalf("%s: reflection cannot decode % x: %v", h.name, head(b), err)
	}
	return h.fromTwin(w)
}

func (h hotType) handDecode(t *testing.T, b []byte) any {
	t.Helper()
	v, err := h.handDec(b)
	if err != nil {
		t.Fatalf("%s: hand codec cannot decode % x: %v", h.name, head(b), err)
	}
	return v
}

// TestCodecMatchesReflection: for hand-picked and random values of every hot
// type, the hand codec writes the bytes reflection writes for the twin, and
// each codec decodes the other's bytes to what reflection round-trips to:
// nil and empty slices come back as they would through reflection alone.
func TestCodecMatchesReflection(t *testing.T) {
	for _, h := range hotTypes {
		t.Run(h.name, func(t *testing.T) {
			for _, v := range h.values(300) {
				hand, err := h.hand(v)
				if err != nil {
					t.Fatal(err)
				}
				ref, err := msgpack.Marshal(h.toTwin(v))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(hand, ref) {
					t.Fatalf("%+v\nhand codec: % x\nreflection: % x", v, head(hand), head(ref))
				}
				want := h.reflectDecode(t, ref) // reflection's own round trip
				if !same(want, v, true) {
					t.Fatalf("reflection round trip changes more than empty omitempty slices:\n%+v\n%+v", v, want)
				}
				if got := h.reflectDecode(t, hand); !same(got, want, false) {
					t.Fatalf("hand encode, reflection decode:\n got %+v\nwant %+v", got, want)
				}
				if got := h.handDecode(t, ref); !same(got, want, false) {
					t.Fatalf("reflection encode, hand decode:\n got %+v\nwant %+v", got, want)
				}
			}
		})
	}
}

// TestDecodeWhatOthersWrite: bytes a reflection peer would accept but that
// msgpack/v5 never writes (keys in another order, unknown keys, nil values,
// integers in other widths, str for bin and bin for str) decode by hand to
// what reflection decodes them to.
func TestDecodeWhatOthersWrite(t *testing.T) {
	variants := map[string]func(r *rand.Rand, v any) any{
		"sorted, compact ints": func(_ *rand.Rand, v any) any { return v },
		"unknown keys": func(r *rand.Rand, v any) any {
			return rewrite(v, func(m map[string]any) {
				m["zz"] = []any{map[string]any{"a": []any{nil, 1.5, float32(2)}}, []byte{1}, "x", time.Unix(1, 2), int8(-1)}
				m[""] = nil
			}, nil)
		},
		"nil values": func(r *rand.Rand, v any) any {
			return rewrite(v, func(m map[string]any) {
				for k, x := range m {
					if _, isTime := x.(time.Time); !isTime && r.IntN(3) == 0 {
						m[k] = nil // (reflection panics on nil for a time.Time: v5.4.1 bug)
					}
				}
			}, nil)
		},
		"wide ints, swapped str and bin": func(r *rand.Rand, v any) any {
			return rewrite(v, nil, func(x any) any {
				switch x := x.(type) {
				case string:
					return []byte(x)
				case []byte:
					return string(x)
				}
				if i, ok := toInt64(x); ok && i < 0 {
					return i // int 64 form
				}
				if u, ok := toUint64(x); ok {
					return u // uint 64 form
				}
				return x
			})
		},
	}
	for _, h := range hotTypes {
		for name, variant := range variants {
			t.Run(h.name+"/"+name, func(t *testing.T) {
				r := rand.New(rand.NewPCG(2, 3))
				for _, v := range h.values(100) {
					hand, err := h.hand(v)
					if err != nil {
						t.Fatal(err)
					}
					generic, err := msgpack.NewDecoder(bytes.NewReader(hand)).DecodeInterface()
					if err != nil {
						t.Fatal(err)
					}
					var buf bytes.Buffer
					enc := msgpack.NewEncoder(&buf)
					enc.SetSortMapKeys(true)
					enc.UseCompactInts(name != "wide ints, swapped str and bin")
					if err := enc.Encode(variant(r, generic)); err != nil {
						t.Fatal(err)
					}
					b := buf.Bytes()
					want := h.reflectDecode(t, b)
					if got := h.handDecode(t, b); !same(got, want, false) {
						t.Fatalf("% x\n got %+v\nwant %+v", head(b), got, want)
					}
				}
			})
		}
	}
}

// TestDecodeEmptyVersusNil: where msgpack/v5 never writes an empty array or
// bin (omitempty) but reads one as empty rather than nil, so does the hand
// codec; and nil reads as nil.
func TestDecodeEmptyVersusNil(t *testing.T) {
	inputs := map[string][]map[string]any{
		"Jobspec":       {{"env": []any{}, "argv": []any{}}, {"env": nil, "argv": nil}},
		"SubmitRequest": {{"env": []any{}, "jobs": []any{map[string]any{"env": []any{}}}}, {"env": nil, "jobs": nil}},
		"JobResult":     {{"stdout": []byte{}, "stderr": []byte{}}, {"stdout": nil, "stderr": nil}},
		"OutputLine":    {{"data": []byte{}}, {"data": nil}},
		"ResultBatch": {
			{"output": []any{}, "results": []any{}, "started": []any{}},
			{"output": nil, "results": nil, "started": nil},
			{"results": []any{map[string]any{"stdout": []byte{}}}, "output": []any{map[string]any{"data": []byte{}}}},
		},
	}
	for _, h := range hotTypes {
		for _, m := range inputs[h.name] {
			b, err := msgpack.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			want := h.reflectDecode(t, b)
			if got := h.handDecode(t, b); !same(got, want, false) {
				t.Errorf("%s %v:\n got %#v\nwant %#v", h.name, m, got, want)
			}
		}
	}
}

// rewrite applies onMap to every map and onValue to every other value in a
// tree from DecodeInterface, returning the new tree.
func rewrite(v any, onMap func(map[string]any), onValue func(any) any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = rewrite(e, onMap, onValue)
		}
		if onMap != nil {
			onMap(out)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = rewrite(e, onMap, onValue)
		}
		return out
	}
	if onValue != nil {
		return onValue(v)
	}
	return v
}

func toInt64(x any) (int64, bool) {
	switch x := x.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

func toUint64(x any) (uint64, bool) {
	switch x := x.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	}
	if i, ok := toInt64(x); ok && i >= 0 {
		return uint64(i), true
	}
	return 0, false
}

// TestNilTimeIsZero: nil for a time reads as the zero time. (msgpack/v5
// means the same but panics on it; a reflection peer never writes it.)
func TestNilTimeIsZero(t *testing.T) {
	b := mpack.AppendMapHeader(nil, 3)
	b = mpack.AppendUint64(mpack.AppendString(b, "id"), 4)
	b = mpack.AppendNil(mpack.AppendString(b, "start"))
	b = mpack.AppendNil(mpack.AppendString(b, "end"))
	var r JobResult
	if err := r.UnmarshalMsgpack(b); err != nil || r.ID != 4 || r.Start != (time.Time{}) || r.End != (time.Time{}) {
		t.Fatalf("%+v, %v", r, err)
	}
}

// Local structs of the shape of hierarchy's PullReply and PushRequest, which
// msgpack/v5 encodes by reflection with hot types inside, and their twins.
type (
	pullReply struct {
		Env  []string  `msgpack:"env,omitempty"`
		Jobs []Jobspec `msgpack:"jobs,omitempty"`
		EOF  bool      `msgpack:"eof,omitempty"`
	}
	pullReplyTwin struct {
		Env  []string      `msgpack:"env,omitempty"`
		Jobs []jobspecTwin `msgpack:"jobs,omitempty"`
		EOF  bool          `msgpack:"eof,omitempty"`
	}
	pushRequest struct {
		Child   string      `msgpack:"child"`
		Results []JobResult `msgpack:"results,omitempty"`
		Started []uint64    `msgpack:"started,omitempty"`
		One     ResultBatch `msgpack:"one"` // a hot type as a plain field
		Ptr     *OutputLine `msgpack:"ptr"` // and behind a pointer
	}
	pushRequestTwin struct {
		Child   string          `msgpack:"child"`
		Results []jobResultTwin `msgpack:"results,omitempty"`
		Started []uint64        `msgpack:"started,omitempty"`
		One     resultBatchTwin `msgpack:"one"`
		Ptr     *outputLineTwin `msgpack:"ptr"`
	}
)

// TestNestedInReflection: hot types inside structs that msgpack/v5 encodes
// by reflection (as elements, as a field, behind a pointer), whether the
// outer struct is passed by value (nothing addressable) or by pointer: the
// bytes are those of the all-reflection twin, and decoding agrees with it.
func TestNestedInReflection(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[Jobspec](), reflect.TypeFor[SubmitRequest](), reflect.TypeFor[JobResult](),
		reflect.TypeFor[OutputLine](), reflect.TypeFor[ResultBatch]()} {
		// What msgpack/v5 looks for, both for values and for pointers.
		if !typ.Implements(reflect.TypeFor[msgpack.Marshaler]()) || !reflect.PointerTo(typ).Implements(reflect.TypeFor[msgpack.Unmarshaler]()) {
			t.Errorf("%s: msgpack/v5 will not find the codec", typ)
		}
	}

	r := rand.New(rand.NewPCG(4, 5))
	encode := func(v any) []byte {
		t.Helper()
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatalf("msgpack.Marshal(%T): %v", v, err)
		}
		return b
	}
	for range 200 {
		var pull pullReply
		var push pushRequest
		fill(r, reflect.ValueOf(&pull).Elem())
		fill(r, reflect.ValueOf(&push).Elem())
		pullTwin := pullReplyTwin{Env: pull.Env, EOF: pull.EOF,
			Jobs: convSlice(pull.Jobs, func(j Jobspec) jobspecTwin { return jobspecTwin(j) })}
		pushTwin := pushRequestTwin{Child: push.Child, Started: push.Started, One: batchToTwin(push.One),
			Results: convSlice(push.Results, func(r JobResult) jobResultTwin { return jobResultTwin(r) })}
		if push.Ptr != nil {
			l := outputLineTwin(*push.Ptr)
			pushTwin.Ptr = &l
		}

		for _, c := range []struct {
			name       string
			val, ptr   any
			twin       any
			dec, twDec any
		}{
			{"pull", pull, &pull, pullTwin, new(pullReply), new(pullReplyTwin)},
			{"push", push, &push, pushTwin, new(pushRequest), new(pushRequestTwin)},
		} {
			want := encode(c.twin)
			if got := encode(c.val); !bytes.Equal(got, want) {
				t.Fatalf("%s by value:\n got % x\nwant % x", c.name, head(got), head(want))
			}
			if got := encode(c.ptr); !bytes.Equal(got, want) {
				t.Fatalf("%s by pointer:\n got % x\nwant % x", c.name, head(got), head(want))
			}
			if err := msgpack.Unmarshal(want, c.dec); err != nil {
				t.Fatal(err)
			}
			if err := msgpack.Unmarshal(want, c.twDec); err != nil {
				t.Fatal(err)
			}
			// The twin's decoding converted to the real types: encode it
			// back and decode with the real types, which must agree.
			var again reflect.Value = reflect.New(reflect.TypeOf(c.dec).Elem())
			if err := msgpack.Unmarshal(encode(c.twDec), again.Interface()); err != nil {
				t.Fatal(err)
			}
			if !same(reflect.ValueOf(c.dec).Elem().Interface(), again.Elem().Interface(), false) {
				t.Fatalf("%s decodes differently from its twin", c.name)
			}
		}
	}

	// The top-level value itself, by value and by pointer.
	req := SubmitRequest{Env: []string{"A=1"}, Jobs: []Jobspec{{Argv: []string{"true"}}}}
	hand, _ := req.MarshalMsgpack()
	if !bytes.Equal(encode(req), hand) || !bytes.Equal(encode(&req), hand) {
		t.Fatal("msgpack.Marshal does not use MarshalMsgpack")
	}
}

// TestNestedUsesCodec: proof that decoding through reflection reaches the
// hand codec for nested elements: only it accepts a nil time.
func TestNestedUsesCodec(t *testing.T) {
	b := mpack.AppendMapHeader(nil, 2)
	b = mpack.AppendString(mpack.AppendString(b, "child"), "c")
	b = mpack.AppendArrayHeader(mpack.AppendString(b, "results"), 1)
	b = mpack.AppendMapHeader(b, 1)
	b = mpack.AppendNil(mpack.AppendString(b, "start"))
	var push pushRequest
	if err := msgpack.Unmarshal(b, &push); err != nil || len(push.Results) != 1 || push.Child != "c" {
		t.Fatalf("%+v, %v", push, err)
	}
}

// TestTwinsMirrorTypes: the twins spelled out field by field have the fields
// and tags of the real types, with twins for the element types.
func TestTwinsMirrorTypes(t *testing.T) {
	twinOf := map[reflect.Type]reflect.Type{
		reflect.TypeFor[[]Jobspec]():    reflect.TypeFor[[]jobspecTwin](),
		reflect.TypeFor[[]JobResult]():  reflect.TypeFor[[]jobResultTwin](),
		reflect.TypeFor[[]OutputLine](): reflect.TypeFor[[]outputLineTwin](),
	}
	for real, twin := range map[reflect.Type]reflect.Type{
		reflect.TypeFor[SubmitRequest](): reflect.TypeFor[submitRequestTwin](),
		reflect.TypeFor[ResultBatch]():   reflect.TypeFor[resultBatchTwin](),
	} {
		if real.NumField() != twin.NumField() {
			t.Errorf("%s has %d fields, its twin %d", real, real.NumField(), twin.NumField())
			continue
		}
		for i := range real.NumField() {
			rf, tf := real.Field(i), twin.Field(i)
			wantType := rf.Type
			if tt, ok := twinOf[rf.Type]; ok {
				wantType = tt
			}
			if rf.Name != tf.Name || rf.Tag != tf.Tag || tf.Type != wantType {
				t.Errorf("%s.%s %s `%s`: twin has %s %s `%s`", real, rf.Name, rf.Type, rf.Tag, tf.Name, tf.Type, tf.Tag)
			}
		}
	}
}

// TestDecodeErrors: malformed input is refused with the path to the fault,
// and trailing bytes are not ignored.
func TestDecodeErrors(t *testing.T) {
	good, _ := SubmitRequest{Jobs: []Jobspec{{}, {Argv: []string{"x"}}}}.MarshalMsgpack()
	var s SubmitRequest
	if err := s.UnmarshalMsgpack(append(good, 0xc0)); err == nil {
		t.Error("trailing bytes accepted")
	}
	bad := bytes.Replace(good, []byte("\xa4argv\x91"), []byte("\xa4argv\x01"), 1)
	err := s.UnmarshalMsgpack(bad)
	if err == nil || !strings.Contains(err.Error(), `"jobs": [1]: "argv"`) {
		t.Errorf("got %v, want an error naming jobs[1].argv", err)
	}
	for _, b := range [][]byte{nil, {0x91}, {0x81, 0x01, 0x01}, {0x81, 0xa3, 'r', 'e', 'q', 0x01}} {
		var j Jobspec
		if err := j.UnmarshalMsgpack(b); err == nil {
			t.Errorf("% x decodes as %+v", b, j)
		}
	}
}

// TestEncodeAllocs: encoding into a buffer with room allocates nothing, and
// decoding a batch costs its slices and strings, not per-field overhead.
func TestEncodeAllocs(t *testing.T) {
	req, batch := benchSubmit(), benchBatch()
	buf := make([]byte, 0, 1<<16)
	if n := testing.AllocsPerRun(10, func() { buf = req.AppendMsgpack(buf[:0]) }); n != 0 {
		t.Errorf("SubmitRequest.AppendMsgpack: %v allocations", n)
	}
	if n := testing.AllocsPerRun(10, func() { buf = batch.AppendMsgpack(buf[:0]) }); n != 0 {
		t.Errorf("ResultBatch.AppendMsgpack: %v allocations", n)
	}
}

func head(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// fuzzRoundTrip: random bytes never panic UnmarshalMsgpack, and whatever it
// accepts encodes to bytes that decode to the same value (up to the empty
// omitempty slices that encoding leaves out) and encode identically again.
func fuzzRoundTrip[T any, P interface {
	*T
	msgpack.Marshaler
	msgpack.Unmarshaler
}](f *testing.F) {
	name := reflect.TypeFor[T]().Name()
	for _, h := range hotTypes {
		if h.name != name {
			continue
		}
		for _, v := range h.values(30) {
			if b, _ := h.hand(v); len(b) <= 1024 {
				f.Add(b)
			}
		}
	}
	f.Add([]byte{0xc0})
	f.Add([]byte{0xdf, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var v T
		if P(&v).UnmarshalMsgpack(b) != nil {
			return
		}
		enc, err := P(&v).MarshalMsgpack()
		if err != nil {
			t.Fatal(err)
		}
		var v2 T
		if err := P(&v2).UnmarshalMsgpack(enc); err != nil {
			t.Fatalf("re-encoded value does not decode: %v\n% x", err, head(enc))
		}
		if !same(v, v2, true) {
			t.Fatalf("unstable:\n%+v\n%+v", v, v2)
		}
		if enc2, _ := P(&v2).MarshalMsgpack(); !bytes.Equal(enc, enc2) {
			t.Fatalf("re-encoding differs:\n% x\n% x", head(enc), head(enc2))
		}
	})
}

func FuzzJobspec(f *testing.F)       { fuzzRoundTrip[Jobspec](f) }
func FuzzSubmitRequest(f *testing.F) { fuzzRoundTrip[SubmitRequest](f) }
func FuzzJobResult(f *testing.F)     { fuzzRoundTrip[JobResult](f) }
func FuzzOutputLine(f *testing.F)    { fuzzRoundTrip[OutputLine](f) }
func FuzzResultBatch(f *testing.F)   { fuzzRoundTrip[ResultBatch](f) }

// benchSubmit and benchBatch are the batches of the hot path: 64 trivial
// jobs in, 64 results out.
func benchSubmit() SubmitRequest {
	jobs := make([]Jobspec, 64)
	for i := range jobs {
		jobs[i] = Jobspec{Argv: []string{"true"}, Req: resources.Request{Tasks: 1, CoresPerTask: 1}, Cookie: uint64(i)}
	}
	return SubmitRequest{Jobs: jobs}
}

func benchBatch() ResultBatch {
	results := make([]JobResult, 64)
	for i := range results {
		results[i] = JobResult{ID: uint64(1000 + i), Cookie: uint64(i), Host: "h",
			Outcome: Outcome{Start: t0, End: t0.Add(3 * time.Millisecond)}}
	}
	return ResultBatch{Results: results}
}

// benchCodec measures one encode and one decode of v: through the codec's
// own methods, through msgpack.Marshal/Unmarshal as overlay calls them, and
// by reflection on the twin, which is what the codec replaced.
func benchCodec[T any, P interface {
	*T
	msgpack.Marshaler
	msgpack.Unmarshaler
}, W any](b *testing.B, v T, twin W) {
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, _ := P(&v).MarshalMsgpack()
			var out T
			if err := P(&out).UnmarshalMsgpack(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hand-via-msgpack", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, err := msgpack.Marshal(&v)
			if err != nil {
				b.Fatal(err)
			}
			var out T
			if err := msgpack.Unmarshal(buf, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reflect", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, err := msgpack.Marshal(&twin)
			if err != nil {
				b.Fatal(err)
			}
			var out W
			if err := msgpack.Unmarshal(buf, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSubmitRequest(b *testing.B) {
	req := benchSubmit()
	benchCodec(b, req, submitToTwin(req))
}

func BenchmarkResultBatch(b *testing.B) {
	batch := benchBatch()
	benchCodec(b, batch, batchToTwin(batch))
}

// BenchmarkNested: 64 jobs and 64 results as elements of structs that
// msgpack/v5 encodes by reflection (hierarchy's messages), which then calls
// the codec once per element.
func BenchmarkNested(b *testing.B) {
	jobs, results := benchSubmit().Jobs, benchBatch().Results
	pull := pullReply{Jobs: jobs}
	pullTwin := pullReplyTwin{Jobs: convSlice(jobs, func(j Jobspec) jobspecTwin { return jobspecTwin(j) })}
	push := pushRequest{Child: "c", Results: results}
	pushTwin := pushRequestTwin{Child: "c", Results: convSlice(results, func(r JobResult) jobResultTwin { return jobResultTwin(r) })}
	run := func(name string, v, out any) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buf, err := msgpack.Marshal(v)
				if err != nil {
					b.Fatal(err)
				}
				if err := msgpack.Unmarshal(buf, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("jobs/hand", &pull, new(pullReply))
	run("jobs/reflect", &pullTwin, new(pullReplyTwin))
	run("results/hand", &push, new(pushRequest))
	run("results/reflect", &pushTwin, new(pushRequestTwin))
}
