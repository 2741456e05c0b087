package sim

import (
	"container/heap"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/fluxtaskfarm/flux/resources"
	"github.com/fluxtaskfarm/flux/sched"
)

// Stats are the figures of one replay. Times are in seconds.
type Stats struct {
	Policy string `json:"policy"`
	Cores  int    `json:"cores"`
	Nodes  int    `json:"nodes"`
	// Jobs is the number of jobs replayed.
	Jobs int `json:"jobs"`
	// TooLarge counts jobs skipped for asking for more cores than the machine.
	TooLarge int `json:"skipped_too_large"`
	// Invalid counts jobs skipped for having no run time or processor count.
	Invalid int `json:"skipped_invalid"`
	// Makespan is from the first submission to the last end.
	Makespan float64 `json:"makespan"`
	// MeanWait is the mean of start - submit.
	MeanWait float64 `json:"mean_wait"`
	// MaxWait is the longest start - submit: what starvation shows in.
	MaxWait float64 `json:"max_wait"`
	// MaxWaitWide is the longest wait of a job asking for more than half
	// the machine: the jobs a policy can starve.
	MaxWaitWide float64 `json:"max_wait_wide"`
	// MeanBoundedSlowdown is the mean of max(1, (wait+run)/max(run, 10 s)).
	MeanBoundedSlowdown float64 `json:"mean_bounded_slowdown"`
	// Utilization is core-seconds used over cores * makespan, 0 to 1.
	Utilization float64 `json:"utilization"`
}

// BoundedSlowdownThreshold is the run time below which slowdown is bounded.
const BoundedSlowdownThreshold = 10 * time.Second

// Machine returns a resource set of cores cores split over nodes ranks (the
// first cores%nodes ranks get one more).
func Machine(cores, nodes int) (resources.Set, error) {
	if cores < 1 || nodes < 1 || nodes > cores {
		return resources.Set{}, fmt.Errorf("a machine of %d cores on %d nodes: want at least one core per node", cores, nodes)
	}
	var s resources.Set
	for r := range nodes {
		n := cores / nodes
		if r < cores%nodes {
			n++
		}
		s.Ranks = append(s.Ranks, resources.Rank{Rank: r, Host: fmt.Sprintf("sim%d", r), Cores: resources.RangeIDSet(0, n-1)})
	}
	return s, nil
}

// Replay runs t on one node of cores cores (0: the trace's MaxProcs) under
// the policy opt names.
func Replay(t Trace, opt sched.Options, cores int) (Stats, error) {
	return ReplayNodes(t, opt, cores, 1)
}

// Estimates says what a job that asked for no time (SWF field 9 = -1) is
// planned with.
type Estimates int

const (
	// Oracle plans it with its true run time (the default: the trace's
	// own figures, as if every job had asked well).
	Oracle Estimates = iota
	// Fixed plans it with the scheduler's default estimate, as a line
	// without -t (one hour unless Options.DefaultEstimate says otherwise).
	Fixed
	// Learned plans it with what jobs of the same application (field 14)
	// took lately, falling back to the default (Options.LearnEstimates).
	Learned
)

// ReplayNodes is Replay with the cores split over nodes ranks; jobs may then
// span ranks (one task per core, no -N).
func ReplayNodes(t Trace, opt sched.Options, cores, nodes int) (Stats, error) {
	return ReplayEstimates(t, opt, cores, nodes, Oracle)
}

