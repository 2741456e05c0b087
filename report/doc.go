// Package report draws a finished run from its job log: cores busy over
// time against the cores available, a histogram of runtimes, failures by
// exit code and signal, the slowest lines and the totals, as one
// self-contained HTML page, an SVG or a PNG.
//
// Main is the command line. It runs in a program of its own,
// cmd/flux-report, which `flux report` executes (as Flux runs its
// flux-<command> programs), so that gonum/plot, whose package start-up
// parses a dozen fonts, is not linked into the flux binary that every
// instance, broker and child of a tree starts.
//
// # Input
//
// Any job log in GNU parallel's --joblog format (Seq Host Starttime
// JobRuntime Send Receive Exitval Signal Command, tab-separated, a header
// line first): the ones flux-capacitor and flux-hierarchy write with
// --joblog, and the ones GNU parallel writes itself. Optionally the
// statistics flux-hierarchy writes with --stats (stats.json), which add a
// line per instance of the tree.
//
// # Streaming, in bounded memory
//
// The log is read once, a line at a time, and nothing is kept per line:
//
//   - the time series (cores busy, in total and per host) lives in a fixed
//     number of bins (Timeline). When a line falls outside the span the bins
//     cover, neighbouring bins are merged pairwise and the span doubles, so
//     the bins always cover the whole run at the finest width that fits;
//   - runtimes go into a fixed histogram with ten logarithmic bins a decade
//     from 1 ms to 10^7 s (quantiles are read from it, to within a bin);
//   - the slowest lines are a bounded top-k (a min-heap of k entries);
//   - exit codes (0-255) and signals (0-127) are counted in fixed arrays;
//   - hosts get their own series up to MaxHosts; later hosts share one
//     "other hosts" series.
//
// So memory depends on the number of bins, hosts and k, not on the number
// of lines: ten million lines take the same memory as ten thousand.
//
// # Cores per line and cores available
//
// A job log does not record cores. Cores per line: our logs' Command column
// holds the line as written, so a line that starts with options (-n4 -c2
// ./app) is read with the capacitor's own line parser and counts
// tasks x cores per task (8 here). A line without options counts as one
// core, which is what GNU parallel's jobs take and what flux-capacitor gives
// a line by default. If flux-capacitor was run with options that set
// defaults for every line (flux-capacitor -c2 ...), say so with
// Options.Defaults (flux report --defaults '-c2'). A -N line without -n or
// -c holds whole nodes of a size the log does not name: it counts one core
// per task, an underestimate.
//
// Cores available: Options.Cores (flux report --cores N) when given; else
// the cores of the top instance in stats.json when given; else inferred as
// the peak concurrency: the largest average number of busy cores over one
// bin, rounded up. For a farm that kept its cores busy (the usual case) that
// is the allocation; for a run that never filled it, it is less, and
// utilisation is then overstated: state --cores.
//
// # Bad input
//
// A line that is not a job log record (including a first line that is not
// the header) is counted and skipped; the first one is named with its line
// number and what is wrong with it. What could be read is still reported.
package report
