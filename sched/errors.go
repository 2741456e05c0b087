package sched

import "errors"

// Sentinel errors callers branch on; the returned errors wrap them with the
// job id or queue size.
var (
	// ErrQueueFull: Submit was refused because MaxPending jobs are queued.
	// Nothing is wrong with the job; retry after some jobs finish.
	ErrQueueFull = errors.New("scheduler queue is full")
	// ErrDuplicate: Submit of an id that is already pending or running.
	ErrDuplicate = errors.New("job id is already pending or running")
	// ErrUnknownJob: Finish of an id that is not running.
	ErrUnknownJob = errors.New("no such running job")
	// ErrNotPending: SetUrgency of a job that is not pending.
	ErrNotPending = errors.New("job is not pending")
	// ErrUrgency: an urgency outside Flux's 0 to 31.
	ErrUrgency = errors.New("urgency must be 0 (hold) to 31 (expedite); the default is 16")
)
