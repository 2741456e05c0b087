package sched

import (
	"fmt"
	"time"

	"github.com/fluxtaskfarm/flux/resources"
)

// JobID identifies a job within an instance.
type JobID uint64

// Job is one pending unit of work.
type Job struct {
	ID       JobID
	Req      resources.Request // normalized & validated by the caller
	Estimate time.Duration     // from -t; 0 = none given: Options.DefaultEstimate (backfill policies plan with it; fcfs and firstfit ignore it)
	// Urgency is Flux's job urgency, 1 to UrgencyMax; 0 means
	// UrgencyDefault, so that the zero Job is an ordinary one. Held says
	// Flux's urgency 0: the job is queued but never starts until
	// SetUrgency releases it.
	Urgency int
	Held    bool
	// Key groups jobs that run alike (the command's first word), for
	// Options.LearnEstimates; "" learns nothing.
	Key string
}

// Flux's urgency values (flux-submit(1) --urgency, flux-job(1) urgency).
const (
	UrgencyHold     = 0  // held: never starts until the urgency is raised
	UrgencyDefault  = 16 // what a job gets without --urgency
	UrgencyExpedite = 31 // the most urgent: ahead of every other job
	UrgencyMax      = 31
)

// Start is a decision: job ID starts now on Alloc.
type Start struct {
	ID    JobID
	Alloc resources.Alloc
}

// Scheduler is the queue plus the policy. Not safe for concurrent use.
type Scheduler struct {
	set        resources.Set
	pool       *resources.Pool
	policy     policy
	depth      int // QueueDepth, math.MaxInt when unlimited
	resvDepth  int // reservations per backfill pass, math.MaxInt when unlimited
	defEst     time.Duration
	maxPending int
	rankPos    []int // rank number -> position in the pool's (ascending) rank order, -1 if none

	queue    queue
	running  *node           // running jobs, linked through prev/next (unordered)
	jobs     map[JobID]*node // pending and running jobs
	nrunning int
	seq      uint64

	// now is the time of the last Schedule call: the plan Why and Reserved
	// explain is made at that time. ver counts state changes, so that the
	// explanation (expl, computed at explVer) is recomputed only when stale.
	now        time.Time
	clockMoved bool // now differs from the previous pass's
	ver        uint64
	explVer    uint64
	expl       map[JobID]verdict
	prof       profile // the backfill plan's scratch space, reused by every pass

	// Incremental passes. Between passes the pool only loses resources
	// (Submit adds jobs, nothing frees cores) unless dirty is set, so every
	// job that was pending at the end of the last pass still does not fit
	// and the next pass need only look at the jobs submitted since (fresh,
	// nfresh of them, at the tail). Finish and Cancel set dirty: freed cores
	// or a shifted queue-depth window mean a scan from the head.
	dirty  bool
	fresh  *node
	nfresh int

	// down lists ranks taken out of service (their broker was lost); what
	// they hold is allocated to holds, so it is never handed out again.
	down  map[int]bool
	holds []resources.Alloc

	// okReq caches the last request that passed Feasible: a stream of
	// identical lines checks feasibility once.
	okReq   resources.Request
	okValid bool

	// stopped: `flux queue stop`; nothing starts until Start.
	stopped bool

	learn *Learner // Options.LearnEstimates; nil when off
}

// New returns a scheduler over the resources r, with everything free.
func New(r resources.Set, opt Options) (*Scheduler, error) {
	if err := opt.validate(r); err != nil {
		return nil, err
	}
	def, err := lookupPolicy(opt.Policy)
	if err != nil {
		return nil, err
	}
	s := &Scheduler{
		set:  r,
		pool: resources.NewPool(r),
		jobs: make(map[JobID]*node),
	}
	for _, rk := range s.pool.Set().Ranks {
		for len(s.rankPos) <= rk.Rank {
			s.rankPos = append(s.rankPos, -1)
		}
		s.rankPos[rk.Rank] = len(s.prof.totC)
		s.prof.totC = append(s.prof.totC, rk.Cores.Count())
		s.prof.totG = append(s.prof.totG, rk.GPUs.Count())
	}
	s.apply(opt, def)
	return s, nil
}

// SetPolicy switches the policy and its options on a running scheduler, as
// `flux module load sched.easy` does: pending jobs keep their places in the
// queue and running jobs their resources; the next pass uses the new policy.
// Invalid options change nothing.
func (s *Scheduler) SetPolicy(opt Options) error {
	if err := opt.validate(s.set); err != nil {
		return err
	}
	def, err := lookupPolicy(opt.Policy)
	if err != nil {
		return err
	}
	s.apply(opt, def)
	s.dirty = true
	s.ver++
	return nil
}

