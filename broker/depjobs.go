package broker

import (
	"fmt"
	"github.com/fluxtaskfarm/flux/internal/jobid"
	"strings"

	"github.com/fluxtaskfarm/flux/sched"
)

// Jobs with dependencies wait here, outside the scheduler's queue (Flux's
// DEPEND state), until every dependency is met; then they are queued like
// any other job. A job whose dependency can never be met ends without
// running, its result saying which one ("dependency afterok:12 failed").
//
// jm.dependents maps a target job to the jobs waiting on it; a target's
// start and end re-judge its waiters. Entries are dropped when the target
// ends, so the map holds no more than the active jobs refer to. At most
// maxDepWaiting jobs wait at once; more are refused at submit (retry once
// some have been released), as the scheduler's queue refuses past its limit.

// maxDepWaiting bounds the jobs waiting for dependencies.
const maxDepWaiting = sched.DefaultMaxPending

// resolveDeps parses a job's dependencies at submit and judges them now.
// It returns the dependencies still to wait for, or an error that refuses
// the job: a bad spec, an unknown target, or one that can already never be
// met (as Flux refuses it: "job 12 failed or was canceled").
func (jm *jobManager) resolveDeps(specs []string, newID uint64) (wait []Dependency, err error) {
	for _, s := range specs {
		d, err := ParseDependency(s)
		if err != nil {
			return nil, fmt.Errorf("--dependency %v", err)
		}
		if d.Line > 0 {
			return nil, fmt.Errorf("--dependency %s: line references belong in a flux-capacitor command file; name a job id", s)
		}
		if d.ID >= newID || (jm.jobs[d.ID] == nil && jm.history.find(d.ID) == nil) {
			return nil, fmt.Errorf("--dependency %s: no job %s in this instance (unknown, or finished and out of the history of the last %d jobs)",
				s, jobid.String(d.ID), jm.st.cfg.History)
		}
		switch jm.judge(d) {
		case depNever:
			return nil, fmt.Errorf("--dependency %s: job %s %s", s, jobid.String(d.ID), neverWhy[d.Type])
		case depWait:
			wait = append(wait, d)
		}
	}
	return wait, nil
}

// neverWhy says why a dependency of each type can no longer be met.
var neverWhy = map[string]string{
	DepAfter:      "ended without starting",
	DepAfterOK:    "failed or was canceled",
	DepAfterNotOK: "succeeded",
}

// judge looks at a dependency's target: active, or in the history.
func (jm *jobManager) judge(d Dependency) depVerdict {
	if t := jm.jobs[d.ID]; t != nil {
		return depCheck(d.Type, t.state == stateRunning, false, false)
	}
	t := jm.history.find(d.ID)
	if t == nil {
		return depNever // cannot happen: waiters are judged when their target ends
	}
	r := t.result
	ok := r != nil && r.Status == 0 && r.Err == "" && !r.Canceled && !r.TimedOut
	return depCheck(d.Type, !t.start.IsZero(), true, ok)
}

// waitFor registers j as waiting on its dependencies' targets.
func (jm *jobManager) waitFor(j *job) {
	jm.depWaiting++
	for _, d := range j.deps {
		jm.dependents[d.ID] = append(jm.dependents[d.ID], j.id)
	}
}

// targetChanged re-judges the jobs waiting on job id, which has started or
// (ended) finished.
func (jm *jobManager) targetChanged(id uint64, ended bool) {
	waiting := jm.dependents[id]
	if len(waiting) == 0 {
		return
	}
	if ended {
		delete(jm.dependents, id)
	}
	for _, wid := range waiting {
		j := jm.jobs[wid]
		if j == nil || j.state != statePending || len(j.deps) == 0 {
			continue // canceled, or already released or failed
		}
		jm.rejudge(j)
	}
}

// rejudge releases j to the scheduler when all its dependencies are met,
// or ends it when one never will be.
func (jm *jobManager) rejudge(j *job) {
	kept := j.deps[:0]
	for _, d := range j.deps {
		switch jm.judge(d) {
		case depNever:
			jm.stopWaiting(j)
			jm.depFailed(j, d.String())
			return
		case depWait:
			kept = append(kept, d)
		}
	}
	if len(kept) > 0 {
		j.deps = kept
		return
	}
	jm.stopWaiting(j) // j.deps still holds the met ones: it counts as waiting until here
	if err := jm.sched.Submit(jm.schedJob(j)); err != nil {
		jm.end(j, &JobResult{ID: j.id, Cookie: j.spec.Cookie, Host: jm.st.host, Outcome: failedAt(jm.st.now, 1, err.Error())})
	}
}

// stopWaiting marks j as no longer waiting for dependencies.
func (jm *jobManager) stopWaiting(j *job) {
	if len(j.deps) > 0 {
		jm.depWaiting--
		j.deps = nil
	}
}

// depFailed ends a job whose dependency dep can never be met.
func (jm *jobManager) depFailed(j *job, dep string) {
	jm.end(j, &JobResult{ID: j.id, Cookie: j.spec.Cookie, Host: jm.st.host,
		Outcome: failedAt(jm.st.now, 1, "dependency "+dep+" failed")})
}

// schedJob is what the scheduler queues for j.
func (jm *jobManager) schedJob(j *job) sched.Job {
	sj := sched.Job{ID: sched.JobID(j.id), Req: j.spec.Req, Estimate: j.spec.TimeLimit,
		Urgency: j.urgency, Held: j.urgency == sched.UrgencyHold}
	if jm.sched.Learning() {
		sj.Key = learnKey(&j.spec)
	}
	return sj
}

// learnKey groups jobs for learned estimates: the command's first word
// (a capacitor line's Name is its command text, flux submit's is argv[0]).
func learnKey(s *Jobspec) string {
	k := s.Name
	if k == "" && len(s.Argv) > 0 {
		k = s.Argv[0]
	}
	if i := strings.IndexAny(k, " \t"); i >= 0 {
		k = k[:i]
	}
	return k
}

// depsWhy says what a waiting job waits for.
func depsWhy(deps []Dependency) string {
	s := make([]string, len(deps))
	for i, d := range deps {
		s[i] = d.String()
	}
	return "waiting for dependency " + strings.Join(s, ", ")
}
