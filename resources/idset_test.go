package resources

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func mustIDs(t testing.TB, s string) IDSet {
	t.Helper()
	v, err := ParseIDSet(s)
	if err != nil {
		t.Fatalf("ParseIDSet(%q): %v", s, err)
	}
	return v
}

func TestParseIDSet(t *testing.T) {
	tests := []struct {
		in   string
		want string // canonical String()
		ids  []int
	}{
		{"", "", nil},
		{"[]", "", nil},
		{"  ", "", nil},
		{"0", "0", []int{0}},
		{"0-3,7", "0-3,7", []int{0, 1, 2, 3, 7}},
		{"[0-3,7]", "0-3,7", []int{0, 1, 2, 3, 7}},
		{"7,0-3", "0-3,7", []int{0, 1, 2, 3, 7}},
		{"1,1,1", "1", []int{1}},
		{"0,1", "0-1", []int{0, 1}},
		{"0-2,3-5", "0-5", []int{0, 1, 2, 3, 4, 5}},
		{"5-5", "5", []int{5}},
		{" 1 , 3 - 4 ", "1,3-4", []int{1, 3, 4}},
		{"63,64", "63-64", []int{63, 64}},
		{"62-129", "62-129", nil},
		{"007", "7", []int{7}},
		{"1048576", "1048576", []int{1 << 20}},
	}
	for _, tc := range tests {
		got, err := ParseIDSet(tc.in)
		if err != nil {
			t.Errorf("ParseIDSet(%q): %v", tc.in, err)
			continue
		}
		if got.String() != tc.want {
			t.Errorf("ParseIDSet(%q).String() = %q, want %q", tc.in, got.String(), tc.want)
		}
		if tc.ids != nil && !slices.Equal(got.IDs(), tc.ids) {
			t.Errorf("ParseIDSet(%q).IDs() = %v, want %v", tc.in, got.IDs(), tc.ids)
		}
	}
}

func TestParseIDSetErrors(t *testing.T) {
	tests := []struct{ in, wantPart string }{
		{"-", `"-"`},
		{"-1", "negative"},
		{"0,-1", "negative"},
		{"1--3", "negative"},
		{"3-1", "reversed"},
		{"a", `"a"`},
		{"1,x-3", `"x-3"`},
		{"1,,2", "empty element"},
		{"1,", "empty element"},
		{",1", "empty element"},
		{"1-", "missing number"},
		{"+1", `"+1"`},
		{"1.5", `"1.5"`},
		{"1048577", "too large"},
		{"0-99999999999", "too large"},
		{"[0-3", "closing"},
		{"0-3]", "opening"},
		{"1-2-3", `"1-2-3"`},
	}
	for _, tc := range tests {
		_, err := ParseIDSet(tc.in)
		if err == nil {
			t.Errorf("ParseIDSet(%q) succeeded, want an error", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantPart) {
			t.Errorf("ParseIDSet(%q) error %q does not mention %q", tc.in, err, tc.wantPart)
		}
	}
}

func TestIDSetOps(t *testing.T) {
	a := mustIDs(t, "0-3,7,64-70")
	b := mustIDs(t, "2-5,70,200")
	tests := []struct {
		name string
		got  IDSet
		want string
	}{
		{"union", a.Union(b), "0-5,7,64-70,200"},
		{"union empty", a.Union(IDSet{}), "0-3,7,64-70"},
		{"empty union", IDSet{}.Union(a), "0-3,7,64-70"},
		{"minus", a.Minus(b), "0-1,7,64-69"},
		{"minus all", a.Minus(a), ""},
		{"minus trims", b.Minus(mustIDs(t, "200")), "2-5,70"},
		{"intersect", a.Intersect(b), "2-3,70"},
		{"intersect disjoint", a.Intersect(mustIDs(t, "100")), ""},
		{"first 0", a.First(0), ""},
		{"first -1", a.First(-1), ""},
		{"first 5", a.First(5), "0-3,7"},
		{"first 6", a.First(6), "0-3,7,64"},
		{"first all", a.First(100), "0-3,7,64-70"},
		{"new", NewIDSet(5, 1, 3, 1), "1,3,5"},
		{"new empty", NewIDSet(), ""},
		{"range", RangeIDSet(3, 130), "3-130"},
		{"range empty", RangeIDSet(3, 2), ""},
		{"range one", RangeIDSet(64, 64), "64"},
	}
	for _, tc := range tests {
		if tc.got.String() != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
		if !tc.got.Equal(mustIDs(t, tc.want)) {
			t.Errorf("%s: %q not Equal to its parsed string (untrimmed words?)", tc.name, tc.got)
		}
	}
	if a.String() != "0-3,7,64-70" || b.String() != "2-5,70,200" {
		t.Errorf("operations modified their operands: a=%q b=%q", a, b)
	}
	if a.Count() != 12 || b.Count() != 6 || (IDSet{}).Count() != 0 {
		t.Errorf("Count: a=%d b=%d", a.Count(), b.Count())
	}
	if !(IDSet{}).Empty() || a.Empty() || !a.Minus(a).Empty() {
		t.Error("Empty is wrong")
	}
	for id, want := range map[int]bool{-1: false, 0: true, 4: false, 7: true, 70: true, 71: false, 5000: false} {
		if a.Contains(id) != want {
			t.Errorf("Contains(%d) = %v", id, !want)
		}
	}
	if a.Equal(b) || !a.Equal(a.Union(IDSet{})) {
		t.Error("Equal is wrong")
	}
}

func TestNewIDSetPanicsOnNegative(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewIDSet(-1) did not panic")
		}
	}()
	NewIDSet(-1)
}

