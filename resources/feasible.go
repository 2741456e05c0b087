package resources

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrUnsatisfiable is wrapped by every Feasible error: the request is larger
// than the whole instance and would wait forever, so it must be rejected
// rather than queued.
var ErrUnsatisfiable = errors.New("request can never be satisfied")

// unsatisfiable carries the user-facing text; Error() is that text alone,
// errors.Is(err, ErrUnsatisfiable) holds.
type unsatisfiable struct{ msg string }

func (e *unsatisfiable) Error() string { return e.msg }
func (e *unsatisfiable) Unwrap() error { return ErrUnsatisfiable }

func never(format string, args ...any) error {
	return &unsatisfiable{msg: fmt.Sprintf(format, args...)}
}

// Feasible reports whether r (normalized and valid) could ever run on s with
// all of s free: nil, or an error wrapping ErrUnsatisfiable whose text names
// the option at fault and the instance's size, for example
// "-n 100000 asks for 100000 cores; the instance has 2". The checks run from
// the most specific cause to the least, so a user sees the option to change.
func (s Set) Feasible(r Request) error {
	nodes := s.Nodes()
	maxC, maxG := s.MaxCoresPerNode(), s.MaxGPUsPerNode()
	totC, totG := s.Cores(), s.GPUs()
	switch {
	case r.Nodes > nodes:
		return never("-N %d asks for %s; the instance has %d", r.Nodes, plural(r.Nodes, "node"), nodes)
	case r.CoresPerTask > maxC:
		return never("-n %d -c %d asks for %s per task; the largest node has %s",
			r.Tasks, r.CoresPerTask, plural(r.CoresPerTask, "core"), countOrNone(maxC))
	case r.GPUsPerTask > maxG && totG == 0:
		return never("-g %d asks for %s per task; the instance has none", r.GPUsPerTask, plural(r.GPUsPerTask, "GPU"))
	case r.GPUsPerTask > maxG:
		return never("-g %d asks for %s per task; the largest node has %d", r.GPUsPerTask, plural(r.GPUsPerTask, "GPU"), maxG)
	case r.Cores() > totC:
		return never("%s asks for %s; the instance has %s", coreFlags(r), plural(r.Cores(), "core"), countOrNone(totC))
	case r.GPUs() > totG:
		return never("-n %d -g %d asks for %s; the instance has %d", r.Tasks, r.GPUsPerTask, plural(r.GPUs(), "GPU"), totG)
	}
	if nodes <= 1 {
		// One rank: the checks above already prove capacity >= Tasks.
		return nil
	}
	nfree, nfreeG := make([]int, nodes), make([]int, nodes)
	for i, rk := range s.Ranks {
		nfree[i], nfreeG[i] = rk.Cores.Count(), rk.GPUs.Count()
	}
	var p planner
	if _, ok := p.plan(nfree, nfreeG, 0, r); ok {
		return nil
	}
	if r.Nodes == 0 {
		most := 0
		for i := range nfree {
			most += capacity(nfree[i], nfreeG[i], r)
		}
		return never("%s asks for %d tasks, but a task cannot span nodes and the nodes of the instance hold at most %d tasks of that size",
			allFlags(r), r.Tasks, most)
	}
	base, extra := r.Tasks/r.Nodes, r.Tasks%r.Nodes
	big, small := 0, 0 // nodes that hold base+1 tasks, and base tasks
	for i := range nfree {
		c := capacity(nfree[i], nfreeG[i], r)
		if c >= base+1 {
			big++
		}
		if c >= base {
			small++
		}
	}
	if extra == 0 {
		return never("%s puts %d tasks on each of %s; only %s of the instance can hold %d tasks",
			allFlags(r), base, plural(r.Nodes, "node"), plural(small, "node"), base)
	}
	first := "the first node"
	if extra > 1 {
		first = "the first " + strconv.Itoa(extra) + " nodes"
	}
	return never("%s puts %d tasks on %s and %d on each other node (block order); the instance has %s that can hold %d tasks and %s that can hold %d, not enough in rank order",
		allFlags(r), base+1, first, base, plural(big, "node"), base+1, plural(small, "node"), base)
}

// coreFlags spells the options that determine the core count: "-n 4 -c 2".
func coreFlags(r Request) string {
	s := "-n " + strconv.Itoa(r.Tasks)
	if r.CoresPerTask != 1 {
		s += " -c " + strconv.Itoa(r.CoresPerTask)
	}
	return s
}

// allFlags spells the whole request as a user would have typed it.
func allFlags(r Request) string {
	s := coreFlags(r)
	if r.Nodes > 0 {
		s = "-N " + strconv.Itoa(r.Nodes) + " " + s
	}
	if r.GPUsPerTask > 0 {
		s += " -g " + strconv.Itoa(r.GPUsPerTask)
	}
	return s
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func countOrNone(n int) string {
	if n == 0 {
		return "none"
	}
	return strconv.Itoa(n)
}
