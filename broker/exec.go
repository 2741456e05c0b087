package broker

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/launcher"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/pmi"
)

// execService runs this rank's parts of jobs, whoever placed them: rank 0's
// job manager hands it local parts directly and remote ranks' parts arrive
// in exec.start batches. Results go back to rank 0, batched per loop pass on
// the bulk stream, so task output never delays a control message.
type execService struct {
	st      *state
	running map[uint64]bool       // job ids with a part running here
	aborted map[uint64]int        // job id -> PMI abort code of a part running here
	orphans map[uint64]bool       // parts killed when the parent link broke: rank 0 ended their jobs (nil until then)
	upDone  []PartResult          // finished parts not yet sent up
	upLines []OutputLine          // streamed lines not yet sent up
	envs    map[envKey][]string   // environments with this broker's FLUX_URI and the PMI library, by the submitted slice
	ownEnv  [libNone + 1][]string // the same for jobs with no environment (the launcher's own), by libMode
}

func newExecService(st *state) *execService {
	return &execService{st: st, running: make(map[uint64]bool), envs: make(map[envKey][]string),
		aborted: make(map[uint64]int)}
}

// libMode says how much of the PMI library's environment a part's tasks get.
type libMode uint8

const (
	// libFull: FLUX_PMI_LIBRARY_PATH, LD_LIBRARY_PATH with our directory
	// first, and I_MPI_PMI_LIBRARY when set: parts served PMI, so that MPIs
	// linked against libpmi.so.0 or libpmi2.so.0 load ours.
	libFull libMode = iota
	// libPath: FLUX_PMI_LIBRARY_PATH only, for tasks without a PMI server
	// (a single task). OpenMPI's flux component dlopens that path, and with
	// FLUX_JOB_ID set and no PMI_FD our library makes the task a singleton,
	// so an OpenMPI program runs alone as an MPICH one does. Flux also puts
	// its directory in LD_LIBRARY_PATH here; we do not on purpose: the
	// dynamic loader then probes some twenty missing files in it before it
	// finds libc, for every exec, which cost about 5% of W1's throughput.
	// -o pmi=on gives a single task libFull.
	libPath
	// libNone: -o pmi=off, as under Flux.
	libNone
)

// taskEnv is env with FLUX_URI naming this broker, so that a task can talk
// to the instance it runs in (flux submit, a nested flux-capacitor) on its
// own host, and the PMI library's variables for mode (pmi.LibraryEnv). A
// capacitor's jobs share one environment, so the merge is done once per
// environment and mode, not per task.
func (x *execService) taskEnv(env []string, mode libMode) []string {
	uri, dir := x.st.cfg.URI, pmi.LibraryDir()
	if mode == libNone {
		dir = ""
	}
	if uri == "" && dir == "" {
		return env
	}
	if len(env) == 0 { // nil: the launcher's own environment
		if x.ownEnv[mode] == nil {
			x.ownEnv[mode] = mergeTaskEnv(os.Environ(), uri, dir, mode)
		}
		return x.ownEnv[mode]
	}
	key := envKey{&env[0], mode}
	if e, ok := x.envs[key]; ok {
		return e
	}
	if len(x.envs) >= 64 {
		clear(x.envs)
	}
	e := mergeTaskEnv(env, uri, dir, mode)
	x.envs[key] = e
	return e
}

// envKey names a merged environment: the submitted slice and the mode.
type envKey struct {
	first *string
	mode  libMode
}

func mergeTaskEnv(env []string, uri, dir string, mode libMode) []string {
	extra := pmi.LibraryEnv(env, dir)
	if mode == libPath && len(extra) > 0 {
		extra = extra[:1] // FLUX_PMI_LIBRARY_PATH comes first
	}
	if uri != "" {
		extra = append(extra, "FLUX_URI="+uri)
	}
	return mergeEnv(env, extra)
}

