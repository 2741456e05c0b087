package broker

import (
	"sort"
	"syscall"

	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/fluxtaskfarm/flux/resources"
)

func (jm *jobManager) list(from endpoint, m *overlay.Msg) {
	var req ListRequest
	if err := m.Decode(&req); err != nil {
		jm.st.respondErr(from, m, syscall.EPROTO, "job.list: "+err.Error())
		return
	}
	var reply ListReply
	if req.Stats || req.StatsOnly {
		reply.Stats = jm.stats()
		if req.StatsOnly {
			jm.st.respond(from, m, &reply)
			return
		}
	}
	for _, j := range jm.jobs {
		reply.Jobs = append(reply.Jobs, jm.info(j))
	}
	// Active jobs in id order: the order they were submitted.
	sort.Slice(reply.Jobs, func(a, b int) bool { return reply.Jobs[a].ID < reply.Jobs[b].ID })
	if req.All {
		jm.history.each(func(j *job) { reply.Jobs = append(reply.Jobs, jm.info(j)) })
	}
	jm.st.respond(from, m, &reply)
}

// stats counts the jobs: pending and running now, the others since the
// instance started.
func (jm *jobManager) stats() *JobStats {
	s := jm.counts
	for _, j := range jm.jobs {
		if j.state == statePending {
			s.Pending++
		} else {
			s.Running++
		}
	}
	s.Purged = s.Inactive - jm.history.len()
	return &s
}

func (jm *jobManager) info(j *job) JobInfo {
	in := JobInfo{ID: j.id, State: j.state, Name: j.spec.Name, Req: j.spec.Req, Submit: j.submit, Start: j.start, Urgency: j.urgency, Retry: j.spec.Retry}
	if in.Name == "" && len(j.spec.Argv) > 0 {
		in.Name = j.spec.Argv[0]
	}
	switch j.state {
	case statePending:
		in.Start = j.start // zero unless requeued
		in.Why = jm.pendingWhy(j)
	case stateRunning, stateFinished:
		in.Ranks, in.Cores = allocText(j.alloc)
	}
	in.TimeLimit, in.Argv, in.Cwd, in.Flags = j.spec.TimeLimit, j.spec.Argv, j.spec.Cwd, j.spec.Flags
	in.Setopt, in.Output = j.spec.Setopt, j.spec.Output
	if in.Ranks != "" {
		in.Hosts = jm.hostsOf(j.alloc)
	}
	if r := j.result; r != nil {
		in.End, in.Status, in.Canceled = r.End, r.Status, r.Canceled
		in.Note, in.TimedOut, in.Signal = r.Err, r.TimedOut, r.Signal
		if in.Note == "" {
			in.Note = j.note
		}
		in.State = r.FinalState()
	}
	return in
}

// hostsOf names the hosts of an allocation's ranks, comma-separated.
func (jm *jobManager) hostsOf(a resources.Alloc) string {
	hosts := make([]byte, 0, 16*len(a.Slices))
	for i, sl := range a.Slices {
		if i > 0 {
			hosts = append(hosts, ',')
		}
		h := jm.online[sl.Rank].Host
		if jm.st.size == 1 || h == "" {
			h = jm.st.host
		}
		hosts = append(hosts, h...)
	}
	return string(hosts)
}