func TestIDSetCodec(t *testing.T) {
	type wrap struct {
		S IDSet `msgpack:"s" json:"s"`
	}
	for _, str := range []string{"", "0", "0-3,7", "0-1023", "5,900-901"} {
		in := wrap{S: mustIDs(t, str)}

		b, err := msgpack.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := msgpack.Unmarshal(b, &m); err != nil || m["s"] != str {
			t.Errorf("msgpack form of %q = %#v (%v), want the string", str, m["s"], err)
		}
		var out wrap
		if err := msgpack.Unmarshal(b, &out); err != nil || !out.S.Equal(in.S) {
			t.Errorf("msgpack round trip of %q = %q (%v)", str, out.S, err)
		}

		j, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"s":"` + str + `"}`; string(j) != want {
			t.Errorf("json of %q = %s, want %s", str, j, want)
		}
		out = wrap{}
		if err := json.Unmarshal(j, &out); err != nil || !out.S.Equal(in.S) {
			t.Errorf("json round trip of %q = %q (%v)", str, out.S, err)
		}
	}
	var w wrap
	if err := json.Unmarshal([]byte(`{"s":"3-1"}`), &w); err == nil {
		t.Error("json accepted a reversed range")
	}
	if err := json.Unmarshal([]byte(`{"s":[1,2]}`), &w); err == nil {
		t.Error("json accepted an array")
	}
	bad, _ := msgpack.Marshal(map[string]any{"s": 5})
	if err := msgpack.Unmarshal(bad, &w); err == nil {
		t.Error("msgpack accepted an integer")
	}
}

func TestAllocTaskGroups(t *testing.T) {
	a := Alloc{
		Slices: []Slice{
			{Rank: 0, Tasks: 3, Cores: mustIDs(t, "1,3,5-7,64"), GPUs: mustIDs(t, "0-2")},
			{Rank: 2, Tasks: 1, Cores: mustIDs(t, "0-1"), GPUs: mustIDs(t, "3")},
		},
		CoresPerTask: 2, GPUsPerTask: 1,
	}
	tests := []struct {
		slice, local int
		cores, gpus  string
	}{
		{0, 0, "1,3", "0"},
		{0, 1, "5-6", "1"},
		{0, 2, "7,64", "2"},
		{1, 0, "0-1", "3"},
	}
	for _, tc := range tests {
		if got := a.TaskCores(tc.slice, tc.local); got.String() != tc.cores {
			t.Errorf("TaskCores(%d,%d) = %q, want %q", tc.slice, tc.local, got, tc.cores)
		}
		if got := a.TaskGPUs(tc.slice, tc.local); got.String() != tc.gpus {
			t.Errorf("TaskGPUs(%d,%d) = %q, want %q", tc.slice, tc.local, got, tc.gpus)
		}
	}
	if a.Cores() != 8 || a.Tasks() != 4 {
		t.Errorf("Cores, Tasks = %d, %d; want 8, 4", a.Cores(), a.Tasks())
	}
	noGPU := Alloc{Slices: []Slice{{Tasks: 1, Cores: mustIDs(t, "0")}}, CoresPerTask: 1}
	if !noGPU.TaskGPUs(0, 0).Empty() {
		t.Error("TaskGPUs with GPUsPerTask 0 is not empty")
	}
}