// start launches one part with the given environment and the job's own
// --env rules (extra, applied after it: the shared environment with
// FLUX_URI stays cached, so a job with its own variables, such as flux
// submit --cc's FLUX_JOB_CC, costs one merge). A part with PMI is launched
// with the part itself: the loop gives its tasks a PMI server and an
// OpenMPI directory of their own first (shell.go).
func (x *execService) start(p *ExecPart, env, extra []string) {
	mode := libPath
	switch {
	case p.PMIOff:
		mode = libNone
	case p.PMI:
		mode = libFull
	}
	env = x.taskEnv(env, mode)
	if len(extra) > 0 {
		env = mergeEnv(env, extra)
	}
	spec := &launcher.Spec{
		JobID: p.Job, Line: p.Line, Argv: p.Argv, Env: env, Cwd: p.Cwd,
		JobSize: p.JobSize, CoresPerTask: p.CoresPerTask, TimeLimit: p.TimeLimit,
		OutputTemplate: p.Output, ErrorTemplate: p.Error, LabelIO: p.LabelIO,
		Tasks: make([]launcher.Task, len(p.Tasks)),
	}
	noCPU, noGPU := false, false
	for _, kv := range p.Setopt { // checked by the client; the last setting wins
		switch kv {
		case "cpu-affinity=off":
			noCPU = true
		case "cpu-affinity=on", "cpu-affinity=per-task":
			noCPU = false
		case "gpu-affinity=off":
			noGPU = true
		case "gpu-affinity=on", "gpu-affinity=per-task":
			noGPU = false
		default:
			if v, ok := strings.CutPrefix(kv, "output.limit="); ok {
				spec.OutputLimit = parseSize(v)
			}
			if v, ok := strings.CutPrefix(kv, "exit-timeout="); ok {
				spec.ExitTimeout = parseFSD(v) // 0 for "none"
			}
		}
	}
	for i, t := range p.Tasks {
		lt := launcher.Task{Rank: t.Rank, LocalID: t.Local, Cores: t.Cores, GPUs: t.GPUs}
		if noCPU {
			lt.Cores = nil // -o cpu-affinity=off: the scheduler still counts the cores, the task is not bound
		}
		if noGPU {
			lt.GPUs = nil
		}
		spec.Tasks[i] = lt
	}
	switch {
	case p.Output != "":
		spec.Output = launcher.File
	case p.Stream:
		spec.Output = launcher.Stream // the loop sets OnLine
	default:
		spec.Output = launcher.Capture
	}
	e := effect{kind: fxLaunch, spec: spec, job: p.Job, cookie: p.Cookie}
	if p.PMI {
		e.part = p
	}
	x.running[p.Job] = true
	x.st.emit(e)
}

// pmiExchange hands a barrier's local puts to the reduction up the tree and
// hands back every part's. A job on this broker alone (no PMIRanks, or
// just this rank) needs no exchange.
func (st *state) pmiExchange(ex *PMIExchange, done func(map[string]string, error)) {
	if ex.Ranks.Count() == 0 || (ex.Ranks.Count() == 1 && ex.Ranks.Contains(st.rank)) {
		st.emit(effect{kind: fxPMIReply, pmiDone: done})
		return
	}
	st.pmi.contribute(ex, done, nil)
}

// abort ends a job whose task called PMI abort: this part at once, the rest
// through rank 0, and the job's status is the code.
func (st *state) abort(a *ExecAbort) {
	x := st.exec
	if !x.running[a.Job] {
		return
	}
	if _, seen := x.aborted[a.Job]; !seen {
		x.aborted[a.Job] = a.Code
	}
	x.kill([]uint64{a.Job}, syscall.SIGKILL)
	if st.jm != nil {
		st.jm.abort(a)
		return
	}
	st.call(0, topicExecAbort, a, false, nil)
}

