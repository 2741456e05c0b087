package report

import (
	"io"
	"math"
)

// Limits of what a report keeps, whatever the length of the log.
const (
	DefaultBins = 1024 // time bins of the utilisation series
	MaxHosts    = 32   // hosts with a series of their own; later hosts share one
	DefaultTopK = 20   // slowest lines listed
	MaxTopK     = 1000
)

// Options say how to read a log.
type Options struct {
	Cores    int    // cores available; 0: from stats.json, else inferred (see the package comment)
	Defaults string // line options flux-capacitor was run with, e.g. "-c2"
	TopK     int    // slowest lines to list (0: DefaultTopK)
	Bins     int    // time bins (0: DefaultBins)
	Title    string
}

// Collector reads records and keeps the bounded summaries a report draws.
type Collector struct {
	opt   Options
	cores *lineCores

	time      *Timeline
	total     int            // the total series in time
	hosts     map[string]int // host -> its series in time, at most MaxHosts
	hostNames []string       // series index - 1 -> host
	other     int            // series of the hosts past MaxHosts; -1 until needed
	hostLines []int64        // lines per host series (same index as hostNames, then other)

	Runtimes  Runtimes
	Slowest   *TopK
	Exits     [256]int64 // lines that ended with this exit status and no signal
	OddExits  int64      // exit statuses outside 0..255
	Signals   [128]int64 // lines killed by this signal
	OddSignal int64      // signals of 128 or more
	Lines     int64
	Failed    int64
	CoreMs    float64 // busy core-milliseconds
	MaxCores  int     // the most cores one line held
	First     int64   // earliest start, ms
	Last      int64   // latest end, ms
	Bad       BadLines
}

// NewCollector checks the options and makes an empty collector.
func NewCollector(opt Options) (*Collector, error) {
	lc, err := newLineCores(opt.Defaults)
	if err != nil {
		return nil, err
	}
	if opt.TopK <= 0 {
		opt.TopK = DefaultTopK
	}
	opt.TopK = min(opt.TopK, MaxTopK)
	if opt.Bins <= 0 {
		opt.Bins = DefaultBins
	}
	c := &Collector{opt: opt, cores: lc, time: NewTimeline(opt.Bins), hosts: make(map[string]int),
		other: -1, Slowest: NewTopK(opt.TopK), First: math.MaxInt64, Last: math.MinInt64}
	c.total = c.time.Series()
	return c, nil
}

// Read scans a whole job log into the collector. Bad lines are counted in
// c.Bad; the error is a read error only.
func (c *Collector) Read(r io.Reader) error { return Scan(r, &c.Bad, c.Add) }

// Add takes one record.
func (c *Collector) Add(r *Record) {
	cores := c.cores.cores(r.Command)
	end := r.Start + r.Runtime
	c.Lines++
	if r.Failed() {
		c.Failed++
	}
	switch {
	case r.Signal != 0 && r.Signal < len(c.Signals):
		c.Signals[r.Signal]++
	case r.Signal != 0:
		c.OddSignal++
	case r.Exitval >= 0 && r.Exitval < len(c.Exits):
		c.Exits[r.Exitval]++
	default:
		c.OddExits++
	}
	c.Runtimes.Add(r.Runtime)
	c.Slowest.Add(r, cores)
	c.CoreMs += float64(cores) * float64(r.Runtime)
	c.MaxCores = max(c.MaxCores, cores)
	c.First = min(c.First, r.Start)
	c.Last = max(c.Last, end)
	c.time.Add(c.total, r.Start, end, float64(cores))
	s := c.hostSeries(r.Host)
	c.time.Add(s, r.Start, end, float64(cores))
	c.hostLines[s-1]++
}

// hostSeries returns the series of a host, making it if there is room.
func (c *Collector) hostSeries(host []byte) int {
	if s, ok := c.hosts[string(host)]; ok {
		return s
	}
	if len(c.hostNames) < MaxHosts {
		s := c.time.Series()
		c.hosts[string(host)] = s
		c.hostNames = append(c.hostNames, string(host))
		c.hostLines = append(c.hostLines, 0)
		return s
	}
	if c.other < 0 {
		c.other = c.time.Series()
		c.hostLines = append(c.hostLines, 0)
	}
	return c.other
}
