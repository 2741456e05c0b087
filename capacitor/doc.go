// Package capacitor turns a stream of command lines into jobs and their
// results: it parses each line (line.go, options.go), reads the input as a
// stream with a bounded window of lines in flight (source.go, run.go),
// submits them in batches to an instance, and reports every line's final
// record exactly once: output grouped per task or streamed line by line,
// the GNU parallel style job log (joblog.go) from which --resume skips what
// already finished (resume.go), a progress bar and a summary (report.go).
//
// It never schedules or starts a process itself: the instance does.
package capacitor
