// Package resources owns the resource set R of an instance and everything that
// counts or carves it: id sets of cores, GPUs and ranks (the "0-3,7" syntax of
// Flux RFC 22), the per-rank Set, a job's Request and its feasibility against
// R, the Pool that bin-packs requests onto free cores, and discovery of the
// local cores (CPU affinity mask) and GPUs.
//
// Everything here is a pure, deterministic function of its inputs except
// discover.go, the only file that does I/O. Pool is single-threaded: its owner
// (the broker's state goroutine, or a test) serialises calls.
package resources
