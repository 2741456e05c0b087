// Package itest holds integration tests: they build the flux binary once and
// run it as a user would (flux-capacitor through a pipe or on files, flux
// start with submit, run, jobs, cancel), with real processes on the real
// cores of this machine, and check what comes out: output, exit statuses,
// the job log, CPU affinity, and that nothing is left running.
package itest
