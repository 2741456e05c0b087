package hierarchy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxtaskfarm/flux/resources"
)

// TestLoadTestdata: every file in testdata/ loads, and describes the tree
// the file means.
func TestLoadTestdata(t *testing.T) {
	want := map[string]struct {
		str       string
		leaves    int
		leafCores int
		requests  []resources.Request // ChildRequest(1), (2), ...
	}{
		"original.json": {"3 levels: 2 x (36 cores) -> 36 x (1 core); 72 leaves", 72, 1,
			[]resources.Request{{Tasks: 1, CoresPerTask: 36}, {Tasks: 1, CoresPerTask: 1}}},
		"flat.json":       {"1 level: no children, the top runs every line; 1 leaf", 1, 0, nil},
		"capacitors.json": {"2 levels: 4 x (16 cores, sched.easy); 4 leaves", 4, 16, []resources.Request{{Tasks: 1, CoresPerTask: 16}}},
		"nodes.json": {"3 levels: 4 x (1 node) -> 8 x (4 cores, sched.fcfs); 32 leaves", 32, 4,
			[]resources.Request{{Nodes: 1, Tasks: 1, CoresPerTask: 1}, {Tasks: 1, CoresPerTask: 4}}},
		"gpus.json": {"3 levels: 2 x (32 cores, 4 GPUs) -> 4 x (8 cores, 1 GPU); 8 leaves", 8, 8,
			[]resources.Request{{Tasks: 1, CoresPerTask: 32, GPUsPerTask: 4}, {Tasks: 1, CoresPerTask: 8, GPUsPerTask: 1}}},
		"shape.json": {"3 levels: 2 x (18 cores) -> 18 x (1 core); 36 leaves", 36, 1,
			[]resources.Request{{Tasks: 1, CoresPerTask: 18}, {Tasks: 1, CoresPerTask: 1}}},
		"scale.json": {"3 levels: 4 x (256 cores) -> 16 x (16 cores); 64 leaves", 64, 16,
			[]resources.Request{{Tasks: 1, CoresPerTask: 256}, {Tasks: 1, CoresPerTask: 16}}},
	}
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) != len(want) {
		t.Fatalf("testdata has %d files (%v), want %d", len(files), err, len(want))
	}
	for _, f := range files {
		w, ok := want[filepath.Base(f)]
		if !ok {
			t.Errorf("%s: no expectation", f)
			continue
		}
		c, err := LoadConfig(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if got := c.String(); got != w.str {
			t.Errorf("%s: String() = %q, want %q", f, got, w.str)
		}
		if c.Leaves() != w.leaves || c.LeafCores() != w.leafCores {
			t.Errorf("%s: Leaves %d LeafCores %d, want %d %d", f, c.Leaves(), c.LeafCores(), w.leaves, w.leafCores)
		}
		for L := 1; L < c.NumLevels; L++ {
			r := c.ChildRequest(L)
			if r != w.requests[L-1] {
				t.Errorf("%s: ChildRequest(%d) = %+v, want %+v", f, L, r, w.requests[L-1])
			}
			if err := r.Normalize().Validate(); err != nil {
				t.Errorf("%s: ChildRequest(%d) is not a valid request: %v", f, L, err)
			}
		}
	}
}

func TestShapes(t *testing.T) {
	for _, tc := range []struct {
		shape string
		want  string
	}{
		{"2x18", "3 levels: 2 x (18 cores) -> 18 x (1 core); 36 leaves"},
		{"2x18:4", "3 levels: 2 x (72 cores) -> 18 x (4 cores); 36 leaves"},
		{"4x4x4", "4 levels: 4 x (16 cores) -> 4 x (4 cores) -> 4 x (1 core); 64 leaves"},
		{"16", "2 levels: 16 x (1 core); 16 leaves"},
		{" 3 x 2 : 2 ", "3 levels: 3 x (4 cores) -> 2 x (2 cores); 6 leaves"},
	} {
		c, err := ParseConfig([]byte(`{"shape":"` + tc.shape + `"}`))
		if err != nil {
			t.Errorf("%q: %v", tc.shape, err)
			continue
		}
		if c.String() != tc.want {
			t.Errorf("%q: %s, want %s", tc.shape, c, tc.want)
		}
	}
	// Shape and levels may both be given when they agree (a normalized
	// config written back out parses again).
	same := `{"shape":"2x18","num_levels":3,"levels":[{"num_children":2,"cores_per_child":18},{"num_children":18,"cores_per_child":1}]}`
	if _, err := ParseConfig([]byte(same)); err != nil {
		t.Errorf("shape with the same levels: %v", err)
	}
}

