package report

import (
	"fmt"
	"math"
	"sort"
	"syscall"
	"time"
)

// Report is what is drawn: derived from a Collector (and stats.json).
type Report struct {
	Title, Source string

	Lines, Failed int64
	Bad           BadLines
	Start, End    time.Time
	Seconds       float64 // from the first start to the last end

	Cores       int    // cores available
	CoresHow    string // how Cores was found
	PeakBusy    float64
	CoreSeconds float64
	Utilisation float64 // busy core-seconds / (Cores x Seconds); 0 without lines

	Runtimes *Runtimes
	Series   []Series // total first, then hosts (only when more than one)
	BinSec   float64  // width of one bin in seconds

	Failures []Failure // by count, most first
	Slowest  []Slow
	Stats    *Stats
	MaxCores int // the widest line
}

// Series is cores busy over time, average per bin, from Start.
type Series struct {
	Name        string
	Lines       int64
	Cores       []float64
	CoreSeconds float64 // busy, from the bins
	Peak        float64 // the highest bin
}

// Failure counts the lines that ended one way.
type Failure struct {
	Label string
	Count int64
}

// Build derives the report from what was collected.
func Build(c *Collector, st *Stats, source string) *Report {
	r := &Report{Title: c.opt.Title, Source: source, Lines: c.Lines, Failed: c.Failed, Bad: c.Bad,
		Runtimes: &c.Runtimes, Slowest: c.Slowest.Sorted(), Stats: st, MaxCores: c.MaxCores}
	if r.Title == "" {
		r.Title = "flux report: " + source
	}
	r.CoreSeconds = c.CoreMs / 1000
	if c.Lines > 0 {
		r.Start, r.End = time.UnixMilli(c.First), time.UnixMilli(c.Last)
		r.Seconds = float64(c.Last-c.First) / 1000
		r.series(c)
	}
	r.cores(c, st)
	if r.Cores > 0 && r.Seconds > 0 {
		r.Utilisation = r.CoreSeconds / (float64(r.Cores) * r.Seconds)
	}
	r.failures(c)
	return r
}

// series cuts the bins to the run (first start to last end) and names them.
func (r *Report) series(c *Collector) {
	total, origin, width := c.time.Bins(c.total)
	i0 := (c.First - origin) / width
	i1 := (c.Last - 1 - origin) / width
	if c.Last <= c.First {
		i1 = i0
	}
	r.BinSec = float64(width) / 1000
	cut := func(v []float64) []float64 { return v[i0 : i1+1] }
	r.Series = append(r.Series, series("all hosts", c.Lines, cut(total), r.BinSec))
	r.PeakBusy = r.Series[0].Peak
	n := len(c.hostNames)
	if c.other >= 0 {
		n++
	}
	if n < 2 {
		return
	}
	for s := 1; s <= n; s++ {
		name := "other hosts"
		if s-1 < len(c.hostNames) {
			name = hostLabel(c.hostNames[s-1])
		}
		v, _, _ := c.time.Bins(s)
		r.Series = append(r.Series, series(name, c.hostLines[s-1], cut(v), r.BinSec))
	}
}

func series(name string, lines int64, cores []float64, binSec float64) Series {
	s := Series{Name: name, Lines: lines, Cores: cores}
	for _, v := range cores {
		s.Peak = math.Max(s.Peak, v)
		s.CoreSeconds += v * binSec
	}
	return s
}

// hostLabel names a host column: GNU parallel writes ":" for the local host.
func hostLabel(h string) string {
	if h == ":" || h == "" {
		return "local (:)"
	}
	return h
}

// cores decides the cores available (see the package comment).
func (r *Report) cores(c *Collector, st *Stats) {
	switch {
	case c.opt.Cores > 0:
		r.Cores, r.CoresHow = c.opt.Cores, "given with --cores"
	case st != nil && st.Instances[0].Cores > 0:
		r.Cores, r.CoresHow = st.Instances[0].Cores, "the top instance's cores in the stats file"
	default:
		// Bins hold averages, so their peak is at most the true peak; a
		// hair of slack keeps 15.9999 from rounding up to 17 by accident.
		r.Cores = max(int(math.Ceil(r.PeakBusy-1e-6)), c.MaxCores, 1)
		r.CoresHow = "inferred from the peak concurrency (give --cores N to state the allocation)"
	}
}

func (r *Report) failures(c *Collector) {
	for code, n := range c.Exits {
		if code != 0 && n > 0 {
			r.Failures = append(r.Failures, Failure{fmt.Sprintf("exit %d", code), n})
		}
	}
	if c.OddExits > 0 {
		r.Failures = append(r.Failures, Failure{"exit out of 0-255", c.OddExits})
	}
	for sig, n := range c.Signals {
		if n > 0 {
			r.Failures = append(r.Failures, Failure{SignalLabel(sig), n})
		}
	}
	if c.OddSignal > 0 {
		r.Failures = append(r.Failures, Failure{"signal over 127", c.OddSignal})
	}
	sort.SliceStable(r.Failures, func(i, j int) bool { return r.Failures[i].Count > r.Failures[j].Count })
}

// SignalLabel names a signal as "signal 9 (SIGKILL)".
func SignalLabel(sig int) string {
	name := ""
	if sig > 0 && sig < 32 {
		if n := sigNames[syscall.Signal(sig)]; n != "" {
			name = " (" + n + ")"
		}
	}
	return fmt.Sprintf("signal %d%s", sig, name)
}

var sigNames = map[syscall.Signal]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT", syscall.SIGILL: "SIGILL",
	syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE",
	syscall.SIGKILL: "SIGKILL", syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM", syscall.SIGXCPU: "SIGXCPU",
	syscall.SIGXFSZ: "SIGXFSZ",
}
