package report

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Colours of the charts; the tests look for them in a screenshot.
var (
	ColorBusy     = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // cores busy (blue)
	ColorBusyFill = color.RGBA{R: 0x9e, G: 0xc9, B: 0xe6, A: 0xff}
	ColorCapacity = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff} // cores available (red)
	ColorRuntime  = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff} // runtime histogram (green)
	ColorFailure  = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff} // failures (orange)
	ColorInstance = color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff} // per instance (purple)
	hostColors    = []color.Color{
		color.RGBA{0x8c, 0x56, 0x4b, 0xff}, color.RGBA{0xe3, 0x77, 0xc2, 0xff}, color.RGBA{0x7f, 0x7f, 0x7f, 0xff},
		color.RGBA{0xbc, 0xbd, 0x22, 0xff}, color.RGBA{0x17, 0xbe, 0xcf, 0xff}, color.RGBA{0x39, 0x3b, 0x79, 0xff},
	}
)

// maxHostLines bounds the host series drawn on the utilisation chart
// (the busiest ones); the HTML table lists every host kept.
const maxHostLines = 6

var fontOnce sync.Once

// useSans sets the plots' font to Liberation Sans (built into gonum/plot,
// metric-compatible with Arial): nothing to install, and in an SVG viewed
// without it a browser's sans-serif lays out the same.
func useSans() {
	fontOnce.Do(func() { plot.DefaultFont = font.Font{Typeface: "Liberation", Variant: "Sans"} })
}

// timeUnit picks the unit of the time axis for a run of secs seconds.
func timeUnit(secs float64) (float64, string) {
	switch {
	case secs < 2*60:
		return 1, "s"
	case secs < 2*3600:
		return 60, "min"
	default:
		return 3600, "h"
	}
}

// UtilisationChart draws cores busy over time against cores available.
func (r *Report) UtilisationChart() *plot.Plot {
	useSans()
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Cores busy over time: %.0f%% of %d cores used", 100*r.Utilisation, r.Cores)
	div, unit := timeUnit(r.Seconds)
	p.X.Label.Text = "time since the first line started (" + unit + ")"
	p.Y.Label.Text = "cores"
	p.Y.Tick.Marker = plainTicks{}
	p.X.Tick.Marker = plainTicks{}
	p.Y.Min = 0
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	if len(r.Series) == 0 {
		p.X.Max, p.Y.Max = 1, float64(max(r.Cores, 1))
		return p
	}
	points := func(v []float64) plotter.XYs {
		// Each bin drawn as a flat step across its width, so a short run
		// of few bins still reads as a staircase, not a slope.
		xy := make(plotter.XYs, 0, 2*len(v))
		for i, c := range v {
			x0 := math.Min(float64(i)*r.BinSec, r.Seconds) / div
			x1 := math.Min(float64(i+1)*r.BinSec, r.Seconds) / div
			xy = append(xy, plotter.XY{X: x0, Y: c}, plotter.XY{X: x1, Y: c})
		}
		return xy
	}
	total, _ := plotter.NewLine(points(r.Series[0].Cores))
	total.Color = ColorBusy
	total.Width = vg.Points(1.5)
	total.FillColor = ColorBusyFill
	p.Add(total)
	p.Legend.Add("busy, all hosts", total)
	hosts := append([]Series(nil), r.Series[1:]...)
	sort.SliceStable(hosts, func(i, j int) bool { return hosts[i].Lines > hosts[j].Lines })
	for i, h := range hosts[:min(len(hosts), maxHostLines)] {
		l, _ := plotter.NewLine(points(h.Cores))
		l.Color = hostColors[i%len(hostColors)]
		l.Width = vg.Points(1)
		p.Add(l)
		p.Legend.Add("busy on "+h.Name, l)
	}
	capLine, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: float64(r.Cores)}, {X: r.Seconds / div, Y: float64(r.Cores)}})
	capLine.Color = ColorCapacity
	capLine.Width = vg.Points(2)
	capLine.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	p.Add(capLine)
	p.Legend.Add(fmt.Sprintf("available: %d", r.Cores), capLine)
	p.Y.Max = math.Max(float64(r.Cores), r.PeakBusy) * 1.15
	p.X.Min, p.X.Max = 0, math.Max(r.Seconds/div, 1e-3)
	return p
}

