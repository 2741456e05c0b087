package broker

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"syscall"
	"time"

	"github.com/fluxtaskfarm/flux/internal/jobid"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/pmi"
	"github.com/fluxtaskfarm/flux/resources"
	"github.com/fluxtaskfarm/flux/sched"
)

// jobManager lives at rank 0: the job table, the scheduler over every rank's
// resources, the watchers that get results, and the history.
type jobManager struct {
	st      *state
	sched   *sched.Scheduler // nil until every rank is online
	online  map[int]resources.Rank
	down    map[int]bool
	jobs    map[uint64]*job    // pending and running
	ids     *jobid.Generator   // FLUIDs (RFC 19)
	drained map[int]drainState // flux resource drain, by rank
	wait    *waitableState     // flux job wait (waitable.go); nil until a waitable job is seen
	history *history
	waiters map[uint64][]waiter // attach requests waiting for a job to end
	// attachStreams are flux job attach's streams, by job: they get its
	// output as it comes, then its result (attachstream.go).
	attachStreams map[uint64][]waiter

	watchers map[uint64]*watcher
	remote   map[remoteKey]*watcher // watchers behind other ranks, by (rank, tag)
	nextW    uint64
	dirty    map[*watcher]bool // remote watchers with results to send this pass

	starts      []sched.Start // reused by every scheduling pass
	outgoing    map[int]*outStart
	outRanks    []int // flush's buffer: outgoing's ranks, sorted
	transitions []JobTransition
	counts      JobStats // inactive jobs by outcome, and retries, since the start (flux jobs --stats)

	dependents map[uint64][]uint64 // target job -> jobs waiting on it (depjobs.go)
	depWaiting int                 // jobs waiting for dependencies, at most maxDepWaiting
	q          queueState          // flux queue's switches and waits (queue.go)
}

type remoteKey struct {
	rank int32
	tag  uint32
}

// watcher is one job.results stream: a local client's, one proxied from
// another rank, or one in this process (LocalJobs).
type watcher struct {
	id      uint64
	req     *overlay.Msg       // the job.results request (nil for LocalJobs)
	c       *client            // local client, or nil
	local   func(*ResultBatch) // LocalJobs: takes each pass's batch, never blocks
	from    endpoint
	rank    int32 // remote: the rank the stream comes from
	results []JobResult
	lines   []OutputLine
	started []uint64  // remote: cookies of jobs that started, to send
	starts  bool      // the stream asked to hear when jobs start
	keep    bool      // its jobs outlive it (flux submit --wait), and keep their output for attach
	env     *envBatch // the last environment submitted with this stream (SameEnv)
	gone    bool
}

// envBatch is the environment a submit batch shares.
type envBatch struct{ env []string }

type job struct {
	id      uint64
	spec    Jobspec
	env     *envBatch
	w       *watcher // gets the result, or nil
	state   string
	submit  time.Time
	start   time.Time
	alloc   resources.Alloc
	parts   map[int]*part    // by rank, while running
	left    int              // parts not yet done
	result  *JobResult       // set once ended
	killed  bool             // canceled while running
	lostWhy string           // a rank it ran on was lost
	abort   *ExecAbort       // the first PMI abort of one of its tasks
	pmiSet  *resources.IDSet // the ranks of its slices, made once for its PMI parts (shared, read-only)
	out     *jobOutput       // streamed output of a job nobody watches, for attach
	note    string           // the note of the exception that canceled it (flux cancel -m)
	urgency int              // Flux's 0 (held) to 31
	deps    []Dependency     // unmet dependencies: the job waits outside the scheduler's queue
}

// pmiRanks are the brokers holding parts of j, for its PMI key exchange.
func (j *job) pmiRanks() *resources.IDSet {
	if j.pmiSet == nil {
		ids := make([]int, len(j.alloc.Slices))
		for i, s := range j.alloc.Slices {
			ids[i] = s.Rank
		}
		set := resources.NewIDSet(ids...)
		j.pmiSet = &set
	}
	return j.pmiSet
}

