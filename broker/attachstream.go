package broker

import "github.com/fluxtaskfarm/flux/overlay"

// jobOutput is the streamed output of a job that no results stream
// watches (flux submit's jobs): kept so that flux job attach shows it as it
// comes and the result carries it at the end, as captured output would be.
// It holds at most jobOutputMax bytes; later lines are dropped with a note.
type jobOutput struct {
	lines          []OutputLine
	stdout, stderr []byte
	bytes          int
	truncated      bool
}

// jobOutputMax bounds one job's kept output (the launcher's capture limit).
const jobOutputMax = 4 << 20

// keepOutput records a streamed line of an unwatched job and passes it to
// the attachers that follow the job.
func (jm *jobManager) keepOutput(j *job, l *OutputLine) {
	if j.out == nil {
		j.out = &jobOutput{}
	}
	o := j.out
	if o.bytes+len(l.Data) > jobOutputMax {
		if !o.truncated {
			o.truncated = true
			o.stderr = append(o.stderr, "[flux: output truncated at 4 MiB; use --output FILE]\n"...)
		}
		return
	}
	o.bytes += len(l.Data)
	if l.Stderr {
		o.stderr = append(o.stderr, l.Data...)
	} else {
		o.stdout = append(o.stdout, l.Data...)
	}
	o.lines = append(o.lines, *l)
	for _, wt := range jm.attachStreams[j.id] {
		jm.sendLines(wt.from, wt.m, []OutputLine{*l})
	}
}

// sendLines sends output lines on an attach stream (more to come).
func (jm *jobManager) sendLines(to endpoint, m *overlay.Msg, lines []OutputLine) {
	if !expectsResponse(m) {
		return
	}
	resp, err := m.Respond(&ResultBatch{Output: lines})
	if err != nil {
		return
	}
	resp.Flags |= overlay.FlagMore
	jm.st.sendResponse(to, resp)
}

// endAttachStreams ends a job's attach streams with its result.
func (jm *jobManager) endAttachStreams(id uint64, r *JobResult) {
	for _, wt := range jm.attachStreams[id] {
		jm.st.respond(wt.from, wt.m, &ResultBatch{Results: []JobResult{*r}})
	}
	delete(jm.attachStreams, id)
}

// attachClientGone forgets the attach streams of a client that went away.
func (jm *jobManager) attachClientGone(c *client) { dropClientWaiters(jm.attachStreams, c) }

// dropClientWaiters removes c's entries from a table of waiters by job.
func dropClientWaiters(byJob map[uint64][]waiter, c *client) {
	for id, ws := range byJob {
		kept := ws[:0]
		for _, w := range ws {
			if w.from != endpoint(c) {
				kept = append(kept, w)
			}
		}
		if len(kept) == 0 {
			delete(byJob, id)
		} else {
			byJob[id] = kept
		}
	}
}
