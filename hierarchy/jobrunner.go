package hierarchy

import (
	"sync"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/capacitor"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/vmihailenco/msgpack/v5"
)

// jobRunner submits lines to an instance and knows which job is which line,
// so that job.state events can say which lines started.
type jobRunner struct {
	be      capacitor.Backend
	refused chan []broker.JobResult // lines the instance would not take
	mu      sync.Mutex
	lineOf  map[uint64]uint64 // job id -> line (cookie); guarded by mu
}

func newJobRunner(own *overlay.Client) (*jobRunner, error) {
	be, err := capacitor.NewInstanceBackend(own)
	if err != nil {
		return nil, err
	}
	return &jobRunner{be: be, refused: make(chan []broker.JobResult, 16), lineOf: make(map[uint64]uint64)}, nil
}

func (r *jobRunner) submit(jobs []broker.Jobspec, env []string) {
	err := r.be.Submit(jobs, env, func(reply broker.SubmitReply, err error) {
		var refused []broker.JobResult
		now := time.Now()
		r.mu.Lock()
		for i, j := range jobs {
			switch {
			case err != nil:
				refused = append(refused, broker.JobResult{Cookie: j.Cookie, Status: 1, ExitCode: 1, Start: now, End: now, Err: err.Error()})
			case reply.IDs[i] == 0:
				refused = append(refused, broker.JobResult{Cookie: j.Cookie, Status: 2, ExitCode: 2, Start: now, End: now, Err: reply.Errs[i]})
			default:
				r.lineOf[reply.IDs[i]] = j.Cookie
			}
		}
		r.mu.Unlock()
		if len(refused) > 0 {
			r.refused <- refused
		}
	})
	if err != nil {
		now := time.Now()
		var refused []broker.JobResult
		for _, j := range jobs {
			refused = append(refused, broker.JobResult{Cookie: j.Cookie, Status: 1, ExitCode: 1, Start: now, End: now, Err: err.Error()})
		}
		r.refused <- refused
	}
}

// startedLines reads a job.state event and returns the lines that started.
func (r *jobRunner) startedLines(m *overlay.Msg) []uint64 {
	var ev broker.JobStateEvent
	if m.Topic != broker.EventJobState || msgpack.Unmarshal(m.Payload, &ev) != nil {
		return nil
	}
	var out []uint64
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range ev.Transitions {
		line, ok := r.lineOf[t.ID]
		if !ok {
			continue
		}
		switch t.State {
		case "running":
			out = append(out, line)
		case "finished", "failed", "canceled", "timeout":
			delete(r.lineOf, t.ID)
		}
	}
	return out
}

func (r *jobRunner) close() { r.be.Close() }
