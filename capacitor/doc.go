// Package capacitor turns a stream of command lines into jobs and their
// results: it parses each line (line.go, options.go; the per-job options
// themselves, shared with the flags of flux submit and run, are the table in
// optiontable.go), reads the input as a stream with a bounded window of
// lines in flight (source.go, run.go), submits them in batches to an
// instance, and reports every line's final record exactly once: output
// grouped per task or streamed line by line, the GNU parallel style job log
// (joblog.go) from which --resume skips what already finished (resume.go), a
// progress bar, status lines and a summary (report.go).
//
// For long campaigns the run loop (run.go) also runs a failed line again
// (--retries, a line's own --retries, --retry-delay: the job log keeps the
// last attempt only), stops early as GNU parallel's --halt does (halt.go),
// and caps the lines running at once (-j): lines read but held back wait in
// a queue inside the window, so memory stays bounded by --window.
//
// It never schedules or starts a process itself: the instance does.
package capacitor
