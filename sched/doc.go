// Package sched owns the queue of pending jobs and the placement policy that
// decides which of them start. It is pure and deterministic: events come in
// (Submit, Cancel, Finish, Schedule(now)), decisions go out (the Starts a
// Schedule pass returns); it owns no goroutine, reads no clock and touches no
// socket, so a policy can be tested by simulating thousands of jobs in
// milliseconds. The caller (the broker's state goroutine) serialises calls.
//
// Cores and GPUs are accounted by a resources.Pool. Policies are named as
// Flux names its scheduler modules and chosen in Options (ParseOptions reads
// FLUX_SCHED_OPTIONS' syntax; SetPolicy switches a running scheduler):
//
//   - sched.fcfs (the default): first fit in queue order (fcfs.go);
//     queue-depth=1 makes it strict first-come first-served.
//   - sched.easy: EASY backfill, one reservation for the first job that
//     cannot start; later jobs start only if they do not delay it.
//   - sched.conservative: a reservation for every job that cannot start.
//   - sched.hybrid: reservations for the first reservation-depth of them.
//
// The backfill policies (backfill.go, profile.go) plan with each job's
// estimate: -t, else Options.DefaultEstimate (one hour). The launcher
// enforces -t; a job without it may overrun the default, and the plan then
// expects it to end "now". Why and Reserved explain a pending job.
package sched
