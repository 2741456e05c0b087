package broker

import (
	"fmt"
	"syscall"

	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/sched"
)

// Queue control, as flux queue names it: a disabled queue refuses
// submissions (with the reason); a stopped queue takes them but starts
// nothing. Drain and idle wait for the queue to empty or for nothing to
// run; their waiters are answered at the end of the pass that gets there.

// queueState is rank 0's queue switches.
type queueState struct {
	disabled      bool
	disableReason string
	stopReason    string
	waiters       []queueWaiter
}

type queueWaiter struct {
	waiter
	idle bool
}

// maxQueueWaiters bounds drain/idle waits; more are refused (EBUSY).
const maxQueueWaiters = 1024

func (jm *jobManager) queueStatus() QueueStatus {
	st := QueueStatus{Enabled: !jm.q.disabled, DisableReason: jm.q.disableReason, StopReason: jm.q.stopReason, Started: true}
	if jm.sched != nil {
		st.Started = !jm.sched.Stopped()
		st.Running = jm.sched.Running()
	}
	st.Pending = len(jm.jobs) - st.Running
	return st
}

func (jm *jobManager) queueControl(from endpoint, m *overlay.Msg) {
	if jm.notReady(from, m) {
		return
	}
	var req QueueRequest
	if err := m.Decode(&req); err != nil {
		jm.st.respondErr(from, m, syscall.EPROTO, "queue.control: "+err.Error())
		return
	}
	switch req.Op {
	case "status":
	case "start":
		jm.sched.Start()
		jm.q.stopReason = ""
	case "stop":
		jm.sched.Stop()
		jm.q.stopReason = req.Reason
	case "enable":
		jm.q.disabled, jm.q.disableReason = false, ""
	case "disable":
		if req.Reason == "" {
			req.Reason = "disabled by administrator" // Flux's words
		}
		jm.q.disabled, jm.q.disableReason = true, req.Reason
	default:
		jm.st.respondErr(from, m, syscall.EINVAL, fmt.Sprintf("queue.control: unknown operation %q; valid: status, start, stop, enable, disable", req.Op))
		return
	}
	st := jm.queueStatus()
	jm.st.respond(from, m, &st)
}

func (jm *jobManager) queueWait(from endpoint, m *overlay.Msg) {
	var req QueueWaitRequest
	if len(m.Payload) > 0 {
		if err := m.Decode(&req); err != nil {
			jm.st.respondErr(from, m, syscall.EPROTO, "queue.wait: "+err.Error())
			return
		}
	}
	if len(jm.q.waiters) >= maxQueueWaiters {
		jm.st.respondErr(from, m, syscall.EBUSY, fmt.Sprintf("queue.wait: %d clients are already waiting; try again later", maxQueueWaiters))
		return
	}
	jm.q.waiters = append(jm.q.waiters, queueWaiter{waiter{from, m}, req.Idle})
	jm.checkQueueWaiters()
}

// checkQueueWaiters answers the drain and idle waits whose condition holds.
func (jm *jobManager) checkQueueWaiters() {
	if len(jm.q.waiters) == 0 {
		return
	}
	st := jm.queueStatus()
	kept := jm.q.waiters[:0]
	for _, w := range jm.q.waiters {
		if st.Running == 0 && (w.idle || st.Pending == 0) {
			jm.st.respond(w.from, w.m, &st)
			continue
		}
		kept = append(kept, w)
	}
	jm.q.waiters = kept
}

// dropQueueWaiters forgets the waits of a client that went away.
func (jm *jobManager) dropQueueWaiters(c *client) {
	kept := jm.q.waiters[:0]
	for _, w := range jm.q.waiters {
		if w.from != endpoint(c) {
			kept = append(kept, w)
		}
	}
	jm.q.waiters = kept
}

// setUrgency serves flux job urgency.
func (jm *jobManager) setUrgency(from endpoint, m *overlay.Msg) {
	if jm.notReady(from, m) {
		return
	}
	var req UrgencyRequest
	if err := m.Decode(&req); err != nil {
		jm.st.respondErr(from, m, syscall.EPROTO, "job.urgency: "+err.Error())
		return
	}
	if req.Urgency < 0 || req.Urgency > sched.UrgencyMax {
		jm.st.respondErr(from, m, syscall.EINVAL, fmt.Sprintf("urgency %d: %v", req.Urgency, sched.ErrUrgency))
		return
	}
	j := jm.jobs[req.ID]
	switch {
	case j == nil:
		jm.st.respondErr(from, m, syscall.ENOENT, fmt.Sprintf("job %d is inactive, or unknown", req.ID))
		return
	case j.state != statePending:
		jm.st.respondErr(from, m, syscall.EINVAL, fmt.Sprintf("job %d: urgency cannot be changed once resources are allocated", req.ID))
		return
	}
	old := j.urgency
	j.urgency = req.Urgency
	if len(j.deps) == 0 {
		if err := jm.sched.SetUrgency(sched.JobID(j.id), req.Urgency); err != nil {
			j.urgency = old
			jm.st.respondErr(from, m, syscall.EINVAL, err.Error())
			return
		}
	}
	jm.st.respond(from, m, &UrgencyReply{Old: old})
}

// pendingWhy says why pending job j waits, for flux jobs.
func (jm *jobManager) pendingWhy(j *job) string {
	if len(j.deps) > 0 {
		return depsWhy(j.deps)
	}
	if jm.sched == nil {
		return ""
	}
	why := jm.sched.Why(sched.JobID(j.id))
	if jm.sched.Stopped() && j.urgency != sched.UrgencyHold {
		why = "the queue is stopped"
		if jm.q.stopReason != "" {
			why += ": " + jm.q.stopReason
		}
		why += " (flux queue start)"
	}
	return why
}
