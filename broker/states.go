package broker

// Job states, as JobInfo.State and flux jobs show them, and the extra names
// a job.state event's transitions use. Written once here: the job manager,
// the listing and the events all take them from this list.
const (
	StatePending  = "pending"
	StateRunning  = "running"
	StateFinished = "finished" // ended with status 0
	StateFailed   = "failed"   // ended with a non-zero status, a signal, or an error
	StateCanceled = "canceled"
	StateTimeout  = "timeout"

	TransitionSubmitted = "submitted" // a job.state transition: queued
	TransitionRequeued  = "requeued"  // a job.state transition: back in the queue (its rank was lost before it started)
)

// The job manager's own names for where a job is in its life.
const (
	statePending  = StatePending
	stateRunning  = StateRunning
	stateFinished = StateFinished
)

// FinalState is the state a job that ended with r is shown in: finished,
// failed, canceled or timeout.
func (r *JobResult) FinalState() string {
	switch {
	case r.Canceled:
		return StateCanceled
	case r.TimedOut:
		return StateTimeout
	case r.Status != 0 || r.Err != "":
		return StateFailed
	}
	return StateFinished
}