// TestParseErrors pins every message a user can get from a config alone.
func TestParseErrors(t *testing.T) {
	lv := func(s ...string) string {
		return `{"num_levels":` + string(rune('1'+len(s))) + `,"levels":[` + strings.Join(s, ",") + `]}`
	}
	for _, tc := range []struct {
		name, json, want string
	}{
		{"empty", ``, `the config is empty; write a JSON object such as {"num_levels":2,"levels":[{"num_children":4,"cores_per_child":1}]}`},
		{"syntax", "{\"num_levels\":3,\n \"levels\": [}", `line 2, column 13: invalid JSON: invalid character '}' looking for beginning of value`},
		{"not an object", `[1]`, `the config must be a JSON object, not a array`},
		{"string for int", `{"num_levels":"3"}`, `num_levels: got a string, want a whole number from 0 to 16777216`},
		{"nested type", `{"num_levels":2,"levels":[{"num_children":1.5}]}`, `levels.num_children: got a number 1.5, want a whole number from 0 to 16777216`},
		{"unknown field", `{"num_levels":1,"levles":[]}`, `unknown field "levles" (known: ` + knownFields + `)`},
		{"unknown level field", lv(`{"num_children":2,"cores":4}`), `unknown field "cores" (known: ` + knownFields + `)`},
		{"trailing data", `{"num_levels":1} {}`, `unexpected data after the JSON object at byte 18; a config is one JSON object`},
		{"no levels", `{}`, `num_levels is 0; it must be at least 1 (1 = no children: the top instance runs every line itself)`},
		{"negative levels", `{"num_levels":-2}`, `num_levels is -2; it must be at least 1 (1 = no children: the top instance runs every line itself)`},
		{"too few levels", `{"num_levels":3,"levels":[{"num_children":2,"cores_per_child":36}]}`,
			`num_levels is 3, so levels needs 2 entries (an instance at level L starts its children with levels[L-1]; the leaves are at level 3), but it has 1`},
		{"too many levels", `{"num_levels":2,"levels":[{"num_children":2,"cores_per_child":1},{"num_children":2,"cores_per_child":1}]}`,
			`num_levels is 2, so levels needs 1 entry (an instance at level L starts its children with levels[L-1]; the leaves are at level 2), but it has 2`},
		{"zero children", lv(`{"num_children":0,"cores_per_child":36}`),
			`level 1: num_children is 0; every level must start at least 1 child (to stop earlier, lower num_levels)`},
		{"zero cores", lv(`{"num_children":2,"cores_per_child":36}`, `{"num_children":36}`),
			`level 2: cores_per_child is 0; every child needs at least 1 core (or give nodes_per_child for whole nodes)`},
		{"negative cores", lv(`{"num_children":2,"cores_per_child":-1}`), `level 1: cores_per_child is -1; it cannot be negative`},
		{"negative nodes", lv(`{"num_children":2,"nodes_per_child":-1}`), `level 1: nodes_per_child is -1; it cannot be negative`},
		{"negative gpus", lv(`{"num_children":2,"cores_per_child":1,"gpus_per_child":-1}`), `level 1: gpus_per_child is -1; it cannot be negative`},
		{"huge", lv(`{"num_children":2,"cores_per_child":16777217}`),
			`level 1: num_children, cores_per_child, nodes_per_child and gpus_per_child must be at most 16777216`},
		{"cores and nodes", lv(`{"num_children":2,"cores_per_child":36,"nodes_per_child":1}`),
			`level 1: both cores_per_child (36) and nodes_per_child (1) are given; a child on whole nodes gets all their cores, so give only one`},
		{"gpus and nodes", lv(`{"num_children":2,"nodes_per_child":1,"gpus_per_child":4}`),
			`level 1: gpus_per_child (4) with nodes_per_child (1): a child on whole nodes gets all their GPUs, so drop gpus_per_child`},
		{"child too small", lv(`{"num_children":2,"cores_per_child":36}`, `{"num_children":36,"cores_per_child":2}`),
			`level 2: each of the 2 children has 36 cores, but its 36 children need 36 x 2 = 72 cores`},
		{"one child too small", lv(`{"num_children":1,"cores_per_child":1}`, `{"num_children":1,"cores_per_child":2}`),
			`level 2: the one child has 1 core, but its 1 child needs 1 x 2 = 2 cores`},
		{"deep child too small", lv(`{"num_children":2,"cores_per_child":8}`, `{"num_children":2,"cores_per_child":4}`, `{"num_children":3,"cores_per_child":2}`),
			`level 3: each of the 2 children has 4 cores, but its 3 children need 3 x 2 = 6 cores`},
		{"gpus too few", lv(`{"num_children":2,"cores_per_child":8,"gpus_per_child":1}`, `{"num_children":2,"cores_per_child":4,"gpus_per_child":1}`),
			`level 2: each of the 2 children has 1 GPU, but its 2 children need 2 x 1 = 2 GPUs`},
		{"nodes under cores", lv(`{"num_children":2,"cores_per_child":36}`, `{"num_children":2,"nodes_per_child":1}`),
			`level 2: each of the 2 children has 36 cores on one node, so its children cannot ask for whole nodes (nodes_per_child 1); give them cores_per_child`},
		{"nodes under nodes", lv(`{"num_children":2,"nodes_per_child":2}`, `{"num_children":3,"nodes_per_child":1}`),
			`level 2: each of the 2 children has 2 nodes, but its 3 children need 3 x 1 = 3 nodes`},
		{"too many leaves", lv(`{"num_children":65536,"nodes_per_child":1}`, `{"num_children":1024,"nodes_per_child":1}`),
			`the tree has more than 16777216 leaves by level 3; use fewer or smaller levels`},
		{"shape not a number", `{"shape":"2xa"}`,
			`shape "2xa": level 2's count of children "a" is not a number; write it as counts of children joined by "x", optionally with ":cores per leaf", e.g. "2x18" or "2x18:4"`},
		{"shape zero", `{"shape":"0x4"}`,
			`shape "0x4": level 1's count of children "0" must be at least 1; write it as counts of children joined by "x", optionally with ":cores per leaf", e.g. "2x18" or "2x18:4"`},
		{"shape cores", `{"shape":"2x4:"}`,
			`shape "2x4:": cores per leaf "" is not a number; write it as counts of children joined by "x", optionally with ":cores per leaf", e.g. "2x18" or "2x18:4"`},
		{"shape too large", `{"shape":"4096x4096x2"}`,
			`shape "4096x4096x2": the tree is too large: the children of level 1 would need more than 16777216 cores together`},
		{"shape disagrees", `{"shape":"2x18","num_levels":2,"levels":[{"num_children":2,"cores_per_child":18}]}`,
			`shape "2x18" means 3 levels: 2 x (18 cores) -> 18 x (1 core), but num_levels and levels say 2 levels: 2 x (18 cores); give only one of them`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tc.json))
			if err == nil {
				t.Fatalf("ParseConfig(%s) = %s, want error %q", tc.json, c, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("ParseConfig(%s):\n got %s\nwant %s", tc.json, err, tc.want)
			}
		})
	}
}

