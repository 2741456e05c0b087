package launcher

import (
	"os"
	"time"
)

// Task is one task process of a job, as placed on this node by the scheduler.
type Task struct {
	Rank    int   // global task rank within the job (FLUX_TASK_RANK)
	LocalID int   // task index on this node (FLUX_TASK_LOCAL_ID)
	Cores   []int // CPU ids this task's processes are bound to (CPU affinity); empty = no binding
	GPUs    []int // GPU ids -> CUDA_VISIBLE_DEVICES="0,1" (only set when len>0)
	// Env is added to this task's environment (PMI_FD, PMI_RANK, PMI_SIZE);
	// the names must not be in the base environment (PMI_* never are).
	Env []string
	// Files are inherited by the task as fds 3, 4, ...; the launcher closes
	// its copies once the task has started (or failed to).
	Files []*os.File
}

// OutputMode says where a job's stdout and stderr go.
type OutputMode int

const (
	// Capture collects stdout and stderr per task and returns them in Result,
	// each task's output contiguous (grouped, never interleaved).
	Capture OutputMode = iota
	// File writes stdout+stderr to the file named by Spec.OutputTemplate.
	File
	// Stream delivers each complete line to Spec.OnLine as it is produced.
	Stream
)

// DefaultOutputTemplate is used in File mode when Spec.OutputTemplate is
// empty; it is Flux's default output file name.
const DefaultOutputTemplate = "flux-{{id}}.out"

// Spec describes one job to start on this node. The launcher keeps references
// to the slices in it, so the caller must not modify a Spec until its done
// callback has run.
type Spec struct {
	JobID uint64
	Line  int // input line number, for {{line}} in templates; 0 if none
	// Argv[0] without '/' is looked up in PATH (the PATH of Env if Env sets
	// it, else the launcher's); a shell line arrives as ["/bin/sh","-c",cmd].
	Argv []string
	// Env is the complete base environment ("K=V"); nil = the launcher's own
	// environment as it was when New was called.
	Env          []string
	Cwd          string        // "" = inherit
	Tasks        []Task        // the tasks to start on this node (>=1)
	JobSize      int           // total tasks in the job (FLUX_JOB_SIZE); <= 0 means len(Tasks)
	CoresPerTask int           // OMP_NUM_THREADS; if <= 0, the task's number of cores (unset when unbound)
	TimeLimit    time.Duration // 0 = none; at the limit: SIGTERM to every task's process group, SIGKILL after Options.KillGrace
	Output       OutputMode
	// OutputTemplate is the File mode path: {{id}} = JobID, {{line}} = Line,
	// {{task.id}} = task Rank; other {{...}} are left as written. Relative
	// to Cwd. Tasks writing to the same expanded path append (O_APPEND) so
	// nothing is clobbered. Empty means DefaultOutputTemplate.
	OutputTemplate string
	// OutputLimit overrides Options.OutputLimit for this job (-o
	// output.limit); 0 keeps it.
	OutputLimit int
	// ExitTimeout (-o exit-timeout): once one task of the job on this node
	// has exited, the others get this long, then SIGTERM (and SIGKILL after
	// the kill grace); the Result's Err says so, its Status stays the
	// tasks'. 0: no limit.
	ExitTimeout time.Duration
	// ErrorTemplate, in File mode, is stderr's own file (same expansion);
	// "" sends stderr to the output file.
	ErrorTemplate string
	// LabelIO prefixes every output line with "<task rank>: " (Capture and
	// Stream). In Capture mode a labelled task's final unterminated line gets
	// a '\n' so the next task's label starts a line.
	LabelIO bool
	// OnLine receives output in Stream mode. It is called from launcher
	// goroutines, never concurrently for the same job, and must not block
	// long. line is a fresh slice the callee may keep; it includes its '\n'
	// (a final unterminated line gets one added). A line longer than 64 KiB
	// arrives in pieces: every piece but the last has exactly 64 KiB of the
	// line and no '\n', and only the first carries the label, so the
	// concatenation of everything delivered is exactly the labelled output.
	OnLine func(task int, stderr bool, line []byte)
}

// Result is how a job ended on this node.
type Result struct {
	JobID    uint64
	Status   int       // the job's exit status: max over tasks of (exit code, or 128+signal); see Err for launch failures
	ExitCode int       // of the task that determined Status (0 if killed by a signal)
	Signal   int       // signal number that killed it, 0 if none
	TimedOut bool      // the time limit was reached while a task was running: Signal 15 (9 if SIGKILL was needed), Status 128+Signal
	Canceled bool      // ended because Kill (with a terminating signal) or Shutdown was called
	Start    time.Time // when the first task was started (zero if none was)
	End      time.Time // when the last task was reaped
	Stdout   []byte    // Capture: tasks' stdout concatenated in task order (each task's output contiguous)
	Stderr   []byte
	// Err is a launch problem the user must see; "" otherwise. When set,
	// Status is the launch failure's status (with ExitCode equal to it),
	// whatever the other tasks did:
	//   127 "foo: command not found", "./x: no such file or directory"
	//   126 "./x: permission denied", "./x: exec format error ...", other exec errors
	//   1   "cwd /nope: no such file or directory" (like a shell whose cd failed),
	//       output file errors, fork failures, bad core ids, empty Argv or Tasks,
	//       duplicate job id, launcher shut down
	Err  string
	Pids []int // pids of the started tasks, in task order (for tests)
}

// Options configure a Launcher. Zero values mean the defaults.
type Options struct {
	KillGrace time.Duration // time between SIGTERM and SIGKILL; default 5s
	// NoBind leaves tasks unbound (an instance whose cores are simulated
	// has ids the machine does not have).
	NoBind bool
	// OutputLimit is per task per stream in Capture mode; default 4 MiB,
	// negative = unlimited. Beyond it the rest is discarded (the pipe is
	// still read so the task never blocks) and one line
	// "[flux: output truncated at 4 MiB; use --output FILE or --line-buffer]\n" is
	// appended.
	OutputLimit int
	// Simulate, when > 0, is simulated execution (Flux's
	// -Sexec.test.run_duration): Launch forks nothing, every job "runs" for
	// Simulate (all its tasks; less if Spec.TimeLimit is shorter, which then
	// ends it as a time limit does) and ends with Status 0, Start and End
	// set, no output and no pids. Kill with a terminating signal and
	// Shutdown end it at once with Status 128+signal and Canceled. See
	// simulate.go.
	Simulate time.Duration
}

const (
	defaultKillGrace   = 5 * time.Second
	defaultOutputLimit = 4 << 20
	// maxLine bounds a Stream mode line; longer lines arrive in pieces.
	maxLine = 64 << 10
	// drainTimeout bounds how long output pipes are read after a task's
	// process group was killed: only a process that escaped the group
	// (setsid) can still hold them open, and it must not keep the job alive.
	drainTimeout = time.Second
)