// countTicks are the default ticks without fractions: the axis counts lines.
type countTicks struct{}

func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(lo, hi) {
		if t.Value == math.Trunc(t.Value) {
			if t.Label != "" {
				t.Label = strconv.FormatFloat(t.Value, 'f', -1, 64) // 1, not 1.0
			}
			out = append(out, t)
		}
	}
	return out
}

// plainTicks are the default ticks labelled without trailing zeros
// (25, not 25.00).
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := (plot.DefaultTicks{}).Ticks(lo, hi)
	for i := range ticks {
		if l := ticks[i].Label; strings.Contains(l, ".") && !strings.ContainsAny(l, "eE") {
			ticks[i].Label = strings.TrimSuffix(strings.TrimRight(l, "0"), ".")
		}
	}
	return ticks
}

// durationLabel writes seconds briefly: 5ms, 0.1s, 10s, 10m, 2h, 4d.
func durationLabel(s float64) string {
	switch {
	case s < 0.1:
		return fmt.Sprintf("%gms", math.Round(s*1e4)/10)
	case s < 60:
		return fmt.Sprintf("%gs", math.Round(s*10)/10)
	case s < 3600:
		return fmt.Sprintf("%gm", math.Round(s/6)/10)
	case s < 86400:
		return fmt.Sprintf("%gh", math.Round(s/360)/10)
	default:
		return fmt.Sprintf("%gd", math.Round(s/8640)/10)
	}
}

// RuntimeChart draws the histogram of runtimes on a logarithmic axis.
func (r *Report) RuntimeChart() *plot.Plot {
	useSans()
	p := plot.New()
	h := r.Runtimes
	p.Title.Text = fmt.Sprintf("Runtimes: median %s, 95%% under %s, longest %s",
		durationLabel(h.Quantile(0.5)/1000), durationLabel(h.Quantile(0.95)/1000), durationLabel(float64(h.Max)/1000))
	p.X.Label.Text = "runtime (log scale)"
	if h.Counts[0] > 0 {
		p.X.Label.Text = "runtime (log scale; the bar left of 1ms: under 1 ms)"
	}
	p.Y.Label.Text = "lines"
	p.Y.Tick.Marker = countTicks{}
	p.Add(plotter.NewGrid())
	first, last := -1, -1
	for i, c := range h.Counts {
		if c > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		p.X.Min, p.X.Max, p.Y.Max = 0, 1, 1
		return p
	}
	var bins []plotter.HistogramBin
	for i := first; i <= last; i++ {
		lo, hi := BinEdges(i)
		if i == 0 {
			lo = 0.5 // under 1 ms, drawn as [0.5, 1) ms on the log axis
		}
		bins = append(bins, plotter.HistogramBin{Min: lo / 1000, Max: hi / 1000, Weight: float64(h.Counts[i])})
	}
	hist := &plotter.Histogram{Bins: bins, FillColor: ColorRuntime}
	hist.LineStyle = draw.LineStyle{Color: color.White, Width: vg.Points(0.5)}
	p.Add(hist)
	p.X.Scale = plot.LogScale{}
	lo, hi := bins[0].Min, bins[len(bins)-1].Max
	var ticks plot.ConstantTicks
	for _, t := range []float64{0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 36000, 86400, 864000, 8640000} {
		if t >= lo/1.0001 && t <= hi*1.0001 {
			ticks = append(ticks, plot.Tick{Value: t, Label: durationLabel(t)})
		}
	}
	if len(ticks) < 2 {
		ticks = plot.ConstantTicks{{Value: lo, Label: durationLabel(lo)}, {Value: hi, Label: durationLabel(hi)}}
	}
	p.X.Tick.Marker = ticks
	p.X.Min, p.X.Max = lo, hi
	p.Y.Min = 0
	return p
}

// maxFailureBars bounds the bars of the failure chart; the rest are one.
const maxFailureBars = 10

