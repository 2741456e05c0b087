package resources

import (
	"errors"
	"testing"
)

func TestRequestNormalizeValidate(t *testing.T) {
	tests := []struct {
		in      Request
		norm    Request
		wantErr string
	}{
		{Request{}, Request{Tasks: 1, CoresPerTask: 1}, ""},
		{Request{Nodes: 4}, Request{Nodes: 4, Tasks: 4, CoresPerTask: 1}, ""},
		{Request{Tasks: 2, CoresPerTask: 3, GPUsPerTask: 1}, Request{Tasks: 2, CoresPerTask: 3, GPUsPerTask: 1}, ""},
		{Request{Nodes: 4, Tasks: 2}, Request{Nodes: 4, Tasks: 2, CoresPerTask: 1},
			"-N 4 with -n 2: every node needs at least one task; use -n 4 or more, or fewer nodes"},
		{Request{Tasks: -1}, Request{Tasks: -1, CoresPerTask: 1}, "-n -1: the task count must be at least 1"},
		{Request{CoresPerTask: -2}, Request{Tasks: 1, CoresPerTask: -2}, "-c -2: the cores per task must be at least 1"},
		{Request{GPUsPerTask: -1}, Request{Tasks: 1, CoresPerTask: 1, GPUsPerTask: -1}, "-g -1: the GPUs per task cannot be negative"},
		{Request{Nodes: -1}, Request{Nodes: -1, Tasks: 1, CoresPerTask: 1}, "-N -1: the node count cannot be negative"},
		{Request{Tasks: MaxCount + 1}, Request{Tasks: MaxCount + 1, CoresPerTask: 1}, "-n 16777217: the task count must be at most 16777216"},
		{Request{CoresPerTask: 1 << 40}, Request{Tasks: 1, CoresPerTask: 1 << 40}, "-c 1099511627776: the cores per task must be at most 16777216"},
		{Request{GPUsPerTask: 1 << 30}, Request{Tasks: 1, CoresPerTask: 1, GPUsPerTask: 1 << 30}, "-g 1073741824: the GPUs per task must be at most 16777216"},
	}
	for _, tc := range tests {
		n := tc.in.Normalize()
		if n != tc.norm {
			t.Errorf("%+v.Normalize() = %+v, want %+v", tc.in, n, tc.norm)
		}
		err := n.Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%+v.Validate() = %v", n, err)
		case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
			t.Errorf("%+v.Validate() = %v, want %q", n, err, tc.wantErr)
		}
	}
	if got := (Request{Tasks: 3, CoresPerTask: 4, GPUsPerTask: 2}); got.Cores() != 12 || got.GPUs() != 6 {
		t.Errorf("Cores, GPUs = %d, %d", got.Cores(), got.GPUs())
	}
}

