package broker

import (
	"syscall"

	"github.com/fluxtaskfarm/flux/launcher"
	"github.com/fluxtaskfarm/flux/overlay"
)

// execService runs this rank's parts of jobs, whoever placed them: rank 0's
// job manager hands it local parts directly and remote ranks' parts arrive
// in exec.start batches. Results go back to rank 0, batched per loop pass on
// the bulk stream, so task output never delays a control message.
type execService struct {
	st      *state
	running map[uint64]bool      // job ids with a part running here
	upDone  []PartResult         // finished parts not yet sent up
	upLines []OutputLine         // streamed lines not yet sent up
	envs    map[*string][]string // environments with this broker's FLUX_URI, by the submitted slice
}

func newExecService(st *state) *execService {
	return &execService{st: st, running: make(map[uint64]bool), envs: make(map[*string][]string)}
}

// taskEnv is env with FLUX_URI naming this broker, so that a task can talk
// to the instance it runs in (flux submit, a nested flux-capacitor) on its
// own host. A capacitor's jobs share one environment, so the merge is done
// once per environment, not per task.
func (x *execService) taskEnv(env []string) []string {
	uri := x.st.b.cfg.URI
	if uri == "" || len(env) == 0 {
		return env
	}
	if e, ok := x.envs[&env[0]]; ok {
		return e
	}
	if len(x.envs) >= 64 {
		clear(x.envs)
	}
	e := mergeEnv(env, []string{"FLUX_URI=" + uri})
	x.envs[&env[0]] = e
	return e
}

// start launches one part with the given environment.
func (x *execService) start(p *ExecPart, env []string) {
	b := x.st.b
	spec := &launcher.Spec{
		JobID: p.Job, Line: p.Line, Argv: p.Argv, Env: x.taskEnv(env), Cwd: p.Cwd,
		JobSize: p.JobSize, CoresPerTask: p.CoresPerTask, TimeLimit: p.TimeLimit,
		OutputTemplate: p.Output, LabelIO: p.LabelIO,
		Tasks: make([]launcher.Task, len(p.Tasks)),
	}
	for i, t := range p.Tasks {
		spec.Tasks[i] = launcher.Task{Rank: t.Rank, LocalID: t.Local, Cores: t.Cores, GPUs: t.GPUs}
	}
	switch {
	case p.Output != "":
		spec.Output = launcher.File
	case p.Stream:
		spec.Output = launcher.Stream
		lines, id, cookie := b.lines, p.Job, p.Cookie
		spec.OnLine = func(task int, stderr bool, line []byte) {
			lines <- OutputLine{ID: id, Cookie: cookie, Task: task, Stderr: stderr, Data: line}
		}
	default:
		spec.Output = launcher.Capture
	}
	x.running[p.Job] = true
	b.launcher.Launch(spec, b.onDone)
}

func (b *Broker) onDone(res *launcher.Result) { b.done <- res }

// launched takes a finished part from the launcher. Streamed lines still
// queued go first, so a part's output always precedes its result.
func (st *state) launched(res *launcher.Result) {
	for drained := false; !drained; {
		select {
		case l := <-st.b.lines:
			st.exec.line(l)
		default:
			drained = true
		}
	}
	x := st.exec
	delete(x.running, res.JobID)
	pr := PartResult{
		Job: res.JobID, Rank: st.rank, Status: res.Status, ExitCode: res.ExitCode, Signal: res.Signal,
		TimedOut: res.TimedOut, Canceled: res.Canceled, Start: res.Start, End: res.End,
		Stdout: res.Stdout, Stderr: res.Stderr, Err: res.Err,
	}
	if st.jm != nil {
		st.jm.partDone(&pr)
		return
	}
	x.upDone = append(x.upDone, pr)
}

// line takes one streamed output line of a part running here.
func (x *execService) line(l OutputLine) {
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
		x.start(p, env)
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
			x.st.b.launcher.Kill(id, sig)
		}
	}
}