type part struct {
	acked bool // the rank has taken it
	done  bool
	res   PartResult
}

// outStart collects one rank's parts of a scheduling pass.
type outStart struct {
	msg    ExecStart
	envIdx map[*envBatch]int
	jobs   []uint64
}

type waiter struct {
	from endpoint
	m    *overlay.Msg
}

func newJobManager(st *state) (*jobManager, error) {
	cfg := st.cfg
	jm := &jobManager{
		st:       st,
		online:   make(map[int]resources.Rank),
		down:     make(map[int]bool),
		jobs:     make(map[uint64]*job),
		history:  newHistory(cfg.History, cfg.HistoryBytes),
		waiters:  make(map[uint64][]waiter),
		watchers: make(map[uint64]*watcher),
		remote:   make(map[remoteKey]*watcher),
		dirty:    make(map[*watcher]bool),
		outgoing: make(map[int]*outStart),

		dependents: make(map[uint64][]uint64),

		attachStreams: make(map[uint64][]waiter),
		// A random generator id keeps two instances' ids apart; the
		// timestamp keeps one instance's apart across restarts.
		ids: jobid.NewGenerator(uint32(rand.Uint64()), nil),
	}
	if st.size == 1 {
		s, err := sched.New(cfg.Resources, cfg.Sched)
		if err != nil {
			return nil, err
		}
		jm.sched = s
		st.ready()
		return jm, nil
	}
	// Validate the policy now, so a bad one fails at start, not when the
	// last rank comes online.
	if _, err := sched.New(cfg.Resources, cfg.Sched); err != nil {
		return nil, err
	}
	jm.online[0] = cfg.Resources.Ranks[0]
	return jm, nil
}

// hello records a rank's resources; with every rank online the scheduler
// starts over all of them.
func (jm *jobManager) hello(from endpoint, m *overlay.Msg) {
	var h HelloRequest
	if err := m.Decode(&h); err != nil || h.Rank <= 0 || h.Rank >= jm.st.size {
		jm.st.cfg.Logf("broker: ignoring a bad hello from rank %d: %v", m.Src, err)
		return
	}
	if jm.rejoin(from, m, &h) {
		return
	}
	r := h.Resources
	r.Rank = h.Rank
	jm.online[h.Rank] = r
	if jm.sched != nil || len(jm.online) < jm.st.size {
		return
	}
	set := resources.Set{}
	for rank := 0; rank < jm.st.size; rank++ {
		set.Ranks = append(set.Ranks, jm.online[rank])
	}
	s, err := sched.New(set, jm.st.cfg.Sched)
	if err != nil {
		jm.st.fail(fmt.Errorf("starting the scheduler: %w", err))
		return
	}
	jm.sched = s
	jm.st.ready()
}

func (jm *jobManager) notReady(from endpoint, m *overlay.Msg) bool {
	if jm.sched != nil {
		return false
	}
	jm.st.respondErr(from, m, syscall.EAGAIN, fmt.Sprintf("the instance is starting: %d of %d brokers online; retry in a moment",
		len(jm.online), jm.st.size))
	return true
}

func (jm *jobManager) openResults(from endpoint, m *overlay.Msg) {
	jm.nextW++
	w := &watcher{id: jm.nextW, req: m, from: from}
	var wr WatchRequest
	if len(m.Payload) > 0 && m.Decode(&wr) == nil {
		w.starts, w.keep = wr.Started, wr.Keep
	}
	if c, ok := from.(*client); ok {
		w.c = c
	} else {
		w.rank = m.Src
		jm.remote[remoteKey{m.Src, m.Tag}] = w
	}
	jm.watchers[w.id] = w
	first, _ := m.Respond(&ResultBatch{Watcher: w.id})
	first.Flags |= overlay.FlagMore
	jm.st.sendResponse(from, first)
}