func TestFeasible(t *testing.T) {
	laptop := Set{Ranks: []Rank{{Rank: 0, Host: "h", Cores: RangeIDSet(0, 1)}}}
	gpuNode := Set{Ranks: []Rank{{Rank: 0, Cores: RangeIDSet(0, 7), GPUs: RangeIDSet(0, 1)}}}
	// Two ranks of 3 cores, one GPU on rank 1 only.
	two := Set{Ranks: []Rank{
		{Rank: 0, Cores: RangeIDSet(0, 2)},
		{Rank: 1, Cores: RangeIDSet(0, 2), GPUs: NewIDSet(0)},
	}}
	// Uneven: rank 0 has 2 cores, rank 1 has 3.
	uneven := Set{Ranks: []Rank{{Rank: 0, Cores: RangeIDSet(0, 1)}, {Rank: 1, Cores: RangeIDSet(0, 2)}}}
	fiveThree := Set{Ranks: []Rank{{Rank: 0, Cores: RangeIDSet(0, 4)}, {Rank: 1, Cores: RangeIDSet(0, 2)}}}
	r := func(N, n, c, g int) Request {
		return Request{Nodes: N, Tasks: n, CoresPerTask: c, GPUsPerTask: g}.Normalize()
	}
	tests := []struct {
		set  Set
		req  Request
		want string // "" = feasible
	}{
		{laptop, r(0, 1, 1, 0), ""},
		{laptop, r(0, 2, 1, 0), ""},
		{laptop, r(1, 2, 1, 0), ""},
		{laptop, r(0, 100000, 1, 0), "-n 100000 asks for 100000 cores; the instance has 2"},
		{laptop, r(0, 2, 3, 0), "-n 2 -c 3 asks for 3 cores per task; the largest node has 2"},
		{laptop, r(2, 2, 1, 0), "-N 2 asks for 2 nodes; the instance has 1"},
		{laptop, r(0, 1, 1, 1), "-g 1 asks for 1 GPU per task; the instance has none"},
		{laptop, r(0, 2, 2, 0), "-n 2 -c 2 asks for 4 cores; the instance has 2"},
		{laptop, r(0, 3, 1, 0), "-n 3 asks for 3 cores; the instance has 2"},
		{gpuNode, r(0, 1, 1, 3), "-g 3 asks for 3 GPUs per task; the largest node has 2"},
		{gpuNode, r(0, 3, 1, 1), "-n 3 -g 1 asks for 3 GPUs; the instance has 2"},
		{gpuNode, r(0, 2, 4, 1), ""},
		{Set{}, r(0, 1, 1, 0), "-n 1 -c 1 asks for 1 core per task; the largest node has none"},
		{two, r(0, 6, 1, 0), ""},
		{two, r(2, 6, 1, 0), ""},
		{two, r(0, 2, 2, 0), ""},
		{two, r(0, 3, 2, 0), "-n 3 -c 2 asks for 3 tasks, but a task cannot span nodes and the nodes of the instance hold at most 2 tasks of that size"},
		{two, r(0, 2, 1, 1), "-n 2 -g 1 asks for 2 GPUs; the instance has 1"},
		{two, r(0, 1, 3, 1), ""},
		{two, r(2, 2, 1, 0), ""},
		{fiveThree, r(2, 4, 2, 0), "-N 2 -n 4 -c 2 puts 2 tasks on each of 2 nodes; only 1 node of the instance can hold 2 tasks"},
		{fiveThree, r(0, 4, 2, 0), "-n 4 -c 2 asks for 4 tasks, but a task cannot span nodes and the nodes of the instance hold at most 3 tasks of that size"},
		{fiveThree, r(2, 3, 2, 0), ""},
		{uneven, r(2, 5, 1, 0), "-N 2 -n 5 puts 3 tasks on the first node and 2 on each other node (block order); the instance has 1 node that can hold 3 tasks and 2 nodes that can hold 2, not enough in rank order"},
		{uneven, r(0, 5, 1, 0), ""},
		{uneven, r(2, 4, 1, 0), ""},
	}
	for _, tc := range tests {
		err := tc.set.Feasible(tc.req)
		if tc.want == "" {
			if err != nil {
				t.Errorf("Feasible(%+v) on %d cores = %v, want nil", tc.req, tc.set.Cores(), err)
			}
			continue
		}
		if err == nil || err.Error() != tc.want {
			t.Errorf("Feasible(%+v) = %v\n want %q", tc.req, err, tc.want)
			continue
		}
		if !errors.Is(err, ErrUnsatisfiable) {
			t.Errorf("Feasible(%+v) error does not wrap ErrUnsatisfiable", tc.req)
		}
	}
}

func TestSetCounts(t *testing.T) {
	s := Set{Ranks: []Rank{
		{Rank: 0, Cores: RangeIDSet(0, 3), GPUs: NewIDSet(0)},
		{Rank: 1, Cores: RangeIDSet(0, 7), GPUs: NewIDSet(0, 1, 2)},
		{Rank: 2, Cores: NewIDSet(5)},
	}}
	if s.Cores() != 13 || s.GPUs() != 4 || s.Nodes() != 3 || s.MaxCoresPerNode() != 8 || s.MaxGPUsPerNode() != 3 {
		t.Errorf("counts: cores %d gpus %d nodes %d maxc %d maxg %d", s.Cores(), s.GPUs(), s.Nodes(), s.MaxCoresPerNode(), s.MaxGPUsPerNode())
	}
}

// -N alone takes whole nodes: the tasks of a node share all its cores.
func TestWholeNodes(t *testing.T) {
	s := Set{Ranks: []Rank{{Rank: 0, Cores: RangeIDSet(0, 3)}, {Rank: 1, Cores: RangeIDSet(0, 3), GPUs: NewIDSet(0, 1)}}}
	for _, tc := range []struct {
		in, want Request
	}{
		{Request{Nodes: 1, Tasks: 1, CoresPerTask: 1, Exclusive: true}, Request{Nodes: 1, Tasks: 1, CoresPerTask: 4, GPUsPerTask: 2}},
		{Request{Nodes: 2, Tasks: 4, CoresPerTask: 1, Exclusive: true}, Request{Nodes: 2, Tasks: 4, CoresPerTask: 2, GPUsPerTask: 1}},
		{Request{Nodes: 1, Tasks: 1, CoresPerTask: 1}, Request{Nodes: 1, Tasks: 1, CoresPerTask: 1}},
	} {
		if got := s.WholeNodes(tc.in); got != tc.want {
			t.Errorf("WholeNodes(%+v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}
