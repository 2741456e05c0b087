package hierarchy

import (
	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/capacitor"
	"github.com/fluxtaskfarm/flux/overlay"
)

// jobRunner submits lines to a leaf's own instance. Its results stream also
// names the lines that started (by cookie, the line number), so that a lost
// leaf's unstarted lines can go to its siblings.
type jobRunner struct {
	be      capacitor.Backend
	refused chan []broker.JobResult // lines the instance would not take
}

// newJobRunner runs lines through be, or, when be is nil, through the job
// service of the instance behind own. be must report started jobs.
func newJobRunner(own *overlay.Client, be capacitor.Backend) (*jobRunner, error) {
	if be == nil {
		var err error
		if be, err = capacitor.NewInstanceBackendWith(own, &broker.WatchRequest{Started: true}); err != nil {
			return nil, err
		}
	}
	return &jobRunner{be: be, refused: make(chan []broker.JobResult, 16)}, nil
}

func (r *jobRunner) submit(jobs []broker.Jobspec, env []string) {
	fail := func(i int, status int, why string) broker.JobResult {
		return broker.JobResult{Cookie: jobs[i].Cookie, Outcome: broker.Failed(status, why)}
	}
	err := r.be.Submit(jobs, env, func(reply broker.SubmitReply, err error) {
		var refused []broker.JobResult
		for i := range jobs {
			switch {
			case err != nil:
				refused = append(refused, fail(i, 1, err.Error()))
			case reply.IDs[i] == 0:
				refused = append(refused, fail(i, 2, reply.Errs[i]))
			}
		}
		if len(refused) > 0 {
			r.refused <- refused
		}
	})
	if err != nil {
		refused := make([]broker.JobResult, len(jobs))
		for i := range jobs {
			refused[i] = fail(i, 1, err.Error())
		}
		r.refused <- refused
	}
}

func (r *jobRunner) close() { r.be.Close() }