func (jm *jobManager) submit(from endpoint, m *overlay.Msg) {
	if jm.notReady(from, m) {
		return
	}
	if jm.st.stopping {
		jm.st.respondErr(from, m, syscall.ENOSYS, ErrShutdown.Error())
		return
	}
	var req SubmitRequest
	if err := m.Decode(&req); err != nil {
		jm.st.respondErr(from, m, syscall.EPROTO, "job.submit: "+err.Error())
		return
	}
	var w *watcher
	if req.Watcher != 0 {
		if w = jm.watchers[req.Watcher]; w == nil || w.local != nil {
			jm.st.respondErr(from, m, syscall.ENOENT, fmt.Sprintf("job.submit: no results stream %d; open job.results first", req.Watcher))
			return
		}
	}
	reply, err := jm.submitJobs(&req, w)
	if err != nil {
		jm.st.respondErr(from, m, syscall.EINVAL, "job.submit: "+err.Error())
		return
	}
	jm.st.respond(from, m, &reply)
}

// submitJobs queues a batch whose results go to w (or nowhere): what
// job.submit and LocalJobs.Submit share.
func (jm *jobManager) submitJobs(req *SubmitRequest, w *watcher) (SubmitReply, error) {
	reply := SubmitReply{IDs: make([]uint64, len(req.Jobs)), Errs: make([]string, len(req.Jobs))}
	now := jm.st.now
	env := &envBatch{env: req.Env}
	switch {
	case req.SameEnv && w != nil && w.env != nil:
		env = w.env // a stream of batches sends its environment once
	case req.SameEnv:
		return reply, errors.New("same_env without an earlier environment on this results stream")
	case w != nil:
		w.env = env
	}
	for i := range req.Jobs {
		spec := &req.Jobs[i]
		if len(spec.Argv) == 0 {
			reply.Errs[i] = "no command"
			continue
		}
		if jm.q.disabled {
			reply.Errs[i] = "job submission is disabled"
			if jm.q.disableReason != "" {
				reply.Errs[i] += ": " + jm.q.disableReason
			}
			continue
		}
		spec.Req = spec.Req.Normalize()
		if err := spec.Req.Validate(); err != nil {
			reply.Errs[i] = err.Error()
			continue
		}
		id := jm.ids.Next()
		j := &job{id: id, spec: *spec, env: env, w: w, state: statePending, submit: now, urgency: sched.UrgencyDefault}
		if u := spec.Urgency; u != nil {
			if *u < 0 || *u > sched.UrgencyMax {
				reply.Errs[i] = fmt.Sprintf("--urgency %d: %v", *u, sched.ErrUrgency)
				continue
			}
			j.urgency = *u
		}
		if len(spec.Dependencies) > 0 {
			var err error
			if j.deps, err = jm.resolveDeps(spec.Dependencies, id); err == nil && len(j.deps) > 0 {
				err = jm.sched.Check(spec.Req) // refuse now what could never run
				if err == nil && jm.depWaiting >= maxDepWaiting {
					err = fmt.Errorf("%d jobs already wait for dependencies; retry after some are released", jm.depWaiting)
				}
			}
			if err != nil {
				reply.Errs[i] = err.Error()
				continue
			}
		}
		if len(j.deps) == 0 {
			if err := jm.sched.Submit(jm.schedJob(j)); err != nil {
				reply.Errs[i] = err.Error()
				continue
			}
		}
		if spec.Retry > 0 {
			jm.counts.Retried++
		}
		jm.jobs[id] = j
		if spec.Flags != "" && isWaitable(spec) {
			jm.waitableSubmitted()
		}
		jm.transition(JobTransition{ID: id, State: "submitted"})
		reply.IDs[i] = id
		if len(j.deps) > 0 {
			jm.waitFor(j)
		}
	}
	return reply, nil
}

// transition records a job state change for this pass's job.state event,
// when anyone can receive it.
func (jm *jobManager) transition(t JobTransition) {
	if jm.st.ev.audience() {
		jm.transitions = append(jm.transitions, t)
	}
}