// launched takes a finished part from the launcher. (The loop hands over
// the part's streamed lines still queued first, so a part's output always
// precedes its result, and closes its PMI server.)
func (st *state) launched(res *launcher.Result) {
	x := st.exec
	delete(x.running, res.JobID)
	st.pmi.drop(res.JobID) // its barriers in progress here, if any
	abort := x.aborted[res.JobID]
	delete(x.aborted, res.JobID)
	if x.orphans[res.JobID] {
		delete(x.orphans, res.JobID)
		return
	}
	pr := PartResult{Job: res.JobID, Rank: st.rank, Abort: abort, Outcome: Outcome{
		Status: res.Status, ExitCode: res.ExitCode, Signal: res.Signal, TimedOut: res.TimedOut, Canceled: res.Canceled,
		Start: res.Start, End: res.End, Stdout: res.Stdout, Stderr: res.Stderr, Err: res.Err,
	}}
	if st.jm != nil {
		st.jm.partDone(&pr)
		return
	}
	x.upDone = append(x.upDone, pr)
}

// line takes one streamed output line of a part running here.
func (x *execService) line(l OutputLine) {
	if x.orphans[l.ID] {
		return
	}
	if x.st.jm != nil {
		x.st.jm.output(&l)
		return
	}
	x.upLines = append(x.upLines, l)
}

// flush sends what finished this pass up to rank 0: lines before results.
func (x *execService) flush() {
	if x.st.jm != nil || x.st.parent == nil {
		return
	}
	if len(x.upLines) > 0 {
		x.st.call(0, topicExecOutput, &ExecOutput{Lines: x.upLines}, true, nil)
		x.upLines = nil
	}
	if len(x.upDone) > 0 {
		x.st.call(0, topicExecDone, &ExecDone{Results: x.upDone}, true, nil)
		x.upDone = nil
	}
}

func (x *execService) startRequest(from endpoint, m *overlay.Msg) {
	var req ExecStart
	if err := m.Decode(&req); err != nil {
		x.st.respondErr(from, m, syscall.EPROTO, "exec.start: "+err.Error())
		return
	}
	if x.st.stopping {
		x.st.respondErr(from, m, syscall.ENOSYS, ErrShutdown.Error())
		return
	}
	for i := range req.Parts {
		p := &req.Parts[i]
		var env []string
		if p.Env >= 0 && p.Env < len(req.Envs) {
			env = req.Envs[p.Env]
		}
		x.start(p, env, nil)
	}
	x.st.respond(from, m, &ExecAck{Accepted: len(req.Parts)})
}

func (x *execService) killRequest(from endpoint, m *overlay.Msg) {
	var req ExecKill
	if err := m.Decode(&req); err != nil {
		return
	}
	x.kill(req.Jobs, syscall.Signal(req.Signal))
}

func (x *execService) kill(jobs []uint64, sig syscall.Signal) {
	for _, id := range jobs {
		if x.running[id] {
			x.st.kill(id, sig)
		}
	}
}

// parseSize reads -o output.limit's value (checked by the client): bytes,
// or a number with k, M or G; 0 when it cannot be read.
func parseSize(v string) int {
	mult := 1
	switch {
	case strings.HasSuffix(v, "k"), strings.HasSuffix(v, "K"):
		mult = 1 << 10
	case strings.HasSuffix(v, "m"), strings.HasSuffix(v, "M"):
		mult = 1 << 20
	case strings.HasSuffix(v, "g"), strings.HasSuffix(v, "G"):
		mult = 1 << 30
	}
	n, err := strconv.Atoi(strings.TrimRight(v, "kKmMgG"))
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0
	}
	return n * mult
}

// parseFSD reads a Flux Standard Duration (RFC 23: a number, seconds unless
// it ends in ms, s, m, h or d), as -o exit-timeout takes it; 0 when it
// cannot be read (the client checked it).
func parseFSD(v string) time.Duration {
	unit := time.Second
	for _, u := range []struct {
		suffix string
		d      time.Duration
	}{{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			v, unit = n, u.d
			break
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > 1e9 {
		return 0
	}
	return time.Duration(f * float64(unit))
}
