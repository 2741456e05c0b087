package broker

import (
	"sort"
	"strconv"
	"syscall"

	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/sched"
)

func (st *state) list(c *client, m *overlay.Msg) {
	var req ListRequest
	if err := m.Decode(&req); err != nil {
		c.reply(m.RespondError(syscall.EPROTO, "job.list: "+err.Error()))
		return
	}
	var reply ListReply
	for _, j := range st.jobs {
		reply.Jobs = append(reply.Jobs, st.info(j))
	}
	// Active jobs in id order: the order they were submitted.
	sort.Slice(reply.Jobs, func(a, b int) bool { return reply.Jobs[a].ID < reply.Jobs[b].ID })
	if req.All {
		st.history.each(func(j *job) { reply.Jobs = append(reply.Jobs, st.info(j)) })
	}
	resp, err := m.Respond(&reply)
	if err != nil {
		resp = m.RespondError(syscall.EPROTO, err.Error())
	}
	c.reply(resp)
}

func (st *state) info(j *job) JobInfo {
	in := JobInfo{ID: j.id, State: j.state, Name: j.spec.Name, Req: j.spec.Req, Submit: j.submit, Start: j.start}
	if in.Name == "" && len(j.spec.Argv) > 0 {
		in.Name = j.spec.Argv[0]
	}
	switch j.state {
	case statePending:
		in.Why = st.sched.Why(sched.JobID(j.id))
	case stateRunning, stateFinished:
		in.Ranks, in.Cores = allocText(j)
	}
	if r := j.result; r != nil {
		in.End, in.Status, in.Canceled = r.End, r.Status, r.Canceled
		switch {
		case r.Canceled:
			in.State = "canceled"
		case r.TimedOut:
			in.State = "timeout"
		case r.Status != 0 || r.Err != "":
			in.State = "failed"
		}
	}
	return in
}

func allocText(j *job) (ranks, cores string) {
	for i, s := range j.alloc.Alloc.Slices {
		if i > 0 {
			ranks += ","
			cores += " "
		}
		ranks += strconv.Itoa(s.Rank)
		cores += s.Cores.String()
	}
	return ranks, cores
}
