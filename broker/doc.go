// Package broker is the instance at run time: the one goroutine that owns the
// instance's state (the job table, the scheduler, the launcher's running
// jobs), the services clients call (job.submit, job.results, job.list,
// job.cancel, job.attach, resource.list), and the ways an instance is started
// (embedded in a process, or behind a unix socket for `flux start`).
//
// Everything that changes state happens on the loop goroutine. The state it
// owns (state.go, jobs.go, exec.go, ...) is a state machine: it takes events
// (a message, a launcher result, a timer with the time, a new link) and
// appends effects (sends, replies, launches, kills, timers, link and module
// actions; effects.go) that the loop, a thin shell (Broker.loop in
// shell.go), performs after each pass. The state reads no clock but the
// event's time and starts nothing itself, so routing, lost ranks, rejoin and
// the PMI exchange are unit-tested as plain calls (core_*_test.go). Client
// connections have a reader goroutine that forwards requests to the loop and
// an outbox goroutine that batches what the loop wants to send, so a slow
// client never blocks the loop and results travel in batches, not one
// message per task.
//
// The broker decides nothing about placement (sched does) and forks no task
// itself (launcher does); it wires them together. The processes its shell
// does start are modules (`flux module load`, modules.go); the PMI servers of
// its tasks' jobs run in its process.
//
// # Brokers of a larger instance
//
// Ranks form a tree (boot/tree.go). Each link to a parent or child is a peer
// (peer.go). A rank whose link breaks is lost (lost.go): its running jobs end
// as "rank N lost", jobs not yet started there run elsewhere. A lost broker
// that is still alive, or one started again with the same rank, dials its
// parent again and rejoins (rejoin.go); rank 0 puts its resources back in
// service and records each rank's state and since when for resource.list.
//
// # Queues, their limits, and what happens at the limit
//
// Every goroutine that sends to the loop also watches b.stopped, so none
// outlives the broker blocked on a send (b.call is the form for work handed
// in, such as the PMI servers' barriers and aborts).
//
//   - reqs (1024): clients and peers to the loop. Full: that connection's
//     reader waits, which pushes back on the sender (TCP/yamux windows).
//   - done, lines (4096 each): the launcher's finished parts and streamed
//     output lines. Full: the launcher's reporting goroutine (or the task's
//     output pipe) waits; both are bounded by the parts running.
//   - kills (64), links (64), exited (16), calls (256): timers, new links,
//     module exits, work handed in by PMI servers and LocalJobs. Full: the
//     sender waits.
//   - fx: the effects of one pass. Bounded by the pass: a pass handles at
//     most 4096 queued events before it schedules and performs them.
//   - per peer: each link stream queues at most 4096 messages or 64 MiB
//     (overlay). The loop never waits on a peer: past the limit the peer has
//     stopped reading, and it is treated as lost (link closed, its ranks
//     lost), exactly as when its heartbeats stop.
//   - upQueue (4096): messages for the parent before its link is up (boot,
//     rejoin). Full: the request is answered EHOSTUNREACH.
//   - per client (a module is a client too): replies, results and started
//     notices, at most 65536 messages or 64 MiB unsent. Past that the client
//     has stopped reading and is dropped with one log line, as if it had
//     disconnected (its results streams end and their jobs are canceled).
//     Streamed output lines have their own bound per stream (65536): past it
//     lines are dropped and counted, and one notice line says how many.
//   - history: the last 1000 finished jobs and 64 MiB of their output.
//   - LocalJobs (the in-process capacitor): batches merge until its pump
//     takes them; bounded by the jobs the capacitor has in flight (its window).
package broker
