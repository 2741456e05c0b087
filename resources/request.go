package resources

import "fmt"

// MaxCount bounds every field of a Request, so that products such as
// Tasks*CoresPerTask cannot overflow and a typo like -n 99999999999 gets a
// clear message instead of a silent wrap-around.
const MaxCount = 1 << 24

// Request is what one job (one command line) asks for, with Flux jobspec
// semantics: -N nodes, -n tasks, -c cores per task, -g GPUs per task.
type Request struct {
	Nodes        int `msgpack:"N" json:"nodes"` // 0 = any number of nodes
	Tasks        int `msgpack:"n" json:"tasks"`
	CoresPerTask int `msgpack:"c" json:"cores_per_task"`
	GPUsPerTask  int `msgpack:"g" json:"gpus_per_task"`
	// Exclusive asks for whole nodes: Flux gives -N without -n or -c the
	// nodes entirely (their tasks share each node's cores). The scheduler
	// turns it into cores per task with WholeNodes.
	Exclusive bool `msgpack:"x,omitempty" json:"exclusive,omitempty"`
}

// WholeNodes turns an exclusive request into an ordinary one that takes
// every core and GPU of nodes like the largest in s: the tasks of each node
// share its cores evenly. Other requests come back unchanged.
func (s Set) WholeNodes(r Request) Request {
	if !r.Exclusive || r.Nodes <= 0 {
		return r
	}
	perNode := (r.Tasks + r.Nodes - 1) / r.Nodes
	r.CoresPerTask = max(1, s.MaxCoresPerNode()/perNode)
	r.GPUsPerTask = s.MaxGPUsPerNode() / perNode
	r.Exclusive = false
	return r
}

// Normalize fills in the defaults Flux uses: no -n means one task per node
// (at least one), no -c means one core per task. Negative values are left for
// Validate to report.
func (r Request) Normalize() Request {
	if r.Tasks == 0 {
		r.Tasks = max(r.Nodes, 1)
	}
	if r.CoresPerTask == 0 {
		r.CoresPerTask = 1
	}
	return r
}

// Validate checks a normalized request, naming the option at fault.
func (r Request) Validate() error {
	switch {
	case r.Tasks < 1:
		return fmt.Errorf("-n %d: the task count must be at least 1", r.Tasks)
	case r.CoresPerTask < 1:
		return fmt.Errorf("-c %d: the cores per task must be at least 1", r.CoresPerTask)
	case r.GPUsPerTask < 0:
		return fmt.Errorf("-g %d: the GPUs per task cannot be negative", r.GPUsPerTask)
	case r.Nodes < 0:
		return fmt.Errorf("-N %d: the node count cannot be negative", r.Nodes)
	case r.Tasks > MaxCount:
		return fmt.Errorf("-n %d: the task count must be at most %d", r.Tasks, MaxCount)
	case r.CoresPerTask > MaxCount:
		return fmt.Errorf("-c %d: the cores per task must be at most %d", r.CoresPerTask, MaxCount)
	case r.GPUsPerTask > MaxCount:
		return fmt.Errorf("-g %d: the GPUs per task must be at most %d", r.GPUsPerTask, MaxCount)
	case r.Nodes > r.Tasks:
		return fmt.Errorf("-N %d with -n %d: every node needs at least one task; use -n %d or more, or fewer nodes",
			r.Nodes, r.Tasks, r.Nodes)
	}
	return nil
}

// Cores returns the total cores the request needs: Tasks*CoresPerTask.
func (r Request) Cores() int { return r.Tasks * r.CoresPerTask }

// GPUs returns the total GPUs the request needs: Tasks*GPUsPerTask.
func (r Request) GPUs() int { return r.Tasks * r.GPUsPerTask }
