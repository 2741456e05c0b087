// Package sched owns the queue of pending jobs and the placement policy that
// decides which of them start. It is pure and deterministic: events come in
// (Submit, Cancel, Finish, Schedule(now)), decisions go out (the Starts a
// Schedule pass returns); it owns no goroutine, reads no clock and touches no
// socket, so a policy can be tested by simulating thousands of jobs in
// milliseconds. The caller (the broker's state goroutine) serialises calls.
//
// Cores and GPUs are accounted by a resources.Pool; policies are named
// ("fcfs", later "easy", "conservative", "hybrid") and chosen in Options.
package sched