// TestFit pins the messages for a tree that does not fit its allocation.
func TestFit(t *testing.T) {
	const original = `{"num_levels":3,"levels":[{"num_children":2,"cores_per_child":36},{"num_children":36,"cores_per_child":1}]}`
	for _, tc := range []struct {
		name         string
		json         string
		cores, nodes int
		want         string // "" = fits
	}{
		{"original on 2 nodes", original, 72, 2, ""},
		{"original on 1 big node", original, 96, 1, ""},
		{"original on a laptop", original, 16, 1,
			"the config needs 2 children x 36 cores = 72 cores at level 1; the allocation has 16 cores (on 1 node)"},
		{"nodes 0 counts as 1", original, 16, 0,
			"the config needs 2 children x 36 cores = 72 cores at level 1; the allocation has 16 cores (on 1 node)"},
		{"child larger than a node", `{"num_levels":2,"levels":[{"num_children":1,"cores_per_child":48}]}`, 72, 2,
			"level 1: each child asks for 48 cores on one node (-n1 -c48), but the nodes have 36 cores each; use nodes_per_child for children larger than a node"},
		{"children do not pack", `{"num_levels":2,"levels":[{"num_children":3,"cores_per_child":24}]}`, 72, 2,
			"level 1: the config needs 3 children x 24 cores, but a node of 36 cores holds only 1 of them, so 2 nodes hold 2"},
		{"flat fits anything", `{"num_levels":1,"levels":[]}`, 1, 1, ""},
		{"whole nodes", `{"num_levels":3,"levels":[{"num_children":4,"nodes_per_child":1},{"num_children":8,"cores_per_child":4}]}`, 128, 4, ""},
		{"too few nodes", `{"num_levels":2,"levels":[{"num_children":2,"nodes_per_child":2}]}`, 72, 2,
			"the config needs 2 children x 2 nodes = 4 nodes at level 1; the allocation has 2 nodes (72 cores)"},
		{"small nodes under whole nodes", `{"num_levels":3,"levels":[{"num_children":2,"nodes_per_child":2},{"num_children":4,"cores_per_child":24}]}`, 144, 4,
			"level 2: each of the 2 children has 2 nodes (72 cores), but its 4 children need 4 x 24 = 96 cores"},
		{"packing under whole nodes", `{"num_levels":3,"levels":[{"num_children":1,"nodes_per_child":2},{"num_children":3,"cores_per_child":24}]}`, 72, 2,
			"level 2: the config needs 3 children x 24 cores, but a node of 36 cores holds only 1 of them, so 2 nodes hold 2"},
		{"invalid config", `{"num_levels":0}`, 72, 2,
			"num_levels is 0; it must be at least 1 (1 = no children: the top instance runs every line itself)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustDecode(t, tc.json)
			err := c.Fit(tc.cores, tc.nodes)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Fit(%d, %d) = %v, want nil", tc.cores, tc.nodes, err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Errorf("Fit(%d, %d):\n got %v\nwant %s", tc.cores, tc.nodes, err, tc.want)
			}
		})
	}
}