// schedule asks the scheduler what starts now and hands each part to its
// rank: local parts at once, remote ones collected per rank for endOfPass.
func (jm *jobManager) schedule() {
	if jm.sched == nil {
		return
	}
	now := jm.st.now
	jm.starts = jm.sched.Schedule(now, jm.starts[:0])
	for _, s := range jm.starts {
		j := jm.jobs[uint64(s.ID)]
		if j == nil { // cannot happen: the scheduler only knows our jobs
			panic("broker: scheduler started an unknown job")
		}
		j.state, j.start, j.alloc = stateRunning, now, s.Alloc
		j.parts = make(map[int]*part, len(s.Alloc.Slices))
		j.left = len(s.Alloc.Slices)
		if len(jm.dependents) > 0 {
			jm.targetChanged(j.id, false) // after:ID is met
		}
		if jm.st.ev.audience() {
			ranks, _ := allocText(j.alloc)
			jm.transition(JobTransition{ID: j.id, State: "running", Ranks: ranks})
		}
		if w := j.w; w != nil && w.starts && !w.gone {
			if w.c != nil {
				jm.st.emit(effect{kind: fxStarted, client: w.c, req: w.req, cookie: j.spec.Cookie})
			} else {
				w.started = append(w.started, j.spec.Cookie)
				jm.dirty[w] = true
			}
		}
		task := 0
		for si, sl := range s.Alloc.Slices {
			p := jm.partOf(j, si, task)
			task += sl.Tasks
			if sl.Rank == jm.st.rank {
				j.parts[sl.Rank] = &part{acked: true}
				jm.st.exec.start(p, j.env.env, j.spec.Env)
				continue
			}
			j.parts[sl.Rank] = &part{}
			o := jm.outgoing[sl.Rank]
			if o == nil {
				o = &outStart{envIdx: make(map[*envBatch]int)}
				jm.outgoing[sl.Rank] = o
			}
			// Environments travel once per message; a job's own --env
			// entries make it a separate one.
			key := j.env
			if len(j.spec.Env) > 0 {
				key = &envBatch{env: mergeEnv(j.env.env, j.spec.Env)}
			}
			idx, ok := o.envIdx[key]
			if !ok {
				idx = len(o.msg.Envs)
				o.envIdx[key] = idx
				o.msg.Envs = append(o.msg.Envs, key.env)
			}
			p.Env = idx
			o.msg.Parts = append(o.msg.Parts, *p)
			o.jobs = append(o.jobs, j.id)
		}
	}
}

// partOf builds the part of job j that slice si holds; firstTask is the
// global rank of its first task.
func (jm *jobManager) partOf(j *job, si, firstTask int) *ExecPart {
	a := j.alloc
	sl := a.Slices[si]
	p := &ExecPart{
		Job: j.id, Argv: j.spec.Argv, Cwd: j.spec.Cwd, TimeLimit: j.spec.TimeLimit,
		Output: j.spec.Output, LabelIO: j.spec.LabelIO, Stream: j.spec.Stream,
		Line: j.spec.Line, Cookie: j.spec.Cookie, JobSize: a.Tasks(), CoresPerTask: a.CoresPerTask,
		Tasks:  make([]ExecTask, sl.Tasks),
		PMI:    j.spec.PMI == "on" || (j.spec.PMI != "off" && a.Tasks() > 1),
		PMIOff: j.spec.PMI == "off",
		Error:  j.spec.Error, Setopt: j.spec.Setopt,
	}
	if p.PMI {
		perNode := make([]int, len(a.Slices))
		for i, s := range a.Slices {
			perNode[i] = s.Tasks
		}
		p.Mapping = pmi.ProcessMapping(perNode)
		p.PMIRanks = j.pmiRanks()
	}
	for local := 0; local < sl.Tasks; local++ {
		p.Tasks[local] = ExecTask{Rank: firstTask + local, Local: local,
			Cores: a.TaskCores(si, local).IDs(), GPUs: a.TaskGPUs(si, local).IDs()}
	}
	return p
}

