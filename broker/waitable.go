package broker

import (
	"fmt"
	"strings"
	"syscall"

	"github.com/fluxtaskfarm/flux/internal/jobid"
	"github.com/fluxtaskfarm/flux/overlay"
)

// TopicWait is flux job wait: the result of a job submitted with
// --flags=waitable, each consumed once, as wait(2) reaps a child.
const TopicWait = "job.wait" // WaitRequest -> JobResult

// WaitRequest waits for one waitable job (ID) or for the next one to end
// (ID 0). An error ECHILD means there is no waitable job left; EINVAL that
// the job is not waitable (or was waited for already).
type WaitRequest struct {
	ID uint64 `msgpack:"id,omitempty"`
}

// maxUnwaited bounds the results of ended waitable jobs nobody has waited
// for yet; beyond it the oldest is forgotten (its job stays in the history).
const maxUnwaited = 10000

// waitableState is rank 0's bookkeeping for waitable jobs.
type waitableState struct {
	active   int                 // waitable jobs not ended yet
	unwaited []*JobResult        // ended, not yet waited for, oldest first
	byID     map[uint64]waiter   // waits for one job
	any      []waiter            // waits for the next one
	ended    map[uint64]struct{} // ids in unwaited
}

func isWaitable(spec *Jobspec) bool { return strings.Contains(spec.Flags, "waitable") }

func (jm *jobManager) waitInit() *waitableState {
	if jm.wait == nil {
		jm.wait = &waitableState{byID: map[uint64]waiter{}, ended: map[uint64]struct{}{}}
	}
	return jm.wait
}

// waitableSubmitted counts a new waitable job.
func (jm *jobManager) waitableSubmitted() { jm.waitInit().active++ }

// waitableEnded hands a waitable job's result to whoever waits for it, or
// keeps it for the next flux job wait.
func (jm *jobManager) waitableEnded(r *JobResult) {
	ws := jm.waitInit()
	ws.active--
	if wt, ok := ws.byID[r.ID]; ok {
		delete(ws.byID, r.ID)
		jm.st.respond(wt.from, wt.m, r)
		return
	}
	if len(ws.any) > 0 {
		wt := ws.any[0]
		ws.any = ws.any[1:]
		jm.st.respond(wt.from, wt.m, r)
		return
	}
	if len(ws.unwaited) >= maxUnwaited {
		delete(ws.ended, ws.unwaited[0].ID)
		ws.unwaited = ws.unwaited[1:]
	}
	kept := *r // the status is what wait needs; the output stays in the history's budget
	kept.Stdout, kept.Stderr = nil, nil
	ws.unwaited = append(ws.unwaited, &kept)
	ws.ended[r.ID] = struct{}{}
}

func (jm *jobManager) waitRequest(from endpoint, m *overlay.Msg) {
	var req WaitRequest
	if err := m.Decode(&req); err != nil && len(m.Payload) > 0 {
		jm.st.respondErr(from, m, syscall.EPROTO, "job.wait: "+err.Error())
		return
	}
	ws := jm.waitInit()
	if req.ID == 0 {
		if len(ws.unwaited) > 0 {
			r := ws.unwaited[0]
			ws.unwaited = ws.unwaited[1:]
			delete(ws.ended, r.ID)
			jm.st.respond(from, m, r)
			return
		}
		if ws.active-len(ws.byID)-len(ws.any) <= 0 {
			jm.st.respondErr(from, m, syscall.ECHILD, "there are no more waitable jobs")
			return
		}
		ws.any = append(ws.any, waiter{from: from, m: m})
		return
	}
	if _, ok := ws.ended[req.ID]; ok {
		delete(ws.ended, req.ID)
		for i, r := range ws.unwaited {
			if r.ID == req.ID {
				ws.unwaited = append(ws.unwaited[:i], ws.unwaited[i+1:]...)
				jm.st.respond(from, m, r)
				return
			}
		}
	}
	j := jm.jobs[req.ID]
	_, taken := ws.byID[req.ID]
	if j == nil || !isWaitable(&j.spec) || taken {
		jm.st.respondErr(from, m, syscall.EINVAL, fmt.Sprintf("%s: not waitable (submit it with --flags=waitable; a result is consumed once)", jobid.String(req.ID)))
		return
	}
	ws.byID[req.ID] = waiter{from: from, m: m}
}

// waitClientGone forgets the waits of a client that went away.
func (jm *jobManager) waitClientGone(c *client) {
	if jm.wait == nil {
		return
	}
	for id, wt := range jm.wait.byID {
		if wt.from == endpoint(c) {
			delete(jm.wait.byID, id)
		}
	}
	kept := jm.wait.any[:0]
	for _, wt := range jm.wait.any {
		if wt.from != endpoint(c) {
			kept = append(kept, wt)
		}
	}
	jm.wait.any = kept
}