// FailureChart draws failed lines by exit code and signal.
func (r *Report) FailureChart() *plot.Plot {
	useSans()
	p := plot.New()
	if len(r.Failures) == 0 {
		p.Title.Text = fmt.Sprintf("Failures: none (all %d lines exited 0)", r.Lines)
		p.HideAxes()
		return p
	}
	p.Title.Text = fmt.Sprintf("Failures: %d of %d lines (%.1f%%)", r.Failed, r.Lines, 100*float64(r.Failed)/float64(max(r.Lines, 1)))
	p.Y.Label.Text = "lines"
	p.Y.Tick.Marker = countTicks{}
	var vals plotter.Values
	var names []string
	for i, f := range r.Failures {
		if i == maxFailureBars-1 && len(r.Failures) > maxFailureBars {
			var rest int64
			for _, g := range r.Failures[i:] {
				rest += g.Count
			}
			vals, names = append(vals, float64(rest)), append(names, "others")
			break
		}
		vals, names = append(vals, float64(f.Count)), append(names, shortLabel(f.Label))
	}
	bars, _ := plotter.NewBarChart(vals, vg.Points(28))
	bars.Color = ColorFailure
	bars.LineStyle.Width = 0
	p.Add(plotter.NewGrid(), bars)
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.6, float64(len(vals))-0.4 // whole bars at the ends
	p.Y.Min = 0
	return p
}

// shortLabel drops the signal's name from a bar label: "signal 9".
func shortLabel(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '(' {
			return s[:i-1]
		}
	}
	return s
}

// maxInstanceBars bounds the instances drawn; the table lists them all.
const maxInstanceBars = 64

// leaves returns the leaf instances of the stats file (every instance if
// it names none), at most maxInstanceBars of them, and how many there are.
func (r *Report) leaves() ([]Instance, int) {
	var leaves []Instance
	for _, in := range r.Stats.Instances {
		if in.Leaf {
			leaves = append(leaves, in)
		}
	}
	if len(leaves) == 0 {
		leaves = r.Stats.Instances
	}
	return leaves[:min(len(leaves), maxInstanceBars)], len(leaves)
}

// instanceBars draws one value per leaf instance.
func instanceBars(title, ylabel string, leaves []Instance, value func(*Instance) float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	var vals plotter.Values
	var names []string
	for i := range leaves {
		vals = append(vals, value(&leaves[i]))
		names = append(names, leaves[i].Name)
	}
	bars, _ := plotter.NewBarChart(vals, vg.Points(math.Max(3, math.Min(28, 250/float64(len(vals))))))
	bars.Color = ColorInstance
	bars.LineStyle.Width = 0
	p.Add(plotter.NewGrid(), bars)
	if len(names) <= 8 {
		p.NominalX(names...)
	} else {
		p.X.Label.Text = "leaf instances, in the order of the stats file"
	}
	p.X.Min, p.X.Max = -0.6, float64(len(vals))-0.4
	p.Y.Min = 0
	return p
}

// InstanceCharts draw lines per leaf instance of a flux-hierarchy tree
// and, when the stats file has the leaves' busy core-seconds, their
// utilisation; nil without stats.
func (r *Report) InstanceCharts() []*plot.Plot {
	if r.Stats == nil {
		return nil
	}
	useSans()
	leaves, all := r.leaves()
	of := fmt.Sprintf("%d leaves", all)
	if all > len(leaves) {
		of = fmt.Sprintf("the first %d of %d leaves", len(leaves), all)
	}
	lines := instanceBars("Lines per leaf instance ("+of+")", "lines", leaves,
		func(in *Instance) float64 { return float64(in.Lines) })
	lines.Y.Tick.Marker = countTicks{}
	out := []*plot.Plot{lines}
	hasBusy := false
	for _, in := range leaves {
		hasBusy = hasBusy || in.Utilisation() >= 0
	}
	if hasBusy {
		p := instanceBars("Utilisation per leaf instance ("+of+")", "% of its cores' time", leaves,
			func(in *Instance) float64 { return 100 * math.Max(in.Utilisation(), 0) })
		p.Y.Max = math.Max(p.Y.Max, 100)
		out = append(out, p)
	}
	return out
}
