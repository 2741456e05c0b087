package broker

import (
	"context"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/launcher"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/sched"
)

// Job states as flux jobs shows them.
const (
	statePending  = "pending"
	stateRunning  = "running"
	stateFinished = "finished"
)

type job struct {
	id      uint64
	spec    Jobspec
	baseEnv []string // the submit batch's environment, shared by its jobs
	owner   *client  // gets the result when watch is set
	watch   bool
	state   string
	submit  time.Time
	start   time.Time
	alloc   sched.Start
	result  *JobResult // set once ended
	killed  bool       // canceled while running
}

// state is everything the loop owns. Nothing else touches it.
type state struct {
	b        *Broker
	sched    *sched.Scheduler
	jobs     map[uint64]*job // pending and running
	nextID   uint64
	history  *history
	waiters  map[uint64][]waiter // attach requests waiting for a job to end
	starts   []sched.Start       // reused by every scheduling pass
	draining bool
}

type waiter struct {
	c *client
	m *overlay.Msg
}

func newState(b *Broker, s *sched.Scheduler) *state {
	return &state{
		b:       b,
		sched:   s,
		jobs:    make(map[uint64]*job),
		history: newHistory(b.cfg.History, b.cfg.HistoryBytes),
		waiters: make(map[uint64][]waiter),
	}
}

func (st *state) handle(r request) {
	if r.gone {
		st.clientGone(r.c)
		return
	}
	m := r.m
	if m.Type != overlay.Request {
		return
	}
	if st.draining && m.Topic == TopicSubmit {
		r.c.reply(m.RespondError(syscall.ENOSYS, ErrShutdown.Error()))
		return
	}
	switch m.Topic {
	case TopicSubmit:
		st.submit(r.c, m)
	case TopicResults:
		r.c.openResults(m)
	case TopicList:
		st.list(r.c, m)
	case TopicCancel:
		st.cancel(r.c, m)
	case TopicAttach:
		st.attach(r.c, m)
	case TopicResources:
		st.resources(r.c, m)
	default:
		if m.Flags&overlay.FlagNoResponse == 0 {
			r.c.reply(m.RespondError(syscall.ENOSYS, "no service "+m.Topic+" in this instance"))
		}
	}
}

func (st *state) submit(c *client, m *overlay.Msg) {
	var req SubmitRequest
	if err := m.Decode(&req); err != nil {
		c.reply(m.RespondError(syscall.EPROTO, "job.submit: "+err.Error()))
		return
	}
	reply := SubmitReply{IDs: make([]uint64, len(req.Jobs)), Errs: make([]string, len(req.Jobs))}
	now := time.Now()
	for i := range req.Jobs {
		spec := &req.Jobs[i]
		if len(spec.Argv) == 0 {
			reply.Errs[i] = "no command"
			continue
		}
		spec.Req = spec.Req.Normalize()
		if err := spec.Req.Validate(); err != nil {
			reply.Errs[i] = err.Error()
			continue
		}
		id := st.nextID + 1
		err := st.sched.Submit(sched.Job{ID: sched.JobID(id), Req: spec.Req, Estimate: spec.TimeLimit})
		if err != nil {
			reply.Errs[i] = err.Error()
			continue
		}
		st.nextID = id
		st.jobs[id] = &job{
			id: id, spec: *spec, baseEnv: req.Env, owner: c, watch: req.Watch,
			state: statePending, submit: now,
		}
		reply.IDs[i] = id
	}
	resp, err := m.Respond(&reply)
	if err != nil {
		resp = m.RespondError(syscall.EPROTO, err.Error())
	}
	c.reply(resp)
}

// schedule asks the scheduler what starts now and hands it to the launcher.
func (st *state) schedule() {
	st.starts = st.sched.Schedule(time.Now(), st.starts[:0])
	for _, s := range st.starts {
		j := st.jobs[uint64(s.ID)]
		if j == nil { // cannot happen: the scheduler only knows our jobs
			panic("broker: scheduler started an unknown job")
		}
		j.state = stateRunning
		j.start = time.Now()
		j.alloc = s
		st.b.launcher.Launch(st.launchSpec(j), st.b.onDone)
	}
}

func (b *Broker) onDone(res *launcher.Result) { b.done <- res }

func (st *state) finished(res *launcher.Result) {
	j := st.jobs[res.JobID]
	if j == nil {
		return
	}
	if err := st.sched.Finish(sched.JobID(j.id)); err != nil {
		st.b.cfg.Logf("broker: job %d: %v", j.id, err)
	}
	r := &JobResult{
		ID: j.id, Cookie: j.spec.Cookie, Host: st.b.host,
		Status: res.Status, ExitCode: res.ExitCode, Signal: res.Signal,
		TimedOut: res.TimedOut, Canceled: res.Canceled || j.killed,
		Start: res.Start, End: res.End, Stdout: res.Stdout, Stderr: res.Stderr, Err: res.Err,
	}
	if r.Start.IsZero() {
		r.Start = j.start
	}
	st.end(j, r)
}

