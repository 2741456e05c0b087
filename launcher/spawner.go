package launcher

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// A spawner is a goroutine locked to its own OS thread for the life of the
// process. It forks every task it is given from that thread after setting the
// thread's CPU affinity to the task's cores: the child inherits the mask, so
// binding costs no wrapper process and, when consecutive tasks use the same
// cores, not even a system call.
//
// Requests are routed by the task's first core, so a spawner keeps serving
// the same cores and its mask rarely changes. It also means a spawner thread
// runs on the cores the new task is about to use, which the scheduler has
// just freed, rather than competing with a busy task elsewhere.
type spawner struct {
	reqs chan spawnReq
	mask unix.CPUSet // this thread's current affinity; only the spawner goroutine touches it
}

type spawnReq struct {
	j *job
	i int // task index in j.tasks
}

const (
	maxSpawners = 64
	// spawnQueue bounds each spawner's queue. When it is full, Launch hands
	// the request to a goroutine that blocks on it, so Launch itself never
	// blocks and nothing is dropped. Those goroutines are bounded too: one
	// per task waiting to be forked, and a task waits only once the broker
	// has placed it on a free core (or, simulated, Launch forks nothing).
	spawnQueue = 256
)

var pool struct {
	once     sync.Once
	spawners []*spawner
	rr       atomic.Uint32 // round robin for unbound tasks
	full     unix.CPUSet   // the process's affinity at start: "no binding"
	devNull  int           // stdin of every task
}

func spawners() []*spawner {
	pool.once.Do(startSpawners)
	return pool.spawners
}

func startSpawners() {
	if err := unix.SchedGetaffinity(0, &pool.full); err != nil {
		pool.full.Fill()
	}
	fd, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		fd = -1 // tasks then start with stdin closed
	}
	pool.devNull = fd
	n := min(max(runtime.NumCPU(), 2), maxSpawners)
	pool.spawners = make([]*spawner, n)
	for i := range pool.spawners {
		s := &spawner{reqs: make(chan spawnReq, spawnQueue), mask: pool.full}
		pool.spawners[i] = s
		go s.run()
	}
}

// run never returns and never unlocks its thread: if the goroutine exited
// locked, the runtime would end the thread, and Pdeathsig would kill every
// task forked from it.
func (s *spawner) run() {
	runtime.LockOSThread()
	for req := range s.reqs {
		s.fork(req)
	}
}

// fork recovers a panic in one task's launch (a bug) so the spawner, and
// with it every task forked from its thread, survives; the task fails with
// the panic as its error.
func (s *spawner) fork(req spawnReq) {
	defer func() {
		if p := recover(); p != nil {
			t := &req.j.tasks[req.i]
			req.j.mu.Lock()
			forked := t.state != pending
			req.j.mu.Unlock()
			if !forked {
				req.j.taskFailed(t, statusSetup, 0, fmt.Sprintf("internal error starting task %d: %v", t.Rank, p))
			}
		}
	}()
	req.j.fork(req.i, s)
}

// bind sets the spawner thread's affinity to mask unless it already is.
func (s *spawner) bind(mask *unix.CPUSet) error {
	if *mask == s.mask {
		return nil
	}
	if err := unix.SchedSetaffinity(0, mask); err != nil {
		return err
	}
	s.mask = *mask
	return nil
}

// submit queues a spawn request on the spawner for the task's first core.
func submit(req spawnReq, cores []int) {
	sp := spawners()
	var s *spawner
	if len(cores) > 0 {
		s = sp[cores[0]%len(sp)]
	} else {
		s = sp[pool.rr.Add(1)%uint32(len(sp))]
	}
	select {
	case s.reqs <- req:
	default:
		go func() { s.reqs <- req }()
	}
}
