package broker

import (
	"fmt"
	"sort"

	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/sched"
)

func (jm *jobManager) lostNotice(from endpoint, m *overlay.Msg) {
	var n RanksEvent
	if err := m.Decode(&n); err != nil {
		return
	}
	jm.ranksLost(n.Ranks, n.Why)
}

// ranksLost takes ranks out of the instance: jobs with a part there fail
// with the reason (their other parts are killed), jobs that had not started
// anywhere yet go back to the queue and run elsewhere, watchers behind those
// ranks are dropped, and a broker.lost event says what happened.
func (jm *jobManager) ranksLost(ranks []int, why string) {
	var newly []int
	for _, r := range ranks {
		if r > 0 && r < jm.st.size && !jm.down[r] {
			jm.down[r] = true
			newly = append(newly, r)
		}
	}
	if len(newly) == 0 {
		return
	}
	sort.Ints(newly)
	jm.st.cfg.Logf("broker: lost rank(s) %v: %s", newly, why)
	if jm.sched == nil {
		jm.st.fail(fmt.Errorf("rank(s) %v lost before the instance came up: %s", newly, why))
		return
	}
	ids := make([]uint64, 0, len(jm.jobs))
	for id := range jm.jobs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	for _, id := range ids {
		j := jm.jobs[id]
		if j == nil || j.state != stateRunning {
			continue
		}
		for _, r := range newly {
			if p := j.parts[r]; p != nil && !p.done {
				jm.partLost(j, r, fmt.Sprintf("rank %d lost", r))
				break
			}
		}
	}
	for _, w := range jm.watchers {
		if w.c == nil && w.local == nil && jm.down[int(w.rank)] {
			jm.dropWatcher(w)
		}
	}
	for _, r := range newly {
		jm.sched.Down(r)
		jm.st.setRank(r, rankLost, why)
	}
	jm.st.ev.publish(EventBrokerLost, &RanksEvent{Ranks: newly, Why: why})
}

// partLost handles a part that will never report: rank refused it or is
// gone. When nothing of the job runs anywhere the job goes back to the queue;
// otherwise it fails with why and its other parts are killed.
func (jm *jobManager) partLost(j *job, rank int, why string) {
	requeue := true
	for r, p := range j.parts {
		notRunning := !p.acked && !p.done && (jm.down[r] || r == rank)
		if !notRunning {
			requeue = false
		}
	}
	if requeue {
		jm.requeue(j)
		return
	}
	if j.lostWhy == "" {
		j.lostWhy = why
	}
	for r, p := range j.parts {
		if !p.done && (jm.down[r] || r == rank) {
			p.done = true
			p.res = PartResult{Job: j.id, Rank: r, Outcome: failedAt(jm.st.now, 1, why)}
			j.left--
		}
	}
	if j.left == 0 {
		jm.complete(j)
		return
	}
	jm.signal(j, 9)
}

// requeue puts a job that never started back in the queue.
func (jm *jobManager) requeue(j *job) {
	if err := jm.sched.Finish(sched.JobID(j.id)); err != nil {
		jm.st.cfg.Logf("broker: requeue job %d: %v", j.id, err)
	}
	j.parts, j.left, j.state = nil, 0, statePending
	if err := jm.sched.Submit(sched.Job{ID: sched.JobID(j.id), Req: j.spec.Req, Estimate: j.spec.TimeLimit}); err != nil {
		jm.end(j, &JobResult{ID: j.id, Cookie: j.spec.Cookie, Host: jm.st.host,
			Outcome: failedAt(jm.st.now, 1, "could not be placed again after its rank was lost: "+err.Error())})
		return
	}
	jm.transition(JobTransition{ID: j.id, State: TransitionRequeued})
}
