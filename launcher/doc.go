// Package launcher starts a job's task processes on this node and reports how
// they ended.
//
// It owns everything between "these tasks go on these cores" and "here is the
// exit status": PATH lookup, the task environment (FLUX_* variables), CPU
// affinity, stdio (captured, written to a file, or streamed line by line),
// time limits, signals, reaping, and making sure no process outlives its task.
// It does not decide where tasks go; the caller passes core and GPU ids.
//
// The spawn is the hot path of the whole tool, so the design avoids any wrapper
// process: a small pool of spawner goroutines, each locked to its own OS thread
// for the life of the process, sets that thread's CPU affinity to the task's
// cores and forks from it, so the child inherits the mask. Because the threads
// never exit, Pdeathsig (which fires when the forking thread dies) only fires
// when the launcher process itself dies.
//
// Every task runs in its own process group. When a task's main process exits,
// the group is SIGKILLed while the main process is still an unreaped zombie (so
// its pid, and therefore the group id, cannot have been reused), then reaped,
// then its output pipes are drained. Tasks read stdin from /dev/null: the
// launcher's own stdin is often the stream of command lines.
package launcher
