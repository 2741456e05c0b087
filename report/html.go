package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// inlineSVG renders a plot as an <svg> element to put inside a page.
func inlineSVG(p *plot.Plot, w, h vg.Length) template.HTML {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var b bytes.Buffer
	c.WriteTo(&b)
	s := b.Bytes()
	if i := bytes.Index(s, []byte("<svg")); i >= 0 {
		s = s[i:] // drop the XML prolog: not allowed inside HTML
	}
	return template.HTML(s)
}

// WriteHTML writes the report as one self-contained page: the charts are
// inline SVG, the style sheet is inline, nothing is fetched.
func (r *Report) WriteHTML(w io.Writer) error {
	d := htmlData{R: r, Generated: time.Now().UTC().Format(time.RFC3339)}
	d.Utilisation = inlineSVG(r.UtilisationChart(), 11*vg.Inch, 4*vg.Inch)
	d.Runtimes = inlineSVG(r.RuntimeChart(), 5.5*vg.Inch, 3.5*vg.Inch)
	d.Failures = inlineSVG(r.FailureChart(), 5.5*vg.Inch, 3.5*vg.Inch)
	for _, p := range r.InstanceCharts() {
		d.Instances = append(d.Instances, inlineSVG(p, 5.5*vg.Inch, 3.5*vg.Inch))
	}
	d.Totals = r.totals()
	return pageTemplate.Execute(w, &d)
}

type htmlData struct {
	R                               *Report
	Generated                       string
	Utilisation, Runtimes, Failures template.HTML
	Instances                       []template.HTML
	Totals                          [][2]string
}

// totals are the key figures, as label and value.
func (r *Report) totals() [][2]string {
	h := r.Runtimes
	t := [][2]string{
		{"lines", fmt.Sprintf("%d", r.Lines)},
		{"succeeded", fmt.Sprintf("%d", r.Lines-r.Failed)},
		{"failed", fmt.Sprintf("%d", r.Failed)},
	}
	if r.Bad.Count > 0 {
		t = append(t, [2]string{"not job log lines (skipped)", fmt.Sprintf("%d, first: %s", r.Bad.Count, r.Bad.Error())})
	}
	if r.Lines > 0 {
		t = append(t,
			[2]string{"first start", r.Start.UTC().Format("2006-01-02 15:04:05.000 MST")},
			[2]string{"last end", r.End.UTC().Format("2006-01-02 15:04:05.000 MST")},
			[2]string{"wall time", seconds(r.Seconds)},
			[2]string{"lines per second", fmt.Sprintf("%.1f", float64(r.Lines)/math.Max(r.Seconds, 1e-3))})
	}
	t = append(t,
		[2]string{"cores available", fmt.Sprintf("%d (%s)", r.Cores, r.CoresHow)},
		[2]string{"busy core-time", fmt.Sprintf("%s (%.1f core-seconds)", seconds(r.CoreSeconds), r.CoreSeconds)},
		[2]string{"utilisation", fmt.Sprintf("%.1f%% (busy core-time / (cores available x wall time))", 100*r.Utilisation)},
		[2]string{"peak cores busy", fmt.Sprintf("%.1f (average over %s bins)", r.PeakBusy, seconds(r.BinSec))},
		[2]string{"widest line", plural(r.MaxCores, "core")},
		[2]string{"runtime mean / median / p95 / p99", fmt.Sprintf("%s / %s / %s / %s", seconds(h.Mean()/1000),
			seconds(h.Quantile(0.5)/1000), seconds(h.Quantile(0.95)/1000), seconds(h.Quantile(0.99)/1000))},
		[2]string{"runtime min / max", fmt.Sprintf("%s / %s", seconds(float64(h.Min)/1000), seconds(float64(h.Max)/1000))})
	return t
}

// seconds formats a duration given in seconds.
func seconds(s float64) string {
	if s < 60 {
		return fmt.Sprintf("%.3f s", s)
	}
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"secs":    func(ms int64) string { return fmt.Sprintf("%.3f", float64(ms)/1000) },
	"utc":     func(ms int64) string { return time.UnixMilli(ms).UTC().Format("15:04:05.000") },
	"sig":     SignalLabel,
	"pct":     func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
	"f1":      func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"secsf":   seconds,
	"host":    hostLabel,
	"notneg":  func(v float64) bool { return v >= 0 },
	"perSync": func(lines, syncs int64) float64 { return float64(lines) / float64(max(syncs, 1)) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.R.Title}}</title>
