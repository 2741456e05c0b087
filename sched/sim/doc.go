// Package sim replays a workload trace in the Standard Workload Format
// (SWF, the Parallel Workloads Archive's format) through the sched package's
// policies with a simulated clock, so that policies can be compared on real
// workloads in seconds. It is the engine of `flux sched-sim`.
//
// Conventions: cores are the unit (one SWF processor is one core); a job's
// requested time is its estimate (-t) and its run time the truth, and as the
// launcher enforces -t a job runs for min(run time, requested time). Jobs
// asking for more cores than the machine, and jobs without a run time or a
// processor count, are skipped and counted.
package sim
