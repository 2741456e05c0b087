// Package sched owns the queue of pending jobs and the placement policy that
// decides which of them start. It is pure and deterministic: events come in
// (Submit, Cancel, Finish, SetUrgency, Stop/Start, Schedule(now)), decisions
// go out (the Starts a Schedule pass returns); it owns no goroutine, reads
// no clock and touches no socket, so a policy can be tested by simulating
// thousands of jobs in milliseconds. The caller (the broker's state
// goroutine) serialises calls.
//
// The queue is in Flux's order: higher urgency first (0 to 31, default 16),
// then submission order; a job of urgency 0 is held and never starts until
// its urgency is raised. Stop halts scheduling without refusing jobs.
//
// Cores and GPUs are accounted by a resources.Pool. Policies are named as
// Flux names its scheduler modules and chosen in Options (ParseOptions reads
// FLUX_SCHED_OPTIONS' syntax; SetPolicy switches a running scheduler):
//
//   - sched.easy (the default): EASY backfill, one reservation for the
//     first job that cannot start; later jobs start only if they do not
//     delay it. No job starves, and idle cores still fill.
//   - sched.fcfs: strict first-come first-served, as Flux's sched-simple:
//     the head that does not fit blocks every job behind it (fcfs.go).
//   - sched.conservative: a reservation for every job that cannot start.
//   - sched.hybrid: reservations for the first reservation-depth of them.
//   - sched.firstfit: any queued job that fits starts (firstfit.go); it
//     keeps every core busy but can starve a wide job forever.
//
// The backfill policies (backfill.go, profile.go) plan with each job's
// estimate: -t, else Options.DefaultEstimate (one hour). The launcher
// enforces -t; a job without it may overrun the default, and the plan then
// expects it to end "now". With one hour for every job without -t, a
// stream of narrow lines without -t never backfills around a wide one:
// the wide line starts as soon as the lines ahead of it end. With
// Options.LearnEstimates, a job without -t is planned with its Key's
// recent run times instead (learn.go). Why and Reserved explain a pending
// job.
package sched