// flush sends this pass's parts, one exec.start per rank.
func (jm *jobManager) flush() {
	ranks := jm.outRanks[:0]
	for rank := range jm.outgoing {
		ranks = append(ranks, rank)
	}
	slices.Sort(ranks) // the same events give the same effects, in order
	jm.outRanks = ranks
	for _, rank := range ranks {
		o := jm.outgoing[rank]
		delete(jm.outgoing, rank)
		jobs := o.jobs
		jm.st.call(rank, topicExecStart, &o.msg, false, func(m *overlay.Msg, err error) {
			if err == nil && m.Errnum != 0 {
				err = fmt.Errorf("%s", m.Errstr)
			}
			jm.started(rank, jobs, err)
		})
	}
	for w := range jm.dirty {
		delete(jm.dirty, w)
		if w.gone || (len(w.results) == 0 && len(w.lines) == 0 && len(w.started) == 0) {
			continue
		}
		if w.local != nil {
			jm.st.emit(effect{kind: fxLocal, local: w.local, batch: &ResultBatch{Output: w.lines, Results: w.results, Started: w.started}})
			w.lines, w.results, w.started = nil, nil, nil
			continue
		}
		resp, err := w.req.Respond(&ResultBatch{Output: w.lines, Results: w.results, Started: w.started})
		w.lines, w.results, w.started = nil, nil, nil
		if err != nil {
			jm.st.cfg.Logf("broker: encoding results: %v", err)
			continue
		}
		resp.Flags |= overlay.FlagMore
		jm.st.sendResponse(w.from, resp)
	}
	if len(jm.transitions) > 0 {
		jm.st.ev.publish(EventJobState, &JobStateEvent{Transitions: jm.transitions})
		jm.transitions = nil
	}
	jm.checkQueueWaiters()
}

// started records that rank took its parts, or could not: those jobs go
// back to the queue when nothing of them runs anywhere, else they fail.
func (jm *jobManager) started(rank int, jobs []uint64, err error) {
	for _, id := range jobs {
		j := jm.jobs[id]
		if j == nil || j.parts == nil {
			continue
		}
		p := j.parts[rank]
		if p == nil || p.done {
			continue
		}
		if err == nil {
			p.acked = true
			continue
		}
		jm.partLost(j, rank, fmt.Sprintf("rank %d did not take the job: %v", rank, err))
	}
}

func (jm *jobManager) execDone(from endpoint, m *overlay.Msg) {
	var d ExecDone
	if err := m.Decode(&d); err != nil {
		jm.st.cfg.Logf("broker: bad exec.done from rank %d: %v", m.Src, err)
		return
	}
	for i := range d.Results {
		jm.partDone(&d.Results[i])
	}
}

func (jm *jobManager) execOutput(from endpoint, m *overlay.Msg) {
	var o ExecOutput
	if err := m.Decode(&o); err != nil {
		return
	}
	for i := range o.Lines {
		jm.output(&o.Lines[i])
	}
}

// output passes a streamed line to the job's watcher.
func (jm *jobManager) output(l *OutputLine) {
	j := jm.jobs[l.ID]
	if j == nil {
		return
	}
	if j.w == nil || j.w.gone {
		jm.keepOutput(j, l) // for flux job attach
		return
	}
	if j.w.c != nil {
		line := *l
		jm.st.emit(effect{kind: fxOutput, client: j.w.c, req: j.w.req, line: &line})
		return
	}
	j.w.lines = append(j.w.lines, *l)
	jm.dirty[j.w] = true
}

// partDone records one rank's part; the job ends with its last part.
func (jm *jobManager) partDone(pr *PartResult) {
	j := jm.jobs[pr.Job]
	if j == nil || j.parts == nil {
		return
	}
	p := j.parts[pr.Rank]
	if p == nil || p.done {
		return
	}
	p.done, p.acked, p.res = true, true, *pr
	j.left--
	if j.left == 0 {
		jm.complete(j)
	}
}

