package resources

import "math/bits"

// Slice is the tasks of one job placed on one rank.
type Slice struct {
	Rank  int   `msgpack:"rank"`
	Tasks int   `msgpack:"tasks"`
	Cores IDSet `msgpack:"cores"` // Tasks*CoresPerTask cores
	GPUs  IDSet `msgpack:"gpus"`  // Tasks*GPUsPerTask GPUs
}

// Alloc is where a job runs: its slices in ascending rank order.
type Alloc struct {
	Slices       []Slice `msgpack:"slices"` // ascending rank
	CoresPerTask int     `msgpack:"c"`
	GPUsPerTask  int     `msgpack:"g"`
}

// Cores returns the number of cores in the allocation.
func (a Alloc) Cores() int {
	n := 0
	for _, s := range a.Slices {
		n += s.Cores.Count()
	}
	return n
}

// Tasks returns the number of tasks in the allocation.
func (a Alloc) Tasks() int {
	n := 0
	for _, s := range a.Slices {
		n += s.Tasks
	}
	return n
}

// TaskCores returns the cores of local task `local` of Slices[slice]: the
// local-th group of CoresPerTask ids, in ascending id order. The launcher
// binds that task's processes to exactly these cores.
func (a Alloc) TaskCores(slice, local int) IDSet {
	return nthGroup(a.Slices[slice].Cores, local, a.CoresPerTask)
}

// TaskGPUs returns the GPUs of local task `local` of Slices[slice], grouped
// like TaskCores.
func (a Alloc) TaskGPUs(slice, local int) IDSet {
	return nthGroup(a.Slices[slice].GPUs, local, a.GPUsPerTask)
}

// nthGroup returns ids [k*size, (k+1)*size) of s in ascending order (fewer,
// or none, when s runs out).
func nthGroup(s IDSet, k, size int) IDSet {
	if size <= 0 || k < 0 {
		return IDSet{}
	}
	skip := k * size
	var out []uint64
	need := size
	for i, x := range s.w {
		c := bits.OnesCount64(x)
		if skip >= c {
			skip -= c
			continue
		}
		// Drop the lowest `skip` bits of this word, then take up to `need`.
		x &^= lowBits(x, skip)
		skip = 0
		c = bits.OnesCount64(x)
		if out == nil {
			out = make([]uint64, i+1, i+1+(need+63)/64)
		} else {
			out = append(out, make([]uint64, i+1-len(out))...)
		}
		if c >= need {
			out[i] = lowBits(x, need)
			return IDSet{w: out}
		}
		out[i] = x
		need -= c
	}
	return IDSet{w: trim(out)}
}