// end records a job's final result, delivers it and moves it to history.
func (st *state) end(j *job, r *JobResult) {
	j.result = r
	j.state = stateFinished
	delete(st.jobs, j.id)
	if j.watch {
		j.owner.deliver(r)
	}
	for _, w := range st.waiters[j.id] {
		st.replyResult(w, r)
	}
	delete(st.waiters, j.id)
	st.history.add(j)
}

func (st *state) replyResult(w waiter, r *JobResult) {
	resp, err := w.m.Respond(r)
	if err != nil {
		resp = w.m.RespondError(syscall.EPROTO, err.Error())
	}
	w.c.reply(resp)
}

func (st *state) cancel(c *client, m *overlay.Msg) {
	var req CancelRequest
	if err := m.Decode(&req); err != nil {
		c.reply(m.RespondError(syscall.EPROTO, "job.cancel: "+err.Error()))
		return
	}
	var reply CancelReply
	ids := req.IDs
	if req.All {
		ids = ids[:0]
		for id := range st.jobs {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		if st.cancelJob(id) {
			reply.Canceled++
		} else {
			reply.Errs = append(reply.Errs, errorf("job %d is not pending or running", id).Error())
		}
	}
	resp, _ := m.Respond(&reply)
	c.reply(resp)
}

// cancelJob removes a pending job (its result says canceled) or signals a
// running one (SIGTERM now, SIGKILL after the grace period).
func (st *state) cancelJob(id uint64) bool {
	j := st.jobs[id]
	if j == nil {
		return false
	}
	switch j.state {
	case statePending:
		st.sched.Cancel(sched.JobID(id))
		now := time.Now()
		st.end(j, &JobResult{ID: id, Cookie: j.spec.Cookie, Host: st.b.host, Status: 128 + int(syscall.SIGTERM),
			Signal: int(syscall.SIGTERM), Canceled: true, Start: now, End: now})
	case stateRunning:
		if !j.killed {
			j.killed = true
			st.b.launcher.Kill(id, syscall.SIGTERM)
			grace, kills := st.b.cfg.KillGrace, st.b.kills
			time.AfterFunc(grace, func() {
				select {
				case kills <- id:
				default: // the loop is flooded; Shutdown's own escalation still applies
				}
			})
		}
	}
	return true
}

func (st *state) escalate(id uint64) {
	if j := st.jobs[id]; j != nil && j.state == stateRunning {
		st.b.launcher.Kill(id, syscall.SIGKILL)
	}
}

func (st *state) attach(c *client, m *overlay.Msg) {
	var req AttachRequest
	if err := m.Decode(&req); err != nil {
		c.reply(m.RespondError(syscall.EPROTO, "job.attach: "+err.Error()))
		return
	}
	if _, ok := st.jobs[req.ID]; ok {
		st.waiters[req.ID] = append(st.waiters[req.ID], waiter{c, m})
		return
	}
	if j := st.history.find(req.ID); j != nil {
		st.replyResult(waiter{c, m}, j.result)
		return
	}
	c.reply(m.RespondError(syscall.ENOENT, errorf("job %d is unknown (or left the history of the last %d jobs)", req.ID, st.b.cfg.History).Error()))
}

func (st *state) resources(c *client, m *overlay.Msg) {
	p := st.sched
	reply := ResourceReply{All: p.Resources(), Free: freeSet(p), Pending: p.Pending(), Running: p.Running()}
	resp, err := m.Respond(&reply)
	if err != nil {
		resp = m.RespondError(syscall.EPROTO, err.Error())
	}
	c.reply(resp)
}

// clientGone cancels the jobs a vanished client was watching: nobody would
// record their results, and a later --resume will run those lines again, so
// running them now would run them twice.
func (st *state) clientGone(c *client) {
	for id, j := range st.jobs {
		if j.owner == c && j.watch {
			j.watch = false
			st.cancelJob(id)
		}
	}
	for id, ws := range st.waiters {
		kept := ws[:0]
		for _, w := range ws {
			if w.c != c {
				kept = append(kept, w)
			}
		}
		if len(kept) == 0 {
			delete(st.waiters, id)
		} else {
			st.waiters[id] = kept
		}
	}
	c.close()
	st.b.forget(c)
}

func (st *state) beginShutdown() {
	st.draining = true
	for id, j := range st.jobs {
		if j.state == statePending {
			st.cancelJob(id)
		}
	}
	if st.b.launcher.Running() > 0 {
		l, grace := st.b.launcher, st.b.cfg.KillGrace
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), grace+time.Second)
			defer cancel()
			l.Shutdown(ctx)
		}()
	}
}

func (st *state) idle() bool { return len(st.jobs) == 0 }

func (st *state) flushAll() {
	st.b.clientsMu.Lock()
	defer st.b.clientsMu.Unlock()
	for c := range st.b.clients {
		c.flush()
	}
}