// mustDecode decodes and normalizes without validating, so that Fit's own
// check is reached.
func mustDecode(t *testing.T, s string) Config {
	t.Helper()
	var c Config
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	c, err := c.Normalize()
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return c
}

func TestLoadConfigNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"num_levels":2,"levels":[{"num_children":0,"cores_per_child":1}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path)
	want := path + ": level 1: num_children is 0; every level must start at least 1 child (to stop earlier, lower num_levels)"
	if err == nil || err.Error() != want {
		t.Errorf("LoadConfig: %v, want %s", err, want)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "nope.json")); err == nil || !strings.Contains(err.Error(), "nope.json") {
		t.Errorf("LoadConfig of a missing file: %v", err)
	}
}

func TestChildRequestPanicsOutOfRange(t *testing.T) {
	c, err := ParseConfig([]byte(`{"shape":"2x2"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, level := range []int{0, 3} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ChildRequest(%d) did not panic", level)
				}
			}()
			c.ChildRequest(level)
		}()
	}
}

func FuzzParseConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"num_levels":1}`, `{"shape":"2x18:4"}`, `{"shape":"1x1x1x1"}`,
		`{"num_levels":3,"levels":[{"num_children":2,"nodes_per_child":2},{"num_children":2,"nodes_per_child":1}]}`,
		`{"num_levels":2,"levels":[{"num_children":2,"cores_per_child":1,"gpus_per_child":1,"sched":"sched.easy"}]}`,
		`{"num_levels":2,"levels":[{"num_children":9999999999,"cores_per_child":1}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if c.Leaves() < 1 || c.Leaves() > maxCount {
			t.Fatalf("%s: %d leaves", data, c.Leaves())
		}
		if len(c.Levels) != c.NumLevels-1 {
			t.Fatalf("%s: %d levels for num_levels %d", data, len(c.Levels), c.NumLevels)
		}
		for L := 1; L < c.NumLevels; L++ {
			if err := c.ChildRequest(L).Normalize().Validate(); err != nil {
				t.Fatalf("%s: ChildRequest(%d): %v", data, L, err)
			}
		}
		_ = c.String()
		_ = c.LeafCores()
		// Fit never panics, whatever the allocation.
		c.Fit(1<<20, 1)
		c.Fit(0, 0)
		// Parsing is stable: a normalized config parses to itself.
		again, err := c.Normalize()
		if err != nil || again.String() != c.String() {
			t.Fatalf("%s: Normalize again: %v %s", data, err, again)
		}
	})
}
