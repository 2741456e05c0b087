package mpack

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// Values at and around every boundary between msgpack integer forms.
var intEdges = []int64{
	0, 1, 127, 128, 255, 256, math.MaxUint16, math.MaxUint16 + 1,
	math.MaxInt32, math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64,
	-1, -31, -32, -33, math.MinInt8, math.MinInt8 - 1, math.MinInt16, math.MinInt16 - 1,
	math.MinInt32, math.MinInt32 - 1, math.MinInt64,
}

var uintEdges = []uint64{
	0, 1, 127, 128, 255, 256, math.MaxUint16, math.MaxUint16 + 1,
	math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64,
}

// Lengths at every boundary between the str, bin, array and map forms.
var lenEdges = []int{0, 1, 15, 16, 31, 32, 255, 256, math.MaxUint16, math.MaxUint16 + 1}

// timeEdges covers each timestamp form msgpack/v5 picks and their limits.
var timeEdges = []time.Time{
	{}, // zero: before 1970, so the 96-bit form
	time.Unix(0, 0),
	time.Unix(1, 0),
	time.Unix(1<<32-1, 0), // last 32-bit
	time.Unix(1<<32, 0),   // first 64-bit by seconds
	time.Unix(1, 1),       // 64-bit by nanoseconds
	time.Unix(1700000000, 999999999),
	time.Unix(1<<34-1, 999999999), // last 64-bit
	time.Unix(1<<34, 0),           // 96-bit by seconds
	time.Unix(-1, 0),
	time.Unix(-1, 999999999),
	time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
	time.Date(2024, 2, 29, 12, 0, 0, 5, time.FixedZone("x", 3600)),
	time.Now(), // with a monotonic reading, which must not matter
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatalf("msgpack.Marshal(%T): %v", v, err)
	}
	return b
}

// withEncoder returns what fn writes with a msgpack/v5 Encoder, for the
// headers, which Marshal cannot produce alone.
func withEncoder(t *testing.T, fn func(*msgpack.Encoder) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := fn(msgpack.NewEncoder(&buf)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWritersMatchMsgpack(t *testing.T) {
	type tc struct {
		name      string
		got, want []byte
	}
	var cases []tc
	add := func(name string, got, want []byte) { cases = append(cases, tc{name, got, want}) }

	add("nil", AppendNil(nil), marshal(t, nil))
	add("true", AppendBool(nil, true), marshal(t, true))
	add("false", AppendBool(nil, false), marshal(t, false))
	for _, v := range intEdges {
		add(fmt.Sprint("int ", v), AppendInt(nil, v), marshal(t, int(v)))
		add(fmt.Sprint("int64 ", v), AppendInt64(nil, v), marshal(t, v))
		add(fmt.Sprint("duration ", v), AppendInt64(nil, v), marshal(t, time.Duration(v)))
	}
	for _, v := range uintEdges {
		add(fmt.Sprint("uint ", v), AppendUint(nil, v), marshal(t, uint(v)))
		add(fmt.Sprint("uint64 ", v), AppendUint64(nil, v), marshal(t, v))
	}
	for _, n := range lenEdges {
		s := strings.Repeat("x", n)
		add(fmt.Sprint("string ", n), AppendString(nil, s), marshal(t, s))
		add(fmt.Sprint("bytes ", n), AppendBytes(nil, []byte(s)), marshal(t, []byte(s)))
		add(fmt.Sprint("map header ", n), AppendMapHeader(nil, n),
			withEncoder(t, func(e *msgpack.Encoder) error { return e.EncodeMapLen(n) }))
		add(fmt.Sprint("array header ", n), AppendArrayHeader(nil, n),
			withEncoder(t, func(e *msgpack.Encoder) error { return e.EncodeArrayLen(n) }))
	}
	add("nil bytes", AppendBytes(nil, nil), marshal(t, []byte(nil)))
	for _, s := range [][]string{nil, {}, {""}, {"true"}, {"a", strings.Repeat("b", 40), "c"}, make([]string, 16)} {
		add(fmt.Sprint("strings ", s), AppendStringSlice(nil, s), marshal(t, s))
	}
	for _, tm := range timeEdges {
		add("time "+tm.String(), AppendTime(nil, tm), marshal(t, tm))
	}

	for _, c := range cases {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("%s: wrote % x, msgpack/v5 writes % x", c.name, head(c.got), head(c.want))
		}
	}
}

// TestWritersAppend: every writer extends its argument rather than
// replacing it, which the codecs rely on to build a message in one buffer.
func TestWritersAppend(t *testing.T) {
	prefix := []byte{1, 2, 3}
	for name, fn := range map[string]func([]byte) []byte{
		"nil":     AppendNil,
		"bool":    func(b []byte) []byte { return AppendBool(b, true) },
		"map":     func(b []byte) []byte { return AppendMapHeader(b, 1000) },
		"array":   func(b []byte) []byte { return AppendArrayHeader(b, 1000) },
		"int":     func(b []byte) []byte { return AppendInt(b, -1000) },
		"uint":    func(b []byte) []byte { return AppendUint(b, 1000) },
		"int64":   func(b []byte) []byte { return AppendInt64(b, 7) },
		"uint64":  func(b []byte) []byte { return AppendUint64(b, 7) },
		"string":  func(b []byte) []byte { return AppendString(b, "abc") },
		"bytes":   func(b []byte) []byte { return AppendBytes(b, []byte("abc")) },
		"strings": func(b []byte) []byte { return AppendStringSlice(b, []string{"a"}) },
		"time":    func(b []byte) []byte { return AppendTime(b, time.Unix(5, 5)) },
	} {
		b := fn(append([]byte(nil), prefix...))
		if !bytes.HasPrefix(b, prefix) || len(b) == len(prefix) {
			t.Errorf("%s: % x does not extend % x", name, b, prefix)
		}
	}
}

func head(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}