func (s *Scheduler) apply(opt Options, def policyDef) {
	s.policy = def.mk()
	s.depth = opt.QueueDepth
	if s.depth == 0 {
		s.depth = def.depth
	}
	s.resvDepth = def.resv(opt)
	s.defEst = opt.DefaultEstimate
	if s.defEst == 0 {
		s.defEst = DefaultEstimate
	}
	s.maxPending = opt.MaxPending
	if s.maxPending == 0 {
		s.maxPending = DefaultMaxPending
	}
	switch {
	case !opt.LearnEstimates:
		s.learn = nil
	case s.learn == nil:
		s.learn = NewLearner(DefaultLearnKeys)
	}
}

// estimate is how long job n is expected to run. A job without -t is planned with what its Key's jobs took lately when
// estimates are learned: looked up at every plan, so that a line queued
// before any of its kind finished still benefits once one has.
func (s *Scheduler) estimate(n *node) time.Duration {
	if n.job.Estimate > 0 {
		return n.job.Estimate
	}
	if s.learn != nil {
		if d, ok := s.learn.Estimate(n.job.Key); ok {
			return d
		}
	}
	return s.defEst
}

// Submit queues j. It refuses, without queueing, a request that is invalid,
// one that can never fit the resources (the error wraps
// resources.ErrUnsatisfiable and its text is Set.Feasible's), a duplicate id
// (ErrDuplicate), and any job while the queue is full (ErrQueueFull: retry
// later). Checks run in that order, so a job that can never run gets its
// final answer even when the queue is full.
func (s *Scheduler) Submit(j Job) error {
	var err error
	if j.Req, err = s.check(j.Req); err != nil {
		return err
	}
	if j.Urgency < 0 || j.Urgency > UrgencyMax {
		return fmt.Errorf("urgency %d: %w", j.Urgency, ErrUrgency)
	}
	if _, ok := s.jobs[j.ID]; ok {
		return fmt.Errorf("job %d: %w", j.ID, ErrDuplicate)
	}
	if s.queue.n >= s.maxPending {
		return fmt.Errorf("%w (%d pending); retry after some jobs finish", ErrQueueFull, s.queue.n)
	}
	s.seq++
	n, atTail := s.queue.push(j, urgencyOf(j), s.seq)
	s.jobs[j.ID] = n
	s.ver++
	if !atTail {
		// It went ahead of jobs already looked at (a higher urgency, or
		// ahead of held jobs): the incremental pass, which looks only at
		// the tail, would miss it.
		s.dirty = true
	}
	if s.fresh == nil {
		s.fresh = n
	}
	s.nfresh++
	return nil
}

// Check refuses, as Submit would, a request that is invalid or can never
// fit the resources, without queueing anything: for jobs that wait for a
// dependency before they are submitted.
func (s *Scheduler) Check(r resources.Request) error {
	_, err := s.check(r)
	return err
}

func (s *Scheduler) check(r resources.Request) (resources.Request, error) {
	if err := r.Validate(); err != nil {
		return r, err
	}
	r = s.set.WholeNodes(r)
	if !s.okValid || r != s.okReq {
		if err := s.set.Feasible(r); err != nil {
			return r, err
		}
		s.okReq, s.okValid = r, true
	}
	return r, nil
}

func urgencyOf(j Job) uint8 {
	switch {
	case j.Held:
		return UrgencyHold
	case j.Urgency == 0:
		return UrgencyDefault
	}
	return uint8(j.Urgency)
}

// SetUrgency changes a pending job's urgency (Flux's 0 to 31; 0 holds it):
// it moves to its new place in the queue, behind the jobs of that urgency
// submitted before it and ahead of those submitted after.
func (s *Scheduler) SetUrgency(id JobID, urgency int) error {
	if urgency < 0 || urgency > UrgencyMax {
		return fmt.Errorf("urgency %d: %w", urgency, ErrUrgency)
	}
	n, ok := s.jobs[id]
	if !ok || n.running {
		return fmt.Errorf("job %d: %w", id, ErrNotPending)
	}
	s.queue.remove(n)
	n.urg = uint8(urgency)
	n.job.Urgency, n.job.Held = urgency, urgency == UrgencyHold
	s.queue.insertAfter(s.queue.placeFor(n), n)
	s.ver++
	s.dirty = true
	return nil
}