// complete aggregates a job's parts (in rank order): its status is the
// largest of its tasks', its output the tasks' output in rank order.
func (jm *jobManager) complete(j *job) {
	if err := jm.sched.Finish(sched.JobID(j.id)); err != nil {
		jm.st.cfg.Logf("broker: job %d: %v", j.id, err)
	}
	ranks := make([]int, 0, len(j.parts))
	for r := range j.parts {
		ranks = append(ranks, r)
	}
	sort.Ints(ranks)
	r := &JobResult{ID: j.id, Cookie: j.spec.Cookie, Host: jm.hostOf(ranks), Outcome: Outcome{Canceled: j.killed, Err: j.lostWhy}}
	single := len(ranks) == 1 && j.lostWhy == ""
	if single {
		// One part (the usual capacitor line): its outcome is the job's,
		// output included, without copying.
		pr := &j.parts[ranks[0]].res
		r.Outcome, r.Canceled = pr.Outcome, pr.Canceled || j.killed
	}
	for i, rank := range ranks {
		if single {
			break
		}
		pr := &j.parts[rank].res
		if i == 0 || pr.Status > r.Status {
			r.Status, r.ExitCode, r.Signal = pr.Status, pr.ExitCode, pr.Signal
		}
		if i == 0 || (!pr.Start.IsZero() && pr.Start.Before(r.Start)) {
			r.Start = pr.Start
		}
		if pr.End.After(r.End) {
			r.End = pr.End
		}
		r.TimedOut = r.TimedOut || pr.TimedOut
		r.Canceled = r.Canceled || pr.Canceled
		if r.Err == "" {
			r.Err = pr.Err
		}
		r.Stdout = append(r.Stdout, pr.Stdout...)
		r.Stderr = append(r.Stderr, pr.Stderr...)
	}
	if j.lostWhy != "" && r.Status == 0 {
		r.Status, r.ExitCode = 1, 1
	}
	if j.abort == nil {
		for _, rank := range ranks {
			if code := j.parts[rank].res.Abort; code != 0 {
				j.abort = &ExecAbort{Job: j.id, Rank: -1, Code: code}
				break
			}
		}
	}
	if a := j.abort; a != nil {
		r.Status, r.ExitCode, r.Signal, r.Canceled = a.Code, a.Code, 0, false
		if a.Rank >= 0 {
			r.Err = fmt.Sprintf("task %d called PMI abort with exit code %d", a.Rank, a.Code)
		} else {
			r.Err = fmt.Sprintf("a task called PMI abort with exit code %d", a.Code)
		}
		if a.Msg != "" {
			r.Err += ": " + a.Msg
		}
	}
	if j.out != nil { // streamed with nobody watching: the result carries what was kept
		r.Stdout, r.Stderr = append(r.Stdout, j.out.stdout...), append(r.Stderr, j.out.stderr...)
		j.out = nil
	}
	if r.Start.IsZero() {
		r.Start = j.start
	}
	if r.End.IsZero() {
		r.End = jm.st.now
	}
	if jm.sched.Learning() && r.Err == "" && !r.Canceled && !j.start.IsZero() {
		jm.sched.Observe(learnKey(&j.spec), r.End.Sub(r.Start))
	}
	jm.end(j, r)
}

// hostOf names where a job ran: one host, or the first host and a count.
func (jm *jobManager) hostOf(ranks []int) string {
	if len(ranks) == 0 {
		return jm.st.host
	}
	h := jm.online[ranks[0]].Host
	if jm.st.size == 1 || h == "" {
		h = jm.st.host
	}
	if len(ranks) > 1 {
		h = fmt.Sprintf("%s+%d", h, len(ranks)-1)
	}
	return h
}

