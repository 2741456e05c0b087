package report

import (
	"fmt"
	"image/color"
	"io"
	"path/filepath"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Format is the kind of file a report is written as.
type Format string

const (
	HTML Format = "html"
	SVG  Format = "svg"
	PNG  Format = "png"
)

// FormatOf tells the format from a file name's extension.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return HTML, nil
	case ".svg":
		return SVG, nil
	case ".png":
		return PNG, nil
	}
	return "", fmt.Errorf("%s: the name must end in .html, .svg or .png (the format follows the extension)", path)
}

// Write writes the report in format f.
func (r *Report) Write(w io.Writer, f Format) error {
	switch f {
	case HTML:
		return r.WriteHTML(w)
	case SVG, PNG:
		return r.writeImage(w, f)
	}
	return fmt.Errorf("unknown report format %q", f)
}

// Layout of the single image: one chart across the top, two side by side,
// the instances (with a stats file) across, and the totals as text.
const (
	imgWidth   = 12 * vg.Inch
	rowUtil    = 4.5 * vg.Inch
	rowPair    = 3.5 * vg.Inch
	rowInst    = 3.2 * vg.Inch
	textLine   = 15 // points between lines of the totals
	slowInText = 5
)

// writeImage draws every chart and the totals onto one SVG or PNG.
func (r *Report) writeImage(w io.Writer, f Format) error {
	useSans()
	inst := r.InstanceCharts()
	lines := 1 + len(r.totals())
	if len(r.Slowest) > 0 {
		lines += 1 + min(slowInText, len(r.Slowest))
	}
	textH := vg.Length(textLine*lines) + 24
	height := rowUtil + rowPair + textH
	if len(inst) > 0 {
		height += rowInst
	}
	var c vg.CanvasWriterTo
	if f == SVG {
		c = vgsvg.New(imgWidth, height)
	} else {
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(imgWidth, height), vgimg.UseDPI(96),
			vgimg.UseBackgroundColor(color.White))}
	}
	dc := draw.New(c)
	top := height
	band := func(h vg.Length, x0, x1 vg.Length) draw.Canvas {
		return draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: x0, Y: top - h}, Max: vg.Point{X: x1, Y: top}}}
	}
	pad := func(cv draw.Canvas) draw.Canvas { return draw.Crop(cv, 8, -8, 8, -8) }
	r.UtilisationChart().Draw(pad(band(rowUtil, 0, imgWidth)))
	top -= rowUtil
	r.RuntimeChart().Draw(pad(band(rowPair, 0, imgWidth/2)))
	r.FailureChart().Draw(pad(band(rowPair, imgWidth/2, imgWidth)))
	top -= rowPair
	for i, p := range inst {
		w := imgWidth / vg.Length(len(inst))
		p.Draw(pad(band(rowInst, vg.Length(i)*w, vg.Length(i+1)*w)))
	}
	if len(inst) > 0 {
		top -= rowInst
	}
	r.drawText(pad(band(textH, 0, imgWidth)))
	_, err := c.WriteTo(w)
	return err
}

// drawText writes the totals and the slowest lines as lines of text.
func (r *Report) drawText(c draw.Canvas) {
	sty := text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, 11), Handler: plot.DefaultTextHandler}
	bold := sty
	bold.Font = font.From(font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}, 12)
	y := c.Max.Y - textLine
	line := func(s text.Style, str string) {
		if len(str) > 170 {
			str = str[:170] + "..."
		}
		c.FillText(s, vg.Point{X: c.Min.X + 10, Y: y}, str)
		y -= textLine
	}
	line(bold, r.Title)
	for _, t := range r.totals() {
		line(sty, t[0]+": "+t[1])
	}
	if len(r.Slowest) > 0 {
		line(bold, "Slowest lines")
		for _, s := range r.Slowest[:min(slowInText, len(r.Slowest))] {
			line(sty, fmt.Sprintf("%.3f s  line %d  exit %d  %s", float64(s.Runtime)/1000, s.Seq, s.Exitval, s.Command))
		}
	}
}