// Urgency returns a pending job's urgency (Flux's 0 to 31); false if id is
// not pending.
func (s *Scheduler) Urgency(id JobID) (int, bool) {
	n, ok := s.jobs[id]
	if !ok || n.running {
		return 0, false
	}
	return int(n.urg), true
}

// Stop stops scheduling (`flux queue stop`): passes start nothing, and
// submissions are still queued, until Start.
func (s *Scheduler) Stop() {
	s.stopped = true
	s.ver++
}

// Start resumes scheduling after Stop.
func (s *Scheduler) Start() {
	if s.stopped {
		s.stopped = false
		s.dirty = true
		s.ver++
	}
}

// Stopped reports whether scheduling is stopped.
func (s *Scheduler) Stopped() bool { return s.stopped }

// Cancel removes a pending job; false if id is not pending (a running job
// is stopped by its launcher and then Finished).
func (s *Scheduler) Cancel(id JobID) bool {
	n, ok := s.jobs[id]
	if !ok || n.running {
		return false
	}
	delete(s.jobs, id)
	s.queue.remove(n)
	s.queue.recycle(n)
	s.ver++
	s.dirty = true // the queue-depth window moved; fresh is stale until the next pass resets it
	return true
}

// Finish records that a running job ended and releases its resources.
func (s *Scheduler) Finish(id JobID) error {
	n, ok := s.jobs[id]
	switch {
	case !ok:
		return fmt.Errorf("finish job %d: %w (already finished, or never started)", id, ErrUnknownJob)
	case !n.running:
		return fmt.Errorf("finish job %d: %w: it is still pending (cancel it instead)", id, ErrUnknownJob)
	}
	delete(s.jobs, id)
	s.pool.Release(n.alloc)
	s.rehold(n.alloc)
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		s.running = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	}
	s.queue.recycle(n)
	s.ver++
	s.nrunning--
	s.dirty = true
	return nil
}

// Schedule runs one pass of the policy at time now: it appends to out the
// jobs that start now, in queue order, marks them running and returns out.
func (s *Scheduler) Schedule(now time.Time, out []Start) []Start {
	s.clockMoved = !now.Equal(s.now)
	s.now = now
	s.ver++
	if s.stopped {
		return out // dirty and fresh stay: the first pass after Start looks at everything
	}
	out = s.policy.schedule(s, now, out)
	s.dirty, s.fresh, s.nfresh = false, nil, 0
	return out
}

// start moves pending node n to running on a.
func (s *Scheduler) start(n *node, a resources.Alloc, now time.Time) Start {
	s.queue.remove(n)
	n.running, n.alloc, n.start = true, a, now
	n.next = s.running
	if s.running != nil {
		s.running.prev = n
	}
	s.running = n
	s.nrunning++
	return Start{ID: n.job.ID, Alloc: a}
}

// scanStart is where a pass begins and how many blocked jobs lie before that
// point (see the dirty/fresh fields). ok is false when nothing can have
// changed since the last pass.
func (s *Scheduler) scanStart() (from *node, blocked int, ok bool) {
	if s.dirty {
		return s.queue.head, 0, true
	}
	if s.fresh == nil {
		return nil, 0, false
	}
	return s.fresh, s.queue.n - s.nfresh, true
}

// Learning reports whether estimates are learned (Options.LearnEstimates):
// then the caller reports each finished job's run time with Observe.
func (s *Scheduler) Learning() bool { return s.learn != nil }

// Observe records that a job with key ran for d, for learned estimates.
func (s *Scheduler) Observe(key string, d time.Duration) {
	if s.learn != nil {
		s.learn.Observe(key, d)
		s.ver++ // plans (and Why) may change
	}
}

// Pending returns the number of queued jobs.
func (s *Scheduler) Pending() int { return s.queue.n }

// Running returns the number of started, unfinished jobs.
func (s *Scheduler) Running() int { return s.nrunning }

// FreeCores returns the number of free cores.
func (s *Scheduler) FreeCores() int { return s.pool.FreeCores() }

// Resources returns the resource set the scheduler places jobs on.
func (s *Scheduler) Resources() resources.Set { return s.pool.Set() }

// FreeOn returns the cores and GPUs of rank that no running job holds.
func (s *Scheduler) FreeOn(rank int) (cores, gpus resources.IDSet) { return s.pool.FreeOn(rank) }