// ReplayEstimates is ReplayNodes with jobs that asked for no time planned
// as est says. Such jobs are not cut at any estimate (nothing enforces
// one): they run their true time.
func ReplayEstimates(t Trace, opt sched.Options, cores, nodes int, est Estimates) (Stats, error) {
	if est == Learned {
		opt.LearnEstimates = true
	}
	if cores == 0 {
		cores = t.MaxProcs
	}
	if cores == 0 {
		return Stats{}, fmt.Errorf("the machine size is unknown: pass the number of cores (the trace has no \"; MaxProcs:\" header)")
	}
	set, err := Machine(cores, nodes)
	if err != nil {
		return Stats{}, err
	}
	s, err := sched.New(set, opt)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Policy: opt.Policy, Cores: cores, Nodes: nodes}
	if st.Policy == "" {
		st.Policy = sched.DefaultPolicy
	}
	// The jobs to replay, in submission order (file order on a tie).
	type simJob struct {
		TraceJob
		run, est time.Duration
	}
	var jobs []simJob
	for _, j := range t.Jobs {
		switch {
		case j.Run < 0 || j.Procs <= 0:
			st.Invalid++
		case j.Procs > cores:
			st.TooLarge++
		case j.NoEstimate && est != Oracle:
			jobs = append(jobs, simJob{j, j.Run, 0}) // 0: the default, or learned
		default:
			e := j.Estimate
			if e <= 0 {
				e = j.Run
			}
			e = max(e, time.Second) // Job.Estimate 0 would mean "the default"
			jobs = append(jobs, simJob{j, min(j.Run, e), e})
		}
	}
	slices.SortStableFunc(jobs, func(a, b simJob) int { return int(a.Submit - b.Submit) })
	if len(jobs) == 0 {
		return st, nil
	}

	epoch := time.Unix(0, 0)
	var ends endHeap
	var out []sched.Start
	var waitSum, bsdSum, work float64
	last := time.Duration(0)
	next := 0
	for next < len(jobs) || len(ends) > 0 {
		now := time.Duration(1<<63 - 1)
		if next < len(jobs) {
			now = jobs[next].Submit
		}
		if len(ends) > 0 {
			now = min(now, ends[0].at)
		}
		for len(ends) > 0 && ends[0].at <= now {
			e := heap.Pop(&ends).(end)
			if err := s.Finish(e.id); err != nil {
				return Stats{}, err
			}
			s.Observe(appKey(jobs[e.id].App), jobs[e.id].run)
		}
		for ; next < len(jobs) && jobs[next].Submit <= now; next++ {
			j := jobs[next]
			r := resources.Request{Tasks: j.Procs, CoresPerTask: 1}
			if err := s.Submit(sched.Job{ID: sched.JobID(next), Req: r, Estimate: j.est, Key: appKey(j.App)}); err != nil {
				return Stats{}, fmt.Errorf("line %d: %w", j.Line, err)
			}
		}
		out = s.Schedule(epoch.Add(now), out[:0])
		for _, o := range out {
			j := jobs[o.ID]
			wait := (now - j.Submit).Seconds()
			run := j.run.Seconds()
			waitSum += wait
			st.MaxWait = max(st.MaxWait, wait)
			if 2*j.Procs > cores {
				st.MaxWaitWide = max(st.MaxWaitWide, wait)
			}
			bsdSum += max(1, (wait+run)/max(run, BoundedSlowdownThreshold.Seconds()))
			work += run * float64(j.Procs)
			last = max(last, now+j.run)
			heap.Push(&ends, end{now + j.run, o.ID})
		}
		if len(ends) == 0 && next >= len(jobs) && s.Pending() > 0 {
			return Stats{}, fmt.Errorf("sched: %d jobs pending on an idle machine (broken invariant)", s.Pending())
		}
	}
	n := float64(len(jobs))
	st.Jobs = len(jobs)
	st.Makespan = (last - jobs[0].Submit).Seconds()
	st.MeanWait = waitSum / n
	st.MeanBoundedSlowdown = bsdSum / n
	if st.Makespan > 0 {
		st.Utilization = work / (float64(cores) * st.Makespan)
	}
	return st, nil
}

type end struct {
	at time.Duration
	id sched.JobID
}

// endHeap orders running jobs by end time, then id, so replays are
// deterministic.
type endHeap []end

func (h endHeap) Len() int { return len(h) }
func (h endHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || (h[i].at == h[j].at && h[i].id < h[j].id)
}
func (h endHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *endHeap) Push(x any)   { *h = append(*h, x.(end)) }
func (h *endHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// appKey names an application for learned estimates; -1 (unknown) learns
// nothing.
func appKey(app int) string {
	if app < 0 {
		return ""
	}
	return strconv.Itoa(app)
}
