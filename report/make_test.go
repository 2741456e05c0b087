package report

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeLog writes a job log of the given record lines.
func writeLog(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run.log")
	if err := os.WriteFile(path, []byte(Header+"\n"+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// hasColor reports whether img has at least n pixels of colour c.
func hasColor(img image.Image, c color.RGBA, n int) bool {
	b := img.Bounds()
	count := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B {
				if count++; count >= n {
					return true
				}
			}
		}
	}
	return false
}

func TestMakeFormats(t *testing.T) {
	dir := t.TempDir()
	log := "testdata/capacitor.log"
	for _, name := range []string{"r.html", "r.svg", "r.png"} {
		out := filepath.Join(dir, name)
		rep, err := Make(Options{}, log, "", out)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rep.Lines != 43 || rep.Failed != 2 {
			t.Errorf("%s: %d lines, %d failed; want 43, 2", name, rep.Lines, rep.Failed)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(name) {
		case ".html":
			s := string(b)
			if strings.Count(s, "<svg") != 3 || !strings.Contains(s, "exit 137") || !strings.Contains(s, "-n2 -c1 sleep 0.3") {
				t.Errorf("the page lacks its charts, failures or slowest line")
			}
			// Self-contained: nothing to fetch.
			for _, ref := range []string{"src=", "<link", "@import", "url("} {
				if strings.Contains(s, ref) {
					t.Errorf("the page refers to something outside it: %q", ref)
				}
			}
		case ".svg":
			if !strings.HasPrefix(string(b), "<?xml") || !strings.Contains(string(b), "Cores busy over time") {
				t.Errorf("not the SVG expected: %.80s", b)
			}
		case ".png":
			img, err := png.Decode(strings.NewReader(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []color.RGBA{ColorBusy, ColorBusyFill, ColorCapacity, ColorRuntime, ColorFailure} {
				if !hasColor(img, c, 50) {
					t.Errorf("the PNG has no %v: a chart is missing", c)
				}
			}
		}
	}
}

func TestMakeGNUParallelLog(t *testing.T) {
	rep, err := Make(Options{}, "testdata/parallel.log", "", filepath.Join(t.TempDir(), "p.html"))
	if err != nil {
		t.Fatal(err)
	}
	// parallel -j3 ran 7 jobs of 10-70 ms, exit i%4.
	if rep.Lines != 7 || rep.Failed != 6 || rep.Cores != 3 || rep.MaxCores != 1 {
		t.Errorf("lines %d failed %d cores %d widest %d; want 7 6 3 1", rep.Lines, rep.Failed, rep.Cores, rep.MaxCores)
	}
	if len(rep.Failures) != 3 || rep.Failures[0].Count != 2 {
		t.Errorf("failures %+v", rep.Failures)
	}
}

// TestCoresAndUtilisation: four 2-core lines, two at a time, for 10 s
// each: 4 cores inferred, fully used; with --cores 8, half.
func TestCoresAndUtilisation(t *testing.T) {
	log := writeLog(t,
		"1\ta\t1000\t10\t0\t0\t0\t0\t-c2 x", "2\tb\t1000\t10\t0\t0\t0\t0\t-n2 x",
		"3\ta\t1010\t10\t0\t0\t0\t0\t-c2 x", "4\tb\t1010\t10\t0\t0\t1\t0\t-n2 x")
	out := filepath.Join(t.TempDir(), "r.html")
	rep, err := Make(Options{}, log, "", out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cores != 4 || rep.Seconds != 20 || rep.CoreSeconds != 80 || rep.Utilisation != 1 {
		t.Errorf("cores %d seconds %v core-s %v util %v; want 4 20 80 1", rep.Cores, rep.Seconds, rep.CoreSeconds, rep.Utilisation)
	}
	if len(rep.Series) != 3 || rep.Series[1].Name != "a" || rep.Series[1].Lines != 2 ||
		math.Abs(rep.Series[1].CoreSeconds-40) > 1e-6 || rep.Series[1].Peak != 2 {
		t.Errorf("%d series, the second %s with %d lines, %v core-s, peak %v; want a, 2, 40, 2", len(rep.Series), rep.Series[1].Name, rep.Series[1].Lines, rep.Series[1].CoreSeconds, rep.Series[1].Peak)
	}
	rep, _ = Make(Options{Cores: 8}, log, "", out)
	if rep.Utilisation != 0.5 || !strings.Contains(rep.CoresHow, "--cores") {
		t.Errorf("with --cores 8: util %v (%s)", rep.Utilisation, rep.CoresHow)
	}
	rep, _ = Make(Options{Defaults: "-c3"}, writeLog(t, "1\ta\t1000\t10\t0\t0\t0\t0\tx"), "", out)
	if rep.Cores != 3 {
		t.Errorf("--defaults -c3: %d cores", rep.Cores)
	}
}

func TestMakeStats(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.html")
	rep, err := Make(Options{}, "testdata/capacitor.log", "testdata/stats.json", out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cores != 2 || len(rep.Stats.Instances) != 5 {
		t.Fatalf("cores %d, %d instances", rep.Cores, len(rep.Stats.Instances))
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), "top.1.0") || strings.Count(string(b), "<svg") != 4 {
		t.Errorf("no instance table or chart")
	}
	if _, err := Make(Options{}, "testdata/capacitor.log", "testdata/capacitor.log", out); err == nil ||
		!strings.Contains(err.Error(), "--stats testdata/capacitor.log: not the JSON") {
		t.Errorf("a log given as stats: %v", err)
	}
}

func TestMakeBadInput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "r.html")
	// Some bad lines: the report is written, the error names the first.
	log := writeLog(t, "1\ta\t1000\t1\t0\t0\t0\t0\tx", "oops", "2\ta\t1001\t1\t0\t0\t0\t0\tx")
	rep, err := Make(Options{}, log, "", out)
	if !errors.Is(err, ErrBadLines) || !strings.Contains(err.Error(), "line 3: has 1 tab-separated columns") ||
		!strings.Contains(err.Error(), "the report shows the 2 records read") || rep == nil {
		t.Errorf("err = %v", err)
	}
	if b, _ := os.ReadFile(out); !strings.Contains(string(b), "line 3") {
		t.Errorf("the report does not mention the bad line")
	}
	// Not a job log at all.
	notLog := filepath.Join(dir, "notes.txt")
	os.WriteFile(notLog, []byte("dear diary\n"), 0o644)
	_, err = Make(Options{}, notLog, "", out)
	if !errors.Is(err, ErrBadLines) || !strings.Contains(err.Error(), `is not a job log: line 1: is "dear diary"`) {
		t.Errorf("err = %v", err)
	}
	for _, tt := range []struct{ log, out, want string }{
		{log, filepath.Join(dir, "none", "r.html"), "cannot write the report"},
		{log, filepath.Join(dir, "r.pdf"), "must end in .html, .svg or .png"},
		{filepath.Join(dir, "missing.log"), out, "job log: open"},
	} {
		if _, err := Make(Options{}, tt.log, "", tt.out); err == nil || !strings.Contains(err.Error(), tt.want) ||
			strings.Contains(err.Error(), "\n") {
			t.Errorf("%s -> %s: %v, want one line with %q", tt.log, tt.out, err, tt.want)
		}
	}
}

// TestCollectorBounded: the collector's size does not depend on the
// number of lines: many hosts share one series past MaxHosts, and the
// cache of option prefixes stops growing.
func TestCollectorBounded(t *testing.T) {
	c, _ := NewCollector(Options{})
	for i := 0; i < 100000; i++ {
		line := fmt.Sprintf("%d\thost%d\t%d.%03d\t0.5\t0\t0\t%d\t0\t-n%d x", i, i%100, 1000+i/1000, i%1000, i%300, 1+i%9000)
		var r Record
		if err := ParseRecord([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		c.Add(&r)
	}
	if len(c.time.series) != 1+MaxHosts+1 || len(c.hostNames) != MaxHosts || len(c.cores.cache) > cacheMax {
		t.Errorf("%d series, %d hosts, %d cached", len(c.time.series), len(c.hostNames), len(c.cores.cache))
	}
	if c.OddExits == 0 || c.Exits[255] == 0 { // 256..299 are out of range
		t.Errorf("exits: %d out of range, %d of 255", c.OddExits, c.Exits[255])
	}
}

// TestMakeStatsUtilisation: a stats file with the leaves' busy
// core-seconds gives each leaf's utilisation, charted and tabled.
func TestMakeStatsUtilisation(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.html")
	rep, err := Make(Options{}, "testdata/capacitor.log", "testdata/stats-busy.json", out)
	if err != nil {
		t.Fatal(err)
	}
	leaves, _ := rep.leaves()
	for _, in := range leaves {
		if u := in.Utilisation(); u < 0.3 || u > 1.05 {
			t.Errorf("%s: utilisation %v", in.Name, u)
		}
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), "Utilisation per leaf instance") || strings.Count(string(b), "<svg") != 5 {
		t.Errorf("no utilisation per instance")
	}
}