<style>
body { font-family: "Liberation Sans", Arial, Helvetica, sans-serif; margin: 1.5em; color: #222; max-width: 1100px; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border-bottom: 1px solid #ddd; padding: 0.2em 0.8em 0.2em 0; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
code { font-family: "Liberation Mono", monospace; font-size: 0.9em; word-break: break-all; }
svg { max-width: 100%; height: auto; }
.row { display: flex; flex-wrap: wrap; gap: 1em; }
.warn { color: #a00; }
.note { color: #555; font-size: 0.9em; }
</style>
</head>
<body>
<h1>{{.R.Title}}</h1>
{{if .R.Bad.Count}}<p class="warn">{{.R.Bad.Count}} line(s) of {{.R.Source}} are not job log records and were skipped; the first: {{.R.Bad.Error}}</p>{{end}}
<h2>Totals</h2>
<table>
{{range .Totals}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}</table>
<h2>Utilisation</h2>
<div id="utilisation">{{.Utilisation}}</div>
<div class="row">
<div id="runtimes">{{.Runtimes}}</div>
<div id="failures">{{.Failures}}</div>
</div>
{{if .R.Failures}}<h2>Failures by exit code and signal</h2>
<table><tr><th>how it ended</th><th>lines</th></tr>
{{range .R.Failures}}<tr><td>{{.Label}}</td><td class="n">{{.Count}}</td></tr>
{{end}}</table>{{end}}
{{if gt (len .R.Series) 1}}<h2>Hosts</h2>
<table><tr><th>host</th><th>lines</th><th>busy core-seconds</th><th>peak cores busy</th></tr>
{{range slice .R.Series 1}}<tr><td>{{.Name}}</td><td class="n">{{.Lines}}</td><td class="n">{{f1 .CoreSeconds}}</td><td class="n">{{f1 .Peak}}</td></tr>
{{end}}</table>{{end}}
<h2>The {{len .R.Slowest}} slowest lines</h2>
<table><tr><th>Seq</th><th>host</th><th>start (UTC)</th><th>runtime (s)</th><th>cores</th><th>exit</th><th>signal</th><th>command</th></tr>
{{range .R.Slowest}}<tr><td class="n">{{.Seq}}</td><td>{{host .Host}}</td><td>{{utc .Start}}</td><td class="n">{{secs .Runtime}}</td><td class="n">{{.Cores}}</td><td class="n">{{.Exitval}}</td><td>{{if .Signal}}{{sig .Signal}}{{end}}</td><td><code>{{.Command}}</code></td></tr>
{{end}}</table>
{{with .R.Stats}}<h2>Instances of the hierarchy (from the stats file)</h2>
{{if $.Instances}}<div class="row" id="instances">{{range $.Instances}}<div>{{.}}</div>{{end}}</div>{{end}}
<table><tr><th>instance</th><th>level</th><th>leaf</th><th>cores</th><th>lines</th><th>failed</th><th>seconds</th><th>lines/s</th><th>syncs</th><th>lines/sync</th><th>utilisation</th></tr>
{{range .Instances}}<tr><td>{{.Name}}</td><td class="n">{{.Level}}</td><td>{{if .Leaf}}yes{{end}}</td><td class="n">{{.Cores}}</td><td class="n">{{.Lines}}</td><td class="n">{{.Failed}}</td><td class="n">{{f1 .Seconds}}</td><td class="n">{{f1 .Rate}}</td><td class="n">{{if .Syncs}}{{.Syncs}}{{end}}</td><td class="n">{{if .Syncs}}{{f1 (perSync .Lines .Syncs)}}{{end}}</td><td class="n">{{if notneg .Utilisation}}{{pct .Utilisation}}{{end}}</td></tr>
{{end}}</table>
<p class="note">Total from the stats file: {{.Total.Lines}} lines, {{.Total.Failed}} failed, {{.Total.Leaves}} leaves, {{.Total.Requeued}} requeued, {{.Total.Lost}} lost children{{if .Total.Retried}}, {{.Total.Retried}} attempts run again{{end}}{{if .Total.Halted}}, halted{{end}}, {{f1 .Total.Rate}} lines/s. A leaf's utilisation is the core-seconds its lines ran over its cores times its lifetime.</p>{{end}}
<p class="note">Source: {{.R.Source}}. Cores per line are read from each line's options (-n, -c, -N) as flux-capacitor wrote them; a line without options counts one core, as GNU parallel's jobs do. Cores available: {{.R.CoresHow}}. Made by flux report at {{.Generated}}.</p>
</body>
</html>
`))

// plural writes "1 core", "2 cores".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
