// Package broker is the instance at run time: the one goroutine that owns the
// instance's state (the job table, the scheduler, the launcher's running
// jobs), the services clients call (job.submit, job.results, job.list,
// job.cancel, job.attach, resource.list), and the ways an instance is started
// (embedded in a process, or behind a unix socket for `flux start`).
//
// Everything that changes state happens on the loop goroutine (loop.go).
// Client connections have a reader goroutine that forwards requests to the
// loop and an outbox goroutine that batches what the loop wants to send, so
// a slow client never blocks the loop and results travel in batches, not one
// message per task.
//
// The broker decides nothing about placement (sched does) and starts no
// process itself (launcher does); it wires them together.
package broker