// end records a job's final result, delivers it and moves it to history.
func (jm *jobManager) end(j *job, r *JobResult) {
	jm.stopWaiting(j) // canceled while waiting for a dependency
	j.result = r
	j.state = stateFinished
	j.parts = nil
	delete(jm.jobs, j.id)
	t := JobTransition{ID: j.id, State: r.FinalState(), Status: r.Status}
	jm.transition(t)
	jm.counts.Inactive++
	switch t.State {
	case "finished":
		jm.counts.Completed++
	case "canceled":
		jm.counts.Canceled++
		jm.counts.Failed++
	case "timeout":
		jm.counts.Timeout++
		jm.counts.Failed++
	default:
		jm.counts.Failed++
	}
	if w := j.w; w != nil && !w.gone {
		if w.c != nil {
			res := *r // history may trim r's output before the loop delivers it
			jm.st.emit(effect{kind: fxResult, client: w.c, req: w.req, result: &res})
		} else {
			w.results = append(w.results, *r)
			jm.dirty[w] = true
		}
	}
	for _, wt := range jm.waiters[j.id] {
		jm.st.respond(wt.from, wt.m, r)
	}
	delete(jm.waiters, j.id)
	jm.endAttachStreams(j.id, r)
	if j.spec.Flags != "" && isWaitable(&j.spec) {
		jm.waitableEnded(r)
	}
	jm.history.add(j)
	if len(jm.dependents) > 0 {
		jm.targetChanged(j.id, true)
	}
}

func (jm *jobManager) cancel(from endpoint, m *overlay.Msg) {
	var req CancelRequest
	if err := m.Decode(&req); err != nil {
		jm.st.respondErr(from, m, syscall.EPROTO, "job.cancel: "+err.Error())
		return
	}
	var reply CancelReply
	ids := req.IDs
	if req.All {
		ids = ids[:0]
		for id := range jm.jobs {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		if req.Signal != 0 { // flux job kill
			if j := jm.jobs[id]; j != nil && j.state == stateRunning {
				jm.signal(j, syscall.Signal(req.Signal))
				reply.Canceled++
			} else {
				reply.Errs = append(reply.Errs, jobid.String(id)+": not running")
			}
			continue
		}
		if j := jm.jobs[id]; j != nil && req.Note != "" {
			j.note = req.Note
		}
		if jm.cancelJob(id) {
			reply.Canceled++
		} else {
			reply.Errs = append(reply.Errs, jobid.String(id)+": not pending or running")
		}
	}
	jm.st.respond(from, m, &reply)
}

// cancelJob removes a pending job (its result says canceled) or signals a
// running one's parts (SIGTERM now, SIGKILL after the grace period).
func (jm *jobManager) cancelJob(id uint64) bool {
	j := jm.jobs[id]
	if j == nil {
		return false
	}
	switch j.state {
	case statePending:
		jm.sched.Cancel(sched.JobID(id))
		jm.end(j, &JobResult{ID: id, Cookie: j.spec.Cookie, Host: jm.st.host, Outcome: killedAt(jm.st.now, int(syscall.SIGTERM))})
	case stateRunning:
		if !j.killed {
			j.killed = true
			jm.signal(j, syscall.SIGTERM)
			jm.st.after(jm.st.cfg.KillGrace, timerEscalate, id)
		}
	}
	return true
}

// signal sends sig to every live part of a running job.
func (jm *jobManager) signal(j *job, sig syscall.Signal) {
	for rank, p := range j.parts {
		if p.done {
			continue
		}
		if rank == jm.st.rank {
			jm.st.exec.kill([]uint64{j.id}, sig)
			continue
		}
		jm.st.call(rank, topicExecKill, &ExecKill{Jobs: []uint64{j.id}, Signal: int(sig)}, false, nil)
	}
}

func (st *state) escalate(id uint64) {
	if st.jm == nil {
		return
	}
	if j := st.jm.jobs[id]; j != nil && j.state == stateRunning {
		st.jm.signal(j, syscall.SIGKILL)
	}
}

func (jm *jobManager) attach(from endpoint, m *overlay.Msg) {
	var req AttachRequest
	if err := m.Decode(&req); err != nil {
		jm.st.respondErr(from, m, syscall.EPROTO, "job.attach: "+err.Error())
		return
	}
	if j, ok := jm.jobs[req.ID]; ok {
		if req.Stream && j.out != nil && len(j.out.lines) > 0 {
			jm.sendLines(from, m, j.out.lines) // what it wrote so far
		}
		if req.Stream {
			jm.attachStreams[req.ID] = append(jm.attachStreams[req.ID], waiter{from: from, m: m})
			return
		}
		jm.waiters[req.ID] = append(jm.waiters[req.ID], waiter{from, m})
		return
	}
	if j := jm.history.find(req.ID); j != nil {
		if req.Stream {
			jm.st.respond(from, m, &ResultBatch{Results: []JobResult{*j.result}})
			return
		}
		jm.st.respond(from, m, j.result)
		return
	}
	jm.st.respondErr(from, m, syscall.ENOENT, fmt.Sprintf("%s: no such job (or it left the history of the last %d jobs)", jobid.String(req.ID), jm.st.cfg.History))
}

func (jm *jobManager) resources(from endpoint, m *overlay.Msg) {
	if jm.notReady(from, m) {
		return
	}
	s := jm.sched
	all := s.Resources()
	free := resources.Set{Ranks: make([]resources.Rank, len(all.Ranks))}
	for i, r := range all.Ranks {
		cores, gpus := s.FreeOn(r.Rank)
		free.Ranks[i] = resources.Rank{Rank: r.Rank, Host: r.Host, Cores: cores, GPUs: gpus}
	}
	var down []int
	for r := range jm.down {
		down = append(down, r)
	}
	sort.Ints(down)
	jm.st.respond(from, m, &ResourceReply{All: all, Free: free, Down: down, Pending: s.Pending(), Running: s.Running(),
		Status: jm.st.rankStatuses(), Drained: jm.drainInfo()})
}

// dropWatcher forgets a results stream whose client went away, and cancels
// its jobs: nobody would record their results, and a later --resume runs
// those lines again, so running them now would run them twice.
func (jm *jobManager) dropWatcher(w *watcher) {
	if w.gone {
		return
	}
	w.gone = true
	delete(jm.watchers, w.id)
	if w.c == nil && w.local == nil {
		delete(jm.remote, remoteKey{w.rank, w.req.Tag})
	}
	for id, j := range jm.jobs {
		if j.w == w {
			j.w = nil
			if !w.keep {
				jm.cancelJob(id)
			}
		}
	}
}

// clientGone drops a local client's watchers and attach and queue waits.
func (jm *jobManager) clientGone(c *client) {
	jm.waitClientGone(c)
	jm.attachClientGone(c)
	jm.dropQueueWaiters(c)
	for _, w := range jm.watchers {
		if w.c == c {
			jm.dropWatcher(w)
		}
	}
	dropClientWaiters(jm.waiters, c)
}

func (jm *jobManager) disconnect(from endpoint, m *overlay.Msg) {
	var d DisconnectNotice
	if err := m.Decode(&d); err != nil {
		return
	}
	if w := jm.remote[remoteKey{m.Src, d.Tag}]; w != nil {
		jm.dropWatcher(w)
	}
}

// cancelAll starts the end of every job, for shutdown.
func (jm *jobManager) cancelAll() {
	for id := range jm.jobs {
		jm.cancelJob(id)
	}
}

// forceEnd ends what is left when the shutdown grace is over: parts on
// ranks that never answered.
func (jm *jobManager) forceEnd() {
	for _, j := range jm.jobs {
		if j.state == statePending {
			jm.cancelJob(j.id)
			continue
		}
		for _, p := range j.parts {
			if !p.done {
				p.done = true
				p.res = PartResult{Outcome: killedAt(jm.st.now, int(syscall.SIGKILL))}
				j.left--
			}
		}
		j.killed = true
		jm.complete(j)
	}
}

func allocText(a resources.Alloc) (ranks, cores string) {
	for i, s := range a.Slices {
		if i > 0 {
			ranks += ","
			cores += " "
		}
		ranks += fmt.Sprint(s.Rank)
		cores += s.Cores.String()
	}
	return ranks, cores
}
